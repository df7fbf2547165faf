package slackbot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/slackbot"
)

// socketEnvelope is one Socket Mode request sent to the app.
type socketEnvelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
}

// socketAck is the app's answer to an envelope.
type socketAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

// fakeSocketSlack plays Slack's side of Socket Mode: apps.connections.open
// and a WebSocket that says hello, pushes envelopes and collects acks.
func fakeSocketSlack(t *testing.T, appToken string, envelopes []socketEnvelope) (apiURL string, acks <-chan socketAck) {
	t.Helper()
	out := make(chan socketAck, len(envelopes))
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("POST /apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+appToken {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(srv.URL, "http") + "/link"})
	})
	mux.HandleFunc("GET /link", func(w http.ResponseWriter, r *http.Request) {
		// Slack's client says Origin: https://api.slack.com.
		up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://api.slack.com" }}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Logf("upgrade %s %v: %v", r.URL, r.Header, err)
			return
		}
		defer conn.Close()
		if err := conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1,
			"connection_info": map[string]string{"app_id": "A0SANDBOX"}}); err != nil {
			return
		}
		for _, e := range envelopes {
			if err := conn.WriteJSON(e); err != nil {
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			var a socketAck
			_, raw, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				return
			}
			out <- a
		}
		// Keep the connection open until the client leaves.
		_ = conn.SetReadDeadline(time.Time{})
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	})
	return srv.URL + "/", out
}

func TestSocketModeUsesTheSameDispatcher(t *testing.T) {
	const appToken = "xapp-1-test"
	cmd, _ := json.Marshal(slack.SlashCommand{Command: "/breach", Text: "help", UserID: alice, ChannelID: incidentChannel})

	apiURL, acks := fakeSocketSlack(t, appToken, []socketEnvelope{
		{EnvelopeID: "env-1", Type: "slash_commands", Payload: cmd, AcceptsResponsePayload: true},
		{EnvelopeID: "env-2", Type: "interactive", Payload: completeTaskPayload(alice), AcceptsResponsePayload: true},
	})
	o := defaultOptions()
	o.mutate = func(c *slackbot.Config) { c.SocketModeAPIURL = apiURL }
	h := newHarness(t, o)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- h.bot.RunSocketMode(ctx, appToken) }()

	next := func() socketAck {
		t.Helper()
		select {
		case a := <-acks:
			return a
		case err := <-errc:
			t.Fatalf("RunSocketMode ended: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("no ack within 5 s")
		}
		return socketAck{}
	}
	a := next()
	var m slackbot.Message
	if a.EnvelopeID != "env-1" || json.Unmarshal(a.Payload, &m) != nil || !strings.Contains(m.Text, "/breach declare") {
		t.Errorf("ack %s %s: want the help text for env-1", a.EnvelopeID, a.Payload)
	}
	a = next()
	if a.EnvelopeID != "env-2" || len(a.Payload) != 0 {
		t.Errorf("ack %s %s: want an empty ack for env-2", a.EnvelopeID, a.Payload)
	}
	h.bot.Wait()
	if u := h.callsOf("UpdateWorkflow"); len(u) != 1 || u[0].Name != "complete_task" {
		t.Errorf("updates %+v, want the button's complete_task", u)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("RunSocketMode: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("RunSocketMode did not stop with its context")
	}
}

func TestSocketModeNeedsAnAppToken(t *testing.T) {
	h := newHarness(t, defaultOptions())
	if err := h.bot.RunSocketMode(context.Background(), "xoxb-bot-token"); err == nil || !strings.Contains(err.Error(), "xapp-") {
		t.Errorf("error %v: want it to ask for an app-level token", err)
	}
}
