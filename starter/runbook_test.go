package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `start --runbook` finds the organisation's own runbooks
// (BREACHFLOW_RUNBOOKS_DIR) by ID, as the Slack declaration offers them,
// and a name that is none of them lists every ID it could have been.
func TestLoadRunbook_OwnRunbooksByID(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "runbooks", "missend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	own := strings.Replace(string(data), "\nid: missend\n", "\nid: our-missend\n", 1)
	if own == string(data) {
		t.Fatal("the fixture's id line moved")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ours.yaml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := loadRunbook("our-missend", dir)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Runbook.ID != "our-missend" {
		t.Errorf("loaded %q", snap.Runbook.ID)
	}
	if snap, err := loadRunbook("missend", dir); err != nil || snap.Runbook.ID != "missend" {
		t.Errorf("a built-in ID: %v, %q", err, snap.Runbook.ID)
	}
	_, err = loadRunbook("nosuch", dir)
	ee, ok := err.(exitError)
	if !ok || ee.code != 2 || !strings.Contains(ee.msg, "our-missend") {
		t.Errorf("an unknown name: %v", err)
	}
}
