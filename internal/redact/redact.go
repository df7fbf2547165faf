// Package redact keeps e-mail addresses and phone numbers out of
// breachflow's logs. Redact rewrites a string; New wraps a slog.Handler so
// that every message, attribute key, string value, group, error, Stringer
// and structured value is redacted before it reaches the inner handler.
//
// Detection errs on the side of redacting, but leaves alone what breachflow
// logs all the time: recipient IDs (R00007), incident and workflow IDs
// (INC-20261121-ABC234/recall/R00007), provider SIDs (CA + 32 hex), unix
// timestamps, dates and times, durations, versions and IP addresses.
//
// E-mail addresses: a local part of letters, digits and . _ % + - (or, for
// internationalised addresses, any letters), "@" (also the full-width "＠"
// and a URL-encoded "%40"), and a domain with a dot followed by two letters
// somewhere. So "go.temporal.io/sdk@v1.50.0" and "image@sha256:…" stay.
//
// Phone numbers, with ASCII or full-width digits and spaces, hyphens (any
// dash, including "ー"), dots or parentheses between digit groups:
//   - international: "+" (or "%2B") and 8-15 digits, e.g. +81 90-1234-5678,
//     +81(0)3-1234-5678, +1 (415) 555-0100;
//   - national with a trunk 0, 10-11 digits, e.g. 090-1234-5678,
//     03-1234-5678, (03) 1234-5678, 0120-123-456, 09012345678;
//   - North American, 415-555-0100, (415) 555-0100, 1-800-555-0100.
//
// A candidate glued to letters, digits or "_", or joined to them by "-" or
// "." (as in INC-20261121-…), is part of an identifier and stays.
package redact

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Replacements.
const (
	Email = "[email]"
	Phone = "[phone]"
)

// Redact returns s with every e-mail address replaced by Email and every
// phone number by Phone.
func Redact(s string) string {
	if !suspicious(s) {
		return s
	}
	n, off := normalize(s)
	var spans []span
	if bytes.IndexByte(n, '@') >= 0 || bytes.Contains(n, []byte(urlAt)) {
		spans = findEmails(n, spans)
	}
	spans = findPhones(n, spans)
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	orig := func(i int) int {
		if off == nil {
			return i
		}
		return off[i]
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		start, end := orig(sp.start), orig(sp.end)
		b.WriteString(s[last:start])
		b.WriteString(sp.repl)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// span is a match in the normalized string: [start, end) replaced by repl.
type span struct {
	start, end int
	repl       string
}

// suspicious reports whether s may hold an address or a number at all:
// an "@", a digit, a "%" (URL encoding) or any non-ASCII rune (full-width
// forms).
func suspicious(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '@' || c == '%' || (c >= '0' && c <= '9') || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// normalize folds full-width digits, letters and punctuation, every dash,
// every space, and a URL-encoded "+" to ASCII, one byte each, so that the
// scanners see one alphabet. (A URL-encoded "@" stays: its three bytes may
// also be part of a local part; findEmails handles it.) off maps each byte of n back to its offset
// in s (off[len(n)] == len(s)); off is nil when n is s byte for byte.
func normalize(s string) (n []byte, off []int) {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || (s[i] == '%' && urlEscape(s[i:]) != 0) {
			plain = false
			break
		}
	}
	if plain {
		return []byte(s), nil
	}
	n = make([]byte, 0, len(s))
	off = make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '%' && urlEscape(s[i:]) != 0:
			n, off = append(n, urlEscape(s[i:])), append(off, i)
			i += 3
		case c < utf8.RuneSelf:
			n, off = append(n, c), append(off, i)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if a := fold(r); a != 0 {
				n, off = append(n, a), append(off, i)
			} else {
				for k := range size {
					n, off = append(n, s[i+k]), append(off, i+k)
				}
			}
			i += size
		}
	}
	return n, append(off, len(s))
}

// urlAt is the URL encoding of "@".
const urlAt = "%40"

// urlEscape returns '+' if s starts with its URL encoding, else 0.
func urlEscape(s string) byte {
	if len(s) >= 3 && s[0] == '%' && s[1] == '2' && (s[2] == 'B' || s[2] == 'b') {
		return '+'
	}
	return 0
}

