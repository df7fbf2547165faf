package contentscan

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// People is the personal data of an incident's own people (the wrong
// recipients, the affected, every broadcast's recipients), indexed so that
// a message quoting any of it can be refused: names (kanji, with or
// without spaces), their kana (フリガナ, in katakana or hiragana), e-mail
// addresses, phone numbers in any form and postal addresses.
//
// Matching is on folded text (Fold): full-width to half-width, case,
// hiragana to katakana, "@" and "." in their disguises (☆, ★, ＠, [at],
// (at), " at ", (dot), " dot "), and whitespace, line breaks, hyphens and
// brackets removed; so "kenta.suzuki☆example.jp", "佐藤 美咲" and an
// address broken over two lines are all found. Values are held as 64-bit
// hashes of their folded form, never as text, and a finding says where and
// which kind, never what.
//
// A message may hold its own recipient's data (Check's self) and the
// organisation's published contacts and address (Allow).
type People struct {
	// owner maps a value's hash to the index of the person it belongs to;
	// shared marks values several people have (a common name), whose
	// owners are in owners.
	owner  map[uint64]int32
	kinds  map[uint64]Rule
	owners map[uint64][]int32
	allow  map[uint64]bool
	// lengths are the folded lengths (in runes) of the values indexed,
	// ascending: a text is searched at those lengths only.
	lengths []int
	hasLen  map[int]bool
	n       int32
}

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

// Shortest folded values indexed: shorter ones (a two-character name) would
// match ordinary words; the structural rules still catch a list of them.
const (
	minNameRunes    = 3
	minKanaRunes    = 4
	minAddressRunes = 8
	minEmailRunes   = 6
	minPhoneDigits  = 10
	// maxValueRunes bounds what is indexed (a longer value is cut there).
	maxValueRunes = 120
)

// NewPeople returns an empty index.
func NewPeople() *People {
	return &People{owner: map[uint64]int32{}, kinds: map[uint64]Rule{}, owners: map[uint64][]int32{},
		allow: map[uint64]bool{}, hasLen: map[int]bool{}}
}

// Add indexes one person and returns their index, which Check takes as
// self for a message to them.
func (p *People) Add(per Person) int32 {
	id := p.n
	p.n++
	p.add(id, RulePersonName, per.Name, minNameRunes)
	p.add(id, RulePersonKana, per.Kana, minKanaRunes)
	p.add(id, RulePersonEmail, per.Email, minEmailRunes)
	p.add(id, RulePersonAddress, per.Address, minAddressRunes)
	// The address without its postal code, as a text may quote it.
	p.add(id, RulePersonAddress, postalPrefix.ReplaceAllString(norm.NFKC.String(strings.TrimSpace(per.Address)), ""), minAddressRunes)
	for _, d := range phoneForms(per.Phone) {
		p.addFolded(id, RulePersonPhone, d)
	}
	return id
}

// postalPrefix is a leading postal code: 〒060-0001, 060-0001.
var postalPrefix = regexp.MustCompile(`^〒?\s*\d{3}-?\d{4}\s*`)

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

// Allow exempts values everyone may read: the organisation's published
// contacts and address.
func (p *People) Allow(values ...string) {
	for _, v := range values {
		if f := Fold(v); f != "" {
			p.allow[hashRunes([]rune(f))] = true
		}
		for _, d := range phoneForms(v) {
			p.allow[hashRunes([]rune(d))] = true
		}
	}
}

// Len is how many people are indexed.
func (p *People) Len() int { return int(p.n) }

func (p *People) add(id int32, kind Rule, v string, min int) {
	f := Fold(v)
	if utf8.RuneCountInString(f) < min {
		return
	}
	p.addFolded(id, kind, f)
}

func (p *People) addFolded(id int32, kind Rule, f string) {
	r := []rune(f)
	if len(r) > maxValueRunes {
		r = r[:maxValueRunes]
	}
	h := hashRunes(r)
	if prev, ok := p.owner[h]; ok {
		if prev != id {
			if p.owners[h] == nil {
				p.owners[h] = []int32{prev}
			}
			p.owners[h] = append(p.owners[h], id)
		}
		return
	}
	p.owner[h], p.kinds[h] = id, kind
	if !p.hasLen[len(r)] {
		p.hasLen[len(r)] = true
		p.lengths = append(p.lengths, len(r))
		for i := len(p.lengths) - 1; i > 0 && p.lengths[i] < p.lengths[i-1]; i-- {
			p.lengths[i], p.lengths[i-1] = p.lengths[i-1], p.lengths[i]
		}
	}
}

