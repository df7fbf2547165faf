package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMailSendValidation(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{
			"personalizations": []any{map[string]any{"to": []any{map[string]any{"email": "a@example.jp"}}}},
			"from":             map[string]any{"email": "security@example.com"},
			"subject":          "s",
			"content":          []any{map[string]any{"type": "text/plain", "value": "hello"}},
		}
	}
	pers := func(n, perPers int) []any {
		var ps []any
		for i := range n {
			var to []any
			for j := range perPers {
				to = append(to, map[string]any{"email": fmt.Sprintf("r%d-%d@example.jp", i, j)})
			}
			ps = append(ps, map[string]any{"to": to})
		}
		return ps
	}
	tests := []struct {
		name       string
		key        string
		raw        string
		edit       func(m map[string]any)
		wantStatus int
		wantField  string // field of the first error, for 400
		wantMsgs   int    // outbox messages added
	}{
		{name: "valid", wantStatus: 202, wantMsgs: 1},
		{name: "sandbox mode validates but delivers nothing", wantStatus: 200,
			edit: func(m map[string]any) {
				m["mail_settings"] = map[string]any{"sandbox_mode": map[string]any{"enable": true}}
			}},
		{name: "sandbox mode still validates", wantStatus: 400, wantField: "from.email",
			edit: func(m map[string]any) {
				m["mail_settings"] = map[string]any{"sandbox_mode": map[string]any{"enable": true}}
				delete(m, "from")
			}},
		{name: "no key", key: " ", wantStatus: 401},
		{name: "malformed json", raw: `{"personalizations":`, wantStatus: 400},
		{name: "wrong type", raw: `{"personalizations":"x"}`, wantStatus: 400, wantField: "personalizations"},
		{name: "no personalizations", wantStatus: 400, wantField: "personalizations",
			edit: func(m map[string]any) { m["personalizations"] = []any{} }},
		{name: "1000 personalizations is the limit", wantStatus: 202, wantMsgs: 1000,
			edit: func(m map[string]any) { m["personalizations"] = pers(1000, 1) }},
		{name: "1001 personalizations", wantStatus: 400, wantField: "personalizations",
			edit: func(m map[string]any) { m["personalizations"] = pers(1001, 1) }},
		{name: "more than 1000 recipients in total", wantStatus: 400, wantField: "personalizations",
			edit: func(m map[string]any) { m["personalizations"] = pers(334, 3) }},
		{name: "personalization without to", wantStatus: 400, wantField: "personalizations.0.to",
			edit: func(m map[string]any) { m["personalizations"] = []any{map[string]any{"subject": "x"}} }},
		{name: "invalid address", wantStatus: 400, wantField: "personalizations.0.to.0.email",
			edit: func(m map[string]any) {
				m["personalizations"] = []any{map[string]any{"to": []any{map[string]any{"email": "not an address"}}}}
			}},
		{name: "duplicate address across personalizations, any case", wantStatus: 400, wantField: "personalizations.1",
			edit: func(m map[string]any) {
				m["personalizations"] = []any{
					map[string]any{"to": []any{map[string]any{"email": "a@example.jp"}}},
					map[string]any{"to": []any{map[string]any{"email": "A@Example.jp"}}},
				}
			}},
		{name: "duplicate address between to and bcc", wantStatus: 400, wantField: "personalizations.0",
			edit: func(m map[string]any) {
				m["personalizations"] = []any{map[string]any{
					"to":  []any{map[string]any{"email": "a@example.jp"}},
					"bcc": []any{map[string]any{"email": "a@example.jp"}},
				}}
			}},
		{name: "no from", wantStatus: 400, wantField: "from.email", edit: func(m map[string]any) { delete(m, "from") }},
		{name: "no content", wantStatus: 400, wantField: "content", edit: func(m map[string]any) { delete(m, "content") }},
		{name: "template instead of content", wantStatus: 202, wantMsgs: 1,
			edit: func(m map[string]any) { delete(m, "content"); delete(m, "subject"); m["template_id"] = "d-123" }},
		{name: "empty content value", wantStatus: 400, wantField: "content.0.value",
			edit: func(m map[string]any) { m["content"] = []any{map[string]any{"type": "text/plain", "value": ""}} }},
		{name: "text/plain after text/html", wantStatus: 400, wantField: "content",
			edit: func(m map[string]any) {
				m["content"] = []any{map[string]any{"type": "text/html", "value": "<p>x</p>"}, map[string]any{"type": "text/plain", "value": "x"}}
			}},
		{name: "no subject", wantStatus: 400, wantField: "subject", edit: func(m map[string]any) { delete(m, "subject") }},
		{name: "subject in every personalization", wantStatus: 202, wantMsgs: 1,
			edit: func(m map[string]any) {
				delete(m, "subject")
				m["personalizations"] = []any{map[string]any{"subject": "p", "to": []any{map[string]any{"email": "a@example.jp"}}}}
			}},
		{name: "non-string custom arg", wantStatus: 400, wantField: "personalizations.0.custom_args.n",
			edit: func(m map[string]any) {
				m["personalizations"] = []any{map[string]any{"custom_args": map[string]any{"n": 7}, "to": []any{map[string]any{"email": "a@example.jp"}}}}
			}},
		{name: "non-string top-level custom arg", wantStatus: 400, wantField: "custom_args.b",
			edit: func(m map[string]any) { m["custom_args"] = map[string]any{"b": true} }},
		{name: "custom args of 10,000 bytes", wantStatus: 400, wantField: "personalizations.0.custom_args",
			edit: func(m map[string]any) { m["custom_args"] = map[string]any{"big": strings.Repeat("x", 10000)} }},
		{name: "11 categories", wantStatus: 400, wantField: "categories",
			edit: func(m map[string]any) {
				m["categories"] = []any{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Email: PersonaTable{Default: PersonaSpec{Persona: PersonaIgnore}}}})
			body := []byte(tc.raw)
			if tc.raw == "" {
				m := valid()
				if tc.edit != nil {
					tc.edit(m)
				}
				var err error
				body, err = json.Marshal(m)
				require.NoError(t, err)
			}
			key := tc.key
			if key == "" {
				key = "SG.test"
			}
			resp := sendMail(t, url, key, body)
			require.Equal(t, tc.wantStatus, resp.StatusCode, resp.Body)
			switch tc.wantStatus {
			case 202:
				assert.Len(t, http.Header(resp.Headers).Get("X-Message-Id"), 22)
				assert.Empty(t, resp.Body)
			case 400:
				var got struct {
					Errors []struct {
						Message string  `json:"message"`
						Field   *string `json:"field"`
						Help    *string `json:"help"`
					} `json:"errors"`
				}
				require.NoError(t, json.Unmarshal([]byte(resp.Body), &got), resp.Body)
				require.NotEmpty(t, got.Errors)
				assert.NotEmpty(t, got.Errors[0].Message)
				if tc.wantField != "" {
					require.NotNil(t, got.Errors[0].Field, resp.Body)
					assert.Equal(t, tc.wantField, *got.Errors[0].Field, resp.Body)
				}
				assert.NotContains(t, resp.Body, "a@example.jp", "errors never echo addresses")
			}
			assert.Len(t, sb.Outbox(), tc.wantMsgs)
			st := sb.Stats()
			if tc.wantStatus >= 400 {
				assert.Equal(t, 1, st.EmailTotals.Rejected)
			}
			if tc.wantStatus == 200 {
				assert.Equal(t, 1, st.EmailTotals.SandboxModeRequests)
				assert.Empty(t, st.Email)
			}
		})
	}
}

