// Package record is the incident record breachflow exports at close: every
// decision, approval, send, confirmation and filing with who did it and
// when, as JSON (for tools) and as a readable Markdown report (for people).
//
// The record must outlive Temporal's retention, so it is written to a
// directory of the organisation's choosing (BREACHFLOW_RECORD_DIR) by an
// activity. Workflows build it from their state (package workflows), the
// activity adds each wrong recipient's details from their Recall workflows
// (MergeRecall) and writes the files.
//
// Nothing here is for logs: the record holds operator notes and Slack user
// IDs, but never recipients' names, addresses or phone numbers (those stay
// in the recipient list; recipients are named by opaque IDs such as R00007).
package record

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Version is the format version of Record; raise it on incompatible changes.
const Version = 1

// System is the actor of what breachflow did on its own (reminders,
// escalations, reports, requests).
const System = "breachflow"

// Kind says what an entry records.
type Kind string

// Entry kinds.
const (
	KindDeclared     Kind = "declared"      // the incident was declared
	KindFactsChanged Kind = "facts_changed" // the facts were changed (Reason: why)
	KindClosed       Kind = "closed"        // the incident was closed

	KindTaskReminder   Kind = "task_reminder"   // a containment task's owner was reminded
	KindTaskDue        Kind = "task_due"        // a containment task fell due while open
	KindTaskEscalation Kind = "task_escalation" // an open task was escalated
	KindTaskCompleted  Kind = "task_completed"  // a containment task was done (Actor: by whom)

	KindNotOwed           Kind = "not_owed"          // the rules found an obligation not owed (Reason: why)
	KindObligationOpened  Kind = "obligation_opened" // an obligation's clock started
	KindDeadlineMoved     Kind = "deadline_moved"    // re-evaluation moved a deadline (Reason: why)
	KindNoLongerOwed      Kind = "no_longer_owed"    // re-evaluation no longer lists the obligation; it stays open
	KindDraft             Kind = "draft"             // a report was drafted for review
	KindReminder          Kind = "reminder"          // an obligation reminder went out
	KindEscalation        Kind = "escalation"        // an obligation was escalated
	KindOverdue           Kind = "overdue"           // a deadline passed with nothing filed
	KindNotRequiredAsked  Kind = "not_required_proposed"
	KindNotRequiredOK     Kind = "not_required_approved" // a second person approved "not required"
	KindNotRequiredRefuse Kind = "not_required_rejected"
	KindFiled             Kind = "filed" // a report was filed (Actor: who recorded it; Reference)

	KindDailyReport        Kind = "daily_report"         // a status report went out
	KindDailyReportSkipped Kind = "daily_report_skipped" // no report: nothing changed (stop condition)
	KindDailyReportsEnded  Kind = "daily_reports_stopped"

	KindPreventionReminder Kind = "prevention_reminder"
	KindPreventionOverdue  Kind = "prevention_overdue"
	KindPreventionRecorded Kind = "prevention_recorded" // the prevention report was submitted

	KindRecallRequest      Kind = "recall_request"      // a deletion request went to a wrong recipient
	KindRecallConfirmation Kind = "recall_confirmation" // a wrong recipient's deletion was confirmed
	KindRecallDelivery     Kind = "recall_delivery"     // a provider reported on a request (bounce, no answer)
	KindCountCorrected     Kind = "count_corrected"     // reconciliation corrected a recipient whose Recall's report never reached the incident
)

// Entry is one thing that happened.
type Entry struct {
	At   time.Time `json:"at"`
	Kind Kind      `json:"kind"`
	// Actor is who did it: a Slack user ID, "cli:<user>", "recipient", or
	// System.
	Actor string `json:"actor"`
	// Subject is what it concerns: an obligation ID (JP-APPI/final), a task
	// ID, a recipient ID (R00007); empty for the incident itself.
	Subject string `json:"subject,omitempty"`
	Summary string `json:"summary"`
	// Reason is the why a person gave (a rationale, a note, a reason for
	// a changed deadline).
	Reason string `json:"reason,omitempty"`
	// Reference is a filing's receipt number, a provider's message or call ID.
	Reference string `json:"reference,omitempty"`
	// To lists the audiences and roles a message went to: never addresses.
	To []string `json:"to,omitempty"`
	// Outcome is how a send went ("slack: posted; legal: 2 sent").
	Outcome string `json:"outcome,omitempty"`
}

