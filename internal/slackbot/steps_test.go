package slackbot_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

const demandWF = incidentID + "/broker/B001"

// postDemandNotices posts one notice of demand B001 in each state that
// awaits a human step, as the BrokerDemand does; it returns their
// timestamps by state.
func (h *harness) postDemandNotices() map[workflows.BrokerDemandState]string {
	h.t.Helper()
	a := &activities.Activities{Slack: h.api}
	out := map[workflows.BrokerDemandState]string{}
	for _, st := range []workflows.BrokerDemandState{workflows.DemandAwaitingMailing, workflows.DemandAwaitingAnswer, workflows.DemandEscalationNeeded} {
		ref, err := a.PostTaskNotice(context.Background(), activities.TaskNotice{Channel: incidentChannel, Text: "[" + demandWF + "] " + string(st),
			Demand: &slackui.DemandView{IncidentID: incidentID, DemandID: "B001", WorkflowID: demandWF, State: string(st)}})
		if err != nil {
			h.t.Fatal(err)
		}
		out[st] = ref.TS
	}
	return out
}

// form is a modal's values, each input's block and action ID being the
// same.
func form(kv map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, v := range kv {
		out[k] = map[string]string{k: v}
	}
	return out
}

// submit submits the modal and returns the in-modal errors (nil when the
// modal closed).
func (h *harness) submit(user, viewID string, kv map[string]string) map[string]string {
	h.t.Helper()
	resp, err := h.sb.SubmitView(context.Background(), user, viewID, form(kv))
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.ViewResponse == nil {
		return nil
	}
	if len(resp.ViewResponse.Errors) == 0 {
		h.t.Fatalf("answer %s: neither closed nor errors", resp.Body)
	}
	return resp.ViewResponse.Errors
}

// onlyUpdate returns the one Update sent.
func (h *harness) onlyUpdate() call {
	h.t.Helper()
	h.bot.Wait()
	updates := h.callsOf("UpdateWorkflow")
	if len(updates) != 1 {
		h.t.Fatalf("%d updates, want 1: %+v", len(updates), updates)
	}
	return updates[0]
}

func wantUpdate(t *testing.T, got call, workflowID, name string, arg any) {
	t.Helper()
	if got.WorkflowID != workflowID || got.Name != name || !reflect.DeepEqual(got.Arg, arg) {
		t.Errorf("update %s on %s with %+v,\nwant %s on %s with %+v", got.Name, got.WorkflowID, got.Arg, name, workflowID, arg)
	}
	if !strings.HasPrefix(got.UpdateID, "slack:") {
		t.Errorf("update ID %q: want one derived from the click or the modal", got.UpdateID)
	}
}

// invalid submits each bad form and checks the error lands on its input
// and that nothing reaches Temporal's Updates.
func (h *harness) invalid(user, viewID string, bad []badForm) {
	h.t.Helper()
	for _, b := range bad {
		errs := h.submit(user, viewID, b.values)
		if errs[b.block] == "" {
			h.t.Errorf("%s: errors %v, want one on %s", b.name, errs, b.block)
		}
	}
	h.bot.Wait()
	if n := len(h.callsOf("UpdateWorkflow")); n != 0 {
		h.t.Fatalf("invalid forms reached Temporal (%d updates)", n)
	}
}

type badForm struct {
	name   string
	values map[string]string
	block  string
}

func obligation(state workflows.ObligationState, proposal *workflows.NotRequiredDecision) workflows.ObligationStatus {
	return workflows.ObligationStatus{IncidentID: incidentID, ObligationID: "JP-APPI-final", WorkflowID: filingWF,
		Title: "確報 (final report)", Audience: "PPC", State: state, Due: time.Date(2026, 12, 21, 0, 0, 0, 0, jst), Proposal: proposal}
}

