package workflows

import (
	"fmt"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/recipients"
)

// Notices and letters started from an Incident (issue #7): the public API
// the Slack UI and the CLI call. Both updates have validators (a refused
// one changes nothing and leaves nothing in history) and return only once
// the child workflow has started.
const (
	// UpdateStartBroadcast starts the incident's next Broadcast (the
	// notice to everyone affected) with the runbook's broadcast phase
	// (StartBroadcast → BroadcastStarted). Refused when the runbook has
	// no broadcast phase, when a broadcast is still running, when the
	// incident is closed, or without By.
	UpdateStartBroadcast = "start_broadcast"
	// UpdateAddBrokerDemand starts a BrokerDemand (a cease-and-desist
	// letter to one list broker or company using the list), numbered
	// B001, B002, ... in order (AddBrokerDemand → BrokerDemandAdded).
	// Refused without the broker's name and address, when the runbook has
	// no broker_demands phase, or when the incident is closed.
	UpdateAddBrokerDemand = "add_broker_demand"

	// SignalNoticeProgress carries a NoticeProgress from a Broadcast or a
	// BrokerDemand to the Incident that started it, on each change of
	// state (and, for a broadcast, of its sent count).
	SignalNoticeProgress = "notice_progress"
)

// StartBroadcast is the UpdateStartBroadcast payload.
type StartBroadcast struct {
	By string `json:"by"`
	// Lang is the notice's language: "ja" (default) or "en".
	Lang   string `json:"lang,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Items are the individual-notice items of APPI Rule 10. Nil, or any
	// empty item, takes the default from the incident's facts: summary
	// from the title, data items from what leaked; cause and secondary
	// harm "under investigation" (BroadcastStarted.Defaulted lists them:
	// check them in the test send, and revise_broadcast to change them).
	Items *activities.NoticeItems `json:"items,omitempty"`
	// List is the list to notify (stored with `starter recipients put`);
	// nil takes the incident's affected list (IncidentInput.Affected). With
	// neither, the update is refused: the wrong recipients are not the
	// people to notify (seed 004: 1,016 received the mail, all 13,011 on
	// the list are notified).
	List *recipients.ListRef `json:"list,omitempty"`
}

// BroadcastStarted is what UpdateStartBroadcast returns.
type BroadcastStarted struct {
	// N numbers the incident's broadcasts from 1; WorkflowID is
	// BroadcastWorkflowID(incident, N).
	N          int    `json:"n"`
	WorkflowID string `json:"workflow_id"`
	// List says which list is notified: "given" or "affected" (the
	// incident's); Recipients how many people it holds.
	List       string `json:"list"`
	Recipients int    `json:"recipients"`
	// Defaulted lists the notice items filled in by default.
	Defaulted []string `json:"defaulted,omitempty"`
}

// AddBrokerDemand is the UpdateAddBrokerDemand payload. The broker's name
// and address are personal or company data: they go to the BrokerDemand
// (encrypted in history) and into the letter, never into IDs, status or
// Slack.
type AddBrokerDemand struct {
	By     string        `json:"by"`
	Broker letters.Party `json:"broker"`
	// Data describes the data the broker holds; empty takes the incident's
	// facts (what leaked).
	Data     string `json:"data,omitempty"`
	Evidence string `json:"evidence,omitempty"`
}

// BrokerDemandAdded is what UpdateAddBrokerDemand returns.
type BrokerDemandAdded struct {
	// DemandID is opaque (B001, B002, ...); WorkflowID is
	// BrokerDemandWorkflowID(incident, DemandID).
	DemandID   string `json:"demand_id"`
	WorkflowID string `json:"workflow_id"`
}

// Purposes of a broadcast.
const (
	// PurposeNotice is the notice to everyone affected (start_broadcast).
	PurposeNotice = "notice"
	// PurposeDailyReport is a day's report to the affected audience.
	PurposeDailyReport = "daily_report"
)

// BroadcastRef is a Broadcast as its Incident knows it: no personal data.
type BroadcastRef struct {
	N          int    `json:"n"`
	WorkflowID string `json:"workflow_id"`
	// Purpose is PurposeNotice or PurposeDailyReport; Day the report's day.
	Purpose   string    `json:"purpose"`
	Day       int       `json:"day,omitempty"`
	StartedAt time.Time `json:"started_at"`
	StartedBy string    `json:"started_by"`
	Reason    string    `json:"reason,omitempty"`
	// List is "given" or "affected" (the incident's); a daily report goes
	// to the list of the last notice sent ("notice N").
	List string `json:"list"`
	// State is the last state the Broadcast reported (preparing until it
	// does); Sent and Total its counts then.
	State     BroadcastState `json:"state"`
	Sent      int            `json:"sent"`
	Total     int            `json:"total"`
	Approvals int            `json:"approvals"`
	Quorum    int            `json:"quorum"`
	// Bounced, Dropped and NotSent (no usable address) are the people the
	// notice did not reach, apart from Sent (accepted by the provider).
	Bounced int `json:"bounced,omitempty"`
	Dropped int `json:"dropped,omitempty"`
	NotSent int `json:"not_sent,omitempty"`
	// UpdatedAt is when the Broadcast last reported.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// StartError says why the child could not be started.
	StartError string `json:"start_error,omitempty"`
}

// BrokerDemandRef is a BrokerDemand as its Incident knows it: its opaque
// ID, never the company's name.
type BrokerDemandRef struct {
	DemandID   string            `json:"demand_id"`
	WorkflowID string            `json:"workflow_id"`
	StartedAt  time.Time         `json:"started_at"`
	StartedBy  string            `json:"started_by"`
	State      BrokerDemandState `json:"state"`
	AnswerDue  time.Time         `json:"answer_due,omitzero"`
	UpdatedAt  time.Time         `json:"updated_at,omitzero"`
	StartError string            `json:"start_error,omitempty"`
}

// NoticeProgress is what a Broadcast or a BrokerDemand tells its Incident
// (SignalNoticeProgress): counts and states only. Signals may arrive out
// of order: Run (the sending run's start) and Seq (its count of reports)
// order them, and an older report than one applied changes nothing.
type NoticeProgress struct {
	WorkflowID string `json:"workflow_id"`
	// Broadcast is set by a Broadcast, Demand by a BrokerDemand.
	Broadcast *BroadcastProgressRef `json:"broadcast,omitempty"`
	Demand    *DemandProgressRef    `json:"demand,omitempty"`
	At        time.Time             `json:"at"`
	Run       time.Time             `json:"run"`
	Seq       int                   `json:"seq"`
}

// BroadcastProgressRef is a Broadcast's progress report.
type BroadcastProgressRef struct {
	State     BroadcastState `json:"state"`
	Sent      int            `json:"sent"`
	Total     int            `json:"total"`
	Approvals int            `json:"approvals"`
	Quorum    int            `json:"quorum"`
	Bounced   int            `json:"bounced,omitempty"`
	Dropped   int            `json:"dropped,omitempty"`
	NotSent   int            `json:"not_sent,omitempty"`
}

// CountsText says how the notice stands, each outcome apart (see
// deliveryText).
func (r BroadcastRef) CountsText() string {
	return deliveryText(r.Sent, r.Total, r.Bounced, r.Dropped, r.NotSent)
}

// deliveryText says how a notice's sends stand, each outcome apart, never
// "sent 7/7" when 2 of them bounced: "accepted 7/7, bounced 2", with the
// people without a usable address ("no address 3") and the provider's
// drops when there are any.
func deliveryText(accepted, total, bounced, dropped, notSent int) string {
	if total == 0 {
		return ""
	}
	s := fmt.Sprintf("accepted %d/%d", accepted, total)
	for _, c := range []struct {
		n    int
		what string
	}{{bounced, "bounced"}, {dropped, "dropped"}, {notSent, "no address"}} {
		if c.n > 0 {
			s += fmt.Sprintf(", %s %d", c.what, c.n)
		}
	}
	return s
}

// DemandProgressRef is a BrokerDemand's progress report.
type DemandProgressRef struct {
	State     BrokerDemandState `json:"state"`
	AnswerDue time.Time         `json:"answer_due,omitzero"`
}
