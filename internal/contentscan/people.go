package contentscan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The incident's own people (the wrong recipients, the affected, every
// broadcast's recipients) must not appear in a message to anyone else:
// their names (kanji, with or without spaces), their kana (フリガナ, in
// katakana or hiragana), e-mail addresses, phone numbers in any form and
// postal addresses.
//
// Matching is on folded text (Fold): full-width to half-width, case,
// hiragana to katakana, "@" and "." in their disguises (☆, ★, ＠, [at],
// (at), " at ", (dot), " dot "), and whitespace, line breaks, hyphens and
// brackets removed; so "kenta.suzuki☆example.jp", "佐藤 美咲" and an
// address broken over two lines are all found. A finding says where (part,
// line, column) and which kind, never what.
//
// It scales with the list, not against it: the message is indexed (every
// folded substring of the lengths values can have, as a hash with its
// first position: a few MB for a long notice), and the list is streamed
// past it, each person's values folded and looked up. Memory is the
// message's; time is linear in the list (seed 002's 7.6 million people
// are read once).

// Person is one person's data as a list holds it; empty fields are skipped.
type Person struct {
	Name, Kana, Email, Phone, Address string
}

// Rules of the incident's own people.
const (
	// RulePersonName: the name (kanji or Latin) of another person on the
	// incident's lists.
	RulePersonName Rule = "person-name"
	// RulePersonKana: the フリガナ of another person on the incident's lists.
	RulePersonKana Rule = "person-kana"
	// RulePersonEmail: the e-mail address of another person on the
	// incident's lists, however it is written.
	RulePersonEmail Rule = "person-email"
	// RulePersonPhone: the phone number of another person on the
	// incident's lists, in any form.
	RulePersonPhone Rule = "person-phone"
	// RulePersonAddress: the postal address of another person on the
	// incident's lists.
	RulePersonAddress Rule = "person-address"
)

// Shortest folded values looked for: shorter ones (a two-character name)
// would match ordinary words; the structural rules still catch a list of
// them.
const (
	minNameRunes    = 3
	minKanaRunes    = 4
	minAddressRunes = 8
	minEmailRunes   = 6
	minPhoneDigits  = 10
	minValueRunes   = minNameRunes
	// minLatinNameRunes is the shortest Latin-letter name looked for.
	minLatinNameRunes = 9
	// maxValueRunes bounds what is compared (a longer value is cut there).
	maxValueRunes = 120
)

// Part is one part of a message to check: its name in findings
// ("subject", "text", "attachment \"a.txt\"") and its text.
type Part struct {
	Name, Text string
}

// Text is a message indexed for People checks.
type Text struct {
	parts []textPart
	allow map[uint64]bool
}

type textPart struct {
	name string
	// first maps the hash of every folded substring (minValueRunes to
	// maxValueRunes long) to its first position in the folded text.
	first map[uint64]int32
	at    func(int) (int, int)
}

// IndexText indexes the parts of a message.
func IndexText(parts ...Part) *Text {
	t := &Text{allow: map[uint64]bool{}}
	for _, p := range parts {
		folded, at := foldWithPositions(p.Text)
		tp := textPart{name: p.Name, first: map[uint64]int32{}, at: at}
		for i := range folded {
			var h uint64
			for l := 1; l <= maxValueRunes && i+l <= len(folded); l++ {
				h = h*hashBase + uint64(folded[i+l-1]) + 1
				if l < minValueRunes {
					continue
				}
				k := mix(h)
				if _, seen := tp.first[k]; !seen {
					tp.first[k] = int32(i)
				}
			}
		}
		t.parts = append(t.parts, tp)
	}
	return t
}

// Allow exempts values everyone may read: the organisation's published
// contacts and address.
func (t *Text) Allow(values ...string) {
	for _, v := range values {
		if f := []rune(Fold(v)); len(f) > 0 {
			t.allow[hashRunes(f)] = true
		}
		for _, d := range phoneForms(v) {
			t.allow[hashRunes([]rune(d))] = true
		}
	}
}

// Find returns where the message quotes the person's data, a finding per
// value and part, at its first place.
func (t *Text) Find(per Person) []Finding {
	var out []Finding
	for _, v := range personValues(per) {
		if t.allow[v.hash] {
			continue
		}
		for _, p := range t.parts {
			if i, ok := p.first[v.hash]; ok {
				line, col := p.at(int(i))
				out = append(out, Finding{Rule: v.kind, Part: p.name, Line: line, Col: col, Detail: describePerson(v.kind)})
			}
		}
	}
	return out
}