func TestMailSendConfiguredKey(t *testing.T) {
	tests := []struct {
		key  string
		want int
	}{{"SG.right", 202}, {"SG.wrong", 401}}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			e := newFakeEngine(t)
			_, url := newTestSandbox(t, e, Config{SendGridAPIKey: "SG.right",
				Scenario: Scenario{Email: PersonaTable{Default: PersonaSpec{Persona: PersonaIgnore}}}})
			resp := sendMail(t, url, tc.key, mail.GetRequestBody(notice(e.URL(), "a@example.jp")))
			assert.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

func TestOutboxAndEventWebhook(t *testing.T) {
	e := newFakeEngine(t)
	sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Email: PersonaTable{
		Default:    PersonaSpec{Persona: PersonaIgnore},
		Recipients: []PersonaRule{{Match: "*@bounce.example.jp", Persona: PersonaBounce}, {Match: "drop@example.jp", Persona: PersonaDrop}},
	}}})
	m := notice(e.URL(), "one@example.jp", "two@bounce.example.jp", "drop@example.jp")
	m.AddCategories("recall")
	resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(m))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, resp.Body)
	msgID := http.Header(resp.Headers).Get("X-Message-Id")

	out := sb.Outbox()
	require.Len(t, out, 3)
	assert.Equal(t, []string{"one@example.jp"}, out[0].To)
	assert.Equal(t, msgID, out[0].MessageID)
	assert.Equal(t, "【重要】誤送信メールの削除のお願い", out[0].Subject)
	assert.Contains(t, out[0].Text, e.URL()+"/confirm/tok01。")
	assert.Contains(t, out[1].HTML, `href="`+e.URL()+`/confirm/tok02"`)
	assert.Equal(t, map[string]string{"incident_id": "INC-20250101-ABCDEF", "notification_id": "N01", "request_key": "INC-1/tok01"}, out[0].CustomArgs)
	assert.Equal(t, []string{"breach-notice", "recall"}, out[0].Categories)

	eventually(t, "events for all three", func() bool {
		return len(e.eventsFor("one@example.jp")) == 2 && len(e.eventsFor("two@bounce.example.jp")) == 2 && len(e.eventsFor("drop@example.jp")) == 2
	})
	assert.Equal(t, []string{"processed", "delivered"}, e.eventsFor("one@example.jp"))
	assert.Equal(t, []string{"processed", "bounce"}, e.eventsFor("two@bounce.example.jp"))
	assert.Equal(t, []string{"processed", "dropped"}, e.eventsFor("drop@example.jp"))

	e.mu.Lock()
	defer e.mu.Unlock()
	assert.Zero(t, e.badSigs)
	ids := map[string]bool{}
	for _, ev := range e.events {
		assert.True(t, strings.HasPrefix(ev["sg_message_id"].(string), msgID+".filter0001."), ev["sg_message_id"])
		assert.Equal(t, "<"+msgID+"@ismtpd0001p1nrt1.sendgrid.net>", ev["smtp-id"])
		assert.Equal(t, "INC-20250101-ABCDEF", ev["incident_id"], "custom args are top-level keys")
		assert.NotEmpty(t, ev["notification_id"])
		assert.Equal(t, []any{"breach-notice", "recall"}, ev["category"])
		assert.IsType(t, float64(0), ev["timestamp"])
		id := ev["sg_event_id"].(string)
		assert.False(t, ids[id], "sg_event_id is unique")
		ids[id] = true
		if ev["event"] == "bounce" {
			assert.Equal(t, "5.1.1", ev["status"])
			assert.NotEmpty(t, ev["reason"])
		}
	}
}

