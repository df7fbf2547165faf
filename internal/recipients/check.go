package recipients

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// ErrNoHeader is returned (wrapped) when a list has no usable header: the
// first non-blank line must name the columns, and at least one of them must
// be an e-mail or phone column.
var ErrNoHeader = errors.New("no usable header")

// ErrTooLarge is returned (wrapped) for files beyond the input limits
// (MaxRows, MaxXLSXBytes and the workbook limits in xlsx.go).
var ErrTooLarge = errors.New("list too large")

// Rejection and warning codes; docs/recipients.md lists them.
const (
	codeFieldCount   = "field_count"
	codeExtraValue   = "value_without_header"
	codeEncoding     = "invalid_encoding"
	codeControl      = "control_characters"
	codeEmail        = "invalid_email"
	codePhone        = "invalid_phone"
	codeTimeZone     = "invalid_time_zone"
	codeNoContact    = "no_contact"
	warnUnassigned   = "phone_unassigned"
	warnExtension    = "phone_extension_dropped"
	warnIgnoredBytes = "invalid_encoding_ignored_column"
	warnSeveralCols  = "several_columns"
	warnOtherSheets  = "other_sheets"
)

// Check reads a recipient list (CSV in UTF-8, UTF-8 with BOM or Shift_JIS,
// or XLSX) and reports what became of every row. It keeps nothing of the
// rows but what duplicate detection needs (see docs/recipients.md), so it
// reads lists of any length. The error is non-nil only when the list cannot
// be read at all (no header, unsupported format, I/O error); rejected rows
// are not errors, they are in the Report.
func Check(r io.Reader, opts Options) (Report, error) {
	return check(context.Background(), r, opts, nil)
}

// sink receives the outcome of a check in row order.
type sink interface {
	// accepted receives each accepted recipient, IDs in order.
	accepted(r *Recipient) error
	// merged tells that the recipient at index idx (0-based) takes the
	// fields named in added from the duplicate dup.
	merged(idx int, dup *Recipient, added []string) error
}

// source yields the records of a list.
type source interface {
	next() (record, error)
	lines() int
}

func check(ctx context.Context, r io.Reader, opts Options, out sink) (Report, error) {
	rep := newReport(opts)
	if err := opts.validate(); err != nil {
		return rep, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	format, err := sniffFormat(br, opts.Format)
	if err != nil {
		return rep, err
	}
	rep.Format = string(format)
	var (
		src source
		dec *fieldDecoder
	)
	if format == FormatXLSX {
		xs, err := openXLSX(br, opts.Sheet, &rep)
		if err != nil {
			return rep, err
		}
		defer xs.close()
		src = xs
		dec = newFieldDecoder(&rep)
		dec.decided = true // the XML of a workbook is UTF-8
	} else {
		dec, err = prepareText(br, opts.Encoding, &rep)
		if err != nil {
			return rep, err
		}
		src = newCSVTokenizer(br)
	}
	c := checker{
		dec:     dec,
		ctx:     ctx,
		rep:     &rep,
		out:     out,
		region:  opts.region(),
		dd:      newDedup(),
		xlsx:    format == FormatXLSX,
		maxRows: opts.maxRows(),
	}
	if c.xlsx {
		c.maxRows = min(c.maxRows, maxXLSXRows)
	}
	err = c.run(src)
	rep.Lines = src.lines()
	return rep, err
}

type checker struct {
	// maxRows bounds the records read (Options.MaxRows).
	maxRows int
	dec     *fieldDecoder
	ctx     context.Context
	rep     *Report
	out     sink
	region  string
	dd      *dedup
	have    []fieldSet // per accepted recipient: which fields it has
	xlsx    bool
	lay     layout
	header  bool
	// unknownPos maps a column position to its index in
	// Report.UnknownColumns.
	unknownPos map[int]int
}

// fieldSet is a bit set of Recipient fields.
type fieldSet uint8

const (
	hasName fieldSet = 1 << iota
	hasKana
	hasEmail
	hasPhone
	hasPostalCode
	hasAddress
	hasTimeZone
)

func (c *checker) run(src source) error {
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := c.ctx.Err(); err != nil {
				return fmt.Errorf("read list: %w", err)
			}
		}
		rec, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if uint64(rec.line) > math.MaxUint32 {
			return fmt.Errorf("%w: more than %d lines", ErrTooLarge, uint32(math.MaxUint32))
		}
		if n >= c.maxRows {
			return fmt.Errorf("%w: the list has more than %d rows; split it into files of at most %d rows (duplicate detection keeps about 40 bytes of every row in memory)",
				ErrTooLarge, c.maxRows, c.maxRows)
		}
		if !c.header {
			if err := c.readHeader(rec); err != nil {
				return err
			}
			continue
		}
		if err := c.row(rec); err != nil {
			return err
		}
	}
	if !c.header {
		return fmt.Errorf("%w: the list is empty; its first line must name the columns (e.g. 氏名,メールアドレス,電話番号)", ErrNoHeader)
	}
	return nil
}

