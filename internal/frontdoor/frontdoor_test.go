package frontdoor_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
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

type signal struct {
	WorkflowID, Name string
	Arg              any
}

// recorder is a Signaler that records what the front door sends.
type recorder struct {
	mu      sync.Mutex
	signals []signal
	fail    error
}

func (r *recorder) SignalWorkflow(_ context.Context, id, _, name string, arg any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.signals = append(r.signals, signal{id, name, arg})
	return nil
}

// RecallStatus answers as the Recall would: the confirmations signalled
// to it so far.
func (r *recorder) RecallStatus(_ context.Context, id string) (workflows.RecallStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := workflows.RecallStatus{}
	for _, s := range r.signals {
		if c, ok := s.Arg.(workflows.Confirmation); ok && s.WorkflowID == id {
			st.Confirmations = append(st.Confirmations, workflows.ConfirmationRecord{Channel: c.Channel})
		}
	}
	return st, nil
}

func (r *recorder) all() []signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]signal(nil), r.signals...)
}

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	publicURL   = "https://breach.example.com"
	twilioToken = "twiliotoken0123456789"
)

func newServer(t testing.TB) (*frontdoor.Server, *recorder, *linktoken.Signer) {
	t.Helper()
	return restartServer(t, &recorder{})
}

// restartServer is a new front door (nothing in memory) on the same
// workflows.
func restartServer(t testing.TB, rec *recorder) (*frontdoor.Server, *recorder, *linktoken.Signer) {
	t.Helper()
	links, err := linktoken.NewSigner("test-secret-test-secret-test-secret")
	if err != nil {
		t.Fatal(err)
	}
	s, err := frontdoor.New(frontdoor.Config{
		Temporal: rec, Links: links, Recalls: rec, SendGridPublicKey: config.SandboxSendGridWebhookPublicKey,
		PublicURL: publicURL, TwilioAuthToken: twilioToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, rec, links
}

func token(t testing.TB, l *linktoken.Signer, p linktoken.Purpose, exp time.Time) string {
	t.Helper()
	tok, err := l.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: p, Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(s http.Handler, method, target string, body io.Reader, hdr http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func form(v url.Values) (io.Reader, http.Header) {
	return strings.NewReader(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

func TestConfirmationLink(t *testing.T) {
	s, rec, links := newServer(t)
	good := token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour))
	expired := token(t, links, linktoken.PurposeEmailConfirm, now.Add(-time.Second))
	voice := token(t, links, linktoken.PurposeVoice, now.Add(time.Hour))
	other, _ := linktoken.NewSigner("another-secret-another-secret-xxx")
	forged, _ := other.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: linktoken.PurposeEmailConfirm, Expires: now.Add(time.Hour)})

	tests := []struct {
		name        string
		method, tok string
		confirm     string
		want        int
		wantSignals int
		wantText    string
	}{
		{"GET shows the page and confirms nothing", "GET", good, "", 200, 0, "<form method=\"post\">"},
		{"HEAD confirms nothing", "HEAD", good, "", 200, 0, ""},
		{"POST from the page confirms", "POST", good, "deleted", 200, 1, "Thank you"},
		{"POST without the form field confirms nothing", "POST", good, "", 400, 0, ""},
		{"expired link", "POST", expired, "deleted", 410, 0, "expired"},
		{"forged link", "POST", forged, "deleted", 403, 0, "not valid"},
		{"token for another purpose", "POST", voice, "deleted", 403, 0, ""},
		{"garbage token", "GET", "abc.def", "", 403, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.all())
			var body io.Reader
			var hdr http.Header
			if tt.method == "POST" {
				v := url.Values{}
				if tt.confirm != "" {
					v.Set("confirm", tt.confirm)
				}
				body, hdr = form(v)
			}
			w := do(s, tt.method, "/confirm/"+tt.tok, body, hdr)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if got := len(rec.all()) - before; got != tt.wantSignals {
				t.Fatalf("signals = %d, want %d", got, tt.wantSignals)
			}
			if !strings.Contains(w.Body.String(), tt.wantText) {
				t.Errorf("body lacks %q", tt.wantText)
			}
		})
	}
	sig := rec.all()[0]
	c, ok := sig.Arg.(workflows.Confirmation)
	if sig.WorkflowID != "INC-1/recall/R00001" || sig.Name != workflows.SignalConfirmation || !ok || c.Channel != "email" || c.Evidence.Source != "link" {
		t.Errorf("signal = %+v", sig)
	}
}

