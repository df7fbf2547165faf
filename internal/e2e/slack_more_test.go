//go:build integration

package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// second is another responder and approver, for the two-person rules.
const second = "U0SECOND"

// clickAndOpen presses the button (its value picks which one) and returns
// the modal it opened.
func (s *stack) clickAndOpen(ctx context.Context, user, ts, action string, val slackui.ButtonValue) sandbox.SlackView {
	s.t.Helper()
	before := len(s.sandbox.SlackViews())
	if _, err := s.sandbox.ClickButton(ctx, user, channel, ts, action, val.Encode()); err != nil {
		s.t.Fatal(err)
	}
	waitFor(ctx, s.t, "the modal of "+action, func() bool { return len(s.sandbox.SlackViews()) > before })
	views := s.sandbox.SlackViews()
	return views[len(views)-1]
}

// submitForm submits a modal whose inputs each have the same block and
// action ID, and checks it closed.
func (s *stack) submitForm(ctx context.Context, user string, v sandbox.SlackView, kv map[string]string) {
	s.t.Helper()
	form := map[string]map[string]string{}
	for k, val := range kv {
		form[k] = map[string]string{k: val}
	}
	resp, err := s.sandbox.SubmitView(ctx, user, v.ID, form)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.ViewResponse != nil {
		s.t.Fatalf("submit %s: %s", v.CallbackID, resp.Body)
	}
}

// waitEphemeral waits until user is shown a message containing sub.
func (s *stack) waitEphemeral(ctx context.Context, user, sub string) {
	s.t.Helper()
	waitFor(ctx, s.t, "the message to "+user+": "+sub, func() bool {
		for _, e := range s.sandbox.SlackEphemerals() {
			if e.User == user && strings.Contains(e.Text, sub) {
				return true
			}
		}
		return false
	})
}

// waitReply waits for a reply containing sub in the thread of ts.
func (s *stack) waitReply(ctx context.Context, ts, sub string) {
	s.t.Helper()
	waitFor(ctx, s.t, "the thread reply "+sub, func() bool {
		for _, m := range s.sandbox.SlackMessages() {
			if m.ThreadTS == ts && m.TS != ts && strings.Contains(m.Text, sub) {
				return true
			}
		}
		return false
	})
}

func queryStatus[T any](ctx context.Context, s *stack, workflowID string) T {
	s.t.Helper()
	var st T
	v, err := s.client.QueryWorkflow(ctx, workflowID, "", workflows.QueryStatus)
	if err != nil {
		s.t.Fatalf("query %s: %v", workflowID, err)
	}
	if err := v.Get(&st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

// Issue #6 through Slack: one responder proposes that the APPI final
// report is not required (Not required… on the incident message, the
// proposal modal); the same person's approval is refused by the
// Obligation and shown to them; a second person approves; the obligation
// is not_required with both recorded, and the message changes in place.
func TestSlack_NotRequiredNeedsASecondPerson(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{slackDeclarers: []string{lead, second}, scenario: `
email:
  default: {persona: click, delay: 1s}
`})
	snap, err := runbooks.Builtin("visible-recipients")
	if err != nil {
		t.Fatal(err)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, SlackChannel: channel, DeclaredBy: lead,
		Facts: workflows.Facts{Title: "Member file sent by mistake", WhatLeaked: "names and bank accounts", Persons: 3,
			AwareAt: time.Now().Add(-time.Hour), SensitiveOrFinancial: true, Jurisdictions: []string{"JP-APPI"}}},
		"name,email\nA,a@example.jp\nB,b@example.jp\nC,c@example.jp\n")

	var final workflows.ObligationSummary
	s.waitStatus(ctx, id, "the APPI final report obligation", func(st workflows.IncidentStatus) bool {
		for _, o := range st.Obligations {
			if o.ObligationID == "JP-APPI/final" {
				final = o
				return true
			}
		}
		return false
	})
	val := slackui.ButtonValue{WorkflowID: final.WorkflowID, Item: final.ObligationID}
	msg := s.waitMessage(ctx, "the Not required… button", func(m sandbox.SlackMessage) bool {
		return strings.Contains(string(m.Blocks), slackui.ActionNotRequired) && strings.Contains(string(m.Blocks), final.Title)
	})

	// The lead proposes.
	v := s.clickAndOpen(ctx, lead, msg.TS, slackui.ActionNotRequired, val)
	if v.CallbackID != slackui.CallbackProposeNotRequired {
		t.Fatalf("modal %q, want the proposal", v.CallbackID)
	}
	s.submitForm(ctx, lead, v, map[string]string{slackbot.InputRationale: "the file was encrypted and the key did not leak"})
	waitFor(ctx, t, "the proposal recorded", func() bool {
		return queryStatus[workflows.ObligationStatus](ctx, s, final.WorkflowID).Proposal != nil
	})

	// The lead approves their own proposal: the Obligation refuses.
	v = s.clickAndOpen(ctx, lead, msg.TS, slackui.ActionNotRequired, val)
	if v.CallbackID != slackui.CallbackReviewNotRequired {
		t.Fatalf("modal %q, want the review", v.CallbackID)
	}
	s.submitForm(ctx, lead, v, map[string]string{slackbot.InputDecision: slackbot.DecisionApprove})
	s.waitEphemeral(ctx, lead, "Not done: a second person must review the proposal")
	if st := queryStatus[workflows.ObligationStatus](ctx, s, final.WorkflowID); !st.State.Open() || st.Proposal == nil || st.Proposal.ProposedBy != lead {
		t.Fatalf("after the proposer's own approval: state %s, proposal %+v", st.State, st.Proposal)
	}

	// A second person approves.
	v = s.clickAndOpen(ctx, second, msg.TS, slackui.ActionNotRequired, val)
	s.submitForm(ctx, second, v, map[string]string{slackbot.InputDecision: slackbot.DecisionApprove, slackbot.InputNote: "agreed: Rule 7 does not apply"})
	var obl workflows.ObligationStatus
	waitFor(ctx, t, "the obligation decided not required", func() bool {
		obl = queryStatus[workflows.ObligationStatus](ctx, s, final.WorkflowID)
		return obl.State == workflows.ObligationNotRequired
	})
	if d := obl.NotRequired; d == nil || d.ProposedBy != lead || d.ApprovedBy != second || d.Note != "agreed: Rule 7 does not apply" {
		t.Fatalf("decision %+v", obl.NotRequired)
	}
	s.waitEphemeral(ctx, second, "decided not required")
	s.waitMessage(ctx, "the message updated in place", func(m sandbox.SlackMessage) bool {
		return m.TS == msg.TS && strings.Contains(string(m.Blocks), "(not_required)")
	})
}

