// Package recipientstest writes the hostile list files that the recipient
// list reader must refuse in bounded memory (SECURITY.md, "Input limits"):
// the unit tests read them in process, the end-to-end test hands them to
// `starter recipients check` and measures its peak RSS.
package recipientstest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// A Hostile file, and the words the refusal must contain.
type Hostile struct {
	Name  string
	Write func(w io.Writer) error
	// Refusal is a fragment of the error that says what was refused.
	Refusal string
}

const (
	sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>`
	sheetTail = `</sheetData></worksheet>`
	sheetPart = "xl/worksheets/sheet1.xml"
)

// Files lists the hostile files, each a few MiB at most on disk and
// written in well under a second: repeated content is deflated once per
// MiB and the compressed block repeated.
func Files() []Hostile {
	sheet := func(body ...Seg) map[string]Part {
		segs := append([]Seg{Text(sheetHead)}, body...)
		return map[string]Part{sheetPart: {Segs: append(segs, Text(sheetTail))}}
	}
	xf := `<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>`
	var rows strings.Builder
	for i := range 16 {
		fmt.Fprintf(&rows, `<row><c t="inlineStr"><is><t>m%02d@example.jp</t></is></c></row>`, i)
	}
	return []Hostile{
		{"zero-part-256MiB.xlsx", func(w io.Writer) error {
			return Workbook(w, nil, map[string]Part{"xl/media/zero.bin": {Segs: []Seg{Rep("\x00", 256<<20)}}})
		}, `part "xl/media/zero.bin" unzips to 256 MiB`},
		{"zero-part-1GiB.xlsx", func(w io.Writer) error {
			return Workbook(w, nil, map[string]Part{"xl/media/zero.bin": {Segs: []Seg{Rep("\x00", 1<<30+1)}}})
		}, "the workbook unzips to more than 1024 MiB"},
		{"lying-sheet-size.xlsx", func(w io.Writer) error {
			return Workbook(w, map[string]Part{sheetPart: {Segs: []Seg{Text(sheetHead), Rep(" ", 256<<20), Text(sheetTail)}, Declared: 1000}}, nil)
		}, `part "xl/worksheets/sheet1.xml" cannot be read`},
		{"many-small-parts.xlsx", func(w io.Writer) error {
			parts := map[string]Part{}
			for i := range 40 {
				parts[fmt.Sprintf("xl/media/pad%02d.bin", i)] = Part{Segs: []Seg{Rep("\x00", 1<<20)}}
			}
			return Workbook(w, nil, parts)
		}, "parts other than its large sheets unzip to more than 24 MiB"},
		{"styles-bomb.xlsx", func(w io.Writer) error {
			return Workbook(w, map[string]Part{"xl/styles.xml": {Segs: []Seg{
				Text(`<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>`),
				Rep(xf, int64(len(xf))*(8<<20/int64(len(xf)))),
				Text(`</cellXfs></styleSheet>`)}}}, nil)
		}, `part "xl/styles.xml" unzips to 8 MiB`},
		{"huge-cell.xlsx", func(w io.Writer) error {
			return Workbook(w, sheet(Text(`<row r="2"><c r="A2" t="inlineStr"><is><t>`), Rep("A", 300<<20), Text(`</t></is></c></row>`)), nil)
		}, "holds a cell or tag longer than 256 KiB"},
		{"wide-row.xlsx", func(w io.Writer) error {
			c := `<c t="inlineStr"><is><t>x</t></is></c>`
			return Workbook(w, sheet(Text(`<row r="2">`), Rep(c, int64(len(c))*20_000_000), Text(`</row>`)), nil)
		}, "has a row of more than 16384 cells"},
		{"shared-strings-bomb.xlsx", func(w io.Writer) error {
			si := `<si><t>a</t></si>`
			return Workbook(w, map[string]Part{
				sheetPart: {Segs: []Seg{Text(sheetHead + `<row r="2"><c r="A2" t="s"><v>59999999</v></c></row>` + sheetTail)}},
				"xl/sharedStrings.xml": {Segs: []Seg{
					Text(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`),
					Rep(si, int64(len(si))*60_000_000), Text(`</sst>`)}},
			}, nil)
		}, "more than 1000000 different texts"},
		{"rows-beyond-excel.xlsx", func(w io.Writer) error {
			return Workbook(w, sheet(Rep(rows.String(), int64(rows.Len())*(1_100_000/16))), nil)
		}, "more than 1048576 rows"},
		{"too-big.xlsx", func(w io.Writer) error {
			return Workbook(w, nil, map[string]Part{"xl/media/noise.bin": {Noise: 49 << 20}})
		}, "the workbook is larger than 48 MiB"},
	}
}

// A Part of a workbook: Segs one after the other, or Noise bytes of
// incompressible noise (stored). Declared, if set, is the unzipped size
// its zip header claims instead of the true one.
type Part struct {
	Body     func(io.Writer) error // written through a deflater
	Segs     []Seg
	Noise    int64
	Declared uint64
}

// A Seg is S repeated to N bytes.
type Seg struct {
	S string
	N int64
}

// Text is s once.
func Text(s string) Seg { return Seg{s, int64(len(s))} }

// Rep is s repeated to n bytes.
func Rep(s string, n int64) Seg { return Seg{s, n} }

