package slackbot_test

// Fuzz targets of the Slack front door: POST /slack/commands and POST
// /slack/interactions, with arbitrary bodies signed validly (so
// slack.SlashCommandParse, slack.InteractionCallbackParse and the
// dispatcher run on them) or forged, stale or tampered. Each execution
// builds a fresh Dispatcher over an in-memory Temporal and an in-memory
// Slack: nothing a fuzzed payload names (a response_url, a channel) is
// ever contacted.
//
// Properties checked for every input:
//   - no panic, in the handler (the routes are mounted on a plain mux,
//     without the front door's recover) or in background work (the
//     dispatcher logs a recovered one: that fails the target);
//   - no 5xx (the only documented 503, "no signing secret", cannot happen
//     here);
//   - a request whose signature or timestamp does not hold gets 401 (413
//     when too large) and makes no Temporal call and no Slack call;
//   - the body is read no further than slackbot.MaxBody, answers are
//     bounded;
//   - a button pressed once and delivered twice sends Updates with the
//     same Update IDs (so Temporal applies it once).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
)

// offlineSlack answers every Slack Web API call, and every response_url
// post, in memory.
type offlineSlack struct {
	mu    sync.Mutex
	calls []string
}

func (o *offlineSlack) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		_ = r.Body.Close()
	}
	method := path.Base(r.URL.Path)
	o.mu.Lock()
	o.calls = append(o.calls, r.URL.Host+" "+method)
	o.mu.Unlock()
	body := `{"ok":true}`
	switch method {
	case "views.open":
		body = `{"ok":true,"view":{"id":"V0FUZZ"}}`
	case "usergroups.users.list":
		body = `{"ok":true,"users":["` + alice + `"]}`
	case "conversations.members":
		body = `{"ok":true,"members":["` + bob + `"],"response_metadata":{"next_cursor":""}}`
	case "chat.postEphemeral":
		body = `{"ok":true,"message_ts":"1.000001"}`
	}
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r,
	}, nil
}

func (o *offlineSlack) Calls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}

// panicLog fails on the dispatcher's "panic in background work" records.
type panicLog struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicLog) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *panicLog) WithGroup(string) slog.Handler            { return p }
func (p *panicLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
		p.mu.Lock()
		p.panics = append(p.panics, msg)
		p.mu.Unlock()
	}
	return nil
}

func (p *panicLog) check(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.panics) > 0 {
		t.Fatalf("panic in the dispatcher: %q", p.panics)
	}
}

// fuzzBot is one dispatcher over in-memory Temporal and Slack, its routes
// on a plain mux (no recover).
type fuzzBot struct {
	mux      *http.ServeMux
	bot      *slackbot.Dispatcher
	temporal *fakeTemporal
	slack    *offlineSlack
	log      *panicLog
}

func newFuzzBot(t testing.TB) *fuzzBot {
	t.Helper()
	off := &offlineSlack{}
	hc := &http.Client{Transport: off, Timeout: 5 * time.Second}
	fb := &fuzzBot{mux: http.NewServeMux(), temporal: &fakeTemporal{}, slack: off, log: &panicLog{}}
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, jst)}
	bot, err := slackbot.New(slackbot.Config{
		Slack:    slack.New(sandbox.SlackBotToken, slack.OptionHTTPClient(hc), slack.OptionAPIURL("http://slack.invalid/api/")),
		Temporal: fb.temporal, Lists: fakeLists{knownList: knownRef}, TaskQueue: "breachflow-fuzz",
		SigningSecret: sandbox.SlackSigningSecret,
		Declarers:     []string{respondersGroup, carol}, Approvers: []string{approversChannel},
		Logger: slog.New(fb.log), Now: clk.Now, HTTPClient: hc,
		SyncWait: 5 * time.Second, // the fakes answer at once: never the "later" path by accident
	})
	if err != nil {
		t.Fatal(err)
	}
	fb.bot = bot
	bot.Routes(fb.mux.Handle)
	return fb
}

