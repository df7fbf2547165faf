// Package workflows holds breachflow's durable playbook: one Incident per
// breach and one Recall per wrong recipient (later: Obligation, Broadcast,
// BrokerDemand). Code here is deterministic: it touches the world only
// through activities, and time, concurrency and randomness only through
// workflow.*.
//
// This file is the package's public API: the names and payloads of signals,
// updates and queries, and the deterministic workflow-ID helpers. None of
// them carries personal data in an ID.
package workflows

import (
	"fmt"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/timefmt"
	"github.com/breachflow/breachflow/runbooks"
)

// DefaultTaskQueue is the task queue of workflows and activities unless
// BREACHFLOW_TASK_QUEUE says otherwise.
const DefaultTaskQueue = "breachflow"

// Query, signal and update names.
const (
	// QueryStatus returns an IncidentStatus (on Incident) or a RecallStatus (on Recall).
	QueryStatus = "status"
	// QueryProgress returns, on a Recall, its latest report to the
	// Incident (RecallProgress, with InFlight), running or completed: the
	// truth the Incident reconciles its counts with.
	QueryProgress = "progress"
	// QueryRequestContext returns, on a Recall, what its requests say
	// besides the organisation (activities.RequestContext): the front door
	// speaks it on the call.
	QueryRequestContext = "request_context"

	// SignalRecallProgress carries a RecallProgress from a Recall to its Incident.
	SignalRecallProgress = "recall_progress"
	// SignalConfirmation carries a Confirmation to a Recall.
	SignalConfirmation = "confirmation"
	// SignalDelivery carries a DeliveryEvent (bounce, no-answer, ...) to a Recall.
	SignalDelivery = "delivery"
	// SignalStopRecall carries a StopRecall from an Incident closing with
	// StopRecalls to each of its Recalls still open.
	SignalStopRecall = "stop_recall"

	// UpdateReconcileRecall makes an Incident reconcile its recall counts
	// with its Recalls now (ReconcileRecall -> RecallReconciliation).
	UpdateReconcileRecall = "reconcile_recall"

	// UpdateCloseIncident closes an Incident (CloseIncident).
	UpdateCloseIncident = "close_incident"
)

// IncidentWorkflowID is the workflow ID of an incident: the incident ID.
func IncidentWorkflowID(incidentID string) string { return incidentID }

// RecallWorkflowID is the workflow ID of the Recall of one recipient.
func RecallWorkflowID(incidentID, recipientID string) string {
	return incidentID + "/recall/" + recipientID
}

// Facts are what the responders know about the breach. They start the legal
// clocks and choose the obligations.
type Facts struct {
	Title      string `json:"title"`
	WhatLeaked string `json:"what_leaked"`
	// SentSubject and SentAt are the subject and time of the message sent
	// by mistake, which the deletion requests name ("the mail titled … we
	// sent on 12 November"); empty and zero when unknown or not a mail.
	SentSubject  string    `json:"sent_subject,omitempty"`
	SentAt       time.Time `json:"sent_at,omitzero"`
	Persons      int       `json:"persons"`
	AwareAt      time.Time `json:"aware_at"`
	Unauthorized bool      `json:"unauthorized_purpose"`
	// SensitiveOrFinancial: sensitive (要配慮) data, or data whose misuse may
	// cause financial harm.
	SensitiveOrFinancial bool     `json:"sensitive_or_financial"`
	Jurisdictions        []string `json:"jurisdictions,omitempty"`
}

// IncidentInput starts an Incident.
type IncidentInput struct {
	IncidentID string            `json:"incident_id"`
	Runbook    runbooks.Snapshot `json:"runbook"`
	Facts      Facts             `json:"facts"`
	// WrongRecipients are the people who received data they should not have
	// (the recall list). Nil when the runbook recalls nothing.
	WrongRecipients *recipients.ListRef `json:"wrong_recipients,omitempty"`
	// Affected is everyone whose data leaked: the list start_broadcast
	// notifies unless it names another. Nil when not given at declaration
	// (start_broadcast then needs a list).
	Affected   *recipients.ListRef `json:"affected,omitempty"`
	DeclaredBy string              `json:"declared_by"`
	DeclaredAt time.Time           `json:"declared_at"`
	// SlackChannel is the incident's Slack channel (where it was declared);
	// empty when declared from the CLI without --slack-channel.
	SlackChannel string `json:"slack_channel,omitempty"`
	// Carry is the state handed over by continue-as-new; nil on a new incident.
	Carry *IncidentCarry `json:"carry,omitempty"`
}

