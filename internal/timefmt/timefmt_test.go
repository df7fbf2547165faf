package timefmt_test

import (
	"math"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/timefmt"
)

var (
	tokyo  = timefmt.Zone("Asia/Tokyo")
	london = timefmt.Zone("Europe/London")
	now    = time.Date(2026, 12, 7, 14, 59, 0, 0, time.UTC) // 23:59 JST
)

func TestAt(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		loc  *time.Location
		lang timefmt.Lang
		want string
	}{
		{now, tokyo, timefmt.Japanese, "2026年12月7日(月) 23:59"},
		{now, tokyo, timefmt.English, "2026-12-07 23:59 JST"},
		{now, london, timefmt.Japanese, "2026年12月7日(月) 14:59 GMT"},
		{now, time.FixedZone("", 7*3600), timefmt.English, "2026-12-07 21:59 UTC+7"},
		{now, time.FixedZone("", 5*3600+1800), timefmt.English, "2026-12-07 20:29 UTC+5:30"},
		{time.Time{}, tokyo, timefmt.Japanese, ""},
		{time.Date(1, 1, 1, 9, 0, 0, 0, tokyo), tokyo, timefmt.English, ""},
		{time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC), tokyo, timefmt.English, ""},
	} {
		if got := timefmt.At(tc.t, tc.loc, tc.lang); got != tc.want {
			t.Errorf("At(%v, %v, %s) = %q, want %q", tc.t, tc.loc, tc.lang, got, tc.want)
		}
	}
}

func TestDueWithoutADate(t *testing.T) {
	if got := timefmt.Due(time.Time{}, tokyo, timefmt.Japanese); got != "速やかに（期日の定めなし）" {
		t.Errorf("ja: %q", got)
	}
	if got := timefmt.Due(time.Time{}, tokyo, timefmt.English); got != "promptly (no fixed date)" {
		t.Errorf("en: %q", got)
	}
}

func TestLeftAndLate(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		due    time.Time
		ja, en string
	}{
		{now.Add(29*day + 13*time.Hour), "残り29日13時間", "29 days 13 hours left"},
		{now.Add(2*day + 4*time.Hour + 20*time.Minute), "残り2日4時間", "2 days 4 hours left"},
		{now.Add(day), "残り1日", "1 day left"},
		{now.Add(3*time.Hour + 5*time.Minute), "残り3時間5分", "3 hours 5 minutes left"},
		{now.Add(45 * time.Minute), "残り45分", "45 minutes left"},
		{now.Add(20 * time.Second), "残り1分未満", "less than a minute left"},
		{now, "1分未満の遅れ", "less than a minute late"},
		{now.Add(-(13*day + 17*time.Hour)), "13日17時間の遅れ", "13 days 17 hours late"},
		{now.Add(-17 * day), "17日の遅れ", "17 days late"},
		{now.Add(-409 * time.Hour), "17日1時間の遅れ", "17 days 1 hour late"},
		{time.Time{}, "", ""},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "残り10年以上", "more than 10 years left"},
		{time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), "10年以上の遅れ", "more than 10 years late"},
	} {
		if got := timefmt.Left(now, tc.due, timefmt.Japanese); got != tc.ja {
			t.Errorf("Left(%v) ja = %q, want %q", tc.due, got, tc.ja)
		}
		if got := timefmt.Left(now, tc.due, timefmt.English); got != tc.en {
			t.Errorf("Left(%v) en = %q, want %q", tc.due, got, tc.en)
		}
	}
	if got := timefmt.Span(math.MinInt64, timefmt.English); got != "more than 10 years" {
		t.Errorf("Span(MinInt64) = %q", got)
	}
}

// The forms no reader may see: a zero time, a Go duration, a negative or
// doubled sign, an overflowed count.
var forbidden = regexp.MustCompile(`0001-01-01|000\d年|\d+h\d*m|\d+m\d+s|\b\d+[hms]\b|--|(^|[^\d])-\d+ ?(日|時間|分|day|hour|minute)|\d{5,}日|\d{5,}`)

// Every text is free of the forbidden forms, whatever the times: zero,
// long past, far future, around DST changes, in zones with half-hour
// offsets.
func TestNoForbiddenForms(t *testing.T) {
	zones := []*time.Location{tokyo, london, timefmt.Zone("America/New_York"), timefmt.Zone("Australia/Lord_Howe"), timefmt.Zone("Asia/Kolkata"), time.UTC}
	edges := []time.Time{
		{}, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC),
		time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), // New York springs forward
		time.Date(2026, 10, 25, 0, 59, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), // London falls back
		time.Date(2026, 4, 4, 14, 59, 0, 0, time.UTC), // Lord Howe's half hour
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		edges = append(edges, time.Unix(r.Int64N(4_000_000_000)-1_000_000_000, 0))
	}
	for _, a := range edges {
		for _, b := range []time.Time{now, {}, a.Add(-time.Hour), a.Add(90 * time.Minute)} {
			for _, loc := range zones {
				for _, lang := range []timefmt.Lang{timefmt.Japanese, timefmt.English} {
					for _, s := range []string{timefmt.Due(a, loc, lang), timefmt.Left(b, a, lang), timefmt.Late(a.Sub(b), lang)} {
						if forbidden.MatchString(s) {
							t.Fatalf("%q (%v, %v, %v, %s)", s, a, b, loc, lang)
						}
					}
				}
			}
		}
	}
}

// JSON gives every time at one precision, with the zone's offset; a zero
// time is null, not year 1.
func TestJSONTimes(t *testing.T) {
	in := `{"due":"2026-12-11T14:59:00Z","done_at":"2026-12-07T05:16:42.123456789Z","filed":"2026-12-01T10:30:00+09:00","never":"0001-01-01T00:00:00Z","note":"due 2026-12-11T14:59:00Z","n":3}`
	want := `{"due":"2026-12-11T23:59:00+09:00","done_at":"2026-12-07T14:16:42+09:00","filed":"2026-12-01T10:30:00+09:00","never":null,"note":"due 2026-12-11T14:59:00Z","n":3}`
	if got := string(timefmt.JSONTimes([]byte(in), tokyo)); got != want {
		t.Errorf("JSONTimes:\n got %s\nwant %s", got, want)
	}
}
