// Package letters renders the letters breachflow has sent by post: the
// demand to stop using and delete leaked personal data (利用停止・消去の要請)
// that goes to every list broker selling a leaked list and every company
// using it (seed 002), by content-certified mail (内容証明郵便) with proof of
// delivery (配達証明).
//
// A letter is rendered twice, with the same text:
//
//   - as a Word file (.docx, RenderWord), the file to upload to Japan
//     Post's e内容証明, which takes Word files only (docx.go says which of
//     its document rules are encoded and where they come from);
//   - as a PDF (Render), for the records and for printing, laid out as
//     content-certified mail at a post-office counter requires of a
//     horizontal text: at most 20 characters a line and 26 lines a page.
//     The Japanese font (IPAexGothic, IPA Font License, see fonts/) is
//     embedded in the binary and subset into each PDF, so rendering needs
//     nothing but the repository.
//
// The package is pure: no I/O beyond the embedded font.
package letters

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/signintech/gopdf"
)

// ipaexGothic is IPAexGothic 004.01, unmodified (fonts/README.md).
//
//go:embed fonts/ipaexg.ttf
var ipaexGothic []byte

// Layout limits of content-certified mail (内容証明), horizontal writing.
const (
	CharsPerLine = 20
	LinesPerPage = 26
)

// Party is the sender or the addressee of a letter.
type Party struct {
	// Name is the company's (or person's) name.
	Name string `json:"name"`
	// Representative is e.g. "代表取締役 山田太郎" (optional).
	Representative string `json:"representative,omitempty"`
	PostalCode     string `json:"postal_code,omitempty"` // 100-0001
	Address        string `json:"address"`
	// Department and Phone say where answers go (the sender's only).
	Department string `json:"department,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// CeaseAndDesist is the demand to stop using, stop selling and delete
// leaked personal data, citing APPI Art. 20(1) and 27(2) (no opt-out
// provision of unlawfully acquired data) and Art. 30 (the recipient's duty
// to confirm how the provider acquired it).
type CeaseAndDesist struct {
	// Date is the date of the letter; it is printed in the Japanese era
	// (令和) in Japan time.
	Date time.Time `json:"date"`
	// Reference is our reference for the case, printed in the letter so the
	// answer can be matched (e.g. the incident ID and demand ID). It must
	// hold no personal data.
	Reference string `json:"reference"`
	To        Party  `json:"to"`
	From      Party  `json:"from"`
	// Data describes the leaked data without quoting any of it, e.g.
	// "当社の顧客情報（氏名、住所、電話番号、生年月日等）を含む名簿".
	Data string `json:"data"`
	// Evidence says how we know the addressee holds, sells or uses it, e.g.
	// "貴社が販売する名簿に当社の顧客情報が含まれていることを確認いたしました" (optional).
	Evidence string `json:"evidence,omitempty"`
	// ReplyWithinDays is the answer period from receipt (default 14).
	ReplyWithinDays int `json:"reply_within_days,omitempty"`
}

// Letter is a rendered letter.
type Letter struct {
	PDF []byte
	// Lines is the text as laid out, line by line, for checking and for
	// a plain-text copy (a page is LinesPerPage lines).
	Lines  []string
	Pages  int
	SHA256 string
}

// Validate checks that the letter can be sent: every part the law and the
// post office need is there, and nothing would break the layout.
func (c CeaseAndDesist) Validate() error {
	var errs []error
	need := func(what, v string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("%s is required", what))
		}
	}
	need("the addressee's name", c.To.Name)
	need("the addressee's address", c.To.Address)
	need("the sender's name", c.From.Name)
	need("the sender's address", c.From.Address)
	need("the description of the data", c.Data)
	need("the reference", c.Reference)
	if c.Date.IsZero() {
		errs = append(errs, errors.New("the date is required"))
	}
	if c.ReplyWithinDays < 0 || c.ReplyWithinDays > 90 {
		errs = append(errs, fmt.Errorf("reply period %d days: want 1 to 90", c.ReplyWithinDays))
	}
	for _, f := range []string{c.Reference, c.To.Name, c.To.Representative, c.To.PostalCode, c.To.Address, c.From.Name,
		c.From.Representative, c.From.PostalCode, c.From.Address, c.From.Department, c.From.Phone, c.Data, c.Evidence} {
		if !utf8.ValidString(f) || strings.IndexFunc(f, unprintable) >= 0 {
			errs = append(errs, errors.New("fields must be single-line UTF-8 text without control characters"))
			break
		}
	}
	return errors.Join(errs...)
}

// Paragraphs returns the letter's text, paragraph by paragraph, before
// layout. An empty string is a blank line.
func (c CeaseAndDesist) Paragraphs() []string {
	days := c.ReplyWithinDays
	if days == 0 {
		days = 14
	}
	p := []string{
		"　　　　　　通知書",
		"（個人データの利用停止及び消去の要請）",
		"",
		Wareki(c.Date),
		"",
		postal(c.To.PostalCode) + c.To.Address,
	}
	// One honorific: 御中 on the company when nobody is named, else 殿 on
	// the person (a company and its representative never both carry one).
	if c.To.Representative != "" {
		p = append(p, c.To.Name, c.To.Representative+"　殿")
	} else {
		p = append(p, c.To.Name+"　御中")
	}
	p = append(p, "", postal(c.From.PostalCode)+c.From.Address, c.From.Name)
	if c.From.Representative != "" {
		p = append(p, c.From.Representative)
	}
	evidence := ""
	if e := strings.TrimRight(strings.TrimSpace(c.Evidence), "。"); e != "" {
		evidence = e + "。"
	}
	p = append(p, "",
		"　当社は、当社が保有する個人データである"+c.Data+"（以下「本件データ」といいます。）が、当社の管理下から不正に持ち出され、第三者に提供されていることを確認しております（当社整理番号："+c.Reference+"）。"+evidence,
		"　本件データは不正の手段により持ち出されたものであり、個人情報の保護に関する法律（以下「法」といいます。）第20条第1項の規定に違反して取得されたものに当たります。したがって、法第27条第2項ただし書により、本件データをいわゆるオプトアウト手続により第三者に提供することはできません。また、法第30条第1項により、第三者から個人データの提供を受ける者は、当該第三者による当該個人データの取得の経緯を確認しなければならず、同条第3項によりその記録を作成しなければなりません。",
		"　つきましては、貴社に対し、次の事項を要請いたします。",
		"一　本件データ（その複製及び加工したものを含みます。）の利用、販売その他第三者への提供を直ちに停止すること。",
		"二　本件データを全て消去し、消去した対象、方法及び日時を書面により当社に報告すること。",
		"三　本件データの入手先、入手の日及び経緯並びに提供先（法第30条第3項の記録を含みます。）を書面により当社に開示すること。",
		fmt.Sprintf("　本書面到達後%d日以内に、上記の事項について書面によりご回答ください。期限内にご回答がない場合又は要請に応じていただけない場合には、個人情報保護委員会への報告及び警察への相談を含め、必要な措置を講じます。", days),
	)
	contact := "　本件のご連絡は、"
	switch {
	case c.From.Department != "" && c.From.Phone != "":
		contact += c.From.Department + "（電話" + c.From.Phone + "）までお願いいたします。"
	case c.From.Department != "":
		contact += c.From.Department + "までお願いいたします。"
	case c.From.Phone != "":
		contact += "電話" + c.From.Phone + "までお願いいたします。"
	default:
		contact = "　本件のご連絡は、上記差出人までお願いいたします。"
	}
	return append(p, contact, "", "　　　　　　　　　　　　以上")
}

// unprintable reports control characters (line breaks and tabs included)
// and the two noncharacters XML 1.0 cannot carry.
func unprintable(r rune) bool {
	return unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF
}

func postal(code string) string {
	if code == "" {
		return ""
	}
	return "〒" + code + "　"
}

// Wareki formats a date in the Japanese era, in Japan time: 令和8年11月21日.
func Wareki(t time.Time) string {
	t = t.In(jst)
	y, m, d := t.Date()
	if t.Before(time.Date(2019, 5, 1, 0, 0, 0, 0, jst)) {
		return fmt.Sprintf("%d年%d月%d日", y, m, d)
	}
	era := fmt.Sprintf("%d", y-2018)
	if y == 2019 {
		era = "元"
	}
	return fmt.Sprintf("令和%s年%d月%d日", era, m, d)
}

var jst = time.FixedZone("JST", 9*3600)

// Layout wraps paragraphs into lines of at most CharsPerLine characters,
// never starting a line with closing punctuation or a small kana, nor
// ending one with an opening bracket (禁則処理: the character moves to the
// next line).
func Layout(paragraphs []string) []string {
	return layout(paragraphs, CharsPerLine)
}

// layout wraps paragraphs into lines of at most width characters, with the
// line-breaking rules of Layout.
func layout(paragraphs []string, width int) []string {
	var lines []string
	for _, p := range paragraphs {
		r := []rune(p)
		if len(r) == 0 {
			lines = append(lines, "")
			continue
		}
		for len(r) > 0 {
			n := min(width, len(r))
			if n < len(r) {
				// Push characters to the next line while it would start
				// with a forbidden one, or this one end with one.
				for n > 1 && (strings.ContainsRune(noLineStart, r[n]) || strings.ContainsRune(noLineEnd, r[n-1])) {
					n--
				}
			}
			lines = append(lines, string(r[:n]))
			r = r[n:]
		}
	}
	return lines
}

// Kinsoku sets: what may not start and may not end a line.
const (
	noLineStart = "、。，．・：；？！）」』】〕〉》”’ーっゃゅょぁぃぅぇぉッャュョァィゥェォ々"
	noLineEnd   = "（「『【〔〈《“‘"
)

// Page geometry, in points on A4 portrait (595 x 842).
const (
	fontSize   = 16.0
	lineHeight = 27.0
	topMargin  = 72.0
)

// Render validates the letter, lays it out and renders the PDF.
func (c CeaseAndDesist) Render() (Letter, error) {
	if err := c.Validate(); err != nil {
		return Letter{}, fmt.Errorf("letter: %w", err)
	}
	lines := Layout(c.Paragraphs())
	pdf, pages, err := renderPDF(lines, gopdf.PdfInfo{
		Title: "通知書（個人データの利用停止及び消去の要請）", Subject: c.Reference,
		Creator: "breachflow", Producer: "breachflow", CreationDate: c.Date,
	})
	if err != nil {
		return Letter{}, err
	}
	sum := sha256.Sum256(pdf)
	return Letter{PDF: pdf, Lines: lines, Pages: pages, SHA256: hex.EncodeToString(sum[:])}, nil
}

func renderPDF(lines []string, info gopdf.PdfInfo) ([]byte, int, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.SetInfo(info)
	if err := pdf.AddTTFFontData("ipaexg", ipaexGothic); err != nil {
		return nil, 0, fmt.Errorf("letter: load the embedded font: %w", err)
	}
	if err := pdf.SetFont("ipaexg", "", fontSize); err != nil {
		return nil, 0, fmt.Errorf("letter: set font: %w", err)
	}
	// The 20-character column, centred.
	left := (gopdf.PageSizeA4.W - CharsPerLine*fontSize) / 2
	pages := 0
	for i, l := range lines {
		if i%LinesPerPage == 0 {
			pdf.AddPage()
			pages++
		}
		if l == "" {
			continue
		}
		pdf.SetXY(left, topMargin+float64(i%LinesPerPage)*lineHeight)
		if err := pdf.Cell(nil, l); err != nil {
			return nil, 0, fmt.Errorf("letter: line %d: %w", i+1, err)
		}
	}
	var b bytes.Buffer
	if _, err := pdf.WriteTo(&b); err != nil {
		return nil, 0, fmt.Errorf("letter: write PDF: %w", err)
	}
	return b.Bytes(), pages, nil
}
