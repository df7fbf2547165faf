package frontdoor_test

// Fuzz targets of the front door: every handler of `starter serve` outside
// Slack (internal/slackbot has its own). Each execution builds a fresh
// Server, so an input's outcome never depends on the inputs before it.
//
// Properties checked for every input:
//   - no panic: Server.ServeHTTP recovers a panic into a 500, so a 500 (or
//     the "panic in handler" log line) fails the target;
//   - no 5xx except the documented 503 "try again" answers, and those only
//     when the fake Temporal was made to fail;
//   - no signal for a request an independent check (our own HMAC, ECDSA
//     and link-token verification) does not accept;
//   - request bodies read no further than the handler's limit, answers
//     bounded in size;
//   - for Twilio and SendGrid, the same signed request delivered twice
//     applies once (after a 503, the retry applies what failed).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"go.temporal.io/api/serviceerror"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/frontdoor"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/workflows"
)

const linkSecret = "test-secret-test-secret-test-secret"

// Limits of the handlers (frontdoor's maxFormBody and maxEventsBody).
const (
	formLimit   = 64 << 10
	eventsLimit = 8 << 20
	// answerLimit bounds every answer of the front door.
	answerLimit = 64 << 10
)

// scriptedSignaler is a Temporal that fails as told: the i-th call
// follows script[i] (0 ok, 1 unavailable, 2 workflow not found; ok past
// the end). It records every call and the signals it applied.
type scriptedSignaler struct {
	mu      sync.Mutex
	script  []byte
	calls   int
	failed  int // calls answered with an error other than not-found
	applied []signal
}

func (s *scriptedSignaler) SignalWorkflow(_ context.Context, id, _, name string, arg any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.calls
	s.calls++
	if i < len(s.script) {
		switch s.script[i] % 3 {
		case 1:
			s.failed++
			return serviceerror.NewUnavailable("fuzz: Temporal is down")
		case 2:
			return serviceerror.NewNotFound("fuzz: workflow closed")
		}
	}
	s.applied = append(s.applied, signal{id, name, arg})
	return nil
}

// heal makes every later call succeed.
func (s *scriptedSignaler) heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = nil
}

func (s *scriptedSignaler) snapshot() (calls, failed int, applied []signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.failed, slices.Clone(s.applied)
}

// script turns a fuzzed byte into a failure script of four calls.
func script(b byte) []byte {
	return []byte{b & 3, b >> 2 & 3, b >> 4 & 3, b >> 6 & 3}
}

// panicWatch is a slog handler that remembers the front door's "panic in
// handler" records, which Server.ServeHTTP logs when it recovers one.
type panicWatch struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicWatch) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicWatch) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *panicWatch) WithGroup(string) slog.Handler            { return p }
func (p *panicWatch) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "panic") {
		return nil
	}
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	p.mu.Lock()
	p.panics = append(p.panics, msg)
	p.mu.Unlock()
	return nil
}

func (p *panicWatch) check(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.panics) > 0 {
		t.Fatalf("a handler panicked: %q", p.panics)
	}
}

