package letters

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// The Word file for Japan Post's e内容証明 (electronic content-certified
// mail). Japan Post takes only a Word file: 「Wordファイルで作成した内容証明
// 文書をインターネット上にアップロード」 (post.japanpost.jp/service/enaiyo/,
// read 2026-11). Its document rules, as far as they could be read, and how
// this file meets each:
//
//   - Paper and writing: A4 portrait with horizontal writing (or A4
//     landscape with vertical writing). [S] koguchi-jimusho.com
//     /knowledge/shoshiki/3.html. Here: A4 portrait, horizontal.
//   - Margins, on every page: at least 1.5 cm at the top, left and right
//     and 7 cm at the bottom of a horizontal page (the space where the
//     post office prints its certification). [S] same page. Here: 2 cm,
//     2 cm, 2 cm and 7.5 cm, so a printer's shift of a few millimetres
//     cannot break the rule (a guide warns that a margin 1 mm short is
//     refused: naiyo-syoumei.com/?p=6616).
//   - Font size: 10.5 to 450 points. [S] koguchi-jimusho.com. Here: 12 pt.
//   - Font: the service is reported to refuse unexpected fonts
//     (naiyo-syoumei.com/?p=6616) without a published list; ＭＳ 明朝, the
//     Japanese Word default serif, is named for East Asian and Latin text,
//     with Japanese as the language.
//   - Characters: JIS X 0208 levels 1 and 2 only; machine-dependent
//     characters (circled numbers, NEC and IBM extensions, 外字) may be
//     garbled in transmission. [S] office-suzuki.biz/naisho/contents06.htm.
//     Latin letters only in proper nouns, plus kana, kanji, digits,
//     brackets, punctuation and common symbols. [P] post.japanpost.jp
//     /service/fuka_service/syomei/use.html. Here: every character is
//     checked (CheckENaiyoText); a letter with another one is refused.
//   - No Word formatting: double size, bold, underline, distributed
//     alignment, centring, indentation, borders stop the conversion. [S]
//     office-suzuki.biz. Here: plain runs only; the title and 以上 are
//     placed with full-width spaces, as in the PDF.
//   - Pages: at most 5 per letter. [S] naiyou-syoumei.com/2mai (and a
//     practitioner falling back to the counter for letters of 6 pages or
//     more, blog.goo.ne.jp/yokoikatsutoshi). Here: refused above 5.
//   - Characters per line and lines per page: the counter's limits (20 × 26
//     and the like) apply to the certified copies (謄本) of paper letters,
//     not to the letter itself ([P] use.html: 「この制限は、謄本に関するもの
//     であり、内容文書には、字数・行数の制限はありません」), and e内容証明 has
//     none, only the text area the margins leave ([S] office-suzuki.biz;
//     about 1,584 characters a page as a guide, honnin-soshou.com/e-naiyou/).
//     Here: the text is broken into lines of at most WordCharsPerLine
//     characters by this package (with the same line-breaking rules as the
//     PDF) and set with exact line spacing, WordLinesPerPage lines filling
//     the text area, so the page count (and the price, charged by the page)
//     is known before upload and no word processor reflows the text.
//
// [P]: Japan Post's own page. [S]: a secondary source (a practitioner's
// page), the best found; Japan Post's operating manual was not reachable.
const (
	WordCharsPerLine = 38
	WordLinesPerPage = 30
	WordMaxPages     = 5
	// WordFont is the font named for every run.
	WordFont = "ＭＳ 明朝"
	// WordFontPoints is the text size; e内容証明 takes 10.5 to 450.
	WordFontPoints = 12.0
)

// Page geometry of the Word file in twentieths of a point (twips; 1 mm ≈
// 56.7 twips).
const (
	wordPageWidth  = 11906 // A4, 210 mm
	wordPageHeight = 16838 // A4, 297 mm
	wordMarginTop  = 1134  // 20 mm (≥ 15 mm)
	wordMarginSide = 1134  // 20 mm (≥ 15 mm), left and right
	wordMarginFoot = 4252  // 75 mm (≥ 70 mm)
	// wordLinePitch is the exact line spacing, 18.5 pt: the text area
	// (11,452 twips high) holds 30.9 lines, so 30 with room to spare.
	wordLinePitch = 370
)

