package recipients

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReportVersion is the version of the Report's JSON form. Field names and
// meanings of a version never change; docs/recipients.md describes them.
const ReportVersion = 1

// Report accounts for every row of a recipient list: each data row is
// accepted, a duplicate merged into an earlier accepted row, or rejected,
// so Rows == Accepted + DuplicateCount + RejectedCount. Blank lines are not
// rows; they are counted and listed in BlankLines. A Report never holds
// personal data: rows are named by line number, problems by column name.
type Report struct {
	Version        int    `json:"version"`
	Format         string `json:"format"`          // "csv" or "xlsx"
	Encoding       string `json:"encoding"`        // "utf-8", "utf-8-bom" or "shift_jis"
	EncodingSource string `json:"encoding_source"` // "detected", "bom", "option" or "format" (XLSX)
	Sheet          string `json:"sheet,omitempty"` // XLSX: the worksheet read
	// Lines is the number of lines of the file (XLSX: of the sheet).
	Lines int `json:"lines"`
	// HeaderLine is the line of the header: the first non-blank line.
	HeaderLine     int      `json:"header_line"`
	Columns        []Column `json:"columns"`
	UnknownColumns []Column `json:"unknown_columns"`

	Rows           int `json:"rows"`
	Accepted       int `json:"accepted"`
	DuplicateCount int `json:"duplicate_count"`
	RejectedCount  int `json:"rejected_count"`
	BlankLineCount int `json:"blank_line_count"`
	WarningCount   int `json:"warning_count"`

	Duplicates []Duplicate `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
	BlankLines []int       `json:"blank_lines"`
	Warnings   []Warning   `json:"warnings"`
	// Truncated says that at least one of the lists above was cut at
	// Options.MaxDetails entries; the counts are exact regardless.
	Truncated bool `json:"truncated"`

	maxDetails int
}

// Column is one column of the header.
type Column struct {
	Index int    `json:"index"`           // 1-based
	Name  string `json:"name"`            // as written in the header
	Field string `json:"field,omitempty"` // what it is read as; empty for unknown columns
	// Values is the number of data rows with a value in this column; for
	// an unknown column, how many values were ignored.
	Values int `json:"values"`
}

// Duplicate is a row merged into an earlier accepted row.
type Duplicate struct {
	Line       int    `json:"line"`
	MergedInto int    `json:"merged_into"` // line of the accepted row
	ID         string `json:"id"`          // recipient ID of the accepted row
	Matched    string `json:"matched"`     // "email" or "phone"
	// Added lists the fields the accepted row lacked and took from this one.
	Added []string `json:"added,omitempty"`
}

// Rejection is a row that was not accepted, with what to do about it.
type Rejection struct {
	Line   int    `json:"line"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// Warning is something accepted that deserves a look.
type Warning struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func newReport(opts Options) Report {
	return Report{
		Version:        ReportVersion,
		Columns:        []Column{},
		UnknownColumns: []Column{},
		Duplicates:     []Duplicate{},
		Rejected:       []Rejection{},
		BlankLines:     []int{},
		Warnings:       []Warning{},
		maxDetails:     opts.maxDetails(),
	}
}

func (r *Report) reject(line int, code, reason string) {
	r.Rows++
	r.RejectedCount++
	if len(r.Rejected) < r.maxDetails {
		r.Rejected = append(r.Rejected, Rejection{Line: line, Code: code, Reason: reason})
	} else {
		r.Truncated = true
	}
}

func (r *Report) duplicate(d Duplicate) {
	r.Rows++
	r.DuplicateCount++
	if len(r.Duplicates) < r.maxDetails {
		r.Duplicates = append(r.Duplicates, d)
	} else {
		r.Truncated = true
	}
}

func (r *Report) accept() {
	r.Rows++
	r.Accepted++
}

func (r *Report) blank(line int) {
	r.BlankLineCount++
	if len(r.BlankLines) < r.maxDetails {
		r.BlankLines = append(r.BlankLines, line)
	} else {
		r.Truncated = true
	}
}

func (r *Report) warn(line int, code, message string) {
	r.WarningCount++
	if len(r.Warnings) < r.maxDetails {
		r.Warnings = append(r.Warnings, Warning{Line: line, Code: code, Message: message})
	} else {
		r.Truncated = true
	}
}

// WriteText writes the report for people: the counts, then rejected rows,
// duplicates and warnings, rows with the same reason grouped on one line.
func (r Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := r.Encoding
	if r.EncodingSource != "" {
		enc += " (" + r.EncodingSource + ")"
	}
	fmt.Fprintf(bw, "recipient list: %s, %s", r.Format, enc)
	if r.Sheet != "" {
		fmt.Fprintf(bw, ", sheet %q", r.Sheet)
	}
	fmt.Fprintf(bw, ", %d lines, header on line %d\n", r.Lines, r.HeaderLine)
	var cols []string
	for _, c := range r.Columns {
		if c.Field != "" {
			cols = append(cols, fmt.Sprintf("%s → %s", c.Name, c.Field))
		}
	}
	fmt.Fprintf(bw, "columns: %s\n", strings.Join(cols, ", "))
	if len(r.UnknownColumns) > 0 {
		var unk []string
		for _, c := range r.UnknownColumns {
			name := c.Name
			if name == "" {
				name = "(no name)"
			}
			unk = append(unk, fmt.Sprintf("%s (column %d, %s)", name, c.Index, plural(c.Values, "value")))
		}
		fmt.Fprintf(bw, "unknown columns, ignored: %s\n", strings.Join(unk, "; "))
	}
	fmt.Fprintf(bw, "rows: %d = %d accepted + %s + %d rejected\n",
		r.Rows, r.Accepted, plural(r.DuplicateCount, "duplicate"), r.RejectedCount)
	if r.BlankLineCount > 0 {
		fmt.Fprintf(bw, "blank lines, skipped: %s\n", lineRanges(r.BlankLines, r.BlankLineCount))
	}

	if r.RejectedCount > 0 {
		fmt.Fprintf(bw, "\nrejected (%d):\n", r.RejectedCount)
		g := newGroups()
		for _, x := range r.Rejected {
			g.add(x.Reason, x.Line)
		}
		g.write(bw)
	}
	if r.DuplicateCount > 0 {
		fmt.Fprintf(bw, "\nduplicates, merged (%d):\n", r.DuplicateCount)
		g := newGroups()
		for _, d := range r.Duplicates {
			what := fmt.Sprintf("merged into line %d (%s), same %s", d.MergedInto, d.ID, strings.ReplaceAll(d.Matched, "email", "e-mail"))
			if len(d.Added) > 0 {
				what += "; took " + strings.Join(d.Added, ", ") + " from it"
			}
			g.add(what, d.Line)
		}
		g.write(bw)
	}
	if r.WarningCount > 0 {
		fmt.Fprintf(bw, "\nwarnings (%d):\n", r.WarningCount)
		g := newGroups()
		for _, x := range r.Warnings {
			g.add(x.Message, x.Line)
		}
		g.write(bw)
	}
	if r.Truncated {
		fmt.Fprintf(bw, "\n(only the first %d of each kind are listed)\n", r.maxDetailsShown())
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (r Report) maxDetailsShown() int {
	n := max(len(r.Rejected), len(r.Duplicates), len(r.BlankLines), len(r.Warnings))
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// groups collects line numbers per message, in order of first appearance.
type groups struct {
	order []string
	lines map[string][]int
}

func newGroups() *groups { return &groups{lines: map[string][]int{}} }

func (g *groups) add(msg string, line int) {
	if _, ok := g.lines[msg]; !ok {
		g.order = append(g.order, msg)
	}
	g.lines[msg] = append(g.lines[msg], line)
}

func (g *groups) write(w io.Writer) {
	for _, msg := range g.order {
		ls := g.lines[msg]
		word := "line"
		if len(ls) > 1 {
			word = "lines"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", word, lineRanges(ls, len(ls)), msg)
	}
}

// lineRanges writes ascending line numbers compactly: "2-5, 9". total is
// how many there were, when only some are listed.
func lineRanges(ls []int, total int) string {
	var b strings.Builder
	for i := 0; i < len(ls); {
		j := i
		for j+1 < len(ls) && ls[j+1] == ls[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(ls[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(ls[j]))
		}
		i = j + 1
	}
	if total > len(ls) {
		fmt.Fprintf(&b, " and %d more", total-len(ls))
	}
	return b.String()
}
