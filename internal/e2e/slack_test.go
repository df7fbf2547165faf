//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

const (
	lead     = "U0LEAD"
	intruder = "U0INTRUDER"
	channel  = "C0INCIDENT"
)

// Issue #5 end to end: /breach declare (signed, through the front door) ->
// modal -> submission -> Incident started with the Slack user as declarer ->
// one incident message in the channel -> a bounced recipient shows up as
// unreachable with buttons -> an unauthorized click changes nothing -> the
// lead closes the recipient with a reason (modal -> Update) -> the message
// is updated in place.
func TestSlack_DeclareWatchAndSteerAnIncident(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{slackDeclarers: []string{lead}, scenario: `
email:
  default: {persona: click, delay: 1s}
  recipients:
    - {match: "*@bounce.example.jp", persona: bounce}
`})
	ref, _, err := s.store.Put(ctx, strings.NewReader(
		"name,email\nA,a@example.jp\nB,b@example.jp\nC,c@bounce.example.jp\nD,d@example.jp\nE,e@example.jp\n"), recipients.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// Slash command: the modal opens (within the trigger window).
	resp, err := s.sandbox.SlashCommand(ctx, lead, channel, "/breach declare visible-recipients")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("slash command: %v %+v", err, resp)
	}
	views := s.sandbox.SlackViews()
	if len(views) != 1 || views[0].CallbackID != slackui.CallbackDeclare {
		t.Fatalf("views = %+v, want the declare modal", views)
	}
	aware := time.Now().In(tokyo).Add(-time.Hour)
	values := map[string]string{
		slackbot.InputRunbook: "visible-recipients", slackbot.InputTitle: "Newsletter with visible addresses",
		slackbot.InputWhatLeaked: "e-mail addresses", slackbot.InputPersons: "5",
		slackbot.InputAwareDate: aware.Format("2006-01-02"), slackbot.InputAwareTime: aware.Format("15:04"),
		slackbot.InputUnauthorized: slackbot.No, slackbot.InputSensitive: slackbot.No,
		slackbot.InputJurisdictions: "JP-APPI", slackbot.InputList: ref.RefString(),
	}
	form := map[string]map[string]string{}
	for k, v := range values {
		form[k] = map[string]string{k: v}
	}
	if resp, err := s.sandbox.SubmitView(ctx, lead, views[0].ID, form); err != nil || resp.ViewResponse != nil {
		t.Fatalf("submit: %v %s", err, resp.Body)
	}

	id := s.waitIncident(ctx, "visible-recipients")
	st := s.waitStatus(ctx, id, "4 confirmed, the bounce unreachable", func(st workflows.IncidentStatus) bool {
		return st.Recall.Confirmed == 4 && st.Recall.Unreachable == 1
	})
	bounced := st.Unreachable[0]

	// One incident message, showing the unreachable recipient by ID only.
	msg := s.waitMessage(ctx, "the unreachable recipient on the incident message", func(m sandbox.SlackMessage) bool {
		return strings.Contains(string(m.Blocks), bounced+"* is unreachable")
	})
	for _, p := range []string{"a@example.jp", "c@bounce.example.jp"} {
		if strings.Contains(string(msg.Blocks), p) {
			t.Fatalf("the incident message shows personal data %q", p)
		}
	}
	recall := slackui.ButtonValue{WorkflowID: workflows.RecallWorkflowID(id, bounced), Item: bounced}.Encode()

	// Someone not allowed clicks: refused ephemerally, nothing changes.
	before := len(s.sandbox.SlackEphemerals())
	if _, err := s.sandbox.ClickButton(ctx, intruder, channel, msg.TS, slackui.ActionCloseRecipient, recall); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the refusal", func() bool { return len(s.sandbox.SlackEphemerals()) > before })
	if got := len(s.sandbox.SlackViews()); got != 1 {
		t.Fatalf("the intruder got a modal (%d views)", got)
	}

	// The lead closes the recipient with a reason.
	if _, err := s.sandbox.ClickButton(ctx, lead, channel, msg.TS, slackui.ActionCloseRecipient, recall); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the reason modal", func() bool { return len(s.sandbox.SlackViews()) == 2 })
	reasonView := s.sandbox.SlackViews()[1]
	if _, err := s.sandbox.SubmitView(ctx, lead, reasonView.ID, map[string]map[string]string{
		slackbot.InputReason: {slackbot.InputReason: "reached by phone on another number; deleted"},
	}); err != nil {
		t.Fatal(err)
	}
	st = s.waitStatus(ctx, id, "the recipient closed by the lead", func(st workflows.IncidentStatus) bool {
		return st.Recall.ClosedByOperator == 1 && st.Recall.Unreachable == 0
	})
	if st.Phase != workflows.PhaseMonitoring {
		t.Errorf("phase = %s", st.Phase)
	}
	// The Update recorded who closed it.
	v, err := s.client.QueryWorkflow(ctx, workflows.RecallWorkflowID(id, bounced), "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var rs workflows.RecallStatus
	if err := v.Get(&rs); err != nil {
		t.Fatal(err)
	}
	if rs.State != workflows.StateClosedByOperator || rs.ClosedBy != lead || !strings.Contains(rs.Reason, "another number") {
		t.Fatalf("recall = %s by %q (%q)", rs.State, rs.ClosedBy, rs.Reason)
	}
	// The same message, updated in place.
	updated := s.waitMessage(ctx, "the message updated in place", func(m sandbox.SlackMessage) bool {
		return m.TS == msg.TS && !strings.Contains(string(m.Blocks), "is unreachable") && strings.Contains(string(m.Blocks), "closed 1")
	})
	if updated.Updates == 0 {
		t.Error("the incident message was never updated in place")
	}
	top := 0
	for _, m := range s.sandbox.SlackMessages() {
		if m.Channel == channel && m.ThreadTS == "" {
			top++
		}
	}
	if top != 1 {
		t.Errorf("%d top-level messages in the channel, want one incident message", top)
	}
}

// waitIncident finds the incident a Slack declaration started.
func (s *stack) waitIncident(ctx context.Context, runbook string) string {
	s.t.Helper()
	var id string
	waitFor(ctx, s.t, "the declared incident", func() bool {
		resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`WorkflowType = "Incident" AND BreachRunbook = %q AND TaskQueue = %q`, runbook, s.cfg.TaskQueue)})
		if err != nil || len(resp.Executions) == 0 {
			return false
		}
		id = resp.Executions[0].Execution.WorkflowId
		return true
	})
	return id
}

func (s *stack) waitMessage(ctx context.Context, what string, ok func(sandbox.SlackMessage) bool) sandbox.SlackMessage {
	s.t.Helper()
	var found sandbox.SlackMessage
	waitFor(ctx, s.t, what, func() bool {
		for _, m := range s.sandbox.SlackMessages() {
			if m.Channel == channel && m.ThreadTS == "" && ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func waitFor(ctx context.Context, t testing.TB, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var tokyo, _ = time.LoadLocation("Asia/Tokyo")
