package slackbot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/slack-go/slack"
)

// MaxBody bounds an inbound Slack request; block_actions payloads carry the
// whole message, which stays well under this.
const MaxBody = 1 << 20

// Routes registers the HTTP endpoints on mount (e.g. (*frontdoor.Server).Handle):
//
//	POST /slack/commands      slash commands (the Slash Command's Request URL)
//	POST /slack/interactions  buttons and modal submissions (Interactivity Request URL)
//
// Each verifies the request's signature (signing secret, 5-minute window,
// raw body) before parsing anything, and answers 401 when it does not hold.
func (d *Dispatcher) Routes(mount func(pattern string, h http.Handler)) {
	mount("POST /slack/commands", d.verified(d.serveCommand))
	mount("POST /slack/interactions", d.verified(d.serveInteraction))
}

// verified checks X-Slack-Signature and X-Slack-Request-Timestamp on the raw
// body, then restores the body for next.
func (d *Dispatcher) verified(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.cfg.SigningSecret == "" {
			d.log.Error("slackbot: no signing secret configured: refusing every HTTP request")
			http.Error(w, "not configured", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read request", http.StatusBadRequest)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, d.cfg.SigningSecret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			d.log.Warn("slackbot: rejected unverified request", "path", r.URL.Path, "error", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r)
	})
}

func (d *Dispatcher) serveCommand(w http.ResponseWriter, r *http.Request) {
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "malformed slash command", http.StatusBadRequest)
		return
	}
	writeAck(w, d.HandleSlashCommand(r.Context(), cmd))
}

func (d *Dispatcher) serveInteraction(w http.ResponseWriter, r *http.Request) {
	ic, err := slack.InteractionCallbackParse(r)
	if err != nil {
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	writeAck(w, d.HandleInteraction(r.Context(), ic))
}

func writeAck(w http.ResponseWriter, a Ack) {
	if a.Payload == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := json.Marshal(a.Payload)
	if err != nil {
		http.Error(w, "cannot encode answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
