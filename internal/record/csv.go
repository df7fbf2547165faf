package record

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"time"
)

// recipientColumns are the columns of the recipients' table, in the
// Markdown record and in RecipientsCSV.
var recipientColumns = []string{"recipient", "state", "requests", "confirmations", "closed by", "reason"}

// recipientRow is one wrong recipient's line of the recipients' table.
func recipientRow(p Recipient, at func(time.Time) string) []string {
	var reqs, confs []string
	for _, a := range p.Attempts {
		reqs = append(reqs, fmt.Sprintf("%s #%d %s (%s)", a.Channel, a.N, at(a.At), a.Outcome))
	}
	for _, c := range p.Confirmations {
		who := c.Evidence.Source
		if c.Evidence.Operator != "" {
			who += " " + c.Evidence.Operator
		}
		confs = append(confs, fmt.Sprintf("%s %s (%s)", c.Channel, at(c.At), who))
	}
	state := p.State
	if p.NotStarted {
		state = "not started"
		if p.State == "closed_by_operator" {
			state = "closed_by_operator (never started)"
		}
	}
	return []string{p.RecipientID, state, strings.Join(reqs, "; "), strings.Join(confs, "; "), p.ClosedBy, p.Reason}
}

// RecipientsCSV is the recipients' table as CSV for a spreadsheet: UTF-8
// with a byte order mark (so Excel reads Japanese right), CRLF line ends,
// every cell passed through SpreadsheetCell. Nil when nothing was
// recalled.
func (r Record) RecipientsCSV() []byte {
	if r.Recall == nil || len(r.Recall.Recipients) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(recipientColumns) // a bytes.Buffer does not fail
	at := r.timeFormat()
	for _, p := range r.Recall.Recipients {
		row := recipientRow(p, at)
		for i := range row {
			row[i] = SpreadsheetCell(row[i])
		}
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// SpreadsheetCell neutralises a cell a spreadsheet would run as a formula
// (CSV injection): text starting with = + - @, a tab or a carriage return
// gets a leading apostrophe, which Excel and LibreOffice show as text.
// Every CSV or XLSX the project writes passes its cells through it; the
// lists it reads keep such cells as data.
func SpreadsheetCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
