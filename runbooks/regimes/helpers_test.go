package regimes_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/runbooks/regimes"
)

var (
	builtinOnce sync.Once
	builtinRegs []regimes.Regime
	builtinErr  error
)

// builtin returns the embedded regimes, loaded once per test binary.
func builtin(t *testing.T) []regimes.Regime {
	t.Helper()
	builtinOnce.Do(func() { builtinRegs, builtinErr = regimes.Builtin() })
	if builtinErr != nil {
		t.Fatalf("Builtin: %v", builtinErr)
	}
	return builtinRegs
}

// zone loads an IANA zone or fails the test.
func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2006-01-02 15:04" (or with seconds) in the named zone.
func at(t *testing.T, zoneName, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout = time.DateTime
	}
	v, err := time.ParseInLocation(layout, s, zone(t, zoneName))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// evaluate runs Evaluate over the built-in regimes.
func evaluate(t *testing.T, f regimes.Facts, now time.Time) regimes.Result {
	t.Helper()
	return regimes.Evaluate(f, builtin(t), now)
}

// owed returns the owed obligation with the given ID, or fails.
func owed(t *testing.T, r regimes.Result, id string) regimes.Obligation {
	t.Helper()
	for _, o := range r.Owed {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("%s is not owed; owed: %v; not owed: %v", id, owedIDs(r), notOwedIDs(r))
	return regimes.Obligation{}
}

// notOwed returns the not-owed entry with the given ID, or fails.
func notOwed(t *testing.T, r regimes.Result, id string) regimes.NotOwed {
	t.Helper()
	for _, n := range r.NotOwed {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("%s is not in NotOwed; owed: %v; not owed: %v", id, owedIDs(r), notOwedIDs(r))
	return regimes.NotOwed{}
}

func owedIDs(r regimes.Result) []string {
	ids := make([]string, len(r.Owed))
	for i, o := range r.Owed {
		ids[i] = o.ID
	}
	return ids
}

func notOwedIDs(r regimes.Result) []string {
	ids := make([]string, len(r.NotOwed))
	for i, o := range r.NotOwed {
		ids[i] = o.ID
	}
	return ids
}

func triggerIDs(ms []regimes.TriggerMatch) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// sameInstant fails unless got and want are the same instant.
func sameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339), want.Format(time.RFC3339))
	}
}

// instants formats times as RFC 3339 in one zone, for comparing lists.
func instants(ts []time.Time, loc *time.Location) []string {
	out := make([]string, len(ts))
	for i, v := range ts {
		out[i] = v.In(loc).Format(time.RFC3339)
	}
	return out
}
