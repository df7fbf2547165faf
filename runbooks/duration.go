package runbooks

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a length of time written like Go durations plus days and
// weeks: "30m", "2h", "3d", "1w", "1d12h".
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ParseDuration parses "30m", "2h", "3d", "1w2d", "0".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
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
			return 0, fmt.Errorf("duration %q: expected a number at %q (write e.g. 30m, 2h, 3d, 1w)", s, rest)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
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
			return 0, fmt.Errorf("duration %q: unknown unit %q (use s, m, h, d or w)", s, rest[:j])
		}
		if n > 0 && time.Duration(n) > (1<<62)/unit {
			return 0, fmt.Errorf("duration %q: too long", s)
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

// ParseClockTime parses "09:00" or "20:30".
func ParseClockTime(s string) (ClockTime, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, fmt.Errorf("time of day %q: write HH:MM, e.g. 09:00", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("time of day %q: hours 00-24 and minutes 00-59, e.g. 09:00", s)
	}
	return ClockTime(hh*60 + mm), nil
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