// Record is the whole record of one incident.
type Record struct {
	Version       int       `json:"version"`
	IncidentID    string    `json:"incident_id"`
	Title         string    `json:"title"`
	Runbook       string    `json:"runbook"`
	RunbookSHA256 string    `json:"runbook_sha256"`
	DeclaredAt    time.Time `json:"declared_at"`
	DeclaredBy    string    `json:"declared_by"`
	ClosedAt      time.Time `json:"closed_at"`
	ClosedBy      string    `json:"closed_by"`
	CloseReason   string    `json:"close_reason"`
	ExportedAt    time.Time `json:"exported_at"`
	// TimeZone is the IANA zone the Markdown report shows times in.
	TimeZone    string       `json:"time_zone"`
	Facts       Facts        `json:"facts"`
	Obligations []Obligation `json:"obligations"`
	Tasks       []Task       `json:"tasks"`
	Prevention  *Prevention  `json:"prevention_report,omitempty"`
	Recall      *Recall      `json:"recall,omitempty"`
	// Broadcasts (notices and daily reports to everyone affected) and
	// BrokerDemands (cease-and-desist letters); absent when there were
	// none (added in format 1 without a version change: readers of
	// earlier records see nothing missing).
	Broadcasts    []Broadcast    `json:"broadcasts,omitempty"`
	BrokerDemands []BrokerDemand `json:"broker_demands,omitempty"`
	// Timeline is every entry, oldest first.
	Timeline []Entry `json:"timeline"`
}

// Facts are the incident's facts at close.
type Facts struct {
	Title                string    `json:"title"`
	WhatLeaked           string    `json:"what_leaked"`
	Persons              int       `json:"persons"`
	AwareAt              time.Time `json:"aware_at"`
	UnauthorizedPurpose  bool      `json:"unauthorized_purpose"`
	SensitiveOrFinancial bool      `json:"sensitive_or_financial"`
	Jurisdictions        []string  `json:"jurisdictions"`
}

// Obligation is one legal obligation at close.
type Obligation struct {
	ID       string    `json:"id"`
	Regime   string    `json:"regime"`
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Audience string    `json:"audience"`
	State    string    `json:"state"`
	Deadline time.Time `json:"deadline,omitzero"`
	Target   time.Time `json:"target,omitzero"`
	Source   string    `json:"source"`
	// NoLongerOwed is why re-evaluation stopped listing it (it was kept).
	NoLongerOwed string       `json:"no_longer_owed,omitempty"`
	Filing       *Filing      `json:"filing,omitempty"`
	NotRequired  *NotRequired `json:"not_required,omitempty"`
	Missed       []Missed     `json:"missed,omitempty"`
	Drafts       int          `json:"drafts"`
}

// Filing is a report filed with its audience.
type Filing struct {
	FiledAt    time.Time `json:"filed_at"`
	Reference  string    `json:"reference"`
	Channel    string    `json:"channel"`
	By         string    `json:"by"`
	RecordedAt time.Time `json:"recorded_at"`
	// Due is the deadline (or soft target) in force when it was filed;
	// Late and LatenessSeconds are frozen at filing.
	Due             time.Time `json:"due,omitzero"`
	Late            bool      `json:"late"`
	LatenessSeconds int64     `json:"lateness_seconds,omitempty"`
}

// NotRequired is the two-person decision that an obligation is not owed.
type NotRequired struct {
	ProposedBy string    `json:"proposed_by"`
	ProposedAt time.Time `json:"proposed_at"`
	Rationale  string    `json:"rationale"`
	ApprovedBy string    `json:"approved_by"`
	ApprovedAt time.Time `json:"approved_at"`
	Note       string    `json:"note,omitempty"`
}

// Missed is a deadline that passed with nothing filed.
type Missed struct {
	Due time.Time `json:"due"`
	At  time.Time `json:"at"`
}

// Task is a containment task at close.
type Task struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	TitleEn string    `json:"title_en"`
	Owner   string    `json:"owner"`
	Due     time.Time `json:"due"`
	Done    bool      `json:"done"`
	DoneAt  time.Time `json:"done_at,omitzero"`
	DoneBy  string    `json:"done_by,omitempty"`
	Note    string    `json:"note,omitempty"`
}

