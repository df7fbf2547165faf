package sandbox

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// voiceEngine records the Twilio webhooks the fake engine receives, after
// verifying them with twilio-go's RequestValidator.
type voiceEngine struct {
	mu        sync.Mutex
	statuses  map[string][]string // CallSid -> CallStatus sequence
	durations map[string]string   // CallSid -> CallDuration of the last callback
	digits    map[string][]string // t -> Digits
	sms       map[string][]string // MessageSid -> MessageStatus sequence
	smsErrors map[string]string
	twimlHits int
	badSigs   int
	noToken   int
	tokens    map[string]bool
}

func (v *voiceEngine) statusesOf(sid string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.statuses[sid]...)
}

// gatherTwiml is what the engine asks: press 1 when deleted, 2 to be called back.
func gatherTwiml(engineURL, token string) string {
	action := html.EscapeString(engineURL + "/webhooks/twilio/voice/gather?t=" + token + "&x=1")
	return `<?xml version="1.0" encoding="UTF-8"?><Response>` +
		`<Gather input="dtmf" numDigits="1" timeout="10" actionOnEmptyResult="true" action="` + action + `" method="POST">` +
		`<Say language="ja-JP" voice="Polly.Mizuki">誤送信したメールを削除された場合は1を、折り返しをご希望の場合は2を押してください。</Say>` +
		`</Gather><Say language="ja-JP">応答がありませんでした。</Say><Hangup/></Response>`
}

