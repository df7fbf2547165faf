//go:build integration

package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sdkpb "go.temporal.io/api/sdk/v1"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Issue #6 end to end: facts that trigger JP-APPI (sensitive data) open
// Obligation workflows with durable clocks; the incident shows their
// deadlines (search attribute, current details, the Slack message); the
// final report's filing is recorded through the Slack button and modal,
// with the filer's Slack ID, and the message changes in place.
func TestObligations_APPIDeadlinesShownAndFiledFromSlack(t *testing.T) {
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
	aware := time.Now().Add(-time.Hour)
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, SlackChannel: channel, DeclaredBy: lead,
		Facts: workflows.Facts{Title: "Member file sent by mistake", WhatLeaked: "names and bank accounts", Persons: 3,
			AwareAt: aware, SensitiveOrFinancial: true, Jurisdictions: []string{"JP-APPI"}}},
		"name,email\nA,a@example.jp\nB,b@example.jp\nC,c@example.jp\n")

	var final workflows.ObligationSummary
	st := s.waitStatus(ctx, id, "the APPI final report obligation", func(st workflows.IncidentStatus) bool {
		for _, o := range st.Obligations {
			if o.ObligationID == "JP-APPI/final" && !o.Due.IsZero() {
				final = o
				return true
			}
		}
		return false
	})
	// Day 1 is the day of awareness (JST); the final report is due at the
	// end of day 30.
	jst := time.FixedZone("JST", 9*3600)
	a := aware.In(jst)
	wantDue := time.Date(a.Year(), a.Month(), a.Day()+29, 23, 59, 59, 0, jst)
	if !final.Due.Equal(wantDue) {
		t.Errorf("final report due %s, want %s", final.Due.In(jst), wantDue)
	}
	t.Logf("obligations: %d", len(st.Obligations))

	// The manager's view: the next deadline as a search attribute, and the
	// obligations in the current details (the UI's "Current Details").
	waitFor(ctx, t, "BreachNextDeadline and the obligations in the current details", func() bool {
		desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
		if err != nil || desc.WorkflowExecutionInfo.GetSearchAttributes().GetIndexedFields()["BreachNextDeadline"] == nil {
			return false
		}
		v, err := s.client.QueryWorkflow(ctx, id, "", "__temporal_workflow_metadata")
		if err != nil {
			return false
		}
		var md sdkpb.WorkflowMetadata
		if err := v.Get(&md); err != nil {
			return false
		}
		return strings.Contains(md.GetCurrentDetails(), final.Title) && strings.Contains(md.GetCurrentDetails(), wantDue.Format("2006-01-02 15:04"))
	})

	// The Slack message shows the deadline with a "Record filing" button.
	msg := s.waitMessage(ctx, "the final report on the incident message", func(m sandbox.SlackMessage) bool {
		return strings.Contains(string(m.Blocks), "Record filing") && strings.Contains(string(m.Blocks), final.Title)
	})
	val := slackui.ButtonValue{WorkflowID: final.WorkflowID, Item: final.ObligationID}.Encode()
	before := len(s.sandbox.SlackViews())
	if _, err := s.sandbox.ClickButton(ctx, lead, channel, msg.TS, slackui.ActionRecordFiling, val); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the filing modal", func() bool { return len(s.sandbox.SlackViews()) > before })
	view := s.sandbox.SlackViews()[len(s.sandbox.SlackViews())-1]
	filed := time.Now().In(jst).Add(-time.Minute)
	form := map[string]map[string]string{
		slackbot.InputFiledDate:     {slackbot.InputFiledDate: filed.Format("2006-01-02")},
		slackbot.InputFiledTime:     {slackbot.InputFiledTime: filed.Format("15:04")},
		slackbot.InputReference:     {slackbot.InputReference: "PPC-2026-000123"},
		slackbot.InputFilingChannel: {slackbot.InputFilingChannel: "PPC web form"},
	}
	if resp, err := s.sandbox.SubmitView(ctx, lead, view.ID, form); err != nil || resp.ViewResponse != nil {
		t.Fatalf("submit filing: %v %s", err, resp.Body)
	}
	st = s.waitStatus(ctx, id, "the final report filed", func(st workflows.IncidentStatus) bool {
		for _, o := range st.Obligations {
			if o.ObligationID == "JP-APPI/final" {
				return o.State == workflows.ObligationFiled
			}
		}
		return false
	})
	// The filing, with who filed it, is in the Obligation's status.
	v, err := s.client.QueryWorkflow(ctx, final.WorkflowID, "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var obl workflows.ObligationStatus
	if err := v.Get(&obl); err != nil {
		t.Fatal(err)
	}
	if obl.Filing == nil || obl.Filing.Reference != "PPC-2026-000123" || obl.Filing.By != lead {
		t.Fatalf("filing = %+v", obl.Filing)
	}
	s.waitMessage(ctx, "the message updated with the filing", func(m sandbox.SlackMessage) bool {
		return m.TS == msg.TS && strings.Contains(string(m.Blocks), "(filed)")
	})
}
