package frontdoor_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/frontdoor"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// twilioSign computes X-Twilio-Signature as Twilio does: base64 of
// HMAC-SHA1(auth token, full URL + each sorted key and value).
func twilioSign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		for _, v := range form[k] {
			s += k + v
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type twiML struct {
	Say      []say     `xml:"Say"`
	Gather   *gather   `xml:"Gather"`
	Redirect string    `xml:"Redirect"`
	Hangup   *struct{} `xml:"Hangup"`
}

type gather struct {
	Action    string `xml:"action,attr"`
	NumDigits string `xml:"numDigits,attr"`
	Say       []say  `xml:"Say"`
}

type say struct {
	Language string `xml:"language,attr"`
	Text     string `xml:",chardata"`
}

// TwiML attribute order is not stable (twilio-go builds it from maps):
// parse, never compare strings.
func parseTwiML(t *testing.T, body string) twiML {
	t.Helper()
	var r twiML
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("TwiML does not parse: %v\n%s", err, body)
	}
	return r
}

func postTwilio(s http.Handler, path string, form url.Values, sign func(full string) string) (int, string) {
	body, hdr := form2(form)
	hdr.Set("X-Twilio-Signature", sign(publicURL+path))
	w := do(s, "POST", path, body, hdr)
	return w.Code, w.Body.String()
}

func form2(v url.Values) (*strings.Reader, http.Header) {
	return strings.NewReader(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

func TestTwilioVoiceCall(t *testing.T) {
	s, rec, links := newServer(t)
	tok := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	good := func(form url.Values) func(string) string {
		return func(full string) string { return twilioSign(twilioToken, full, form) }
	}
	call := url.Values{"CallSid": {"CA0001"}, "AccountSid": {"AC1"}, "CallStatus": {"in-progress"}}

	// The call fetches its TwiML: Japanese speech inside a one-digit Gather
	// whose action is an absolute URL on the public base.
	code, body := postTwilio(s, "/webhooks/twilio/voice/twiml?t="+tok, call, good(call))
	if code != 200 {
		t.Fatalf("twiml = %d %s", code, body)
	}
	tw := parseTwiML(t, body)
	if tw.Gather == nil || tw.Gather.NumDigits != "1" || !strings.HasPrefix(tw.Gather.Action, publicURL+"/webhooks/twilio/voice/gather?") {
		t.Fatalf("gather = %+v", tw.Gather)
	}
	if len(tw.Gather.Say) != 1 || tw.Gather.Say[0].Language != "ja-JP" || !strings.Contains(tw.Gather.Say[0].Text, "1を押して") {
		t.Fatalf("say = %+v", tw.Gather.Say)
	}
	gatherPath := strings.TrimPrefix(tw.Gather.Action, publicURL)

	tests := []struct {
		name       string
		digits     string
		path       string
		wantSignal string
		wantKind   workflows.DeliveryKind
		check      func(t *testing.T, tw twiML)
	}{
		{"1 confirms deletion by phone", "1", gatherPath, workflows.SignalConfirmation, "", func(t *testing.T, tw twiML) {
			if tw.Hangup == nil || len(tw.Say) == 0 {
				t.Errorf("want thanks and hangup: %+v", tw)
			}
		}},
		{"2 asks for a call back", "2", gatherPath, workflows.SignalDelivery, workflows.DeliveryCallbackRequested, nil},
		{"silence repeats the question once", "", gatherPath, "", "", func(t *testing.T, tw twiML) {
			if !strings.Contains(tw.Redirect, "r=1") {
				t.Errorf("want a redirect to the repeat: %+v", tw)
			}
		}},
		{"another key on the repeat ends the call", "7", strings.Replace(gatherPath, "r=0", "r=1", 1), workflows.SignalDelivery, workflows.DeliveryNoResponse, func(t *testing.T, tw twiML) {
			if tw.Hangup == nil {
				t.Errorf("want hangup: %+v", tw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.all())
			f := url.Values{"CallSid": {"CA0001"}, "Digits": {tt.digits}}
			code, body := postTwilio(s, tt.path, f, good(f))
			if code != 200 {
				t.Fatalf("gather = %d %s", code, body)
			}
			sigs := rec.all()[before:]
			if tt.wantSignal == "" {
				if len(sigs) != 0 {
					t.Fatalf("signals = %+v, want none", sigs)
				}
			} else {
				if len(sigs) != 1 || sigs[0].Name != tt.wantSignal || sigs[0].WorkflowID != "INC-1/recall/R00001" {
					t.Fatalf("signals = %+v", sigs)
				}
				if c, ok := sigs[0].Arg.(workflows.Confirmation); ok && (c.Evidence.CallSID != "CA0001" || c.Evidence.Digits != "1") {
					t.Errorf("evidence = %+v", c.Evidence)
				}
				if e, ok := sigs[0].Arg.(workflows.DeliveryEvent); ok && e.Kind != tt.wantKind {
					t.Errorf("kind = %s, want %s", e.Kind, tt.wantKind)
				}
			}
			if tt.check != nil {
				tt.check(t, parseTwiML(t, body))
			}
		})
	}
}

func TestTwilioWebhooksRefuseForgedRequests(t *testing.T) {
	s, rec, links := newServer(t)
	tok := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	emailTok := url.QueryEscape(token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour)))
	expired := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(-time.Minute)))
	f := url.Values{"CallSid": {"CA9"}, "Digits": {"1"}}
	sign := func(token string, tamper func(string) string) func(string) string {
		return func(full string) string { return twilioSign(token, tamper(full), f) }
	}
	same := func(s string) string { return s }
	tests := []struct {
		name string
		path string
		sign func(string) string
		want int
	}{
		{"wrong auth token", "/webhooks/twilio/voice/gather?t=" + tok, sign("not-the-token", same), 403},
		{"signed for another URL", "/webhooks/twilio/voice/gather?t=" + tok, sign(twilioToken, func(s string) string { return strings.Replace(s, "gather", "status", 1) }), 403},
		{"signed over the internal host, not the public URL", "/webhooks/twilio/voice/gather?t=" + tok, sign(twilioToken, func(s string) string { return strings.Replace(s, publicURL, "http://127.0.0.1:8080", 1) }), 403},
		{"unsigned", "/webhooks/twilio/voice/gather?t=" + tok, func(string) string { return "" }, 403},
		{"valid signature, token for e-mail links", "/webhooks/twilio/voice/gather?t=" + emailTok, sign(twilioToken, same), 403},
		{"valid signature, expired token", "/webhooks/twilio/voice/gather?t=" + expired, sign(twilioToken, same), 403},
		{"valid signature, no token", "/webhooks/twilio/voice/gather", sign(twilioToken, same), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _ := postTwilio(s, tt.path, f, tt.sign)
			if code != tt.want {
				t.Fatalf("status = %d, want %d", code, tt.want)
			}
			if n := len(rec.all()); n != 0 {
				t.Fatalf("%d signals sent, want none", n)
			}
		})
	}
}