func TestEventWebhookSignatureVerifiesOnlyUntamperedBody(t *testing.T) {
	sb, err := New(Config{EngineURL: "http://engine.invalid"})
	require.NoError(t, err)
	defer sb.Close()
	pk, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(sb.SendGridPublicKey())
	require.NoError(t, err)
	body := []byte(`[{"event":"delivered"}]`)
	sig, err := signSendGridEvent(sb.sgKey, "1700000000", body)
	require.NoError(t, err)
	tests := []struct {
		name string
		body []byte
		ts   string
		want bool
	}{
		{"as signed", body, "1700000000", true},
		{"other timestamp", body, "1700000001", false},
		{"tampered body", []byte(`[{"event":"bounce"}]`), "1700000000", false},
		{"trailing newline", append(append([]byte{}, body...), '\n'), "1700000000", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := eventwebhook.VerifySignature(pk, tc.body, sig, tc.ts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ok)
		})
	}
}

func TestEventWebhookRetries(t *testing.T) {
	tests := []struct {
		name      string
		fail      int
		wantPosts int
		delivered bool
	}{
		{"first try", 0, 1, true},
		{"after two 503s", 2, 3, true},
		{"gives up after the last attempt", 100, webhookAttempts, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			e.failNext = tc.fail
			sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Email: PersonaTable{Default: PersonaSpec{Persona: PersonaIgnore}}}})
			resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(notice(e.URL(), "one@example.jp")))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			eventually(t, "deliveries", func() bool { return sb.Stats().EmailTotals.WebhookPosts == tc.wantPosts })
			sb.Close() // no retry is left behind
			e.mu.Lock()
			defer e.mu.Unlock()
			assert.Equal(t, tc.wantPosts, e.eventPosts)
			assert.Equal(t, tc.delivered, len(e.events) == 2)
			st := sb.Stats().EmailTotals
			assert.Equal(t, tc.wantPosts, st.WebhookPosts)
			assert.Equal(t, min(tc.fail, webhookAttempts), st.WebhookFailures)
		})
	}
}

