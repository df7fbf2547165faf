package runbooks_test

import (
	"os"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

// BenchmarkLoadBuiltins loads the five built-in runbooks from their files
// the way `starter validate` and a declaration do: strict YAML decoding,
// validation of every field, normalisation and the SHA-256 of the text.
// It reports runbooks/s and µs per runbook (and allocations per round of
// five).
func BenchmarkLoadBuiltins(b *testing.B) {
	type file struct {
		name string
		data []byte
	}
	var files []file
	size := 0
	for _, id := range runbooks.BuiltinIDs() {
		data, err := os.ReadFile(id + ".yaml")
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, file{id + ".yaml", data})
		size += len(data)
	}
	if len(files) != 5 {
		b.Fatalf("%d built-in runbooks, want 5", len(files))
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, f := range files {
			if _, diags := runbooks.Load(f.name, f.data); len(diags) > 0 {
				b.Fatalf("%s: %v", f.name, diags)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "runbooks/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/runbook")
}