func isBlank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func (c *checker) readHeader(rec record) error {
	if rec.code != "" {
		return fmt.Errorf("%w: line %d cannot be read as the header: %s", ErrNoHeader, rec.line, rec.problem)
	}
	var fields []string
	if !rec.blank {
		fields, _ = c.dec.decode(rec.fields) // undecodable bytes show as U+FFFD in column names
	}
	if rec.blank || isBlank(fields) {
		c.rep.blank(rec.line)
		return nil
	}
	c.lay = newLayout(fields)
	c.rep.HeaderLine = rec.line
	for _, col := range c.lay.columns {
		rc := Column{Index: col.index, Name: col.name, Field: col.field.String()}
		c.rep.Columns = append(c.rep.Columns, rc)
		if col.field == fieldUnknown {
			if c.unknownPos == nil {
				c.unknownPos = make(map[int]int)
			}
			c.unknownPos[col.index-1] = len(c.rep.UnknownColumns)
			c.rep.UnknownColumns = append(c.rep.UnknownColumns, rc)
		}
	}
	if !c.lay.hasContact() {
		return fmt.Errorf("%w: line %d has no e-mail or phone column; the first line must name the columns (e.g. 氏名,メールアドレス,電話番号 or name,email,phone) -- remove any title lines above it", ErrNoHeader, rec.line)
	}
	for _, f := range []field{fieldName, fieldKana, fieldEmail, fieldPhone, fieldPostalCode, fieldTimeZone} {
		cols := c.lay.byField[f]
		if len(cols) < 2 {
			continue
		}
		var names []string
		for _, i := range cols {
			names = append(names, fmt.Sprintf("%s (%d)", c.lay.columns[i].name, i+1))
		}
		c.rep.warn(rec.line, warnSeveralCols, fmt.Sprintf("columns %s are all read as %s: each row uses the first of them that is not empty", strings.Join(names, ", "), f))
	}
	c.header = true
	return nil
}

// colName names a column in messages.
func (c *checker) colName(i int) string {
	if n := c.lay.columns[i].name; n != "" {
		return n
	}
	return fmt.Sprintf("%d", i+1)
}

// problems collects what is wrong with a row.
type problems struct {
	code    string
	reasons []string
}

func (p *problems) add(code, reason string) {
	if p.code == "" {
		p.code = code
	}
	p.reasons = append(p.reasons, reason)
}

