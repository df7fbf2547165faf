package letters_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/breachflow/breachflow/internal/letters"
)

const nsW = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

// unzip returns the parts of a .docx by name.
func unzip(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		if _, dup := parts[f.Name]; dup {
			t.Fatalf("part %s twice", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		parts[f.Name] = body
	}
	return parts
}

// wordDoc is word/document.xml as a reader sees it.
type wordDoc struct {
	// Lines is every line of every paragraph (w:br splits a paragraph).
	Lines []string
	// Text is every w:t concatenated.
	Text string
	// Elements counts the WordprocessingML elements used, by local name.
	Elements map[string]int
	// Attrs holds the attributes of the elements named in keep, by
	// element/attribute local name (the last one seen).
	Attrs map[string]string
}

// readWord decodes a WordprocessingML part.
func readWord(t testing.TB, body []byte) wordDoc {
	t.Helper()
	d := wordDoc{Elements: map[string]int{}, Attrs: map[string]string{}}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var line strings.Builder
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("malformed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Space == nsW {
				d.Elements[el.Name.Local]++
				for _, a := range el.Attr {
					d.Attrs[el.Name.Local+"/"+a.Name.Local] = a.Value
				}
			}
			switch {
			case el.Name.Space == nsW && el.Name.Local == "t":
				inText = true
			case el.Name.Space == nsW && el.Name.Local == "br":
				d.Lines = append(d.Lines, line.String())
				line.Reset()
			}
		case xml.EndElement:
			switch {
			case el.Name.Space == nsW && el.Name.Local == "t":
				inText = false
			case el.Name.Space == nsW && el.Name.Local == "p":
				d.Lines = append(d.Lines, line.String())
				line.Reset()
			}
		case xml.CharData:
			if inText {
				line.Write(el)
				d.Text += string(el)
			}
		}
	}
	return d
}

func renderWord(t testing.TB, c letters.CeaseAndDesist) (letters.WordFile, map[string][]byte, wordDoc) {
	t.Helper()
	w, err := c.RenderWord()
	if err != nil {
		t.Fatalf("RenderWord: %v", err)
	}
	parts := unzip(t, w.Docx)
	doc, ok := parts["word/document.xml"]
	if !ok {
		t.Fatal("no word/document.xml")
	}
	return w, parts, readWord(t, doc)
}

// The Word file carries the letter's whole text, the same as the PDF's:
// who writes to whom, when, the law it cites, what it demands and by when.
func TestWordLetterReadsBackWithTheRequiredText(t *testing.T) {
	c := seed002()
	w, _, doc := renderWord(t, c)
	for _, want := range []string{
		"通知書",
		"（個人データの利用停止及び消去の要請）",
		"株式会社名簿センター代表取締役 名簿一郎　殿", // one honorific, on the person

		"〒160-0022　東京都新宿区新宿9-9-9",
		"株式会社サンプル教育",
		"代表取締役社長 見本太郎",
		"令和8年7月8日",
		"INC-20260626-BRK002/broker/B003",
		"第20条第1項の規定に違反して取得されたもの",
		"法第27条第2項ただし書により",
		"オプトアウト手続",
		"法第30条第1項により",
		"取得の経緯を確認しなければならず",
		"利用、販売その他第三者への提供を直ちに停止すること",
		"本件データを全て消去し",
		"本書面到達後14日以内に、上記の事項について書面によりご回答ください",
		"個人情報保護委員会への報告及び警察への相談",
		"お客様本部（電話0120-000-000）",
		"以上",
	} {
		if !strings.Contains(doc.Text, want) {
			t.Errorf("the Word file's text lacks %q", want)
		}
	}
	pdf, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Text, strings.Join(pdf.Lines, ""); got != want {
		t.Errorf("the Word file and the PDF differ in text:\nword %q\npdf  %q", got, want)
	}
	if got, want := strings.Join(doc.Lines, "\n"), strings.Join(w.Lines, "\n"); got != want {
		t.Errorf("the Word file's lines are not the letter's Lines:\n%s\nwant\n%s", got, want)
	}
}

