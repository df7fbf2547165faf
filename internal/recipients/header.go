package recipients

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// field is what a column holds.
type field int

const (
	fieldUnknown field = iota
	fieldName
	fieldNamePart // family or given name; joined in column order when there is no full name
	fieldKana
	fieldKanaPart
	fieldEmail
	fieldPhone
	fieldPostalCode
	fieldAddress // several address columns are joined in column order
	fieldTimeZone
	numFields
)

// String is the field's name in Report.Columns and docs/recipients.md.
func (f field) String() string {
	return [...]string{"", "name", "name_part", "kana", "kana_part", "email", "phone", "postal_code", "address", "time_zone"}[f]
}

// headerAliases lists the header names each field is recognised by. They
// are matched after headerKey, so case, spaces, underscores, hyphens, dots,
// brackets, full-width forms and a trailing 必須/任意/required/optional do
// not matter. Keep docs/recipients.md in step.
var headerAliases = map[field][]string{
	fieldName: {
		"name", "full name", "氏名", "名前", "お名前", "おなまえ", "氏名(漢字)", "名前(漢字)",
		"宛名", "宛先名", "お客様名", "顧客名", "会員名", "利用者名",
	},
	fieldNamePart: {
		"family name", "last name", "surname", "first name", "given name",
		"姓", "氏", "苗字", "名字", "名",
	},
	fieldKana: {
		"kana", "furigana", "name kana", "フリガナ", "ふりがな", "カナ", "かな", "よみがな", "読み仮名",
		"氏名カナ", "氏名(カナ)", "氏名フリガナ", "氏名(フリガナ)", "氏名ふりがな", "名前カナ", "名前フリガナ",
		"フリガナ氏名", "カナ氏名", "お名前フリガナ", "お名前(フリガナ)", "お名前カナ",
	},
	fieldKanaPart: {
		"セイ", "せい", "メイ", "めい", "姓カナ", "名カナ", "姓フリガナ", "名フリガナ",
		"family name kana", "last name kana", "first name kana", "given name kana",
	},
	fieldEmail: {
		"email", "e-mail", "mail", "email address", "e-mail address", "mail address",
		"メールアドレス", "メール", "eメール", "eメールアドレス", "電子メール", "電子メールアドレス",
		"メアド", "pcメール", "pcメールアドレス", "携帯メール", "携帯メールアドレス", "連絡先メールアドレス",
	},
	fieldPhone: {
		"phone", "tel", "telephone", "phone number", "tel no", "telephone number",
		"mobile", "mobile phone", "cell", "cell phone", "cellphone",
		"電話番号", "電話", "tel番号", "携帯電話", "携帯電話番号", "携帯番号", "携帯",
		"自宅電話", "自宅電話番号", "連絡先電話番号", "電話番号(携帯)", "電話番号(自宅)",
	},
	fieldPostalCode: {
		"postal code", "postcode", "zip", "zip code", "郵便番号", "〒", "郵便",
	},
	fieldAddress: {
		"address", "address1", "address2", "address3", "address line 1", "address line 2", "street address",
		"prefecture", "city", "street", "building",
		"住所", "ご住所", "現住所", "所在地", "住所1", "住所2", "住所3",
		"都道府県", "市区町村", "町名番地", "番地", "建物名", "住所(番地)", "住所(建物名)",
	},
	fieldTimeZone: {
		"time zone", "timezone", "tz", "タイムゾーン",
	},
}

var aliasIndex = func() map[string]field {
	m := make(map[string]field)
	for f, names := range headerAliases {
		for _, n := range names {
			k := headerKey(n)
			if prev, dup := m[k]; dup && prev != f {
				panic("recipients: header alias " + n + " names two fields")
			}
			m[k] = f
		}
	}
	return m
}()

// headerKey normalises a header cell for matching.
func headerKey(s string) string {
	s = strings.ToLower(foldText(s))
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || strings.ContainsRune("_-.・:()[]{}<>【】「」『』*※\"'/", r) {
			continue
		}
		b.WriteRune(r)
	}
	k := b.String()
	for _, suffix := range []string{"必須", "任意", "required", "optional"} {
		if t := strings.TrimSuffix(k, suffix); t != "" {
			k = t
		}
	}
	return k
}

// column is one column of the header.
type column struct {
	index int    // 1-based
	name  string // as written (folded, trimmed), safe to print
	field field
}

// layout maps the columns of a header to fields.
type layout struct {
	columns []column
	byField [numFields][]int // column positions (0-based) per field, in column order
}

func newLayout(cells []string) layout {
	var l layout
	for i, c := range cells {
		name := displayName(c)
		f := aliasIndex[headerKey(c)]
		l.columns = append(l.columns, column{index: i + 1, name: name, field: f})
		if f != fieldUnknown {
			l.byField[f] = append(l.byField[f], i)
		}
	}
	return l
}

// hasContact reports whether the header has an e-mail or a phone column.
func (l layout) hasContact() bool {
	return len(l.byField[fieldEmail]) > 0 || len(l.byField[fieldPhone]) > 0
}

// displayName is a header cell as reports print it: folded, valid UTF-8,
// at most 40 characters.
func displayName(s string) string {
	s = foldText(strings.ToValidUTF8(s, "\uFFFD"))
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:40]) + "…"
	}
	return s
}