func addVoiceEngine(t *testing.T, e *fakeEngine, token string) *voiceEngine {
	t.Helper()
	v := &voiceEngine{statuses: map[string][]string{}, durations: map[string]string{}, digits: map[string][]string{},
		sms: map[string][]string{}, smsErrors: map[string]string{}, tokens: map[string]bool{}}
	rv := client.NewRequestValidator(token)
	verified := func(h func(w http.ResponseWriter, r *http.Request, p url.Values)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			full := e.URL() + r.URL.RequestURI()
			ok := rv.ValidateBody(full, body, r.Header.Get("X-Twilio-Signature"))
			p, err := url.ParseQuery(string(body))
			require.NoError(t, err)
			flat := map[string]string{}
			for k := range p {
				flat[k] = p.Get(k)
			}
			ok2 := rv.Validate(full, flat, r.Header.Get("X-Twilio-Signature"))
			idem := r.Header.Get("I-Twilio-Idempotency-Token")
			v.mu.Lock()
			if idem == "" || v.tokens[idem] {
				v.noToken++
			}
			v.tokens[idem] = true
			if !ok || !ok2 {
				v.badSigs++
			}
			v.mu.Unlock()
			if !ok || !ok2 {
				http.Error(w, "bad signature", http.StatusForbidden)
				return
			}
			h(w, r, p)
		}
	}
	twiml := func(w http.ResponseWriter, doc string) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, doc)
	}
	e.mux.HandleFunc("POST /webhooks/twilio/voice/twiml", verified(func(w http.ResponseWriter, r *http.Request, p url.Values) {
		v.mu.Lock()
		v.twimlHits++
		v.mu.Unlock()
		twiml(w, gatherTwiml(e.URL(), r.URL.Query().Get("t")))
	}))
	e.mux.HandleFunc("POST /webhooks/twilio/voice/gather", verified(func(w http.ResponseWriter, r *http.Request, p url.Values) {
		tok := r.URL.Query().Get("t")
		v.mu.Lock()
		v.digits[tok] = append(v.digits[tok], p.Get("Digits"))
		tries := len(v.digits[tok])
		v.mu.Unlock()
		switch {
		case p.Get("Digits") == "1" || p.Get("Digits") == "2":
			twiml(w, `<Response><Say language="ja-JP">ありがとうございました。</Say><Hangup/></Response>`)
		case tries == 1: // repeat the question once, relative redirect
			twiml(w, `<Response><Say language="ja-JP">もう一度お聞きします。</Say><Redirect method="POST">twiml?t=`+tok+`</Redirect></Response>`)
		default:
			twiml(w, `<Response><Hangup/></Response>`)
		}
	}))
	e.mux.HandleFunc("POST /webhooks/twilio/voice/status", verified(func(w http.ResponseWriter, r *http.Request, p url.Values) {
		v.mu.Lock()
		v.statuses[p.Get("CallSid")] = append(v.statuses[p.Get("CallSid")], p.Get("CallStatus"))
		v.durations[p.Get("CallSid")] = p.Get("CallDuration")
		v.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	e.mux.HandleFunc("POST /webhooks/twilio/sms/status", verified(func(w http.ResponseWriter, r *http.Request, p url.Values) {
		v.mu.Lock()
		v.sms[p.Get("MessageSid")] = append(v.sms[p.Get("MessageSid")], p.Get("MessageStatus"))
		if c := p.Get("ErrorCode"); c != "" {
			v.smsErrors[p.Get("MessageSid")] = c
		}
		v.mu.Unlock()
	}))
	return v
}

// twilioService is the engine's twilio-go client pointed at the sandbox.
func twilioService(sandboxURL, sid, token string) *openapi.ApiService {
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient: &http.Client{Transport: TwilioTransport(sandboxURL+"/twilio", nil), Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	c.SetAccountSid(sid)
	return openapi.NewApiServiceWithClient(c)
}

var allCallEvents = []string{"initiated", "ringing", "answered", "completed"}

func TestTwilioCallPersonas(t *testing.T) {
	tests := []struct {
		name       string
		persona    PersonaSpec
		inline     bool
		events     []string
		wantStatus []string // status callbacks received, in order
		wantDigits []string // what the engine's gather endpoint received
		wantSaid   int
	}{
		{name: "press1 via Url", persona: PersonaSpec{Persona: PersonaPress1, Delay: Duration(5 * time.Second)}, events: allCallEvents,
			wantStatus: []string{"initiated", "ringing", "in-progress", "completed"}, wantDigits: []string{"1"}, wantSaid: 2},
		{name: "press1 inline twiml", persona: PersonaSpec{Persona: PersonaPress1}, inline: true, events: allCallEvents,
			wantStatus: []string{"initiated", "ringing", "in-progress", "completed"}, wantDigits: []string{"1"}, wantSaid: 2},
		{name: "press2", persona: PersonaSpec{Persona: PersonaPress2}, events: allCallEvents,
			wantStatus: []string{"initiated", "ringing", "in-progress", "completed"}, wantDigits: []string{"2"}, wantSaid: 2},
		{name: "only completed by default", persona: PersonaSpec{Persona: PersonaPress1},
			wantStatus: []string{"completed"}, wantDigits: []string{"1"}, wantSaid: 2},
		{name: "silence repeats once then hangs up", persona: PersonaSpec{Persona: PersonaSilence}, events: allCallEvents,
			wantStatus: []string{"initiated", "ringing", "in-progress", "completed"}, wantDigits: []string{"", ""}, wantSaid: 3},
		{name: "no answer", persona: PersonaSpec{Persona: PersonaNoAnswer}, events: allCallEvents,
			wantStatus: []string{"initiated", "ringing", "no-answer"}},
		{name: "never answers", persona: PersonaSpec{Persona: PersonaNeverAnswers}, events: []string{"completed"},
			wantStatus: []string{"no-answer"}},
		{name: "busy", persona: PersonaSpec{Persona: PersonaBusy}, events: allCallEvents,
			wantStatus: []string{"initiated", "busy"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			v := addVoiceEngine(t, e, TwilioAuthToken)
			sb, sbURL := newTestSandbox(t, e, Config{Scenario: Scenario{Phone: PersonaTable{Default: tc.persona}}})
			svc := twilioService(sbURL, TwilioAccountSID, TwilioAuthToken)
			p := (&openapi.CreateCallParams{}).SetTo("+819000000001").SetFrom(TwilioFromNumber).
				SetStatusCallback(e.URL() + "/webhooks/twilio/voice/status?t=tok1").SetStatusCallbackMethod("POST").SetTimeout(30)
			if tc.events != nil {
				p.SetStatusCallbackEvent(tc.events)
			}
			if tc.inline {
				p.SetTwiml(gatherTwiml(e.URL(), "tok1"))
			} else {
				p.SetUrl(e.URL() + "/webhooks/twilio/voice/twiml?t=tok1")
			}
			call, err := svc.CreateCall(p)
			require.NoError(t, err)
			require.NotNil(t, call.Sid)
			assert.Regexp(t, `^CA[0-9a-f]{32}$`, *call.Sid)
			assert.Equal(t, "queued", *call.Status)
			assert.Equal(t, "+819000000001", *call.To)
			assert.Equal(t, "outbound-api", *call.Direction)
			assert.Nil(t, call.Duration)

			sid := *call.Sid
			eventually(t, "terminal callback", func() bool {
				st := v.statusesOf(sid)
				return len(st) > 0 && terminalCallStatus(st[len(st)-1])
			})
			assert.Equal(t, tc.wantStatus, v.statusesOf(sid))
			v.mu.Lock()
			assert.Equal(t, tc.wantDigits, v.digits["tok1"])
			assert.Zero(t, v.badSigs)
			assert.Zero(t, v.noToken, "every webhook carries a fresh I-Twilio-Idempotency-Token")
			final := tc.wantStatus[len(tc.wantStatus)-1]
			if final == "completed" {
				assert.NotEqual(t, "0", v.durations[sid])
			} else {
				assert.Equal(t, "0", v.durations[sid])
			}
			v.mu.Unlock()

			fetched, err := svc.FetchCall(sid, nil)
			require.NoError(t, err)
			assert.Equal(t, final, *fetched.Status)
			require.NotNil(t, fetched.Duration)

			calls := sb.Calls()
			require.Len(t, calls, 1)
			assert.Len(t, calls[0].Said, tc.wantSaid)
			if tc.wantSaid > 0 {
				assert.Equal(t, "ja-JP", calls[0].Said[0].Language)
				assert.Contains(t, calls[0].Said[0].Text, "1を")
			}
			assert.Empty(t, calls[0].Errors)
			st := sb.Stats().Phone["+819000000001"]
			assert.Equal(t, 1, st.Calls)
			assert.Equal(t, tc.persona.Persona, st.Persona)
		})
	}
}

func TestTwilioNoAnswerThenPress1(t *testing.T) {
	e := newFakeEngine(t)
	v := addVoiceEngine(t, e, TwilioAuthToken)
	sb, sbURL := newTestSandbox(t, e, Config{Scenario: Scenario{Phone: PersonaTable{Recipients: []PersonaRule{
		{Match: "+819000000023", Persona: PersonaNoAnswerThenPress1, Count: 2}}}}})
	svc := twilioService(sbURL, TwilioAccountSID, TwilioAuthToken)
	var got []string
	for i := range 3 {
		tok := fmt.Sprintf("try%d", i)
		call, err := svc.CreateCall((&openapi.CreateCallParams{}).SetTo("+819000000023").SetFrom(TwilioFromNumber).
			SetUrl(e.URL() + "/webhooks/twilio/voice/twiml?t=" + tok).
			SetStatusCallback(e.URL() + "/webhooks/twilio/voice/status?t=" + tok))
		require.NoError(t, err)
		eventually(t, "call over", func() bool { return len(v.statusesOf(*call.Sid)) == 1 })
		got = append(got, v.statusesOf(*call.Sid)[0])
	}
	assert.Equal(t, []string{"no-answer", "no-answer", "completed"}, got)
	st := sb.Stats().Phone["+819000000023"]
	assert.Equal(t, PhoneStats{Persona: PersonaNoAnswerThenPress1, Calls: 3, Answered: 1, Completed: 1, NoAnswer: 2, Digits: []string{"1"}}, st)
	assert.Zero(t, st.CallDuplicates, "sequential calls are not duplicates")
}

func TestTwilioCreateCallErrors(t *testing.T) {
	tests := []struct {
		name       string
		sid, token string
		to, from   string
		url, twiml string
		wantCode   int
		wantStatus int
	}{
		{name: "magic invalid", to: "+15005550001", wantCode: 21211, wantStatus: 400},
		{name: "magic unreachable", to: "+15005550002", wantCode: 21612, wantStatus: 400},
		{name: "magic region", to: "+15005550003", wantCode: 21408, wantStatus: 400},
		{name: "magic blocked", to: "+15005550004", wantCode: 21610, wantStatus: 400},
		{name: "persona invalid", to: "+819000000066", wantCode: 21211, wantStatus: 400},
		{name: "not e164", to: "090-0000-0001", wantCode: 21211, wantStatus: 400},
		{name: "no url or twiml", to: "+819000000001", url: "-", wantCode: 21205, wantStatus: 400},
		{name: "relative url", to: "+819000000001", url: "/twiml", wantCode: 21205, wantStatus: 400},
		{name: "twiml too long", to: "+819000000001", twiml: "<Response>" + string(make([]byte, 4000)) + "</Response>", wantCode: 32018, wantStatus: 400},
		{name: "twiml not xml", to: "+819000000001", twiml: "<Response><Say>", wantCode: 12100, wantStatus: 400},
		{name: "twiml not Response", to: "+819000000001", twiml: "<Say>x</Say>", wantCode: 12100, wantStatus: 400},
		{name: "bad from", to: "+819000000001", from: "sandbox", wantCode: 21212, wantStatus: 400},
		{name: "wrong token", to: "+819000000001", token: "wrongtoken1", wantCode: 20003, wantStatus: 401},
		{name: "other account", to: "+819000000001", sid: "ACother000", wantCode: 20003, wantStatus: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			sb, sbURL := newTestSandbox(t, e, Config{Scenario: Scenario{Phone: PersonaTable{Recipients: []PersonaRule{
				{Match: "+819000000066", Persona: PersonaInvalid}}}}})
			sid, token, from := TwilioAccountSID, TwilioAuthToken, TwilioFromNumber
			if tc.sid != "" {
				sid = tc.sid
			}
			if tc.token != "" {
				token = tc.token
			}
			if tc.from != "" {
				from = tc.from
			}
			p := (&openapi.CreateCallParams{}).SetTo(tc.to).SetFrom(from)
			switch {
			case tc.twiml != "":
				p.SetTwiml(tc.twiml)
			case tc.url == "-":
			case tc.url != "":
				p.SetUrl(tc.url)
			default:
				p.SetUrl(e.URL() + "/twiml")
			}
			_, err := twilioService(sbURL, sid, token).CreateCall(p)
			var te *client.TwilioRestError
			require.True(t, errors.As(err, &te), "%v", err)
			assert.Equal(t, tc.wantCode, te.Code)
			assert.Equal(t, tc.wantStatus, te.Status)
			assert.Equal(t, fmt.Sprintf("https://www.twilio.com/docs/errors/%d", tc.wantCode), te.MoreInfo)
			assert.NotContains(t, te.Message, tc.to, "errors never echo the number")
			assert.Empty(t, sb.Calls())
		})
	}
}

func TestTwilioHangUpAndList(t *testing.T) {
	e := newFakeEngine(t)
	v := addVoiceEngine(t, e, TwilioAuthToken)
	// The callee waits a simulated hour before pressing: the engine hangs up first.
	sb, sbURL := newTestSandbox(t, e, Config{TimeScale: 100, Scenario: Scenario{Phone: PersonaTable{
		Default: PersonaSpec{Persona: PersonaPress1, Delay: Duration(time.Hour)}}}})
	svc := twilioService(sbURL, TwilioAccountSID, TwilioAuthToken)
	create := func(to string) string {
		call, err := svc.CreateCall((&openapi.CreateCallParams{}).SetTo(to).SetFrom(TwilioFromNumber).
			SetUrl(e.URL() + "/webhooks/twilio/voice/twiml?t=h").
			SetStatusCallback(e.URL() + "/webhooks/twilio/voice/status").SetStatusCallbackEvent(allCallEvents))
		require.NoError(t, err)
		return *call.Sid
	}
	first := create("+819000000001")
	eventually(t, "answered", func() bool { return len(v.statusesOf(first)) == 3 })
	second := create("+819000000001") // while the first is live: a duplicate
	other := create("+819000000002")

	upd, err := svc.UpdateCall(first, (&openapi.UpdateCallParams{}).SetStatus("completed"))
	require.NoError(t, err)
	assert.Equal(t, "completed", *upd.Status)
	eventually(t, "completed callback", func() bool {
		st := v.statusesOf(first)
		return len(st) == 4 && st[3] == "completed"
	})

	calls, err := svc.ListCall((&openapi.ListCallParams{}).SetTo("+819000000001"))
	require.NoError(t, err)
	require.Len(t, calls, 2)
	assert.Equal(t, second, *calls[0].Sid, "newest first")
	assert.Equal(t, first, *calls[1].Sid)
	all, err := svc.ListCall(nil)
	require.NoError(t, err)
	assert.Len(t, all, 3)
	future := time.Now().Add(time.Hour)
	none, err := svc.ListCall((&openapi.ListCallParams{}).SetStartTimeAfter(future))
	require.NoError(t, err)
	assert.Empty(t, none)

	st := sb.Stats()
	assert.Equal(t, 2, st.Phone["+819000000001"].Calls)
	assert.Equal(t, 1, st.Phone["+819000000001"].CallDuplicates)
	assert.Equal(t, 1, st.PhoneTotals.CallDuplicates)
	assert.Zero(t, st.Phone["+819000000002"].CallDuplicates)
	var simCalls struct{ Calls []Call }
	getJSON(t, sbURL+"/sim/calls", &simCalls)
	require.Len(t, simCalls.Calls, 3)
	assert.Equal(t, other, simCalls.Calls[2].Sid)
	assert.True(t, simCalls.Calls[1].Duplicate)
	assert.Equal(t, "completed", simCalls.Calls[0].Status)

	_, err = svc.FetchCall("CA0000", nil)
	var te *client.TwilioRestError
	require.True(t, errors.As(err, &te), "%v", err)
	assert.Equal(t, 20404, te.Code)
}

func TestTwilioSMS(t *testing.T) {
	tests := []struct {
		name       string
		to, body   string
		wantStatus []string
		wantErr    string
		wantSegs   string
		wantCode   int
	}{
		{name: "delivered", to: "+819000000001", body: "削除のお願い: メールをご確認ください", wantStatus: []string{"queued", "sent", "delivered"}, wantSegs: "1"},
		{name: "long ascii", to: "+819000000001", body: string(make161()), wantStatus: []string{"queued", "sent", "delivered"}, wantSegs: "2"},
		{name: "undelivered", to: "+819000000077", body: "x", wantStatus: []string{"queued", "sent", "undelivered"}, wantErr: "30003", wantSegs: "1"},
		{name: "magic not mobile", to: "+15005550009", body: "x", wantCode: 21614},
		{name: "invalid", to: "+819000000066", body: "x", wantCode: 21211},
		{name: "no body", to: "+819000000001", wantCode: 21602},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEngine(t)
			v := addVoiceEngine(t, e, TwilioAuthToken)
			sb, sbURL := newTestSandbox(t, e, Config{Scenario: Scenario{Phone: PersonaTable{Recipients: []PersonaRule{
				{Match: "+819000000066", Persona: PersonaInvalid}, {Match: "+819000000077", Persona: PersonaSMSUndelivered}}}}})
			svc := twilioService(sbURL, TwilioAccountSID, TwilioAuthToken)
			p := (&openapi.CreateMessageParams{}).SetTo(tc.to).SetFrom(TwilioFromNumber).
				SetStatusCallback(e.URL() + "/webhooks/twilio/sms/status?t=s1")
			if tc.body != "" {
				p.SetBody(tc.body)
			}
			msg, err := svc.CreateMessage(p)
			if tc.wantCode != 0 {
				var te *client.TwilioRestError
				require.True(t, errors.As(err, &te), "%v", err)
				assert.Equal(t, tc.wantCode, te.Code)
				assert.Empty(t, sb.Messages())
				return
			}
			require.NoError(t, err)
			assert.Regexp(t, `^SM[0-9a-f]{32}$`, *msg.Sid)
			assert.Equal(t, "queued", *msg.Status)
			assert.Equal(t, tc.wantSegs, *msg.NumSegments)
			assert.Nil(t, msg.ErrorCode)
			eventually(t, "final status", func() bool {
				v.mu.Lock()
				defer v.mu.Unlock()
				return len(v.sms[*msg.Sid]) == 3
			})
			v.mu.Lock()
			assert.Equal(t, tc.wantStatus, v.sms[*msg.Sid])
			assert.Equal(t, tc.wantErr, v.smsErrors[*msg.Sid])
			assert.Zero(t, v.badSigs)
			v.mu.Unlock()
			st := sb.Stats().Phone[tc.to]
			assert.Equal(t, 1, st.Messages)
			assert.Equal(t, tc.wantErr == "", st.SMSDelivered == 1)
		})
	}
}

