package recipients_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/recipients/recipientstest"
)

// Every hostile workbook is refused as too large, or unreadable, with an
// error that says what was refused (the peak memory of the same files is
// measured end to end: internal/e2e/hostile_test.go).
func TestHostileWorkbooksAreRefused(t *testing.T) {
	for _, h := range recipientstest.Files() {
		t.Run(h.Name, func(t *testing.T) {
			var b bytes.Buffer
			if err := h.Write(&b); err != nil {
				t.Fatal(err)
			}
			_, err := recipients.Check(&b, recipients.Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, recipients.ErrTooLarge) && !errors.Is(err, recipients.ErrUnsupportedFormat) {
				t.Errorf("error %v is neither ErrTooLarge nor ErrUnsupportedFormat", err)
			}
			if !strings.Contains(err.Error(), h.Refusal) {
				t.Errorf("error %q does not say %q", err, h.Refusal)
			}
		})
	}
}

// A workbook whose first bytes are mostly NUL is a workbook, not UTF-16
// text.
func TestNULPaddedWorkbookIsReadAsXLSX(t *testing.T) {
	var b bytes.Buffer
	if err := recipientstest.NULPadded(&b); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b.Bytes()[:512], []byte{0}); n < 128 {
		t.Fatalf("only %d NULs in the first 512 bytes: the fixture does not test the rule", n)
	}
	rep, err := recipients.Check(&b, recipients.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != string(recipients.FormatXLSX) || rep.Accepted != 1 {
		t.Errorf("format %q, %d accepted; want xlsx, 1", rep.Format, rep.Accepted)
	}
}

// The workbook limits bind at limit + 1 and not at the limit.
func TestWorkbookLimitsAtTheEdge(t *testing.T) {
	pad := func(size int64) func() *bytes.Buffer {
		return func() *bytes.Buffer {
			var b bytes.Buffer
			if err := recipientstest.Workbook(&b, nil, map[string]recipientstest.Part{"xl/media/pad.bin": {Segs: []recipientstest.Seg{recipientstest.Rep("\x00", size)}}}); err != nil {
				t.Fatal(err)
			}
			return &b
		}
	}
	for _, tc := range []struct {
		name   string
		file   func() *bytes.Buffer
		refuse bool
	}{
		{"a part of 4 MiB", pad(4 << 20), false},
		{"a part of 4 MiB + 1 byte", pad(4<<20 + 1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := recipients.Check(tc.file(), recipients.Options{})
			if refused := errors.Is(err, recipients.ErrTooLarge); refused != tc.refuse {
				t.Errorf("refused = %v (%v), want %v", refused, err, tc.refuse)
			}
		})
	}
}

// A list longer than MaxRows (or Options.MaxRows, which may only lower it)
// is refused, and the error says how to split it.
func TestRowLimit(t *testing.T) {
	list := func(rows int) string {
		var b strings.Builder
		b.WriteString("email\n")
		for i := range rows {
			fmt.Fprintf(&b, "m%d@example.jp\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name    string
		rows    int
		max     int
		refused bool
	}{
		{"at the limit (header + 9 rows)", 9, 10, false},
		{"limit + 1", 10, 10, true},
		{"a higher option does not raise MaxRows", 10, recipients.MaxRows + 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := recipients.Check(strings.NewReader(list(tc.rows)), recipients.Options{MaxRows: tc.max})
			if refused := errors.Is(err, recipients.ErrTooLarge); refused != tc.refused {
				t.Fatalf("refused = %v (%v), want %v", refused, err, tc.refused)
			}
			if tc.refused && !strings.Contains(err.Error(), fmt.Sprintf("more than %d rows; split it", tc.max)) {
				t.Errorf("error %q does not say how to split the list", err)
			}
		})
	}
}
