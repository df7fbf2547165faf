package recipients

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Why not encoding/csv: it reads the same RFC 4180 dialect, but an
// unterminated quote makes it swallow the rest of the file into one record
// (and into memory), so one stray quote in row 5 of a 10-million-row file
// would lose every later row. This tokenizer follows encoding/csv
// (FieldsPerRecord = -1, LazyQuotes = false) record for record and line for
// line -- the differential tests hold it to that, using csv.Reader.FieldPos
// as the oracle for line numbers -- but bounds a record to maxRecordLines
// lines and maxRecordBytes bytes, and on an unclosed quote rejects only the
// record's first line and reads on from the line after it.

const (
	maxLineBytes   = 1 << 20 // longer lines are rejected without being buffered
	maxRecordBytes = 1 << 20 // a multi-line record may hold this much text
	maxRecordLines = 100     // and span this many lines
)

// Problem codes of rows the tokenizer cannot split into fields.
const (
	codeBareQuote     = "bare_quote"
	codeBadQuote      = "bad_quote"
	codeUnclosedQuote = "unclosed_quote"
	codeLineTooLong   = "line_too_long"
)

// physLine is one line of the input without its line break.
type physLine struct {
	no      int
	b       []byte
	tooLong bool
}

// lineReader hands out physical lines: first lines pushed back after a
// failed multi-line record, then new ones from the input.
type lineReader struct {
	br      *bufio.Reader
	n       int // lines read from br so far
	pending []physLine
	long    []byte
	err     error // sticky: io.EOF or a read error
}

func (lr *lineReader) read() (physLine, error) {
	if len(lr.pending) > 0 {
		l := lr.pending[0]
		lr.pending = lr.pending[1:]
		return l, nil
	}
	if lr.err != nil {
		return physLine{}, lr.err
	}
	b, err := lr.br.ReadSlice('\n')
	tooLong := false
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.long = append(lr.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = lr.br.ReadSlice('\n')
			if tooLong {
				continue
			}
			if len(lr.long)+len(b) > maxLineBytes+2 { // +2: the line break
				tooLong = true
				lr.long = lr.long[:0]
				continue
			}
			lr.long = append(lr.long, b...)
		}
		b = lr.long
		if tooLong {
			b = nil
		}
	}
	switch {
	case err == nil:
		if !tooLong {
			b = b[:len(b)-1] // '\n'
			if n := len(b); n > 0 && b[n-1] == '\r' {
				b = b[:n-1]
			}
		}
	case errors.Is(err, io.EOF):
		lr.err = io.EOF
		if len(b) == 0 && !tooLong {
			return physLine{}, io.EOF
		}
		if n := len(b); n > 0 && b[n-1] == '\r' { // as encoding/csv does
			b = b[:n-1]
		}
	default:
		lr.err = fmt.Errorf("read list: %w", err)
		return physLine{}, lr.err
	}
	lr.n++
	return physLine{no: lr.n, b: b, tooLong: tooLong}, nil
}

// unread pushes lines back to be read again, before any pending ones.
func (lr *lineReader) unread(lines []physLine) {
	lr.pending = append(lines, lr.pending...)
}

// record is one record of the input. A record with a problem has no
// fields; a blank record is an empty line.
type record struct {
	line    int // first line of the record
	fields  []string
	blank   bool
	code    string // problem code; empty when the fields are good
	problem string // what is wrong and what to do; never the data itself
}

// csvTokenizer splits decoded UTF-8 text into records.
type csvTokenizer struct {
	lr     lineReader
	buf    []byte
	ends   []int
	fields []string
}

func newCSVTokenizer(r io.Reader) *csvTokenizer {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &csvTokenizer{lr: lineReader{br: br}}
}

// lines is the number of physical lines read so far.
func (t *csvTokenizer) lines() int { return t.lr.n }

// next returns the next record, or io.EOF. The record's fields are valid
// until the next call.
func (t *csvTokenizer) next() (record, error) {
	first, err := t.lr.read()
	if err != nil {
		return record{}, err
	}
	rec := record{line: first.no}
	if first.tooLong {
		rec.code = codeLineTooLong
		rec.problem = fmt.Sprintf("line is longer than %d MiB: is this really a CSV file?", maxLineBytes>>20)
		return rec, nil
	}
	if len(first.b) == 0 {
		rec.blank = true
		return rec, nil
	}
	t.buf, t.ends = t.buf[:0], t.ends[:0]
	line, lineNo := first.b, first.no
	var held []physLine // continuation lines of a multi-line record (copies)
	heldBytes := 0
fields:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			f := line
			if i >= 0 {
				f = line[:i]
			}
			if bytes.IndexByte(f, '"') >= 0 {
				return t.fail(rec, codeBareQuote, fmt.Sprintf("a quote (\") inside an unquoted field (line %d): quote the whole field and double the quote (\"\")", lineNo)), nil
			}
			t.buf = append(t.buf, f...)
			t.ends = append(t.ends, len(t.buf))
			if i < 0 {
				break fields
			}
			line = line[i+1:]
			continue
		}
		line = line[1:] // opening quote
		for {
			i := bytes.IndexByte(line, '"')
			if i >= 0 {
				t.buf = append(t.buf, line[:i]...)
				line = line[i+1:]
				switch {
				case len(line) > 0 && line[0] == '"':
					t.buf = append(t.buf, '"')
					line = line[1:]
					continue
				case len(line) > 0 && line[0] == ',':
					t.ends = append(t.ends, len(t.buf))
					line = line[1:]
					continue fields
				case len(line) == 0:
					t.ends = append(t.ends, len(t.buf))
					break fields
				}
				return t.fail(rec, codeBadQuote, fmt.Sprintf("text after the closing quote of a quoted field (line %d): double a quote inside a field (\"\") or remove the stray quote", lineNo)), nil
			}
			// The quoted field goes on in the next line.
			t.buf = append(t.buf, line...)
			t.buf = append(t.buf, '\n')
			next, err := t.lr.read()
			if err != nil && !errors.Is(err, io.EOF) {
				return record{}, err
			}
			if err == nil {
				held = append(held, physLine{no: next.no, b: bytes.Clone(next.b), tooLong: next.tooLong})
				heldBytes += len(next.b)
			}
			if err != nil || next.tooLong || len(held) >= maxRecordLines || heldBytes > maxRecordBytes {
				t.lr.unread(held)
				where := "before the end of the file"
				if err == nil {
					where = fmt.Sprintf("within %d lines", maxRecordLines)
				}
				return t.fail(rec, codeUnclosedQuote, fmt.Sprintf("a quoted field opened in this line is not closed %s: close it with a quote (\") or remove the stray quote; the following lines were read as rows of their own", where)), nil
			}
			line, lineNo = held[len(held)-1].b, next.no
		}
	}
	str := string(t.buf)
	t.fields = t.fields[:0]
	prev := 0
	for _, end := range t.ends {
		t.fields = append(t.fields, str[prev:end])
		prev = end
	}
	rec.fields = t.fields
	return rec, nil
}

func (t *csvTokenizer) fail(rec record, code, problem string) record {
	rec.code, rec.problem = code, problem
	return rec
}