// WordFile is a letter rendered as a Word file for e内容証明.
type WordFile struct {
	Docx []byte
	// Lines is the text as laid out, line by line (a page is
	// WordLinesPerPage lines).
	Lines  []string
	Pages  int
	SHA256 string
}

// RenderWord validates the letter, checks that e内容証明 can print every
// character and that it fits in WordMaxPages pages, and renders the Word
// file. The same letter gives the same bytes.
func (c CeaseAndDesist) RenderWord() (WordFile, error) {
	if err := c.Validate(); err != nil {
		return WordFile{}, fmt.Errorf("letter: %w", err)
	}
	paragraphs := c.Paragraphs()
	if err := CheckENaiyoText(strings.Join(paragraphs, "")); err != nil {
		return WordFile{}, fmt.Errorf("letter: %w", err)
	}
	lines := layout(paragraphs, WordCharsPerLine)
	pages := (len(lines) + WordLinesPerPage - 1) / WordLinesPerPage
	if pages > WordMaxPages {
		return WordFile{}, fmt.Errorf("letter: %d pages: e内容証明 takes at most %d; shorten the evidence or the data description", pages, WordMaxPages)
	}
	docx, err := c.docx(paragraphs)
	if err != nil {
		return WordFile{}, err
	}
	sum := sha256.Sum256(docx)
	return WordFile{Docx: docx, Lines: lines, Pages: pages, SHA256: hex.EncodeToString(sum[:])}, nil
}

// CheckENaiyoText reports the first character e内容証明 cannot print: one
// outside ASCII and JIS X 0208 (levels 1 and 2 and the non-kanji rows 1 to
// 8), such as a circled number (①), an IBM or NEC extension kanji (髙, 﨑),
// half-width katakana, an emoji, or a control character.
func CheckENaiyoText(s string) error {
	enc := japanese.EUCJP.NewEncoder()
	for i, r := range s {
		if r < 0x80 {
			if r < 0x20 || r == 0x7F {
				return fmt.Errorf("character %U at byte %d is a control character", r, i)
			}
			continue
		}
		b, err := enc.Bytes([]byte(string(r)))
		if err != nil || len(b) != 2 || !jisX0208Row(int(b[0])-0xA0) {
			return fmt.Errorf("character %q (%U) is outside JIS X 0208: e内容証明 may not print it; write a standard character instead (e.g. 高 for 髙, (1) for ①, full-width katakana)", r, r)
		}
	}
	return nil
}

// jisX0208Row reports whether row (区) is one JIS X 0208 assigns: 1 to 8
// (symbols, alphanumerics, kana, Greek, Cyrillic, box drawing) and 16 to
// 84 (kanji levels 1 and 2). Row 13 (NEC special characters such as ①)
// and rows 89 to 92 (NEC-selected IBM extensions) are vendor additions.
func jisX0208Row(row int) bool {
	return (row >= 1 && row <= 8) || (row >= 16 && row <= 84)
}

// Office Open XML names.
const (
	nsW          = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsRel        = "http://schemas.openxmlformats.org/package/2006/relationships"
	relOfficeDoc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
	relCoreProps = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
	relStyles    = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
	relSettings  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings"
)

