package incidents

import (
	"context"
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
)

// Pager reads a stored recipient list a page at a time
// (recipients.Store).
type Pager interface {
	Page(ctx context.Context, ref recipients.ListRef, offset, limit int) ([]recipients.Recipient, error)
}

// typedPage is how many recipients CheckTyped reads at a time.
const typedPage = 1000

// CheckTyped checks free text a person typed at a declaration (a title,
// what leaked, the subject of the mis-sent mail): it goes into messages to
// people (the title into notices, what and the subject into every
// deletion request), so it may break none of the notice rules and may
// quote nobody on the incident's lists. It returns the findings, each
// naming the part (as given: a flag, a form field), the line, the column
// and the rule, never the data. The CLI and Slack both call it, so
// nothing typed bypasses it.
func CheckTyped(ctx context.Context, lists Pager, parts []contentscan.Part, refs ...*recipients.ListRef) ([]contentscan.Finding, error) {
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
	idx := contentscan.IndexText(nonEmpty...)
	col := contentscan.NewCollector()
	seen := map[string]bool{}
	for _, ref := range refs {
		if ref == nil || ref.Count <= 0 || seen[ref.SHA256] {
			continue
		}
		seen[ref.SHA256] = true
		if lists == nil {
			return nil, fmt.Errorf("check the typed text against %s: no list store", ref)
		}
		for off := 0; off < ref.Count; off += typedPage {
			rs, err := lists.Page(ctx, *ref, off, typedPage)
			if err != nil {
				return nil, fmt.Errorf("check the typed text against %s: %w", ref, err)
			}
			for _, r := range rs {
				col.Add(idx.Find(r.Person()))
			}
		}
	}
	return append(findings, col.Findings()...), nil
}
