package contentscan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/contentscan"
)

// members is an incident's own people: the wrong recipients and the
// affected of a members' notice (fictitious).
var members = []contentscan.Person{
	{Name: "佐藤 美咲", Kana: "サトウ ミサキ", Email: "misaki.sato@example.jp", Phone: "090-1234-5678", Address: "東京都新宿区西新宿2-8-1 サンプルマンション101"},
	{Name: "鈴木健太", Kana: "すずき けんた", Email: "kenta.suzuki@example.jp", Phone: "+81 80 2222 3333", Address: "大阪府大阪市北区梅田1-1-1"},
	{Name: "高橋 陽子", Kana: "タカハシ ヨウコ", Email: "yoko-t@example.ne.jp", Phone: "03-5555-0101", Address: "〒060-0001 北海道札幌市中央区北1条西2丁目"},
	{Name: "Hanako Yamada", Email: "h.yamada@example.com", Phone: "(045) 111-2222"},
}

// the organisation's published contacts and address.
var published = []string{"privacy@example.co.jp", "0120-123-456", "東京都千代田区丸の内1-1-1"}

func newMembers() (*contentscan.People, []int32) {
	p := contentscan.NewPeople()
	ids := make([]int32, len(members))
	for k, m := range members {
		ids[k] = p.Add(m)
	}
	p.Allow(published...)
	return p, ids
}

// Normalisation: each way a listed person's data can be written is found,
// and the finding says where and which kind, never what.
func TestPeople_FindsOtherPeoplesDataHoweverWritten(t *testing.T) {
	p, ids := newMembers()
	self := ids[3] // the message goes to Hanako Yamada
	tests := []struct {
		name, text string
		want       contentscan.Rule
		line, col  int
	}{
		// The walkthrough's leak, and the disguises of "@" and ".".
		{"an address with ☆ for @ (the walkthrough)", "お問い合わせは kenta.suzuki☆example.jp まで", contentscan.RulePersonEmail, 1, 9},
		{"★ for @", "kenta.suzuki★example.jp", contentscan.RulePersonEmail, 1, 1},
		{"full-width ＠ and letters", "ｋｅｎｔａ．ｓｕｚｕｋｉ＠ｅｘａｍｐｌｅ．ｊｐ", contentscan.RulePersonEmail, 1, 1},
		{"[at] and [dot]", "kenta.suzuki[at]example[dot]jp", contentscan.RulePersonEmail, 1, 1},
		{"(at) and (dot)", "kenta.suzuki(at)example(dot)jp", contentscan.RulePersonEmail, 1, 1},
		{"spelled out at and dot", "write to kenta.suzuki at example dot jp", contentscan.RulePersonEmail, 1, 10},
		{"upper case", "KENTA.SUZUKI@EXAMPLE.JP", contentscan.RulePersonEmail, 1, 1},
		{"broken over two lines", "ご連絡先: kenta.suzuki@\nexample.jp", contentscan.RulePersonEmail, 1, 7},
		// Names and their readings.
		{"a name without its space", "本件は佐藤美咲の件です", contentscan.RulePersonName, 1, 4},
		{"a name with a full-width space", "佐藤　美咲 様", contentscan.RulePersonName, 1, 1},
		{"a name listed without a space", "鈴木健太", contentscan.RulePersonName, 1, 1},
		{"kana in katakana", "サトウミサキ", contentscan.RulePersonKana, 1, 1},
		{"kana in hiragana", "すずきけんた", contentscan.RulePersonKana, 1, 1},
		{"half-width katakana", "ﾀｶﾊｼ ﾖｳｺ", contentscan.RulePersonKana, 1, 1},
		// Phone numbers in any form.
		{"a number with hyphens", "090-1234-5678", contentscan.RulePersonPhone, 1, 1},
		{"the same without them", "09012345678", contentscan.RulePersonPhone, 1, 1},
		{"full-width digits", "０９０ １２３４ ５６７８", contentscan.RulePersonPhone, 1, 1},
		{"international form of a national number", "+81 90-1234-5678", contentscan.RulePersonPhone, 1, 2},
		{"national form of an international number", "080-2222-3333", contentscan.RulePersonPhone, 1, 1},
		{"brackets", "(03) 5555-0101", contentscan.RulePersonPhone, 1, 2},
		// Postal addresses, whole or broken.
		{"an address", "送付先 大阪府大阪市北区梅田1-1-1", contentscan.RulePersonAddress, 1, 5},
		{"an address over two lines", "東京都新宿区西新宿\n2-8-1 サンプルマンション101", contentscan.RulePersonAddress, 1, 1},
		{"an address in full-width digits", "北海道札幌市中央区北１条西２丁目", contentscan.RulePersonAddress, 1, 1},
		{"on the third line", "お知らせ\n\n鈴木 健太 様", contentscan.RulePersonName, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := p.Check("text", tt.text, self)
			if len(f) == 0 {
				t.Fatalf("not found in %q", tt.text)
			}
			if f[0].Rule != tt.want || f[0].Line != tt.line || f[0].Col != tt.col {
				t.Errorf("first finding %+v, want %s at %d:%d", f[0], tt.want, tt.line, tt.col)
			}
			for _, x := range f {
				for _, m := range members {
					for _, v := range []string{m.Name, m.Kana, m.Email, m.Phone, m.Address} {
						if v != "" && strings.Contains(x.String(), v) {
							t.Errorf("finding %q quotes %q", x, v)
						}
					}
				}
			}
		})
	}
}

