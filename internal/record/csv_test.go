package record_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/breachflow/breachflow/internal/record"
)

// A cell a spreadsheet would run as a formula is written as text; anything
// else is written as it is.
func TestSpreadsheetCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"R00001", "R00001"},
		{"confirmed", "confirmed"},
		{"削除を確認", "削除を確認"},
		{"=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"},
		{"+81 90 1234 5678", "'+81 90 1234 5678"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
	} {
		if got := record.SpreadsheetCell(tc.in); got != tc.want {
			t.Errorf("SpreadsheetCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The recipients' table neutralises what an operator typed (a reason, a
// name) and keeps every recipient on its own row.
func TestRecipientsCSVNeutralisesFormulas(t *testing.T) {
	r := record.Record{TimeZone: "Asia/Tokyo", Recall: &record.Recall{Recipients: []record.Recipient{
		{RecipientID: "R00001", State: "closed_by_operator", ClosedBy: "@admin", Reason: "=cmd|' /C calc'!A0"},
		{RecipientID: "R00002", State: "not_started", NotStarted: true},
	}}}
	b := r.RecipientsCSV()
	if !bytes.HasPrefix(b, []byte("\ufeff")) {
		t.Error("no byte order mark: Excel would misread Japanese")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and 2", len(rows))
	}
	if rows[1][4] != "'@admin" || rows[1][5] != "'=cmd|' /C calc'!A0" {
		t.Errorf("row %q: formulas not neutralised", rows[1])
	}
	if rows[2][1] != "not started" {
		t.Errorf("row %q", rows[2])
	}
	if (record.Record{}).RecipientsCSV() != nil {
		t.Error("a table for an incident that recalled nothing")
	}
}