// fuzzServer is a fresh front door over sig, with the test clock and keys.
func fuzzServer(t testing.TB, sig frontdoor.Signaler) (*frontdoor.Server, *panicWatch) {
	t.Helper()
	links, err := linktoken.NewSigner(linkSecret)
	if err != nil {
		t.Fatal(err)
	}
	pw := &panicWatch{}
	s, err := frontdoor.New(frontdoor.Config{
		Temporal: sig, Links: links, SendGridPublicKey: config.SandboxSendGridWebhookPublicKey,
		PublicURL: publicURL, TwilioAuthToken: twilioToken,
		Logger: slog.New(pw), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, pw
}

// countingBody counts what a handler reads of a request body; endless
// bodies go on with 'a' after their data.
type countingBody struct {
	r       io.Reader
	n       int64
	endless bool
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) && c.endless {
		for i := n; i < len(p); i++ {
			p[i] = 'a'
		}
		n, err = len(p), nil
	}
	c.n += int64(n)
	return n, err
}

func (c *countingBody) Close() error { return nil }

// serve runs one request through h and checks the properties common to
// every endpoint: no panic, no 500, an answer of bounded size, and a body
// read no further than limit (+1, which is how http.MaxBytesReader sees
// that a body is too large).
func serve(t testing.TB, h http.Handler, pw *panicWatch, req *http.Request, body *countingBody, limit int64) *httptest.ResponseRecorder {
	t.Helper()
	if body != nil {
		req.Body = body
	}
	if req.RemoteAddr == "" {
		req.RemoteAddr = "192.0.2.1:1234"
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	pw.check(t)
	if w.Code == http.StatusInternalServerError {
		t.Fatalf("500 (a recovered panic or an internal error): %q", w.Body.String())
	}
	if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: no 5xx but 503 is documented", w.Code)
	}
	if w.Body.Len() > answerLimit {
		t.Fatalf("answer of %d bytes", w.Body.Len())
	}
	if body != nil && body.n > limit+1 {
		t.Fatalf("read %d bytes of the body, limit %d", body.n, limit)
	}
	return w
}

// verifiedLink is our own check of a confirmation link: a separate
// Signer over the same secret.
func verifiedLink(token string) (linktoken.Claims, bool) {
	s, err := linktoken.NewSigner(linkSecret)
	if err != nil {
		return linktoken.Claims{}, false
	}
	for _, p := range []linktoken.Purpose{linktoken.PurposeEmailConfirm, linktoken.PurposeSMSConfirm} {
		if c, err := s.Verify(token, p, now); err == nil {
			return c, true
		}
	}
	return linktoken.Claims{}, false
}

// linkToken makes the token of a confirmation-link input: kind picks a
// valid e-mail or SMS link, an expired one, one for another purpose, one
// signed with another secret, a tampered one, or raw.
func linkToken(t testing.TB, kind byte, raw string) string {
	t.Helper()
	links, _ := linktoken.NewSigner(linkSecret)
	other, _ := linktoken.NewSigner("another-secret-another-secret-xxx")
	claims := linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: linktoken.PurposeEmailConfirm, Expires: now.Add(time.Hour)}
	switch kind % 7 {
	case 0:
		return token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour))
	case 1:
		return token(t, links, linktoken.PurposeSMSConfirm, now.Add(time.Hour))
	case 2:
		return token(t, links, linktoken.PurposeEmailConfirm, now.Add(-time.Second))
	case 3:
		return token(t, links, linktoken.PurposeVoice, now.Add(time.Hour))
	case 4:
		tok, _ := other.Sign(claims)
		return tok
	case 5: // the claims changed, the signature kept: raw is spliced into the payload
		tok := token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour))
		p, sig, _ := strings.Cut(tok, ".")
		return p + base64.RawURLEncoding.EncodeToString([]byte(raw)) + "." + sig
	}
	return raw
}

