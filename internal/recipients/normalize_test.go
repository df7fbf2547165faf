package recipients

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"golang.org/x/text/width"
)

func TestFoldText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"山田　太郎", "山田 太郎"},               // ideographic space
		{"  a \t b\n\nc  ", "a b c"},     // runs of white space, line breaks in a cell
		{"ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"},          // half-width katakana, voiced mark composed
		{"ＡＢＣ１２３", "ABC123"},             // full-width ASCII
		{"東京都千代田区１－２－３", "東京都千代田区1-2-3"}, // full-width digits and hyphen-minus
		{"plain", "plain"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, foldText(tt.in), "foldText(%q)", tt.in)
	}
}

// TestNeedsFoldCoversFold: width.Fold changes no rune that needsFold lets
// through, so skipping Fold for them is safe.
func TestNeedsFoldCoversFold(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := string(r)
		if !needsFold(s) && width.Fold.String(s) != s {
			t.Errorf("Fold changes %U but needsFold says no", r)
		}
	}
}

func TestHash64LowerIsHashOfLowerCase(t *testing.T) {
	for _, s := range []string{"", "a@example.jp", "Taro.Yamada@Example.JP", "ABCXYZ@[]"} {
		assert.Equal(t, hash64(strings.ToLower(s)), hash64Lower(s), s)
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
		problem        emailProblem
	}{
		{"bare address kept", "taro@example.jp", "taro@example.jp", emailOK},
		{"domain lower-cased, local part kept", "Taro.Yamada@Example.JP", "Taro.Yamada@example.jp", emailOK},
		{"display name dropped", "山田 太郎 <taro@example.jp>", "taro@example.jp", emailOK},
		{"full-width folded", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp", emailOK},
		{"mailto: link", "mailto:taro@example.jp", "taro@example.jp", emailOK},
		{"surrounding spaces", "  taro@example.jp　", "taro@example.jp", emailOK},
		{"plus address", "taro+news@example.jp", "taro+news@example.jp", emailOK},
		{"old docomo address with doubled and trailing dots", "taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp", emailOK},
		{"old au address with leading dot", ".taro@ezweb.ne.jp", ".taro@ezweb.ne.jp", emailOK},
		{"no at sign", "taro.example.jp", "", emailInvalid},
		{"two addresses", "a@example.jp, b@example.jp", "", emailMultiple},
		{"two addresses with semicolon", "a@example.jp; b@example.jp", "", emailMultiple},
		{"domain without dot", "taro@example", "", emailNoDomain},
		{"domain label starting with hyphen", "taro@-example.jp", "", emailNoDomain},
		{"kanji local part", "山田@example.jp", "", emailNonASCII},
		{"kanji in domain", "taro@例え.jp", "", emailNonASCII},
		{"quoted local part with space", `"taro yamada"@example.jp`, "", emailQuoted},
		{"IP literal", "taro@[192.0.2.1]", "", emailIPLiteral},
		{"text that is no address", "なし", "", emailNonASCII},
		{"dash placeholder", "-", "", emailInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := normalizeEmail(tt.in)
			assert.Equal(t, tt.problem, problem)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name, in, region string
		want             phoneResult
		ok               bool
	}{
		{"mobile with hyphens", "090-1234-5678", "JP", phoneResult{e164: "+819012345678"}, true},
		{"full-width digits and hyphens", "０９０－１２３４－５６７８", "JP", phoneResult{e164: "+819012345678"}, true},
		{"long vowel marks as hyphens", "090ー1234ー5678", "JP", phoneResult{e164: "+819012345678"}, true},
		{"dashes and minus signs", "090‐1234−5678", "JP", phoneResult{e164: "+819012345678"}, true},
		{"Tokyo landline with parentheses", "(03)1234-5678", "JP", phoneResult{e164: "+81312345678"}, true},
		{"free dial", "0120-123-456", "JP", phoneResult{e164: "+81120123456"}, true},
		{"Japanese international form", "+81 90-1234-5678", "JP", phoneResult{e164: "+819012345678"}, true},
		{"US number kept", "+1 415 555 0100", "JP", phoneResult{e164: "+14155550100"}, true},
		{"UK number kept", "+44 20 7946 0000", "JP", phoneResult{e164: "+442079460000"}, true},
		{"national number without trunk zero (from a spreadsheet number cell)", "9012345678", "JP", phoneResult{e164: "+819012345678"}, true},
		{"unassigned demo range accepted but flagged", "090-0000-0001", "JP", phoneResult{e164: "+819000000001", unassigned: true}, true},
		{"extension dropped and flagged", "03-1234-5678 内線12", "JP", phoneResult{e164: "+81312345678", extension: true}, true},
		{"tel: link", "tel:+81-3-1234-5678", "JP", phoneResult{e164: "+81312345678"}, true},
		{"US region national form", "(415) 555-0100", "US", phoneResult{e164: "+14155550100"}, true},
		{"too short", "090-12", "JP", phoneResult{}, false},
		{"too long", "090-1234-5678-9999", "JP", phoneResult{}, false},
		{"not a number", "なし", "JP", phoneResult{}, false},
		{"letters", "abc", "JP", phoneResult{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := normalizePhone(tt.in, tt.region)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestFastJapaneseAgreesWithParse holds the fast path to what
// phonenumbers.Parse makes of the same text, over every two-digit prefix
// and random numbers in every separator style the fast path accepts.
func TestFastJapaneseAgreesWithParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	styles := []func(d string) string{
		func(d string) string { return d },
		func(d string) string { return d[:3] + "-" + d[3:7] + "-" + d[7:] },
		func(d string) string { return "(" + d[:2] + ")" + d[2:6] + "-" + d[6:] },
		func(d string) string { return d[:3] + " " + d[3:7] + " " + d[7:] },
		func(d string) string { return d[:3] + "." + d[3:7] + "." + d[7:] },
		func(d string) string { return d[:3] + "--" + d[3:] + "-" },
		func(d string) string { return ")" + d + "(" },
	}
	checked, total := 0, 0
	try := func(s string) {
		total++
		fast, ok := fastJapanese(s, "JP")
		if !ok {
			return
		}
		checked++
		slow, err := phonenumbers.Parse(s, "JP")
		if !assert.NoError(t, err, "Parse(%q)", s) {
			return
		}
		assert.Equal(t, phonenumbers.Format(slow, phonenumbers.E164), phonenumbers.Format(fast, phonenumbers.E164), "%q", s)
		assert.Equal(t, phonenumbers.IsPossibleNumberWithReason(slow), phonenumbers.IsPossibleNumberWithReason(fast), "%q", s)
		assert.Equal(t, phonenumbers.IsValidNumber(slow), phonenumbers.IsValidNumber(fast), "%q", s)
		assert.Equal(t, slow.GetExtension(), fast.GetExtension(), "%q", s)
	}
	digits := func(prefix string, length int) string {
		d := prefix
		for len(d) < length {
			d += string(rune('0' + rng.IntN(10)))
		}
		return d
	}
	// Every two-digit prefix after the trunk 0, both lengths, every style.
	for p := 0; p < 100; p++ {
		for _, length := range []int{10, 11} {
			for _, style := range styles {
				try(style(digits(fmt.Sprintf("0%02d", p)[:3], length)))
			}
		}
	}
	// Common mobile, IP-phone and free-dial prefixes, at random.
	for _, prefix := range []string{"090", "080", "070", "050", "0120", "0800", "03", "06"} {
		for range 100 {
			try(styles[rng.IntN(len(styles))](digits(prefix, 10+rng.IntN(2))))
		}
	}
	assert.Greater(t, checked, total*3/4, "the fast path must cover the common forms")

	for _, s := range []string{"+81 90 1234 5678", "03-1234-5678 ext. 1", "0012345678901", "010-1-415-555-0100", "090-1234-56", "9012345678"} {
		_, ok := fastJapanese(s, "JP")
		assert.False(t, ok, "%q must take the slow path", s)
	}
	_, ok := fastJapanese("090-1234-5678", "US")
	assert.False(t, ok, "only region JP has a fast path")
}

func TestNormalizePostalCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1000001", "100-0001"},
		{"100-0001", "100-0001"},
		{"〒１００－０００１", "100-0001"},
		{"〒 100-0001", "100-0001"},
		{"SW1A 1AA", "SW1A 1AA"}, // not Japanese: kept
		{"94105", "94105"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, normalizePostalCode(tt.in), "normalizePostalCode(%q)", tt.in)
	}
}

func TestValidTimeZone(t *testing.T) {
	for _, z := range []string{"Asia/Tokyo", "America/New_York", "UTC"} {
		assert.True(t, validTimeZone(z), z)
	}
	for _, z := range []string{"", "JST", "Local", "Asia/Nowhere", "Asia Tokyo", "../etc/passwd"} {
		assert.False(t, validTimeZone(z), z)
	}
}

func TestHeaderAliases(t *testing.T) {
	tests := []struct {
		header string
		want   field
	}{
		{"氏名", fieldName}, {"名前", fieldName}, {"お名前", fieldName}, {"Name", fieldName}, {"FULL_NAME", fieldName},
		{"氏名（漢字）", fieldName}, {"氏名※必須", fieldName},
		{"姓", fieldNamePart}, {"名", fieldNamePart}, {"Last Name", fieldNamePart},
		{"フリガナ", fieldKana}, {"ﾌﾘｶﾞﾅ", fieldKana}, {"ふりがな", fieldKana}, {"カナ", fieldKana}, {"Kana", fieldKana},
		{"セイ", fieldKanaPart}, {"メイ", fieldKanaPart},
		{"email", fieldEmail}, {"E-mail", fieldEmail}, {"E-Mail Address", fieldEmail}, {"メールアドレス", fieldEmail},
		{"メール", fieldEmail}, {"ｅメール", fieldEmail}, {"Ｅメールアドレス", fieldEmail}, {"メールアドレス（必須）", fieldEmail},
		{"phone", fieldPhone}, {"TEL", fieldPhone}, {"Tel.", fieldPhone}, {"電話番号", fieldPhone}, {"携帯電話", fieldPhone},
		{"携帯番号", fieldPhone}, {"Phone Number", fieldPhone}, {"ＴＥＬ", fieldPhone},
		{"postal_code", fieldPostalCode}, {"ZIP", fieldPostalCode}, {"郵便番号", fieldPostalCode}, {"〒", fieldPostalCode},
		{"address", fieldAddress}, {"住所", fieldAddress}, {"住所1", fieldAddress}, {"都道府県", fieldAddress},
		{"time_zone", fieldTimeZone}, {"Time Zone", fieldTimeZone}, {"タイムゾーン", fieldTimeZone},
		{"会員番号", fieldUnknown}, {"No.", fieldUnknown}, {"備考", fieldUnknown}, {"", fieldUnknown},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, aliasIndex[headerKey(tt.header)], "header %q", tt.header)
	}
}
