package runbooks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/yamldoc"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

// padTo writes src padded with a YAML comment to exactly size bytes.
func padTo(t *testing.T, src string, size int) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	pad := size - len(data) - len("\n#\n")
	if pad < 0 {
		t.Fatalf("%s is already %d bytes", src, len(data))
	}
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	body := string(data) + "\n#" + strings.Repeat("x", pad) + "\n"
	if err := os.WriteFile(out, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// A runbook or regime file is at most yamldoc.MaxFileBytes: at the limit
// it loads, at limit + 1 it is refused with a diagnostic that says so.
func TestRunbookAndRegimeSizeLimit(t *testing.T) {
	load := map[string]func(string) yamldoc.Diagnostics{
		"missend.yaml": func(p string) yamldoc.Diagnostics {
			_, d := runbooks.LoadFile(p)
			return d
		},
		"regimes/jp-appi.yaml": func(p string) yamldoc.Diagnostics {
			_, d := regimes.LoadFile(p)
			return d
		},
	}
	for _, src := range []string{"missend.yaml", "regimes/jp-appi.yaml"} {
		for _, tc := range []struct {
			size    int
			refused bool
		}{
			{yamldoc.MaxFileBytes, false},
			{yamldoc.MaxFileBytes + 1, true},
		} {
			diags := load[src](padTo(t, src, tc.size))
			refused := len(diags) > 0
			if refused != tc.refused {
				t.Errorf("%s at %d bytes: refused = %v (%v), want %v", src, tc.size, refused, diags, tc.refused)
			}
			if refused && !strings.Contains(diags.Error(), "at most 1024 KiB") {
				t.Errorf("%s at %d bytes: %v does not give the limit", src, tc.size, diags)
			}
		}
	}
	// Load (the bytes already read, e.g. from LoadDir) keeps the limit.
	big := strings.Repeat("#", yamldoc.MaxFileBytes+1)
	if _, d := runbooks.Load("big.yaml", []byte(big)); len(d) == 0 || !strings.Contains(d.Error(), "too large") {
		t.Errorf("Load of %d bytes: %v", len(big), d)
	}
}
