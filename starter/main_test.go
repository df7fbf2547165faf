package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runCLI runs the starter with args and returns its exit status and what it
// printed on standard output.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runCapturing(t, &os.Stdout, args)
}

// runCLIErr runs the starter with args and returns its exit status and
// what it printed on standard error.
func runCLIErr(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runCapturing(t, &os.Stderr, args)
}

// runCapturing runs the starter with args while *stream (os.Stdout or
// os.Stderr) writes to a pipe, and returns the exit status and what went
// through it.
func runCapturing(t *testing.T, stream **os.File, args []string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := *stream
	*stream = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	code := run(context.Background(), args)
	w.Close()
	*stream = saved
	return code, <-done
}

func TestValidate(t *testing.T) {
	builtins, _ := filepath.Glob("../runbooks/*.yaml")
	regimes, _ := filepath.Glob("../runbooks/regimes/*.yaml")
	if len(builtins) != 5 || len(regimes) < 9 {
		t.Fatalf("found %d runbooks and %d regimes", len(builtins), len(regimes))
	}
	missend, err := os.ReadFile("../runbooks/missend.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, from, to string) string {
		t.Helper()
		if !strings.Contains(string(missend), from) {
			t.Fatalf("missend.yaml lacks %q", from)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Replace(string(missend), from, to, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		files    []string
		wantCode int
		wantOut  []string
	}{
		{"a tab in the YAML: the line that breaks, not a missing kind", []string{write("tab.yaml", "phases:\n", "phases:\n\tfoo: 1\n")}, 1,
			[]string{"tab.yaml:25:1: YAML syntax: found character that cannot start any token"}},
		{"a regime no built-in regime has", []string{write("typo.yaml", "regimes: [JP-APPI]", "regimes: [JP-APPII]")}, 1,
			[]string{`typo.yaml:23:11: regimes[0]: no built-in regime "JP-APPII"`, "use one of AU-NDB, EU-GDPR, JP-APPI"}},
		{"an unknown regime in the obligations phase", []string{write("obl.yaml", "  obligations:\n", "  obligations:\n    regimes: [EU-GDPR, GDPR]\n")}, 1,
			[]string{`obl.yaml:65:24: phases.obligations.regimes[1]: no built-in regime "GDPR"`}},
		{"the five built-in runbooks and every regime are valid", append(builtins, regimes...), 0, []string{"file(s) valid"}},
		{"a broken runbook: positioned errors and exit 1", []string{"../runbooks/testdata/broken/bad-recall.yaml"}, 1, []string{
			"../runbooks/testdata/broken/bad-recall.yaml:7:22: phases.recall.request[1]: unknown channel \"fax\" (hint: use email, voice or sms)",
			"bad-recall.yaml:16:18: phases.recall.calling_hours.time_zone: unknown time zone \"Asia/Tokio\"",
		}},
		{"a file without kind", []string{"../runbooks/examples/missend-53.csv"}, 1, []string{"missend-53.csv:1:1: kind: missing"}},
		{"a missing file", []string{"no-such-file.yaml"}, 1, []string{"no-such-file.yaml:1:1: cannot read the file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCLI(t, append([]string{"validate"}, tt.files...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestRecipientsCheckReportsExactlyTheBadRowsOfAShiftJISFile(t *testing.T) {
	code, out := runCLI(t, "recipients", "check", "../runbooks/examples/broken-sjis.csv", "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (rows were rejected)", code)
	}
	var rep struct {
		Rows       int    `json:"rows"`
		Accepted   int    `json:"accepted"`
		Encoding   string `json:"encoding"`
		Duplicates []struct {
			Line       int `json:"line"`
			MergedInto int `json:"merged_into"`
		} `json:"duplicates"`
		Rejected []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if rep.Encoding != "shift_jis" || rep.Rows != 7 || rep.Accepted != 2 {
		t.Errorf("encoding %q rows %d accepted %d", rep.Encoding, rep.Rows, rep.Accepted)
	}
	var lines []int
	for _, r := range rep.Rejected {
		lines = append(lines, r.Line)
		if r.Reason == "" {
			t.Errorf("line %d rejected without a reason", r.Line)
		}
	}
	if !slices.Equal(lines, []int{3, 4, 6, 8}) {
		t.Errorf("rejected lines %v, want 3 4 6 8", lines)
	}
	if len(rep.Duplicates) != 1 || rep.Duplicates[0].Line != 7 || rep.Duplicates[0].MergedInto != 2 {
		t.Errorf("duplicates %+v, want line 7 merged into line 2", rep.Duplicates)
	}
	if rep.Rows != rep.Accepted+len(rep.Duplicates)+len(rep.Rejected) {
		t.Errorf("a row is unaccounted for: %+v", rep)
	}

	if code, _ := runCLI(t, "recipients", "check", "../runbooks/examples/missend-53.csv"); code != 0 {
		t.Errorf("a clean list: exit %d, want 0", code)
	}
}
