// Package timefmt writes times and durations for people: in the incident's
// time zone, in the text's language, in words. It is the one home of
// time formatting for what people read (messages, reports, Slack, the
// CLI): never a zero time, a Go duration, or a negative or overflowed
// span.
package timefmt

import (
	"fmt"
	"math"
	"strings"
	"time"
	_ "time/tzdata" // zones resolve the same on every machine
)

// Lang is the language of a text.
type Lang string

// The languages texts are written in.
const (
	Japanese Lang = "ja"
	English  Lang = "en"
)

// DefaultZone is the zone of an incident whose runbook names none.
const DefaultZone = "Asia/Tokyo"

// Zone is the first of names that is a valid IANA zone (an override such
// as BREACHFLOW_TIMEZONE first, then the runbook's), else Asia/Tokyo.
func Zone(names ...string) *time.Location {
	for _, n := range names {
		if n == "" {
			continue
		}
		if loc, err := time.LoadLocation(n); err == nil {
			return loc
		}
	}
	loc, err := time.LoadLocation(DefaultZone)
	if err != nil {
		return time.FixedZone("JST", 9*3600)
	}
	return loc
}

// maxSpan is where a span stops being counted: nothing in an incident is
// ten years away, so a longer one is a zero time or a bug, written as such.
const maxSpan = 10 * 365 * 24 * time.Hour

var jaWeekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// At writes t in loc: 「2026年12月7日(月) 23:59」 in Japanese (the zone
// named after it when it is not JST), "2026-12-07 23:59 JST" in English.
// A zero time, or one outside the years 1900 to 9998 (no incident's),
// is written as "": use Due for deadlines that may have no date.
func At(t time.Time, loc *time.Location, lang Lang) string {
	if !dated(t) {
		return ""
	}
	if loc == nil {
		loc = Zone()
	}
	t = t.In(loc)
	if lang == Japanese {
		s := fmt.Sprintf("%d年%d月%d日(%s) %02d:%02d", t.Year(), int(t.Month()), t.Day(), jaWeekdays[t.Weekday()], t.Hour(), t.Minute())
		if name, _ := t.Zone(); name != "JST" {
			s += " " + zoneName(t)
		}
		return s
	}
	return t.Format("2006-01-02 15:04 ") + zoneName(t)
}

// zoneName is the zone's abbreviation, or its UTC offset where the zone
// database has none ("+07").
func zoneName(t time.Time) string {
	name, off := t.Zone()
	if name != "" && (name[0] < '0' || name[0] > '9') && name[0] != '+' && name[0] != '-' {
		return name
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	if off%3600 == 0 {
		return fmt.Sprintf("UTC%s%d", sign, off/3600)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, off/3600, off%3600/60)
}

// Due writes a deadline: its time, or, for a deadline with no date (the
// law says "promptly"), the words for that.
func Due(t time.Time, loc *time.Location, lang Lang) string {
	if !dated(t) {
		if lang == Japanese {
			return "速やかに（期日の定めなし）"
		}
		return "promptly (no fixed date)"
	}
	return At(t, loc, lang)
}

// dated reports whether t is a date a person can be shown.
func dated(t time.Time) bool {
	return !t.IsZero() && t.UTC().Year() >= 1900 && t.UTC().Year() < 9999
}

// Span writes a length of time in words, to the minute: 「29日13時間」,
// 「45分」, "2 days 4 hours", "45 minutes". Its sign is dropped (use Left
// and Late); beyond ten years it says so rather than count.
func Span(d time.Duration, lang Lang) string {
	if d == math.MinInt64 {
		d = math.MaxInt64
	}
	if d < 0 {
		d = -d
	}
	if d > maxSpan {
		if lang == Japanese {
			return "10年以上"
		}
		return "more than 10 years"
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	if lang == Japanese {
		switch {
		case days > 0 && hours > 0:
			return fmt.Sprintf("%d日%d時間", days, hours)
		case days > 0:
			return fmt.Sprintf("%d日", days)
		case hours > 0 && mins > 0:
			return fmt.Sprintf("%d時間%d分", hours, mins)
		case hours > 0:
			return fmt.Sprintf("%d時間", hours)
		case mins > 0:
			return fmt.Sprintf("%d分", mins)
		}
		return "1分未満"
	}
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	var parts []string
	switch {
	case days > 0:
		parts = append(parts, unit(days, "day"))
		if hours > 0 {
			parts = append(parts, unit(hours, "hour"))
		}
	case hours > 0:
		parts = append(parts, unit(hours, "hour"))
		if mins > 0 {
			parts = append(parts, unit(mins, "minute"))
		}
	case mins > 0:
		parts = append(parts, unit(mins, "minute"))
	default:
		return "less than a minute"
	}
	return strings.Join(parts, " ")
}

// Left writes the time from now to due: 「残り29日13時間」, "2 days 4
// hours left"; once due has passed, how late it is (Late). A deadline with
// no date has no time left to count: "".
func Left(now, due time.Time, lang Lang) string {
	if due.IsZero() || now.IsZero() {
		return ""
	}
	if !due.After(now) {
		return Late(now.Sub(due), lang)
	}
	if lang == Japanese {
		return "残り" + Span(due.Sub(now), lang)
	}
	return Span(due.Sub(now), lang) + " left"
}

// Late writes how late something is: 「13日17時間の遅れ」, "17 days late".
func Late(d time.Duration, lang Lang) string {
	if lang == Japanese {
		return Span(d, lang) + "の遅れ"
	}
	return Span(d, lang) + " late"
}
