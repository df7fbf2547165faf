package workflows

import (
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

// Names of the Obligation workflow's messages, and of the Incident's
// messages for the prevention report. An Obligation also answers
// QueryStatus (an ObligationStatus) and takes UpdateRecordFiling.
const (
	// SignalObligationRevision carries an ObligationRevision from an
	// Incident to one of its Obligations: a moved deadline, fresher facts
	// and counts for the draft, or "no longer owed".
	SignalObligationRevision = "obligation_revision"
	// SignalObligationProgress carries an ObligationStatus from an
	// Obligation to its Incident on every change (Seq grows).
	SignalObligationProgress = "obligation_progress"
	// UpdateProposeNotRequired proposes that an Obligation is not required
	// after all (NotRequiredProposal). The clocks keep running until a
	// second person approves.
	UpdateProposeNotRequired = "propose_not_required"
	// UpdateReviewNotRequired approves or rejects that proposal
	// (NotRequiredReview); the reviewer must not be the proposer.
	UpdateReviewNotRequired = "review_not_required"
	// UpdateRecordPreventionReport records on an Incident that the
	// root-cause and prevention report was submitted (PreventionReport).
	UpdateRecordPreventionReport = "record_prevention_report"
)

// ObligationWorkflowID is the workflow ID of one obligation of an incident,
// e.g. INC-20261112-7QK2ZP/obligation/JP-APPI/final.
func ObligationWorkflowID(incidentID, obligationID string) string {
	return incidentID + "/obligation/" + obligationID
}

// ObligationState is where an obligation stands.
type ObligationState string

// Obligation states: pending -> drafted -> filed; or not_required (an
// explicit decision, approved by a second person); or overdue (its
// deadline passed with nothing filed: still open, escalated, the missed
// deadline recorded for good).
const (
	ObligationPending     ObligationState = "pending"
	ObligationDrafted     ObligationState = "drafted"
	ObligationOverdue     ObligationState = "overdue"
	ObligationFiled       ObligationState = "filed"
	ObligationNotRequired ObligationState = "not_required"
)

// Open reports whether something is still owed.
func (s ObligationState) Open() bool { return s != ObligationFiled && s != ObligationNotRequired }

// ObligationInput starts an Obligation.
type ObligationInput struct {
	IncidentID string `json:"incident_id"`
	// Obligation is what regimes.Evaluate found owed.
	Obligation regimes.Obligation `json:"obligation"`
	// Situation is what the report is drafted from (facts, live counts).
	Situation reports.Situation `json:"situation"`
	// Notify are the roles reminded of the deadline; Escalate the roles
	// also told when it is near or missed (runbook phase "obligations").
	Notify   []string `json:"notify"`
	Escalate []string `json:"escalate,omitempty"`
	// Thread is the incident message the obligation replies to; nil for
	// none (e-mail only).
	Thread *activities.SlackMessageRef `json:"thread,omitempty"`
	// DisplayZone is the IANA zone messages show times in (Asia/Tokyo
	// when empty).
	DisplayZone string `json:"display_zone,omitempty"`
	// ParentWorkflowID is the Incident told of every change; empty for none.
	ParentWorkflowID string `json:"parent_workflow_id,omitempty"`
	// Reason and By say why the obligation was opened ("declared", a facts
	// change) and by whom.
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
}

// ObligationRevision is what an Incident tells an Obligation after the
// facts were evaluated again. Every field is optional.
type ObligationRevision struct {
	// Obligation is the re-evaluated obligation (same ID): its deadline,
	// reminders and escalations replace the old ones, recorded with Reason.
	Obligation *regimes.Obligation `json:"obligation,omitempty"`
	// NoLongerOwed: the rules no longer list the obligation (Reason says
	// why). It stays open until filed or decided not required: a changed
	// fact never silently cancels a legal duty.
	NoLongerOwed bool `json:"no_longer_owed,omitempty"`
	// Situation refreshes the facts and counts the draft is built from.
	Situation *reports.Situation `json:"situation,omitempty"`
	// Material: the facts or the clock changed, so the new draft is posted
	// for review (a counts-only refresh is kept quietly).
	Material bool `json:"material,omitempty"`
	// Thread is the incident message, when it is new or moved.
	Thread *activities.SlackMessageRef `json:"thread,omitempty"`
	Reason string                      `json:"reason,omitempty"`
	By     string                      `json:"by,omitempty"`
}

// NotRequiredProposal is the UpdateProposeNotRequired payload.
type NotRequiredProposal struct {
	By        string `json:"by"`
	Rationale string `json:"rationale"`
}

// NotRequiredReview is the UpdateReviewNotRequired payload. Rejecting
// needs a Note saying why.
type NotRequiredReview struct {
	By      string `json:"by"`
	Approve bool   `json:"approve"`
	Note    string `json:"note,omitempty"`
}

// NotRequiredDecision is an open proposal, or (with ApprovedBy) the
// approved decision that an obligation is not required.
type NotRequiredDecision struct {
	ProposedBy string    `json:"proposed_by"`
	ProposedAt time.Time `json:"proposed_at"`
	Rationale  string    `json:"rationale"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	Note       string    `json:"note,omitempty"`
}

// FilingRecord is a RecordFiling as kept: when it was recorded, and the
// deadline in force then. Late and Lateness are computed once, at
// recording, and never change after (a later deadline move does not undo
// a late filing).
type FilingRecord struct {
	RecordFiling
	RecordedAt time.Time     `json:"recorded_at"`
	Due        time.Time     `json:"due,omitzero"`
	Late       bool          `json:"late"`
	Lateness   time.Duration `json:"lateness,omitempty"`
}

// MissedDeadline is a deadline that passed with nothing filed, noticed At.
type MissedDeadline struct {
	Due time.Time `json:"due"`
	At  time.Time `json:"at"`
}

// DraftRecord is the latest draft of the obligation's report.
type DraftRecord struct {
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	reports.Draft
}

// ObligationStatus is the answer to QueryStatus on an Obligation, its
// progress signal to the Incident (without the draft's text), and its
// result.
type ObligationStatus struct {
	IncidentID   string          `json:"incident_id"`
	ObligationID string          `json:"obligation_id"`
	WorkflowID   string          `json:"workflow_id"`
	Regime       string          `json:"regime"`
	Kind         string          `json:"kind"`
	Title        string          `json:"title"`
	Audience     string          `json:"audience"`
	State        ObligationState `json:"state"`
	// Deadline is the legal deadline (zero for a "promptly" duty), Target
	// the soft target of a prompt duty, Due what "overdue" is measured
	// against (Deadline, else Target; zero when neither).
	Deadline time.Time  `json:"deadline,omitzero"`
	Target   time.Time  `json:"target,omitzero"`
	Due      time.Time  `json:"due,omitzero"`
	Grace    *time.Time `json:"grace,omitempty"`
	Hard     bool       `json:"hard,omitempty"`
	// ClockPending: the clock's anchor event has not happened yet.
	ClockPending bool           `json:"clock_pending,omitempty"`
	Clock        string         `json:"clock,omitempty"`
	Source       regimes.Source `json:"source"`
	// NoLongerOwed is why re-evaluation stopped listing the obligation; it
	// stays open regardless.
	NoLongerOwed string               `json:"no_longer_owed,omitempty"`
	Draft        *DraftRecord         `json:"draft,omitempty"`
	Drafts       int                  `json:"drafts"`
	Filing       *FilingRecord        `json:"filing,omitempty"`
	Proposal     *NotRequiredDecision `json:"proposal,omitempty"`
	NotRequired  *NotRequiredDecision `json:"not_required,omitempty"`
	Missed       []MissedDeadline     `json:"missed,omitempty"`
	// Timeline is everything that happened to the obligation, with actors.
	Timeline []record.Entry `json:"timeline"`
	Seq      int            `json:"seq"`
}

// ObligationSummary is one obligation as the Incident shows it.
type ObligationSummary struct {
	ObligationID string          `json:"obligation_id"`
	WorkflowID   string          `json:"workflow_id"`
	Title        string          `json:"title"`
	Audience     string          `json:"audience"`
	State        ObligationState `json:"state"`
	Due          time.Time       `json:"due,omitzero"`
	Hard         bool            `json:"hard,omitempty"`
	FiledAt      time.Time       `json:"filed_at,omitzero"`
	NoLongerOwed string          `json:"no_longer_owed,omitempty"`
}

// TaskStatus is one containment task as the Incident shows it.
type TaskStatus struct {
	ID     string             `json:"id"`
	Title  runbooks.Localized `json:"title"`
	Owner  string             `json:"owner"`
	Due    time.Time          `json:"due"`
	Done   bool               `json:"done"`
	DoneAt time.Time          `json:"done_at,omitzero"`
	DoneBy string             `json:"done_by,omitempty"`
	Note   string             `json:"note,omitempty"`
}

// PreventionReport is the UpdateRecordPreventionReport payload. SubmittedAt
// defaults to when it is recorded.
type PreventionReport struct {
	By          string    `json:"by"`
	Reference   string    `json:"reference"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	Note        string    `json:"note,omitempty"`
}

// PreventionStatus is the prevention report's due date and, once
// recorded, the report.
type PreventionStatus struct {
	Due        time.Time         `json:"due"`
	Report     *PreventionReport `json:"report,omitempty"`
	RecordedAt time.Time         `json:"recorded_at,omitzero"`
}
