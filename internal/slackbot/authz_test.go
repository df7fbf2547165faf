package slackbot_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
)

func TestParseAllowlist(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{" , ,", nil, ""},
		{"S0RESP", []string{"S0RESP"}, ""},
		{"C0INCIDENT, G0PRIVATE ,U0ALICE,W0ENTERPRISE,S0RESP", []string{"C0INCIDENT", "G0PRIVATE", "U0ALICE", "W0ENTERPRISE", "S0RESP"}, ""},
		{"U0ALICE,U0ALICE", []string{"U0ALICE"}, ""},
		{"alice", nil, `"alice" is not a Slack ID`},
		{"#incident", nil, `"#incident" is not a Slack ID`},
		{"@breach-responders", nil, "not a Slack ID"},
		{"u0alice", nil, "not a Slack ID"},
		{"D0DIRECT", nil, "not a Slack ID"},
	}
	for _, tt := range tests {
		got, err := slackbot.ParseAllowlist(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAllowlist(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseAllowlist(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"BREACHFLOW_SLACK_DECLARERS": "S0RESP,C0INCIDENT", "BREACHFLOW_SLACK_APPROVERS": "U0DPO"}
	c, err := slackbot.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Declarers, []string{"S0RESP", "C0INCIDENT"}) || !slices.Equal(c.Approvers, []string{"U0DPO"}) {
		t.Errorf("declarers %v, approvers %v", c.Declarers, c.Approvers)
	}
	env["BREACHFLOW_SLACK_APPROVERS"] = "dpo@example.com"
	if _, err := slackbot.ConfigFromEnv(func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "BREACHFLOW_SLACK_APPROVERS") {
		t.Errorf("error %v: want it to name the variable", err)
	}
}

func TestNewRefusesAMalformedAllowlist(t *testing.T) {
	_, err := slackbot.New(slackbot.Config{Slack: slack.New("x"), Temporal: &fakeTemporal{}, Declarers: []string{"alice"}})
	if err == nil {
		t.Error("New accepted a declarer that is not a Slack ID")
	}
}

func countSlackCalls(h *harness, method string) int {
	n := 0
	for _, c := range h.sb.SlackCalls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

func TestChannelMembershipIsPagedAndCached(t *testing.T) {
	o := defaultOptions()
	o.extraUsers = 1500 // bob is the 1,501st member of C0APPROVERS: on the second page
	h := newHarness(t, o)
	_, bts := h.postIncidentMessage()
	approve := func() {
		t.Helper()
		h.click(bob, bts, slackui.ActionApproveBroadcast)
		h.bot.Wait()
	}

	approve()
	if n := len(h.callsOf("UpdateWorkflow")); n != 1 {
		t.Fatalf("%d updates: bob, a member of the approvers' channel, was not allowed (%q)", n, h.ephemeralsTo(bob))
	}
	if n := countSlackCalls(h, "conversations.members"); n != 2 {
		t.Errorf("%d conversations.members calls, want 2 pages", n)
	}

	h.clock.Advance(30 * time.Second)
	approve()
	if n := countSlackCalls(h, "conversations.members"); n != 2 {
		t.Errorf("%d conversations.members calls after 30 s, want the cached 2", n)
	}

	h.clock.Advance(31 * time.Second)
	approve()
	if n := countSlackCalls(h, "conversations.members"); n != 4 {
		t.Errorf("%d conversations.members calls after the 60 s TTL, want 4 (looked up again)", n)
	}
	if n := len(h.callsOf("UpdateWorkflow")); n != 3 {
		t.Errorf("%d updates, want 3", n)
	}
}

func TestGroupMembershipIsCachedAcrossConcurrentRequests(t *testing.T) {
	h := newHarness(t, defaultOptions())
	done := make(chan struct{})
	for range 10 {
		go func() {
			defer func() { done <- struct{}{} }()
			h.slash(alice, "list")
		}()
	}
	for range 10 {
		<-done
	}
	h.bot.Wait()
	if n := countSlackCalls(h, "usergroups.users.list"); n != 1 {
		t.Errorf("%d usergroups.users.list calls for 10 concurrent requests, want 1", n)
	}
	if n := len(h.callsOf("ListWorkflow")); n != 10 {
		t.Errorf("%d lists, want 10", n)
	}
}

func TestFailedMembershipLookupRefuses(t *testing.T) {
	o := defaultOptions()
	o.declarers = []string{"S0GONE"} // the sandbox answers no_such_subteam
	h := newHarness(t, o)
	got := ackText(t, h.slash(alice, "declare"))
	if !strings.Contains(got, "Could not check whether you may do this") {
		t.Errorf("answer %q: want a refusal that says the check failed", got)
	}
	if n := len(h.sb.SlackViews()); n != 0 {
		t.Errorf("%d modals opened", n)
	}
}