// IncidentResult is what a closed Incident returns: its final status and
// where its record (timeline, JSON and Markdown) was written.
type IncidentResult struct {
	Status IncidentStatus          `json:"status"`
	Record activities.RecordResult `json:"record"`
}

// Incident phases, as shown in the BreachPhase search attribute.
const (
	PhaseDeclared   = "declared"
	PhaseRecall     = "recall"
	PhaseMonitoring = "monitoring"
	PhaseClosed     = "closed"
)

// IncidentStatus is the answer to QueryStatus on an Incident. Its JSON field
// names are stable: other tools read them (`starter status --json`).
type IncidentStatus struct {
	IncidentID    string    `json:"incident_id"`
	Runbook       string    `json:"runbook"`
	RunbookSHA256 string    `json:"runbook_sha256"`
	Title         string    `json:"title"`
	Phase         string    `json:"phase"`
	DeclaredAt    time.Time `json:"declared_at"`
	// Closed says who closed the incident, when and why, once closed.
	Closed *Closure     `json:"closed,omitempty"`
	Recall RecallCounts `json:"recall"`
	// SinceYesterday is the day-over-day change of each count, as of the
	// last daily boundary (the daily report's hour) at DayBoundaryAt,
	// against the boundary a day before; nil before the first boundary.
	SinceYesterday *RecallCounts `json:"recall_since_yesterday,omitempty"`
	DayBoundaryAt  time.Time     `json:"day_boundary_at,omitzero"`
	// CountsCorrected is how many recipients reconciliation has corrected
	// (reports that never reached the Incident); 0 when every report
	// arrived.
	CountsCorrected int `json:"counts_corrected,omitempty"`
	// Unreachable lists the opaque IDs of recipients in state unreachable.
	Unreachable []string `json:"unreachable_ids"`
	// Facts are the current facts (the declaration's, then each
	// update_facts'): a facts change starts from them.
	Facts Facts `json:"facts"`
	// Obligations, containment tasks and the prevention report.
	Obligations []ObligationSummary `json:"obligations"`
	Tasks       []TaskStatus        `json:"tasks"`
	Prevention  *PreventionStatus   `json:"prevention,omitempty"`
	// Broadcasts (notices and daily reports to the affected) and broker
	// demands, as their workflows last reported: states and counts only.
	Broadcasts    []BroadcastRef    `json:"broadcasts"`
	BrokerDemands []BrokerDemandRef `json:"broker_demands"`
}

// RecallCounts are exact counts over every wrong recipient.
//
// requested, email_confirmed and phone_confirmed count recipients who have
// ever reached that point (seed 000: "asked 53, confirmed by phone 53, also by
// e-mail 52"); confirmed counts those meeting the runbook's confirmation rule;
// pending, unreachable and closed_by_operator count current states.
type RecallCounts struct {
	Total            int `json:"total"`
	Pending          int `json:"pending"`
	Requested        int `json:"requested"`
	EmailConfirmed   int `json:"email_confirmed"`
	PhoneConfirmed   int `json:"phone_confirmed"`
	Confirmed        int `json:"confirmed"`
	Unreachable      int `json:"unreachable"`
	ClosedByOperator int `json:"closed_by_operator"`
}

// Closure is an incident's close: who, why, when (At, shown in Zone, the
// incident's IANA zone).
type Closure struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Zone   string    `json:"zone"`
}

// Text is the closure for a person: "closed at 2026-12-07 23:59 JST by
// U0LEAD (all confirmed)".
func (c Closure) Text() string {
	return fmt.Sprintf("closed at %s by %s (%s)", timefmt.At(c.At, timefmt.Zone(c.Zone), timefmt.English), c.By, c.Reason)
}

// CloseIncident is the UpdateCloseIncident payload.
type CloseIncident struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
	// StopRecalls stops asking every recipient still being asked (and
	// ends the unreachable ones' tasks): each ends closed_by_operator with
	// the close's reason. Without it, a close is refused while any
	// recipient is still being asked.
	StopRecalls bool `json:"stop_recalls,omitempty"`
}

// StopRecall is the SignalStopRecall payload: the Recall ends as
// closed_by_operator ("incident closed by By: Reason"), its pending sends
// cancelled.
type StopRecall struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// RecallState is where one recipient stands.
type RecallState string

// Recall states: pending -> requested -> phone_confirmed / email_confirmed ->
// confirmed, or unreachable, or closed_by_operator.
const (
	StatePending          RecallState = "pending"
	StateRequested        RecallState = "requested"
	StateEmailConfirmed   RecallState = "email_confirmed"
	StatePhoneConfirmed   RecallState = "phone_confirmed"
	StateConfirmed        RecallState = "confirmed"
	StateUnreachable      RecallState = "unreachable"
	StateClosedByOperator RecallState = "closed_by_operator"
)

