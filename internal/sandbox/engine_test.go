package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"github.com/stretchr/testify/require"
)

// fakeEngine stands in for `starter serve`: it verifies and records what the
// sandbox's simulated recipients send.
type fakeEngine struct {
	t   *testing.T
	srv *httptest.Server

	mu           sync.Mutex
	sgPublicKey  string
	events       []map[string]any
	badSigs      int
	failNext     int // answer this many event posts with 503
	eventPosts   int
	confirmGETs  map[string]int
	confirmPOSTs map[string]int
	postErrors   []string
	// extra handlers registered by stage-specific tests
	mux *http.ServeMux
}

var confirmPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>削除の確認</title></head>
<body>
<p>メールと添付ファイルを削除しましたか？</p>
<form method="get" action="/search"><input name="q" value="nope"></form>
<form method="POST" action="{{.Action}}">
  <input type="hidden" name="csrf" value="{{.CSRF}}">
  <input type="checkbox" name="deleted_attachment" value="yes" checked>
  <input type="checkbox" name="unchecked" value="no">
  <button type="submit" name="answer" value="deleted">削除しました</button>
  <button type="submit" name="answer" value="not_yet">まだです</button>
</form>
</body></html>`))

func newFakeEngine(t *testing.T) *fakeEngine {
	t.Helper()
	e := &fakeEngine{t: t, confirmGETs: map[string]int{}, confirmPOSTs: map[string]int{}, mux: http.NewServeMux()}
	e.mux.HandleFunc("POST /webhooks/sendgrid/events", e.handleEvents)
	e.mux.HandleFunc("GET /confirm/{token}", func(w http.ResponseWriter, r *http.Request) {
		tok := r.PathValue("token")
		e.mu.Lock()
		e.confirmGETs[tok]++
		e.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "c-" + tok, Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// A relative action: the sandbox must resolve it against the page URL.
		_ = confirmPage.Execute(w, map[string]string{"Action": tok + "?via=form", "CSRF": "c-" + tok})
	})
	e.mux.HandleFunc("POST /confirm/{token}", func(w http.ResponseWriter, r *http.Request) {
		tok := r.PathValue("token")
		fail := func(msg string) {
			e.mu.Lock()
			e.postErrors = append(e.postErrors, msg)
			e.mu.Unlock()
			http.Error(w, msg, http.StatusBadRequest)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			fail("content type " + ct)
			return
		}
		if err := r.ParseForm(); err != nil {
			fail(err.Error())
			return
		}
		c, err := r.Cookie("csrf")
		switch {
		case err != nil || c.Value != "c-"+tok:
			fail("missing csrf cookie")
			return
		case r.PostForm.Get("csrf") != "c-"+tok:
			fail("csrf field " + r.PostForm.Get("csrf"))
			return
		case r.PostForm.Get("answer") != "deleted" || r.PostForm.Get("deleted_attachment") != "yes" || r.PostForm.Has("unchecked") || r.PostForm.Has("q"):
			fail("form " + r.PostForm.Encode())
			return
		case r.URL.Query().Get("via") != "form":
			fail("action not resolved: " + r.URL.String())
			return
		}
		e.mu.Lock()
		e.confirmPOSTs[tok]++
		e.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<p>ありがとうございました</p>")
	})
	e.srv = httptest.NewServer(e.mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *fakeEngine) handleEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.eventPosts++
	pk, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(e.sgPublicKey)
	if err != nil {
		e.badSigs++
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	ok, err := eventwebhook.VerifySignature(pk, body, r.Header.Get(eventwebhook.VerificationHTTPHeader), r.Header.Get(eventwebhook.TimestampHTTPHeader))
	if err != nil || !ok {
		e.badSigs++
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	if e.failNext > 0 {
		e.failNext--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var evs []map[string]any
	if err := json.Unmarshal(body, &evs); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.events = append(e.events, evs...)
	w.WriteHeader(http.StatusOK)
}

func (e *fakeEngine) URL() string { return e.srv.URL }

// eventsFor returns the recorded event names for an address, in order.
func (e *fakeEngine) eventsFor(addr string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		if ev["email"] == addr {
			out = append(out, ev["event"].(string))
		}
	}
	return out
}

func (e *fakeEngine) snapshot() (gets, posts map[string]int, errs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	gets, posts = map[string]int{}, map[string]int{}
	for k, v := range e.confirmGETs {
		gets[k] = v
	}
	for k, v := range e.confirmPOSTs {
		posts[k] = v
	}
	return gets, posts, append([]string(nil), e.postErrors...)
}

// newTestSandbox starts a sandbox wired to e and served by an httptest
// server; both are closed when the test ends.
func newTestSandbox(t *testing.T, e *fakeEngine, cfg Config) (*Sandbox, string) {
	t.Helper()
	cfg.EngineURL = e.URL()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 1000
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg.SandboxURL = "http://" + srv.Listener.Addr().String()
	sb, err := New(cfg)
	require.NoError(t, err)
	sb.webhookBackoff = 2 * time.Millisecond
	e.mu.Lock()
	e.sgPublicKey = sb.SendGridPublicKey()
	e.mu.Unlock()
	srv.Config.Handler = sb.Handler()
	srv.Start()
	t.Cleanup(func() {
		sb.Close()
		srv.Close()
	})
	return sb, srv.URL
}

// sendMail sends m with sendgrid-go's request builder, as the engine does.
func sendMail(t *testing.T, sandboxURL, key string, body []byte) *rest.Response {
	t.Helper()
	req := sendgrid.GetRequest(key, "/v3/mail/send", sandboxURL+"/sendgrid")
	req.Method = rest.Post
	req.Body = body
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := (&rest.Client{HTTPClient: &http.Client{Timeout: 10 * time.Second}}).SendWithContext(ctx, req)
	require.NoError(t, err)
	return resp
}

// notice builds the kind of mail the engine sends: one personalization per
// recipient, a confirmation link in the text body.
func notice(engineURL string, addrs ...string) *mail.SGMailV3 {
	m := mail.NewV3Mail()
	m.SetFrom(mail.NewEmail("Security Team", "security@example.com"))
	m.Subject = "【重要】誤送信メールの削除のお願い"
	m.AddContent(
		mail.NewContent("text/plain", "お手数ですが、削除後に次のリンクから確認してください。\n"),
		mail.NewContent("text/html", "<p>placeholder</p>"),
	)
	for i, a := range addrs {
		p := mail.NewPersonalization()
		p.AddTos(mail.NewEmail("", a))
		tok := fmt.Sprintf("tok%02d", i+1)
		p.SetSubstitution("-link-", engineURL+"/confirm/"+tok)
		p.SetCustomArg("notification_id", fmt.Sprintf("N%02d", i+1))
		p.SetCustomArg("request_key", "INC-1/"+tok)
		m.AddPersonalizations(p)
	}
	m.Content[0].Value = "お手数ですが、削除後に次のリンクから確認してください。\n-link-。\n他のURL: https://example.com/help\n"
	m.Content[1].Value = `<p><a href="-link-">確認する</a></p>`
	m.SetCustomArg("incident_id", "INC-20250101-ABCDEF")
	m.AddCategories("breach-notice")
	return m
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tokenOf maps a test address to its confirmation token.
func tokenOf(i int) string { return fmt.Sprintf("tok%02d", i) }
