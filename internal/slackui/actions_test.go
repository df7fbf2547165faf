package slackui_test

import (
	"slices"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/slackui"
)

// An open obligation offers "Record filing" and "Not required…", both on
// the obligation's workflow; a filed or not-required one offers neither.
func TestOpenObligationsOfferFilingAndNotRequired(t *testing.T) {
	due := time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)
	v := slackui.IncidentView{IncidentID: "INC-1", WorkflowID: "INC-1", Phase: "closed", Deadlines: []slackui.DeadlineView{
		{ObligationID: "JP-APPI/prompt", WorkflowID: "INC-1/obligation/JP-APPI/prompt", Label: "prompt", Due: due, State: "filed"},
		{ObligationID: "JP-APPI/final", WorkflowID: "INC-1/obligation/JP-APPI/final", Label: "final", Due: due, State: "overdue"},
		{ObligationID: "EU-GDPR/art33", WorkflowID: "INC-1/obligation/EU-GDPR/art33", Label: "art33", Due: due, State: "not_required"},
	}}
	_, blocks := slackui.IncidentBlocks(v)
	ids, values := buttons(blocks)
	if want := []string{slackui.ActionRecordFiling, slackui.ActionNotRequired}; !slices.Equal(ids, want) {
		t.Fatalf("buttons %v, want %v", ids, want)
	}
	for _, val := range values {
		if val.WorkflowID != "INC-1/obligation/JP-APPI/final" || val.Item != "JP-APPI/final" {
			t.Errorf("button value %+v, want the overdue obligation", val)
		}
	}
}

// The incident-level buttons follow what the runbook offers and where the
// incident stands; "Close incident…" comes last while the incident is
// open, and a closed incident offers none.
func TestIncidentActionsFollowTheRunbookAndThePhase(t *testing.T) {
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    slackui.IncidentView
		want []string
	}{
		{"a runbook with nothing more", slackui.IncidentView{Phase: "recall"},
			[]string{slackui.ActionUpdateFacts, slackui.ActionCloseIncident}},
		{"a prevention report due", slackui.IncidentView{Phase: "monitoring", Prevention: &slackui.PreventionView{Due: due}},
			[]string{slackui.ActionUpdateFacts, slackui.ActionPreventionReport, slackui.ActionCloseIncident}},
		{"the prevention report recorded", slackui.IncidentView{Phase: "monitoring", Prevention: &slackui.PreventionView{Due: due, Recorded: true}},
			[]string{slackui.ActionUpdateFacts, slackui.ActionCloseIncident}},
		{"notices and broker letters", slackui.IncidentView{Phase: "monitoring", CanSendNotices: true, CanAddBroker: true},
			[]string{slackui.ActionUpdateFacts, slackui.ActionSendNotices, slackui.ActionAddBroker, slackui.ActionCloseIncident}},
		{"closed", slackui.IncidentView{Phase: "closed", CanSendNotices: true, CanAddBroker: true, Prevention: &slackui.PreventionView{Due: due}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.IncidentID, tt.v.WorkflowID = "INC-1", "INC-1"
			_, blocks := slackui.IncidentBlocks(tt.v)
			ids, values := buttons(blocks)
			if !slices.Equal(ids, tt.want) {
				t.Fatalf("buttons %v, want %v", ids, tt.want)
			}
			for _, val := range values {
				if val.WorkflowID != "INC-1" {
					t.Errorf("button value %+v, want the incident", val)
				}
			}
		})
	}
}

// "Close incident…" is on the incident message in every phase until the
// incident is closed, acting on the Incident itself; it opens a form, so
// it needs no confirmation dialog of its own.
func TestCloseIncidentIsOfferedUntilTheIncidentIsClosed(t *testing.T) {
	for _, phase := range []string{"declared", "recall", "monitoring", "closed"} {
		t.Run(phase, func(t *testing.T) {
			_, blocks := slackui.IncidentBlocks(slackui.IncidentView{IncidentID: "INC-1", WorkflowID: "INC-1", Phase: phase})
			var found *slack.ButtonBlockElement
			for _, b := range blocks {
				if ab, ok := b.(*slack.ActionBlock); ok {
					for _, e := range ab.Elements.ElementSet {
						if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == slackui.ActionCloseIncident {
							found = btn
						}
					}
				}
			}
			if phase == "closed" {
				if found != nil {
					t.Fatal("a closed incident offers Close incident…")
				}
				return
			}
			if found == nil {
				t.Fatal("no Close incident… button")
			}
			if v, err := slackui.DecodeButtonValue(found.Value); err != nil || v != (slackui.ButtonValue{WorkflowID: "INC-1"}) {
				t.Errorf("button value %+v (%v), want the incident", v, err)
			}
			if found.Text.Text != "Close incident…" || found.Style != slack.StyleDanger {
				t.Errorf("button %q (style %q)", found.Text.Text, found.Style)
			}
		})
	}
}

