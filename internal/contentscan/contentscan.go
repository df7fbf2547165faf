// Package contentscan decides whether a message may go out: one recipient,
// and nobody else's address, phone number or list of people anywhere in it.
// It is the check seeds 003 (29 addresses visible in To/CC) and 004 (the
// whole customer address list bound into the body) would have failed.
//
// The scan is pure and conservative: it refuses what looks like personal
// data of people other than the recipient, and allows only the
// organisation's published contacts (an Allowlist) and the recipient's own
// address and number. Its findings never quote what they found, only where
// it is, so a report is safe to log and to keep in workflow history.
//
// E-mail addresses and phone numbers are detected exactly as the log
// redactor detects them (internal/redact), so the two never disagree.
package contentscan

import (
	"bytes"
	"fmt"
	"html"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/breachflow/breachflow/internal/redact"
)

// Message is one message as its recipient will see it.
type Message struct {
	// To, CC and BCC are the envelope's addresses: exactly one in all.
	To, CC, BCC []string
	// RecipientPhone is the recipient's own number, which the message may
	// quote (optional).
	RecipientPhone string
	Subject        string
	Text           string
	HTML           string
	Attachments    []Attachment
}

// Attachment is a file attached to a message.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content"`
}

// Allowlist is what a message may always contain: the organisation's
// published contacts (the inquiry desk's address and number, the sender).
type Allowlist struct {
	Emails []string `json:"emails,omitempty"`
	Phones []string `json:"phones,omitempty"`
}

// Rule names why a message is refused.
type Rule string

// Rules.
const (
	// RuleRecipients: the message does not go to exactly one person (003).
	RuleRecipients Rule = "recipients"
	// RuleEmail: an e-mail address that is neither the recipient's nor on the allowlist.
	RuleEmail Rule = "email"
	// RulePhone: a phone number that is neither the recipient's nor on the allowlist.
	RulePhone Rule = "phone"
	// RuleList: something that looks like a list of people (004): a
	// CSV-like block, several names in a row, many addresses.
	RuleList Rule = "list"
	// RuleAttachment: an attachment that cannot be checked or is a data file.
	RuleAttachment Rule = "attachment"
)

// Finding is one reason to refuse a message. It says where, never what:
// it holds no personal data.
type Finding struct {
	Rule Rule `json:"rule"`
	// Part is "envelope", "subject", "text", "html" or "attachment <name>".
	Part string `json:"part"`
	// Line is the 1-based line of the part (0 when not applicable); Col
	// the 1-based column (in characters) where the finding starts, when
	// known.
	Line   int    `json:"line,omitempty"`
	Col    int    `json:"col,omitempty"`
	Detail string `json:"detail"`
}

func (f Finding) String() string {
	if f.Line > 0 && f.Col > 0 {
		return fmt.Sprintf("%s, line %d, column %d: %s", f.Part, f.Line, f.Col, f.Detail)
	}
	if f.Line > 0 {
		return fmt.Sprintf("%s, line %d: %s", f.Part, f.Line, f.Detail)
	}
	return fmt.Sprintf("%s: %s", f.Part, f.Detail)
}

// Report is the outcome of a scan; a message may go out when it has no
// findings.
type Report struct {
	Findings []Finding `json:"findings,omitempty"`
}

// OK reports whether the message may go out.
func (r Report) OK() bool { return len(r.Findings) == 0 }

// Err returns nil when the message may go out, and otherwise an error
// listing (at most maxListed of) the findings. It holds no personal data.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "refused: %d finding(s)", len(r.Findings))
	for i, f := range r.Findings {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(r.Findings)-maxListed)
			break
		}
		b.WriteString("; ")
		b.WriteString(f.String())
	}
	return fmt.Errorf("%s", b.String())
}

// Limits of the scan.
const (
	// maxListed is how many findings an error lists.
	maxListed = 5
	// maxPerRule is how many findings of one rule in one part are kept;
	// the rest are counted in a summary finding.
	maxPerRule = 3
	// minRows is how many consecutive record-like lines make a list.
	minRows = 3
	// maxAts is how many "@" one part may hold, allowlisted or not.
	maxAts = 10
	// maxPostalCodes is how many postal codes one part may hold.
	maxPostalCodes = 2
	// maxField is the longest field (in runes) of a CSV-like record.
	maxField = 40
)

