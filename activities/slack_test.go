package activities_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackui"
)

const slackTestChannel = "C0INCIDENT"

// slackSandbox serves the sandbox's Slack simulator and returns it with a
// real slack-go client pointed at it, using token.
func slackSandbox(t *testing.T, token string) (*sandbox.Sandbox, *slack.Client) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	sb, err := sandbox.New(sandbox.Config{
		EngineURL: "http://127.0.0.1:1", SandboxURL: srv.URL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Scenario: sandbox.Scenario{Slack: sandbox.SlackWorkspace{
			Users:    []sandbox.SlackUser{{ID: "U0LEAD", Name: "lead"}},
			Channels: []sandbox.SlackChannel{{ID: slackTestChannel, Name: "incident", Members: []string{"U0LEAD"}}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h = sb.Handler()
	t.Cleanup(func() { sb.Close(); srv.Close() })
	return sb, slack.New(token, slack.OptionAPIURL(srv.URL+"/slack/api/"))
}

func incidentView(phase string) slackui.IncidentView {
	return slackui.IncidentView{
		IncidentID: "INC-20261121-ABCDEF", WorkflowID: "INC-20261121-ABCDEF", Title: "Order mail to the wrong customers",
		Runbook: "missend", Phase: phase,
		Recall:    &slackui.RecallView{Total: 53, Requested: 53, PhoneConfirmed: 12, EmailConfirmed: 30, Confirmed: 40},
		Tasks:     []slackui.TaskView{{ID: "T1", Title: "Stop the mailing job", Owner: "infra"}},
		UpdatedAt: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC),
	}
}

func TestIncidentMessageIsPostedOnceThenUpdatedInPlace(t *testing.T) {
	sb, api := slackSandbox(t, sandbox.SlackBotToken)
	a := &activities.Activities{Slack: api}
	ctx := context.Background()

	ref, err := a.PostIncidentMessage(ctx, activities.IncidentMessage{Channel: slackTestChannel, View: incidentView("recall")})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Channel != slackTestChannel || ref.TS == "" {
		t.Fatalf("ref %+v", ref)
	}
	again, err := a.PostIncidentMessage(ctx, activities.IncidentMessage{Channel: slackTestChannel, Ref: &ref, View: incidentView("monitoring")})
	if err != nil {
		t.Fatal(err)
	}
	if again != ref {
		t.Errorf("update moved the message: %+v, want %+v", again, ref)
	}
	msgs := sb.SlackMessages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages in the channel, want the one incident message", len(msgs))
	}
	m := msgs[0]
	if m.Updates != 1 {
		t.Errorf("%d updates, want 1", m.Updates)
	}
	if !strings.Contains(string(m.Blocks), "monitoring") || strings.Contains(string(m.Blocks), "*Phase:* recall") {
		t.Errorf("blocks do not show the new phase: %s", m.Blocks)
	}
	if !strings.Contains(m.Text, "INC-20261121-ABCDEF") {
		t.Errorf("fallback text %q: want the incident ID", m.Text)
	}
	if !strings.Contains(string(m.Blocks), slackui.ActionCompleteTask) {
		t.Errorf("blocks lack the task button: %s", m.Blocks)
	}
}

func TestDeletedIncidentMessageIsPostedAgain(t *testing.T) {
	sb, api := slackSandbox(t, sandbox.SlackBotToken)
	a := &activities.Activities{Slack: api}
	gone := activities.SlackMessageRef{Channel: slackTestChannel, TS: "1700000000.000001"}
	ref, err := a.PostIncidentMessage(context.Background(), activities.IncidentMessage{Channel: slackTestChannel, Ref: &gone, View: incidentView("recall")})
	if err != nil {
		t.Fatal(err)
	}
	if ref.TS == gone.TS || ref.TS == "" {
		t.Errorf("ref %+v: want a new message", ref)
	}
	if _, ok := sb.SlackMessage(slackTestChannel, ref.TS); !ok {
		t.Error("the new message is not in the channel")
	}
}

func TestThreadReplyGoesUnderTheIncidentMessage(t *testing.T) {
	sb, api := slackSandbox(t, sandbox.SlackBotToken)
	a := &activities.Activities{Slack: api}
	ctx := context.Background()
	ref, err := a.PostIncidentMessage(ctx, activities.IncidentMessage{Channel: slackTestChannel, View: incidentView("recall")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PostThreadReply(ctx, activities.ThreadReply{Ref: ref, Text: "R00007 is unreachable"}); err != nil {
		t.Fatal(err)
	}
	msgs := sb.SlackMessages()
	if len(msgs) != 2 || msgs[1].ThreadTS != ref.TS || msgs[1].Text != "R00007 is unreachable" {
		t.Errorf("messages %+v: want the reply in the thread of %s", msgs, ref.TS)
	}
}

// retryability describes how Temporal will treat an activity error.
func retryability(err error) (retryable bool, typ string, delay time.Duration) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return !appErr.NonRetryable(), appErr.Type(), appErr.NextRetryDelay()
	}
	return true, "", 0
}

func TestSlackErrorsAreClassifiedForRetries(t *testing.T) {
	type result struct {
		retryable bool
		typ       string
		delay     time.Duration
	}
	// Through the sandbox.
	sandboxCases := []struct {
		name  string
		token string
		do    func(a *activities.Activities) error
		want  result
	}{
		{"invalid token", "xoxb-revoked", func(a *activities.Activities) error {
			_, err := a.PostIncidentMessage(context.Background(), activities.IncidentMessage{Channel: slackTestChannel, View: incidentView("recall")})
			return err
		}, result{false, activities.ErrTypeSlackAuth, 0}},
		{"unknown channel", sandbox.SlackBotToken, func(a *activities.Activities) error {
			_, err := a.PostIncidentMessage(context.Background(), activities.IncidentMessage{Channel: "C0NOSUCH", View: incidentView("recall")})
			return err
		}, result{false, activities.ErrTypeSlackChannel, 0}},
		{"reply to a message that does not exist", sandbox.SlackBotToken, func(a *activities.Activities) error {
			return a.PostThreadReply(context.Background(), activities.ThreadReply{
				Ref: activities.SlackMessageRef{Channel: slackTestChannel, TS: "1700000000.000009"}, Text: "x"})
		}, result{false, activities.ErrTypeRejected, 0}},
	}
	for _, tt := range sandboxCases {
		t.Run(tt.name, func(t *testing.T) {
			_, api := slackSandbox(t, tt.token)
			err := tt.do(&activities.Activities{Slack: api})
			if err == nil {
				t.Fatal("no error")
			}
			if r, typ, d := retryability(err); (result{r, typ, d}) != tt.want {
				t.Errorf("retryable %v, type %q, delay %v; want %+v (%v)", r, typ, d, tt.want, err)
			}
		})
	}

	// Answers the sandbox does not script: a fake Slack answering one way.
	scripted := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   result
	}{
		{"rate limited", http.StatusTooManyRequests, map[string]string{"Retry-After": "7"}, `{"ok":false,"error":"ratelimited"}`,
			result{true, activities.ErrTypeSlackRateLimited, 7 * time.Second}},
		{"server error", http.StatusServiceUnavailable, nil, "upstream down", result{true, "", 0}},
		{"bot not in the channel", http.StatusOK, nil, `{"ok":false,"error":"not_in_channel"}`, result{false, activities.ErrTypeSlackChannel, 0}},
		{"archived channel", http.StatusOK, nil, `{"ok":false,"error":"is_archived"}`, result{false, activities.ErrTypeSlackChannel, 0}},
		{"blocks refused", http.StatusOK, nil, `{"ok":false,"error":"invalid_blocks"}`, result{false, activities.ErrTypeRejected, 0}},
		{"Slack's own hiccup", http.StatusOK, nil, `{"ok":false,"error":"internal_error"}`, result{true, "", 0}},
		{"bad request", http.StatusBadRequest, nil, "bad", result{false, activities.ErrTypeRejected, 0}},
	}
	for _, tt := range scripted {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			a := &activities.Activities{Slack: slack.New("xoxb-test", slack.OptionAPIURL(srv.URL+"/"))}
			ref := activities.SlackMessageRef{Channel: slackTestChannel, TS: "1700000000.000001"}
			for _, op := range []struct {
				name string
				do   func() error
			}{
				{"post", func() error {
					_, err := a.PostIncidentMessage(context.Background(), activities.IncidentMessage{Channel: slackTestChannel, View: incidentView("recall")})
					return err
				}},
				{"update", func() error {
					_, err := a.PostIncidentMessage(context.Background(), activities.IncidentMessage{Channel: slackTestChannel, Ref: &ref, View: incidentView("recall")})
					return err
				}},
				{"reply", func() error {
					return a.PostThreadReply(context.Background(), activities.ThreadReply{Ref: ref, Text: "x"})
				}},
			} {
				err := op.do()
				if err == nil {
					t.Fatalf("%s: no error", op.name)
				}
				if r, typ, d := retryability(err); (result{r, typ, d}) != tt.want {
					t.Errorf("%s: retryable %v, type %q, delay %v; want %+v (%v)", op.name, r, typ, d, tt.want, err)
				}
			}
		})
	}
}