// FuzzConfirmLink: GET and POST /confirm/{token} with arbitrary tokens,
// methods, content types and forms. Only a POST of the page's form with a
// valid link signals; GET (mail scanners) never does.
func FuzzConfirmLink(f *testing.F) {
	f.Add("GET", byte(0), "", "", []byte(nil), byte(0), false)
	f.Add("HEAD", byte(1), "", "", []byte(nil), byte(0), false)
	f.Add("POST", byte(0), "", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(0), false)
	f.Add("POST", byte(1), "", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(1), false)
	f.Add("POST", byte(0), "", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(2), false)
	f.Add("POST", byte(0), "", "application/x-www-form-urlencoded", []byte("confirm=kept&confirm=deleted"), byte(0), false)
	f.Add("POST", byte(0), "", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"confirm\"\r\n\r\ndeleted\r\n--x--\r\n"), byte(0), false)
	f.Add("POST", byte(0), "", "application/x-www-form-urlencoded", []byte("confirm=deleted&"), byte(0), true)
	f.Add("POST", byte(2), "", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(0), false)
	f.Add("POST", byte(3), "", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(0), false)
	f.Add("POST", byte(4), "", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(0), false)
	f.Add("POST", byte(5), `","w":"INC-2/recall/R00002`, "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(0), false)
	f.Add("POST", byte(6), "abc.def", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(0), false)
	f.Add("PUT", byte(0), "", "application/x-www-form-urlencoded", []byte("confirm=deleted"), byte(0), false)
	f.Add("DELETE", byte(6), "%2e%2e", "", []byte(nil), byte(0), false)
	f.Fuzz(func(t *testing.T, method string, kind byte, raw, contentType string, body []byte, fail byte, endless bool) {
		tok := linkToken(t, kind, raw)
		req, err := http.NewRequest(method, "http://front.door/confirm/"+url.PathEscape(tok), nil)
		if err != nil {
			return // not a request a server would read (e.g. a bad method)
		}
		method = req.Method // "" is GET
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		sig := &scriptedSignaler{script: script(fail)}
		s, pw := fuzzServer(t, sig)
		cb := &countingBody{r: bytes.NewReader(body), endless: endless}
		w := serve(t, s, pw, req, cb, formLimit)

		calls, failed, applied := sig.snapshot()
		claims, valid := verifiedLink(tok)
		form, formErr := url.ParseQuery(string(body))
		// net/http reads a form body only with this media type.
		mt, _, mtErr := mime.ParseMediaType(contentType)
		isForm := mtErr == nil && mt == "application/x-www-form-urlencoded"
		wantSignal := method == http.MethodPost && valid && !endless && isForm && formErr == nil && form.Get("confirm") == "deleted"
		switch {
		case calls > 0 && !wantSignal:
			t.Fatalf("%s with link valid=%v, form %q (%v): %d signal(s) sent", method, valid, body, formErr, calls)
		case wantSignal && calls != 1:
			t.Fatalf("valid confirmation: %d signal calls, want 1", calls)
		}
		for _, a := range applied {
			if a.WorkflowID != claims.WorkflowID || a.Name != workflows.SignalConfirmation {
				t.Fatalf("signal %+v, want a confirmation to the link's workflow %q", a, claims.WorkflowID)
			}
		}
		if w.Code == http.StatusServiceUnavailable && failed == 0 {
			t.Fatalf("503 but Temporal did not fail")
		}
		switch method {
		case http.MethodGet, http.MethodHead:
			if valid && w.Code != http.StatusOK {
				t.Fatalf("GET of a valid link: %d", w.Code)
			}
			if !valid && w.Code == http.StatusOK {
				t.Fatalf("GET of an invalid link: 200")
			}
		case http.MethodPost:
			if !valid && w.Code < 300 {
				t.Fatalf("POST of an invalid link: %d", w.Code)
			}
		default:
			if w.Code < 300 {
				t.Fatalf("%s: %d, want it refused", method, w.Code)
			}
		}
	})
}

// sgEvent mirrors what SendGrid's event webhook documents, to compute the
// signals a batch must give.
type sgEvent struct {
	Event     string `json:"event"`
	EventID   string `json:"sg_event_id"`
	Timestamp int64  `json:"timestamp"`
	RecallID  string `json:"breachflow_recall"`
	Attempt   string `json:"breachflow_attempt"`
}

// wantSendGridSignals is the set of event IDs a batch must signal, each
// once, with the Recall it names.
func wantSendGridSignals(body []byte) (map[string]string, bool) {
	var evs []sgEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		return nil, false
	}
	want := map[string]string{}
	for _, e := range evs {
		switch e.Event {
		case "bounce", "dropped": // "delivered" changes nothing: not signalled
		default:
			continue
		}
		if e.RecallID == "" || e.EventID == "" {
			continue
		}
		if _, dup := want[e.EventID]; !dup {
			want[e.EventID] = e.RecallID
		}
	}
	return want, true
}

// sendGridSignatureValid is our own check of SendGrid's scheme: ECDSA
// P-256 over SHA-256(timestamp || body), the timestamp within the window.
func sendGridSignatureValid(hdr http.Header, body []byte) bool {
	ts := hdr.Get(eventwebhook.TimestampHTTPHeader)
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(n, 0)); d >= frontdoor.SendGridWindow || d <= -frontdoor.SendGridWindow {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(hdr.Get(eventwebhook.VerificationHTTPHeader))
	if err != nil {
		return false
	}
	der, _ := base64.StdEncoding.DecodeString(config.SandboxSendGridWebhookPublicKey)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return false
	}
	h := sha256.Sum256(append([]byte(ts), body...))
	return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), h[:], sig)
}