// Scan checks one message against the rules. The recipient's own address
// (the envelope's one address) and RecipientPhone are allowed in the
// content, as is everything on the allowlist.
func Scan(m Message, allow Allowlist) Report {
	r := Report{Findings: Envelope(len(m.To), len(m.CC), len(m.BCC))}
	ok := allowed(allow)
	if len(m.To) == 1 && len(m.CC)+len(m.BCC) == 0 {
		ok[redact.EmailKey(m.To[0])] = true
	}
	if m.RecipientPhone != "" {
		ok[redact.PhoneKey(m.RecipientPhone)] = true
	}
	r.Findings = append(r.Findings, scanText("subject", m.Subject, ok)...)
	r.Findings = append(r.Findings, scanText("text", m.Text, ok)...)
	if m.HTML != "" {
		r.Findings = append(r.Findings, scanText("html", htmlText(m.HTML), ok)...)
		// Addresses hidden in markup (href="mailto:…") count too.
		r.Findings = append(r.Findings, scanContacts("html markup", m.HTML, ok)...)
	}
	for _, a := range m.Attachments {
		r.Findings = append(r.Findings, scanAttachment(a, ok)...)
	}
	return r
}

// Envelope checks a message's envelope by its numbers of addresses in
// To, CC and BCC: exactly one, in To (seed 003).
func Envelope(to, cc, bcc int) []Finding {
	if to == 1 && cc == 0 && bcc == 0 {
		return nil
	}
	return []Finding{{Rule: RuleRecipients, Part: "envelope",
		Detail: fmt.Sprintf("a message must go to exactly one person in To; it names %d (To %d, CC %d, BCC %d)", to+cc+bcc, to, cc, bcc)}}
}

// ScanContent checks content that will go, unchanged, to many recipients:
// only the allowlist is allowed in it, since it must not hold any one
// recipient's data.
func ScanContent(subject, text, htmlBody string, attachments []Attachment, allow Allowlist) Report {
	return Scan(Message{To: []string{"recipient@invalid.invalid"}, Subject: subject, Text: text, HTML: htmlBody, Attachments: attachments}, allow)
}

func allowed(allow Allowlist) map[string]bool {
	ok := map[string]bool{}
	for _, e := range allow.Emails {
		ok[redact.EmailKey(e)] = true
	}
	for _, p := range allow.Phones {
		ok[redact.PhoneKey(p)] = true
	}
	return ok
}

// scanText applies the contact and list rules to one part.
func scanText(part, s string, ok map[string]bool) []Finding {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return []Finding{{Rule: RuleList, Part: part, Detail: "the text is not valid UTF-8 and cannot be checked"}}
	}
	f := scanContacts(part, s, ok)
	return append(f, scanLists(part, s)...)
}

// scanContacts refuses addresses and numbers not allowed.
func scanContacts(part, s string, ok map[string]bool) []Finding {
	var out []Finding
	counts := map[Rule]int{}
	first := map[Rule]int{}
	for _, m := range redact.Find(s) {
		if ok[m.Key] {
			continue
		}
		rule := RuleEmail
		if m.Kind == redact.KindPhone {
			rule = RulePhone
		}
		counts[rule]++
		line := lineOf(s, m.Start)
		if counts[rule] == 1 {
			first[rule] = line
		}
		if counts[rule] <= maxPerRule {
			out = append(out, Finding{Rule: rule, Part: part, Line: line, Col: colOf(s, m.Start),
				Detail: fmt.Sprintf("%s that is neither the recipient's nor an allowed contact", m.Kind)})
		}
	}
	for _, rule := range []Rule{RuleEmail, RulePhone} {
		if n := counts[rule]; n > maxPerRule {
			out = append(out, Finding{Rule: rule, Part: part, Line: first[rule],
				Detail: fmt.Sprintf("%d addresses or numbers that are neither the recipient's nor allowed contacts in all (first at line %d)", n, first[rule])})
		}
	}
	return out
}

// postalCode matches a Japanese postal code (〒100-0001, 100-0001).
var postalCode = regexp.MustCompile(`(?:〒\s*|^|\s)\d{3}[-－ー‐]\d{4}(?:\D|$)`)