// fold returns the ASCII byte a non-ASCII rune stands for in addresses and
// numbers, or 0.
func fold(r rune) byte {
	switch {
	case r >= '０' && r <= '９':
		return byte('0' + r - '０')
	case r >= 'Ａ' && r <= 'Ｚ':
		return byte('A' + r - 'Ａ')
	case r >= 'ａ' && r <= 'ｚ':
		return byte('a' + r - 'ａ')
	}
	switch r {
	case '＋', '﹢':
		return '+'
	case '（', '﹙':
		return '('
	case '）', '﹚':
		return ')'
	case '＠', '﹫':
		return '@'
	case '．':
		return '.'
	case '＿':
		return '_'
	case '‐', '‑', '‒', '–', '—', '―', '−', '－', '﹣', '⁃', 'ー', 'ｰ':
		return '-'
	case '\u00a0', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u202f', '\u3000':
		return ' '
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// isWord reports whether c makes a candidate part of a larger token.
func isWord(c byte) bool { return isAlnum(c) || c == '_' }

// isLocal reports whether c may appear in a local part. RFC 5322 allows
// more (= / ? ' & { } and others), but those delimit keys, values and
// URLs in logs far more often than they appear in addresses; what precedes
// them stays ("o'" of o'brien@…).
func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// isIntlLetter reports whether r, non-ASCII, may appear in an
// internationalised local part or domain.
func isIntlLetter(r rune) bool {
	return r >= utf8.RuneSelf && r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}

// mask overwrites a match so that later scans see it as its replacement
// would look: bracketed, not a digit or a word.
func mask(n []byte, start, end int) {
	n[start] = '['
	for i := start + 1; i < end; i++ {
		n[i] = ']'
	}
}

// findEmails appends the e-mail addresses in n to spans and masks them.
// The "@" is "@" or its URL encoding "%40".
func findEmails(n []byte, spans []span) []span {
	last := 0 // end of the previous match: a local part starts no earlier
	for i := 0; i < len(n); i++ {
		at := 0 // length of the "@"
		switch {
		case n[i] == '@':
			at = 1
		case n[i] == '%' && bytes.HasPrefix(n[i:], []byte(urlAt)):
			at = len(urlAt)
		default:
			continue
		}
		start := i
		for start > last && isLocal(n[start-1]) {
			start--
		}
		if start == i { // no ASCII local part: an internationalised one?
			for start > last {
				r, size := utf8.DecodeLastRune(n[last:start])
				if !isIntlLetter(r) {
					break
				}
				start -= size
			}
		}
		if start == i {
			continue
		}
		end := i + at
		for end < len(n) {
			if c := n[end]; c < utf8.RuneSelf {
				if !isAlnum(c) && c != '.' && c != '-' {
					break
				}
				end++
				continue
			}
			r, size := utf8.DecodeRune(n[end:])
			if !isIntlLetter(r) {
				break
			}
			end += size
		}
		domain := n[i+at : end]
		// The last label ends where its ASCII ends, so that text written
		// right after an address ("…@example.comです") is kept.
		dot := bytes.LastIndexByte(domain, '.')
		if dot < 0 {
			continue
		}
		k := dot + 1
		for k < len(domain) && domain[k] < utf8.RuneSelf {
			k++
		}
		domain = bytes.TrimRight(domain[:k], ".-")
		if !hasTLD(domain) {
			continue
		}
		end = i + at + len(domain)
		spans = append(spans, span{start, end, Email})
		mask(n, start, end)
		last = end
		i = end - 1
	}
	return spans
}

// hasTLD reports whether domain has a dot followed by two ASCII letters.
func hasTLD(domain []byte) bool {
	for j := 0; j+2 < len(domain); j++ {
		if domain[j] == '.' && isLetter(domain[j+1]) && isLetter(domain[j+2]) {
			return true
		}
	}
	return false
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// findPhones appends the phone numbers in n to spans and masks them.
func findPhones(n []byte, spans []span) []span {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !isDigit(c) && c != '+' && c != '(' {
			continue
		}
		if !leftBoundary(n, i) {
			continue
		}
		if end := matchPhone(n, i); end > 0 {
			spans = append(spans, span{i, end, Phone})
			mask(n, i, end)
			i = end - 1
		}
	}
	return spans
}

// leftBoundary reports whether a candidate may start at i: not inside a
// word or number, not after a "+" (that candidate started at the "+"), and
// not joined to a word by "-" or "." (an identifier such as INC-2026…).
func leftBoundary(n []byte, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRune(n[:i])
	if r >= utf8.RuneSelf {
		return !unicode.IsDigit(r)
	}
	c := byte(r)
	switch {
	case isWord(c), c == '+':
		return false
	case c == '-' || c == '.':
		return i < 2 || !isWord(n[i-2])
	}
	return true
}

// rightBoundary reports whether a candidate may end at e: not followed by
// a word character or number, nor joined to one by "-" or ".".
func rightBoundary(n []byte, e int) bool {
	if e == len(n) {
		return true
	}
	r, _ := utf8.DecodeRune(n[e:])
	if r >= utf8.RuneSelf {
		return !unicode.IsDigit(r)
	}
	c := byte(r)
	switch {
	case isWord(c):
		return false
	case c == '-' || c == '.':
		return e+1 >= len(n) || !isWord(n[e+1])
	}
	return true
}

// Phone number shape limits.
const (
	maxGroups = 8  // +33 1 23 45 67 89 has 6
	maxDigits = 15 // E.164
)

// group is a run of digits, [start, end) in n, and the separator before
// it, [sep, start): empty or "(" before the first group; between groups
// e.g. "-", " ", ") ", "(".
type group struct{ sep, start, end int }

// matchPhone returns the end of the longest phone number starting at i, or
// 0.
func matchPhone(n []byte, i int) int {
	p := i
	plus := n[p] == '+'
	if plus {
		p++
	}
	var groups [maxGroups]group
	k, digits := 0, 0
	for k < maxGroups {
		q := p
		for q < len(n) && q-p < 3 && strings.IndexByte(" -.()", n[q]) >= 0 {
			q++
		}
		d := q
		for d < len(n) && isDigit(n[d]) {
			d++
		}
		if d == q || digits+(d-q) > maxDigits {
			break
		}
		groups[k] = group{sep: p, start: q, end: d}
		digits += d - q
		k++
		p = d
	}
	for ; k > 0; k-- {
		end := groups[k-1].end
		if phoneShape(n, plus, groups[:k]) && rightBoundary(n, end) {
			return end
		}
	}
	return 0
}

// phoneShape reports whether groups form one of the accepted shapes.
func phoneShape(n []byte, plus bool, groups []group) bool {
	if s := n[groups[0].sep:groups[0].start]; len(s) > 1 || (len(s) == 1 && s[0] != '(') {
		return false
	}
	depth, dots := 0, 0
	for j, g := range groups {
		sep := n[g.sep:g.start]
		plain := 0
		for _, c := range sep {
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			case '.':
				dots++
				plain++
			default:
				plain++
			}
			if depth < 0 || depth > 1 {
				return false
			}
		}
		if plain > 1 || (j > 0 && dots > 0 && string(sep) != ".") {
			return false
		}
	}
	if depth != 0 || (dots > 0 && (len(groups) < 3 || dots != len(groups)-1)) {
		return false
	}
	var (
		buf  [maxDigits]byte
		lbuf [maxGroups]int
	)
	ds, lens := buf[:0], lbuf[:len(groups)]
	for j, g := range groups {
		ds = append(ds, n[g.start:g.end]...)
		lens[j] = g.end - g.start
	}
	switch {
	case plus:
		return len(ds) >= 8 && ds[0] != '0'
	case ds[0] == '0':
		return len(ds) >= 10 && len(ds) <= 11 && ds[1] != '0' &&
			(len(groups) == 1 || (lens[0] >= 2 && len(groups) <= 5))
	case len(groups) == 3:
		return slices.Equal(lens, []int{3, 3, 4}) && ds[0] >= '2'
	case len(groups) == 4:
		return slices.Equal(lens, []int{1, 3, 3, 4}) && ds[0] == '1' && ds[1] >= '2'
	}
	return false
}
