package workflows_test

import (
	"testing"
	"time"

	"github.com/breachflow/breachflow/workflows"
)

// Reminders and escalations say how long is left, or how late, in words;
// a deadline without a date (a prompt duty) says nothing of the kind,
// never an overflowed count such as "--106751d -23h".
func TestLeftNote(t *testing.T) {
	now := time.Date(2026, 11, 12, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		due    time.Time
		ja, en string
	}{
		{time.Time{}, "", ""},
		{now.Add(29*24*time.Hour + 13*time.Hour), "（残り29日13時間）", " (29 days 13 hours left)"},
		{now.Add(-(13*24*time.Hour + 17*time.Hour)), "（13日17時間の遅れ）", " (13 days 17 hours late)"},
	} {
		ja, en := workflows.LeftNote(now, tc.due)
		if ja != tc.ja || en != tc.en {
			t.Errorf("LeftNote(%v) = %q, %q; want %q, %q", tc.due, ja, en, tc.ja, tc.en)
		}
	}
}