func TestTwilioStatusCallbacks(t *testing.T) {
	s, rec, links := newServer(t)
	tok := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	path := "/webhooks/twilio/voice/status?t=" + tok
	for _, status := range []string{"initiated", "ringing", "no-answer"} {
		f := url.Values{"CallSid": {"CA7"}, "CallStatus": {status}}
		body, hdr := form2(f)
		hdr.Set("X-Twilio-Signature", twilioSign(twilioToken, publicURL+path, f))
		hdr.Set("I-Twilio-Idempotency-Token", "idem-"+status)
		if w := do(s, "POST", path, body, hdr); w.Code != http.StatusNoContent {
			t.Fatalf("%s: status %d", status, w.Code)
		}
	}
	// Twilio retries the no-answer callback with the same idempotency token.
	f := url.Values{"CallSid": {"CA7"}, "CallStatus": {"no-answer"}}
	body, hdr := form2(f)
	hdr.Set("X-Twilio-Signature", twilioSign(twilioToken, publicURL+path, f))
	hdr.Set("I-Twilio-Idempotency-Token", "idem-no-answer")
	if w := do(s, "POST", path, body, hdr); w.Code != http.StatusNoContent {
		t.Fatalf("retry: status %d", w.Code)
	}
	sigs := rec.all()
	if len(sigs) != 1 {
		t.Fatalf("signals = %+v, want exactly the no-answer", sigs)
	}
	ev := sigs[0].Arg.(workflows.DeliveryEvent)
	if ev.Kind != workflows.DeliveryNoAnswer || ev.Evidence.EventID != "CA7:no-answer" {
		t.Errorf("event = %+v", ev)
	}
}