// The file is a well-formed Office Open XML package: every part is
// well-formed XML with a content type, every relationship resolves to a
// part, every part but the package's own is reached by one, and the
// package's main relationship leads to a WordprocessingML document.
func TestWordLetterIsAValidOPCPackage(t *testing.T) {
	_, parts, _ := renderWord(t, seed002())

	for name, body := range parts {
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
			t.Errorf("part name %q: want a relative name with slashes", name)
		}
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("part %s is not well-formed XML: %v", name, err)
			}
		}
	}

	var types struct {
		Defaults []struct {
			Extension   string `xml:"Extension,attr"`
			ContentType string `xml:"ContentType,attr"`
		} `xml:"Default"`
		Overrides []struct {
			PartName    string `xml:"PartName,attr"`
			ContentType string `xml:"ContentType,attr"`
		} `xml:"Override"`
	}
	if err := xml.Unmarshal(parts["[Content_Types].xml"], &types); err != nil {
		t.Fatalf("[Content_Types].xml: %v", err)
	}
	contentType := func(name string) string {
		for _, o := range types.Overrides {
			if strings.EqualFold(o.PartName, "/"+name) {
				return o.ContentType
			}
		}
		for _, d := range types.Defaults {
			if strings.EqualFold(d.Extension, strings.TrimPrefix(path.Ext(name), ".")) {
				return d.ContentType
			}
		}
		return ""
	}
	for _, o := range types.Overrides {
		if _, ok := parts[strings.TrimPrefix(o.PartName, "/")]; !ok {
			t.Errorf("content type override for a missing part %s", o.PartName)
		}
	}
	for name := range parts {
		if name != "[Content_Types].xml" && contentType(name) == "" {
			t.Errorf("part %s has no content type", name)
		}
	}

	reached := map[string]bool{}
	var mainPart string
	for name, body := range parts {
		if !strings.HasSuffix(name, ".rels") {
			continue
		}
		// _rels/.rels belongs to the package; dir/_rels/x.rels to dir/x.
		source := path.Dir(path.Dir(name))
		var rels struct {
			Rels []struct {
				ID         string `xml:"Id,attr"`
				Type       string `xml:"Type,attr"`
				Target     string `xml:"Target,attr"`
				TargetMode string `xml:"TargetMode,attr"`
			} `xml:"Relationship"`
		}
		if err := xml.Unmarshal(body, &rels); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids := map[string]bool{}
		for _, r := range rels.Rels {
			if ids[r.ID] || r.ID == "" {
				t.Errorf("%s: relationship ID %q missing or repeated", name, r.ID)
			}
			ids[r.ID] = true
			if r.TargetMode == "External" {
				t.Errorf("%s: external target %s: a letter refers to nothing outside itself", name, r.Target)
				continue
			}
			target := path.Clean(path.Join(source, r.Target))
			if _, ok := parts[target]; !ok {
				t.Errorf("%s: relationship %s → %s: no such part", name, r.ID, target)
			}
			reached[target] = true
			if name == "_rels/.rels" && strings.HasSuffix(r.Type, "/relationships/officeDocument") {
				mainPart = target
			}
		}
	}
	if want := "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"; mainPart == "" || contentType(mainPart) != want {
		t.Errorf("main part %q of content type %q, want a %s", mainPart, contentType(mainPart), want)
	}
	for name := range parts {
		if name != "[Content_Types].xml" && !strings.HasSuffix(name, ".rels") && !reached[name] {
			t.Errorf("part %s is reached by no relationship", name)
		}
	}
	for _, need := range []string{"word/styles.xml", "word/settings.xml"} {
		if !reached[need] {
			t.Errorf("the document does not reach %s", need)
		}
	}
}

