package slackbot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/workflows"
)

func TestHelp(t *testing.T) {
	h := newHarness(t, defaultOptions())
	for _, text := range []string{"help", "", "frobnicate"} {
		got := ackText(t, h.slash(mallory, text))
		for _, want := range []string{"declare", "status", "list", "help"} {
			if !strings.Contains(got, "/breach "+want) {
				t.Errorf("/breach %s answered %q: want it to explain %q", text, got, want)
			}
		}
	}
	if n := len(h.temporal.Calls()); n != 0 {
		t.Errorf("help called Temporal %d times", n)
	}
}

var sampleStatus = workflows.IncidentStatus{
	IncidentID: incidentID, Runbook: "missend", Title: "Order confirmation sent to the wrong customers",
	Phase: workflows.PhaseRecall, DeclaredAt: time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC),
	Recall: workflows.RecallCounts{Total: 53, Requested: 40, Confirmed: 30, PhoneConfirmed: 12, EmailConfirmed: 25, Pending: 13, Unreachable: 2},
}

func TestStatusAnswersAtOnceWhenTemporalIsQuick(t *testing.T) {
	h := newHarness(t, defaultOptions())
	h.temporal.status = sampleStatus
	got := ackText(t, h.slash(alice, "status "+incidentID))
	for _, want := range []string{incidentID, "phase *recall*", "asked 40/53", "confirmed 30", "unreachable 2", "2026-11-21 10:00 JST"} {
		if !strings.Contains(got, want) {
			t.Errorf("status %q: want %q", got, want)
		}
	}
	q := h.callsOf("QueryWorkflow")
	if len(q) != 1 || q[0].WorkflowID != incidentID || q[0].Name != workflows.QueryStatus {
		t.Errorf("queries %+v, want one %q on %s", q, workflows.QueryStatus, incidentID)
	}
}

func TestStatusAnswersThroughTheResponseURLWhenTemporalIsSlow(t *testing.T) {
	o := defaultOptions()
	o.syncWait = 100 * time.Millisecond
	h := newHarness(t, o)
	h.temporal.status = sampleStatus
	h.temporal.delay = 400 * time.Millisecond
	got := ackText(t, h.slash(alice, "status "+incidentID))
	if !strings.Contains(got, "Looking up") {
		t.Errorf("acknowledgement %q, want a holding answer", got)
	}
	h.bot.Wait()
	posts := h.sb.SlackResponseURLPosts()
	if len(posts) != 1 {
		t.Fatalf("%d response_url posts, want 1", len(posts))
	}
	var m slackbot.Message
	if err := json.Unmarshal(posts[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	if m.ResponseType != "ephemeral" || !strings.Contains(m.Text, "asked 40/53") {
		t.Errorf("late answer %+v, want the ephemeral status", m)
	}
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		user  string
		setup func(*fakeTemporal)
		want  string
		calls int
	}{
		{"no incident ID", "status", alice, nil, "Usage", 0},
		{"an ID with spaces", "status INC 1", alice, nil, "Usage", 0},
		{"unknown incident", "status INC-20261121-ZZZZZZ", alice,
			func(f *fakeTemporal) { f.queryErr = serviceerror.NewNotFound("workflow not found") }, "no such workflow", 1},
		{"a stranger asks", "status " + incidentID, mallory, nil, "not allowed", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, defaultOptions())
			if tt.setup != nil {
				tt.setup(h.temporal)
			}
			if got := ackText(t, h.slash(tt.user, tt.text)); !strings.Contains(got, tt.want) {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			if n := len(h.temporal.Calls()); n != tt.calls {
				t.Errorf("%d Temporal calls, want %d", n, tt.calls)
			}
		})
	}
}

func TestListShowsOpenIncidentsFromVisibility(t *testing.T) {
	h := newHarness(t, defaultOptions())
	exec := func(id, runbook, phase string) *workflowpb.WorkflowExecutionInfo {
		return &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: id},
			SearchAttributes: keywordAttrs(t, map[string]string{
				workflows.SARunbook.GetName(): runbook, workflows.SAPhase.GetName(): phase}),
		}
	}
	h.temporal.list = &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{
		exec(incidentID, "missend", workflows.PhaseRecall),
		exec("INC-20261120-QRSTUV", "insider-exfiltration", workflows.PhaseMonitoring),
	}}
	got := ackText(t, h.slash(carol, "list"))
	for _, want := range []string{
		"*" + incidentID + "* — runbook `missend` · phase recall",
		"*INC-20261120-QRSTUV* — runbook `insider-exfiltration` · phase monitoring",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("list %q: want line %q", got, want)
		}
	}
	l := h.callsOf("ListWorkflow")
	if len(l) != 1 || l[0].Query != "WorkflowType = 'Incident' AND ExecutionStatus = 'Running'" {
		t.Errorf("visibility queries %+v", l)
	}
}