// Settled reports whether automated contact has ended for the recipient, so
// the sliding window may start another Recall. An unreachable recipient is
// settled (a human task takes over) though its Recall stays open.
func (s RecallState) Settled() bool {
	return s == StateConfirmed || s == StateUnreachable || s == StateClosedByOperator
}

// RecallInput starts a Recall.
type RecallInput struct {
	IncidentID       string               `json:"incident_id"`
	RecipientID      string               `json:"recipient_id"`
	Index            int                  `json:"index"` // 0-based position in the list
	List             recipients.ListRef   `json:"list"`
	Policy           runbooks.RecallPhase `json:"policy"`
	ParentWorkflowID string               `json:"parent_workflow_id"`
	// Sent is what the requests say was sent by mistake, from the
	// incident's facts when the Recall started.
	Sent activities.SentMessage `json:"sent,omitzero"`
}

// RecallProgress is sent by a Recall to its Incident on every state change.
// Seq grows with every change, so late or duplicate deliveries are ignored.
type RecallProgress struct {
	RecipientID    string      `json:"recipient_id"`
	Index          int         `json:"index"`
	Seq            int         `json:"seq"`
	State          RecallState `json:"state"`
	Requested      bool        `json:"requested"`
	EmailConfirmed bool        `json:"email_confirmed"`
	PhoneConfirmed bool        `json:"phone_confirmed"`
	// CallbackRequested: the person asked on a call to be called back
	// (pressed 2), so a person must call them.
	CallbackRequested bool `json:"callback_requested,omitempty"`
	// InFlight is set only in the answer to QueryProgress: this report (or
	// a retry of it) is still on its way to the Incident, which will apply
	// it when it arrives. A report not in flight was delivered, or its
	// Recall gave up sending it.
	InFlight bool `json:"in_flight,omitempty"`
}

// ReconcileRecall asks an Incident to reconcile its recall counts now
// (UpdateReconcileRecall): By is who asked.
type ReconcileRecall struct {
	By string `json:"by"`
}

// RecallReconciliation is what one reconciliation found: how many open
// recipients it asked their Recall about, and the corrections it made.
type RecallReconciliation struct {
	Checked     int               `json:"checked"`
	Corrections []CountCorrection `json:"corrections"`
	// Counts are the counts after the reconciliation.
	Counts RecallCounts `json:"counts"`
}

// CountCorrection is one recipient whose state the Incident held wrongly
// because a Recall's report never reached it, corrected from the Recall's
// own answer. Never silent: each is in the incident's record, its thread
// and the breachflow_recall_counts_corrected metric.
type CountCorrection struct {
	RecipientID string      `json:"recipient_id"`
	From        RecallState `json:"from"`
	To          RecallState `json:"to"`
	At          time.Time   `json:"at"`
	// Why is what the reconciliation ran for ("daily report", "close"...).
	Why string `json:"why"`
}

// Confirmation is a recipient's confirmation that they deleted the data.
type Confirmation struct {
	Channel  runbooks.Confirmation `json:"channel"`
	Evidence Evidence              `json:"evidence"`
}

