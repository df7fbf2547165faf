package regimes

import (
	"fmt"
	"time"
)

// count turns a length into the instant it ends, from an anchor, by a
// day-counting convention. Calendar days are days of loc.
func count(anchor time.Time, l Length, c Counting, loc *time.Location) time.Time {
	switch c {
	case AnchorDayIsDay1:
		return DateOf(anchor.In(loc)).AddDays(l.N - 1).End(loc)
	case DaysAfterAnchorDay:
		return DateOf(anchor.In(loc)).AddDays(l.N).End(loc)
	default: // Elapsed
		return anchor.Add(l.Duration())
	}
}

// covers reports whether the holiday table covers the day.
func (c *Calendar) covers(d Date) bool {
	return !d.Before(c.HolidaysFrom) && !c.HolidaysUntil.Before(d)
}

// closedReason returns why the day is not a business day, or "" when it is.
func (c *Calendar) closedReason(d Date) string {
	wd := d.Weekday()
	for _, w := range c.Weekends {
		if w.time() == wd {
			return string(w)
		}
	}
	md := MonthDay{d.Month, d.Day}.ord()
	for _, cl := range c.Closures {
		from, to := cl.From.ord(), cl.To.ord()
		if (from <= to && from <= md && md <= to) || (from > to && (md >= from || md <= to)) {
			return cl.Name
		}
	}
	for _, h := range c.Holidays {
		if h.Date == d {
			return h.Name
		}
	}
	return ""
}

// graceDate returns the end of the first business day after a deadline that
// falls on a closed day, or nil when the last day is a business day or the
// holiday table does not reach far enough (then the note says so).
func graceDate(c *Calendar, deadline time.Time, loc *time.Location) (*time.Time, string) {
	last := DateOf(deadline.In(loc))
	uncovered := func(d Date) string {
		return fmt.Sprintf("No grace date: the %s table covers %s to %s only, not %s.", c.Name, c.HolidaysFrom, c.HolidaysUntil, d)
	}
	if !c.covers(last) {
		return nil, uncovered(last)
	}
	why := c.closedReason(last)
	if why == "" {
		return nil, ""
	}
	for d := last.AddDays(1); ; d = d.AddDays(1) {
		if !c.covers(d) {
			return nil, uncovered(d)
		}
		if c.closedReason(d) == "" {
			t := d.End(loc)
			return &t, fmt.Sprintf("Grace date: the last day %s is a closed day (%s); the next business day is %s. Shown only: reminders and escalation count from the deadline.", last, why, d)
		}
	}
}
