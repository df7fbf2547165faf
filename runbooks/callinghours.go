package runbooks

import (
	"fmt"
	"time"
)

// Open reports whether the window restricts nothing (no start and end set).
func (h CallingHours) Open() bool { return h.Start == 0 && h.End == 0 }

// Next returns the earliest instant at or after t inside the calling hours,
// in the window's time zone: a call due at 22:00 waits for 09:00 the next
// day. It is pure and deterministic, so workflows may call it.
func (h CallingHours) Next(t time.Time) (time.Time, error) {
	if h.Open() {
		return t, nil
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return t, fmt.Errorf("calling hours time zone %q: %w", h.TimeZone, err)
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	start, end := h.Start.Minutes(), h.End.Minutes()
	if m >= start && m < end {
		return t, nil
	}
	day := 0
	if m >= end {
		day = 1
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day()+day, start/60, start%60, 0, 0, loc), nil
}