// A responder proposes that an obligation is not required (the rationale
// is required, in the modal); an approver then reviews the open proposal
// (a rejection needs a note). The button opens the right form for the
// obligation's state.
func TestNotRequiredIsProposedThenReviewed(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.temporal.queries = map[string]any{filingWF: obligation(workflows.ObligationPending, nil)}

	h.click(alice, its, slackui.ActionNotRequired)
	v := h.lastView()
	if v.CallbackID != slackui.CallbackProposeNotRequired {
		t.Fatalf("modal %q, want the proposal", v.CallbackID)
	}
	h.invalid(alice, v.ID, []badForm{{"no rationale", map[string]string{slackbot.InputRationale: "  "}, slackbot.InputRationale}})
	if errs := h.submit(alice, v.ID, map[string]string{slackbot.InputRationale: "the leaked file was encrypted; the key did not leak"}); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	wantUpdate(t, h.onlyUpdate(), filingWF, workflows.UpdateProposeNotRequired,
		workflows.NotRequiredProposal{By: alice, Rationale: "the leaked file was encrypted; the key did not leak"})
	if got := h.ephemeralsTo(alice); !containsAny(got, "Another person must approve") {
		t.Errorf("ephemerals %q", got)
	}

	// The proposal is open: the same button opens its review.
	h2 := newHarness(t, defaultOptions())
	its, _ = h2.postIncidentMessage()
	h2.temporal.queries = map[string]any{filingWF: obligation(workflows.ObligationPending,
		&workflows.NotRequiredDecision{ProposedBy: alice, Rationale: "the leaked file was encrypted"})}
	h2.click(bob, its, slackui.ActionNotRequired)
	v = h2.lastView()
	if v.CallbackID != slackui.CallbackReviewNotRequired {
		t.Fatalf("modal %q, want the review", v.CallbackID)
	}
	// JSON escapes < and >.
	if !strings.Contains(string(v.View), `\u003c@`+alice+`\u003e proposes`) || !strings.Contains(string(v.View), "the leaked file was encrypted") {
		t.Errorf("the review does not show who proposed what: %s", v.View)
	}
	h2.invalid(bob, v.ID, []badForm{
		{"no decision", map[string]string{slackbot.InputNote: "x"}, slackbot.InputDecision},
		{"a rejection without a note", map[string]string{slackbot.InputDecision: slackbot.DecisionReject, slackbot.InputNote: " "}, slackbot.InputNote},
	})
	if errs := h2.submit(bob, v.ID, map[string]string{slackbot.InputDecision: slackbot.DecisionApprove}); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	wantUpdate(t, h2.onlyUpdate(), filingWF, workflows.UpdateReviewNotRequired, workflows.NotRequiredReview{By: bob, Approve: true})
	if got := h2.ephemeralsTo(bob); !containsAny(got, "decided not required") {
		t.Errorf("ephemerals %q", got)
	}
}

// The Obligation refuses a review by the proposer; the refusal is shown to
// them as the validator wrote it.
func TestTheProposersOwnReviewIsRefusedByTheWorkflow(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.temporal.queries = map[string]any{filingWF: obligation(workflows.ObligationPending,
		&workflows.NotRequiredDecision{ProposedBy: bob, Rationale: "encrypted"})}
	h.temporal.updateErr = temporal.NewApplicationError("a second person must review the proposal: the proposer cannot approve or reject their own", "")
	h.click(bob, its, slackui.ActionNotRequired)
	if errs := h.submit(bob, h.lastView().ID, map[string]string{slackbot.InputDecision: slackbot.DecisionApprove}); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	got := h.ephemeralsTo(bob)
	if !containsAny(got, "Not done: a second person must review the proposal") || containsAny(got, "decided not required") {
		t.Errorf("ephemerals %q: want the validator's refusal only", got)
	}
}

func TestNotRequiredWhenThereIsNothingToDecide(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*fakeTemporal)
		told  string
	}{
		{"already filed", func(f *fakeTemporal) {
			f.queries = map[string]any{filingWF: obligation(workflows.ObligationFiled, nil)}
		},
			"already filed"},
		{"Temporal does not answer", func(f *fakeTemporal) { f.queryErr = context.DeadlineExceeded }, "did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, defaultOptions())
			its, _ := h.postIncidentMessage()
			tt.setup(h.temporal)
			h.click(alice, its, slackui.ActionNotRequired)
			if got := h.ephemeralsTo(alice); !containsAny(got, tt.told) {
				t.Errorf("ephemerals %q, want %q", got, tt.told)
			}
			if n := len(h.sb.SlackViews()); n != 0 {
				t.Errorf("%d modals opened", n)
			}
			if n := len(h.callsOf("UpdateWorkflow")); n != 0 {
				t.Errorf("%d updates", n)
			}
		})
	}
}

