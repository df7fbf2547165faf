package workflows

import (
	"strconv"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
)

// Broadcast updates and signals (UpdateApproveBroadcast is in messages.go).
// Every update has a validator: a rejected one changes nothing and leaves
// nothing in history. By is the actor's identity (Slack user ID or
// "cli:<user>").
const (
	// UpdateReviseBroadcast changes a broadcast's content or list before
	// it is sent (ReviseBroadcast): it re-renders, re-fingerprints, test-
	// sends again and voids every approval.
	UpdateReviseBroadcast = "revise_broadcast"
	// UpdatePauseBroadcast pauses sending (BroadcastControl); the batches
	// in flight stop within seconds.
	UpdatePauseBroadcast = "pause_broadcast"
	// UpdateResumeBroadcast resumes a paused broadcast (BroadcastControl).
	UpdateResumeBroadcast = "resume_broadcast"
	// UpdateStopBroadcast stops a broadcast for good (BroadcastControl).
	UpdateStopBroadcast = "stop_broadcast"
	// UpdateRecordSubstitute records the substitute measure taken for the
	// people the notice could not reach (SubstituteMeasure).
	UpdateRecordSubstitute = "record_substitute_measure"

	// SignalBroadcastDelivery carries a BroadcastDelivery (bounce, drop)
	// from the front door's SendGrid webhook.
	SignalBroadcastDelivery = "broadcast_delivery"
)

// BroadcastWorkflowID is the workflow ID of an incident's n-th broadcast.
func BroadcastWorkflowID(incidentID string, n int) string {
	return incidentID + "/broadcast/" + strconv.Itoa(n)
}

// MailTaskQueue is the task queue of e-mail sending activities next to a
// worker's task queue: its worker sets TaskQueueActivitiesPerSecond.
func MailTaskQueue(taskQueue string) string { return taskQueue + "-sendgrid" }

// BroadcastInput starts a Broadcast.
type BroadcastInput struct {
	IncidentID string                  `json:"incident_id"`
	Policy     runbooks.BroadcastPhase `json:"policy"`
	// Lang is the notice's language, "ja" (default) or "en".
	Lang   string              `json:"lang,omitempty"`
	Notice runbooks.NoticeData `json:"notice"`
	// Items are the individual-notice items of APPI Rule 10.
	Items       activities.NoticeItems   `json:"items"`
	Attachments []contentscan.Attachment `json:"attachments,omitempty"`
	// List is everyone affected.
	List recipients.ListRef `json:"list"`
	// OtherLists are the incident's other lists: the notice may quote
	// nobody on them either (activities.NoticeRequest.OtherLists).
	OtherLists []recipients.ListRef `json:"other_lists,omitempty"`
	// SlackChannel gets the broadcast's message with its buttons; empty
	// when driven from the CLI.
	SlackChannel string `json:"slack_channel,omitempty"`
	// MailTaskQueue runs the e-mail activities; empty means
	// MailTaskQueue(the workflow's task queue).
	MailTaskQueue string `json:"mail_task_queue,omitempty"`
	// Concurrency is how many requests are in flight at once (default 4):
	// the lanes of the chunk being sent. BatchesPerChunk is how many
	// requests one chunk activity sends (default 100); chunks run one
	// after another.
	Concurrency     int `json:"concurrency,omitempty"`
	BatchesPerChunk int `json:"batches_per_chunk,omitempty"`
	// BounceWindow is how long bounces are awaited after the last batch
	// before the substitute measure is decided (default 72h).
	BounceWindow time.Duration `json:"bounce_window,omitempty"`
	// RemindEvery reminds an open substitute-measure task (default 24h).
	RemindEvery time.Duration `json:"remind_every,omitempty"`
	// HistoryLimit continues as new once history reaches this many events
	// (default 2,000) or the server suggests it.
	HistoryLimit int    `json:"history_limit,omitempty"`
	StartedBy    string `json:"started_by,omitempty"`
	// Carry is the state handed over by continue-as-new; nil on a new broadcast.
	Carry *BroadcastCarry `json:"carry,omitempty"`
}