// FuzzSendGridEvents: the SendGrid event webhook with arbitrary bodies and
// headers. mode 0 signs the body validly (so the JSON path is fuzzed), the
// others forge, age or tamper the request. Every request is delivered
// twice, as SendGrid does after a timeout or a non-2xx.
func FuzzSendGridEvents(f *testing.F) {
	bounce := `[{"email":"x@example.jp","event":"bounce","sg_event_id":"ev-1","timestamp":1,"breachflow_recall":"INC-1/recall/R00001","breachflow_attempt":"1"}]`
	batch := `[{"event":"delivered","sg_event_id":"a","breachflow_recall":"INC-1/recall/R00001"},{"event":"open","sg_event_id":"b","breachflow_recall":"INC-1/recall/R00001"},` +
		`{"event":"dropped","sg_event_id":"c","breachflow_recall":"INC-1/recall/R00002","breachflow_attempt":"x"},{"event":"bounce","sg_event_id":"a","breachflow_recall":"INC-1/recall/R00003"},{"event":"bounce","breachflow_recall":"INC-1/recall/R00004"}]`
	for mode := range byte(8) {
		f.Add([]byte(bounce), mode, int64(0), "", "", byte(0), false)
	}
	f.Add([]byte(batch), byte(0), int64(0), "", "", byte(0), false)
	f.Add([]byte(batch), byte(0), int64(-599), "", "", byte(0b0100), false)
	f.Add([]byte(bounce), byte(0), int64(0), "", "", byte(2), false)
	f.Add([]byte(`[]`), byte(0), int64(0), "", "", byte(0), false)
	f.Add([]byte(`null`), byte(0), int64(0), "", "", byte(0), false)
	f.Add([]byte(`{"event":"bounce"}`), byte(0), int64(0), "", "", byte(0), false)
	f.Add([]byte(`[{"event":"bounce","sg_event_id":1}]`), byte(0), int64(0), "", "", byte(0), false)
	f.Add([]byte(`[{"EVENT":"bounce","SG_EVENT_ID":"z","BREACHFLOW_RECALL":"INC-1/recall/R00009"}]`), byte(0), int64(0), "", "", byte(0), false)
	f.Add([]byte(bounce), byte(0), int64(0), "", "", byte(0), true)
	f.Add([]byte(bounce), byte(5), int64(0), "MEUCIQ==", "1700000000", byte(0), false)
	key := sandboxKey(f)
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, mode byte, offset int64, rawSig, rawTS string, fail byte, endless bool) {
		fresh := strconv.FormatInt(now.Add(time.Duration(offset%600)*time.Second).Unix(), 10)
		var hdr http.Header
		send := body
		switch mode % 8 {
		case 0: // valid
			hdr = signSendGrid(t, key, fresh, body)
		case 1: // stale or future: outside the window
			d := frontdoor.SendGridWindow + time.Duration(offset%1e6)*time.Second
			if offset < 0 {
				d = -frontdoor.SendGridWindow + time.Duration(offset%1e6)*time.Second
			}
			hdr = signSendGrid(t, key, strconv.FormatInt(now.Add(-d).Unix(), 10), body)
		case 2: // another key
			hdr = signSendGrid(t, otherKey, fresh, body)
		case 3: // body changed after signing
			hdr = signSendGrid(t, key, fresh, body)
			send = append(bytes.Clone(body), ' ')
		case 4: // timestamp changed after signing (still fresh)
			hdr = signSendGrid(t, key, fresh, body)
			n, _ := strconv.ParseInt(fresh, 10, 64)
			hdr.Set(eventwebhook.TimestampHTTPHeader, strconv.FormatInt(n+1, 10))
		case 5: // raw headers
			hdr = http.Header{eventwebhook.VerificationHTTPHeader: {rawSig}, eventwebhook.TimestampHTTPHeader: {rawTS}}
		case 6: // no headers
			hdr = http.Header{}
		case 7: // a valid signature with a raw timestamp header
			hdr = signSendGrid(t, key, fresh, body)
			hdr.Set(eventwebhook.TimestampHTTPHeader, rawTS)
		}
		valid := !endless && sendGridSignatureValid(hdr, send)
		want, parses := wantSendGridSignals(send)

		sig := &scriptedSignaler{script: script(fail)}
		s, pw := fuzzServer(t, sig)
		deliver := func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/sendgrid/events", nil)
			for k, v := range hdr {
				req.Header[k] = v
			}
			return serve(t, s, pw, req, &countingBody{r: bytes.NewReader(send), endless: endless}, eventsLimit)
		}
		first := deliver()
		calls1, failed1, applied1 := sig.snapshot()
		if !valid {
			if calls1 != 0 {
				t.Fatalf("unverified request (mode %d): %d signal(s)", mode%8, calls1)
			}
			if first.Code != http.StatusUnauthorized && first.Code != http.StatusForbidden && first.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("unverified request (mode %d): %d, want 401, 403 or 413", mode%8, first.Code)
			}
			return
		}
		switch {
		case !parses && first.Code != http.StatusBadRequest:
			t.Fatalf("signed non-batch %q: %d, want 400", send, first.Code)
		case parses && first.Code == http.StatusServiceUnavailable && failed1 == 0:
			t.Fatalf("503 but Temporal did not fail")
		case parses && first.Code != http.StatusNoContent && first.Code != http.StatusServiceUnavailable:
			t.Fatalf("signed batch: %d, want 204 (or 503 when Temporal fails)", first.Code)
		case !parses:
			return
		}

		// SendGrid delivers the same request again: what was applied stays
		// applied once; what failed is applied now.
		sig.heal()
		second := deliver()
		_, _, applied := sig.snapshot()
		if second.Code != http.StatusNoContent {
			t.Fatalf("redelivery with Temporal up: %d, want 204", second.Code)
		}
		if first.Code == http.StatusNoContent && len(applied) != len(applied1) {
			t.Fatalf("redelivery of an applied batch sent %d more signal(s)", len(applied)-len(applied1))
		}
		got := map[string]int{}
		for _, a := range applied {
			ev, ok := a.Arg.(workflows.DeliveryEvent)
			if !ok || a.Name != workflows.SignalDelivery {
				t.Fatalf("signal %+v, want a delivery event", a)
			}
			id := ev.Evidence.EventID
			got[id]++
			if got[id] > 1 {
				t.Fatalf("event %q applied %d times", id, got[id])
			}
			if recall, ok := want[id]; !ok || recall != a.WorkflowID {
				t.Fatalf("event %q signalled to %q, want %q (wanted: %v)", id, a.WorkflowID, recall, want)
			}
		}
		// Events whose Recall is closed (not found) are done, not retried.
		if len(got) > len(want) {
			t.Fatalf("signalled %v, want a subset of %v", got, want)
		}
		if fail == 0 && len(got) != len(want) {
			t.Fatalf("signalled %v, want %v", got, want)
		}
	})
}