func (c *checker) row(rec record) error {
	line := rec.line
	if rec.blank {
		c.rep.blank(line)
		return nil
	}
	if rec.code != "" {
		c.rep.reject(line, rec.code, rec.problem)
		return nil
	}
	fields, encProbs := c.dec.decode(rec.fields)
	if isBlank(fields) {
		c.rep.blank(line)
		return nil
	}
	width := len(c.lay.columns)
	for i, f := range fields[:min(len(fields), width)] {
		if strings.TrimSpace(f) != "" {
			c.rep.Columns[i].Values++
			if c.lay.columns[i].field == fieldUnknown {
				c.rep.UnknownColumns[c.unknownPos[i]].Values++
			}
		}
	}
	if len(fields) > width {
		extra := -1
		for i := width; i < len(fields); i++ {
			if strings.TrimSpace(fields[i]) != "" {
				extra = i
				break
			}
		}
		switch {
		case !c.xlsx:
			c.rep.reject(line, codeFieldCount, fmt.Sprintf("the row has %d fields but the header has %d: quote fields that contain a comma, or remove the extra comma", len(fields), width))
			return nil
		case extra >= 0:
			c.rep.reject(line, codeExtraValue, fmt.Sprintf("column %d has a value but no header: name the column or move the value", extra+1))
			return nil
		}
		fields = fields[:width]
	}
	if len(fields) < width && !c.xlsx { // XLSX rows end at their last non-empty cell
		c.rep.reject(line, codeFieldCount, fmt.Sprintf("the row has %d fields but the header has %d: a field or a comma is missing", len(fields), width))
		return nil
	}
	var p problems
	for i, f := range fields {
		if encProbs[i] != encOK {
			msg := encProbs[i].message(c.colName(i))
			if c.lay.columns[i].field == fieldUnknown {
				c.rep.warn(line, warnIgnoredBytes, msg+" (the column is ignored)")
			} else {
				p.add(codeEncoding, msg)
			}
		} else if c.lay.columns[i].field != fieldUnknown && hasControl(f) {
			p.add(codeControl, fmt.Sprintf("column %s: contains control characters; is the file damaged?", c.colName(i)))
		}
	}
	if p.code != "" {
		c.rep.reject(line, p.code, strings.Join(p.reasons, "; "))
		return nil
	}

	var warns []Warning
	r := Recipient{Line: line}
	r.Name = c.first(fields, fieldName, foldText)
	if r.Name == "" {
		r.Name = c.joined(fields, fieldNamePart)
	}
	r.Kana = c.first(fields, fieldKana, foldText)
	if r.Kana == "" {
		r.Kana = c.joined(fields, fieldKanaPart)
	}
	r.Address = c.joined(fields, fieldAddress)
	r.PostalCode = c.first(fields, fieldPostalCode, normalizePostalCode)
	if i, v := c.firstRaw(fields, fieldEmail); i >= 0 {
		email, why := normalizeEmail(v)
		if why != emailOK {
			p.add(codeEmail, fmt.Sprintf("column %s: %s", c.colName(i), why))
		}
		r.Email = email
	}
	if i, v := c.firstRaw(fields, fieldPhone); i >= 0 {
		ph, ok := normalizePhone(v, c.region)
		switch {
		case !ok:
			p.add(codePhone, fmt.Sprintf("column %s: not a valid phone number; write it with its area code (03-1234-5678, 090-1234-5678) or in international form (+1 415 555 0100)", c.colName(i)))
		default:
			r.Phone = ph.e164
			if ph.unassigned {
				warns = append(warns, Warning{Line: line, Code: warnUnassigned, Message: fmt.Sprintf("column %s: the number is in a range that is not assigned to any line (a typo, or test data); check it", c.colName(i))})
			}
			if ph.extension {
				warns = append(warns, Warning{Line: line, Code: warnExtension, Message: fmt.Sprintf("column %s: the extension was dropped; calls and SMS go to the main number", c.colName(i))})
			}
		}
	}
	if i, v := c.firstRaw(fields, fieldTimeZone); i >= 0 {
		tz := foldText(v)
		if !validTimeZone(tz) {
			p.add(codeTimeZone, fmt.Sprintf("column %s: not an IANA time zone name such as Asia/Tokyo; correct it or leave the cell empty", c.colName(i)))
		}
		r.TimeZone = tz
	}
	if p.code == "" && r.Email == "" && r.Phone == "" {
		p.add(codeNoContact, fmt.Sprintf("no e-mail address and no phone number: a row needs at least one way to reach the person (%s)", c.contactColumns()))
	}
	if p.code != "" {
		c.rep.reject(line, p.code, strings.Join(p.reasons, "; "))
		return nil
	}
	for _, w := range warns {
		c.rep.warn(w.Line, w.Code, w.Message)
	}
	return c.place(&r)
}

