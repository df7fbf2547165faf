package activities

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/temporal"
)

// Mailer sends one SendGrid v3 mail request.
type Mailer interface {
	Send(ctx context.Context, m *mail.SGMailV3) (messageID string, err error)
}

// SendGridMailer sends through the official sendgrid-go client. Host is
// empty for the real API, or the sandbox's SendGrid base URL.
//
// It builds a request per call: sendgrid.Client mutates itself on send and is
// not safe for concurrent activities, and its default HTTP client has no
// timeout.
type SendGridMailer struct {
	APIKey string
	Host   string
	HTTP   *http.Client
}

var _ Mailer = (*SendGridMailer)(nil)

// Send posts the mail and classifies the answer: 2xx is success; 429 and
// 5xx are retryable (429 after the provider's reset time); any other 4xx is
// a non-retryable ErrTypeRejected.
func (s *SendGridMailer) Send(ctx context.Context, m *mail.SGMailV3) (string, error) {
	req := sendgrid.GetRequest(s.APIKey, "/v3/mail/send", s.Host)
	req.Method = rest.Post
	req.Body = mail.GetRequestBody(m)
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := (&rest.Client{HTTPClient: hc}).SendWithContext(ctx, req)
	if err != nil {
		return "", fmt.Errorf("sendgrid mail send: %w", err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return first(resp.Headers, "X-Message-Id"), nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return "", temporal.NewApplicationErrorWithOptions("sendgrid rate limited (429)", "RateLimited",
			temporal.ApplicationErrorOptions{NextRetryDelay: retryAfter(resp.Headers, time.Now())})
	case resp.StatusCode >= 500:
		return "", fmt.Errorf("sendgrid mail send: server error %d", resp.StatusCode)
	default:
		// Never include the body verbatim: it may echo addresses.
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("sendgrid refused the mail: HTTP %d", resp.StatusCode), ErrTypeRejected, nil)
	}
}

func first(h map[string][]string, key string) string {
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == http.CanonicalHeaderKey(key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// retryAfter reads Retry-After (seconds) or X-RateLimit-Reset (unix
// seconds); 0 lets Temporal's retry policy decide.
func retryAfter(h map[string][]string, now time.Time) time.Duration {
	if s := first(h, "Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	if s := first(h, "X-RateLimit-Reset"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if d := time.Unix(n, 0).Sub(now); d > 0 && d < time.Hour {
				return d
			}
		}
	}
	return 0
}