// twilioRoutes are the Twilio webhooks, all verified the same way.
var twilioRoutes = []string{
	"/webhooks/twilio/voice/twiml",
	"/webhooks/twilio/voice/gather",
	"/webhooks/twilio/voice/status",
	"/webhooks/twilio/sms/status",
}

// twilioExpected is our own X-Twilio-Signature of a request as the server
// sees it: base64 HMAC-SHA1 over the public URL and, sorted by key, each
// key with its first value (twilio-go's validator reads only the first).
func twilioExpected(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		if len(form[k]) > 0 {
			b.WriteString(k + form[k][0])
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// twilioCorrelation makes the t parameter: a valid voice token, an expired
// one, one for e-mail links, one signed with another secret, or raw.
func twilioCorrelation(t testing.TB, kind byte, raw string) string {
	t.Helper()
	links, _ := linktoken.NewSigner(linkSecret)
	other, _ := linktoken.NewSigner("another-secret-another-secret-xxx")
	switch kind % 5 {
	case 0:
		tok, err := links.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: linktoken.PurposeVoice, Attempt: 1, Expires: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	case 1:
		return token(t, links, linktoken.PurposeVoice, now.Add(-time.Minute))
	case 2:
		return token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour))
	case 3:
		tok, _ := other.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: linktoken.PurposeVoice, Expires: now.Add(time.Hour)})
		return tok
	}
	return raw
}

