package frontdoor_test

// Forged, stale, replayed and tampered requests, endpoint by endpoint
// (SECURITY.md, "Forged and replayed requests"). Together with
// TestConfirmationLink, TestSendGridEventWebhook and
// TestTwilioWebhooksRefuseForgedRequests they cover, for each family:
//
//	            forged            stale                      replayed                          tampered
//	links       other secret      expired (410, no signal)   same POST twice: same evidence    claims or MAC changed
//	SendGrid    other key, none   outside ±10 min            sg_event_id, even re-batched      body or timestamp changed
//	Twilio      other auth token  expired correlation token  I-Twilio-Idempotency-Token        form, URL or token changed
//	SMS status  same as Twilio    same                       same                              same
//
// Slack is in internal/slackbot (http_test.go, replay_test.go).

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"go.temporal.io/api/serviceerror"

	"github.com/breachflow/breachflow/internal/frontdoor"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

func TestConfirmationLinkForgedOrTampered(t *testing.T) {
	s, rec, links := newServer(t)
	good := token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour))
	payload, mac, _ := strings.Cut(good, ".")
	other, _ := linktoken.NewSigner("another-secret-another-secret-xxx")
	otherRecall, _ := links.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00002", Purpose: linktoken.PurposeEmailConfirm, Expires: now.Add(time.Hour)})
	otherPayload, _, _ := strings.Cut(otherRecall, ".")
	forged, _ := other.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: linktoken.PurposeEmailConfirm, Expires: now.Add(time.Hour)})
	// The same claims with a later expiry, under the original MAC.
	claims, _ := base64.RawURLEncoding.DecodeString(payload)
	later := strings.Replace(string(claims), `"e":`+strconv.FormatInt(now.Add(time.Hour).Unix(), 10), `"e":4102444800`, 1)
	if later == string(claims) {
		t.Fatalf("claims %s: expiry not found", claims)
	}
	longer := base64.RawURLEncoding.EncodeToString([]byte(later)) + "." + mac

	tests := []struct {
		name   string
		method string
		tok    string
		want   int
	}{
		{"forged: GET of a link signed with another secret", "GET", forged, http.StatusForbidden},
		{"forged: POST of a link signed with another secret", "POST", forged, http.StatusForbidden},
		{"tampered: another recall's claims under this link's MAC", "POST", otherPayload + "." + mac, http.StatusForbidden},
		{"tampered: expiry changed, MAC kept", "POST", longer, http.StatusForbidden},
		{"tampered: MAC changed", "POST", payload + "." + strings.Repeat("A", len(mac)), http.StatusForbidden},
		{"tampered: MAC truncated", "POST", payload + "." + mac[:10], http.StatusForbidden},
		{"tampered: no MAC", "POST", payload + ".", http.StatusForbidden},
		{"stale: expired an hour ago", "POST", token(t, links, linktoken.PurposeEmailConfirm, now.Add(-time.Hour)), http.StatusGone},
		{"stale: expires this very second", "POST", token(t, links, linktoken.PurposeEmailConfirm, now), http.StatusGone},
		{"stale: an expired SMS link", "POST", token(t, links, linktoken.PurposeSMSConfirm, now.Add(-time.Second)), http.StatusGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, hdr := form(url.Values{"confirm": {"deleted"}})
			if tt.method == "GET" {
				body, hdr = nil, nil
			}
			w := do(s, tt.method, "/confirm/"+tt.tok, body, hdr)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if n := len(rec.all()); n != 0 {
				t.Fatalf("%d signals sent, want none", n)
			}
		})
	}
}

