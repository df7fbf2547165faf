package runbooks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

func TestLoadDirLoadsRunbooksAndReportsEveryBrokenOne(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("examples/missend-demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"a-demo.yaml":   string(good),
		"b-broken.yaml": "kind: runbook\nid: Bad ID\n",
		"c-regime.yaml": "kind: regime\nid: XX\n",
		"notes.txt":     "not a runbook",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	snaps, diags := runbooks.LoadDir(dir)
	if len(snaps) != 1 || snaps[0].Runbook.ID != "missend-demo" {
		t.Fatalf("loaded %d runbooks, want the demo one", len(snaps))
	}
	if len(diags) == 0 {
		t.Fatal("the broken runbook was not reported")
	}
	for _, d := range diags {
		if !strings.HasSuffix(d.File, "b-broken.yaml") {
			t.Errorf("diagnostic for another file: %s", d)
		}
	}
	if _, diags := runbooks.LoadDir(filepath.Join(dir, "missing")); len(diags) != 1 {
		t.Errorf("a missing directory: %v", diags)
	}
}