// Who may press each new button: a refused user gets no modal and
// changes nothing.
func TestNewButtonsCheckWhoPressesThem(t *testing.T) {
	proposed := &workflows.NotRequiredDecision{ProposedBy: carol, Rationale: "encrypted"}
	tests := []struct {
		name     string
		user     string
		action   string
		demand   workflows.BrokerDemandState // the demand notice's button; "" = the incident message's
		proposal *workflows.NotRequiredDecision
		told     string
	}{
		{"a stranger proposes not required", mallory, slackui.ActionNotRequired, "", nil, "needs a responder"},
		{"an approver who is not a responder proposes", bob, slackui.ActionNotRequired, "", nil, "needs a responder"},
		{"a responder reviews a proposal", alice, slackui.ActionNotRequired, "", proposed, "needs an approver"},
		{"a responder records the prevention report", alice, slackui.ActionPreventionReport, "", nil, "needs an approver"},
		{"a stranger updates the facts", mallory, slackui.ActionUpdateFacts, "", nil, "needs a responder"},
		{"a stranger sends the notices", mallory, slackui.ActionSendNotices, "", nil, "needs a responder"},
		{"a stranger adds a broker", mallory, slackui.ActionAddBroker, "", nil, "needs a responder"},
		{"a stranger records a mailing", mallory, slackui.ActionRecordMailing, workflows.DemandAwaitingMailing, nil, "needs a responder"},
		{"a stranger records an answer", mallory, slackui.ActionBrokerAnswer, workflows.DemandAwaitingAnswer, nil, "needs a responder"},
		{"a responder records an escalation", alice, slackui.ActionRecordEscalation, workflows.DemandEscalationNeeded, nil, "needs an approver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, defaultOptions())
			ts, _ := h.postIncidentMessage()
			if tt.demand != "" {
				ts = h.postDemandNotices()[tt.demand]
			}
			h.temporal.queries = map[string]any{filingWF: obligation(workflows.ObligationPending, tt.proposal)}
			h.temporal.status = workflows.IncidentStatus{IncidentID: incidentID, Phase: workflows.PhaseRecall}
			h.click(tt.user, ts, tt.action)
			got := h.ephemeralsTo(tt.user)
			if !containsAny(got, tt.told) || !containsAny(got, "othing was changed") {
				t.Errorf("ephemerals %q: want %q and that nothing changed", got, tt.told)
			}
			if n := len(h.callsOf("UpdateWorkflow")); n != 0 {
				t.Errorf("%d updates for a refused user", n)
			}
			if n := len(h.sb.SlackViews()); n != 0 {
				t.Errorf("%d modals opened for a refused user", n)
			}
		})
	}
}

func TestPreventionReportAsksWhenAndWhere(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.click(bob, its, slackui.ActionPreventionReport)
	v := h.lastView()
	if v.CallbackID != slackui.CallbackPreventionReport {
		t.Fatalf("modal %q", v.CallbackID)
	}
	report := func(date, hm, ref, note string) map[string]string {
		return map[string]string{slackbot.InputSubmittedDate: date, slackbot.InputSubmittedTime: hm,
			slackbot.InputReference: ref, slackbot.InputNote: note}
	}
	h.invalid(bob, v.ID, []badForm{
		{"submitted in the future", report("2026-11-22", "09:00", "DOC-7", ""), slackbot.InputSubmittedDate},
		{"no reference", report("2026-11-20", "09:00", " ", ""), slackbot.InputReference},
		{"no time", report("2026-11-20", "", "DOC-7", ""), slackbot.InputSubmittedTime},
	})
	if errs := h.submit(bob, v.ID, report("2026-11-20", "09:00", "DOC-7", "sent to the PPC with the final report")); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	wantUpdate(t, h.onlyUpdate(), incidentID, workflows.UpdateRecordPreventionReport, workflows.PreventionReport{By: bob, Reference: "DOC-7",
		SubmittedAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Note: "sent to the PPC with the final report"})
}