// close waits for the background work and checks it did not panic.
func (fb *fuzzBot) close(t testing.TB) {
	t.Helper()
	fb.bot.Close()
	fb.log.check(t)
}

// readCounter counts what the handler reads; endless goes on with 'a'.
type readCounter struct {
	r       io.Reader
	n       int64
	endless bool
}

func (c *readCounter) Read(p []byte) (int, error) {
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

// Signing modes of a fuzzed Slack request.
const (
	slackValid = iota
	slackStale // timestamp more than 5 minutes away (either side)
	slackWrongSecret
	slackBodyTampered      // body changed after signing
	slackTimestampTampered // timestamp header changed after signing
	slackNoSignature
	slackRawSignature
	slackNoVersion // the hex signature without "v0="
	slackModes
)

// slackRequest builds a request to path with body, signed per mode. skew
// moves the timestamp: within ±4 minutes for valid requests, beyond ±6
// minutes for stale ones (a minute of margin either side of Slack's 5, so
// a slow machine cannot turn one into the other).
func slackRequest(p string, body []byte, mode byte, skew int16, raw string) (*http.Request, []byte) {
	secs := int64(skew) % 241
	if mode%slackModes == slackStale {
		secs = 360 + int64(skew)%10000
		if skew < 0 {
			secs = -360 + int64(skew)%10000
		}
	}
	ts := strconv.FormatInt(time.Now().Unix()+secs, 10)
	sent := body
	secret := sandbox.SlackSigningSecret
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Slack-Request-Timestamp": {ts}}
	switch mode % slackModes {
	case slackWrongSecret:
		secret = "not-the-signing-secret"
	case slackBodyTampered:
		sent = append(bytes.Clone(body), "&user_id=U0ALICE"...)
	case slackTimestampTampered:
		n, _ := strconv.ParseInt(ts, 10, 64)
		hdr.Set("X-Slack-Request-Timestamp", strconv.FormatInt(n-1, 10))
	}
	hdr.Set("X-Slack-Signature", sign(secret, ts, body))
	switch mode % slackModes {
	case slackNoSignature:
		hdr.Del("X-Slack-Signature")
	case slackRawSignature:
		hdr.Set("X-Slack-Signature", raw)
	case slackNoVersion:
		hdr.Set("X-Slack-Signature", strings.TrimPrefix(sign(secret, ts, body), "v0="))
	}
	req := httptest.NewRequest(http.MethodPost, p, nil)
	req.Header = hdr
	return req, sent
}

// rawSignatureHolds is our own check of a raw X-Slack-Signature, for the
// mode where the fuzzer writes it.
func rawSignatureHolds(req *http.Request, body []byte) bool {
	ts := req.Header.Get("X-Slack-Request-Timestamp")
	return req.Header.Get("X-Slack-Signature") == sign(sandbox.SlackSigningSecret, ts, body)
}

// fuzzSlack runs one Slack request (twice when replay) and checks the
// properties common to both endpoints. It returns the answers and the
// Update IDs each delivery sent.
func fuzzSlack(t *testing.T, p string, body []byte, mode byte, skew int16, raw string, endless, replay bool) {
	fb := newFuzzBot(t)
	valid := !endless && mode%slackModes == slackValid
	var updateIDs [][]string
	deliveries := 1
	if replay && valid {
		deliveries = 2
	}
	for range deliveries {
		req, sent := slackRequest(p, body, mode, skew, raw)
		if mode%slackModes == slackRawSignature && rawSignatureHolds(req, sent) {
			valid = !endless // the fuzzer found the signature: fine, it is valid
		}
		rc := &readCounter{r: bytes.NewReader(sent), endless: endless}
		req.Body = io.NopCloser(rc)
		before := len(fb.temporal.Calls())
		w := httptest.NewRecorder()
		fb.mux.ServeHTTP(w, req)
		fb.bot.Wait()
		fb.log.check(t)

		if w.Code >= 500 {
			t.Fatalf("status %d: %q", w.Code, w.Body.String())
		}
		if w.Body.Len() > 64<<10 {
			t.Fatalf("answer of %d bytes", w.Body.Len())
		}
		if rc.n > slackbot.MaxBody+1 {
			t.Fatalf("read %d bytes of the body, limit %d", rc.n, slackbot.MaxBody)
		}
		calls := fb.temporal.Calls()[before:]
		if !valid {
			if w.Code != http.StatusUnauthorized && w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("unverified request (mode %d): %d, want 401 (or 413)", mode%slackModes, w.Code)
			}
			if len(calls) != 0 {
				t.Fatalf("unverified request (mode %d): %d Temporal call(s): %+v", mode%slackModes, len(calls), calls)
			}
			if sc := fb.slack.Calls(); len(sc) != 0 {
				t.Fatalf("unverified request (mode %d): Slack calls %q", mode%slackModes, sc)
			}
			break
		}
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("verified request: %d %q, want 200 or 400", w.Code, w.Body.String())
		}
		if w.Code == http.StatusOK && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", w.Body.String())
		}
		var ids []string
		for _, c := range calls {
			if c.Method == "UpdateWorkflow" {
				ids = append(ids, c.UpdateID)
			}
		}
		updateIDs = append(updateIDs, ids)
	}
	fb.close(t)
	if len(updateIDs) == 2 && !slices.Contains(updateIDs[0], "") && !slices.Equal(updateIDs[0], updateIDs[1]) {
		t.Fatalf("the same interaction delivered twice sent Updates %q, then %q: Temporal would apply it twice", updateIDs[0], updateIDs[1])
	}
}

