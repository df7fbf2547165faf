package letters_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/breachflow/breachflow/internal/letters"
)

var jst = time.FixedZone("JST", 9*3600)

// seed002 is the letter of seed 002 (7/8: 内容証明 to every broker selling
// the list), to a fictitious broker.
func seed002() letters.CeaseAndDesist {
	return letters.CeaseAndDesist{
		Date:      time.Date(2026, 7, 8, 10, 0, 0, 0, jst),
		Reference: "INC-20260626-BRK002/broker/B003",
		To:        letters.Party{Name: "株式会社名簿センター", Representative: "代表取締役 名簿一郎", PostalCode: "160-0022", Address: "東京都新宿区新宿9-9-9"},
		From: letters.Party{Name: "株式会社サンプル教育", Representative: "代表取締役社長 見本太郎", PostalCode: "700-0000",
			Address: "岡山県岡山市北区1-1-1", Department: "お客様本部", Phone: "0120-000-000"},
		Data:            "当社の顧客情報（子及び保護者の氏名、住所、電話番号、生年月日、性別）を含む名簿",
		Evidence:        "貴社が販売する名簿を入手して照合した結果、当社の顧客情報が含まれていることを確認いたしました",
		ReplyWithinDays: 14,
	}
}

// extract returns the text of every page of a PDF, as a PDF reader sees
// it through the embedded font's ToUnicode map.
func extract(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("parse PDF: %v", err)
	}
	rd, err := r.GetPlainText()
	if err != nil {
		t.Fatalf("extract text: %v", err)
	}
	text, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// squash removes whitespace, so text compares across line breaks.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

func TestCeaseAndDesistPDFReadsBackWithTheRequiredText(t *testing.T) {
	l, err := seed002().Render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(l.PDF, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", l.PDF[:8])
	}
	got := squash(extract(t, l.PDF))
	for _, want := range []string{
		"通知書",
		"個人データの利用停止及び消去の要請",
		"株式会社名簿センター代表取締役名簿一郎殿", // one honorific, on the person
		"株式会社サンプル教育",
		"令和8年7月8日",
		"INC-20260626-BRK002/broker/B003",
		"個人情報の保護に関する法律（以下「法」といいます。）第20条第1項の規定に違反して取得されたもの",
		"法第27条第2項ただし書",
		"オプトアウト手続",
		"法第30条第1項",
		"取得の経緯を確認しなければならず",
		"利用、販売その他第三者への提供を直ちに停止すること",
		"消去した対象、方法及び日時を書面により当社に報告すること",
		"本書面到達後14日以内",
		"個人情報保護委員会への報告及び警察への相談",
		"お客様本部（電話0120-000-000）",
		"以上",
	} {
		if !strings.Contains(got, squash(want)) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	// The PDF is small: the font is subset, not embedded whole.
	if len(l.PDF) > 400<<10 {
		t.Errorf("PDF is %d bytes: the font was not subset", len(l.PDF))
	}
}

// Content-certified mail takes at most 20 characters a line and 26 lines a
// page; the PDF has as many pages as the layout says.
func TestLayoutFitsContentCertifiedMail(t *testing.T) {
	l, err := seed002().Render()
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range l.Lines {
		if n := utf8.RuneCountInString(line); n > letters.CharsPerLine {
			t.Errorf("line %d has %d characters: %q", i+1, n, line)
		}
	}
	if want := (len(l.Lines) + letters.LinesPerPage - 1) / letters.LinesPerPage; l.Pages != want || l.Pages < 2 {
		t.Errorf("%d pages for %d lines, want %d", l.Pages, len(l.Lines), want)
	}
	r, err := pdf.NewReader(bytes.NewReader(l.PDF), int64(len(l.PDF)))
	if err != nil {
		t.Fatal(err)
	}
	if r.NumPage() != l.Pages {
		t.Errorf("the PDF has %d pages, the letter says %d", r.NumPage(), l.Pages)
	}
}

func TestLayoutKeepsPunctuationOffTheStartOfALine(t *testing.T) {
	tests := []struct {
		name string
		para string
		want []string
	}{
		{"a full stop at position 21 pulls a character down",
			"あいうえおかきくけこさしすせそたちつてと。次",
			[]string{"あいうえおかきくけこさしすせそたちつて", "と。次"}},
		{"an opening bracket never ends a line",
			"あいうえおかきくけこさしすせそたちつて（注）",
			[]string{"あいうえおかきくけこさしすせそたちつて", "（注）"}},
		{"a short paragraph stays whole", "以上", []string{"以上"}},
		{"a blank paragraph is a blank line", "", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := letters.Layout([]string{tt.para})
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("Layout = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWareki(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 7, 8, 0, 0, 0, 0, jst), "令和8年7月8日"},
		{time.Date(2019, 5, 1, 0, 0, 0, 0, jst), "令和元年5月1日"},
		{time.Date(2019, 4, 30, 23, 0, 0, 0, jst), "2019年4月30日"},
		// 2026-07-07 16:00 UTC is already the 8th in Japan.
		{time.Date(2026, 7, 7, 16, 0, 0, 0, time.UTC), "令和8年7月8日"},
	}
	for _, tt := range tests {
		if got := letters.Wareki(tt.at); got != tt.want {
			t.Errorf("Wareki(%v) = %q, want %q", tt.at, got, tt.want)
		}
	}
}

func TestIncompleteLettersAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(*letters.CeaseAndDesist)
		want   string
	}{
		{"no addressee", func(c *letters.CeaseAndDesist) { c.To.Name = " " }, "addressee's name"},
		{"no addressee address", func(c *letters.CeaseAndDesist) { c.To.Address = "" }, "addressee's address"},
		{"no sender", func(c *letters.CeaseAndDesist) { c.From.Name = "" }, "sender's name"},
		{"no data description", func(c *letters.CeaseAndDesist) { c.Data = "" }, "description of the data"},
		{"no date", func(c *letters.CeaseAndDesist) { c.Date = time.Time{} }, "date"},
		{"a line break in a field", func(c *letters.CeaseAndDesist) { c.To.Address = "東京都\n新宿区" }, "single-line"},
		{"a year to answer", func(c *letters.CeaseAndDesist) { c.ReplyWithinDays = 365 }, "reply period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := seed002()
			tt.change(&c)
			_, err := c.Render()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error %v, want one about %q", err, tt.want)
			}
		})
	}
}

// The same letter renders to the same bytes, so its SHA-256 identifies it.
func TestRenderingIsReproducible(t *testing.T) {
	a, err := seed002().Render()
	if err != nil {
		t.Fatal(err)
	}
	b, err := seed002().Render()
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != b.SHA256 {
		t.Fatalf("two renderings differ: %s vs %s", a.SHA256, b.SHA256)
	}
}

// A letter carries one honorific, as a Japanese business letter does:
// 御中 on the company when nobody is named, 殿 on the named person alone
// (never 御中 and 殿 on the same addressee).
func TestAddresseeCarriesOneHonorific(t *testing.T) {
	for _, tc := range []struct {
		name           string
		representative string
		want, never    string
	}{
		{"a named representative", "代表取締役 名簿一郎", "代表取締役 名簿一郎　殿", "御中"},
		{"the company alone", "", "株式会社名簿センター　御中", "殿"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := seed002()
			c.To.Representative = tc.representative
			text := strings.Join(c.Paragraphs(), "\n")
			head := text[:strings.Index(text, c.From.Name)] // the addressee block
			if !strings.Contains(head, tc.want) || strings.Contains(head, tc.never) {
				t.Errorf("addressee block:\n%s\nwant %q and no %q", head, tc.want, tc.never)
			}
		})
	}
}
