package sandbox

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

func TestFailureInjectionSendGrid(t *testing.T) {
	tests := []struct {
		name       string
		kind       failureKind
		wantStatus int
		wantBody   string
		wantMsgs   int // the request was processed anyway
	}{
		{"rate limited", failRateLimited, 429, `"too many requests"`, 0},
		{"server error", failServerError, 500, `"errors"`, 0},
		{"html bad gateway", failBadGateway, 502, "<html>", 0},
		{"none", failNone, 202, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Email: PersonaTable{Default: PersonaSpec{Persona: PersonaIgnore}}}})
			sb.failures.pick = func() failureKind { return tc.kind }
			resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(notice(e.URL(), "a@example.jp")))
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Contains(t, resp.Body, tc.wantBody)
			assert.Len(t, sb.Outbox(), tc.wantMsgs)
			if tc.kind == failRateLimited {
				h := http.Header(resp.Headers)
				assert.Equal(t, "1", h.Get("Retry-After"))
				assert.Equal(t, "0", h.Get("X-RateLimit-Remaining"))
				reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
				require.NoError(t, err)
				assert.InDelta(t, time.Now().Unix()+1, reset, 2)
			}
		})
	}
}

func TestFailureInjectionTimeoutIsProcessed(t *testing.T) {
	e := newFakeEngine(t)
	sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Email: PersonaTable{Default: PersonaSpec{Persona: PersonaIgnore}}}})
	sb.failures.pick = func() failureKind { return failTimeout }
	req := sendgrid.GetRequest(SendGridAPIKey, "/v3/mail/send", url+"/sendgrid")
	req.Method = rest.Post
	req.Body = mail.GetRequestBody(notice(e.URL(), "a@example.jp"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := (&rest.Client{HTTPClient: &http.Client{}}).SendWithContext(ctx, req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), err)
	// The client saw a timeout, yet the mail went out: a blind retry duplicates it.
	assert.Len(t, sb.Outbox(), 1)
	eventually(t, "delivered", func() bool { return len(e.eventsFor("a@example.jp")) == 2 })
}

func TestFailureInjectionTwilio(t *testing.T) {
	tests := []struct {
		name       string
		kind       failureKind
		wantCode   int
		wantStatus int
	}{
		{"rate limited", failRateLimited, 20429, 429},
		{"server error", failServerError, 20500, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			sb, url := newTestSandbox(t, e, Config{})
			sb.failures.pick = func() failureKind { return tc.kind }
			_, err := twilioService(url, TwilioAccountSID, TwilioAuthToken).CreateCall(
				(&openapi.CreateCallParams{}).SetTo("+819000000001").SetFrom(TwilioFromNumber).SetUrl(e.URL() + "/twiml"))
			var te *client.TwilioRestError
			require.True(t, errors.As(err, &te), "%v", err)
			assert.Equal(t, tc.wantCode, te.Code)
			assert.Equal(t, tc.wantStatus, te.Status)
			assert.Empty(t, sb.Calls())
		})
	}
	t.Run("html bad gateway is not a TwilioRestError", func(t *testing.T) {
		e := newFakeEngine(t)
		sb, url := newTestSandbox(t, e, Config{})
		sb.failures.pick = func() failureKind { return failBadGateway }
		_, err := twilioService(url, TwilioAccountSID, TwilioAuthToken).CreateCall(
			(&openapi.CreateCallParams{}).SetTo("+819000000001").SetFrom(TwilioFromNumber).SetUrl(e.URL() + "/twiml"))
		require.Error(t, err)
		var te *client.TwilioRestError
		assert.False(t, errors.As(err, &te))
		assert.Contains(t, err.Error(), "502")
	})
}

func TestFailureRate(t *testing.T) {
	tests := []struct {
		rate     float64
		min, max int // failures out of 400
	}{{0, 0, 0}, {1, 400, 400}, {0.25, 50, 150}}
	for _, tc := range tests {
		t.Run(strconv.FormatFloat(tc.rate, 'f', -1, 64), func(t *testing.T) {
			f := newFailureInjector(tc.rate)
			n := 0
			for range 400 {
				if f.pick() != failNone {
					n++
				}
			}
			assert.GreaterOrEqual(t, n, tc.min)
			assert.LessOrEqual(t, n, tc.max)
		})
	}
}
