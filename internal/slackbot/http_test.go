package slackbot_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
)

func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// listCommand is `/breach list` by alice: dispatched, it queries Temporal.
func listCommand(user string) []byte {
	return []byte(url.Values{
		"command": {"/breach"}, "text": {"list"}, "user_id": {user}, "channel_id": {incidentChannel},
		"team_id": {sandbox.SlackTeamID}, "trigger_id": {"1.2.abc"},
	}.Encode())
}

// completeTaskClick is a signed-form interaction: user pressing "Done";
// dispatched, it sends an Update.
func completeTaskClick(user string) []byte {
	return []byte(url.Values{"payload": {string(completeTaskPayload(user))}}.Encode())
}

// completeTaskPayload is the interaction's JSON payload.
func completeTaskPayload(user string) []byte {
	ic := slack.InteractionCallback{
		Type: slack.InteractionTypeBlockActions, User: slack.User{ID: user},
		Channel:   slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: incidentChannel}}},
		Container: slack.Container{Type: "message", ChannelID: incidentChannel, MessageTs: "1.000001"},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{
			ActionID: slackui.ActionCompleteTask, ActionTs: "2.000002",
			Value: slackui.ButtonValue{WorkflowID: incidentID, Item: "T1"}.Encode(),
		}}},
	}
	b, err := json.Marshal(&ic)
	if err != nil {
		panic(err)
	}
	return b
}

// sendNoticesClick is user pressing "Send notices" (after its
// confirmation dialog): dispatched, it sends start_broadcast.
func sendNoticesClick(user string) []byte {
	ic := slack.InteractionCallback{
		Type: slack.InteractionTypeBlockActions, User: slack.User{ID: user},
		Channel:   slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: incidentChannel}}},
		Container: slack.Container{Type: "message", ChannelID: incidentChannel, MessageTs: "1.000001"},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{
			ActionID: slackui.ActionSendNotices, ActionTs: "2.000003",
			Value: slackui.ButtonValue{WorkflowID: incidentID}.Encode(),
		}}},
	}
	b, err := json.Marshal(&ic)
	if err != nil {
		panic(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

func TestEveryRequestIsVerifiedBeforeItIsDispatched(t *testing.T) {
	secret := sandbox.SlackSigningSecret
	now := time.Now()
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	type req struct {
		body   []byte // what is sent
		signed []byte // what the signature covers (body when nil)
		ts     string
		secret string
		noSig  bool
		noTS   bool
		sig    string // overrides the signature
	}
	tests := []struct {
		name string
		req  func(body []byte) req
		want int
	}{
		{"valid", func(b []byte) req { return req{body: b, ts: ts(0), secret: secret} }, http.StatusOK},
		{"valid, four minutes old", func(b []byte) req { return req{body: b, ts: ts(-4 * time.Minute), secret: secret} }, http.StatusOK},
		{"stale: six minutes old", func(b []byte) req { return req{body: b, ts: ts(-6 * time.Minute), secret: secret} }, http.StatusUnauthorized},
		{"future: six minutes ahead", func(b []byte) req { return req{body: b, ts: ts(6 * time.Minute), secret: secret} }, http.StatusUnauthorized},
		{"tampered body", func(b []byte) req {
			return req{body: bytes.Replace(b, []byte(alice), []byte(carol), 1), signed: b, ts: ts(0), secret: secret}
		}, http.StatusUnauthorized},
		{"wrong secret", func(b []byte) req { return req{body: b, ts: ts(0), secret: "not-the-signing-secret"} }, http.StatusUnauthorized},
		{"timestamp changed after signing", func(b []byte) req {
			r := req{body: b, ts: ts(0), secret: secret}
			r.sig = sign(secret, ts(-time.Second), b)
			return r
		}, http.StatusUnauthorized},
		{"no signature", func(b []byte) req { return req{body: b, ts: ts(0), secret: secret, noSig: true} }, http.StatusUnauthorized},
		{"no timestamp", func(b []byte) req { return req{body: b, ts: ts(0), secret: secret, noTS: true} }, http.StatusUnauthorized},
		{"signature not hex", func(b []byte) req { return req{body: b, ts: ts(0), secret: secret, sig: "v0=zzzz"} }, http.StatusUnauthorized},
		{"signature without version", func(b []byte) req {
			return req{body: b, ts: ts(0), secret: secret, sig: strings.TrimPrefix(sign(secret, ts(0), b), "v0=")}
		}, http.StatusUnauthorized},
		{"timestamp not a number", func(b []byte) req { return req{body: b, ts: "soon", secret: secret} }, http.StatusUnauthorized},
	}
	endpoints := []struct {
		name     string
		path     string
		body     []byte
		dispatch string // the Temporal call a dispatched request makes
	}{
		{"command", "/slack/commands", listCommand(alice), "ListWorkflow"},
		{"button", "/slack/interactions", completeTaskClick(alice), "UpdateWorkflow"},
		{"send notices", "/slack/interactions", sendNoticesClick(alice), "UpdateWorkflow"},
		// Dispatched, Close incident… asks the Incident where it stands
		// (alongside the authorization check, which refuses alice).
		{"close incident", "/slack/interactions", []byte(url.Values{"payload": {string(
			buttonPress(slackui.ActionCloseIncident, alice, slackui.ButtonValue{WorkflowID: incidentID}))}}.Encode()), "QueryWorkflow"},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.name+"/"+tt.name, func(t *testing.T) {
				h := newHarness(t, defaultOptions())
				r := tt.req(ep.body)
				signed := r.signed
				if signed == nil {
					signed = r.body
				}
				hr, err := http.NewRequest(http.MethodPost, h.engine.URL+ep.path, bytes.NewReader(r.body))
				if err != nil {
					t.Fatal(err)
				}
				hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if !r.noTS {
					hr.Header.Set("X-Slack-Request-Timestamp", r.ts)
				}
				if !r.noSig {
					sig := r.sig
					if sig == "" {
						sig = sign(r.secret, r.ts, signed)
					}
					hr.Header.Set("X-Slack-Signature", sig)
				}
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
				}
				h.bot.Wait()
				dispatched := len(h.callsOf(ep.dispatch)) > 0
				if dispatched != (tt.want == http.StatusOK) {
					t.Errorf("dispatched = %v, want %v", dispatched, tt.want == http.StatusOK)
				}
				if tt.want != http.StatusOK {
					if calls := h.sb.SlackCalls(); len(calls) != 0 {
						t.Errorf("an unverified request made %d Slack API calls", len(calls))
					}
				}
			})
		}
	}
}

func TestOversizedRequestIsRefusedUnread(t *testing.T) {
	h := newHarness(t, defaultOptions())
	body := bytes.Repeat([]byte("a"), slackbot.MaxBody+1)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	hr, _ := http.NewRequest(http.MethodPost, h.engine.URL+"/slack/commands", bytes.NewReader(body))
	hr.Header.Set("X-Slack-Request-Timestamp", ts)
	hr.Header.Set("X-Slack-Signature", sign(sandbox.SlackSigningSecret, ts, body))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if len(h.temporal.Calls()) != 0 {
		t.Error("dispatched")
	}
}

func TestOnlyPostIsRouted(t *testing.T) {
	h := newHarness(t, defaultOptions())
	resp, err := http.Get(h.engine.URL + "/slack/commands")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d, want 405", resp.StatusCode)
	}
}
