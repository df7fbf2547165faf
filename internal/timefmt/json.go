package timefmt

import (
	"regexp"
	"time"
)

// jsonTime is a JSON string that is exactly an RFC 3339 time, at any
// precision, in any offset.
var jsonTime = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})"`)

// JSONTimes rewrites every time in an encoded JSON document the same way:
// RFC 3339 to the second, with loc's offset ("2026-12-07T23:59:00+09:00").
// A zero time, which would read as year 1, becomes null. Keys keep their
// order; nothing else changes.
func JSONTimes(b []byte, loc *time.Location) []byte {
	if loc == nil {
		loc = Zone()
	}
	return jsonTime.ReplaceAllFunc(b, func(m []byte) []byte {
		t, err := time.Parse(time.RFC3339Nano, string(m[1:len(m)-1]))
		if err != nil {
			return m
		}
		if t.IsZero() {
			return []byte("null")
		}
		return []byte(`"` + t.In(loc).Format(time.RFC3339) + `"`)
	})
}