// BroadcastState is where a broadcast stands.
type BroadcastState string

// Broadcast states: preparing -> awaiting_approval -> sending <-> paused
// -> sent -> substitute_pending -> done; refused (the scan or test send
// failed: revise or stop) and stopped on the side.
const (
	BroadcastPreparing         BroadcastState = "preparing"
	BroadcastRefused           BroadcastState = "refused"
	BroadcastAwaitingApproval  BroadcastState = "awaiting_approval"
	BroadcastSending           BroadcastState = "sending"
	BroadcastPaused            BroadcastState = "paused"
	BroadcastStopped           BroadcastState = "stopped"
	BroadcastSent              BroadcastState = "sent"
	BroadcastSubstitutePending BroadcastState = "substitute_pending"
	BroadcastDone              BroadcastState = "done"
)

// Final reports whether nothing more will happen.
func (s BroadcastState) Final() bool { return s == BroadcastStopped || s == BroadcastDone }

// Approval is one approver's approval of one fingerprint, kept as
// evidence (also when a revision voids it).
type Approval struct {
	Fingerprint string    `json:"fingerprint"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	// Identity is the verified person (an approver key's ID, or
	// "slack:U…" attested by the front door); empty when approvals are
	// not verified (no approver keys registered).
	Identity string `json:"identity,omitempty"`
	// VoidedAt and VoidedBy say when and by whose revision it stopped
	// counting.
	VoidedAt time.Time `json:"voided_at,omitzero"`
	VoidedBy string    `json:"voided_by,omitempty"`
}

// ReviseBroadcast is the UpdateReviseBroadcast payload: the new content
// or list (nil or empty keeps the current one), who and why.
type ReviseBroadcast struct {
	By     string                  `json:"by"`
	Reason string                  `json:"reason"`
	List   *recipients.ListRef     `json:"list,omitempty"`
	Notice *runbooks.NoticeData    `json:"notice,omitempty"`
	Items  *activities.NoticeItems `json:"items,omitempty"`
	// Attachments replace the attachments when not nil (empty removes them).
	Attachments *[]contentscan.Attachment `json:"attachments,omitempty"`
}

// Revision records a revision.
type Revision struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	// From and To are the fingerprints before and after ("" when the
	// content was refused).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// BroadcastControl is the payload of pause, resume and stop.
type BroadcastControl struct {
	By     string `json:"by"`
	Reason string `json:"reason,omitempty"`
}

// ControlEvent records a pause, resume or stop.
type ControlEvent struct {
	Action string    `json:"action"` // pause, resume, stop
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	// Offset is how many recipients had been dealt with.
	Offset int `json:"offset"`
}

// TestSendRecord records the test send to the approvers.
type TestSendRecord struct {
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"at"`
	Approvers   int       `json:"approvers"`
	Roles       []string  `json:"roles"`
	Missing     []string  `json:"missing_roles,omitempty"`
	MessageID   string    `json:"message_id"`
}

// BroadcastProgress counts what happened to the recipients.
type BroadcastProgress struct {
	Total int `json:"total"`
	// Done counts recipients dealt with: sent, or without a usable address.
	Done       int `json:"done"`
	Sent       int `json:"sent"`
	NoAddress  int `json:"no_address"`
	Invalid    int `json:"invalid"`
	Duplicates int `json:"duplicates"`
	Bounced    int `json:"bounced"`
	Dropped    int `json:"dropped"`
	Requests   int `json:"requests"`
	// Resent counts recipients sent again after a worker died during a
	// request whose outcome was unknown: they may have the notice twice.
	Resent int `json:"resent"`
}

// CountsText says how the notice stands, each outcome apart:
// "accepted 7/7, bounced 2".
func (p BroadcastProgress) CountsText() string {
	return deliveryText(p.Sent, p.Total, p.Bounced, p.Dropped, p.NoAddress+p.Invalid)
}