// Evidence says how a confirmation or event was observed.
type Evidence struct {
	Source     string    `json:"source"` // "link", "voice", "operator", "sendgrid", "twilio"
	EventID    string    `json:"event_id,omitempty"`
	CallSID    string    `json:"call_sid,omitempty"`
	Digits     string    `json:"digits,omitempty"`
	Operator   string    `json:"operator,omitempty"` // Slack user ID
	Note       string    `json:"note,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// DeliveryKind is what a provider reported about a request.
type DeliveryKind string

// Delivery kinds.
const (
	DeliveryDelivered DeliveryKind = "delivered"
	DeliveryBounced   DeliveryKind = "bounced"
	DeliveryDropped   DeliveryKind = "dropped"
	DeliveryNoAnswer  DeliveryKind = "no_answer"
	DeliveryBusy      DeliveryKind = "busy"
	DeliveryFailed    DeliveryKind = "failed"
	DeliveryCompleted DeliveryKind = "completed"
	// DeliveryCallbackRequested: the person pressed 2 ("please call me back").
	DeliveryCallbackRequested DeliveryKind = "callback_requested"
	// DeliveryNoResponse: the person answered but pressed nothing, twice.
	DeliveryNoResponse DeliveryKind = "no_response"
)

// DeliveryEvent is a provider's report about a request we sent.
type DeliveryEvent struct {
	Channel  runbooks.Channel `json:"channel"`
	Kind     DeliveryKind     `json:"kind"`
	Attempt  int              `json:"attempt,omitempty"`
	Evidence Evidence         `json:"evidence"`
}

// Attempt records one request sent to a recipient.
type Attempt struct {
	Channel   runbooks.Channel `json:"channel"`
	N         int              `json:"n"`
	At        time.Time        `json:"at"`
	MessageID string           `json:"message_id,omitempty"` // provider ID (SendGrid X-Message-Id, Twilio SID)
	Outcome   string           `json:"outcome"`
}

// ConfirmationRecord is a confirmation as kept in a Recall's record.
type ConfirmationRecord struct {
	Channel  runbooks.Confirmation `json:"channel"`
	At       time.Time             `json:"at"`
	Evidence Evidence              `json:"evidence"`
}

// RecallStatus is the answer to QueryStatus on a Recall, and its result.
type RecallStatus struct {
	RecipientID   string               `json:"recipient_id"`
	State         RecallState          `json:"state"`
	Attempts      []Attempt            `json:"attempts"`
	Confirmations []ConfirmationRecord `json:"confirmations"`
	Events        []DeliveryEvent      `json:"events"`
	Reason        string               `json:"reason,omitempty"`
	// Requested says a request reached a provider (counted as "asked").
	Requested bool   `json:"requested"`
	ClosedBy  string `json:"closed_by,omitempty"`
	// Contact is whom the Recall is about: personal data, present only in
	// encrypted payloads (readable through the codec server).
	Contact *recipients.Recipient `json:"contact,omitempty"`
}

// Human steps. Each is a workflow Update with a validator (authorized
// actor, valid state, not already done): a rejected update changes nothing
// and leaves nothing in history. By is the actor's identity (the Slack user
// ID, or "cli:<user>"), recorded in history.
const (
	// UpdateCompleteTask completes a containment task on an Incident (CompleteTask).
	UpdateCompleteTask = "complete_task"
	// UpdateRecordPhoneConfirmation records, on a Recall, that an operator
	// phoned the person and they confirmed deletion (OperatorConfirmation).
	UpdateRecordPhoneConfirmation = "record_phone_confirmation"
	// UpdateCloseRecipient closes a Recall by an operator's decision, with a
	// reason such as "confirmed by post" (CloseRecipient).
	UpdateCloseRecipient = "close_recipient"
	// UpdateApproveBroadcast approves a Broadcast's exact fingerprint (ApproveBroadcast).
	UpdateApproveBroadcast = "approve_broadcast"
	// UpdateRecordFiling records a regulator filing on an Obligation (RecordFiling).
	UpdateRecordFiling = "record_filing"
	// UpdateFacts changes an Incident's facts (FactsChange).
	UpdateFacts = "update_facts"
)

// CompleteTask is the UpdateCompleteTask payload.
type CompleteTask struct {
	TaskID string `json:"task_id"`
	By     string `json:"by"`
	Note   string `json:"note,omitempty"`
}

// OperatorConfirmation is the UpdateRecordPhoneConfirmation payload.
type OperatorConfirmation struct {
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
}

// CloseRecipient is the UpdateCloseRecipient payload.
type CloseRecipient struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// ApproveBroadcast is the UpdateApproveBroadcast payload. Where the
// organisation registers approver keys (BREACHFLOW_APPROVER_KEYS), an
// approval counts only signed (internal/approvals): KeyID is the signing
// key's ID (the approver's own, which must equal By; or "slack", the front
// door's, for an approval made in Slack by the user By) and Signature its
// signature of the broadcast, the fingerprint and the approver.
type ApproveBroadcast struct {
	Fingerprint string `json:"fingerprint"`
	By          string `json:"by"`
	KeyID       string `json:"key_id,omitempty"`
	Signature   string `json:"signature,omitempty"`
}

// RecordFiling is the UpdateRecordFiling payload.
type RecordFiling struct {
	FiledAt   time.Time `json:"filed_at"`
	Reference string    `json:"reference"`
	Channel   string    `json:"channel"` // e.g. "PPC web form"
	By        string    `json:"by"`
}

// FactsChange is the UpdateFacts payload: the new facts and why they changed.
type FactsChange struct {
	Facts  Facts  `json:"facts"`
	Reason string `json:"reason"`
	By     string `json:"by"`
	// UnauthorizedPurposeFoundAt is when the unauthorized purpose was
	// found, when this change sets Facts.Unauthorized: the regimes' clock
	// that depends on it (APPI: 30 → 60 days) runs from it. Zero means
	// the time of the update; it may be neither in the future nor before
	// the organisation became aware.
	UnauthorizedPurposeFoundAt time.Time `json:"unauthorized_purpose_found_at,omitzero"`
}