func TestListWithNoOpenIncidents(t *testing.T) {
	h := newHarness(t, defaultOptions())
	if got := ackText(t, h.slash(alice, "list")); got != "No open incidents." {
		t.Errorf("answer %q", got)
	}
}

// TestAnswersWhileTemporalHangs: whatever Temporal does, every request is
// acknowledged. The fake Temporal never returns, so an answer at all proves
// the acknowledgement does not wait for Temporal; how fast it comes is
// measured by BenchmarkSlashCommandAck, not asserted here.
func TestAnswersWhileTemporalHangs(t *testing.T) {
	h := newHarness(t, defaultOptions())
	h.temporal.hang = true
	its, bts := h.postIncidentMessage()
	ctx := context.Background()

	tests := []struct {
		name string
		do   func() (status int, body string)
		want string
	}{
		{"status", func() (int, string) {
			r := h.slash(alice, "status "+incidentID)
			return r.StatusCode, ackText(t, r)
		}, "Looking up"},
		{"list", func() (int, string) {
			r := h.slash(alice, "list")
			return r.StatusCode, ackText(t, r)
		}, "Looking up"},
		{"declaration submitted", func() (int, string) {
			viewID := h.openDeclare(alice, "")
			r, err := h.sb.SubmitView(ctx, alice, viewID, validDeclaration())
			if err != nil {
				t.Fatal(err)
			}
			return r.StatusCode, string(r.Body)
		}, ""},
		{"task completed", func() (int, string) {
			r, err := h.sb.ClickButton(ctx, alice, incidentChannel, its, "bf_complete_task", "")
			if err != nil {
				t.Fatal(err)
			}
			return r.StatusCode, string(r.Body)
		}, ""},
		{"broadcast approved", func() (int, string) {
			r, err := h.sb.ClickButton(ctx, bob, incidentChannel, bts, "bf_approve_broadcast", "")
			if err != nil {
				t.Fatal(err)
			}
			return r.StatusCode, string(r.Body)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := tt.do()
			if status != 200 || !strings.Contains(body, tt.want) {
				t.Errorf("answer %d %q, want 200 with %q", status, body, tt.want)
			}
		})
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(h.temporal.Calls()) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(h.temporal.Calls()); n != 5 {
		t.Errorf("%d Temporal calls under way, want 5 (one per request)", n)
	}
}

// A response_url is followed only to Slack's hooks (here, the sandbox's),
// and only for an authorized user: a request naming another address gets
// its late answer as an ephemeral message, and that address is never
// contacted.
func TestResponseURLFollowedOnlyToSlackAfterAuthorization(t *testing.T) {
	var hits atomic.Int32
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(local.Close)
	for _, tc := range []struct {
		name      string
		user      string
		url       func(h *harness) string
		followed  bool
		ephemeral bool
	}{
		{"the sandbox's hook, authorized", alice, func(h *harness) string { return sandbox.SlackResponseURLBase(h.sbURL) + "abc" }, true, false},
		{"a local address", alice, func(*harness) string { return local.URL + "/slack/hooks/response/abc" }, false, true},
		{"user information before the host", alice, func(h *harness) string {
			return strings.Replace(sandbox.SlackResponseURLBase(h.sbURL), "http://", "http://u:p@", 1) + "abc"
		}, false, true},
		{"a path that climbs out of the hooks", alice, func(h *harness) string {
			return sandbox.SlackResponseURLBase(h.sbURL) + "../../api/chat.postMessage"
		}, false, true},
		{"another path of the same host", alice, func(h *harness) string { return h.sbURL + "/slack/api/chat.postMessage" }, false, true},
		{"another scheme", alice, func(h *harness) string {
			return strings.Replace(sandbox.SlackResponseURLBase(h.sbURL), "http://", "https://", 1) + "abc"
		}, false, true},
		{"the sandbox's hook, user not allowed", mallory, func(h *harness) string { return sandbox.SlackResponseURLBase(h.sbURL) + "abc" }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOptions()
			o.syncWait = 50 * time.Millisecond
			h := newHarness(t, o)
			h.temporal.status = sampleStatus
			h.temporal.delay = 300 * time.Millisecond
			before := hits.Load()
			if _, err := h.sb.SlashCommandWithResponseURL(context.Background(), tc.user, incidentChannel, "/breach status "+incidentID, tc.url(h)); err != nil {
				t.Fatal(err)
			}
			h.bot.Wait()
			if got := hits.Load() - before; got != 0 {
				t.Errorf("the local address was contacted %d times", got)
			}
			if followed := len(h.sb.SlackResponseURLPosts()) > 0; followed != tc.followed {
				t.Errorf("response_url followed = %v, want %v", followed, tc.followed)
			}
			if tc.ephemeral && !containsAny(h.ephemeralsTo(tc.user), "asked 40/53") {
				t.Errorf("the late answer was not told ephemerally: %q", h.ephemeralsTo(tc.user))
			}
		})
	}
}