// docx writes the package: content types, relationships, the document,
// its styles and settings, and the core properties (title and date).
func (c CeaseAndDesist) docx(paragraphs []string) ([]byte, error) {
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
			`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
			`<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>` +
			`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
			`</Types>`},
		{"_rels/.rels", `<Relationships xmlns="` + nsRel + `">` +
			`<Relationship Id="rId1" Type="` + relOfficeDoc + `" Target="word/document.xml"/>` +
			`<Relationship Id="rId2" Type="` + relCoreProps + `" Target="docProps/core.xml"/>` +
			`</Relationships>`},
		{"word/_rels/document.xml.rels", `<Relationships xmlns="` + nsRel + `">` +
			`<Relationship Id="rId1" Type="` + relStyles + `" Target="styles.xml"/>` +
			`<Relationship Id="rId2" Type="` + relSettings + `" Target="settings.xml"/>` +
			`</Relationships>`},
		{"word/document.xml", documentXML(paragraphs)},
		{"word/styles.xml", stylesXML()},
		{"word/settings.xml", `<w:settings xmlns:w="` + nsW + `">` +
			`<w:zoom w:percent="100"/><w:defaultTabStop w:val="840"/>` +
			// No compression of punctuation: every character keeps its full width.
			`<w:characterSpacingControl w:val="doNotCompress"/>` +
			`<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>` +
			`</w:settings>`},
		{"docProps/core.xml", `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"` +
			` xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
			`<dc:title>通知書（個人データの利用停止及び消去の要請）</dc:title>` +
			`<dc:subject>` + escape(c.Reference) + `</dc:subject>` +
			`<dc:creator>breachflow</dc:creator><dc:language>ja-JP</dc:language>` +
			`<dcterms:created xsi:type="dcterms:W3CDTF">` + c.Date.UTC().Format(time.RFC3339) + `</dcterms:created>` +
			`</cp:coreProperties>`},
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	// A fixed time: the same letter gives the same bytes.
	modified := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return nil, fmt.Errorf("letter: docx part %s: %w", p.name, err)
		}
		if _, err := io.WriteString(w, xml.Header+p.body); err != nil {
			return nil, fmt.Errorf("letter: docx part %s: %w", p.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("letter: docx: %w", err)
	}
	return b.Bytes(), nil
}

// documentXML is the body: one paragraph per paragraph of the letter, its
// lines separated by hard line breaks (so no word processor re-wraps
// them), in one plain run; then the page setup.
func documentXML(paragraphs []string) string {
	var b strings.Builder
	b.WriteString(`<w:document xmlns:w="` + nsW + `"><w:body>`)
	for _, p := range paragraphs {
		b.WriteString(`<w:p>`)
		if lines := layout([]string{p}, WordCharsPerLine); p != "" {
			b.WriteString(`<w:r>`)
			for i, l := range lines {
				if i > 0 {
					b.WriteString(`<w:br/>`)
				}
				b.WriteString(`<w:t xml:space="preserve">` + escape(l) + `</w:t>`)
			}
			b.WriteString(`</w:r>`)
		}
		b.WriteString(`</w:p>`)
	}
	fmt.Fprintf(&b, `<w:sectPr><w:pgSz w:w="%d" w:h="%d"/>`+
		`<w:pgMar w:top="%d" w:right="%d" w:bottom="%d" w:left="%d" w:header="851" w:footer="992" w:gutter="0"/>`+
		`<w:cols w:space="425"/></w:sectPr>`,
		wordPageWidth, wordPageHeight, wordMarginTop, wordMarginSide, wordMarginFoot, wordMarginSide)
	b.WriteString(`</w:body></w:document>`)
	return b.String()
}

// stylesXML sets the defaults every paragraph and run takes: the font and
// size, Japanese, exact line spacing, no space between paragraphs, no
// widow control (it would move lines between pages), and no automatic
// space between Japanese and Latin text or digits (it would widen lines).
func stylesXML() string {
	font := escape(WordFont)
	return fmt.Sprintf(`<w:styles xmlns:w="`+nsW+`"><w:docDefaults>`+
		`<w:rPrDefault><w:rPr><w:rFonts w:ascii="%[1]s" w:eastAsia="%[1]s" w:hAnsi="%[1]s" w:cs="%[1]s"/>`+
		`<w:sz w:val="%[2]d"/><w:szCs w:val="%[2]d"/><w:lang w:val="ja-JP" w:eastAsia="ja-JP"/></w:rPr></w:rPrDefault>`+
		`<w:pPrDefault><w:pPr><w:widowControl w:val="0"/><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>`+
		`<w:spacing w:before="0" w:after="0" w:line="%[3]d" w:lineRule="exact"/><w:jc w:val="left"/></w:pPr></w:pPrDefault>`+
		`</w:docDefaults>`+
		`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>`+
		`</w:styles>`, font, int(WordFontPoints*2), wordLinePitch)
}

// escape escapes text for XML character data and attribute values.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder: no error
	return b.String()
}