// isTwiML reports whether body is a TwiML <Response>.
func isTwiML(body []byte) bool {
	var r struct {
		XMLName xml.Name
	}
	return xml.Unmarshal(body, &r) == nil && r.XMLName.Local == "Response"
}

// FuzzTwilioWebhooks: the four Twilio webhooks with arbitrary forms and
// query strings. mode 0 signs the request as Twilio does, with the test
// auth token, so the handlers' logic runs; the others forge or tamper.
// Every request is delivered twice with the same I-Twilio-Idempotency-
// Token (when it has one), as Twilio retries.
func FuzzTwilioWebhooks(f *testing.F) {
	call := "CallSid=CA0001&AccountSid=AC1&CallStatus=in-progress"
	for route := range byte(4) {
		for mode := range byte(6) {
			f.Add(route, byte(0), "", "", []byte(call+"&Digits=1"), mode, "", byte(0))
		}
	}
	f.Add(byte(1), byte(0), "", "r=1", []byte("CallSid=CA1&Digits=7"), byte(0), "", byte(0))
	f.Add(byte(1), byte(0), "", "r=0", []byte("CallSid=CA1&Digits="), byte(0), "", byte(0))
	f.Add(byte(1), byte(0), "", "r=x", []byte("CallSid=CA1&Digits=2"), byte(0), "", byte(0))
	f.Add(byte(1), byte(0), "", "", []byte("CallSid=CA1&Digits=1&Digits=2"), byte(0), "", byte(0))
	f.Add(byte(2), byte(0), "", "", []byte("CallSid=CA7&CallStatus=no-answer"), byte(0), "idem-1", byte(0))
	f.Add(byte(2), byte(0), "", "", []byte("CallSid=CA7&CallStatus=busy"), byte(0), "", byte(1))
	f.Add(byte(2), byte(0), "", "", []byte("CallSid=CA7&CallStatus=failed"), byte(0), "idem-2", byte(2))
	f.Add(byte(3), byte(0), "", "", []byte("MessageSid=SM1&MessageStatus=delivered"), byte(0), "idem-3", byte(0))
	f.Add(byte(3), byte(0), "", "", []byte("MessageSid=SM1&MessageStatus=undelivered"), byte(0), "", byte(0))
	f.Add(byte(0), byte(0), "", "r=1&t=other", []byte(call), byte(0), "idem-4", byte(0))
	f.Add(byte(1), byte(1), "", "", []byte("CallSid=CA1&Digits=1"), byte(0), "", byte(0))
	f.Add(byte(1), byte(2), "", "", []byte("CallSid=CA1&Digits=1"), byte(0), "", byte(0))
	f.Add(byte(1), byte(3), "", "", []byte("CallSid=CA1&Digits=1"), byte(0), "", byte(0))
	f.Add(byte(1), byte(4), "a.b", "", []byte("CallSid=CA1&Digits=1"), byte(0), "", byte(0))
	f.Add(byte(1), byte(0), "", "%zz", []byte("CallSid=CA1&Digits=1"), byte(0), "", byte(0))
	f.Add(byte(1), byte(0), "", "", []byte("CallSid=CA1;Digits=1%"), byte(0), "", byte(0))
	f.Fuzz(func(t *testing.T, route, tokKind byte, rawTok, query string, body []byte, mode byte, idem string, fail byte) {
		path := twilioRoutes[int(route)%len(twilioRoutes)]
		tok := twilioCorrelation(t, tokKind, rawTok)
		target := path + "?t=" + url.QueryEscape(tok)
		if query != "" {
			target += "&" + query
		}
		// Build the request the way net/http's server reads one; inputs it
		// would refuse never reach a handler.
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("POST " + target + " HTTP/1.1\r\nHost: front.door\r\n\r\n")))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form, formErr := url.ParseQuery(string(body))
		_, queryErr := url.ParseQuery(req.URL.RawQuery)
		full := publicURL + req.URL.RequestURI()
		good := twilioExpected(twilioToken, full, form)
		switch mode % 6 {
		case 0:
			req.Header.Set("X-Twilio-Signature", good)
		case 1: // another auth token
			req.Header.Set("X-Twilio-Signature", twilioExpected("not-the-token", full, form))
		case 2: // over the internal URL, not the public one
			req.Header.Set("X-Twilio-Signature", twilioExpected(twilioToken, "http://127.0.0.1:8080"+req.URL.RequestURI(), form))
		case 3: // the form changed after signing
			req.Header.Set("X-Twilio-Signature", good)
			body = append([]byte("Tampered=1&"), body...)
		case 4: // no signature
		case 5: // raw
			req.Header.Set("X-Twilio-Signature", rawTok)
		}
		if idem != "" {
			req.Header.Set("I-Twilio-Idempotency-Token", idem)
		}
		// Whether the server may act: our own signature check over the
		// form as sent, and a voice token.
		sent, sentErr := url.ParseQuery(string(body))
		signed := formErr == nil && sentErr == nil && queryErr == nil &&
			hmac.Equal([]byte(req.Header.Get("X-Twilio-Signature")), []byte(twilioExpected(twilioToken, full, sent)))
		links, _ := linktoken.NewSigner(linkSecret)
		claims, tokErr := links.Verify(req.URL.Query().Get("t"), linktoken.PurposeVoice, now)
		authentic := signed && tokErr == nil

		sig := &scriptedSignaler{script: script(fail)}
		s, pw := fuzzServer(t, sig)
		deliver := func() *httptest.ResponseRecorder {
			r := req.Clone(context.Background())
			return serve(t, s, pw, r, &countingBody{r: bytes.NewReader(body)}, formLimit)
		}
		first := deliver()
		calls1, failed1, applied1 := sig.snapshot()
		if !authentic {
			if calls1 != 0 {
				t.Fatalf("unauthenticated request (mode %d, token %v): %d signal(s)", mode%6, tokErr, calls1)
			}
			if first.Code != http.StatusForbidden && first.Code != http.StatusBadRequest {
				t.Fatalf("unauthenticated request (mode %d, token %v): %d, want 403 (or 400 for an unreadable form)", mode%6, tokErr, first.Code)
			}
			return
		}
		for _, a := range applied1 {
			if a.WorkflowID != claims.WorkflowID {
				t.Fatalf("signal to %q, the token names %q", a.WorkflowID, claims.WorkflowID)
			}
		}
		twimlPath := path == "/webhooks/twilio/voice/twiml" || path == "/webhooks/twilio/voice/gather"
		switch {
		case first.Code == http.StatusServiceUnavailable:
			if failed1 == 0 {
				t.Fatal("503 but Temporal did not fail")
			}
		case first.Code == http.StatusOK:
			if !twimlPath || !isTwiML(first.Body.Bytes()) {
				t.Fatalf("200 from %s: %q", path, first.Body.String())
			}
		case first.Code == http.StatusNoContent:
			// Status callbacks, and a TwiML request whose Recall is over.
			if twimlPath && fail == 0 {
				t.Fatalf("%s with Temporal up: 204, want TwiML", path)
			}
		default:
			t.Fatalf("signed request to %s: %d", path, first.Code)
		}

		// Twilio delivers the same request again.
		sig.heal()
		second := deliver()
		calls2, _, applied2 := sig.snapshot()
		if second.Code >= 300 {
			t.Fatalf("redelivery with Temporal up: %d %q", second.Code, second.Body.String())
		}
		if idem == "" {
			return // nothing to dedupe by; the Recall dedupes by event ID
		}
		switch first.Code {
		case http.StatusServiceUnavailable:
			// Nothing was applied: the retry must apply it.
			if len(applied2) == len(applied1) && calls2 == calls1 {
				t.Fatalf("%s: the retry of a request answered 503 applied nothing (first %d call(s), %d applied)", path, calls1, len(applied1))
			}
		default:
			if calls2 != calls1 {
				t.Fatalf("%s: a replay with the same idempotency token sent %d more signal(s)", path, calls2-calls1)
			}
			if twimlPath && first.Code == http.StatusOK && (second.Code != http.StatusOK || !isTwiML(second.Body.Bytes())) {
				t.Fatalf("%s: the replay was answered %d %q, the first delivery TwiML", path, second.Code, second.Body.String())
			}
		}
	})
}

