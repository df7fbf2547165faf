package runbooks_test

import (
	"testing"
	"time"

	"github.com/breachflow/breachflow/runbooks"
)

func TestCallingHoursNext(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	ny, _ := time.LoadLocation("America/New_York")
	jp := runbooks.CallingHours{Start: 9 * 60, End: 20 * 60, TimeZone: "Asia/Tokyo"}
	us := runbooks.CallingHours{Start: 9 * 60, End: 20 * 60, TimeZone: "America/New_York"}
	tests := []struct {
		name string
		h    runbooks.CallingHours
		at   time.Time
		want time.Time
	}{
		{"inside the window: now", jp, time.Date(2026, 11, 21, 10, 0, 0, 0, tokyo), time.Date(2026, 11, 21, 10, 0, 0, 0, tokyo)},
		{"22:00 waits for 09:00 next day", jp, time.Date(2026, 11, 21, 22, 0, 0, 0, tokyo), time.Date(2026, 11, 22, 9, 0, 0, 0, tokyo)},
		{"exactly the end is outside", jp, time.Date(2026, 11, 21, 20, 0, 0, 0, tokyo), time.Date(2026, 11, 22, 9, 0, 0, 0, tokyo)},
		{"early morning waits for 09:00 the same day", jp, time.Date(2026, 11, 21, 6, 30, 0, 0, tokyo), time.Date(2026, 11, 21, 9, 0, 0, 0, tokyo)},
		{"given in UTC, judged in Tokyo", jp, time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 9, 0, 0, 0, tokyo)},
		{"month end rolls over", jp, time.Date(2026, 11, 30, 21, 0, 0, 0, tokyo), time.Date(2026, 12, 1, 9, 0, 0, 0, tokyo)},
		{"across the US DST change", us, time.Date(2026, 3, 7, 21, 0, 0, 0, ny), time.Date(2026, 3, 8, 9, 0, 0, 0, ny)},
		{"no window: now", runbooks.CallingHours{}, time.Date(2026, 11, 21, 3, 0, 0, 0, tokyo), time.Date(2026, 11, 21, 3, 0, 0, 0, tokyo)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.h.Next(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
	if _, err := (runbooks.CallingHours{Start: 1, End: 2, TimeZone: "Mars/Base"}).Next(time.Now()); err == nil {
		t.Error("want an error for an unknown zone")
	}
}
