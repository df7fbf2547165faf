package contentscan_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/breachflow/breachflow/internal/contentscan"
)

// FuzzScan checks, for any text: the scan does not panic; an address or
// number of somebody else, put anywhere in the text between spaces, is
// always refused; and a refusal never quotes it.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"",
		"お客様各位\n\nこのたびはご迷惑をおかけし、深くお詫び申し上げます。\n電話: 0120-123-456\n",
		"Dear customer,\nWe apologise.\nE-mail: privacy@example.co.jp\n",
		"山田 太郎 様\n佐藤 花子 様\n",
		"a,b\nc,d\n",
		"1,016件 / 13,011件",
		"INC-20261116-7QK2ZP R00007 2026-11-16 10:00-17:00",
		"ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ ０９０−１２３４",
		"<p>privacy&#64;example.co.jp</p>",
		"+81 (0)3-1234-5678 +1 (415) 555-0100",
		"\xff\xfe invalid",
	} {
		f.Add(s, uint16(0))
		f.Add(s, uint16(len(s)/2))
	}
	const (
		victimEmail = "victim.user@leak.example.net"
		victimPhone = "090-8765-4321"
	)
	f.Fuzz(func(t *testing.T, text string, at uint16) {
		r := contentscan.Scan(contentscan.Message{To: []string{"hanako@example.jp"}, Subject: "お知らせ", Text: text, HTML: text}, org)
		_ = r.Err()

		// Insert the victim's contacts at a rune boundary.
		pos := int(at) % (len(text) + 1)
		for pos > 0 && pos < len(text) && !utf8.RuneStart(text[pos]) {
			pos--
		}
		for _, c := range []struct {
			insert string
			rule   contentscan.Rule
		}{{victimEmail, contentscan.RuleEmail}, {victimPhone, contentscan.RulePhone}} {
			leaked := text[:pos] + " " + c.insert + " " + text[pos:]
			r := contentscan.Scan(contentscan.Message{To: []string{"hanako@example.jp"}, Subject: "お知らせ", Text: leaked}, org)
			if r.OK() {
				t.Fatalf("%q with %s inserted at %d was allowed", text, c.rule, pos)
			}
			if utf8.ValidString(text) && !has(r, c.rule) {
				t.Fatalf("%q with %s inserted at %d: rules %v, want %q", text, c.rule, pos, rules(r), c.rule)
			}
			if msg := r.Err().Error(); strings.Contains(msg, c.insert) || strings.Contains(msg, "victim") {
				t.Fatalf("the refusal quotes what it found: %s", msg)
			}
		}
	})
}
