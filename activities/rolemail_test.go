package activities_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/roles"
)

// memMailer records what it is asked to send; fail decides per address.
type memMailer struct {
	mu   sync.Mutex
	sent []*mail.SGMailV3
	fail func(to string) error
}

func (m *memMailer) Send(_ context.Context, msg *mail.SGMailV3) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	to := msg.Personalizations[0].To[0].Address
	if m.fail != nil {
		if err := m.fail(to); err != nil {
			return "", err
		}
	}
	m.sent = append(m.sent, msg)
	return "msg-" + to[:1], nil
}

func (m *memMailer) recipients() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, s := range m.sent {
		for _, p := range s.Personalizations {
			for _, t := range p.To {
				out = append(out, t.Address)
			}
			if len(p.To) != 1 || len(p.CC) != 0 || len(p.BCC) != 0 {
				out = append(out, "MORE THAN ONE RECIPIENT")
			}
		}
	}
	return out
}

// quietActivityEnv is an activity test environment that logs only errors.
func quietActivityEnv() *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1}))))
	return s.NewTestActivityEnvironment()
}

// failFor fails sends to one address with err.
func failFor(addr string, err error) func(string) error {
	return func(to string) error {
		if to == addr {
			return err
		}
		return nil
	}
}

func roleMailer(t *testing.T, m activities.Mailer) *activities.RoleMailer {
	t.Helper()
	d, err := roles.Parse("legal=a@example.com,b@example.com,c@example.com;management=ceo@example.com")
	require.NoError(t, err)
	return &activities.RoleMailer{Roles: d, Mail: m, Sender: activities.FromAddress{Name: "breachflow", Email: "security@example.com"}}
}

var legalMsg = activities.RoleMessage{IncidentID: "INC-20261112-SEED00", Role: "legal", Subject: "[INC] reminder", Text: "確報 due 2026-12-11"}

func TestEmailRole(t *testing.T) {
	transient := errors.New("sendgrid mail send: server error 503")
	refused := temporal.NewNonRetryableApplicationError("sendgrid refused the mail: HTTP 400", activities.ErrTypeRejected, nil)
	rateLimited := temporal.NewApplicationErrorWithOptions("sendgrid rate limited (429)", "RateLimited",
		temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second})
	tests := []struct {
		name      string
		msg       activities.RoleMessage
		fail      func(to string) error
		resume    *activities.RoleMailResult // heartbeat of an earlier attempt
		wantTo    []string
		want      activities.RoleMailResult
		wantErr   string
		errorType string
		retryIn   time.Duration // SendGrid's reset time, kept for Temporal's retry
	}{
		{name: "every holder, one message each", msg: legalMsg,
			wantTo: []string{"a@example.com", "b@example.com", "c@example.com"},
			want:   activities.RoleMailResult{Role: "legal", Sent: 3, MessageIDs: []string{"msg-a", "msg-b", "msg-c"}}},
		{name: "nobody holds the role", msg: activities.RoleMessage{Role: "privacy-officer"},
			wantErr: `nobody holds role "privacy-officer"`, errorType: activities.ErrTypeNoRoleAddress},
		{name: "a provider failure stops for a retry", msg: legalMsg,
			fail:    failFor("b@example.com", transient),
			wantTo:  []string{"a@example.com"},
			wantErr: "e-mail role legal, holder 2 of 3"},
		{name: "a rate limit keeps SendGrid's reset time for the retry", msg: legalMsg,
			fail:    failFor("b@example.com", rateLimited),
			wantTo:  []string{"a@example.com"},
			wantErr: "e-mail role legal, holder 2 of 3", errorType: "RateLimited", retryIn: 7 * time.Second},
		{name: "a retry resumes after the holders already mailed", msg: legalMsg,
			resume: &activities.RoleMailResult{Role: "legal", Sent: 1, MessageIDs: []string{"msg-a"}},
			wantTo: []string{"b@example.com", "c@example.com"},
			want:   activities.RoleMailResult{Role: "legal", Sent: 3, MessageIDs: []string{"msg-a", "msg-b", "msg-c"}}},
		{name: "a refused address does not stop the others", msg: legalMsg,
			fail:   failFor("a@example.com", refused),
			wantTo: []string{"b@example.com", "c@example.com"},
			want:   activities.RoleMailResult{Role: "legal", Sent: 2, Refused: 1, MessageIDs: []string{"msg-b", "msg-c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memMailer{fail: tt.fail}
			rm := roleMailer(t, m)
			env := quietActivityEnv()
			env.RegisterActivity(rm)
			if tt.resume != nil {
				env.SetHeartbeatDetails(*tt.resume)
			}
			v, err := env.ExecuteActivity(rm.EmailRole, tt.msg)
			require.Equal(t, tt.wantTo, m.recipients())
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "@example.com", "errors name no address")
				if tt.errorType != "" {
					var appErr *temporal.ApplicationError
					require.ErrorAs(t, err, &appErr)
					require.Equal(t, tt.errorType, appErr.Type())
					require.Equal(t, tt.retryIn, appErr.NextRetryDelay())
				}
				return
			}
			require.NoError(t, err)
			var got activities.RoleMailResult
			require.NoError(t, v.Get(&got))
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEmailRole_MessageCarriesTheTextAndNoOtherAddress(t *testing.T) {
	m := &memMailer{}
	rm := roleMailer(t, m)
	env := quietActivityEnv()
	env.RegisterActivity(rm)
	_, err := env.ExecuteActivity(rm.EmailRole, legalMsg)
	require.NoError(t, err)
	for _, msg := range m.sent {
		require.Equal(t, "[INC] reminder", msg.Subject)
		require.Equal(t, "security@example.com", msg.From.Address)
		require.Equal(t, "確報 due 2026-12-11", msg.Content[0].Value)
		require.Equal(t, "INC-20261112-SEED00", msg.CustomArgs[activities.ArgIncidentID])
		body := string(mail.GetRequestBody(msg))
		require.Equal(t, 1, strings.Count(body, "@example.com")-strings.Count(body, "security@example.com"),
			"only the one holder's address")
	}
}