// A link confirms once however often its POST comes (a double click, a
// resubmitted form, a captured request replayed by whoever holds a 60-day
// link): one signal, here and after a restart (the Recall already holds
// the confirmation). A delivery that could not be applied (Temporal down:
// 503) is not remembered, so the person's retry applies it; once the
// Recall is over, the page says so and nothing is applied.
func TestConfirmationLinkReplayed(t *testing.T) {
	s, rec, links := newServer(t)
	tok := token(t, links, linktoken.PurposeSMSConfirm, now.Add(time.Hour))
	post := func(s *frontdoor.Server, tok string) *httptest.ResponseRecorder {
		body, hdr := form(url.Values{"confirm": {"deleted"}})
		return do(s, "POST", "/confirm/"+tok, body, hdr)
	}
	for i := range 20 {
		if w := post(s, tok); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ありがとうございました") {
			t.Fatalf("delivery %d: status %d %q", i+1, w.Code, w.Body.String())
		}
	}
	sigs := rec.all()
	if len(sigs) != 1 {
		t.Fatalf("20 deliveries sent %d signals, want 1: %+v", len(sigs), sigs)
	}
	if c := sigs[0].Arg.(workflows.Confirmation); c.Channel != runbooks.ConfirmEmail || c.Evidence.Source != "sms-link" {
		t.Errorf("signal %+v", sigs[0])
	}

	restarted, _, _ := restartServer(t, rec)
	for range 5 {
		if w := post(restarted, tok); w.Code != http.StatusOK {
			t.Fatalf("replay after a restart: %d", w.Code)
		}
	}
	if n := len(rec.all()); n != 1 {
		t.Fatalf("replays after a restart sent %d signals in all, want 1", n)
	}

	s2, rec2, links2 := newServer(t)
	tok2 := token(t, links2, linktoken.PurposeEmailConfirm, now.Add(2*time.Hour))
	rec2.fail = serviceerror.NewUnavailable("temporal down")
	if w := post(s2, tok2); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("Temporal down: %d, want 503", w.Code)
	}
	rec2.fail = nil
	if w := post(s2, tok2); w.Code != http.StatusOK || len(rec2.all()) != 1 {
		t.Fatalf("the retry after a failure: %d, %d signals; want 200 and 1", w.Code, len(rec2.all()))
	}

	s3, rec3, links3 := newServer(t)
	rec3.fail = serviceerror.NewNotFound("workflow completed")
	if w := post(s3, token(t, links3, linktoken.PurposeEmailConfirm, now.Add(time.Hour))); w.Code != http.StatusGone || !strings.Contains(w.Body.String(), "already closed") {
		t.Fatalf("after the Recall closed: %d %q", w.Code, w.Body.String())
	}
}

func TestSendGridForgedStaleReplayedTampered(t *testing.T) {
	key := sandboxKey(t)
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	event := func(id, recall string) string {
		return `{"event":"bounce","sg_event_id":"` + id + `","breachflow_recall":"` + recall + `"}`
	}
	one := []byte("[" + event("ev-1", "INC-1/recall/R00001") + "]")
	rebatched := []byte("[" + event("ev-2", "INC-1/recall/R00002") + "," + event("ev-1", "INC-1/recall/R00001") + "]")

	type delivery struct {
		body []byte
		hdr  http.Header
		want int
	}
	tests := []struct {
		name        string
		deliveries  []delivery
		wantSignals []string // event IDs applied, in order
	}{
		{"stale: signed 11 minutes ago", []delivery{{one, signSendGrid(t, key, ts(-11*time.Minute), one), 401}}, nil},
		{"stale: signed 11 minutes ahead", []delivery{{one, signSendGrid(t, key, ts(11*time.Minute), one), 401}}, nil},
		{"stale: no timestamp", []delivery{{one, http.Header{eventwebhook.VerificationHTTPHeader: {"x"}}, 401}}, nil},
		{"stale: a captured delivery replayed after the window", []delivery{{one, signSendGrid(t, key, ts(-frontdoor.SendGridWindow-time.Second), one), 401}}, nil},
		{"tampered: timestamp moved after signing", []delivery{{one, func() http.Header {
			h := signSendGrid(t, key, ts(-time.Minute), one)
			h.Set(eventwebhook.TimestampHTTPHeader, ts(0))
			return h
		}(), 403}}, nil},
		{"tampered: another recall in the signed body's place", []delivery{{
			[]byte("[" + event("ev-1", "INC-1/recall/R00009") + "]"), signSendGrid(t, key, ts(0), one), 403}}, nil},
		{"forged: signature of a different body", []delivery{{one, signSendGrid(t, key, ts(0), rebatched), 403}}, nil},
		{"forged: signature not base64", []delivery{{one, func() http.Header {
			h := signSendGrid(t, key, ts(0), one)
			h.Set(eventwebhook.VerificationHTTPHeader, "%%%")
			return h
		}(), 403}}, nil},
		{"replayed: the same delivery twice applies once", []delivery{
			{one, signSendGrid(t, key, ts(0), one), 204},
			{one, signSendGrid(t, key, ts(0), one), 204},
		}, []string{"ev-1"}},
		{"replayed: an event re-sent in another batch applies once", []delivery{
			{one, signSendGrid(t, key, ts(0), one), 204},
			{rebatched, signSendGrid(t, key, ts(time.Minute), rebatched), 204},
		}, []string{"ev-1", "ev-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, _ := newServer(t)
			for i, d := range tt.deliveries {
				w := do(s, "POST", "/webhooks/sendgrid/events", bytes.NewReader(d.body), d.hdr)
				if w.Code != d.want {
					t.Fatalf("delivery %d: status %d, want %d (%s)", i+1, w.Code, d.want, w.Body.String())
				}
			}
			var got []string
			for _, sg := range rec.all() {
				got = append(got, sg.Arg.(workflows.DeliveryEvent).Evidence.EventID)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantSignals, ",") {
				t.Fatalf("applied %q, want %q", got, tt.wantSignals)
			}
		})
	}
}