// The facts modal shows the current facts; the change keeps what the form
// does not show, and says when the unauthorized purpose was found.
func TestUpdateFactsStartsFromTheCurrentFacts(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	aware := time.Date(2026, 11, 12, 9, 30, 0, 0, jst)
	current := workflows.Facts{Title: "Member file sent by mistake", WhatLeaked: "names and order numbers", Persons: 53,
		AwareAt: aware.UTC(), Jurisdictions: []string{"JP-APPI"}}
	h.temporal.status = workflows.IncidentStatus{IncidentID: incidentID, Phase: workflows.PhaseRecall, Facts: current}

	h.click(alice, its, slackui.ActionUpdateFacts)
	v := h.lastView()
	if v.CallbackID != slackui.CallbackUpdateFacts {
		t.Fatalf("modal %q", v.CallbackID)
	}
	for _, want := range []string{`"initial_value":"53"`, `"initial_value":"names and order numbers"`} {
		if !strings.Contains(string(v.View), want) {
			t.Errorf("the modal does not show the current facts (%s): %s", want, v.View)
		}
	}
	facts := func(persons, unauthorized, foundDate, foundTime, reason string) map[string]string {
		return map[string]string{slackbot.InputPersons: persons, slackbot.InputWhatLeaked: "names, order numbers and card numbers",
			slackbot.InputSensitive: slackbot.Yes, slackbot.InputUnauthorized: unauthorized,
			slackbot.InputFoundDate: foundDate, slackbot.InputFoundTime: foundTime, slackbot.InputReason: reason}
	}
	h.invalid(alice, v.ID, []badForm{
		{"negative persons", facts("-1", slackbot.No, "", "", "recount"), slackbot.InputPersons},
		{"no reason", facts("60", slackbot.No, "", "", " "), slackbot.InputReason},
		{"found before the organisation was aware", facts("60", slackbot.Yes, "2026-11-11", "10:00", "forensics"), slackbot.InputFoundDate},
		{"found in the future", facts("60", slackbot.Yes, "2026-11-22", "10:00", "forensics"), slackbot.InputFoundDate},
	})
	if errs := h.submit(alice, v.ID, facts("60", slackbot.Yes, "2026-11-20", "10:00", "forensics: the file was sold")); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	want := current
	want.Persons, want.WhatLeaked, want.SensitiveOrFinancial, want.Unauthorized = 60, "names, order numbers and card numbers", true, true
	wantUpdate(t, h.onlyUpdate(), incidentID, workflows.UpdateFacts, workflows.FactsChange{Facts: want,
		Reason: "forensics: the file was sold", By: alice, UnauthorizedPurposeFoundAt: time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)})
	if got := h.ephemeralsTo(alice); !containsAny(got, "facts of "+incidentID+" are changed") {
		t.Errorf("ephemerals %q", got)
	}
}

func TestTheFactsOfAClosedIncidentAreFinal(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.temporal.status = workflows.IncidentStatus{IncidentID: incidentID, Phase: workflows.PhaseClosed}
	h.click(alice, its, slackui.ActionUpdateFacts)
	if got := h.ephemeralsTo(alice); !containsAny(got, "facts are final") {
		t.Errorf("ephemerals %q", got)
	}
	if n := len(h.sb.SlackViews()); n != 0 {
		t.Errorf("%d modals opened", n)
	}
}

// threadReplies returns the messages posted under ts.
func (h *harness) threadReplies(ts string) []string {
	h.bot.Wait()
	var out []string
	for _, m := range h.sb.SlackMessages() {
		if m.ThreadTS == ts && m.TS != ts {
			out = append(out, m.Text)
		}
	}
	return out
}

func TestSendNoticesStartsABroadcastAndSaysSoInTheThread(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.temporal.updateResult = workflows.BroadcastStarted{N: 1, WorkflowID: broadcastWF, List: "affected", Recipients: 120}
	h.click(alice, its, slackui.ActionSendNotices)
	wantUpdate(t, h.onlyUpdate(), incidentID, workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: alice})
	if got := h.ephemeralsTo(alice); !containsAny(got, "Broadcast 1 started") {
		t.Errorf("ephemerals %q", got)
	}
	if got := h.threadReplies(its); !containsAny(got, "<@"+alice+"> started broadcast 1: notices to 120 people (the affected list)") {
		t.Errorf("thread %q", got)
	}
}

