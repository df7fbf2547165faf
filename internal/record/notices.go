package record

import (
	"fmt"
	"strings"
	"time"
)

// Entry kinds of notices and letters (issue #7). The incident records the
// starts; the rest come from each workflow's own status at export
// (MergeNotices).
const (
	KindBroadcastStarted    Kind = "broadcast_started"     // a notice or a daily report to everyone affected was started (Actor: by whom)
	KindBroadcastNotStarted Kind = "broadcast_not_started" // the Broadcast workflow could not be started (Reason: why)
	KindBroadcastTestSend   Kind = "broadcast_test_send"   // the notice went to the approvers, exactly as it will go out
	KindBroadcastApproval   Kind = "broadcast_approval"    // an approver approved a fingerprint (Reference)
	KindBroadcastRevision   Kind = "broadcast_revision"    // the content or list changed; approvals voided
	KindBroadcastControl    Kind = "broadcast_control"     // pause, resume or stop
	KindBroadcastSent       Kind = "broadcast_sent"        // the last batch went out
	KindBroadcastSubstitute Kind = "broadcast_substitute"  // the substitute measure for the unreachable was recorded

	KindBrokerDemandAdded      Kind = "broker_demand_added"       // a cease-and-desist demand was started (Subject: B001)
	KindBrokerDemandNotStarted Kind = "broker_demand_not_started" // its workflow could not be started
	KindLetterMailed           Kind = "letter_mailed"             // the letter went by content-certified mail (Reference: tracking number)
	KindBrokerAnswer           Kind = "broker_answer"             // the addressee's answer, or its absence
	KindBrokerEscalation       Kind = "broker_escalation"         // reported to the regulator or the police
)

// Broadcast is one broadcast of the incident: a notice to everyone
// affected, or a day's report to them. The fields up to State are what
// the incident knew; Details is the Broadcast workflow's own status at
// export (the JSON of workflows.BroadcastStatus, less the list's storage
// key), nil when it could not be read (NotFound: it never started).
type Broadcast struct {
	N          int       `json:"n"`
	WorkflowID string    `json:"workflow_id"`
	Purpose    string    `json:"purpose"` // notice, daily_report
	Day        int       `json:"day,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	StartedBy  string    `json:"started_by"`
	Reason     string    `json:"reason,omitempty"`
	// List says which list: "given", "affected", or "notice N" (a daily
	// report goes to the list of the last notice sent).
	List       string            `json:"list"`
	State      string            `json:"state"`
	Sent       int               `json:"sent"`
	Total      int               `json:"total"`
	StartError string            `json:"start_error,omitempty"`
	NotFound   bool              `json:"not_found,omitempty"`
	Details    *BroadcastDetails `json:"details,omitempty"`
}

// BroadcastDetails is a Broadcast's status (workflows.BroadcastStatus).
type BroadcastDetails struct {
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Subject     string `json:"subject,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	List        struct {
		SHA256 string `json:"sha256"`
		Count  int    `json:"count"`
	} `json:"list"`
	Quorum        int                `json:"quorum"`
	Approvals     []Approval         `json:"approvals"`
	Voided        []Approval         `json:"voided_approvals,omitempty"`
	TestSends     []TestSend         `json:"test_sends,omitempty"`
	Revisions     []Revision         `json:"revisions,omitempty"`
	Controls      []Control          `json:"controls,omitempty"`
	Progress      BroadcastProgress  `json:"progress"`
	Substitute    *SubstituteTask    `json:"substitute,omitempty"`
	StartedAt     time.Time          `json:"started_at"`
	SendStartedAt time.Time          `json:"send_started_at,omitzero"`
	SentAt        time.Time          `json:"sent_at,omitzero"`
	Runs          int                `json:"runs"`
	Findings      []ContentScanFound `json:"findings,omitempty"`
}

// Approval is one approver's approval of one fingerprint.
type Approval struct {
	Fingerprint string    `json:"fingerprint"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	VoidedAt    time.Time `json:"voided_at,omitzero"`
	VoidedBy    string    `json:"voided_by,omitempty"`
}

// TestSend is the test send of one fingerprint to the approvers.
type TestSend struct {
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"at"`
	Approvers   int       `json:"approvers"`
	Roles       []string  `json:"roles"`
	Missing     []string  `json:"missing_roles,omitempty"`
	MessageID   string    `json:"message_id"`
}