// "Send notices" asks for confirmation before anything starts.
func TestSendNoticesAsksForConfirmation(t *testing.T) {
	_, blocks := slackui.IncidentBlocks(slackui.IncidentView{IncidentID: "INC-1", WorkflowID: "INC-1", Phase: "monitoring", CanSendNotices: true})
	for _, b := range blocks {
		ab, ok := b.(*slack.ActionBlock)
		if !ok {
			continue
		}
		for _, e := range ab.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == slackui.ActionSendNotices {
				if btn.Confirm == nil {
					t.Fatal("Send notices has no confirmation dialog")
				}
				return
			}
		}
	}
	t.Fatal("no Send notices button")
}

// A broker demand's notice carries the button of the step its state
// awaits, naming the demand by its opaque ID only.
func TestDemandNoticesOfferTheAwaitedStep(t *testing.T) {
	tests := []struct {
		state string
		want  []string
	}{
		{"awaiting_mailing", []string{slackui.ActionRecordMailing}},
		{"awaiting_answer", []string{slackui.ActionBrokerAnswer}},
		{"escalation_pending", []string{slackui.ActionRecordEscalation}},
		{"complied", nil},
		{"escalated", nil},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			v := slackui.DemandView{IncidentID: "INC-1", DemandID: "B001", WorkflowID: "INC-1/broker/B001", State: tt.state}
			fallback, blocks := slackui.DemandNoticeBlocks("[INC-1/broker/B001] Send the letter", v)
			if fallback != "[INC-1/broker/B001] Send the letter" {
				t.Errorf("fallback %q", fallback)
			}
			ids, values := buttons(blocks)
			if !slices.Equal(ids, tt.want) {
				t.Fatalf("buttons %v, want %v", ids, tt.want)
			}
			for _, val := range values {
				if val != (slackui.ButtonValue{WorkflowID: "INC-1/broker/B001", Item: "B001"}) {
					t.Errorf("button value %+v", val)
				}
			}
		})
	}
}

// The incident message lists the letters with the button of the step each
// awaits (the broadcasts have their own message); the button names the
// demand by its opaque ID.
func TestIncidentMessageOffersEachLettersAwaitedStep(t *testing.T) {
	v := slackui.IncidentView{IncidentID: "INC-1", WorkflowID: "INC-1", Phase: "closed", Notices: []slackui.NoticeView{
		{WorkflowID: "INC-1/broadcast/1", Label: "Notice 1", State: "awaiting_approval (1 of 2)", Total: 100},
		{WorkflowID: "INC-1/broker/B001", Label: "Letter B001", State: "awaiting_mailing"},
		{WorkflowID: "INC-1/broker/B002", Label: "Letter B002", State: "awaiting_answer"},
		{WorkflowID: "INC-1/broker/B003", Label: "Letter B003", State: "complied"},
		{WorkflowID: "INC-1/broker/B004", Label: "Letter B004", State: "escalation_pending"},
	}}
	_, blocks := slackui.IncidentBlocks(v)
	ids, values := buttons(blocks)
	if want := []string{slackui.ActionRecordMailing, slackui.ActionBrokerAnswer, slackui.ActionRecordEscalation}; !slices.Equal(ids, want) {
		t.Fatalf("buttons %v, want %v", ids, want)
	}
	for k, id := range []string{"B001", "B002", "B004"} {
		if values[k] != (slackui.ButtonValue{WorkflowID: "INC-1/broker/" + id, Item: id}) {
			t.Errorf("button %d value %+v", k, values[k])
		}
	}
}