// e内容証明's document rules (internal/letters/docx.go gives each source):
// A4 portrait; margins of at least 1.5 cm at the top, left and right and
// 7 cm at the bottom; a font size from 10.5 to 450 points; characters of
// JIS X 0208 only; no formatting (bold, underline, centring, indentation,
// borders, tables, character scaling); at most 5 pages. The lines this
// package sets fit the text area across and down, so the page count is
// the one the letter says.
func TestWordLetterFollowsENaiyoRules(t *testing.T) {
	w, parts, doc := renderWord(t, seed002())
	styles := readWord(t, parts["word/styles.xml"])
	twips := func(where, name string) int {
		t.Helper()
		n, err := strconv.Atoi(where)
		if err != nil {
			t.Fatalf("%s = %q: %v", name, where, err)
		}
		return n
	}
	const (
		a4Width, a4Height = 11906, 16838 // twips
		cm                = 567          // twips, rounded up
	)
	pageW, pageH := twips(doc.Attrs["pgSz/w"], "page width"), twips(doc.Attrs["pgSz/h"], "page height")
	if abs(pageW-a4Width) > 20 || abs(pageH-a4Height) > 20 || doc.Attrs["pgSz/orient"] == "landscape" {
		t.Errorf("page %d × %d twips (%s): want A4 portrait", pageW, pageH, doc.Attrs["pgSz/orient"])
	}
	top, bottom := twips(doc.Attrs["pgMar/top"], "top margin"), twips(doc.Attrs["pgMar/bottom"], "bottom margin")
	left, right := twips(doc.Attrs["pgMar/left"], "left margin"), twips(doc.Attrs["pgMar/right"], "right margin")
	for _, m := range []struct {
		name     string
		got, min int
	}{{"top", top, 3 * cm / 2}, {"left", left, 3 * cm / 2}, {"right", right, 3 * cm / 2}, {"bottom", bottom, 7 * cm}} {
		if m.got < m.min {
			t.Errorf("%s margin %d twips, want at least %d", m.name, m.got, m.min)
		}
	}

	halfPoints := twips(styles.Attrs["sz/val"], "font size")
	if halfPoints < 21 || halfPoints > 900 {
		t.Errorf("font size %.1f pt, want 10.5 to 450", float64(halfPoints)/2)
	}
	if styles.Attrs["rFonts/eastAsia"] != letters.WordFont || styles.Attrs["rFonts/ascii"] != letters.WordFont {
		t.Errorf("fonts %q (East Asian) and %q (Latin), want %q", styles.Attrs["rFonts/eastAsia"], styles.Attrs["rFonts/ascii"], letters.WordFont)
	}
	if styles.Attrs["lang/eastAsia"] != "ja-JP" {
		t.Errorf("East Asian language %q, want ja-JP", styles.Attrs["lang/eastAsia"])
	}
	for _, el := range []string{"b", "i", "u", "strike", "w", "ind", "jc", "pBdr", "bdr", "tbl", "shd", "highlight", "rFonts", "sz", "drawing", "pict", "object", "fldSimple", "instrText", "hyperlink"} {
		if doc.Elements[el] > 0 {
			t.Errorf("document.xml has %d <w:%s>: e内容証明 takes plain text", doc.Elements[el], el)
		}
	}
	if jc := styles.Attrs["jc/val"]; jc != "" && jc != "left" && jc != "start" {
		t.Errorf("default alignment %q: e内容証明 takes no centring or distribution", jc)
	}
	if err := letters.CheckENaiyoText(doc.Text); err != nil {
		t.Error(err)
	}

	// Across: the longest line, every character full-width, fits.
	textWidth := pageW - left - right
	for i, l := range doc.Lines {
		n := utf8.RuneCountInString(l)
		if n > letters.WordCharsPerLine || n*halfPoints*10 > textWidth {
			t.Errorf("line %d has %d characters (%d twips, text area %d): %q", i+1, n, n*halfPoints*10, textWidth, l)
		}
	}
	// Down: exact spacing, WordLinesPerPage lines fill the text area.
	if styles.Attrs["spacing/lineRule"] != "exact" {
		t.Fatalf("line spacing rule %q, want exact", styles.Attrs["spacing/lineRule"])
	}
	pitch := twips(styles.Attrs["spacing/line"], "line spacing")
	textHeight := pageH - top - bottom
	if capacity := textHeight / pitch; capacity != letters.WordLinesPerPage {
		t.Errorf("the text area holds %d lines of %d twips, the letter counts %d a page", capacity, pitch, letters.WordLinesPerPage)
	}
	if pitch < halfPoints*10 {
		t.Errorf("line spacing %d twips below the font size", pitch)
	}
	if styles.Attrs["widowControl/val"] != "0" {
		t.Error("widow control is on: it moves lines between pages")
	}
	if want := (len(doc.Lines) + letters.WordLinesPerPage - 1) / letters.WordLinesPerPage; w.Pages != want || w.Pages > letters.WordMaxPages || w.Pages < 1 {
		t.Errorf("%d pages for %d lines, want %d and at most %d", w.Pages, len(doc.Lines), want, letters.WordMaxPages)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Broker data is text: XML's special characters are escaped, long names
// and addresses are wrapped into lines that fit, and each reads back
// exactly.
func TestWordLetterEscapesAndWrapsBrokerData(t *testing.T) {
	longAddress := strings.Repeat("東京都新宿区西新宿二丁目八番一号　", 12) + "新宿ビル<&>四階"
	tests := []struct {
		name   string
		change func(*letters.CeaseAndDesist)
		want   []string
	}{
		{"XML's special characters in the name",
			func(c *letters.CeaseAndDesist) {
				c.To.Representative = ""
				c.To.Name = `株式会社<名簿>&"データ"'販売'`
			},
			[]string{`株式会社<名簿>&"データ"'販売'　御中`}},
		{"markup in the name stays text",
			func(c *letters.CeaseAndDesist) { c.To.Representative = ""; c.To.Name = `</w:t></w:r><w:r><w:t>注入` },
			[]string{`</w:t></w:r><w:r><w:t>注入　御中`}},
		{"a CDATA end and an entity in the representative",
			func(c *letters.CeaseAndDesist) { c.To.Representative = "代表 ]]> &amp; 一郎" },
			[]string{"代表 ]]> &amp; 一郎　殿"}},
		{"a very long address",
			func(c *letters.CeaseAndDesist) { c.To.Address = longAddress },
			[]string{longAddress}},
		{"a very long name",
			func(c *letters.CeaseAndDesist) {
				c.To.Representative = ""
				c.To.Name = strings.Repeat("グローバル名簿データベースマーケティング", 5) + "株式会社"
			},
			[]string{strings.Repeat("グローバル名簿データベースマーケティング", 5) + "株式会社　御中"}},
		{"Latin letters and an ampersand in a proper noun",
			func(c *letters.CeaseAndDesist) { c.To.Representative = ""; c.To.Name = "List & Data Japan株式会社" },
			[]string{"List & Data Japan株式会社　御中"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := seed002()
			tt.change(&c)
			w, parts, doc := renderWord(t, c)
			for _, want := range tt.want {
				if !strings.Contains(doc.Text, want) {
					t.Errorf("the text lacks %q", want)
				}
			}
			raw := string(parts["word/document.xml"])
			if strings.Contains(raw, "<名簿>") || strings.Contains(raw, "<w:t>注入") || strings.Contains(raw, "]]>") {
				t.Error("broker data reached document.xml unescaped")
			}
			for i, l := range doc.Lines {
				if n := utf8.RuneCountInString(l); n > letters.WordCharsPerLine {
					t.Errorf("line %d has %d characters: %q", i+1, n, l)
				}
			}
			if w.Pages > letters.WordMaxPages {
				t.Errorf("%d pages", w.Pages)
			}
		})
	}
}

// A letter e内容証明 could not print faithfully is refused, saying why,
// rather than uploaded to be garbled or rejected.
func TestWordLetterRefusesWhatENaiyoCannotPrint(t *testing.T) {
	tests := []struct {
		name   string
		change func(*letters.CeaseAndDesist)
		want   string
	}{
		{"an IBM extension kanji in the name (髙)", func(c *letters.CeaseAndDesist) { c.To.Name = "髙橋名簿株式会社" }, "髙"},
		{"a circled number in the data", func(c *letters.CeaseAndDesist) { c.Data = "①顧客名簿" }, "①"},
		{"a Roman numeral from the NEC row", func(c *letters.CeaseAndDesist) { c.To.Address = "東京都新宿区ⅡビルＢ" }, "Ⅱ"},
		{"half-width katakana", func(c *letters.CeaseAndDesist) { c.To.Name = "ｶﾌﾞｼｷｶﾞｲｼｬﾒｲﾎﾞ" }, "ｶ"},
		{"an emoji", func(c *letters.CeaseAndDesist) { c.Evidence = "確認しました😀" }, "😀"},
		{"a control character", func(c *letters.CeaseAndDesist) { c.To.Name = "名簿\x1b[31m" }, "control characters"},
		{"more than five pages", func(c *letters.CeaseAndDesist) {
			c.Evidence = strings.Repeat("貴社が販売する名簿に当社の顧客情報が含まれていました。", 200)
		}, "at most 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := seed002()
			tt.change(&c)
			_, err := c.RenderWord()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RenderWord error %v, want one about %q", err, tt.want)
			}
		})
	}
}