func TestEmailPersonas(t *testing.T) {
	tests := []struct {
		persona    string
		wantGETs   int
		wantPOSTs  int
		wantEvents []string
	}{
		{PersonaClick, 1, 1, []string{"processed", "delivered"}},
		{PersonaClickLater, 1, 1, []string{"processed", "delivered"}},
		{PersonaScanner, 1, 0, []string{"processed", "delivered"}},
		{PersonaIgnore, 0, 0, []string{"processed", "delivered"}},
		{PersonaBounce, 0, 0, []string{"processed", "bounce"}},
		{PersonaDrop, 0, 0, []string{"processed", "dropped"}},
	}
	for _, tc := range tests {
		t.Run(tc.persona, func(t *testing.T) {
			e := newFakeEngine(t)
			// click_later defaults to a simulated hour: 0.18 s at this scale.
			sb, url := newTestSandbox(t, e, Config{TimeScale: 20000, Scenario: Scenario{Email: PersonaTable{
				Recipients: []PersonaRule{{Match: "p@example.jp", Persona: tc.persona}},
			}}})
			resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(notice(e.URL(), "p@example.jp")))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			eventually(t, "persona done", func() bool {
				st := sb.Stats().Email["p@example.jp"]
				return len(e.eventsFor("p@example.jp")) == 2 && st.LinkGETs == tc.wantGETs && st.FormPOSTs == tc.wantPOSTs
			})
			sb.Close() // every persona goroutine has finished: nothing more can happen
			gets, posts, errs := e.snapshot()
			assert.Empty(t, errs)
			assert.Equal(t, tc.wantGETs, gets[tokenOf(1)])
			assert.Equal(t, tc.wantPOSTs, posts[tokenOf(1)])
			assert.Equal(t, tc.wantEvents, e.eventsFor("p@example.jp"))
			st := sb.Stats().Email["p@example.jp"]
			assert.Equal(t, tc.persona, st.Persona)
			assert.Equal(t, tc.wantPOSTs, st.Confirmed)
			assert.Empty(t, st.LastError)
		})
	}
}