// Largest writes the largest workbook a list may be: Excel's 1,048,576
// rows (a header and 1,048,575 recipients) naming 999,999 different
// e-mail addresses from the shared strings, each at least once.
func Largest(w io.Writer) error {
	const texts, rows = 999_999, 1_048_575
	sst := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d"><si><t>email</t></si>`, rows+1, texts+1)
		for i := range texts {
			fmt.Fprintf(bw, `<si><t>member%07d@example.jp</t></si>`, i)
		}
		bw.WriteString(`</sst>`)
		return bw.Flush()
	}
	sheet := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>`)
		for i := range rows {
			fmt.Fprintf(bw, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>`, i+2, i+2, 1+i%texts)
		}
		bw.WriteString(sheetTail)
		return bw.Flush()
	}
	return Workbook(w, map[string]Part{sheetPart: {Body: sheet}, "xl/sharedStrings.xml": {Body: sst}}, nil)
}

// Workbook writes a small valid workbook (header email, name; one row),
// its parts replaced by replace and extra parts added.
func Workbook(w io.Writer, replace, extra map[string]Part) error {
	base, err := baseParts()
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, p := range base {
		pt, ok := replace[p.name]
		if !ok {
			pt = Part{Segs: []Seg{Text(string(p.data))}}
		}
		if err := addPart(zw, p.name, pt); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		if err := addPart(zw, name, extra[name]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// NULPadded writes a valid workbook whose first part is stored (not
// compressed) and all NULs, so that its first bytes are mostly NUL.
func NULPadded(w io.Writer) error {
	base, err := baseParts()
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	pw, err := zw.CreateHeader(&zip.FileHeader{Name: "xl/media/pad.bin", Method: zip.Store})
	if err != nil {
		return err
	}
	if _, err := pw.Write(make([]byte, 4096)); err != nil {
		return err
	}
	for _, p := range base {
		if err := addPart(zw, p.name, Part{Segs: []Seg{Text(string(p.data))}}); err != nil {
			return err
		}
	}
	return zw.Close()
}

type part struct {
	name string
	data []byte
}

func baseParts() ([]part, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"email", "name"}); err != nil {
		return nil, err
	}
	if err := f.SetSheetRow("Sheet1", "A2", &[]any{"member01@example.jp", "会員 一郎"}); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		return nil, err
	}
	var parts []part
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{zf.Name, data})
	}
	return parts, nil
}

func addPart(zw *zip.Writer, name string, p Part) error {
	if p.Noise > 0 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			return err
		}
		_, err = io.Copy(w, io.LimitReader(rand.NewChaCha8([32]byte{}), p.Noise))
		return err
	}
	if p.Body != nil {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			return err
		}
		return p.Body(w)
	}
	raw, crc, size, err := deflate(p.Segs)
	if err != nil {
		return err
	}
	declared := size
	if p.Declared > 0 {
		declared = p.Declared
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate,
		CRC32: crc, CompressedSize64: uint64(len(raw)), UncompressedSize64: declared})
	if err != nil {
		return err
	}
	_, err = w.Write(raw)
	return err
}

// deflate compresses segs into one raw deflate stream. Each segment is
// compressed on its own and sync-flushed, so the streams concatenate; a
// long one is compressed one chunk of about 1 MiB (whole repetitions of
// its text) at a time and the compressed chunk repeated, which is valid
// because no chunk refers back beyond its own start.
func deflate(segs []Seg) (raw []byte, crc uint32, size uint64, err error) {
	var out bytes.Buffer
	compress := func(s string, n int64) ([]byte, error) {
		var b bytes.Buffer
		fw, err := flate.NewWriter(&b, flate.BestSpeed)
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(fw, Repeat(s, n)); err != nil {
			return nil, err
		}
		if err := fw.Flush(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	for _, sg := range segs {
		if sg.N <= 0 {
			continue
		}
		chunk := int64(len(sg.S)) * max(1, (1<<20)/int64(len(sg.S)))
		if sg.N <= chunk {
			c, err := compress(sg.S, sg.N)
			if err != nil {
				return nil, 0, 0, err
			}
			out.Write(c)
		} else {
			c, err := compress(sg.S, chunk)
			if err != nil {
				return nil, 0, 0, err
			}
			for range sg.N / chunk {
				out.Write(c)
			}
			if rest := sg.N % chunk; rest > 0 {
				r, err := compress(sg.S, rest)
				if err != nil {
					return nil, 0, 0, err
				}
				out.Write(r)
			}
		}
		crc = updateCRC(crc, sg)
		size += uint64(sg.N)
	}
	var end bytes.Buffer
	fw, err := flate.NewWriter(&end, flate.BestSpeed)
	if err != nil {
		return nil, 0, 0, err
	}
	if err := fw.Close(); err != nil {
		return nil, 0, 0, err
	}
	out.Write(end.Bytes())
	return out.Bytes(), crc, size, nil
}

func updateCRC(crc uint32, sg Seg) uint32 {
	r := Repeat(sg.S, sg.N)
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Read(buf)
		crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
		if err != nil {
			return crc
		}
	}
}

// Repeat reads s over and over, n bytes in all.
func Repeat(s string, n int64) io.Reader {
	block := []byte(strings.Repeat(s, max(1, (64<<10)/len(s))))
	return &repeat{block: block, n: n}
}

type repeat struct {
	block []byte // whole repetitions of the text
	n     int64
	off   int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.block[r.off:])
		if int64(c) > r.n {
			c = int(r.n)
		}
		k += c
		r.n -= int64(c)
		r.off = (r.off + c) % len(r.block)
	}
	return k, nil
}