func TestARefusedStartIsToldAndNotAnnounced(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.temporal.updateErr = temporal.NewApplicationError("broadcast 1 is still running", "")
	h.click(alice, its, slackui.ActionSendNotices)
	if got := h.ephemeralsTo(alice); !containsAny(got, "Not done: broadcast 1 is still running") {
		t.Errorf("ephemerals %q", got)
	}
	if got := h.threadReplies(its); len(got) != 0 {
		t.Errorf("thread %q: a refused start was announced", got)
	}
}

// The broker's name and address go to the workflow only: Slack shows the
// demand's opaque ID.
func TestAddBrokerStartsADemandNamedByItsIDOnly(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.click(alice, its, slackui.ActionAddBroker)
	v := h.lastView()
	if v.CallbackID != slackui.CallbackAddBroker {
		t.Fatalf("modal %q", v.CallbackID)
	}
	broker := func(name, postal, address string) map[string]string {
		return map[string]string{slackbot.InputBrokerName: name, slackbot.InputBrokerPostalCode: postal, slackbot.InputBrokerAddress: address}
	}
	h.invalid(alice, v.ID, []badForm{
		{"no name", broker(" ", "", "東京都新宿区新宿9-9-9"), slackbot.InputBrokerName},
		{"a malformed postal code", broker("株式会社名簿センター", "16-00022", "東京都新宿区新宿9-9-9"), slackbot.InputBrokerPostalCode},
		{"no address", broker("株式会社名簿センター", "", ""), slackbot.InputBrokerAddress},
	})
	h.temporal.updateResult = workflows.BrokerDemandAdded{DemandID: "B001", WorkflowID: demandWF}
	values := broker("株式会社名簿センター", "1600022", "東京都新宿区新宿9-9-9")
	values[slackbot.InputBrokerRepresentative] = "代表取締役 山田太郎"
	values[slackbot.InputBrokerData] = "当社の顧客名簿"
	if errs := h.submit(alice, v.ID, values); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	wantUpdate(t, h.onlyUpdate(), incidentID, workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: alice,
		Broker: letters.Party{Name: "株式会社名簿センター", Representative: "代表取締役 山田太郎", PostalCode: "160-0022", Address: "東京都新宿区新宿9-9-9"},
		Data:   "当社の顧客名簿"})
	if got := h.ephemeralsTo(alice); !containsAny(got, "Demand B001 started") {
		t.Errorf("ephemerals %q", got)
	}
	if got := h.threadReplies(its); !containsAny(got, "started broker demand B001") {
		t.Errorf("thread %q", got)
	}
	for _, m := range h.sb.SlackMessages() {
		for _, secret := range []string{"名簿センター", "新宿", "山田"} {
			if strings.Contains(m.Text, secret) || strings.Contains(string(m.Blocks), secret) {
				t.Errorf("a Slack message names the broker (%q): %q", secret, m.Text)
			}
		}
	}
	for _, e := range h.sb.SlackEphemerals() {
		if strings.Contains(e.Text, "名簿センター") {
			t.Errorf("an ephemeral names the broker: %q", e.Text)
		}
	}
}