type personValue struct {
	kind Rule
	hash uint64
}

// personValues are the hashes of a person's folded values, in the forms a
// text may hold them.
func personValues(per Person) []personValue {
	out := make([]personValue, 0, 8)
	var buf [2 * maxValueRunes]rune
	add := func(kind Rule, f []rune, min int) {
		if kind == RulePersonName && isASCII(f) {
			// Folded text has no spaces, so a short Latin name ("Tom")
			// would match inside words ("customer").
			min = minLatinNameRunes
		}
		if len(f) < min {
			return
		}
		if len(f) > maxValueRunes {
			f = f[:maxValueRunes]
		}
		out = append(out, personValue{kind, hashRunes(f)})
	}
	add(RulePersonName, foldInto(per.Name, buf[:0], nil), minNameRunes)
	add(RulePersonKana, foldInto(per.Kana, buf[:0], nil), minKanaRunes)
	add(RulePersonEmail, foldInto(per.Email, buf[:0], nil), minEmailRunes)
	a := foldInto(per.Address, buf[:0], nil)
	add(RulePersonAddress, a, minAddressRunes)
	// The address without its postal code, as a text may quote it.
	if rest, ok := cutPostalCode(a); ok {
		add(RulePersonAddress, rest, minAddressRunes)
	}
	for _, d := range phoneForms(per.Phone) {
		out = append(out, personValue{RulePersonPhone, hashRunes([]rune(d))})
	}
	return out
}

// cutPostalCode cuts a leading postal code (seven digits: 〒, spaces and
// the hyphen are gone once folded) from a folded address.
func cutPostalCode(a []rune) ([]rune, bool) {
	if len(a) < 7 {
		return a, false
	}
	for _, c := range a[:7] {
		if c < '0' || c > '9' {
			return a, false
		}
	}
	return a[7:], true
}

// People is a list of people to check messages against, for lists small
// enough to hold (a test, the CLI); a broadcast streams its list through
// Text.Find instead.
type People struct {
	people []Person
	allow  []string
}

// NewPeople returns an empty list.
func NewPeople() *People { return &People{} }

// Add adds one person and returns their index, which Check takes as self
// for a message to them.
func (p *People) Add(per Person) int32 {
	p.people = append(p.people, per)
	return int32(len(p.people) - 1)
}

// Allow exempts values everyone may read (see Text.Allow).
func (p *People) Allow(values ...string) { p.allow = append(p.allow, values...) }

// Len is how many people are listed.
func (p *People) Len() int { return len(p.people) }

// NoSelf is Check's self for content that goes to many people unchanged:
// nobody's data is allowed in it.
const NoSelf int32 = -1

// Check finds the data of people other than self in one part of a message.
func (p *People) Check(part, text string, self int32) []Finding {
	t := IndexText(Part{Name: part, Text: text})
	t.Allow(p.allow...)
	if self >= 0 && int(self) < len(p.people) {
		// The recipient's own values, whoever else shares them.
		t.Allow(valuesOf(p.people[self])...)
	}
	c := NewCollector()
	for _, per := range p.people {
		c.Add(t.Find(per))
	}
	return c.Findings()
}

// valuesOf lists a person's values as text.
func valuesOf(per Person) []string {
	vs := []string{per.Name, per.Kana, per.Email, per.Phone, per.Address}
	if a, ok := cutPostalCode(foldInto(per.Address, nil, nil)); ok {
		vs = append(vs, string(a))
	}
	return vs
}

// Collector gathers findings over a list: the first few of each kind in
// order of position, and a count of the rest.
type Collector struct {
	kept   []Finding
	counts map[Rule]int
	// seen holds the places found, so that a value several people share
	// (a common name) is one finding.
	seen map[Finding]bool
}

// NewCollector returns an empty collector.
func NewCollector() *Collector { return &Collector{counts: map[Rule]int{}, seen: map[Finding]bool{}} }

// Add takes one person's findings.
func (c *Collector) Add(fs []Finding) {
	for _, f := range fs {
		if c.seen[f] {
			continue
		}
		c.seen[f] = true
		c.counts[f.Rule]++
		if c.counts[f.Rule] <= maxPerRule {
			c.kept = append(c.kept, f)
		}
	}
}

