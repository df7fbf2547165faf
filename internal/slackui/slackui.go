// Package slackui is the contract between what breachflow posts to Slack
// (the incident message, built by activities) and what comes back (button
// clicks and modal submissions, handled by the front door): action IDs,
// button values, and the Block Kit rendering of an incident.
//
// Nothing here carries personal data: buttons name workflows and opaque
// item IDs (task IDs, recipient IDs like R00007), and the incident message
// shows counts, not names.
package slackui

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/timefmt"
)

// Action IDs of the buttons breachflow renders. Each maps to one workflow
// Update (see workflows/messages.go).
const (
	ActionCompleteTask     = "bf_complete_task"     // -> complete_task on the Incident
	ActionPhoneConfirmed   = "bf_phone_confirmed"   // -> record_phone_confirmation on a Recall
	ActionCloseRecipient   = "bf_close_recipient"   // opens a modal for the reason -> close_recipient on a Recall
	ActionApproveBroadcast = "bf_approve_broadcast" // -> approve_broadcast on a Broadcast
	ActionRecordFiling     = "bf_record_filing"     // opens a modal -> record_filing on an Obligation
	ActionPauseBroadcast   = "bf_pause_broadcast"   // -> pause on a Broadcast
	ActionResumeBroadcast  = "bf_resume_broadcast"  // -> resume on a Broadcast
	ActionStopBroadcast    = "bf_stop_broadcast"    // -> stop on a Broadcast

	// ActionNotRequired opens a modal on an Obligation: the proposal that
	// it is not required (-> propose_not_required), or, when one is open,
	// its review (-> review_not_required).
	ActionNotRequired = "bf_not_required"
	// ActionPreventionReport opens a modal -> record_prevention_report on
	// the Incident.
	ActionPreventionReport = "bf_prevention_report"
	// ActionUpdateFacts opens a modal -> update_facts on the Incident.
	ActionUpdateFacts = "bf_update_facts"
	// ActionSendNotices (with a confirmation dialog) -> start_broadcast on
	// the Incident.
	ActionSendNotices = "bf_send_notices"
	// ActionAddBroker opens a modal -> add_broker_demand on the Incident.
	ActionAddBroker = "bf_add_broker"
	// ActionRecordMailing opens a modal -> record_mailing on a BrokerDemand.
	ActionRecordMailing = "bf_record_mailing"
	// ActionBrokerAnswer opens a modal -> record_broker_answer on a BrokerDemand.
	ActionBrokerAnswer = "bf_broker_answer"
	// ActionRecordEscalation opens a modal -> record_escalation on a BrokerDemand.
	ActionRecordEscalation = "bf_record_escalation"
	// ActionCloseIncident opens a modal (the reason; whether to stop
	// asking the recipients still being asked) -> close_incident on the
	// Incident.
	ActionCloseIncident = "bf_close_incident"
)

// Callback IDs of breachflow's modals.
const (
	CallbackDeclare        = "bf_declare"
	CallbackCloseRecipient = "bf_close_recipient"
	CallbackRecordFiling   = "bf_record_filing"

	CallbackProposeNotRequired = "bf_propose_not_required"
	CallbackReviewNotRequired  = "bf_review_not_required"
	CallbackPreventionReport   = "bf_prevention_report"
	CallbackUpdateFacts        = "bf_update_facts"
	CallbackAddBroker          = "bf_add_broker"
	CallbackRecordMailing      = "bf_record_mailing"
	CallbackBrokerAnswer       = "bf_broker_answer"
	CallbackRecordEscalation   = "bf_record_escalation"
	CallbackCloseIncident      = "bf_close_incident"
)

// ButtonValue is what a button carries: the workflow it acts on and the
// item within it. It is JSON in the button's value (max 2,000 chars).
type ButtonValue struct {
	WorkflowID string `json:"w"`
	Item       string `json:"i,omitempty"` // task ID, recipient ID, fingerprint, obligation ID
}

// Encode returns the button value string.
func (v ButtonValue) Encode() string {
	b, _ := json.Marshal(v)
	return string(b)
}

