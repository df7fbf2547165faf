package recipients

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

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
	f, err := excelize.OpenReader(r)
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
