package recipients

import (
	"context"
	"fmt"

	"github.com/breachflow/breachflow/internal/contentscan"
)

// Pager reads a stored list a page at a time (Store).
type Pager interface {
	Page(ctx context.Context, ref ListRef, offset, limit int) ([]Recipient, error)
}

// peoplePage is how many recipients FindPeople reads at a time.
const peoplePage = 1000

// FindPeople looks for everyone on the lists in an indexed text: each
// list (once, however often it is named) is streamed past the text a page
// at a time, so the cost is one pass over the lists and the memory the
// text's. progress, if not nil, is told how many people have been looked
// for after each page (an activity heartbeats with it). The findings say
// where and which rule, never what (contentscan.Collector). A list that no
// longer matches its SHA-256 is an error wrapping ErrFingerprint.
func FindPeople(ctx context.Context, p Pager, t *contentscan.Text, refs []ListRef, progress func(done int)) ([]contentscan.Finding, error) {
	col := contentscan.NewCollector()
	seen := map[string]bool{}
	done := 0
	for _, ref := range refs {
		if ref.Count <= 0 || seen[ref.SHA256] {
			continue
		}
		seen[ref.SHA256] = true
		if p == nil {
			return nil, fmt.Errorf("look for the people on %s: no list store", ref)
		}
		for off := 0; off < ref.Count; off += peoplePage {
			rs, err := p.Page(ctx, ref, off, peoplePage)
			if err != nil {
				return nil, fmt.Errorf("look for the people on %s: %w", ref, err)
			}
			for _, r := range rs {
				col.Add(t.Find(r.Person()))
			}
			done += len(rs)
			if progress != nil {
				progress(done)
			}
		}
	}
	return col.Findings(), nil
}
