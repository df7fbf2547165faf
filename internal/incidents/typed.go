package incidents

import (
	"context"
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
)

// CheckTyped checks free text a person typed at a declaration (a title,
// what leaked, the subject of the mis-sent mail): it goes into messages to
// people (the title into notices, what and the subject into every
// deletion request), so it may break none of the notice rules and may
// quote nobody on the incident's lists. It returns the findings, each
// naming the part (as given: a flag, a form field), the line, the column
// and the rule, never the data. The CLI and Slack both call it, so
// nothing typed bypasses it.
func CheckTyped(ctx context.Context, lists recipients.Pager, parts []contentscan.Part, refs ...*recipients.ListRef) ([]contentscan.Finding, error) {
	var findings []contentscan.Finding
	var nonEmpty []contentscan.Part
	for _, p := range parts {
		if strings.TrimSpace(p.Text) == "" {
			continue
		}
		nonEmpty = append(nonEmpty, p)
		for _, f := range contentscan.ScanContent("", p.Text, "", nil, contentscan.Allowlist{}).Findings {
			f.Part = p.Name
			findings = append(findings, f)
		}
	}
	if len(nonEmpty) == 0 {
		return nil, nil
	}
	var named []recipients.ListRef
	for _, ref := range refs {
		if ref != nil {
			named = append(named, *ref)
		}
	}
	found, err := recipients.FindPeople(ctx, lists, contentscan.IndexText(nonEmpty...), named, nil)
	if err != nil {
		return nil, fmt.Errorf("check the typed text: %w", err)
	}
	return append(findings, found...), nil
}
