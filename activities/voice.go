package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/sandbox/twilioroute"
)

// TwilioAccount is how activities reach Twilio. BaseURL is empty for the
// real API, or the sandbox's Twilio base (e.g. http://127.0.0.1:8090/twilio).
type TwilioAccount struct {
	AccountSID string
	AuthToken  string
	From       string // E.164 caller ID / sender
	BaseURL    string
}

// api builds a twilio-go client for one activity call. twilio-go takes no
// context, so the transport binds every request to ctx (cancellation and
// deadlines reach the HTTP call); building it per call is cheap.
func (t TwilioAccount) api(ctx context.Context) *openapi.ApiService {
	var rt http.RoundTripper = http.DefaultTransport
	if t.BaseURL != "" {
		rt = twilioroute.Transport(t.BaseURL, rt)
	}
	hc := &http.Client{
		Transport:     ctxTransport{ctx: ctx, next: rt},
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := &client.Client{Credentials: client.NewCredentials(t.AccountSID, t.AuthToken), HTTPClient: hc}
	c.SetAccountSid(t.AccountSID)
	return openapi.NewApiServiceWithClient(c)
}

type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(r.Clone(t.ctx))
}

// Twilio error codes that mean "this number cannot be reached".
var invalidNumberCodes = map[int]bool{
	21211: true, // invalid To number
	21214: true, // To number cannot be reached
	21217: true, // phone number does not appear valid
	21401: true, // invalid phone number
	21407: true, // not supported
	21408: true, // region not enabled
	21610: true, // recipient unsubscribed
	21612: true, // cannot route
	21614: true, // not a mobile number (SMS)
}

// classifyTwilio turns a twilio-go error into a Temporal error: invalid
// numbers are non-retryable ErrTypeInvalidNumber, other 4xx non-retryable
// ErrTypeRejected, 429 and 5xx retryable.
func classifyTwilio(what string, err error) error {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		switch {
		case invalidNumberCodes[te.Code]:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: twilio %d: the number cannot be reached", what, te.Code), ErrTypeInvalidNumber, nil)
		case te.Status == http.StatusTooManyRequests || te.Code == 20429:
			return temporal.NewApplicationError(fmt.Sprintf("%s: twilio rate limited", what), "RateLimited")
		case te.Status >= 400 && te.Status < 500:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: twilio refused: %d (HTTP %d)", what, te.Code, te.Status), ErrTypeRejected, nil)
		}
		return fmt.Errorf("%s: twilio error %d (HTTP %d)", what, te.Code, te.Status)
	}
	// Network errors and non-JSON 5xx bodies: retryable.
	return fmt.Errorf("%s: %w", what, err)
}

// VoiceWebhookURLs are the URLs Twilio calls for one call attempt.
func (a *Activities) voiceURLs(recallID string, attempt int) (twiml, status string, err error) {
	tok, err := a.Links.Sign(linktoken.Claims{WorkflowID: recallID, Purpose: linktoken.PurposeVoice, Attempt: attempt, Expires: a.now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return "", "", fmt.Errorf("sign voice token: %w", err)
	}
	q := "?t=" + url.QueryEscape(tok)
	return a.PublicURL + "/webhooks/twilio/voice/twiml" + q, a.PublicURL + "/webhooks/twilio/voice/status" + q, nil
}

// CallDeletionRequest places the deletion-request call to exactly one
// person. Twilio then fetches the TwiML (Japanese speech and a keypad
// question) from the front door, and reports the outcome to the Recall
// through the front door's webhooks. An invalid number gives a
// non-retryable ErrTypeInvalidNumber.
func (a *Activities) CallDeletionRequest(ctx context.Context, in DeletionRequest) (SendResult, error) {
	r, err := a.recipient(ctx, in.List, in.RecipientID)
	if err != nil {
		return SendResult{}, err
	}
	if r.Phone == "" {
		return SendResult{}, temporal.NewNonRetryableApplicationError("recipient "+in.RecipientID+" has no phone number", ErrTypeNoAddress, nil)
	}
	twimlURL, statusURL, err := a.voiceURLs(in.RecallWorkflowID, in.Attempt)
	if err != nil {
		return SendResult{}, err
	}
	p := (&openapi.CreateCallParams{}).
		SetTo(r.Phone).SetFrom(a.Twilio.From).
		SetUrl(twimlURL).SetMethod("POST").
		SetStatusCallback(statusURL).SetStatusCallbackMethod("POST").
		SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"}).
		SetTimeout(30)
	call, err := a.Twilio.api(ctx).CreateCall(p)
	if err != nil {
		return SendResult{}, classifyTwilio("call "+in.RecipientID+" attempt "+strconv.Itoa(in.Attempt), err)
	}
	sid := ""
	if call.Sid != nil {
		sid = *call.Sid
	}
	activity.GetLogger(ctx).Info("deletion request call placed", "recipient", in.RecipientID, "attempt", in.Attempt, "call_sid", sid)
	return SendResult{MessageID: sid}, nil
}

// SMSDeletionRequest texts the deletion request with a confirmation link to
// exactly one person.
func (a *Activities) SMSDeletionRequest(ctx context.Context, in DeletionRequest) (SendResult, error) {
	r, err := a.recipient(ctx, in.List, in.RecipientID)
	if err != nil {
		return SendResult{}, err
	}
	if r.Phone == "" {
		return SendResult{}, temporal.NewNonRetryableApplicationError("recipient "+in.RecipientID+" has no phone number", ErrTypeNoAddress, nil)
	}
	tok, err := a.Links.Sign(linktoken.Claims{WorkflowID: in.RecallWorkflowID, Purpose: linktoken.PurposeSMSConfirm, Attempt: in.Attempt, Expires: a.now().Add(a.linkTTL())})
	if err != nil {
		return SendResult{}, fmt.Errorf("sign SMS link: %w", err)
	}
	vtok, err := a.Links.Sign(linktoken.Claims{WorkflowID: in.RecallWorkflowID, Purpose: linktoken.PurposeVoice, Attempt: in.Attempt, Expires: a.now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return SendResult{}, fmt.Errorf("sign SMS status token: %w", err)
	}
	body := deletionRequestSMS(a.org(), in, a.PublicURL+"/confirm/"+tok)
	p := (&openapi.CreateMessageParams{}).SetTo(r.Phone).SetFrom(a.Twilio.From).SetBody(body).
		SetStatusCallback(a.PublicURL + "/webhooks/twilio/sms/status?t=" + url.QueryEscape(vtok))
	msg, err := a.Twilio.api(ctx).CreateMessage(p)
	if err != nil {
		return SendResult{}, classifyTwilio("sms "+in.RecipientID+" attempt "+strconv.Itoa(in.Attempt), err)
	}
	sid := ""
	if msg.Sid != nil {
		sid = *msg.Sid
	}
	return SendResult{MessageID: sid}, nil
}
