package recipients

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Limits of the files a list is read from (SECURITY.md, "Input limits"):
// a hostile file is refused with a clear error before it can cost memory,
// and a list of any content is read in well under 256 MiB.
const (
	// MaxRows is the most rows a list file may have (header included):
	// duplicate detection keeps about 40 bytes of each in memory.
	MaxRows = 3_000_000
	// MaxXLSXBytes is the largest workbook file (compressed): excelize
	// holds it in memory.
	MaxXLSXBytes = 48 << 20
	// maxXLSXUnzipped bounds all the parts of a workbook, unzipped; the
	// worksheets and shared strings beyond xlsxSpill are unzipped to
	// temporary files and streamed from there.
	maxXLSXUnzipped = 1 << 30
	// maxXLSXPart bounds every other part (styles, relationships,
	// anything added): excelize reads them into memory whole.
	maxXLSXPart = 4 << 20
	// maxXLSXHeld bounds all the parts excelize holds in memory, unzipped:
	// every part but the worksheets and shared strings beyond xlsxSpill.
	maxXLSXHeld = 24 << 20
	// xlsxSpill is excelize's UnzipXMLSizeLimit: larger worksheets and
	// shared strings go to temporary files.
	// Parsed in memory they cost about 25 times their size.
	xlsxSpill = 1 << 20
	// maxXMLRun bounds a tag, or the text between two tags, in a
	// worksheet or the shared strings (an XML token is held whole while
	// it is parsed). Excel's cells hold at most 32,767 characters.
	maxXMLRun = 256 << 10
	// maxXLSXColumns is Excel's column limit (XFD): a row is read whole.
	maxXLSXColumns = 16_384
	// maxXLSXRows is Excel's row limit: a sheet beyond it was not written
	// by a spreadsheet.
	maxXLSXRows = 1_048_576
	// maxSharedStrings bounds the distinct texts of a workbook: excelize
	// indexes each in memory.
	maxSharedStrings = 1_000_000
)

