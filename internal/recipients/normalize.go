package recipients

import (
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones must validate the same on every machine that reads a list
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
	"google.golang.org/protobuf/proto"
)

// foldText folds full-width ASCII to ASCII and half-width katakana to
// full-width (golang.org/x/text/width), composes (NFC), turns every run of
// white space -- including the ideographic space and line breaks inside a
// cell -- into one space, and trims.
func foldText(s string) string {
	if !isASCII(s) {
		if needsFold(s) {
			s = width.Fold.String(s)
		}
		s = norm.NFC.String(s) // allocates only when s is not in NFC
	}
	return collapseSpace(s)
}

// needsFold reports whether width.Fold could change s: it maps only
// full-width and half-width runes (TestNeedsFoldCoversFold). Checking first
// saves Fold's allocation on the common kanji/kana text.
func needsFold(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		switch width.LookupRune(r).Kind() {
		case width.EastAsianFullwidth, width.EastAsianHalfwidth:
			return true
		}
	}
	return false
}

func collapseSpace(s string) string {
	clean := true
	prevSpace := true // trims leading space
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean && !prevSpace {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			pendingSpace = b.Len() > 0
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hasControl reports control characters other than white space: NUL bytes
// and the like mean a binary or damaged file.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return true
		}
	}
	return false
}

// emailProblem says what is wrong with an e-mail address, without echoing it.
type emailProblem string

const (
	emailOK        emailProblem = ""
	emailInvalid   emailProblem = "not a valid e-mail address; correct it or leave the cell empty"
	emailMultiple  emailProblem = "more than one e-mail address in one cell; keep one address per cell"
	emailNonASCII  emailProblem = "the e-mail address contains non-ASCII characters (kanji or kana?); correct it or leave the cell empty"
	emailNoDomain  emailProblem = "the e-mail address has no complete domain (like example.jp); correct it or leave the cell empty"
	emailQuoted    emailProblem = "the e-mail address has a quoted part with spaces or special characters, which mail providers refuse; correct it or leave the cell empty"
	emailIPLiteral emailProblem = "the e-mail address uses an IP address instead of a domain; correct it or leave the cell empty"
)

// normalizeEmail checks an address with net/mail and returns the bare
// address (any display name dropped) with its domain in lower case and its
// local part unchanged. Old Japanese mobile addresses whose local part has
// leading, trailing or doubled dots ("taro..y.@docomo.ne.jp") are RFC-invalid
// but real and delivered by their carriers, so they are accepted.
func normalizeEmail(s string) (string, emailProblem) {
	s = foldText(s)
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = strings.TrimSpace(s[7:])
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		if list, lerr := mail.ParseAddressList(s); lerr == nil && len(list) > 1 {
			return "", emailMultiple
		}
		if strings.ContainsAny(s, ",;") && strings.Count(s, "@") > 1 {
			return "", emailMultiple
		}
		a = legacyMobileAddress(s)
		if a == nil {
			if !isASCII(s) {
				return "", emailNonASCII
			}
			return "", emailInvalid
		}
	}
	addr := a.Address
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "", emailInvalid
	}
	local, domain := addr[:at], addr[at+1:]
	switch {
	case !isASCII(addr):
		return "", emailNonASCII
	case strings.HasPrefix(domain, "["):
		return "", emailIPLiteral
	case strings.ContainsAny(local, " \t\"\\(),:;<>@[]"):
		return "", emailQuoted
	case !validDomain(domain):
		return "", emailNoDomain
	}
	if lower := strings.ToLower(domain); lower != domain {
		return local + "@" + lower, emailOK
	}
	return addr, emailOK
}