// scanLists refuses what looks like a list of people.
func scanLists(part, s string) []Finding {
	var out []Finding
	if n := strings.Count(s, "@") + strings.Count(s, "＠"); n > maxAts {
		out = append(out, Finding{Rule: RuleList, Part: part,
			Detail: fmt.Sprintf("%d at signs: a notice names at most a few contacts, this looks like a list of addresses", n)})
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	postal := 0
	for _, l := range lines {
		postal += len(postalCode.FindAllStringIndex(l, -1))
	}
	if postal > maxPostalCodes {
		out = append(out, Finding{Rule: RuleList, Part: part,
			Detail: fmt.Sprintf("%d postal codes: this looks like a list of postal addresses", postal)})
	}
	for i, l := range lines {
		if n := namesOnALine(l); n >= 2 {
			out = append(out, Finding{Rule: RuleList, Part: part, Line: i + 1,
				Detail: fmt.Sprintf("%d people named with an honorific on one line: this looks like a list of people", n)})
		}
	}
	for _, d := range []struct {
		what string
		fit  func(prev, cur string) (bool, bool)
	}{
		{"lines with the same number of separated short fields (a CSV-like block)", sameRecordShape},
		{"names in a row", bothNames},
	} {
		run := 0
		for i := 0; i < len(lines); i++ {
			prev := ""
			if i > 0 {
				prev = lines[i-1]
			}
			isRow, continues := d.fit(prev, lines[i])
			switch {
			case !isRow:
				run = 0
			case run > 0 && continues:
				run++
			default:
				run = 1
			}
			if run == minRows {
				out = append(out, Finding{Rule: RuleList, Part: part, Line: i - minRows + 2,
					Detail: fmt.Sprintf("%d or more %s: this looks like a list of people", minRows, d.what)})
			}
		}
	}
	return out
}

// sameRecordShape reports whether cur is a record-like line, and whether
// it has the same shape (separator and field count) as prev.
func sameRecordShape(prev, cur string) (isRow, continues bool) {
	sep, n := recordShape(cur)
	if n < 2 {
		return false, false
	}
	psep, pn := recordShape(prev)
	return true, psep == sep && pn == n
}

// dropDigitGroupCommas removes the commas of digit groups (13,011), which
// separate no fields.
func dropDigitGroupCommas(s string) string {
	if !strings.ContainsAny(s, ",，") {
		return s
	}
	r := []rune(s)
	out := make([]rune, 0, len(r))
	for i, c := range r {
		if (c == ',' || c == '，') && i > 0 && i+3 < len(r) && isDigitRune(r[i-1]) &&
			isDigitRune(r[i+1]) && isDigitRune(r[i+2]) && isDigitRune(r[i+3]) && (i+4 == len(r) || !isDigitRune(r[i+4])) {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func isDigitRune(r rune) bool { return (r >= '0' && r <= '9') || (r >= '０' && r <= '９') }

// recordShape returns the separator and the number of fields of a line
// that looks like a record: split by one separator into two or more
// non-empty short fields. n < 2 means it is not one.
func recordShape(line string) (sep rune, n int) {
	line = dropDigitGroupCommas(strings.TrimSpace(line))
	if line == "" {
		return 0, 0
	}
	for _, sep := range []rune{',', '\t', ';', '|', '，', '；', '｜'} {
		if !strings.ContainsRune(line, sep) {
			continue
		}
		fields := strings.Split(line, string(sep))
		short := true
		for _, f := range fields {
			f = strings.TrimSpace(f)
			if f == "" || utf8.RuneCountInString(f) > maxField {
				short = false
				break
			}
		}
		if short {
			return sep, len(fields)
		}
	}
	return 0, 0
}

// bothNames reports whether cur looks like a person's name on its own
// line (and prev too).
func bothNames(prev, cur string) (isRow, continues bool) {
	if !looksLikeName(cur) {
		return false, false
	}
	return true, looksLikeName(prev)
}

// nameSeparators split a line into the names it may list:
// 「佐藤美咲様、鈴木健太様、高橋陽子様」.
var nameSeparators = regexp.MustCompile(`[、,，;；/／|｜]|\s{2,}|\t`)

// namesOnALine counts the people a line names with an honorific (様, さん,
// 殿...), in kanji or kana, separated as a list is.
func namesOnALine(line string) int {
	if !strings.ContainsAny(line, "様さん殿氏君") {
		return 0
	}
	n := 0
	for _, f := range nameSeparators.Split(line, -1) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		for _, h := range honorifics {
			if strings.HasSuffix(f, h) && looksLikeName(f) {
				n++
				break
			}
		}
	}
	return n
}

// honorifics end a Japanese name on its own line ("山田 太郎 様").
var honorifics = []string{"様", "さま", "さん", "殿", "氏", "君", "くん", "ちゃん"}

// latinTitles start an English name on its own line ("Ms. Hanako Sato").
var latinTitles = []string{"mr", "mr.", "ms", "ms.", "mrs", "mrs.", "dr", "dr.", "prof", "prof."}

// looksLikeName reports whether a line is only a person's name: a short
// line ending with an honorific, a CJK family and given name separated by a
// space, or two or three capitalised Latin words (optionally after a
// title). Enumerations ("1. ", "- ") before the name are ignored.
func looksLikeName(line string) bool {
	line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "0123456789.)-・*•０１２３４５６７８９．） "))
	if line == "" || utf8.RuneCountInString(line) > 30 {
		return false
	}
	if strings.ContainsAny(line, ":：、。,.!?！？") && !hasLatinTitle(line) {
		return false
	}
	for _, h := range honorifics {
		if name, ok := strings.CutSuffix(line, h); ok {
			name = strings.TrimSpace(name)
			// "お客様", "会員の皆様" are salutations, not names.
			salutation := strings.HasSuffix(name, "皆") || strings.HasSuffix(name, "お客") || strings.Contains(name, "各位")
			if name != "" && !salutation && utf8.RuneCountInString(name) <= 12 && allNameRunes(name) {
				return true
			}
		}
	}
	words := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\u3000' })
	if len(words) == 2 && allCJK(words[0]) && allCJK(words[1]) &&
		utf8.RuneCountInString(words[0]) <= 5 && utf8.RuneCountInString(words[1]) <= 5 {
		return true
	}
	if len(words) > 0 && hasLatinTitle(line) {
		words = words[1:]
	}
	if len(words) < 2 || len(words) > 3 {
		return false
	}
	for _, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) || !allLetters(w) {
			return false
		}
	}
	return true
}

