package slackbot_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
)

// postSigned sends body to path signed at ts, as Slack would have.
func (h *harness) postSigned(path string, body []byte, ts time.Time) int {
	h.t.Helper()
	hr, err := http.NewRequest(http.MethodPost, h.engine.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	s := strconv.FormatInt(ts.Unix(), 10)
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("X-Slack-Request-Timestamp", s)
	hr.Header.Set("X-Slack-Signature", sign(sandbox.SlackSigningSecret, s, body))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		h.t.Fatal(err)
	}
	_ = resp.Body.Close()
	h.bot.Wait()
	return resp.StatusCode
}

func closeRecipientSubmission(user string) []byte {
	meta := `{"w":"INC-20261121-ABC234/recall/R00007","i":"R00007","c":"` + incidentChannel + `"}`
	payload := submission(slackui.CallbackCloseRecipient, user, meta,
		inputs(map[string]slack.BlockAction{slackbot.InputReason: {Value: "confirmed by post"}}))
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

// A signed request captured by someone (a proxy log, a leaked HAR file)
// and replayed after Slack's 5-minute window is refused before it is
// parsed, whatever it carries.
func TestReplayedRequestOutsideTheWindowIsRefused(t *testing.T) {
	requests := []struct {
		name, path string
		body       []byte
	}{
		{"slash command", "/slack/commands", listCommand(alice)},
		{"button press", "/slack/interactions", completeTaskClick(alice)},
		{"modal submission", "/slack/interactions", closeRecipientSubmission(alice)},
		{"close submission", "/slack/interactions", closeIncidentSubmission(bob)},
	}
	ages := []time.Duration{5*time.Minute + 30*time.Second, time.Hour, 30 * 24 * time.Hour}
	for _, r := range requests {
		for _, age := range ages {
			t.Run(r.name+"/"+age.String(), func(t *testing.T) {
				h := newHarness(t, defaultOptions())
				if got := h.postSigned(r.path, r.body, time.Now().Add(-age)); got != http.StatusUnauthorized {
					t.Fatalf("replay %s later: status %d, want 401", age, got)
				}
				if calls := h.temporal.Calls(); len(calls) != 0 {
					t.Errorf("the replay reached Temporal: %+v", calls)
				}
				if calls := h.sb.SlackCalls(); len(calls) != 0 {
					t.Errorf("the replay made %d Slack API calls", len(calls))
				}
			})
		}
	}
}

// Within the window Slack's signature cannot tell a replay from the
// original (slack-go says so: verification does not deduplicate). A
// button or a modal submission delivered twice sends Updates with the
// same Update ID, derived from the click (user and action_ts) or the
// modal (user and view ID), so Temporal applies it once.
func TestReplayedInteractionWithinTheWindowIsOneUpdate(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"button press", completeTaskClick(alice)},
		{"modal submission", closeRecipientSubmission(alice)},
		{"close submission", closeIncidentSubmission(bob)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, defaultOptions())
			signedAt := time.Now() // the very same request, headers and all
			for i := range 2 {
				if got := h.postSigned("/slack/interactions", tt.body, signedAt); got != http.StatusOK {
					t.Fatalf("delivery %d: status %d", i+1, got)
				}
			}
			ups := h.callsOf("UpdateWorkflow")
			if len(ups) != 2 {
				t.Fatalf("%d Updates, want one per delivery: %+v", len(ups), ups)
			}
			if ups[0].UpdateID == "" || ups[0].UpdateID != ups[1].UpdateID {
				t.Fatalf("Update IDs %q and %q: want one non-empty ID, so Temporal applies the click once", ups[0].UpdateID, ups[1].UpdateID)
			}
		})
	}
}
