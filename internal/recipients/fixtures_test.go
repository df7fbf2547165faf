package recipients

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// The files under testdata/ and runbooks/examples/ are generated from this
// file so that their bytes (real CP932 included) are reviewable as Go
// strings. `go test -run TestFixtures -update` rewrites them; otherwise
// TestFixtures fails when they drift.
var update = flag.Bool("update", false, "rewrite generated test fixtures, examples and golden files")

const examplesDir = "../../runbooks/examples"

// sjis encodes UTF-8 text as CP932, panicking on anything it cannot encode
// (a fixture bug).
func sjis(s string) []byte {
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(fmt.Sprintf("fixture text not encodable in Shift_JIS: %v", err))
	}
	return b
}

// sjisBadRowsCSV is testdata/shift_jis_bad_rows.csv: CP932 with CRLF line
// ends (as Excel writes it), the NEC (①) and IBM (髙) extensions, full-width
// digits, and bad rows whose lines TestCheckShiftJISFixture knows.
func sjisBadRowsCSV() []byte {
	var b bytes.Buffer
	lines := []string{
		/* 1 */ "No.,氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所",
		/* 2 */ "1,架空 一郎,カクウ イチロウ,ichiro@example.jp,090-1234-0001,〒１００－０００１,東京都架空区見本町１－１",
		/* 3 */ "2,見本　花子,ﾐﾎﾝ ﾊﾅｺ,ｈａｎａｋｏ＠ＥＸＡＭＰＬＥ．ＪＰ,０９０ー１２３４ー０００２,1000002,東京都架空区見本町１－２　架空ビル①",
		/* 4 */ "3,髙橋 試験,タカハシ シケン,,03-1234-0003,,",
		/* 5 */ "4,例示 三郎,レイジ サブロウ,saburo@example,090-1234-0004,,", // e-mail without a complete domain
		/* 6 */ "5,例示 四郎,レイジ シロウ,,090-12,,", // phone too short
		/* 7 */ "6,架空 一郎,カクウ イチロウ,ICHIRO@example.jp,,,", // duplicate of line 2 by e-mail
		/* 8 */ "7,仮名 五郎,カメイ ゴロウ,,,,", // no contact
		/* 9 */ "8,仮名 六郎,カメイ ロクロウ,rokuro@example.jp", // short row
	}
	for _, l := range lines {
		b.Write(sjis(l))
		b.WriteString("\r\n")
	}
	// 10: a name with bytes that are not Shift_JIS (0x82 0xFF, 0xFD).
	b.WriteString("9,")
	b.Write([]byte{0x89, 0xBC, 0x82, 0xFF, 0xFD})
	b.WriteString(",,nana@example.jp,,,\r\n")
	for _, l := range []string{
		/* 11-12 */ "10,仮名 八郎,\"カメイ\r\nハチロウ\",hachiro@example.jp,,,\"東京都架空区", // multi-line fields
		/* 13 */ "見本町８－８\"",
		/* 14 */ "",
		/* 15 */ "11,架空 花子,カクウ ハナコ,,090-1234-0001,,", // shares line 2's phone, another name: a person of her own
		/* 16 */ "12,架空　一郎,,,+81 90-1234-0001,,", // line 2's phone and name: duplicate, by phone
		/* 17 */ "13,例示 九郎,レイジ クロウ,kuro@example.jp,090-0000-0099,,", // unassigned range: accepted, warned
	} {
		b.Write(sjis(l))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// Fictitious people for the examples: family names that say "fictitious",
// "sample", "test", "example" and "pseudonym", addresses in a ward that does
// not exist, postal codes in the unassigned 000 range, mobile numbers in the
// unassigned 090-0000 range and e-mail at example.jp (RFC 2606).
var (
	demoFamily = []struct{ kanji, kana string }{
		{"架空", "カクウ"}, {"見本", "ミホン"}, {"試験", "シケン"}, {"例示", "レイジ"}, {"仮名", "カメイ"},
	}
	demoGiven = []struct{ kanji, kana string }{
		{"太郎", "タロウ"}, {"花子", "ハナコ"}, {"一郎", "イチロウ"}, {"次郎", "ジロウ"}, {"三郎", "サブロウ"},
		{"桜", "サクラ"}, {"楓", "カエデ"}, {"葵", "アオイ"}, {"蓮", "レン"}, {"湊", "ミナト"}, {"陽菜", "ヒナ"},
	}
)

func demoPerson(i int) (name, kana string) {
	f := demoFamily[i%len(demoFamily)]
	g := demoGiven[i%len(demoGiven)]
	return f.kanji + " " + g.kanji, f.kana + " " + g.kana
}

// missend53CSV is the recipient list of seed 000: 53 wrong recipients.
func missend53CSV() []byte {
	var b strings.Builder
	b.WriteString("氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所\n")
	for i := 1; i <= 53; i++ {
		name, kana := demoPerson(i - 1)
		fmt.Fprintf(&b, "%s,%s,member%02d@example.jp,090-0000-%04d,000-%04d,東京都架空区見本町%d-%d\n",
			name, kana, i, i, i, (i-1)/10+1, i)
	}
	return []byte(b.String())
}

// visible29CSV is the list of seed 003: 29 subscribers, e-mail only.
func visible29CSV() []byte {
	var b strings.Builder
	b.WriteString("氏名,メールアドレス\n")
	for i := 1; i <= 29; i++ {
		name, _ := demoPerson(i + 6)
		fmt.Fprintf(&b, "%s,subscriber%02d@example.jp\n", name, i)
	}
	return []byte(b.String())
}

// brokenSJISCSV is a small Shift_JIS example with a few bad rows, for
// trying `starter recipients check`.
func brokenSJISCSV() []byte {
	var b bytes.Buffer
	for _, l := range []string{
		"氏名,フリガナ,メールアドレス,電話番号",
		"架空 太郎,カクウ タロウ,taro@example.jp,090-0000-0101",
		"見本 花子,ミホン ハナコ,hanako@example,090-0000-0102", // e-mail without a complete domain
		"試験 一郎,シケン イチロウ,,03-00",                      // phone too short
		"例示 次郎,レイジ ジロウ,jiro@example.jp,090-0000-0104",
		"仮名 三郎,カメイ サブロウ,,",                                  // no contact
		"架空 太郎,カクウ タロウ,TARO@example.jp,",                    // duplicate of line 2
		"見本 桜,ミホン サクラ,sakura@example.jp,090-0000-0107,余分な列", // a field too many
	} {
		b.Write(sjis(l))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// fuzzSeeds are the committed seed corpus of FuzzCheck.
func fuzzSeeds() map[string]struct {
	data []byte
	enc  byte
} {
	type seed = struct {
		data []byte
		enc  byte
	}
	return map[string]seed{
		"utf8-japanese-header": {[]byte("氏名,メールアドレス,電話番号\n架空 太郎,taro@example.jp,090-0000-0001\n見本 花子,,03-1234-5678\n"), 0},
		"english-header-bom":   {append(append([]byte{}, bomUTF8...), "Name,E-mail,Phone\r\nA,a@example.com,+1 415 555 0100\r\n"...), 0},
		"multiline-quotes":     {[]byte("name,email\n\"a\nb\",a@example.jp\n\"c\"\"d\",c@example.jp\n"), 1},
		"unclosed-quote":       {[]byte("name,email\n\"a,a@example.jp\nb,b@example.jp\n"), 0},
		"bare-quote":           {[]byte("name,email\na\"b,a@example.jp\n"), 0},
		"blank-and-short":      {[]byte("name,email,phone\n\n,,\nx\ny,y@example.jp,090-1234-5678,extra\n"), 0},
		"duplicates":           {[]byte("name,email,phone\nA,a@example.jp,\nA,,090-1234-5678\nA,A@EXAMPLE.JP,090-1234-5678\nB,,090-1234-5678\n"), 0},
		"shift-jis":            {brokenSJISCSV(), 2},
		"shift-jis-invalid":    {append(sjis("氏名,メール\n"), 0x82, 0xFF, ',', 'a', '@', 'b', '.', 'j', 'p', '\n'), 0},
		"no-header":            {[]byte("taro@example.jp\n"), 0},
		"xlsx-magic":           {[]byte("PK\x03\x04garbage"), 0},
		"cr-only":              {[]byte("name,email\ra,a@example.jp\r"), 0},
	}
}

func fuzzCorpusFile(data []byte, enc byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\nbyte(" + strconv.QuoteRune(rune(enc)) + ")\n")
}

func generatedFiles() map[string][]byte {
	files := map[string][]byte{
		"testdata/shift_jis_bad_rows.csv":                       sjisBadRowsCSV(),
		filepath.Join(examplesDir, "missend-53.csv"):            missend53CSV(),
		filepath.Join(examplesDir, "visible-recipients-29.csv"): visible29CSV(),
		filepath.Join(examplesDir, "broken-sjis.csv"):           brokenSJISCSV(),
	}
	for name, s := range fuzzSeeds() {
		files[filepath.Join("testdata/fuzz/FuzzCheck", name)] = fuzzCorpusFile(s.data, s.enc)
	}
	return files
}

func TestFixtures(t *testing.T) {
	for path, want := range generatedFiles() {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test -run TestFixtures -update)", path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its generator in fixtures_test.go (run go test -run TestFixtures -update)", path)
		}
	}
}