func TestClickPersonaReportsBrokenPages(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"not found", func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }, "404"},
		{"not html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}, "text/html"},
		{"no post form", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<form method="get" action="x"><input name="a"></form>`))
		}, "no <form"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			e.mux.HandleFunc("GET /confirm/broken/{token}", tc.handler)
			sb, url := newTestSandbox(t, e, Config{})
			m := notice(e.URL(), "p@example.jp")
			m.Personalizations[0].Substitutions["-link-"] = e.URL() + "/confirm/broken/x"
			resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(m))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			eventually(t, "error recorded", func() bool { return sb.Stats().Email["p@example.jp"].LastError != "" })
			st := sb.Stats().Email["p@example.jp"]
			assert.Contains(t, st.LastError, tc.want)
			assert.Zero(t, st.Confirmed)
		})
	}
}

func TestFindConfirmLink(t *testing.T) {
	sb, err := New(Config{EngineURL: "http://engine.test:8080/"})
	require.NoError(t, err)
	defer sb.Close()
	tests := []struct {
		name string
		msg  OutboxMessage
		want string
	}{
		{"text first match", OutboxMessage{Text: "see https://example.com/x and http://engine.test:8080/confirm/abc.def?x=1. thanks",
			HTML: `<a href="http://engine.test:8080/confirm/other">x</a>`}, "http://engine.test:8080/confirm/abc.def?x=1"},
		{"japanese punctuation", OutboxMessage{Text: "リンク：http://engine.test:8080/confirm/t1。削除後に"}, "http://engine.test:8080/confirm/t1"},
		{"html fallback", OutboxMessage{HTML: `<p><a href="http://engine.test:8080/confirm/h1">確認</a></p>`}, "http://engine.test:8080/confirm/h1"},
		{"template data", OutboxMessage{TemplateData: map[string]any{"confirm_url": "http://engine.test:8080/confirm/d1", "n": 3}}, "http://engine.test:8080/confirm/d1"},
		{"other host only", OutboxMessage{Text: "http://evil.test/confirm/x http://engine.test:8080/confirm/"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, sb.findConfirmLink(tc.msg))
		})
	}
}

func TestEmailDuplicatesAndSimAPI(t *testing.T) {
	e := newFakeEngine(t)
	sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Email: PersonaTable{Default: PersonaSpec{Persona: PersonaIgnore}}}})
	send := func(m *mail.SGMailV3) {
		resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(m))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, resp.Body)
	}
	send(notice(e.URL(), "a@example.jp", "b@example.jp"))
	send(notice(e.URL(), "a@example.jp")) // same request_key INC-1/tok01: duplicate
	other := notice(e.URL(), "b@example.jp")
	other.Personalizations[0].CustomArgs["request_key"] = "INC-1/second-round" // a new request, not a duplicate
	send(other)
	plain := func(subject string) *mail.SGMailV3 {
		m := mail.NewV3MailInit(mail.NewEmail("", "security@example.com"), subject, mail.NewEmail("", "c@example.jp"), mail.NewContent("text/plain", "x"))
		return m
	}
	send(plain("daily report 1"))
	send(plain("daily report 1")) // no request_key, same subject: duplicate
	send(plain("daily report 2"))

	st := sb.Stats()
	assert.Equal(t, EmailStats{Persona: PersonaIgnore, Messages: 2, Duplicates: 1}, withoutDelivery(st.Email["a@example.jp"]))
	assert.Equal(t, EmailStats{Persona: PersonaIgnore, Messages: 2, Duplicates: 0}, withoutDelivery(st.Email["b@example.jp"]))
	assert.Equal(t, EmailStats{Persona: PersonaIgnore, Messages: 3, Duplicates: 1}, withoutDelivery(st.Email["c@example.jp"]))
	assert.Equal(t, 2, st.EmailTotals.Duplicates)
	assert.Equal(t, 7, st.EmailTotals.Messages)
	assert.Equal(t, 6, st.EmailTotals.Requests)

	var got Stats
	getJSON(t, url+"/sim/stats", &got)
	assert.Equal(t, 2, got.Email["a@example.jp"].Messages)
	var ob struct{ Messages []OutboxMessage }
	getJSON(t, url+"/sim/outbox", &ob)
	require.Len(t, ob.Messages, 7)
	assert.Equal(t, []string{"a@example.jp"}, ob.Messages[0].To)
}

func withoutDelivery(s EmailStats) EmailStats {
	s.Delivered = 0
	return s
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func TestCloseStopsWaitingRecipients(t *testing.T) {
	e := newFakeEngine(t)
	sb, url := newTestSandbox(t, e, Config{TimeScale: 1, Scenario: Scenario{Email: PersonaTable{
		Default: PersonaSpec{Persona: PersonaClickLater, Delay: Duration(24 * time.Hour)}}}})
	resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(notice(e.URL(), "a@example.jp", "b@example.jp")))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	eventually(t, "delivered", func() bool { return sb.Stats().Email["b@example.jp"].Delivered == 1 })
	done := make(chan struct{})
	go func() { sb.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not stop the waiting recipients")
	}
	// After Close, accepted mail is recorded but starts no recipient.
	resp = sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(notice(e.URL(), "c@example.jp")))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, 1, sb.Stats().Email["c@example.jp"].Messages)
	assert.Empty(t, e.eventsFor("c@example.jp"))
}

// What the event webhook posts (sendgrid_events): every event, only
// bounces and drops, or nothing. Outcomes are counted either way, and
// people who click still click.
func TestEventWebhookSettings(t *testing.T) {
	tests := []struct {
		events              string
		wantA, wantB, wantC []string
		wantPosts           int
	}{
		{"", []string{"processed", "delivered"}, []string{"processed", "bounce"}, []string{"processed", "delivered"}, 3},
		{SendGridEventsBounces, nil, []string{"bounce"}, nil, 1},
		{SendGridEventsNone, nil, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.events, func(t *testing.T) {
			e := newFakeEngine(t)
			sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{SendGridEvents: tt.events, Email: PersonaTable{
				Default:    PersonaSpec{Persona: PersonaIgnore},
				Recipients: []PersonaRule{{Match: "c@example.jp", Persona: PersonaClick}, {Match: "b@example.jp", Persona: PersonaBounce}},
			}}})
			resp := sendMail(t, url, SendGridAPIKey, mail.GetRequestBody(notice(e.URL(), "a@example.jp", "b@example.jp", "c@example.jp")))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			eventually(t, "the click", func() bool { return sb.Stats().Email["c@example.jp"].Confirmed == 1 })
			eventually(t, "every outcome", func() bool {
				st := sb.Stats().Email
				return st["a@example.jp"].Delivered+st["b@example.jp"].Bounced == 2
			})
			sb.Close()
			st := sb.Stats()
			assert.Equal(t, EmailStats{Persona: PersonaIgnore, Messages: 1, Delivered: 1}, st.Email["a@example.jp"])
			assert.Equal(t, EmailStats{Persona: PersonaBounce, Messages: 1, Bounced: 1}, st.Email["b@example.jp"])
			assert.Equal(t, 1, st.Email["c@example.jp"].Delivered)
			assert.Equal(t, tt.wantPosts, st.EmailTotals.WebhookPosts)
			assert.Equal(t, tt.wantA, e.eventsFor("a@example.jp"))
			assert.Equal(t, tt.wantB, e.eventsFor("b@example.jp"))
			assert.Equal(t, tt.wantC, e.eventsFor("c@example.jp"))

			// The totals alone, without the per-address maps.
			var totals Stats
			getJSON(t, url+"/sim/stats?totals=1", &totals)
			assert.Equal(t, st.EmailTotals, totals.EmailTotals)
			assert.Empty(t, totals.Email)
		})
	}
}
