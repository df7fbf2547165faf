package runbooks

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// formatError is a malformed duration or time of day. It keeps the problem
// apart from what to write instead, so the loader can print both in its
// "problem (hint: ...)" form (yamldoc.HintedError).
type formatError struct{ problem, hint string }

func (e *formatError) Error() string   { return e.problem + " (" + e.hint + ")" }
func (e *formatError) Problem() string { return e.problem }
func (e *formatError) Hint() string    { return e.hint }

const durationHint = "write numbers with units s, m, h, d or w, e.g. 30m, 2h, 3d, 1w2d"

// Duration is a length of time written like Go durations plus days and
// weeks: "30m", "2h", "3d", "1w", "1d12h".
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// maxDuration bounds parsed durations well below the int64 limit, so sums
// and offsets computed from them cannot overflow.
const maxDuration = time.Duration(1 << 62)

// ParseDuration parses "30m", "2h", "3d", "1w2d", "0": one or more numbers
// each followed by a unit s, m, h, d (24h) or w (7d).
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, &formatError{"empty duration", durationHint}
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, &formatError{fmt.Sprintf("duration %q: expected a number at %q", s, rest), durationHint}
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, &formatError{fmt.Sprintf("duration %q: number %s is too large", s, rest[:i]), durationHint}
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		var unit time.Duration
		switch rest[:j] {
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			return 0, &formatError{fmt.Sprintf("duration %q: unknown unit %q", s, rest[:j]), "use s, m, h, d or w after each number, e.g. 2w or 1d12h"}
		}
		if time.Duration(n) > (maxDuration-total)/unit {
			return 0, &formatError{fmt.Sprintf("duration %q is too long", s), "durations are at most about 7,600 weeks"}
		}
		total += time.Duration(n) * unit
		rest = rest[j:]
	}
	return Duration(total), nil
}

// String formats the duration in the largest exact units.
func (d Duration) String() string {
	if d == 0 {
		return "0"
	}
	v := time.Duration(d)
	neg := v < 0
	if neg {
		v = -v
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for _, u := range []struct {
		s string
		d time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := v / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			v -= n * u.d
		}
	}
	if v > 0 {
		// Below a second: never parsed from a file, but keep it visible.
		b.WriteString(v.String())
	}
	return b.String()
}

// UnmarshalText implements encoding.TextUnmarshaler (YAML and JSON).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ClockTime is a time of day, "HH:MM", stored as minutes after midnight.
type ClockTime int

// ParseClockTime parses "09:00" or "20:30": two digits, a colon, two
// digits, from 00:00 to 24:00 (24:00 only makes sense as the end of a window).
func ParseClockTime(s string) (ClockTime, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || !twoDigits(h) || !twoDigits(m) {
		return 0, &formatError{fmt.Sprintf("time of day %q is not HH:MM", s), `write two digits for hours and minutes, quoted, e.g. "09:00"`}
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, &formatError{fmt.Sprintf("time of day %q is out of range", s), "hours 00-24 and minutes 00-59, e.g. 09:00; 24:00 only as an end"}
	}
	return ClockTime(hh*60 + mm), nil
}

func twoDigits(s string) bool {
	return len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
}

// String formats as HH:MM.
func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Minutes returns minutes after midnight.
func (c ClockTime) Minutes() int { return int(c) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *ClockTime) UnmarshalText(b []byte) error {
	v, err := ParseClockTime(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (c ClockTime) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