// place accepts r or merges it into the recipient it duplicates.
func (c *checker) place(r *Recipient) error {
	k := rowKeys(r)
	have := fieldsOf(r)
	if idx, matched, ok := c.dd.match(k); ok {
		added := fieldNames(have &^ c.have[idx])
		c.have[idx] |= have
		c.dd.merge(idx, k)
		c.rep.duplicate(Duplicate{
			Line:       r.Line,
			MergedInto: c.dd.line(idx),
			ID:         RecipientID(idx + 1),
			Matched:    matched,
			Added:      added,
		})
		if c.out != nil && len(added) > 0 {
			if err := c.out.merged(idx, r, added); err != nil {
				return err
			}
		}
		return nil
	}
	if c.dd.len() >= maxRecipients {
		return fmt.Errorf("%w: more than %d recipients", ErrTooLarge, maxRecipients)
	}
	idx := c.dd.add(k, r.Line)
	c.have = append(c.have, have)
	r.ID = RecipientID(idx + 1)
	c.rep.accept()
	if c.out != nil {
		if err := c.out.accepted(r); err != nil {
			return err
		}
	}
	return nil
}

func fieldsOf(r *Recipient) fieldSet {
	var s fieldSet
	for _, f := range []struct {
		v   string
		bit fieldSet
	}{{r.Name, hasName}, {r.Kana, hasKana}, {r.Email, hasEmail}, {r.Phone, hasPhone}, {r.PostalCode, hasPostalCode}, {r.Address, hasAddress}, {r.TimeZone, hasTimeZone}} {
		if f.v != "" {
			s |= f.bit
		}
	}
	return s
}

// fieldNames lists the JSON names of the fields in s, in Recipient order.
func fieldNames(s fieldSet) []string {
	var out []string
	for _, f := range []struct {
		bit  fieldSet
		name string
	}{{hasName, "name"}, {hasKana, "kana"}, {hasEmail, "email"}, {hasPhone, "phone"}, {hasPostalCode, "postal_code"}, {hasAddress, "address"}, {hasTimeZone, "time_zone"}} {
		if s&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// first returns the cleaned value of the first column of f that is not empty.
func (c *checker) first(fields []string, f field, clean func(string) string) string {
	for _, i := range c.lay.byField[f] {
		if i < len(fields) {
			if v := clean(fields[i]); v != "" {
				return v
			}
		}
	}
	return ""
}

// firstRaw returns the position and raw value of the first column of f
// that is not blank, or -1.
func (c *checker) firstRaw(fields []string, f field) (int, string) {
	for _, i := range c.lay.byField[f] {
		if i < len(fields) && strings.TrimSpace(fields[i]) != "" {
			return i, fields[i]
		}
	}
	return -1, ""
}

// joined joins the non-empty cleaned values of the columns of f with spaces.
func (c *checker) joined(fields []string, f field) string {
	var parts []string
	for _, i := range c.lay.byField[f] {
		if i < len(fields) {
			if v := foldText(fields[i]); v != "" {
				parts = append(parts, v)
			}
		}
	}
	return strings.Join(parts, " ")
}

func (c *checker) contactColumns() string {
	var names []string
	for _, f := range []field{fieldEmail, fieldPhone} {
		for _, i := range c.lay.byField[f] {
			names = append(names, c.colName(i))
		}
	}
	return "columns " + strings.Join(names, ", ")
}

// Each reads a list as Check does and gives every person it holds to fn,
// in row order: each accepted recipient (with its opaque ID), then, where
// a later row was merged into an earlier one, that row as it was (its data
// is a person's data too). It keeps nothing of the rows, so it reads lists
// of any length; fn's error stops it and is returned.
func Each(ctx context.Context, r io.Reader, opts Options, fn func(Recipient) error) (Report, error) {
	return check(ctx, r, opts, eachSink(fn))
}

type eachSink func(Recipient) error

func (f eachSink) accepted(r *Recipient) error { return f(*r) }

func (f eachSink) merged(_ int, dup *Recipient, _ []string) error { return f(*dup) }