// DecodeButtonValue parses a button value, refusing anything malformed.
func DecodeButtonValue(s string) (ButtonValue, error) {
	var v ButtonValue
	if len(s) > 2000 {
		return v, fmt.Errorf("button value too long")
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil || v.WorkflowID == "" {
		return ButtonValue{}, fmt.Errorf("malformed button value")
	}
	return v, nil
}

// IncidentView is what the incident message shows. Counts, deadlines and
// tasks: never names, addresses or phone numbers.
type IncidentView struct {
	IncidentID string
	WorkflowID string
	Title      string
	Runbook    string
	Phase      string
	Recall     *RecallView
	Deadlines  []DeadlineView
	Tasks      []TaskView
	// Unreachable lists recipients needing a human (opaque IDs), each with
	// its Recall workflow ID, for the phone-confirmed and close buttons.
	Unreachable []RecipientView
	// Notices are the incident's broadcasts and broker demands: states
	// and counts, never names or addresses.
	Notices []NoticeView
	// Prevention is the root-cause and prevention report the runbook's
	// close phase promises; nil when it promises none.
	Prevention *PreventionView
	// CanSendNotices: the runbook has a broadcast phase and no notice is
	// running, so the message offers "Send notices" (start_broadcast).
	// CanAddBroker: the runbook has a broker_demands phase, so it offers
	// "Add broker…" (add_broker_demand).
	CanSendNotices, CanAddBroker bool
	UpdatedAt                    time.Time
}

// PreventionView is the prevention report's due date and whether it is
// recorded.
type PreventionView struct {
	Due      time.Time
	Recorded bool
}

// NoticeView is one broadcast (a notice or a daily report to everyone
// affected) or one broker demand, as the incident message lists it.
type NoticeView struct {
	WorkflowID string
	// Label is e.g. "Notice 1 (ja)", "Daily report day 3", "Letter B001".
	Label string
	State string
	// Sent and Total count a broadcast's notices (Total 0: a letter);
	// Counts says how they stand, each outcome apart ("accepted 7/7,
	// bounced 2").
	Sent, Total int
	Counts      string
}

// RecallView is the recall counts with their day-over-day deltas.
type RecallView struct {
	Total, Requested, PhoneConfirmed, EmailConfirmed, Confirmed, Unreachable, Closed int
	// Deltas since the previous day's report (0 when unknown).
	DeltaPhone, DeltaEmail, DeltaConfirmed int
}

// DeadlineView is one legal obligation's next deadline.
type DeadlineView struct {
	ObligationID string
	WorkflowID   string
	Label        string // e.g. "JP-APPI final report (確報) to the PPC"
	Due          time.Time
	State        string // pending, drafted, filed, overdue, not_required
}

// TaskView is one human task (containment, or "find another way to reach").
type TaskView struct {
	ID    string
	Title string
	Owner string
	Due   time.Time
	Done  bool
}

// RecipientView is a recipient needing a human, by opaque ID only.
type RecipientView struct {
	RecipientID string
	WorkflowID  string
}

// MaxListed bounds how many tasks or recipients one message lists; Slack
// allows 50 blocks per message.
const MaxListed = 10

var jst = time.FixedZone("JST", 9*3600)

// IncidentBlocks renders the incident message: one message per incident,
// updated in place.
func IncidentBlocks(v IncidentView) (fallback string, blocks []slack.Block) {
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	pt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	fallback = fmt.Sprintf("%s %s — phase %s", v.IncidentID, v.Title, v.Phase)
	blocks = append(blocks,
		slack.NewHeaderBlock(pt(truncate(v.IncidentID+" "+v.Title, 150))),
		slack.NewSectionBlock(md(fmt.Sprintf("*Runbook:* `%s`   *Phase:* %s", v.Runbook, v.Phase)), nil, nil),
	)
	if r := v.Recall; r != nil && r.Total > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(fmt.Sprintf(
			"*Recall* — asked %d/%d · confirmed by phone %d%s · by e-mail %d%s · confirmed %d%s · unreachable %d · closed %d",
			r.Requested, r.Total, r.PhoneConfirmed, delta(r.DeltaPhone), r.EmailConfirmed, delta(r.DeltaEmail),
			r.Confirmed, delta(r.DeltaConfirmed), r.Unreachable, r.Closed)), nil, nil))
	}
	if len(v.Deadlines) > 0 {
		var b strings.Builder
		b.WriteString("*Deadlines*")
		for _, d := range v.Deadlines {
			fmt.Fprintf(&b, "\n• %s — %s (%s)", d.Label, timefmt.Due(d.Due, jst, timefmt.English), d.State)
		}
		blocks = append(blocks, slack.NewSectionBlock(md(b.String()), nil, nil))
		for k, d := range v.Deadlines {
			if k >= MaxListed {
				break
			}
			if d.State == "pending" || d.State == "drafted" || d.State == "overdue" {
				val := ButtonValue{WorkflowID: d.WorkflowID, Item: d.ObligationID}.Encode()
				blocks = append(blocks, slack.NewActionBlock(fmt.Sprintf("filing_%d", k),
					slack.NewButtonBlockElement(ActionRecordFiling, val, pt("Record filing: "+truncate(d.Label, 40))),
					slack.NewButtonBlockElement(ActionNotRequired, val, pt("Not required…"))))
			}
		}
	}
	open := 0
	for _, t := range v.Tasks {
		if t.Done {
			continue
		}
		open++
		if open > MaxListed {
			continue
		}
		due := ""
		if !t.Due.IsZero() {
			due = " — due " + t.Due.In(jst).Format("01-02 15:04 JST")
		}
		blocks = append(blocks, slack.NewSectionBlock(md(fmt.Sprintf("☐ *%s* (%s)%s", t.Title, t.Owner, due)),
			nil, slack.NewAccessory(slack.NewButtonBlockElement(ActionCompleteTask, ButtonValue{WorkflowID: v.WorkflowID, Item: t.ID}.Encode(), pt("Done")))))
	}
	if open > MaxListed {
		blocks = append(blocks, slack.NewContextBlock("", md(fmt.Sprintf("…and %d more open tasks", open-MaxListed))))
	}
	if len(v.Notices) > 0 {
		var b strings.Builder
		b.WriteString("*Notices and letters*")
		start := max(0, len(v.Notices)-MaxListed)
		if start > 0 {
			fmt.Fprintf(&b, "\n…%d earlier", start)
		}
		var steps []slack.BlockElement
		for _, n := range v.Notices[start:] {
			fmt.Fprintf(&b, "\n• %s — %s", n.Label, n.State)
			if n.Counts != "" {
				fmt.Fprintf(&b, " (%s)", n.Counts)
			}
			if btn := demandStep(DemandView{IncidentID: v.IncidentID, DemandID: demandID(n.WorkflowID), WorkflowID: n.WorkflowID, State: n.State}, true); btn != nil {
				steps = append(steps, btn)
			}
		}
		blocks = append(blocks, slack.NewSectionBlock(md(b.String()), nil, nil))
		if len(steps) > 0 {
			blocks = append(blocks, slack.NewActionBlock("letters", steps...))
		}
	}
	for k, r := range v.Unreachable {
		if k >= MaxListed {
			blocks = append(blocks, slack.NewContextBlock("", md(fmt.Sprintf("…and %d more unreachable recipients", len(v.Unreachable)-MaxListed))))
			break
		}
		val := ButtonValue{WorkflowID: r.WorkflowID, Item: r.RecipientID}.Encode()
		blocks = append(blocks,
			slack.NewSectionBlock(md(fmt.Sprintf("⚠ *%s* is unreachable: find another way to reach this person", r.RecipientID)), nil, nil),
			slack.NewActionBlock("unreachable_"+r.RecipientID,
				slack.NewButtonBlockElement(ActionPhoneConfirmed, val, pt("Confirmed by phone")).WithStyle(slack.StylePrimary),
				slack.NewButtonBlockElement(ActionCloseRecipient, val, pt("Close with a reason…"))))
	}
	if p := v.Prevention; p != nil {
		state := "not recorded yet"
		if p.Recorded {
			state = "recorded"
		}
		blocks = append(blocks, slack.NewSectionBlock(md(fmt.Sprintf("*Prevention report* — due %s (%s)", p.Due.In(jst).Format("2006-01-02 JST"), state)), nil, nil))
	}
	if acts := incidentActions(v, pt); len(acts) > 0 {
		blocks = append(blocks, slack.NewActionBlock("incident", acts...))
	}
	if !v.UpdatedAt.IsZero() {
		blocks = append(blocks, slack.NewContextBlock("", md("Updated "+v.UpdatedAt.In(jst).Format("2006-01-02 15:04 JST"))))
	}
	return fallback, blocks
}

