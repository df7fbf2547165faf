package slackui_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/slackui"
)

// The incident message lists the broadcasts and letters by label, state and
// counts: the latest MaxListed, with a count of the earlier ones.
func TestIncidentBlocks_ListNoticesAndLetters(t *testing.T) {
	v := slackui.IncidentView{IncidentID: "INC-1", Title: "t", Phase: "monitoring"}
	for k := range slackui.MaxListed + 2 {
		v.Notices = append(v.Notices, slackui.NoticeView{WorkflowID: "INC-1/broadcast/x", Label: "Daily report", State: "done", Sent: k, Total: 100,
			Counts: fmt.Sprintf("accepted %d/100, bounced 2", k)})
	}
	v.Notices = append(v.Notices, slackui.NoticeView{WorkflowID: "INC-1/broker/B001", Label: "Letter B001", State: "awaiting_mailing"})
	_, blocks := slackui.IncidentBlocks(v)
	js, err := json.Marshal(blocks)
	require.NoError(t, err)
	s := string(js)
	require.Contains(t, s, "*Notices and letters*")
	require.Contains(t, s, `…3 earlier`)
	require.Contains(t, s, `• Daily report — done (accepted 11/100, bounced 2)`)
	require.Contains(t, s, `• Letter B001 — awaiting_mailing`)
	require.NotContains(t, s, `awaiting_mailing (`)
}

// A deadline the law sets as "promptly" has no date: the message says so
// in words, never as a zero time.
func TestIncidentBlocks_DeadlineWithoutADate(t *testing.T) {
	v := slackui.IncidentView{IncidentID: "INC-1", Title: "t", Phase: "response", Deadlines: []slackui.DeadlineView{
		{Label: "notice to individuals", State: "pending"},
		{Label: "final report", Due: time.Date(2026, 12, 11, 14, 59, 0, 0, time.UTC), State: "drafted"},
	}}
	_, blocks := slackui.IncidentBlocks(v)
	js, err := json.Marshal(blocks)
	require.NoError(t, err)
	s := string(js)
	require.NotContains(t, s, "0001-01-01")
	require.Contains(t, s, "• notice to individuals — promptly (no fixed date) (pending)")
	require.Contains(t, s, "• final report — 2026-12-11 23:59 JST (drafted)")
}

// The incident message never shows a zero time or an absurd date, whatever
// the deadlines carry: none (a prompt duty), long past, far future, DST
// changes.
func TestIncidentBlocks_DeadlineTimesAreForPeople(t *testing.T) {
	forbidden := regexp.MustCompile(`0001-01-01|\d+h\d*m\d*s?\b|--\d|\d{5,}-`)
	times := []time.Time{{}, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC)}
	for k := range 50 {
		times = append(times, time.Unix(int64(k)*61_000_003, 0))
	}
	for _, due := range times {
		v := slackui.IncidentView{IncidentID: "INC-1", Title: "t", Phase: "response",
			Deadlines: []slackui.DeadlineView{{Label: "final report", Due: due, State: "pending"}}}
		_, blocks := slackui.IncidentBlocks(v)
		js, err := json.Marshal(blocks)
		require.NoError(t, err)
		if m := forbidden.FindString(string(js)); m != "" {
			t.Fatalf("%q in the incident message for a deadline of %v:\n%s", m, due, js)
		}
	}
}
