package workflows_test

import (
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/timefmt"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// forbiddenTime are the forms no reader may see in a text: a zero time, a
// Go duration, a doubled or negative count.
var forbiddenTime = regexp.MustCompile(`0001-01-01|000\d年|\d+h\d*m\d*s?\b|\b\d+m\d+s\b|\b\d+d \d+h\b|\b\d+h\b|--\d|(^|[^\d])-\d+ ?(日|時間|分|day|hour|minute|d\b|h\b)|\d{5,}日`)

// The daily reports, to staff and to members, never show a zero time, a
// Go duration or an overflowed count, whatever the times they carry: none
// (a prompt duty), long past, far future, at DST changes, in zones with
// half-hour offsets.
func TestDailyReportTimesAreForPeople(t *testing.T) {
	zones := []*time.Location{timefmt.Zone("Asia/Tokyo"), timefmt.Zone("America/New_York"), timefmt.Zone("Australia/Lord_Howe"), timefmt.Zone("Asia/Kolkata")}
	times := []time.Time{
		{},
		time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), time.Date(2026, 4, 4, 14, 59, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9998, 12, 31, 0, 0, 0, 0, time.UTC),
	}
	r := rand.New(rand.NewPCG(7, 11))
	for range 40 {
		times = append(times, time.Unix(r.Int64N(3_000_000_000), 0))
	}
	at := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	for _, loc := range zones {
		for _, tm := range times {
			s := workflows.DailySnapshot{
				At: at,
				Obligations: []workflows.ObligationSummary{
					{ObligationID: "JP-APPI/final", Title: "確報", Audience: "PPC", State: workflows.ObligationPending, Due: tm},
					{ObligationID: "JP-APPI/preliminary", Title: "速報", Audience: "PPC", State: workflows.ObligationFiled, Due: tm, FiledAt: tm},
					{ObligationID: "JP-APPI/individual_notice", Title: "本人への通知", Audience: "本人", State: workflows.ObligationOverdue, Due: tm},
				},
				Tasks:         []workflows.TaskStatus{{ID: "stop", Title: runbooks.Localized{Ja: "送信停止", En: "stop sending"}, Owner: "ops", Due: tm}},
				Prevention:    "due",
				PreventionDue: tm,
			}
			for _, text := range workflows.ComposeDailyReport(loc, 3, s) {
				if m := forbiddenTime.FindString(text); m != "" {
					t.Fatalf("%q in a report (time %v, zone %v):\n%s", m, tm, loc, text)
				}
			}
		}
	}
}
