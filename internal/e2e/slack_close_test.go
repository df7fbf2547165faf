//go:build integration

package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// A responder closes an incident from Slack mid-recall, while two of its
// five recipients are still being asked (they never answer). Close
// incident… opens a form offering to stop asking those two; submitted
// without that box, the Incident's refusal appears in the form, on the
// box, and nothing changes; ticked, the incident closes: the Incident
// completes with every recipient in a named state (the two closed by the
// close, as the responder's), and the incident message shows it closed,
// without the button.
func TestSlack_CloseIncidentMidRecall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{slackDeclarers: []string{lead}, scenario: `
email:
  default: {persona: click, delay: 1s}
  recipients:
    - {match: "*@silent.example.jp", persona: ignore}
`})
	snap, err := runbooks.Builtin("visible-recipients")
	if err != nil {
		t.Fatal(err)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, SlackChannel: channel, DeclaredBy: lead,
		Facts: workflows.Facts{Title: "Newsletter with visible addresses", WhatLeaked: "e-mail addresses", Persons: 5,
			AwareAt: time.Now().Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}}},
		"name,email\nA,a@example.jp\nB,b@silent.example.jp\nC,c@example.jp\nD,d@silent.example.jp\nE,e@example.jp\n")
	silent := []string{recipients.RecipientID(2), recipients.RecipientID(4)}

	s.waitStatus(ctx, id, "three confirmed, two still being asked", func(st workflows.IncidentStatus) bool {
		return st.Recall.Confirmed == 3 && st.Recall.Requested == 5
	})
	msg := s.waitMessage(ctx, "Close incident… on the incident message", func(m sandbox.SlackMessage) bool {
		return strings.Contains(string(m.Blocks), slackui.ActionCloseIncident) && strings.Contains(string(m.Blocks), "confirmed 3")
	})

	v := s.clickAndOpen(ctx, lead, msg.TS, slackui.ActionCloseIncident, slackui.ButtonValue{WorkflowID: id})
	if v.CallbackID != slackui.CallbackCloseIncident || !strings.Contains(string(v.View), "Stop asking the 2 recipient(s) still in progress") {
		t.Fatalf("modal %q: %s", v.CallbackID, v.View)
	}
	reason := "the three who answered deleted it; the other two are told by post"
	submit := func(stop bool) *sandbox.SlackResponse {
		t.Helper()
		form := map[string]map[string]string{slackbot.InputReason: {slackbot.InputReason: reason}}
		if stop {
			form[slackbot.InputStopRecalls] = map[string]string{slackbot.InputStopRecalls: slackbot.StopRecalls}
		}
		resp, err := s.sandbox.SubmitView(ctx, lead, v.ID, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	// Without the box: refused in the form, nothing changes.
	resp := submit(false)
	if resp.ViewResponse == nil || !strings.Contains(resp.ViewResponse.Errors[slackbot.InputStopRecalls], "2 recipient(s) are still being asked") {
		t.Fatalf("submitted without the box: %s, want the refusal on the box", resp.Body)
	}
	for _, r := range silent {
		if !strings.Contains(resp.ViewResponse.Errors[slackbot.InputStopRecalls], r) {
			t.Errorf("the refusal %q does not name %s", resp.ViewResponse.Errors[slackbot.InputStopRecalls], r)
		}
	}
	if st := queryStatus[workflows.IncidentStatus](ctx, s, id); st.Phase == workflows.PhaseClosed || st.Recall.ClosedByOperator != 0 {
		t.Fatalf("after the refusal: phase %s, %+v", st.Phase, st.Recall)
	}

	// With it: closed.
	if resp := submit(true); resp.ViewResponse != nil {
		t.Fatalf("submitted with the box: %s, want the form closed", resp.Body)
	}
	var res workflows.IncidentResult
	if err := s.client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if r := res.Status.Recall; res.Status.Phase != workflows.PhaseClosed || r.Confirmed != 3 || r.ClosedByOperator != 2 ||
		r.Confirmed+r.Unreachable+r.ClosedByOperator != r.Total {
		t.Fatalf("closed incident: phase %s, recall %+v", res.Status.Phase, r)
	}
	for k := 1; k <= 5; k++ {
		rid := recipients.RecipientID(k)
		rs := queryStatus[workflows.RecallStatus](ctx, s, workflows.RecallWorkflowID(id, rid))
		want := workflows.StateConfirmed
		if rid == silent[0] || rid == silent[1] {
			want = workflows.StateClosedByOperator
			if rs.ClosedBy != lead || !strings.Contains(rs.Reason, reason) {
				t.Errorf("%s closed by %q (%q), want the responder's close", rid, rs.ClosedBy, rs.Reason)
			}
		}
		if rs.State != want {
			t.Errorf("%s is %s, want %s", rid, rs.State, want)
		}
	}
	s.waitEphemeral(ctx, lead, id+" is closed, as yours")
	s.waitReply(ctx, msg.TS, "Stopped asking 2 recipient(s)")
	s.waitMessage(ctx, "the incident message showing it closed", func(m sandbox.SlackMessage) bool {
		return m.TS == msg.TS && strings.Contains(string(m.Blocks), "*Phase:* closed") &&
			!strings.Contains(string(m.Blocks), slackui.ActionCloseIncident)
	})
}