// FuzzSlashCommand: POST /slack/commands with arbitrary form bodies.
func FuzzSlashCommand(f *testing.F) {
	cmd := func(text, user string) []byte {
		return []byte(url.Values{
			"command": {"/breach"}, "text": {text}, "user_id": {user}, "channel_id": {incidentChannel},
			"team_id": {sandbox.SlackTeamID}, "trigger_id": {"1.2.abc"}, "response_url": {"https://hooks.slack.com/commands/T0/1/x"},
		}.Encode())
	}
	for _, text := range []string{"", "help", "list", "status INC-20261121-ABC234", "status ../../etc", "declare", "declare missend", "declare nope", "LIST", "bogus  words"} {
		f.Add(cmd(text, alice), byte(slackValid), int16(0), "", false)
	}
	f.Add(cmd("list", mallory), byte(slackValid), int16(-200), "", false)
	f.Add(cmd("status INC-20261121-ABC234", ""), byte(slackValid), int16(200), "", false)
	f.Add([]byte("text=list&text=declare&user_id=U0CAROL"), byte(slackValid), int16(0), "", false)
	f.Add([]byte("text=%zz"), byte(slackValid), int16(0), "", false)
	f.Add([]byte("a;b=c"), byte(slackValid), int16(0), "", false)
	f.Add(cmd("list", alice), byte(slackValid), int16(0), "", true)
	for mode := byte(1); mode < slackModes; mode++ {
		f.Add(cmd("list", alice), mode, int16(-1), "v0=00", false)
	}
	f.Fuzz(func(t *testing.T, body []byte, mode byte, skew int16, raw string, endless bool) {
		fuzzSlack(t, "/slack/commands", body, mode, skew, raw, endless, false)
	})
}

// interaction marshals an interaction callback as Slack sends it.
func interaction(ic slack.InteractionCallback) []byte {
	b, err := json.Marshal(&ic)
	if err != nil {
		panic(err)
	}
	return b
}

func buttonPress(action, user string, v slackui.ButtonValue) []byte {
	return interaction(slack.InteractionCallback{
		Type: slack.InteractionTypeBlockActions, User: slack.User{ID: user}, TriggerID: "1.2.abc",
		ResponseURL: "https://hooks.slack.com/actions/T0/1/x",
		Channel:     slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: incidentChannel}}},
		Container:   slack.Container{Type: "message", ChannelID: incidentChannel, MessageTs: "1.000001"},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{
			ActionID: action, ActionTs: "2.000002", Value: v.Encode(),
		}}},
	})
}