func make161() []byte {
	b := make([]byte, 161)
	for i := range b {
		b[i] = 'a'
	}
	return b
}

func TestTwilioSMSDuplicates(t *testing.T) {
	e := newFakeEngine(t)
	addVoiceEngine(t, e, TwilioAuthToken)
	sb, sbURL := newTestSandbox(t, e, Config{})
	svc := twilioService(sbURL, TwilioAccountSID, TwilioAuthToken)
	send := func(body string) {
		_, err := svc.CreateMessage((&openapi.CreateMessageParams{}).SetTo("+819000000001").SetFrom(TwilioFromNumber).SetBody(body).
			SetStatusCallback(e.URL() + "/webhooks/twilio/sms/status?t=s1"))
		require.NoError(t, err)
	}
	send("a")
	send("a")
	send("b")
	st := sb.Stats()
	assert.Equal(t, 3, st.Phone["+819000000001"].Messages)
	assert.Equal(t, 1, st.Phone["+819000000001"].MessageDuplicates)
	assert.Equal(t, 1, st.PhoneTotals.MessageDuplicates)
}

func TestTwilioSignatureAcceptedByValidator(t *testing.T) {
	rv := client.NewRequestValidator(TwilioAuthToken)
	params := url.Values{"CallSid": {"CA1"}, "Digits": {"1"}, "To": {"+819000000001"}, "FinishedOnKey": {""}}
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	const u = "https://engine.example.com/webhooks/twilio/voice/gather?t=abc"
	sig := twilioSignature(TwilioAuthToken, u, params)
	tests := []struct {
		name   string
		url    string
		params map[string]string
		want   bool
	}{
		{"as signed", u, flat, true},
		{"with default port", "https://engine.example.com:443/webhooks/twilio/voice/gather?t=abc", flat, true},
		{"other query", "https://engine.example.com/webhooks/twilio/voice/gather?t=abd", flat, false},
		{"tampered digit", u, map[string]string{"CallSid": "CA1", "Digits": "2", "To": "+819000000001", "FinishedOnKey": ""}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, rv.Validate(tc.url, tc.params, sig))
		})
	}
	other := client.NewRequestValidator("othertoken")
	assert.False(t, other.Validate(u, flat, sig))
}

func TestTwilioInlineRelativeActionIsAnError(t *testing.T) {
	e := newFakeEngine(t)
	v := addVoiceEngine(t, e, TwilioAuthToken)
	sb, sbURL := newTestSandbox(t, e, Config{})
	svc := twilioService(sbURL, TwilioAccountSID, TwilioAuthToken)
	call, err := svc.CreateCall((&openapi.CreateCallParams{}).SetTo("+819000000001").SetFrom(TwilioFromNumber).
		SetTwiml(`<Response><Gather numDigits="1" action="/webhooks/twilio/voice/gather"><Say>x</Say></Gather></Response>`).
		SetStatusCallback(e.URL() + "/webhooks/twilio/voice/status"))
	require.NoError(t, err)
	eventually(t, "over", func() bool { return len(v.statusesOf(*call.Sid)) == 1 })
	calls := sb.Calls()
	require.Len(t, calls, 1)
	require.Len(t, calls[0].Errors, 1)
	assert.Contains(t, calls[0].Errors[0], "15004")
	assert.Contains(t, sb.Stats().Phone["+819000000001"].LastError, "15004")
}