// A broker demand's notices: mailed (the tracking number is checked in the
// modal), the answer, the escalation.
func TestBrokerDemandStepsFromItsNotices(t *testing.T) {
	t.Run("mailed", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		ts := h.postDemandNotices()[workflows.DemandAwaitingMailing]
		h.click(carol, ts, slackui.ActionRecordMailing)
		v := h.lastView()
		if v.CallbackID != slackui.CallbackRecordMailing {
			t.Fatalf("modal %q", v.CallbackID)
		}
		mailed := func(tn, date, hm string) map[string]string {
			return map[string]string{slackbot.InputTracking: tn, slackbot.InputMailedDate: date, slackbot.InputMailedTime: hm}
		}
		h.invalid(carol, v.ID, []badForm{
			{"too few digits", mailed("12345", "2026-11-21", "10:00"), slackbot.InputTracking},
			{"letters", mailed("AB123456789JP", "2026-11-21", "10:00"), slackbot.InputTracking},
			{"mailed in the future", mailed("1234-5678-9012", "2026-11-21", "13:00"), slackbot.InputMailedDate},
		})
		if errs := h.submit(carol, v.ID, mailed("１２３４－５６７８－９０１２", "2026-11-21", "10:00")); errs != nil {
			t.Fatalf("errors %v", errs)
		}
		wantUpdate(t, h.onlyUpdate(), demandWF, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "1234-5678-9012",
			MailedAt: time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC), By: carol})
		if got := h.ephemeralsTo(carol); !containsAny(got, "demand B001 recorded") {
			t.Errorf("ephemerals %q", got)
		}
	})
	t.Run("answer", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		ts := h.postDemandNotices()[workflows.DemandAwaitingAnswer]
		h.click(alice, ts, slackui.ActionBrokerAnswer)
		v := h.lastView()
		h.invalid(alice, v.ID, []badForm{{"no outcome", map[string]string{slackbot.InputNote: "phoned"}, slackbot.InputOutcome}})
		if errs := h.submit(alice, v.ID, map[string]string{slackbot.InputOutcome: workflows.AnswerRefused, slackbot.InputNote: "written refusal of 12-03"}); errs != nil {
			t.Fatalf("errors %v", errs)
		}
		wantUpdate(t, h.onlyUpdate(), demandWF, workflows.UpdateRecordBrokerAnswer,
			workflows.BrokerAnswer{Outcome: workflows.AnswerRefused, Note: "written refusal of 12-03", By: alice})
		if got := h.ephemeralsTo(alice); !containsAny(got, "refused. Next: report to the regulator") {
			t.Errorf("ephemerals %q", got)
		}
	})
	t.Run("escalation", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		ts := h.postDemandNotices()[workflows.DemandEscalationNeeded]
		h.click(bob, ts, slackui.ActionRecordEscalation)
		v := h.lastView()
		h.invalid(bob, v.ID, []badForm{{"nobody", map[string]string{slackbot.InputReference: "X"}, slackbot.InputEscalateTo}})
		if errs := h.submit(bob, v.ID, map[string]string{slackbot.InputEscalateTo: workflows.EscalatePolice, slackbot.InputReference: "新宿署 受理 2026-118"}); errs != nil {
			t.Fatalf("errors %v", errs)
		}
		wantUpdate(t, h.onlyUpdate(), demandWF, workflows.UpdateRecordEscalation,
			workflows.Escalation{To: workflows.EscalatePolice, Reference: "新宿署 受理 2026-118", By: bob})
	})
}

// The incident-level steps also have slash commands, for when the
// incident message is far up the channel.
func TestIncidentStepsBySlashCommand(t *testing.T) {
	t.Run("broker opens the form", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		if got := ackText(t, h.slash(alice, "broker "+incidentID)); got != "" {
			t.Errorf("answer %q, want the modal", got)
		}
		if v := h.lastView(); v.CallbackID != slackui.CallbackAddBroker || !strings.Contains(v.PrivateMetadata, incidentID) {
			t.Errorf("modal %q (%s)", v.CallbackID, v.PrivateMetadata)
		}
	})
	t.Run("facts opens the form", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		h.temporal.status = workflows.IncidentStatus{IncidentID: incidentID, Phase: workflows.PhaseRecall,
			Facts: workflows.Facts{Persons: 3, WhatLeaked: "names", AwareAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}}
		ackText(t, h.slash(alice, "facts "+incidentID))
		if v := h.lastView(); v.CallbackID != slackui.CallbackUpdateFacts {
			t.Errorf("modal %q", v.CallbackID)
		}
	})
	t.Run("notices starts the broadcast", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		h.temporal.updateResult = workflows.BroadcastStarted{N: 2, List: "given", Recipients: 7}
		if got := ackText(t, h.slash(alice, "notices "+incidentID)); !strings.Contains(got, "Starting") {
			t.Errorf("answer %q", got)
		}
		wantUpdate(t, h.onlyUpdate(), incidentID, workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: alice})
		if got := h.ephemeralsTo(alice); !containsAny(got, "Broadcast 2 started") {
			t.Errorf("ephemerals %q", got)
		}
	})
	t.Run("prevention needs an approver", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		ackText(t, h.slash(alice, "prevention "+incidentID))
		if got := h.ephemeralsTo(alice); !containsAny(got, "needs an approver") {
			t.Errorf("ephemerals %q", got)
		}
		if n := len(h.sb.SlackViews()); n != 0 {
			t.Errorf("%d modals", n)
		}
	})
	t.Run("a malformed incident ID", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		if got := ackText(t, h.slash(alice, "broker")); !strings.Contains(got, "Usage") {
			t.Errorf("answer %q", got)
		}
	})
}