// Findings returns what was gathered: the kept findings by part, line and
// column, then a summary per kind with more than were kept.
func (c *Collector) Findings() []Finding {
	out := slices.Clone(c.kept)
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Part, b.Part), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	for _, kind := range []Rule{RulePersonName, RulePersonKana, RulePersonEmail, RulePersonPhone, RulePersonAddress} {
		if n := c.counts[kind]; n > maxPerRule {
			out = append(out, Finding{Rule: kind, Part: "message",
				Detail: fmt.Sprintf("%d such values of other people in all", n)})
		}
	}
	return out
}

func describePerson(kind Rule) string {
	switch kind {
	case RulePersonName:
		return "the name of another person on the incident's lists"
	case RulePersonKana:
		return "the kana reading of another person's name on the incident's lists"
	case RulePersonEmail:
		return "the e-mail address of another person on the incident's lists"
	case RulePersonPhone:
		return "the phone number of another person on the incident's lists"
	default:
		return "the postal address of another person on the incident's lists"
	}
}

const hashBase = 1000003

// mix spreads a rolling hash's bits (a 64-bit finalizer), so that the
// map's keys do not cluster.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func hashRunes(r []rune) uint64 {
	var h uint64
	for _, c := range r {
		h = h*hashBase + uint64(c) + 1
	}
	return mix(h)
}

// phoneDigits is a phone number's digits, "+81 90-1234-5678" -> 819012345678.
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" -()+.‐‑–—−\u3000", r):
		default:
			return "" // not only a number
		}
	}
	return b.String()
}

// Fold is the form values and texts are compared in (see People).
func Fold(s string) string {
	return string(foldInto(s, nil, nil))
}

// disguises of "@" and "." in addresses written to dodge filters, as they
// appear after NFKC and lower-casing; matched before anything is removed.
var disguises = []struct{ from, to string }{
	{" [at] ", "@"}, {"[at]", "@"}, {" (at) ", "@"}, {"(at)", "@"}, {" at ", "@"}, {"☆", "@"}, {"★", "@"}, {"◎", "@"},
	{" [dot] ", "."}, {"[dot]", "."}, {" (dot) ", "."}, {"(dot)", "."}, {" dot ", "."},
}

// foldWithPositions folds s and returns, with it, where each folded rune
// came from (line and column of s, both 1-based).
func foldWithPositions(s string) ([]rune, func(int) (int, int)) {
	var pos []srcPos
	out := foldInto(s, nil, &pos)
	return out, func(i int) (int, int) {
		if i < 0 || i >= len(pos) {
			return 0, 0
		}
		return int(pos[i].line), int(pos[i].col)
	}
}

type srcPos struct{ line, col int32 }

// foldInto appends the folded form of s to out and, when pos is not nil,
// where each folded rune came from. Values of a list are folded without
// positions, a million times a broadcast: it allocates only out.
func foldInto(s string, out []rune, pos *[]srcPos) []rune {
	var line, col int32 = 1, 0
	rest := s
	for rest != "" {
		r, size := utf8.DecodeRuneInString(rest)
		col++
		here := srcPos{line, col}
		if r == '\n' {
			line, col = line+1, 0
			rest = rest[size:]
			continue
		}
		// A disguise is replaced as a whole; only the lower-cased NFKC
		// form is compared, so "（ＡＴ）" is one too.
		if r == ' ' || r == '\u3000' || r == '[' || r == '(' || r == '（' || r == '［' || r == '☆' || r == '★' || r == '◎' {
			if to, n, ok := disguiseAt(rest); ok {
				out = append(out, rune(to[0]))
				if pos != nil {
					*pos = append(*pos, here)
				}
				col += int32(utf8.RuneCountInString(rest[:n]) - 1)
				rest = rest[n:]
				continue
			}
		}
		rest = rest[size:]
		for _, c := range foldRune(r) {
			out = append(out, c)
			if pos != nil {
				*pos = append(*pos, here)
			}
		}
	}
	return out
}

// foldRune is one rune's folded form: none (removed), itself or several
// (NFKC expands "㈱" to "(株)", whose brackets are then removed).
func foldRune(r rune) []rune {
	if r < 0 || int(r) >= len(foldBMP) {
		return foldSlow(r, nil)
	}
	foldOnce.Do(buildFoldTable)
	e := foldBMP[r]
	return foldRunes[e>>8 : e>>8+e&0xff]
}

