package activities_test

import (
	"testing"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/approvals"
)

// A worker that sends notices to real people refuses to start without an
// approver registry; the sandbox needs none.
func TestRequireVerifiedApprovals(t *testing.T) {
	_, entry, err := approvals.GenerateKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := approvals.ParseRegistry(entry)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		real    bool
		keys    approvals.Registry
		refused bool
	}{
		{"real SendGrid, no registry: refused", true, approvals.Registry{}, true},
		{"real SendGrid, a registry", true, reg, false},
		{"sandbox, no registry", false, approvals.Registry{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := activities.RequireVerifiedApprovals(tt.real, activities.NoticeConfig{Approvers: tt.keys})
			if (err != nil) != tt.refused {
				t.Errorf("error %v, refused %v", err, tt.refused)
			}
		})
	}
}
