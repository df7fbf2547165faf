package activities_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
)

type oneRecipient struct{}

func (oneRecipient) Get(context.Context, recipients.ListRef, string) (recipients.Recipient, error) {
	return recipients.Recipient{ID: "R00001", Email: "a@example.jp"}, nil
}

// A provider's answer reaches Temporal with its classification: a 4xx is
// not retried, a 429 is retried after the provider's delay, a 5xx is
// retried. (An application error wrapped in another error would lose all
// three: the SDK reads them only from the top error.)
func TestEmailDeletionRequestClassifiesProviderAnswers(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		wantRetryable bool
		wantType      string
	}{
		{"400 is final", http.StatusBadRequest, false, activities.ErrTypeRejected},
		{"401 is final", http.StatusUnauthorized, false, activities.ErrTypeRejected},
		{"429 is retried later", http.StatusTooManyRequests, true, "RateLimited"},
		{"503 is retried", http.StatusServiceUnavailable, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			links, _ := linktoken.NewSigner("0123456789abcdef0123456789abcdef")
			a := &activities.Activities{Mail: &activities.SendGridMailer{APIKey: "SG.x", Host: srv.URL}, Lists: oneRecipient{}, Links: links, PublicURL: "https://x.example"}
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			_, err := env.ExecuteActivity(a.EmailDeletionRequest, activities.DeletionRequest{RecipientID: "R00001", RecallWorkflowID: "w", Attempt: 1})
			if err == nil {
				t.Fatal("want an error")
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				if tt.wantType != "" {
					t.Fatalf("error %v is not an application error", err)
				}
				return
			}
			if appErr.NonRetryable() == tt.wantRetryable {
				t.Errorf("non-retryable = %v, want %v (%v)", appErr.NonRetryable(), !tt.wantRetryable, err)
			}
			if tt.wantType != "" && appErr.Type() != tt.wantType {
				t.Errorf("type %q, want %q", appErr.Type(), tt.wantType)
			}
			if tt.status == http.StatusTooManyRequests && !strings.Contains(err.Error(), "429") {
				t.Errorf("error %v should say 429", err)
			}
		})
	}
}