// Revision is a change of a broadcast's content or list before sending.
type Revision struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
}

// Control is a pause, resume or stop.
type Control struct {
	Action string    `json:"action"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	Offset int       `json:"offset"`
}

// BroadcastProgress counts what happened to the people notified.
type BroadcastProgress struct {
	Total      int `json:"total"`
	Done       int `json:"done"`
	Sent       int `json:"sent"`
	NoAddress  int `json:"no_address"`
	Invalid    int `json:"invalid"`
	Duplicates int `json:"duplicates"`
	Bounced    int `json:"bounced"`
	Dropped    int `json:"dropped"`
	Requests   int `json:"requests"`
	Resent     int `json:"resent"`
}

// SubstituteTask is the substitute measure for the people the notice
// could not reach (APPI Art. 26(2) proviso).
type SubstituteTask struct {
	OpenedAt    time.Time          `json:"opened_at"`
	Unreachable int                `json:"unreachable"`
	Reminders   int                `json:"reminders"`
	Done        *SubstituteMeasure `json:"done,omitempty"`
}

// SubstituteMeasure is the publication and inquiry desk recorded.
type SubstituteMeasure struct {
	By           string    `json:"by"`
	PublishedURL string    `json:"published_url"`
	InquiryDesk  string    `json:"inquiry_desk"`
	Note         string    `json:"note,omitempty"`
	At           time.Time `json:"at,omitzero"`
}

// ContentScanFound is one content-scan finding: where, never what.
type ContentScanFound struct {
	Rule   string `json:"rule"`
	Part   string `json:"part"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// BrokerDemand is one cease-and-desist demand, by opaque ID: the
// company's name is in the letter, never in the record. Details is the
// BrokerDemand workflow's status at export (workflows.BrokerDemandStatus).
type BrokerDemand struct {
	DemandID   string               `json:"demand_id"`
	WorkflowID string               `json:"workflow_id"`
	StartedAt  time.Time            `json:"started_at"`
	StartedBy  string               `json:"started_by"`
	State      string               `json:"state"`
	StartError string               `json:"start_error,omitempty"`
	NotFound   bool                 `json:"not_found,omitempty"`
	Details    *BrokerDemandDetails `json:"details,omitempty"`
}

// BrokerDemandDetails is a BrokerDemand's status.
type BrokerDemandDetails struct {
	State       string       `json:"state"`
	Letter      Letter       `json:"letter"`
	Mailings    []Mailing    `json:"mailings"`
	AnswerDue   time.Time    `json:"answer_due,omitzero"`
	Answers     []Answer     `json:"answers"`
	Escalations []Escalation `json:"escalations"`
	Reminders   int          `json:"reminders"`
}

// Letter is the letter's files: the PDF for the records, the Word file
// uploaded to e内容証明.
type Letter struct {
	Path       string `json:"path"`
	SHA256     string `json:"sha256"`
	Pages      int    `json:"pages"`
	DocxPath   string `json:"docx_path,omitempty"`
	DocxSHA256 string `json:"docx_sha256,omitempty"`
}

// Mailing is one mailing of the letter by content-certified mail.
type Mailing struct {
	TrackingNumber string    `json:"tracking_number"`
	MailedAt       time.Time `json:"mailed_at"`
	By             string    `json:"by"`
}

// Answer is the addressee's answer (complied, refused, no_answer, returned).
type Answer struct {
	Outcome    string    `json:"outcome"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	Note       string    `json:"note,omitempty"`
	By         string    `json:"by"`
}

// Escalation is a report to the regulator or the police.
type Escalation struct {
	To        string    `json:"to"`
	Reference string    `json:"reference,omitempty"`
	At        time.Time `json:"at,omitzero"`
	By        string    `json:"by"`
}

// SetDetails keeps a Broadcast's status read at export, and its state and
// counts.
func (b *Broadcast) SetDetails(d BroadcastDetails) {
	b.Details = &d
	b.State, b.Sent, b.Total = d.State, d.Progress.Sent, d.Progress.Total
}

// SetDetails keeps a BrokerDemand's status read at export, and its state.
func (d *BrokerDemand) SetDetails(s BrokerDemandDetails) {
	d.Details = &s
	d.State = s.State
}

// MergeNotices adds what each broadcast and broker demand recorded (test
// sends, approvals, revisions, pauses and stops, the send, the substitute
// measure; mailings, answers, escalations) to the timeline and sorts it.
func (r *Record) MergeNotices() {
	for _, b := range r.Broadcasts {
		d := b.Details
		if d == nil {
			continue
		}
		subj := b.WorkflowID
		for _, ts := range d.TestSends {
			r.Timeline = append(r.Timeline, Entry{At: ts.At, Kind: KindBroadcastTestSend, Actor: System, Subject: subj,
				Summary: fmt.Sprintf("test send of notice %s to %d approvers", shortFP(ts.Fingerprint), ts.Approvers),
				To:      ts.Roles, Reference: ts.MessageID})
		}
		for _, ap := range append(append([]Approval{}, d.Voided...), d.Approvals...) {
			s := "approved notice " + shortFP(ap.Fingerprint)
			if !ap.VoidedAt.IsZero() {
				s += " (voided later by " + ap.VoidedBy + ")"
			}
			r.Timeline = append(r.Timeline, Entry{At: ap.At, Kind: KindBroadcastApproval, Actor: ap.By, Subject: subj, Summary: s, Reference: ap.Fingerprint})
		}
		for _, rv := range d.Revisions {
			r.Timeline = append(r.Timeline, Entry{At: rv.At, Kind: KindBroadcastRevision, Actor: rv.By, Subject: subj, Reason: rv.Reason,
				Summary: fmt.Sprintf("revised: %s → %s; approvals voided", shortFP(rv.From), shortFP(rv.To))})
		}
		for _, c := range d.Controls {
			r.Timeline = append(r.Timeline, Entry{At: c.At, Kind: KindBroadcastControl, Actor: c.By, Subject: subj, Reason: c.Reason,
				Summary: fmt.Sprintf("%s after %d of %d people", c.Action, c.Offset, d.Progress.Total)})
		}
		if !d.SentAt.IsZero() {
			p := d.Progress
			r.Timeline = append(r.Timeline, Entry{At: d.SentAt, Kind: KindBroadcastSent, Actor: System, Subject: subj, Reference: d.Fingerprint,
				Summary: fmt.Sprintf("sent %d of %d (no address %d, invalid %d, bounced %d, dropped %d)", p.Sent, p.Total, p.NoAddress, p.Invalid, p.Bounced, p.Dropped)})
		}
		if t := d.Substitute; t != nil && t.Done != nil {
			r.Timeline = append(r.Timeline, Entry{At: t.Done.At, Kind: KindBroadcastSubstitute, Actor: t.Done.By, Subject: subj, Reason: t.Done.Note,
				Summary: fmt.Sprintf("substitute measure for %d people: published, inquiry desk %s", t.Unreachable, t.Done.InquiryDesk), Reference: t.Done.PublishedURL})
		}
	}
	for _, dm := range r.BrokerDemands {
		d := dm.Details
		if d == nil {
			continue
		}
		for _, m := range d.Mailings {
			r.Timeline = append(r.Timeline, Entry{At: m.MailedAt, Kind: KindLetterMailed, Actor: m.By, Subject: dm.DemandID,
				Summary: "letter sent by content-certified mail with proof of delivery", Reference: m.TrackingNumber})
		}
		for _, a := range d.Answers {
			r.Timeline = append(r.Timeline, Entry{At: a.ReceivedAt, Kind: KindBrokerAnswer, Actor: a.By, Subject: dm.DemandID,
				Summary: "answer: " + a.Outcome, Reason: a.Note})
		}
		for _, e := range d.Escalations {
			r.Timeline = append(r.Timeline, Entry{At: e.At, Kind: KindBrokerEscalation, Actor: e.By, Subject: dm.DemandID,
				Summary: "escalated to the " + e.To, Reference: e.Reference})
		}
	}
	r.SortTimeline()
}

func shortFP(fp string) string {
	if len(fp) > 16 {
		return fp[:16]
	}
	if fp == "" {
		return "(none)"
	}
	return fp
}

// noticesMarkdown writes the sections of the broadcasts and the broker
// demands; nothing when there are none.
func (r Record) noticesMarkdown(b *strings.Builder, at func(time.Time) string) {
	if len(r.Broadcasts) > 0 {
		b.WriteString("## Notices to everyone affected\n\n")
		b.WriteString("| broadcast | purpose | started | by | list | state | sent | approvals (fingerprint) | sent at |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, bc := range r.Broadcasts {
			purpose := bc.Purpose
			if bc.Day > 0 {
				purpose += fmt.Sprintf(" day %d", bc.Day)
			}
			state, approvals, sentAt := bc.State, "—", "—"
			if bc.StartError != "" {
				state = "not started: " + bc.StartError
			}
			if bc.NotFound {
				state = "not found"
			}
			if d := bc.Details; d != nil {
				var who []string
				for _, ap := range d.Approvals {
					who = append(who, ap.By)
				}
				if len(who) > 0 {
					approvals = fmt.Sprintf("%s (%s)", strings.Join(who, ", "), shortFP(d.Fingerprint))
				}
				sentAt = at(d.SentAt)
				if d.Reason != "" {
					state += ": " + d.Reason
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d / %d | %s | %s |\n", cell(bc.WorkflowID), cell(purpose), at(bc.StartedAt), cell(bc.StartedBy),
				cell(bc.List), cell(state), bc.Sent, bc.Total, cell(approvals), sentAt)
		}
		b.WriteString("\n")
		for _, bc := range r.Broadcasts {
			if d := bc.Details; d != nil && d.Substitute != nil {
				t := d.Substitute
				if t.Done != nil {
					fmt.Fprintf(b, "- **%s**: %d people could not be reached; substitute measure recorded %s by %s: published at %s, inquiry desk %s.\n",
						cell(bc.WorkflowID), t.Unreachable, at(t.Done.At), cell(t.Done.By), cell(t.Done.PublishedURL), cell(t.Done.InquiryDesk))
				} else {
					fmt.Fprintf(b, "- **%s**: %d people could not be reached; the substitute measure was **not recorded** at close.\n", cell(bc.WorkflowID), t.Unreachable)
				}
			}
		}
		b.WriteString("\n")
	}
	if len(r.BrokerDemands) > 0 {
		b.WriteString("## Letters to list brokers\n\n")
		b.WriteString("| demand | started | by | state | letter (SHA-256) | mailed (tracking number) | answers | escalations |\n|---|---|---|---|---|---|---|---|\n")
		for _, dm := range r.BrokerDemands {
			state, letter, mailed, answers, esc := dm.State, "—", "—", "—", "—"
			if dm.StartError != "" {
				state = "not started: " + dm.StartError
			}
			if dm.NotFound {
				state = "not found"
			}
			if d := dm.Details; d != nil {
				if d.Letter.SHA256 != "" {
					letter = short(d.Letter.SHA256)
				}
				var ms, as, es []string
				for _, m := range d.Mailings {
					ms = append(ms, fmt.Sprintf("%s (%s) by %s", at(m.MailedAt), m.TrackingNumber, m.By))
				}
				for _, a := range d.Answers {
					as = append(as, fmt.Sprintf("%s %s by %s", a.Outcome, at(a.ReceivedAt), a.By))
				}
				for _, e := range d.Escalations {
					es = append(es, fmt.Sprintf("%s %s by %s", e.To, at(e.At), e.By))
				}
				mailed, answers, esc = joinOr(ms), joinOr(as), joinOr(es)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(dm.DemandID), at(dm.StartedAt), cell(dm.StartedBy), cell(state),
				letter, cell(mailed), cell(answers), cell(esc))
		}
		b.WriteString("\n")
	}
}

func joinOr(s []string) string {
	if len(s) == 0 {
		return "—"
	}
	return strings.Join(s, "; ")
}