// Of an SMS's status callbacks only a failure reaches the Recall: a
// delivered SMS changes nothing there (the send's answer said Twilio took
// it; the link click confirms).
func TestTwilioSMSStatusCallbacks(t *testing.T) {
	s, rec, links := newServer(t)
	tok := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	path := "/webhooks/twilio/sms/status?t=" + tok
	for _, st := range []struct{ sid, status string }{{"SM1", "queued"}, {"SM1", "sent"}, {"SM1", "delivered"}, {"SM2", "sent"}, {"SM2", "undelivered"}} {
		f := url.Values{"MessageSid": {st.sid}, "MessageStatus": {st.status}}
		body, hdr := form2(f)
		hdr.Set("X-Twilio-Signature", twilioSign(twilioToken, publicURL+path, f))
		hdr.Set("I-Twilio-Idempotency-Token", "idem-"+st.sid+"-"+st.status)
		if w := do(s, "POST", path, body, hdr); w.Code != http.StatusNoContent {
			t.Fatalf("%s %s: status %d", st.sid, st.status, w.Code)
		}
	}
	sigs := rec.all()
	if len(sigs) != 1 {
		t.Fatalf("signals = %+v, want exactly the undelivered SMS", sigs)
	}
	ev := sigs[0].Arg.(workflows.DeliveryEvent)
	if ev.Channel != "sms" || ev.Kind != workflows.DeliveryFailed || ev.Evidence.EventID != "SM2:undelivered" {
		t.Errorf("event = %+v", ev)
	}
}

// gate is a Signaler whose first call waits until released and then
// fails, as a Temporal server going away mid-request would; later calls
// are recorded.
type gate struct {
	recorder
	entered, release chan struct{}
	once             sync.Once
}

func (g *gate) SignalWorkflow(ctx context.Context, id, run, name string, arg any) error {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.release
		return errors.New("server unavailable")
	}
	return g.recorder.SignalWorkflow(ctx, id, run, name, arg)
}