// The folded form of every rune of the Basic Multilingual Plane, computed
// once (a few milliseconds): foldBMP[r] packs an offset into foldRunes
// (high 24 bits) and a length (low 8).
var (
	foldOnce  sync.Once
	foldBMP   [0x10000]uint32
	foldRunes []rune
)

func buildFoldTable() {
	foldRunes = make([]rune, 0, 0x10000+4096)
	var buf []rune
	for r := range rune(len(foldBMP)) {
		buf = foldSlow(r, buf[:0])
		off := len(foldRunes)
		foldRunes = append(foldRunes, buf...)
		foldBMP[r] = uint32(off)<<8 | uint32(len(buf))
	}
}

// foldSlow is foldRune computed: NFKC, lower case, hiragana to katakana,
// and whitespace, hyphens, brackets, "+" and "〒" removed.
func foldSlow(r rune, out []rune) []rune {
	if r < utf8.RuneSelf { // ASCII: its own NFKC form
		switch {
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case r <= ' ' || r == '-' || r == '(' || r == ')' || r == '[' || r == ']' || r == '+':
			return out
		}
		return append(out, r)
	}
	if r >= 0xD800 && r <= 0xDFFF {
		r = utf8.RuneError // what decoding a surrogate's bytes gives
	}
	for _, c := range norm.NFKC.String(string(r)) {
		c = unicode.ToLower(c)
		switch {
		case unicode.IsSpace(c), c == '-', c == '‐', c == '‑', c == '–', c == '—', c == '−',
			c == '(', c == ')', c == '[', c == ']', c == '「', c == '」', c == '+', c == '〒':
			continue
		case c >= 'ぁ' && c <= 'ゖ':
			c += 'ァ' - 'ぁ' // hiragana to katakana
		}
		out = append(out, c)
	}
	return out
}

// disguiseAt reports whether s starts with a disguise of "@" or ".", what
// it stands for and how many bytes of s it takes.
func disguiseAt(s string) (to string, n int, ok bool) {
	switch r, _ := utf8.DecodeRuneInString(s); r {
	case '☆', '★', '◎':
		return "@", len(string(r)), true
	}
	// Every other disguise has its "at" or "dot" as its second or third
	// rune: a text's many spaces and brackets are passed over cheaply.
	if !startsWord(s) {
		return "", 0, false
	}
	// Enough of s to hold the longest disguise, folded.
	k, runes := 0, 0
	for k < len(s) && runes < 8 {
		_, size := utf8.DecodeRuneInString(s[k:])
		k += size
		runes++
	}
	head := strings.ToLower(norm.NFKC.String(s[:k]))
	for _, d := range disguises {
		if !strings.HasPrefix(head, d.from) {
			continue
		}
		// Map the folded prefix back to bytes of s, rune by rune.
		want, used, b := utf8.RuneCountInString(d.from), 0, 0
		for b < len(s) && used < want {
			r, size := utf8.DecodeRuneInString(s[b:])
			used += utf8.RuneCountInString(strings.ToLower(norm.NFKC.String(string(r))))
			b += size
		}
		if used != want {
			continue
		}
		return d.to, b, true
	}
	return "", 0, false
}

// startsWord reports whether the second or third rune of s folds to
// something starting with "a" or "d".
func startsWord(s string) bool {
	_, size := utf8.DecodeRuneInString(s)
	for k := 0; k < 2 && size < len(s); k++ {
		r, n := utf8.DecodeRuneInString(s[size:])
		if f := foldRune(r); len(f) > 0 && (f[0] == 'a' || f[0] == 'd') {
			return true
		}
		size += n
	}
	return false
}

func isASCII(r []rune) bool {
	for _, c := range r {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// phoneForms are a number's digit strings in its national and
// international forms (090… and 8190…); none when it is too short.
func phoneForms(s string) []string {
	d := phoneDigits(s)
	switch {
	case len(d) < minPhoneDigits:
		return nil
	case strings.HasPrefix(d, "0"):
		return []string{d, "81" + d[1:]}
	case strings.HasPrefix(d, "81"):
		return []string{d, "0" + d[2:]}
	}
	return []string{d}
}
