package runbooks_test

import (
	"slices"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

// Every role a built-in runbook names, for BREACHFLOW_ROLES.
func TestRunbookRoles(t *testing.T) {
	tests := []struct {
		runbook string
		want    []string
	}{
		{"missend", []string{"incident-lead", "legal", "management", "privacy-officer", "security", "support"}},
		{"visible-recipients", []string{"communications", "incident-lead", "it-ops", "management", "privacy-officer", "support"}},
		{"insider-exfiltration", []string{"it-ops", "legal", "management", "privacy-officer", "security"}},
	}
	for _, tt := range tests {
		t.Run(tt.runbook, func(t *testing.T) {
			snap, err := runbooks.Builtin(tt.runbook)
			if err != nil {
				t.Fatal(err)
			}
			if got := snap.Runbook.Roles(); !slices.Equal(got, tt.want) {
				t.Errorf("Roles() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := (runbooks.Runbook{}).Roles(); len(got) != 0 {
		t.Errorf("an empty runbook names %q", got)
	}
}