func TestCheckENaiyoText(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
	}{
		{"株式会社ABC 〒160-0022 東京都新宿区新宿9-9-9", true},
		{"（）「」『』、。・ー－～！？％＆＃", true},
		{"ＡＢＣ１２３ｱ", false}, // the last one is half-width
		{"渡邊", true},       // 邊: level 2
		{"渡邉", true},       // 邉: level 2
		{"﨑", false},       // IBM extension
		{"①", false},
		{"㈱", false}, // NEC row 13: write 株式会社
		{"\t", false},
	}
	for _, tt := range tests {
		if err := letters.CheckENaiyoText(tt.text); (err == nil) != tt.ok {
			t.Errorf("CheckENaiyoText(%q) = %v, want ok=%v", tt.text, err, tt.ok)
		}
	}
}

// The same letter gives the same bytes, so its SHA-256 identifies it.
func TestWordRenderingIsReproducible(t *testing.T) {
	a, err := seed002().RenderWord()
	if err != nil {
		t.Fatal(err)
	}
	b, err := seed002().RenderWord()
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != b.SHA256 || !bytes.Equal(a.Docx, b.Docx) {
		t.Fatal("two renderings differ")
	}
}

// Whatever the broker's name and address, RenderWord either refuses or
// writes a package whose text is the letter's, with the name in it.
func FuzzRenderWord(f *testing.F) {
	f.Add("株式会社名簿センター", "東京都新宿区新宿9-9-9", "当社の顧客名簿")
	f.Add(`<&>"'`, "]]><!--", "&amp;&#0;")
	f.Add("髙", "\x00", "\xff")
	f.Add(strings.Repeat("長", 500), strings.Repeat("所", 2000), "名簿")
	f.Fuzz(func(t *testing.T, name, address, data string) {
		c := seed002()
		c.To.Name, c.To.Address, c.Data = name, address, data
		c.To.Representative = "" // the company is the addressee: 御中
		w, err := c.RenderWord()
		if err != nil {
			return
		}
		parts := unzip(t, w.Docx)
		doc := readWord(t, parts["word/document.xml"])
		if doc.Text != strings.Join(w.Lines, "") {
			t.Fatalf("text %q, lines %q", doc.Text, w.Lines)
		}
		if !strings.Contains(doc.Text, name+"　御中") {
			t.Fatalf("the name %q is not in the text", name)
		}
		for _, l := range doc.Lines {
			if utf8.RuneCountInString(l) > letters.WordCharsPerLine {
				t.Fatalf("line %q too long", l)
			}
		}
	})
}