// Twilio retries a callback that takes long with the same idempotency
// token while the first delivery is still being applied. If the first then
// fails, the retry must apply the event: answering it as a replay while
// the first was in flight would lose the event for good.
func TestTwilioRetryDuringAFailingFirstDeliveryAppliesTheEvent(t *testing.T) {
	links, err := linktoken.NewSigner("test-secret-test-secret-test-secret")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	s, err := frontdoor.New(frontdoor.Config{
		Temporal: g, Links: links, SendGridPublicKey: config.SandboxSendGridWebhookPublicKey,
		PublicURL: publicURL, TwilioAuthToken: twilioToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	path := "/webhooks/twilio/voice/status?t=" + tok
	deliver := func() int {
		f := url.Values{"CallSid": {"CA9"}, "CallStatus": {"no-answer"}}
		body, hdr := form2(f)
		hdr.Set("X-Twilio-Signature", twilioSign(twilioToken, publicURL+path, f))
		hdr.Set("I-Twilio-Idempotency-Token", "idem-slow")
		return do(s, "POST", path, body, hdr).Code
	}
	firstCode := make(chan int, 1)
	go func() { firstCode <- deliver() }()
	<-g.entered // the first delivery is being applied

	retryCode := make(chan int, 1)
	go func() { retryCode <- deliver() }()
	select {
	case c := <-retryCode:
		t.Fatalf("the retry was answered (%d) while the first delivery was still in flight", c)
	case <-time.After(100 * time.Millisecond):
	}
	close(g.release)

	if c := <-firstCode; c != http.StatusServiceUnavailable {
		t.Errorf("first delivery: status %d, want 503 (try again)", c)
	}
	if c := <-retryCode; c != http.StatusNoContent {
		t.Errorf("retry: status %d, want 204", c)
	}
	if sigs := g.all(); len(sigs) != 1 || sigs[0].Arg.(workflows.DeliveryEvent).Evidence.EventID != "CA9:no-answer" {
		t.Errorf("signals = %+v, want the no-answer applied once, by the retry", sigs)
	}
	// A third delivery is a replay of an applied event.
	if c := deliver(); c != http.StatusNoContent {
		t.Errorf("third delivery: status %d", c)
	}
	if n := len(g.all()); n != 1 {
		t.Errorf("%d signals after a replay, want 1", n)
	}
}

// scripts answers a Recall's call script, or fails.
type scripts struct {
	asked []string
	fail  bool
}

func (s *scripts) Script(_ context.Context, wid string) (activities.VoiceScript, error) {
	s.asked = append(s.asked, wid)
	if s.fail {
		return activities.VoiceScript{}, errors.New("no worker answers")
	}
	return activities.NewVoiceScript(runbooks.NoticeData{Organization: "株式会社サンプル", ContactPhone: "0120-123-456"},
		activities.RequestContext{Message: runbooks.RecallMessage{
			Received: runbooks.Localized{Ja: "会員の皆様の個人情報を含むファイルを添付したメール", En: "x"},
			Delete:   runbooks.Localized{Ja: "そのメールと添付ファイル（ごみ箱からも）", En: "x"}}}), nil
}

// The call speaks its Recall's script, in the organisation's voice; when
// the Recall cannot be asked, the generic words still name the
// organisation.
func TestTwilioVoiceCall_SpeaksTheRecallsScript(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail bool
		want []string
	}{
		{"the Recall's script", false, []string{"こちらは、株式会社サンプルでございます。", "会員の皆様の個人情報を含むファイルを添付したメール", "そのメールと添付ファイルを削除されましたら、1を押してください。", "0120-123-456"}},
		{"the generic words when it cannot be asked", true, []string{"こちらは、株式会社ケース例でございます。", "個人情報を含むメール", "1を押してください"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			links, err := linktoken.NewSigner("test-secret-test-secret-test-secret")
			require.NoError(t, err)
			sc := &scripts{fail: tt.fail}
			s, err := frontdoor.New(frontdoor.Config{
				Temporal: &recorder{}, Links: links, SendGridPublicKey: config.SandboxSendGridWebhookPublicKey,
				PublicURL: publicURL, TwilioAuthToken: twilioToken, Voice: sc, Org: runbooks.NoticeData{Organization: "株式会社ケース例"},
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
			})
			require.NoError(t, err)
			tok := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
			call := url.Values{"CallSid": {"CA0001"}, "AccountSid": {"AC1"}, "CallStatus": {"in-progress"}}
			code, body := postTwilio(s, "/webhooks/twilio/voice/twiml?t="+tok, call, func(full string) string { return twilioSign(twilioToken, full, call) })
			require.Equal(t, 200, code, body)
			tw := parseTwiML(t, body)
			require.NotNil(t, tw.Gather)
			require.Len(t, tw.Gather.Say, 1)
			for _, w := range tt.want {
				require.Contains(t, tw.Gather.Say[0].Text, w)
			}
			require.Equal(t, []string{"INC-1/recall/R00001"}, sc.asked, "the script of the call's own Recall")
		})
	}
}

// A captured Twilio callback replayed, without I-Twilio-Idempotency-Token
// or with a fresh one each time (the header is not signed), is applied
// once: the key is what Twilio signs (the SID with the status or key
// pressed, on our URL).
func TestTwilioCallbacksReplayedApplyOnce(t *testing.T) {
	s, rec, links := newServer(t)
	tok := url.QueryEscape(token(t, links, linktoken.PurposeVoice, now.Add(time.Hour)))
	tests := []struct {
		name string
		path string
		form url.Values
	}{
		{"call status", "/webhooks/twilio/voice/status?t=" + tok, url.Values{"CallSid": {"CA9"}, "CallStatus": {"busy"}}},
		{"SMS status", "/webhooks/twilio/sms/status?t=" + tok, url.Values{"MessageSid": {"SM9"}, "MessageStatus": {"undelivered"}}},
		{"key 1 pressed", "/webhooks/twilio/voice/gather?r=0&t=" + tok, url.Values{"CallSid": {"CA9"}, "Digits": {"1"}}},
		{"key 2 pressed", "/webhooks/twilio/voice/gather?r=0&t=" + tok, url.Values{"CallSid": {"CA8"}, "Digits": {"2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.all())
			for i := range 50 {
				body, hdr := form2(tt.form)
				hdr.Set("X-Twilio-Signature", twilioSign(twilioToken, publicURL+tt.path, tt.form))
				switch i % 3 {
				case 1:
					hdr.Set("I-Twilio-Idempotency-Token", fmt.Sprintf("fresh-%d", i))
				case 2:
					hdr.Set("I-Twilio-Idempotency-Token", "same")
				}
				if w := do(s, "POST", tt.path, body, hdr); w.Code >= 300 {
					t.Fatalf("delivery %d: status %d", i+1, w.Code)
				}
			}
			if n := len(rec.all()) - before; n != 1 {
				t.Fatalf("50 deliveries sent %d signals, want 1", n)
			}
		})
	}
}