// legacyMobileAddress accepts local parts made of letters, digits and
// . _ - + / ? whose only fault is where their dots are.
func legacyMobileAddress(s string) *mail.Address {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || !strings.Contains(s[:at], ".") {
		return nil
	}
	for _, r := range s[:at] {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-+/?", r))
		if !ok {
			return nil
		}
	}
	a, err := mail.ParseAddress(`"` + s[:at] + `"@` + s[at+1:])
	if err != nil {
		return nil
	}
	return a
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// phoneResult is a normalised phone number.
type phoneResult struct {
	e164       string
	unassigned bool // possible length, but in no range the numbering plan assigns
	extension  bool // an extension was written and dropped
}

// phoneDashes are the characters people type for the hyphen of a phone
// number in Japanese text, besides the ASCII and full-width hyphen-minus
// that width folding already handles.
var phoneDashes = strings.NewReplacer(
	"ー", "-", // katakana-hiragana prolonged sound mark (U+30FC)
	"‐", "-", "‑", "-", "‒", "-", "–", "-", "—", "-", "―", "-", // U+2010..U+2015
	"−", "-", // minus sign (U+2212)
	"内線", " ext. ", // "extension" in Japanese
)

// normalizePhone parses a phone number in international form or in the
// national form of region and returns it in E.164. A number of impossible
// length is an error; a possible one outside the assigned ranges is
// accepted but flagged (fictitious demo numbers such as 090-0000-0001 live
// there, and so do typos).
func normalizePhone(s, region string) (phoneResult, bool) {
	s = foldText(s)
	if !isASCII(s) { // every dash to replace is outside ASCII
		s = phoneDashes.Replace(s)
	}
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = strings.TrimSpace(s[4:])
	}
	num, ok := fastJapanese(s, region)
	if !ok {
		var err error
		num, err = phonenumbers.Parse(s, region)
		if err != nil {
			return phoneResult{}, false
		}
	}
	if phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return phoneResult{}, false
	}
	valid := phonenumbers.IsValidNumber(num)
	if !valid && !subscriberLength(num) {
		return phoneResult{}, false
	}
	return phoneResult{
		e164:       phonenumbers.Format(num, phonenumbers.E164),
		unassigned: !valid,
		extension:  num.GetExtension() != "",
	}, true
}

var subscriberLengths sync.Map // country calling code -> map[int]bool

// subscriberLength reports whether a number that is not valid at least has
// the length of the country's example fixed-line or mobile number. The
// numbering plans' "possible" lengths are too lax for a recipient list:
// Japan's reach 17 digits for special services, which would let a number
// with digits typed twice pass.
func subscriberLength(num *phonenumbers.PhoneNumber) bool {
	cc := int(num.GetCountryCode())
	v, ok := subscriberLengths.Load(cc)
	if !ok {
		lengths := map[int]bool{}
		region := phonenumbers.GetRegionCodeForCountryCode(cc)
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE} {
			if ex := phonenumbers.GetExampleNumberForType(region, typ); ex != nil {
				lengths[len(phonenumbers.GetNationalSignificantNumber(ex))] = true
			}
		}
		v, _ = subscriberLengths.LoadOrStore(cc, lengths)
	}
	return v.(map[int]bool)[len(phonenumbers.GetNationalSignificantNumber(num))]
}

// fastJapanese builds the number phonenumbers.Parse would build for the
// commonest input, a Japanese national number of 10 or 11 digits written
// with optional hyphens, spaces, dots or parentheses, without paying for
// Parse's regular expressions. TestFastJapaneseAgreesWithParse holds it to
// that.
func fastJapanese(s, region string) (*phonenumbers.PhoneNumber, bool) {
	if region != "JP" {
		return nil, false
	}
	var digits [11]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(digits) {
				return nil, false
			}
			digits[n] = c
			n++
		case c == '-' || c == ' ' || c == '(' || c == ')' || c == '.':
		default:
			return nil, false
		}
	}
	// "00" and "010" start international calls from Japan.
	if n < 10 || digits[0] != '0' || digits[1] == '0' || digits[1] == '1' && digits[2] == '0' {
		return nil, false
	}
	national, err := strconv.ParseUint(string(digits[1:n]), 10, 64)
	if err != nil {
		return nil, false
	}
	return &phonenumbers.PhoneNumber{
		CountryCode:    proto.Int32(81),
		NationalNumber: proto.Uint64(national),
	}, true
}

// normalizePostalCode folds the text, drops a leading 〒 and writes a
// seven-digit Japanese postal code as 123-4567. Other codes stay as written.
func normalizePostalCode(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(foldText(s), "〒"))
	digits := strings.ReplaceAll(s, "-", "")
	if len(digits) == 7 && (len(s) == 7 || len(s) == 8 && s[3] == '-') && allDigits(digits) {
		return digits[:3] + "-" + digits[3:]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var zoneCache sync.Map // IANA name -> struct{}; bounded by the IANA database

// validTimeZone reports whether s names an IANA time zone.
func validTimeZone(s string) bool {
	if _, ok := zoneCache.Load(s); ok {
		return true
	}
	if s == "" || s == "Local" || strings.ContainsAny(s, " \\") {
		return false
	}
	if _, err := time.LoadLocation(s); err != nil {
		return false
	}
	zoneCache.Store(s, struct{}{})
	return true
}