// letterEnv configures the worker process for notices and letters: the
// sender of the letters, who gets the test send, which contacts the
// notice may quote.
var letterEnv = map[string]string{
	"BREACHFLOW_ROLES":              approverRoles,
	"BREACHFLOW_PUBLISHED_CONTACTS": "privacy@example.co.jp,0120-123-456",
	"BREACHFLOW_ORG_NAME":           "株式会社サンプル",
	"BREACHFLOW_ORG_POSTAL_CODE":    "100-0005",
	"BREACHFLOW_ORG_ADDRESS":        "東京都千代田区丸の内1-1-1",
	"BREACHFLOW_ORG_DEPARTMENT":     "個人情報保護窓口",
	"BREACHFLOW_CONTACT_PHONE":      "0120-123-456",
	"BREACHFLOW_CONTACT_EMAIL":      "privacy@example.co.jp",
}

// Issue #7 through Slack (seed 002): on the incident message, "Send
// notices" starts broadcast 1 and "Add broker…" starts demand B001, both
// announced in the thread; the demand's notice takes the tracking number
// ("Mailed…"), the incident message the broker's refusal ("Record the
// answer…"), and the escalations close the demand. The broker's name is in
// the letter only, never in Slack.
func TestSlack_NoticesAndBrokerLettersFromTheIncidentMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{slackDeclarers: []string{lead}, scenario: quietScenario, workerProcess: true, env: letterEnv})
	snap, err := runbooks.Builtin("list-broker-resale")
	if err != nil {
		t.Fatal(err)
	}
	affected := affectedList(ctx, t, s, 20, "example.jp")
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, SlackChannel: channel, DeclaredBy: lead, Affected: &affected,
		Facts: workflows.Facts{Title: "Customer list sold to list brokers", WhatLeaked: "names, addresses and phone numbers", Persons: 20,
			AwareAt: time.Now().Add(-2 * time.Hour), Unauthorized: true, Jurisdictions: []string{"JP-APPI"}}}, "")
	incident := slackui.ButtonValue{WorkflowID: id}
	msg := s.waitMessage(ctx, "Send notices and Add broker on the incident message", func(m sandbox.SlackMessage) bool {
		b := string(m.Blocks)
		return strings.Contains(b, slackui.ActionSendNotices) && strings.Contains(b, slackui.ActionAddBroker)
	})

	// Send notices (the confirmation dialog is Slack's, client-side).
	if _, err := s.sandbox.ClickButton(ctx, lead, channel, msg.TS, slackui.ActionSendNotices, incident.Encode()); err != nil {
		t.Fatal(err)
	}
	st := s.waitStatus(ctx, id, "broadcast 1 started", func(st workflows.IncidentStatus) bool { return len(st.Broadcasts) == 1 })
	if b := st.Broadcasts[0]; b.N != 1 || b.StartedBy != lead || b.Purpose != workflows.PurposeNotice {
		t.Fatalf("broadcast %+v", b)
	}
	s.waitReply(ctx, msg.TS, "<@"+lead+"> started broadcast 1: notices to 20 people (the affected list)")
	s.waitEphemeral(ctx, lead, "Broadcast 1 started")

	// Add broker: the modal, then demand B001.
	v := s.clickAndOpen(ctx, lead, msg.TS, slackui.ActionAddBroker, incident)
	if v.CallbackID != slackui.CallbackAddBroker {
		t.Fatalf("modal %q", v.CallbackID)
	}
	const brokerName, brokerAddress = "株式会社名簿センター", "東京都新宿区新宿9-9-9"
	s.submitForm(ctx, lead, v, map[string]string{slackbot.InputBrokerName: brokerName, slackbot.InputBrokerPostalCode: "1600022",
		slackbot.InputBrokerAddress: brokerAddress, slackbot.InputBrokerData: "当社の顧客名簿（氏名・住所・電話番号）"})
	s.waitStatus(ctx, id, "demand B001 started", func(st workflows.IncidentStatus) bool {
		return len(st.BrokerDemands) == 1 && st.BrokerDemands[0].DemandID == "B001"
	})
	s.waitReply(ctx, msg.TS, "<@"+lead+"> started broker demand B001")
	demandWF := workflows.BrokerDemandWorkflowID(id, "B001")
	demand := slackui.ButtonValue{WorkflowID: demandWF, Item: "B001"}

	// The demand's task notice: Mailed…, with the tracking number.
	notice := s.waitMessage(ctx, "the demand's mailing task with its button", func(m sandbox.SlackMessage) bool {
		return m.TS != msg.TS && strings.Contains(string(m.Blocks), slackui.ActionRecordMailing)
	})
	v = s.clickAndOpen(ctx, lead, notice.TS, slackui.ActionRecordMailing, demand)
	mailed := time.Now().In(tokyo).Add(-time.Minute)
	s.submitForm(ctx, lead, v, map[string]string{slackbot.InputTracking: "1234-5678-9012",
		slackbot.InputMailedDate: mailed.Format("2006-01-02"), slackbot.InputMailedTime: mailed.Format("15:04")})
	var ds workflows.BrokerDemandStatus
	waitFor(ctx, t, "the mailing recorded", func() bool {
		ds = queryStatus[workflows.BrokerDemandStatus](ctx, s, demandWF)
		return ds.State == workflows.DemandAwaitingAnswer
	})
	if len(ds.Mailings) != 1 || ds.Mailings[0].TrackingNumber != "1234-5678-9012" || ds.Mailings[0].By != lead {
		t.Fatalf("mailings %+v", ds.Mailings)
	}

	// The answer, from the incident message's letters.
	msg = s.waitMessage(ctx, "B001's answer button on the incident message", func(m sandbox.SlackMessage) bool {
		return m.TS == msg.TS && strings.Contains(string(m.Blocks), slackui.ActionBrokerAnswer)
	})
	v = s.clickAndOpen(ctx, lead, msg.TS, slackui.ActionBrokerAnswer, demand)
	s.submitForm(ctx, lead, v, map[string]string{slackbot.InputOutcome: workflows.AnswerRefused, slackbot.InputNote: "written refusal"})
	waitFor(ctx, t, "the refusal recorded", func() bool {
		ds = queryStatus[workflows.BrokerDemandStatus](ctx, s, demandWF)
		return ds.State == workflows.DemandEscalationNeeded
	})

	// The escalations, from the demand's escalation task.
	notice = s.waitMessage(ctx, "the demand's escalation task with its button", func(m sandbox.SlackMessage) bool {
		return m.TS != msg.TS && strings.Contains(string(m.Blocks), slackui.ActionRecordEscalation)
	})
	for _, to := range []string{workflows.EscalateRegulator, workflows.EscalatePolice} {
		v = s.clickAndOpen(ctx, lead, notice.TS, slackui.ActionRecordEscalation, demand)
		s.submitForm(ctx, lead, v, map[string]string{slackbot.InputEscalateTo: to, slackbot.InputReference: "R-" + to})
		s.waitEphemeral(ctx, lead, "B001 to the "+to+" recorded")
	}
	waitFor(ctx, t, "the demand escalated", func() bool {
		ds = queryStatus[workflows.BrokerDemandStatus](ctx, s, demandWF)
		return ds.State == workflows.DemandEscalated
	})
	if len(ds.Answers) != 1 || ds.Answers[0].Outcome != workflows.AnswerRefused || ds.Answers[0].By != lead || len(ds.Escalations) != 2 {
		t.Fatalf("answers %+v, escalations %+v", ds.Answers, ds.Escalations)
	}

	// The company is named in the letter only.
	for _, m := range s.sandbox.SlackMessages() {
		for _, secret := range []string{"名簿センター", "新宿"} {
			if strings.Contains(m.Text, secret) || strings.Contains(string(m.Blocks), secret) {
				t.Errorf("a Slack message names the broker (%q): %q", secret, m.Text)
			}
		}
	}
	for _, e := range s.sandbox.SlackEphemerals() {
		if strings.Contains(e.Text, "名簿センター") {
			t.Errorf("an ephemeral names the broker: %q", e.Text)
		}
	}
}