// Prevention is the root-cause and prevention report.
type Prevention struct {
	Due         time.Time `json:"due"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	By          string    `json:"by,omitempty"`
	Reference   string    `json:"reference,omitempty"`
	Note        string    `json:"note,omitempty"`
	RecordedAt  time.Time `json:"recorded_at,omitzero"`
}

// Recall is the recall of the data from its wrong recipients.
type Recall struct {
	Counts Counts `json:"counts"`
	// Recipients are every wrong recipient's request and confirmation
	// record, by opaque ID, filled in by MergeRecall's caller.
	Recipients []Recipient `json:"recipients"`
}

// Counts are the recall counts at close (the JSON of workflows.RecallCounts).
type Counts struct {
	Total            int `json:"total"`
	Pending          int `json:"pending"`
	Requested        int `json:"requested"`
	EmailConfirmed   int `json:"email_confirmed"`
	PhoneConfirmed   int `json:"phone_confirmed"`
	Confirmed        int `json:"confirmed"`
	Unreachable      int `json:"unreachable"`
	ClosedByOperator int `json:"closed_by_operator"`
}

// Recipient is one wrong recipient's record. Its JSON is that of
// workflows.RecallStatus (the answer to the Recall's status query), plus
// NotStarted for a recipient whose Recall never ran.
type Recipient struct {
	RecipientID   string         `json:"recipient_id"`
	State         string         `json:"state"`
	Attempts      []Attempt      `json:"attempts"`
	Confirmations []Confirmation `json:"confirmations"`
	Events        []Event        `json:"events"`
	Reason        string         `json:"reason,omitempty"`
	ClosedBy      string         `json:"closed_by,omitempty"`
	NotStarted    bool           `json:"not_started,omitempty"`
}

// Attempt is one deletion request sent.
type Attempt struct {
	Channel   string    `json:"channel"`
	N         int       `json:"n"`
	At        time.Time `json:"at"`
	MessageID string    `json:"message_id,omitempty"`
	Outcome   string    `json:"outcome"`
}

// Confirmation is a recipient's confirmation of deletion.
type Confirmation struct {
	Channel  string    `json:"channel"`
	At       time.Time `json:"at"`
	Evidence Evidence  `json:"evidence"`
}

// Event is a provider's report about a request.
type Event struct {
	Channel  string   `json:"channel"`
	Kind     string   `json:"kind"`
	Attempt  int      `json:"attempt,omitempty"`
	Evidence Evidence `json:"evidence"`
}

// Evidence says how a confirmation or event was observed.
type Evidence struct {
	Source     string    `json:"source"`
	EventID    string    `json:"event_id,omitempty"`
	CallSID    string    `json:"call_sid,omitempty"`
	Digits     string    `json:"digits,omitempty"`
	Operator   string    `json:"operator,omitempty"`
	Note       string    `json:"note,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// MergeRecall adds every recipient's requests, confirmations and provider
// events to the timeline and sorts it, oldest first (stable: entries at the
// same instant keep their order). Events without a time stay in the
// recipient's record only.
func (r *Record) MergeRecall() {
	if r.Recall != nil {
		for _, p := range r.Recall.Recipients {
			for _, a := range p.Attempts {
				r.Timeline = append(r.Timeline, Entry{At: a.At, Kind: KindRecallRequest, Actor: System, Subject: p.RecipientID,
					Summary: fmt.Sprintf("%s deletion request #%d", a.Channel, a.N), Reference: a.MessageID, Outcome: a.Outcome})
			}
			for _, c := range p.Confirmations {
				actor := "recipient"
				if c.Evidence.Operator != "" {
					actor = c.Evidence.Operator
				}
				r.Timeline = append(r.Timeline, Entry{At: c.At, Kind: KindRecallConfirmation, Actor: actor, Subject: p.RecipientID,
					Summary: fmt.Sprintf("deletion confirmed by %s (%s)", c.Channel, c.Evidence.Source), Reason: c.Evidence.Note,
					Reference: firstNonEmpty(c.Evidence.CallSID, c.Evidence.EventID)})
			}
			for _, e := range p.Events {
				if e.Evidence.ReceivedAt.IsZero() {
					continue
				}
				r.Timeline = append(r.Timeline, Entry{At: e.Evidence.ReceivedAt, Kind: KindRecallDelivery, Actor: firstNonEmpty(e.Evidence.Source, System),
					Subject: p.RecipientID, Summary: fmt.Sprintf("%s %s", e.Channel, e.Kind), Reference: firstNonEmpty(e.Evidence.EventID, e.Evidence.CallSID)})
			}
		}
	}
	r.SortTimeline()
}

// SortTimeline orders the timeline oldest first, keeping the order of
// entries at the same instant.
func (r *Record) SortTimeline() {
	slices.SortStableFunc(r.Timeline, func(a, b Entry) int { return a.At.Compare(b.At) })
}

// JSON is the record as indented JSON.
func (r Record) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode record of %s: %w", r.IncidentID, err)
	}
	return append(b, '\n'), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