func submission(callback, user, meta string, values map[string]map[string]slack.BlockAction) []byte {
	return interaction(slack.InteractionCallback{
		Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: user},
		View: slack.View{ID: "V0FUZZ", CallbackID: callback, PrivateMetadata: meta, State: &slack.ViewState{Values: values}},
	})
}

func inputs(kv map[string]slack.BlockAction) map[string]map[string]slack.BlockAction {
	out := map[string]map[string]slack.BlockAction{}
	for k, v := range kv {
		out[k] = map[string]slack.BlockAction{k: v}
	}
	return out
}

// FuzzInteraction: POST /slack/interactions with arbitrary payloads (as
// the payload field of the form, or, with rawBody, as the whole body).
// Valid requests are delivered twice, as a retry or a replay within the
// window would.
func FuzzInteraction(f *testing.F) {
	task := slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234", Item: "T1"}
	recall := slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234/recall/R00007", Item: "R00007"}
	obligation := slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234/obligation/JP-APPI", Item: "JP-APPI-prelim"}
	demand := slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234/broker/B001", Item: "B001"}
	meta := `{"w":"INC-20261121-ABC234/recall/R00007","i":"R00007","c":"C0INCIDENT","r":"https://hooks.slack.com/x"}`
	declare := inputs(map[string]slack.BlockAction{
		slackbot.InputRunbook:       {SelectedOption: slack.OptionBlockObject{Value: "missend"}},
		slackbot.InputTitle:         {Value: "Order confirmation sent to the wrong customers"},
		slackbot.InputWhatLeaked:    {Value: "names and order numbers"},
		slackbot.InputPersons:       {Value: "53"},
		slackbot.InputAwareDate:     {SelectedDate: "2026-11-21"},
		slackbot.InputAwareTime:     {SelectedTime: "09:30"},
		slackbot.InputUnauthorized:  {SelectedOption: slack.OptionBlockObject{Value: slackbot.No}},
		slackbot.InputSensitive:     {SelectedOption: slack.OptionBlockObject{Value: slackbot.Yes}},
		slackbot.InputJurisdictions: {SelectedOptions: []slack.OptionBlockObject{{Value: "JP-APPI"}, {Value: "EU-GDPR"}}},
		slackbot.InputList:          {Value: knownList},
	})
	seeds := [][]byte{
		buttonPress(slackui.ActionCompleteTask, alice, task),
		buttonPress(slackui.ActionCompleteTask, mallory, task),
		buttonPress(slackui.ActionPhoneConfirmed, carol, recall),
		buttonPress(slackui.ActionApproveBroadcast, bob, slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234/broadcast/1", Item: "sha256:abc"}),
		buttonPress(slackui.ActionCloseRecipient, alice, recall),
		buttonPress(slackui.ActionRecordFiling, bob, obligation),
		buttonPress(slackui.ActionPauseBroadcast, bob, task),
		buttonPress("some-link-button", alice, task),
		buttonPress(slackui.ActionNotRequired, alice, obligation),
		buttonPress(slackui.ActionUpdateFacts, alice, slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234"}),
		buttonPress(slackui.ActionSendNotices, alice, slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234"}),
		buttonPress(slackui.ActionAddBroker, alice, slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234"}),
		buttonPress(slackui.ActionRecordMailing, carol, demand),
		buttonPress(slackui.ActionCloseIncident, bob, slackui.ButtonValue{WorkflowID: "INC-20261121-ABC234"}),
		submission(slackui.CallbackProposeNotRequired, alice, meta, inputs(map[string]slack.BlockAction{slackbot.InputRationale: {Value: "encrypted"}})),
		submission(slackui.CallbackReviewNotRequired, bob, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputDecision: {SelectedOption: slack.OptionBlockObject{Value: slackbot.DecisionReject}}, slackbot.InputNote: {Value: "no"},
		})),
		submission(slackui.CallbackUpdateFacts, alice, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputPersons: {Value: "60"}, slackbot.InputWhatLeaked: {Value: "names"}, slackbot.InputReason: {Value: "recount"},
			slackbot.InputUnauthorized: {SelectedOption: slack.OptionBlockObject{Value: slackbot.Yes}},
			slackbot.InputSensitive:    {SelectedOption: slack.OptionBlockObject{Value: slackbot.No}},
			slackbot.InputFoundDate:    {SelectedDate: "2026-11-20"}, slackbot.InputFoundTime: {SelectedTime: "25:99"},
		})),
		submission(slackui.CallbackAddBroker, alice, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputBrokerName: {Value: "株式会社名簿センター"}, slackbot.InputBrokerPostalCode: {Value: "160-0022"},
			slackbot.InputBrokerAddress: {Value: "東京都新宿区"},
		})),
		submission(slackui.CallbackRecordMailing, carol, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputTracking: {Value: "１２３４-5678-9012"}, slackbot.InputMailedDate: {SelectedDate: "2026-11-21"}, slackbot.InputMailedTime: {SelectedTime: "10:00"},
		})),
		submission(slackui.CallbackBrokerAnswer, alice, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputOutcome: {SelectedOption: slack.OptionBlockObject{Value: "maybe"}},
		})),
		submission(slackui.CallbackRecordEscalation, bob, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputEscalateTo: {SelectedOption: slack.OptionBlockObject{Value: "police"}}, slackbot.InputReference: {Value: "a\nb"},
		})),
		submission(slackui.CallbackCloseIncident, bob, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputReason: {Value: "done"}, slackbot.InputStopRecalls: {SelectedOptions: []slack.OptionBlockObject{{Value: "stop"}, {Value: "x"}}},
		})),
		submission(slackui.CallbackDeclare, alice, `{"c":"C0INCIDENT"}`, declare),
		submission(slackui.CallbackDeclare, alice, `{}`, declare),
		submission(slackui.CallbackCloseRecipient, alice, meta, inputs(map[string]slack.BlockAction{slackbot.InputReason: {Value: "confirmed by post"}})),
		submission(slackui.CallbackRecordFiling, bob, meta, inputs(map[string]slack.BlockAction{
			slackbot.InputFiledDate: {SelectedDate: "2026-11-21"}, slackbot.InputFiledTime: {SelectedTime: "10:00"},
			slackbot.InputReference: {Value: "PPC-123"}, slackbot.InputFilingChannel: {Value: "PPC web form"},
		})),
		[]byte(`{"type":"block_actions","user":{"id":"U0ALICE"},"actions":[{"action_id":"complete_task","value":"{\"w\":\"\"}"}]}`),
		[]byte(`{"type":"view_submission","view":{"state":{"values":{"title":{"title":{"type":"plain_text_input","value":1}}}}}}`),
		[]byte(`{"type":"block_actions","message":{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x"}},{"type":"nope"}]}}`),
		[]byte(`{"type":"shortcut"}`),
		[]byte(`null`),
		[]byte(`{`),
	}
	for _, s := range seeds {
		f.Add(s, byte(slackValid), int16(0), "", false)
	}
	f.Add([]byte("payload="), byte(slackValid), int16(0), "", true)
	f.Add([]byte("payload=%7B%7D&payload=x"), byte(slackValid), int16(0), "", true)
	for mode := byte(1); mode < slackModes; mode++ {
		f.Add(seeds[0], mode, int16(1), "v0=", false)
	}
	f.Fuzz(func(t *testing.T, payload []byte, mode byte, skew int16, raw string, rawBody bool) {
		body := payload
		if !rawBody {
			body = []byte(url.Values{"payload": {string(payload)}}.Encode())
		}
		fuzzSlack(t, "/slack/interactions", body, mode, skew, raw, false, true)
	})
}
