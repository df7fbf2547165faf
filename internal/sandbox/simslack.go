package sandbox

import (
	"encoding/json"
	"net/http"
)

// SimSlashCommand is the body of POST /sim/slack/command: a simulated user
// types a slash command in a channel.
type SimSlashCommand struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
	Text    string `json:"text"` // e.g. "/breach declare missend"
}

// SimSubmitView is the body of POST /sim/slack/submit: a simulated user
// fills and submits an open modal.
type SimSubmitView struct {
	User   string                       `json:"user"`
	ViewID string                       `json:"view_id"`
	Values map[string]map[string]string `json:"values"`
}

// SimSlackResult is what the engine answered the simulated request.
type SimSlackResult struct {
	Status    int             `json:"status"`
	Body      json.RawMessage `json:"body,omitempty"`
	Text      string          `json:"text,omitempty"`
	TriggerID string          `json:"trigger_id,omitempty"`
}

// simSlackRoutes lets another process (the demo, `starter sandbox declare`)
// act as a Slack user: the requests reach the engine signed exactly as
// Slack would send them.
func (s *Sandbox) simSlackRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /sim/slack/command", func(w http.ResponseWriter, r *http.Request) {
		var in SimSlashCommand
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {user, channel, text}"})
			return
		}
		resp, err := s.SlashCommand(r.Context(), in.User, in.Channel, in.Text)
		s.writeSim(w, resp, err)
	})
	mux.HandleFunc("POST /sim/slack/submit", func(w http.ResponseWriter, r *http.Request) {
		var in SimSubmitView
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 256<<10)).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {user, view_id, values}"})
			return
		}
		resp, err := s.SubmitView(r.Context(), in.User, in.ViewID, in.Values)
		s.writeSim(w, resp, err)
	})
}

func (s *Sandbox) writeSim(w http.ResponseWriter, resp *SlackResponse, err error) {
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	out := SimSlackResult{Status: resp.StatusCode, TriggerID: resp.TriggerID}
	if json.Valid(resp.Body) {
		out.Body = resp.Body
	} else {
		out.Text = string(resp.Body)
	}
	writeJSON(w, http.StatusOK, out)
}