func hasLatinTitle(line string) bool {
	first, _, _ := strings.Cut(strings.ToLower(line), " ")
	for _, t := range latinTitles {
		if first == t {
			return true
		}
	}
	return false
}

func allNameRunes(s string) bool {
	for _, r := range s {
		if !(isCJK(r) || unicode.IsLetter(r) || r == ' ' || r == '\u3000' || r == '・') {
			return false
		}
	}
	return true
}

func allCJK(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isCJK(r) {
			return false
		}
	}
	return true
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || r == 'ー' || r == '々'
}

func allLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && r != '-' && r != '\'' {
			return false
		}
	}
	return true
}

// colOf returns the 1-based column (in characters) of byte offset off in s.
func colOf(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return utf8.RuneCountInString(s[strings.LastIndexByte(s[:off], '\n')+1:off]) + 1
}

// lineOf returns the 1-based line of byte offset off in s.
func lineOf(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return strings.Count(s[:off], "\n") + 1
}

// htmlText returns the text an HTML body shows: tags removed (block tags
// become line breaks) and entities decoded, so "&#64;" cannot hide an
// address.
func htmlText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		tag := strings.ToLower(strings.TrimLeft(s[i+1:i+j], "/ "))
		for _, t := range []string{"br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"} {
			if tag == t || strings.HasPrefix(tag, t+" ") || strings.HasPrefix(tag, t+"/") {
				b.WriteByte('\n')
				break
			}
		}
		if strings.HasPrefix(tag, "td") || strings.HasPrefix(tag, "th") {
			b.WriteByte('\t')
		}
		s = s[i+j+1:]
	}
	return html.UnescapeString(b.String())
}

// Attachment content types that can be checked.
var textTypes = []string{"text/plain", "text/html", "text/markdown"}

// dataExtensions are files that hold records, whatever their content type says.
var dataExtensions = []string{".csv", ".tsv", ".xls", ".xlsx", ".xlsm", ".ods", ".json", ".jsonl", ".xml", ".zip", ".7z", ".gz", ".lzh", ".mdb", ".accdb", ".sqlite", ".db", ".vcf"}

func scanAttachment(a Attachment, ok map[string]bool) []Finding {
	part := "attachment " + safeName(a.Filename)
	ext := strings.ToLower(path.Ext(a.Filename))
	for _, d := range dataExtensions {
		if ext == d {
			return []Finding{{Rule: RuleAttachment, Part: part, Detail: "a data file (" + d + ") cannot be attached to a notice"}}
		}
	}
	ct := strings.ToLower(strings.TrimSpace(a.ContentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	isText := false
	for _, t := range textTypes {
		if ct == t {
			isText = true
		}
	}
	if !isText {
		return []Finding{{Rule: RuleAttachment, Part: part, Detail: fmt.Sprintf("content type %q cannot be checked for personal data; attach text only", ct)}}
	}
	if !utf8.Valid(a.Content) || bytes.IndexByte(a.Content, 0) >= 0 {
		return []Finding{{Rule: RuleAttachment, Part: part, Detail: "the attachment is not UTF-8 text and cannot be checked"}}
	}
	text := string(a.Content)
	if ct == "text/html" {
		f := scanText(part, htmlText(text), ok)
		return append(f, scanContacts(part+" markup", text, ok)...)
	}
	return scanText(part, text, ok)
}

// safeName keeps an attachment's name printable and short for a report.
func safeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, path.Base(redact.Redact(name)))
	if n := []rune(name); len(n) > 60 {
		name = string(n[:59]) + "…"
	}
	return fmt.Sprintf("%q", name)
}
