package redact

import (
	"slices"
	"strings"
)

// Kind is what a Match is.
type Kind int

// Kinds of Match.
const (
	KindEmail Kind = iota + 1
	KindPhone
)

func (k Kind) String() string {
	switch k {
	case KindEmail:
		return "e-mail address"
	case KindPhone:
		return "phone number"
	}
	return "unknown"
}

// Match is an e-mail address or phone number found in a string: the same
// detection Redact uses, so what the logs hide and what the content scanner
// refuses are one definition.
type Match struct {
	Kind Kind
	// Start and End are byte offsets of the match in the string searched.
	Start, End int
	// Key identifies the address or number independently of how it was
	// written: an e-mail address lower-cased with full-width forms folded;
	// a phone number as its digits, with a leading "+" when international
	// and the Japanese country code folded to the national trunk 0
	// (+81 90-1234-5678 and 090-1234-5678 have the same Key).
	Key string
}

// Find returns every e-mail address and phone number in s, in order of
// appearance.
func Find(s string) []Match {
	if !suspicious(s) {
		return nil
	}
	n, off := normalize(s)
	norm := append([]byte(nil), n...) // the scanners mask n as they go
	var spans []span
	spans = findEmails(n, spans)
	spans = findPhones(n, spans)
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	orig := func(i int) int {
		if off == nil {
			return i
		}
		return off[i]
	}
	out := make([]Match, 0, len(spans))
	for _, sp := range spans {
		m := Match{Start: orig(sp.start), End: orig(sp.end)}
		text := string(norm[sp.start:sp.end])
		if sp.repl == Email {
			m.Kind, m.Key = KindEmail, EmailKey(text)
		} else {
			m.Kind, m.Key = KindPhone, PhoneKey(text)
		}
		out = append(out, m)
	}
	return out
}

// EmailKey is the Key of an e-mail address (see Match.Key).
func EmailKey(addr string) string {
	n, _ := normalize(strings.TrimSpace(addr))
	s := string(n)
	s = strings.ReplaceAll(s, urlAt, "@")
	return strings.ToLower(s)
}

// PhoneKey is the Key of a phone number (see Match.Key).
func PhoneKey(number string) string {
	n, _ := normalize(number)
	var b strings.Builder
	for i, c := range n {
		switch {
		case isDigit(c):
			b.WriteByte(c)
		case c == '+' && b.Len() == 0 && i < len(n)-1:
			b.WriteByte('+')
		}
	}
	k := b.String()
	// +81 (0)3-1234-5678 keeps the trunk 0 in parentheses: drop it.
	if rest, ok := strings.CutPrefix(k, "+81"); ok {
		k = "0" + strings.TrimPrefix(rest, "0")
	}
	return k
}