// incidentActions are the incident-level buttons of an open incident:
// update the facts, record the prevention report, send the notices, add
// a broker demand, and, last, close the incident.
func incidentActions(v IncidentView, pt func(string) *slack.TextBlockObject) []slack.BlockElement {
	if v.WorkflowID == "" || v.Phase == "closed" {
		return nil
	}
	val := ButtonValue{WorkflowID: v.WorkflowID}.Encode()
	out := []slack.BlockElement{slack.NewButtonBlockElement(ActionUpdateFacts, val, pt("Update facts…"))}
	if p := v.Prevention; p != nil && !p.Recorded {
		out = append(out, slack.NewButtonBlockElement(ActionPreventionReport, val, pt("Record prevention report…")))
	}
	if v.CanSendNotices {
		out = append(out, slack.NewButtonBlockElement(ActionSendNotices, val, pt("Send notices")).WithConfirm(
			slack.NewConfirmationBlockObject(pt("Send notices?"),
				slack.NewTextBlockObject(slack.MarkdownType, "This starts the notice to everyone affected: a test send to the approvers, then their approval of the exact content and list. Nothing goes to the affected people before the approvals.", false, false),
				pt("Start"), pt("Cancel"))))
	}
	if v.CanAddBroker {
		out = append(out, slack.NewButtonBlockElement(ActionAddBroker, val, pt("Add broker…")))
	}
	// Closing ends the response: it opens a form asking why (and whether
	// to stop asking the recipients still being asked) before anything
	// happens.
	out = append(out, slack.NewButtonBlockElement(ActionCloseIncident, val, pt("Close incident…")).WithStyle(slack.StyleDanger))
	return out
}

func delta(d int) string {
	switch {
	case d > 0:
		return fmt.Sprintf(" (+%d)", d)
	case d < 0:
		return fmt.Sprintf(" (%d)", d)
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