// Unreachable counts the people the notice could not reach.
func (p BroadcastProgress) Unreachable() int {
	return p.NoAddress + p.Invalid + p.Bounced + p.Dropped
}

// SubstituteTask is the human task opened when notice is impossible for
// some people: APPI Art. 26(2) proviso allows a substitute measure,
// publication and an inquiry desk.
type SubstituteTask struct {
	OpenedAt    time.Time          `json:"opened_at"`
	Unreachable int                `json:"unreachable"`
	Reminders   int                `json:"reminders"`
	Done        *SubstituteMeasure `json:"done,omitempty"`
}

// SubstituteMeasure is the UpdateRecordSubstitute payload.
type SubstituteMeasure struct {
	By string `json:"by"`
	// PublishedURL is where the notice is published.
	PublishedURL string `json:"published_url"`
	// InquiryDesk says how people reach the desk (number, hours).
	InquiryDesk string    `json:"inquiry_desk"`
	Note        string    `json:"note,omitempty"`
	At          time.Time `json:"at,omitzero"`
}

// BroadcastDelivery is what the front door signals about one message.
type BroadcastDelivery struct {
	RecipientID string       `json:"recipient_id"`
	Kind        DeliveryKind `json:"kind"` // bounced or dropped
	EventID     string       `json:"event_id,omitempty"`
}

// BroadcastStatus is the answer to QueryStatus on a Broadcast, and its
// result. It holds no personal data: counts, opaque IDs, fingerprints,
// Slack user IDs.
type BroadcastStatus struct {
	BroadcastID string         `json:"broadcast_id"`
	IncidentID  string         `json:"incident_id"`
	State       BroadcastState `json:"state"`
	// Reason says why the broadcast is refused, paused or stopped.
	Reason      string `json:"reason,omitempty"`
	Subject     string `json:"subject,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Items are the notice's items as now rendered (a revision that
	// changes one keeps the others: starter broadcast revise).
	Items    activities.NoticeItems `json:"items,omitzero"`
	List     recipients.ListRef     `json:"list"`
	Findings []contentscan.Finding  `json:"findings,omitempty"`
	Quorum   int                    `json:"quorum"`
	// Approvals of the current fingerprint; Voided those a revision voided.
	Approvals     []Approval        `json:"approvals"`
	Voided        []Approval        `json:"voided_approvals,omitempty"`
	TestSends     []TestSendRecord  `json:"test_sends,omitempty"`
	Revisions     []Revision        `json:"revisions,omitempty"`
	Controls      []ControlEvent    `json:"controls,omitempty"`
	Progress      BroadcastProgress `json:"progress"`
	Substitute    *SubstituteTask   `json:"substitute,omitempty"`
	StartedAt     time.Time         `json:"started_at"`
	SendStartedAt time.Time         `json:"send_started_at,omitzero"`
	SentAt        time.Time         `json:"sent_at,omitzero"`
	// Runs counts continue-as-new runs.
	Runs int `json:"runs"`
}

// BroadcastCarry is what a Broadcast hands to its next run.
type BroadcastCarry struct {
	Status  BroadcastStatus           `json:"status"`
	Content *activities.NoticeContent `json:"content,omitempty"`
	// Next is the first recipient not yet given to a chunk; Pending are
	// ranges interrupted (paused) that still need sending.
	Next    int                         `json:"next"`
	Pending []Range                     `json:"pending,omitempty"`
	Slack   *activities.SlackMessageRef `json:"slack,omitempty"`
	// Bounced is a bitmap of recipient indexes that bounced or were
	// dropped, so a repeated event counts once.
	Bounced []byte `json:"bounced,omitempty"`
	// Keys is the approver registry read at the last preparation.
	Keys approvals.Registry `json:"keys,omitzero"`
}

// Range is [Start, End) of recipient indexes.
type Range struct {
	Start int `json:"start"`
	End   int `json:"end"`
}