func TestConfirmationOfAClosedRecallSaysSo(t *testing.T) {
	s, rec, links := newServer(t)
	rec.fail = serviceerror.NewNotFound("workflow not found")
	body, hdr := form(url.Values{"confirm": {"deleted"}})
	w := do(s, "POST", "/confirm/"+token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour)), body, hdr)
	if w.Code != http.StatusGone || !strings.Contains(w.Body.String(), "already closed") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

func sandboxKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	der, _ := base64.StdEncoding.DecodeString(config.SandboxSendGridWebhookPrivateKey)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}

func signSendGrid(t testing.TB, key *ecdsa.PrivateKey, ts string, body []byte) http.Header {
	t.Helper()
	h := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{
		eventwebhook.VerificationHTTPHeader: {base64.StdEncoding.EncodeToString(sig)},
		eventwebhook.TimestampHTTPHeader:    {ts},
		"Content-Type":                      {"application/json"},
	}
}

func TestSendGridEventWebhook(t *testing.T) {
	key := sandboxKey(t)
	otherKey, _ := ecdsa.GenerateKey(key.Curve, rand.Reader)
	fresh := strconv.FormatInt(now.Unix(), 10)
	stale := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	bounce := []byte(`[{"email":"x@example.jp","event":"bounce","sg_event_id":"ev-1","timestamp":1,"breachflow_recall":"INC-1/recall/R00001","breachflow_attempt":"1","category":["a"]},
{"email":"x@example.jp","event":"open","sg_event_id":"ev-2","breachflow_recall":"INC-1/recall/R00001"}]`)
	delivered := []byte(`[{"email":"y@example.jp","event":"processed","sg_event_id":"ev-3","breachflow_recall":"INC-1/recall/R00002","breachflow_attempt":"1"},
{"email":"y@example.jp","event":"delivered","sg_event_id":"ev-4","breachflow_recall":"INC-1/recall/R00002","breachflow_attempt":"1"}]`)

	tests := []struct {
		name        string
		body        []byte
		hdr         http.Header
		want        int
		wantSignals int
	}{
		{"signed bounce becomes one delivery signal", bounce, signSendGrid(t, key, fresh, bounce), 204, 1},
		{"the same delivery again (provider retry) changes nothing", bounce, signSendGrid(t, key, fresh, bounce), 204, 0},
		{"processed and delivered are taken but not signalled: they change nothing in a Recall", delivered, signSendGrid(t, key, fresh, delivered), 204, 0},
		{"stale timestamp", bounce, signSendGrid(t, key, stale, bounce), 401, 0},
		{"signed by another key", bounce, signSendGrid(t, otherKey, fresh, bounce), 403, 0},
		{"tampered body", append(bytes.Clone(bounce), ' '), signSendGrid(t, key, fresh, bounce), 403, 0},
		{"no signature", bounce, http.Header{eventwebhook.TimestampHTTPHeader: {fresh}}, 403, 0},
		{"signed garbage", []byte("{"), signSendGrid(t, key, fresh, []byte("{")), 400, 0},
	}
	s, rec, _ := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.all())
			w := do(s, "POST", "/webhooks/sendgrid/events", bytes.NewReader(tt.body), tt.hdr)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.want, w.Body.String())
			}
			if got := len(rec.all()) - before; got != tt.wantSignals {
				t.Fatalf("signals = %d, want %d", got, tt.wantSignals)
			}
		})
	}
	ev, ok := rec.all()[0].Arg.(workflows.DeliveryEvent)
	if !ok || ev.Kind != workflows.DeliveryBounced || ev.Evidence.EventID != "ev-1" || ev.Attempt != 1 {
		t.Errorf("signal = %+v", rec.all()[0])
	}
}
