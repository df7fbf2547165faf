package regimes_test

import (
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/runbooks/regimes"
)

// TestJPHolidayTableFollowsTheHolidayAct checks the data in jp-appi.yaml
// against the rules of 国民の祝日に関する法律: fixed days, Happy Mondays, the
// equinox days (announced each February in the 官報; listed here), 振替休日
// (a holiday on a Sunday moves to the next non-holiday) and 国民の休日 (a day
// between two holidays).
func TestJPHolidayTableFollowsTheHolidayAct(t *testing.T) {
	jp, ok := regimes.ByID(builtin(t), "JP-APPI")
	if !ok || jp.Calendar == nil {
		t.Fatal("JP-APPI has no calendar")
	}
	cal := jp.Calendar
	if cal.HolidaysFrom.String() != "2025-01-01" || cal.HolidaysUntil.String() != "2028-12-31" {
		t.Fatalf("table covers %s..%s, want 2025-01-01..2028-12-31", cal.HolidaysFrom, cal.HolidaysUntil)
	}
	equinoxes := map[int][2]int{ // March day, September day
		2025: {20, 23}, 2026: {20, 23}, 2027: {21, 23}, 2028: {20, 22},
	}
	for year := 2025; year <= 2028; year++ {
		t.Run(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006"), func(t *testing.T) {
			day := func(m time.Month, d int) regimes.Date { return regimes.Date{Year: year, Month: m, Day: d} }
			nthMonday := func(m time.Month, n int) regimes.Date {
				d := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC)
				for d.Weekday() != time.Monday {
					d = d.AddDate(0, 0, 1)
				}
				return regimes.DateOf(d.AddDate(0, 0, 7*(n-1)))
			}
			holiday := map[regimes.Date]bool{}
			for _, d := range []regimes.Date{
				day(time.January, 1), nthMonday(time.January, 2), day(time.February, 11), day(time.February, 23),
				day(time.March, equinoxes[year][0]), day(time.April, 29), day(time.May, 3), day(time.May, 4),
				day(time.May, 5), nthMonday(time.July, 3), day(time.August, 11), nthMonday(time.September, 3),
				day(time.September, equinoxes[year][1]), nthMonday(time.October, 2), day(time.November, 3), day(time.November, 23),
			} {
				holiday[d] = true
			}
			var want []regimes.Date
			for d := day(time.January, 1); d.Year == year; d = d.AddDays(1) {
				switch {
				case holiday[d]:
					want = append(want, d)
				case holiday[d.AddDays(-1)] && holiday[d.AddDays(1)] && d.Weekday() != time.Sunday:
					want = append(want, d) // 国民の休日
				default:
					// 振替休日: the first non-holiday after a run of holidays starting on a Sunday.
					for p := d.AddDays(-1); holiday[p]; p = p.AddDays(-1) {
						if p.Weekday() == time.Sunday {
							want = append(want, d)
							break
						}
					}
				}
			}
			var got []regimes.Date
			for _, h := range cal.Holidays {
				if h.Date.Year == year {
					got = append(got, h.Date)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("holidays of %d:\n got %v\nwant %v", year, got, want)
			}
		})
	}
}