// rawRequests are seeds of FuzzFrontDoorRequest: requests as they arrive
// on the wire, some of them validly signed.
func rawRequests(t testing.TB) [][]byte {
	links, _ := linktoken.NewSigner(linkSecret)
	email := token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour))
	voice := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	sgBody := `[{"event":"delivered","sg_event_id":"ev-1","breachflow_recall":"INC-1/recall/R00001"}]`
	ts := strconv.FormatInt(now.Unix(), 10)
	sgHdr := signSendGrid(t, sandboxKey(t), ts, []byte(sgBody))
	gather := url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}
	gatherPath := "/webhooks/twilio/voice/gather?t=" + voice
	return [][]byte{
		[]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("GET /confirm/" + email + " HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("POST /confirm/" + email + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nconfirm=deleted"),
		[]byte("POST /confirm/" + email + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nf\r\nconfirm=deleted\r\n0\r\n\r\n"),
		[]byte("POST /webhooks/sendgrid/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			eventwebhook.VerificationHTTPHeader + ": " + sgHdr.Get(eventwebhook.VerificationHTTPHeader) + "\r\n" +
			eventwebhook.TimestampHTTPHeader + ": " + ts + "\r\nContent-Length: " + strconv.Itoa(len(sgBody)) + "\r\n\r\n" + sgBody),
		[]byte("POST " + gatherPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			"X-Twilio-Signature: " + twilioExpected(twilioToken, publicURL+gatherPath, gather) + "\r\nI-Twilio-Idempotency-Token: i1\r\n" +
			"Content-Length: " + strconv.Itoa(len(gather.Encode())) + "\r\n\r\n" + gather.Encode()),
		[]byte("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("POST /webhooks/twilio/sms/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
		[]byte("GET /confirm/%ZZ HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("GET /confirm/a/b/../c HTTP/1.1\r\nHost: x\r\n\r\n"),
	}
}

// FuzzFrontDoorRequest: arbitrary HTTP/1.1 requests, parsed as net/http's
// server parses them, against every route of the front door. Seeds include
// validly signed requests; whatever the fuzzer makes of them, a signal
// must only ever follow a request our own checks accept.
func FuzzFrontDoorRequest(f *testing.F) {
	for _, r := range rawRequests(f) {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, eventsLimit+2))
		if err != nil {
			return // a malformed chunked body: the server fails the read the same way
		}
		sig := &scriptedSignaler{}
		s, pw := fuzzServer(t, sig)
		serve(t, s, pw, req, &countingBody{r: bytes.NewReader(body)}, eventsLimit)
		calls, _, applied := sig.snapshot()
		if calls == 0 {
			return
		}
		// Something was signalled: the request must pass our own checks.
		switch p := req.URL.Path; {
		case req.Method == http.MethodPost && strings.HasPrefix(p, "/confirm/"):
			tok, err := url.PathUnescape(strings.TrimPrefix(req.URL.EscapedPath(), "/confirm/"))
			c, ok := verifiedLink(tok)
			if err != nil || !ok || applied[0].WorkflowID != c.WorkflowID {
				t.Fatalf("confirmation signalled for %q without a valid link", p)
			}
		case p == "/webhooks/sendgrid/events":
			if !sendGridSignatureValid(req.Header, body) {
				t.Fatal("SendGrid event signalled without a valid signature")
			}
		case slices.Contains(twilioRoutes, p):
			form, err := url.ParseQuery(string(body))
			links, _ := linktoken.NewSigner(linkSecret)
			_, tokErr := links.Verify(req.URL.Query().Get("t"), linktoken.PurposeVoice, now)
			if err != nil || tokErr != nil || req.Header.Get("X-Twilio-Signature") != twilioExpected(twilioToken, publicURL+req.URL.RequestURI(), form) {
				t.Fatal("Twilio webhook signalled without a valid signature and token")
			}
		default:
			t.Fatalf("%s %s signalled", req.Method, p)
		}
	})
}