// checkWorkbook refuses a workbook whose parts, as its directory declares
// them, would unzip beyond the limits, and scans its worksheets and shared
// strings, streamed, for a token beyond maxXMLRun. archive/zip refuses a
// part that unzips to more than it declares, so the declared sizes bind.
func checkWorkbook(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("%w: not a readable XLSX workbook: %w", ErrUnsupportedFormat, err)
	}
	var total, held uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		total += size
		if total > maxXLSXUnzipped {
			return fmt.Errorf("%w: the workbook unzips to more than %d MiB; save the list as CSV", ErrTooLarge, maxXLSXUnzipped>>20)
		}
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		streamed := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		if !streamed && size > maxXLSXPart {
			return fmt.Errorf("%w: the workbook's part %q unzips to %d MiB, more than the %d MiB allowed; save the list as CSV",
				ErrTooLarge, f.Name, size>>20, maxXLSXPart>>20)
		}
		if !streamed || size <= xlsxSpill {
			// excelize holds this part in memory, unzipped.
			if held += size; held > maxXLSXHeld {
				return fmt.Errorf("%w: the workbook's parts other than its large sheets unzip to more than %d MiB; save the list as CSV",
					ErrTooLarge, maxXLSXHeld>>20)
			}
		}
		if streamed {
			if err := scanXMLPart(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanXMLPart streams one worksheet or the shared strings through a
// partScan.
func scanXMLPart(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: the workbook's part %q cannot be read: %w", ErrUnsupportedFormat, f.Name, err)
	}
	defer rc.Close()
	buf := make([]byte, 64<<10)
	ps := partScan{part: f.Name, tag: make([]byte, 0, 4)}
	for {
		n, err := rc.Read(buf)
		if err := ps.feed(buf[:n]); err != nil {
			return err
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// archive/zip also stops a part that unzips to more than it
			// declares here.
			return fmt.Errorf("%w: the workbook's part %q cannot be read: %w", ErrUnsupportedFormat, f.Name, err)
		}
	}
}

// partScan refuses what excelize would hold in memory at once: a tag, or a
// text between tags, longer than maxXMLRun; a row of more than
// maxXLSXColumns cells; more than maxSharedStrings shared strings (excelize
// keeps an index entry of about 110 bytes per string). It also refuses more
// than maxXLSXRows rows before excelize reads them. It jumps from '<' to
// '>' and back, looking only at the start of each tag's name.
type partScan struct {
	part    string
	run     int    // bytes since the last '<' or '>'
	inTag   bool   // between '<' and '>'
	named   bool   // the current tag's name has been read
	tag     []byte // the current tag's local name, its first 4 bytes
	long    bool   // the name is longer than 4 bytes
	rows    int    // <row> so far
	cells   int    // <c> in the current <row>
	strings int    // <si> so far
}

func (p *partScan) feed(buf []byte) error {
	for len(buf) > 0 {
		switch {
		case !p.inTag:
			rest, found, err := p.skipTo(buf, '<')
			if err != nil || !found {
				return err
			}
			buf = rest
			p.run, p.inTag, p.named, p.tag, p.long = 0, true, false, p.tag[:0], false
		case !p.named:
			b := buf[0]
			buf = buf[1:]
			p.run++
			switch {
			case b == '>':
				p.run, p.inTag = 0, false
				if err := p.name(); err != nil {
					return err
				}
			case b == ':': // a namespace prefix: the local name follows
				p.tag, p.long = p.tag[:0], false
			case b == ' ' || b == '/' || b == '\t' || b == '\n' || b == '\r':
				if err := p.name(); err != nil {
					return err
				}
			case len(p.tag) < cap(p.tag):
				p.tag = append(p.tag, b)
			default:
				p.long = true
			}
		default:
			rest, found, err := p.skipTo(buf, '>')
			if err != nil || !found {
				return err
			}
			buf = rest
			p.run, p.inTag = 0, false
		}
	}
	return nil
}

// skipTo counts the bytes before c into the current run and returns what
// follows c; found is false when buf ends first (the run goes on into the
// next buffer).
func (p *partScan) skipTo(buf []byte, c byte) (rest []byte, found bool, err error) {
	i := bytes.IndexByte(buf, c)
	if i < 0 {
		p.run += len(buf)
		return nil, false, p.checkRun()
	}
	p.run += i
	return buf[i+1:], true, p.checkRun()
}

func (p *partScan) checkRun() error {
	if p.run > maxXMLRun {
		return fmt.Errorf("%w: the workbook's part %q holds a cell or tag longer than %d KiB; no recipient list has one; save the list as CSV",
			ErrTooLarge, p.part, maxXMLRun>>10)
	}
	return nil
}

// name counts the tag whose name has just been read ("</c>" names
// nothing: its name is empty).
func (p *partScan) name() error {
	p.named = true
	if p.long {
		return nil
	}
	switch string(p.tag) {
	case "row":
		p.cells = 0
		if p.rows++; p.rows > maxXLSXRows {
			return fmt.Errorf("%w: the workbook's part %q has more than %d rows, more than Excel allows; save the list as CSV",
				ErrTooLarge, p.part, maxXLSXRows)
		}
	case "c":
		if p.cells++; p.cells > maxXLSXColumns {
			return fmt.Errorf("%w: the workbook's part %q has a row of more than %d cells, more than Excel allows; save the list as CSV",
				ErrTooLarge, p.part, maxXLSXColumns)
		}
	case "si":
		if p.strings++; p.strings > maxSharedStrings {
			return fmt.Errorf("%w: the workbook holds more than %d different texts, more than can be read from a workbook in bounded memory; save the list as CSV",
				ErrTooLarge, maxSharedStrings)
		}
	}
	return nil
}

// xlsxSource reads the rows of one worksheet with excelize's streaming row
// iterator. Lines are sheet row numbers. excelize holds the (compressed)
// workbook in memory and may spill a large sheet, unzipped, to a temporary
// file that close removes; Excel itself stops at 1,048,576 rows.
type xlsxSource struct {
	f    *excelize.File
	rows *excelize.Rows
	n    int
}

func openXLSX(r io.Reader, sheet string, rep *Report) (*xlsxSource, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxXLSXBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the workbook: %w", err)
	}
	if len(data) > MaxXLSXBytes {
		return nil, fmt.Errorf("%w: the workbook is larger than %d MiB; save the list as CSV", ErrTooLarge, MaxXLSXBytes>>20)
	}
	if err := checkWorkbook(data); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxXLSXUnzipped, UnzipXMLSizeLimit: xlsxSpill})
	if err != nil {
		return nil, fmt.Errorf("%w: not a readable XLSX workbook: %w", ErrUnsupportedFormat, err)
	}
	names := f.GetSheetList()
	if sheet == "" {
		for _, n := range names {
			if visible, err := f.GetSheetVisible(n); err == nil && visible {
				sheet = n
				break
			}
		}
	} else if idx, err := f.GetSheetIndex(sheet); err != nil || idx < 0 {
		_ = f.Close()
		return nil, fmt.Errorf("%w: the workbook has no sheet %q", ErrUnsupportedFormat, sheet)
	}
	if sheet == "" {
		_ = f.Close()
		return nil, fmt.Errorf("%w: the workbook has no visible sheet", ErrUnsupportedFormat)
	}
	rep.Sheet = sheet
	rep.Encoding, rep.EncodingSource = encUTF8, sourceFormat
	if len(names) > 1 {
		rep.warn(0, warnOtherSheets, fmt.Sprintf("the workbook has %d other sheets, which were not read; save the recipients in one sheet or choose the sheet to read", len(names)-1))
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("read sheet %q: %w", sheet, err)
	}
	return &xlsxSource{f: f, rows: rows}, nil
}

func (s *xlsxSource) next() (record, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return record{}, fmt.Errorf("read sheet: %w", err)
		}
		return record{}, io.EOF
	}
	s.n++
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return record{}, fmt.Errorf("read sheet row %d: %w", s.n, err)
	}
	return record{line: s.n, fields: cells, blank: len(cells) == 0}, nil
}

func (s *xlsxSource) lines() int { return s.n }

func (s *xlsxSource) close() {
	_ = s.rows.Close()
	_ = s.f.Close()
}