// What a message may hold: its own recipient's data, the organisation's
// published contacts and address, and everything a clean notice says.
func TestPeople_AllowsTheRecipientTheOrganisationAndCleanNotices(t *testing.T) {
	p, ids := newMembers()
	tests := []struct {
		name string
		self int32
		text string
	}{
		{"the recipient's own name, kana, address, number and e-mail", ids[0],
			"佐藤 美咲 様（サトウ ミサキ 様）\nご登録の住所: 東京都新宿区西新宿2-8-1 サンプルマンション101\n電話 090-1234-5678、メール misaki.sato@example.jp"},
		{"a clean notice with counts, dates and the company's contacts", contentscan.NoSelf,
			"お客様各位\n\n2026年11月12日、弊社が送信したメールマガジンにおいて、13,011名様のメールアドレスが他の受信者に表示される状態となっておりました。\n" +
				"深くお詫び申し上げます。\nお問い合わせ: privacy@example.co.jp / 0120-123-456（平日10:00〜17:00）\n本社: 東京都千代田区丸の内1-1-1\n受付番号 INC-20261112-7QK2ZP"},
		{"a clean English notice", contentscan.NoSelf,
			"Dear customer,\n\nOn 12 November 2026 we sent a newsletter that showed 1,016 addresses. Contact privacy@example.co.jp or 0120-123-456."},
		{"an ordinary word that is part of nothing", contentscan.NoSelf, "佐藤製菓の新商品と鈴木の件"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f := p.Check("text", tt.text, tt.self); len(f) > 0 {
				t.Errorf("refused: %v", f)
			}
		})
	}
}

// Two people with the same name: the name is the recipient's own (allowed
// in their message), and another's in anybody else's.
func TestPeople_ASharedNameIsEachOwnersOwn(t *testing.T) {
	p := contentscan.NewPeople()
	a := p.Add(contentscan.Person{Name: "田中 一郎"})
	b := p.Add(contentscan.Person{Name: "田中一郎"})
	c := p.Add(contentscan.Person{Name: "山本 花子"})
	for _, self := range []int32{a, b} {
		if f := p.Check("text", "田中一郎 様", self); len(f) != 0 {
			t.Errorf("self %d: %v", self, f)
		}
	}
	if f := p.Check("text", "田中一郎 様", c); len(f) != 1 || f[0].Rule != contentscan.RulePersonName {
		t.Errorf("to another person: %v", f)
	}
}

// Many people's data in one part: the first few are listed, the rest
// counted.
func TestPeople_ManyFindingsAreCounted(t *testing.T) {
	p := contentscan.NewPeople()
	var text strings.Builder
	for k := range 50 {
		e := fmt.Sprintf("member%03d@example.jp", k)
		p.Add(contentscan.Person{Email: e})
		fmt.Fprintf(&text, "%s ", strings.ReplaceAll(e, "@", "☆"))
	}
	f := p.Check("html", text.String(), contentscan.NoSelf)
	if len(f) != 4 || !strings.Contains(f[3].Detail, "50 such values") {
		t.Errorf("findings %v", f)
	}
}

// The walkthrough's second leak: three names with 様 on one line passed
// the structural rules, in kanji and in kana.
func TestScan_SeveralNamesWithHonorificsOnOneLine(t *testing.T) {
	tests := []struct {
		name, text string
		refused    bool
	}{
		{"three names with 様 on one line", "佐藤美咲様、鈴木健太様、高橋陽子様", true},
		{"with spaces and commas", "佐藤 美咲 様, 鈴木 健太 様", true},
		{"in kana", "サトウ ミサキ様、スズキ ケンタ様", true},
		{"さん", "美咲さん／健太さん／陽子さん", true},
		{"one person", "佐藤美咲様、いつもありがとうございます", false},
		{"salutations", "お客様、会員の皆様", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := contentscan.ScanContent("お知らせ", "お知らせ\n"+tt.text+"\n以上", "", nil, org)
			if got := has(r, contentscan.RuleList); got != tt.refused {
				t.Errorf("refused %v, want %v: %v", got, tt.refused, r.Findings)
			}
		})
	}
}

// A short Latin name is not looked for inside words: folded text has no
// spaces, and "Tom Ng" would otherwise be found in "customers".
func TestPeople_ShortLatinNamesDoNotMatchInsideWords(t *testing.T) {
	p := contentscan.NewPeople()
	p.Add(contentscan.Person{Name: "Tom Ng"})
	p.Add(contentscan.Person{Name: "Hanako Yamada"})
	if f := p.Check("text", "Dear customers, thank you for using our services.", contentscan.NoSelf); len(f) != 0 {
		t.Errorf("refused: %v", f)
	}
	if f := p.Check("text", "Dear Hanako Yamada,", contentscan.NoSelf); len(f) != 1 {
		t.Errorf("findings %v, want the long Latin name", f)
	}
}