// Issue #6's facts change through Slack: "Update facts…" opens the modal
// with the current facts; the unauthorized purpose found (with when)
// moves the APPI final report's deadline, and the change is the lead's.
func TestSlack_FactsChangeMovesTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{slackDeclarers: []string{lead}, scenario: `
email:
  default: {persona: click, delay: 1s}
`})
	snap, err := runbooks.Builtin("visible-recipients")
	if err != nil {
		t.Fatal(err)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, SlackChannel: channel, DeclaredBy: lead,
		Facts: workflows.Facts{Title: "Member file sent by mistake", WhatLeaked: "names and bank accounts", Persons: 3,
			AwareAt: time.Now().Add(-2 * time.Hour), SensitiveOrFinancial: true, Jurisdictions: []string{"JP-APPI"}}},
		"name,email\nA,a@example.jp\nB,b@example.jp\nC,c@example.jp\n")
	finalDue := func(st workflows.IncidentStatus) time.Time {
		for _, o := range st.Obligations {
			if o.ObligationID == "JP-APPI/final" {
				return o.Due
			}
		}
		return time.Time{}
	}
	before := finalDue(s.waitStatus(ctx, id, "the APPI final report's deadline", func(st workflows.IncidentStatus) bool { return !finalDue(st).IsZero() }))
	msg := s.waitMessage(ctx, "the Update facts button", func(m sandbox.SlackMessage) bool {
		return strings.Contains(string(m.Blocks), slackui.ActionUpdateFacts)
	})

	v := s.clickAndOpen(ctx, lead, msg.TS, slackui.ActionUpdateFacts, slackui.ButtonValue{WorkflowID: id})
	if v.CallbackID != slackui.CallbackUpdateFacts || !strings.Contains(string(v.View), "names and bank accounts") {
		t.Fatalf("modal %q without the current facts: %s", v.CallbackID, v.View)
	}
	found := time.Now().In(tokyo).Add(-30 * time.Minute)
	s.submitForm(ctx, lead, v, map[string]string{
		slackbot.InputPersons: "5", slackbot.InputWhatLeaked: "names and bank accounts",
		slackbot.InputSensitive: slackbot.Yes, slackbot.InputUnauthorized: slackbot.Yes,
		slackbot.InputFoundDate: found.Format("2006-01-02"), slackbot.InputFoundTime: found.Format("15:04"),
		slackbot.InputReason: "forensics: the file was taken on purpose",
	})
	st := s.waitStatus(ctx, id, "the facts changed and the deadline moved", func(st workflows.IncidentStatus) bool {
		return st.Facts.Unauthorized && finalDue(st).After(before)
	})
	if st.Facts.Persons != 5 || st.Facts.Title != "Member file sent by mistake" || len(st.Facts.Jurisdictions) != 1 {
		t.Fatalf("facts %+v: the fields the form does not show must be kept", st.Facts)
	}
	t.Logf("final report due %s, then %s", before.In(tokyo), finalDue(st).In(tokyo))
	s.waitEphemeral(ctx, lead, "are changed, as yours")
}