// A batch answered 503 (Temporal down) is retried by SendGrid: what was
// applied is not applied again, what failed is applied now.
func TestSendGridRetryAfterFailureAppliesTheRest(t *testing.T) {
	sig := &scriptedSignaler{script: []byte{0, 1}} // the second event fails
	s, _ := fuzzServer(t, sig)
	body := []byte(`[{"event":"dropped","sg_event_id":"a","breachflow_recall":"INC-1/recall/R00001"},` +
		`{"event":"bounce","sg_event_id":"b","breachflow_recall":"INC-1/recall/R00002"}]`)
	hdr := signSendGrid(t, sandboxKey(t), strconv.FormatInt(now.Unix(), 10), body)
	if w := do(s, "POST", "/webhooks/sendgrid/events", bytes.NewReader(body), hdr); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery: %d, want 503", w.Code)
	}
	if w := do(s, "POST", "/webhooks/sendgrid/events", bytes.NewReader(body), hdr); w.Code != http.StatusNoContent {
		t.Fatalf("retry: %d, want 204", w.Code)
	}
	_, _, applied := sig.snapshot()
	var got []string
	for _, a := range applied {
		got = append(got, a.Arg.(workflows.DeliveryEvent).Evidence.EventID)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("applied %q, want a then b, each once", got)
	}
}

// twilioRequest is one signed (or not) Twilio webhook delivery.
type twilioRequest struct {
	path string // with its query
	form url.Values
	// sign is what the signature covers; nil signs path and form as sent.
	signURL  string
	signForm url.Values
	token    string // auth token; empty: the right one
	idem     string
	unsigned bool
}

func (tr twilioRequest) do(s http.Handler) (int, string) {
	signURL, signForm, tok := tr.signURL, tr.signForm, tr.token
	if signURL == "" {
		signURL = publicURL + tr.path
	}
	if signForm == nil {
		signForm = tr.form
	}
	if tok == "" {
		tok = twilioToken
	}
	body, hdr := form2(tr.form)
	if !tr.unsigned {
		hdr.Set("X-Twilio-Signature", twilioSign(tok, signURL, signForm))
	}
	if tr.idem != "" {
		hdr.Set("I-Twilio-Idempotency-Token", tr.idem)
	}
	w := do(s, "POST", tr.path, body, hdr)
	return w.Code, w.Body.String()
}

