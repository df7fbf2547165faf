package runbooks

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/breachflow/breachflow/internal/yamldoc"
)

// LoadDir loads every runbook file (*.yaml, *.yml with kind: runbook) in
// dir, the organisation's own runbooks. Files of another kind are skipped;
// every problem in every runbook is reported.
func LoadDir(dir string) ([]Snapshot, yamldoc.Diagnostics) {
	var names []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, yamldoc.Diagnostics{{File: dir, Line: 1, Col: 1, Problem: "bad directory pattern: " + err.Error()}}
		}
		names = append(names, m...)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, yamldoc.Diagnostics{{File: dir, Line: 1, Col: 1, Problem: "cannot read the runbook directory: " + err.Error(), Hint: "set BREACHFLOW_RUNBOOKS_DIR to a directory of runbook files"}}
	}
	sort.Strings(names)
	var out []Snapshot
	var all yamldoc.Diagnostics
	for _, name := range names {
		data, err := yamldoc.ReadFile(name)
		if err != nil {
			all = append(all, yamldoc.Diagnostic{File: name, Line: 1, Col: 1, Problem: "cannot read the file: " + err.Error()})
			continue
		}
		if DetectKind(data) != KindRunbook {
			continue
		}
		snap, diags := Load(name, data)
		if len(diags) > 0 {
			all = append(all, diags...)
			continue
		}
		out = append(out, snap)
	}
	return out, all
}