// NoSelf is Check's self for content that goes to many people unchanged:
// nobody's data is allowed in it.
const NoSelf int32 = -1

// Check finds the data of people other than self in one part of a message
// (part names it in the findings: "subject", "text"...). Each finding says
// the line and column in the part where the value starts and its kind.
func (p *People) Check(part, text string, self int32) []Finding {
	if p == nil || p.n == 0 || text == "" {
		return nil
	}
	folded, at := foldWithPositions(text)
	if len(folded) == 0 {
		return nil
	}
	// Rolling polynomial hashes of every prefix: a substring's hash in
	// O(1), so the search costs one map lookup per position and length.
	pre := make([]uint64, len(folded)+1)
	for i, r := range folded {
		pre[i+1] = pre[i]*hashBase + uint64(r) + 1
	}
	pow := make([]uint64, maxValueRunes+1)
	pow[0] = 1
	for i := 1; i < len(pow); i++ {
		pow[i] = pow[i-1] * hashBase
	}
	var out []Finding
	counts := map[Rule]int{}
	for i := 0; i < len(folded); i++ {
		for _, l := range p.lengths {
			if i+l > len(folded) {
				break
			}
			h := mix(pre[i+l] - pre[i]*pow[l])
			id, ok := p.owner[h]
			if !ok || p.allow[h] || p.mine(h, id, self) {
				continue
			}
			kind := p.kinds[h]
			counts[kind]++
			if counts[kind] <= maxPerRule {
				line, col := at(i)
				out = append(out, Finding{Rule: kind, Part: part, Line: line, Col: col,
					Detail: describePerson(kind)})
			}
			i += l - 1 // one finding per place
			break
		}
	}
	for _, kind := range []Rule{RulePersonName, RulePersonKana, RulePersonEmail, RulePersonPhone, RulePersonAddress} {
		if n := counts[kind]; n > maxPerRule {
			out = append(out, Finding{Rule: kind, Part: part,
				Detail: fmt.Sprintf("%d such values of other people in all", n)})
		}
	}
	return out
}

// mine reports whether the value hashed h belongs to self.
func (p *People) mine(h uint64, first, self int32) bool {
	if self < 0 {
		return false
	}
	if first == self {
		return true
	}
	for _, id := range p.owners[h] {
		if id == self {
			return true
		}
	}
	return false
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
	f, _ := foldWithPositions(s)
	return string(f)
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
	type src struct{ line, col int }
	var out []rune
	var pos []src
	line, col := 1, 0
	rest := s
	for rest != "" {
		r, size := utf8.DecodeRuneInString(rest)
		col++
		here := src{line, col}
		if r == '\n' {
			line, col = line+1, 0
			rest = rest[size:]
			continue
		}
		// A disguise is replaced as a whole; only the lower-cased NFKC
		// form is compared, so "（ＡＴ）" is one too.
		if r == ' ' || r == '\u3000' || r == '[' || r == '(' || r == '（' || r == '［' || r == '☆' || r == '★' || r == '◎' {
			if to, n, ok := disguiseAt(rest); ok {
				out = append(out, []rune(to)...)
				for range []rune(to) {
					pos = append(pos, here)
				}
				col += utf8.RuneCountInString(rest[:n]) - 1
				rest = rest[n:]
				continue
			}
		}
		rest = rest[size:]
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
			pos = append(pos, here)
		}
	}
	return out, func(i int) (int, int) {
		if i < 0 || i >= len(pos) {
			return 0, 0
		}
		return pos[i].line, pos[i].col
	}
}

// disguiseAt reports whether s starts with a disguise of "@" or ".", what
// it stands for and how many bytes of s it takes.
func disguiseAt(s string) (to string, n int, ok bool) {
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