func TestTwilioForgedStaleReplayedTampered(t *testing.T) {
	_, _, links := newServer(t)
	voice := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	expired := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(-time.Second)))
	otherRecall, _ := links.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00002", Purpose: linktoken.PurposeVoice, Expires: now.Add(time.Hour)})
	other := url.QueryEscape(otherRecall)
	gather := "/webhooks/twilio/voice/gather?t=" + voice
	callStatus := "/webhooks/twilio/voice/status?t=" + voice
	smsStatus := "/webhooks/twilio/sms/status?t=" + voice
	press := func(d string) url.Values { return url.Values{"CallSid": {"CA1"}, "Digits": {d}} }
	sms := func(st string) url.Values { return url.Values{"MessageSid": {"SM1"}, "MessageStatus": {st}} }

	type step struct {
		req  twilioRequest
		want int
	}
	tests := []struct {
		name    string
		steps   []step
		signals int
	}{
		// SMS status callbacks: the same checks as the voice webhooks.
		{"sms forged: another auth token", []step{{twilioRequest{path: smsStatus, form: sms("delivered"), token: "not-the-token"}, 403}}, 0},
		{"sms forged: unsigned", []step{{twilioRequest{path: smsStatus, form: sms("delivered"), unsigned: true}, 403}}, 0},
		{"sms stale: expired correlation token", []step{{twilioRequest{path: "/webhooks/twilio/sms/status?t=" + expired, form: sms("delivered")}, 403}}, 0},
		{"sms tampered: status changed after signing", []step{{twilioRequest{path: smsStatus, form: sms("undelivered"), signForm: sms("delivered")}, 403}}, 0},
		{"sms tampered: correlation token swapped after signing", []step{{twilioRequest{path: "/webhooks/twilio/sms/status?t=" + other, form: sms("failed"), signURL: publicURL + smsStatus}, 403}}, 0},
		{"sms replayed: same idempotency token applies once", []step{
			{twilioRequest{path: smsStatus, form: sms("failed"), idem: "sms-1"}, 204},
			{twilioRequest{path: smsStatus, form: sms("failed"), idem: "sms-1"}, 204},
		}, 1},
		// Voice.
		{"voice tampered: key 2 changed to 1 after signing", []step{{twilioRequest{path: gather, form: press("1"), signForm: press("2")}, 403}}, 0},
		{"voice tampered: a parameter added after signing", []step{{twilioRequest{path: gather, form: url.Values{"CallSid": {"CA1"}, "Digits": {"1"}, "Extra": {"x"}}, signForm: press("1")}, 403}}, 0},
		{"voice tampered: query changed after signing (repeat)", []step{{twilioRequest{path: gather + "&r=1", form: press("9"), signURL: publicURL + gather}, 403}}, 0},
		{"voice tampered: correlation token swapped after signing", []step{{twilioRequest{path: "/webhooks/twilio/voice/gather?t=" + other, form: press("1"), signURL: publicURL + gather}, 403}}, 0},
		{"voice forged: signed over http instead of the public https URL", []step{{twilioRequest{path: gather, form: press("1"), signURL: strings.Replace(publicURL, "https:", "http:", 1) + gather}, 403}}, 0},
		{"voice replayed: a key press delivered twice applies once, and both get TwiML", []step{
			{twilioRequest{path: gather, form: press("1"), idem: "g-1"}, 200},
			{twilioRequest{path: gather, form: press("1"), idem: "g-1"}, 200},
		}, 1},
		{"voice replayed: a status callback delivered twice applies once", []step{
			{twilioRequest{path: callStatus, form: url.Values{"CallSid": {"CA1"}, "CallStatus": {"busy"}}, idem: "s-1"}, 204},
			{twilioRequest{path: callStatus, form: url.Values{"CallSid": {"CA1"}, "CallStatus": {"busy"}}, idem: "s-1"}, 204},
		}, 1},
		{"voice replayed: the same token on another webhook is another delivery", []step{
			{twilioRequest{path: callStatus, form: url.Values{"CallSid": {"CA1"}, "CallStatus": {"busy"}}, idem: "x-1"}, 204},
			{twilioRequest{path: smsStatus, form: sms("failed"), idem: "x-1"}, 204},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, _ := newServer(t)
			var bodies []string
			for i, st := range tt.steps {
				code, body := st.req.do(s)
				if code != st.want {
					t.Fatalf("delivery %d: status %d, want %d (%s)", i+1, code, st.want, body)
				}
				bodies = append(bodies, body)
			}
			if n := len(rec.all()); n != tt.signals {
				t.Fatalf("%d signals, want %d: %+v", n, tt.signals, rec.all())
			}
			if tt.steps[0].want == http.StatusOK {
				for i, b := range bodies {
					if tw := parseTwiML(t, b); tw.Hangup == nil {
						t.Errorf("delivery %d: want the thanks and a hangup, got %+v", i+1, tw)
					}
				}
			}
		})
	}
}

// A webhook answered 503 (Temporal down) is retried by Twilio with the
// same idempotency token: the retry must apply it, not be taken for a
// replay of something applied (regression: it used to answer 204 and
// drop the key press).
func TestTwilioRetryAfterFailureIsApplied(t *testing.T) {
	sig := &scriptedSignaler{script: []byte{1}}
	s, _ := fuzzServer(t, sig)
	links, _ := linktoken.NewSigner(linkSecret)
	path := "/webhooks/twilio/voice/gather?t=" + url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	req := twilioRequest{path: path, form: url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}, idem: "g-1"}
	if code, _ := req.do(s); code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery: %d, want 503", code)
	}
	code, body := req.do(s)
	if code != http.StatusOK || parseTwiML(t, body).Hangup == nil {
		t.Fatalf("retry: %d %q, want the thanks TwiML", code, body)
	}
	if code, _ := req.do(s); code != http.StatusOK {
		t.Fatalf("replay of the applied retry: %d", code)
	}
	_, _, applied := sig.snapshot()
	if len(applied) != 1 || applied[0].Name != workflows.SignalConfirmation {
		t.Fatalf("applied %+v, want the confirmation once", applied)
	}
}
