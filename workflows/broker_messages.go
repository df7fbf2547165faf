package workflows

import (
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/letters"
)

// BrokerDemand messages.
const (
	// UpdateRecordMailing records that the letter went by content-certified
	// mail, with its tracking number (LetterMailed).
	UpdateRecordMailing = "record_mailing"
	// UpdateRecordBrokerAnswer records the addressee's answer, or that
	// none came (BrokerAnswer).
	UpdateRecordBrokerAnswer = "record_broker_answer"
	// UpdateRecordEscalation records the escalation to the regulator or
	// the police (Escalation).
	UpdateRecordEscalation = "record_escalation"
)

// BrokerDemandWorkflowID is the workflow ID of one demand: the incident ID
// and an opaque demand ID (B001), never the company's name.
func BrokerDemandWorkflowID(incidentID, demandID string) string {
	return incidentID + "/broker/" + demandID
}

// BrokerDemandInput starts a BrokerDemand: one letter to one list broker
// or company using the list.
type BrokerDemandInput struct {
	IncidentID string `json:"incident_id"`
	// DemandID is opaque (B001), used in IDs, file names and Slack.
	DemandID string        `json:"demand_id"`
	Broker   letters.Party `json:"broker"`
	// Sender overrides the configured sender organisation.
	Sender   letters.Party `json:"sender,omitzero"`
	Data     string        `json:"data"`
	Evidence string        `json:"evidence,omitempty"`
	// ResponseWindow is the runbook's broker_demands.response_window
	// (default 14 days): the answer period the letter sets.
	ResponseWindow time.Duration `json:"response_window,omitempty"`
	// DeliveryAllowance is added to it for the letter to arrive (default 3 days).
	DeliveryAllowance time.Duration `json:"delivery_allowance,omitempty"`
	// RemindEvery reminds open tasks (default 24h).
	RemindEvery  time.Duration `json:"remind_every,omitempty"`
	SlackChannel string        `json:"slack_channel,omitempty"`
	StartedBy    string        `json:"started_by,omitempty"`
	// DisplayZone is the IANA zone messages show times in: the
	// incident's (Asia/Tokyo when empty).
	DisplayZone string `json:"display_zone,omitempty"`
}

// BrokerDemandState is where a demand stands.
type BrokerDemandState string

// Demand states: awaiting_mailing -> awaiting_answer -> complied (done),
// or refused / no_answer -> escalation_pending -> escalated; or
// letter_failed when the letter could not be written (nothing was mailed;
// Failure says why, and the broker is added again once it is fixed).
const (
	DemandAwaitingMailing  BrokerDemandState = "awaiting_mailing"
	DemandAwaitingAnswer   BrokerDemandState = "awaiting_answer"
	DemandComplied         BrokerDemandState = "complied"
	DemandEscalationNeeded BrokerDemandState = "escalation_pending"
	DemandEscalated        BrokerDemandState = "escalated"
	DemandLetterFailed     BrokerDemandState = "letter_failed"
)

// Ended reports whether a demand in state s has nothing left to do.
func (s BrokerDemandState) Ended() bool {
	return s == DemandComplied || s == DemandEscalated || s == DemandLetterFailed
}

// LetterMailed is the UpdateRecordMailing payload.
type LetterMailed struct {
	// TrackingNumber is Japan Post's お問い合わせ番号 (11 to 13 digits,
	// hyphens allowed).
	TrackingNumber string    `json:"tracking_number"`
	MailedAt       time.Time `json:"mailed_at"`
	By             string    `json:"by"`
}

// Broker answers.
const (
	AnswerComplied = "complied"
	AnswerRefused  = "refused"
	AnswerNone     = "no_answer"
	// AnswerReturned: the letter came back undelivered; it is mailed again.
	AnswerReturned = "returned"
)

// BrokerAnswer is the UpdateRecordBrokerAnswer payload.
type BrokerAnswer struct {
	Outcome    string    `json:"outcome"` // Answer*
	ReceivedAt time.Time `json:"received_at,omitzero"`
	Note       string    `json:"note,omitempty"`
	By         string    `json:"by"`
}

// Escalation targets.
const (
	EscalateRegulator = "regulator"
	EscalatePolice    = "police"
)

// Escalation is the UpdateRecordEscalation payload.
type Escalation struct {
	To        string    `json:"to"` // Escalate*
	Reference string    `json:"reference,omitempty"`
	At        time.Time `json:"at,omitzero"`
	By        string    `json:"by"`
}

// BrokerDemandStatus is the answer to QueryStatus on a BrokerDemand, and
// its result. Company names are not in it: the letter is, by path (the
// Word file to upload to e内容証明 and the PDF for the records).
type BrokerDemandStatus struct {
	IncidentID  string                  `json:"incident_id"`
	DemandID    string                  `json:"demand_id"`
	State       BrokerDemandState       `json:"state"`
	Letter      activities.BrokerLetter `json:"letter"`
	Mailings    []LetterMailed          `json:"mailings"`
	AnswerDue   time.Time               `json:"answer_due,omitzero"`
	Answers     []BrokerAnswer          `json:"answers"`
	Escalations []Escalation            `json:"escalations"`
	Reminders   int                     `json:"reminders"`
	// Failure says why the letter could not be written (letter_failed).
	Failure string `json:"failure,omitempty"`
}
