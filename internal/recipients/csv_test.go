package recipients

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tokRecord is a record as the tests compare it.
type tokRecord struct {
	Line   int
	Fields []string
	Blank  bool
	Code   string
}

func tokenize(t testing.TB, in string) ([]tokRecord, int) {
	t.Helper()
	tok := newCSVTokenizer(strings.NewReader(in))
	var out []tokRecord
	for {
		rec, err := tok.next()
		if errors.Is(err, io.EOF) {
			return out, tok.lines()
		}
		require.NoError(t, err)
		tr := tokRecord{Line: rec.line, Blank: rec.blank, Code: rec.code}
		if rec.fields != nil {
			tr.Fields = append([]string{}, rec.fields...)
		}
		out = append(out, tr)
	}
}

// stdlibRecords reads in with encoding/csv as the tokenizer claims to,
// taking the line of each record from csv.Reader.FieldPos. ok is false
// when encoding/csv reports an error anywhere.
func stdlibRecords(in string) (recs []tokRecord, ok bool) {
	r := csv.NewReader(strings.NewReader(in))
	r.FieldsPerRecord = -1
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			return recs, true
		}
		if err != nil {
			return recs, false
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, tokRecord{Line: line, Fields: fields})
	}
}

func nonBlank(recs []tokRecord) []tokRecord {
	var out []tokRecord
	for _, r := range recs {
		if !r.Blank {
			out = append(out, r)
		}
	}
	return out
}

func TestTokenizerAgreesWithEncodingCSV(t *testing.T) {
	for name, in := range map[string]string{
		"simple":                     "a,b,c\n1,2,3\n",
		"no final newline":           "a,b\n1,2",
		"CRLF":                       "a,b\r\n1,2\r\n",
		"blank lines":                "a,b\n\n1,2\n\r\n\n3,4\n",
		"empty fields":               ",,\n,\n",
		"quoted comma":               "\"a,b\",c\n",
		"escaped quotes":             "\"say \"\"hi\"\"\",x\n",
		"multi-line field":           "name,addr\n\"A\",\"line1\nline2\nline3\"\nB,x\n",
		"multi-line CRLF":            "name,addr\r\n\"A\",\"line1\r\nline2\"\r\nB,x\r\n",
		"empty quoted":               "\"\",\"\"\n",
		"quoted then EOF":            "a,\"b\"",
		"trailing CR at EOF":         "a,b\r",
		"lone CR inside":             "a\rb,c\n",
		"japanese":                   "氏名,メール\n山田,\"y@example.jp\"\n",
		"ragged":                     "a,b,c\n1\n1,2,3,4\n",
		"spaces kept":                " a , b \n",
		"quoted newline at start":    "\"\nx\",y\n",
		"only newlines":              "\n\n\n",
		"multi-line then blank line": "\"a\n\nb\",c\n\nd\n",
	} {
		t.Run(name, func(t *testing.T) {
			want, ok := stdlibRecords(in)
			require.True(t, ok, "the case must be valid CSV for encoding/csv")
			got, _ := tokenize(t, in)
			for _, r := range got {
				assert.Empty(t, r.Code, "line %d", r.Line)
			}
			assert.Equal(t, want, nonBlank(got))
		})
	}
}

// FuzzTokenizer holds the tokenizer to encoding/csv on every input
// encoding/csv accepts, and checks it always terminates with sane lines.
func FuzzTokenizer(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\"a\nb\",c\n", "\"a\"\"b\",\"\"\n", "a\"b\n", "\"abc\n", "\r\n\r\n", "\"a\"x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, lines := tokenize(t, in)
		last := 0
		for _, r := range got {
			if r.Line <= last || r.Line > lines {
				t.Fatalf("record line %d after %d, file has %d lines", r.Line, last, lines)
			}
			last = r.Line
		}
		if want, ok := stdlibRecords(in); ok && withinLimits(want) {
			if !assert.Equal(t, want, nonBlank(got)) {
				t.FailNow()
			}
		}
	})
}

// withinLimits reports whether every record spans at most maxRecordLines
// lines and holds at most maxRecordBytes: beyond that the tokenizer rejects
// a record by design where encoding/csv reads on.
func withinLimits(recs []tokRecord) bool {
	for _, r := range recs {
		lines, size := 1, 0
		for _, f := range r.Fields {
			lines += strings.Count(f, "\n")
			size += len(f)
		}
		if lines > maxRecordLines || size > maxRecordBytes {
			return false
		}
	}
	return true
}

func TestTokenizerRecovers(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []tokRecord
		lines int
	}{
		{
			name: "an unclosed quote rejects its line only; the next lines are rows",
			in:   "h\n\"a,b\nc,d\ne,f\n",
			want: []tokRecord{
				{Line: 1, Fields: []string{"h"}},
				{Line: 2, Code: codeUnclosedQuote},
				{Line: 3, Fields: []string{"c", "d"}},
				{Line: 4, Fields: []string{"e", "f"}},
			},
			lines: 4,
		},
		{
			name: "a quote closed within the limit spans lines",
			in:   "\"a\nb\nc\",d\ne\n",
			want: []tokRecord{
				{Line: 1, Fields: []string{"a\nb\nc", "d"}},
				{Line: 4, Fields: []string{"e"}},
			},
			lines: 4,
		},
		{
			name: "a quote not closed within 100 lines is rejected and the lines are re-read",
			in:   "\"x\n" + strings.Repeat("y\n", 100) + "\"\n",
			want: append(append([]tokRecord{{Line: 1, Code: codeUnclosedQuote}},
				func() []tokRecord {
					var rs []tokRecord
					for i := 2; i <= 101; i++ {
						rs = append(rs, tokRecord{Line: i, Fields: []string{"y"}})
					}
					return rs
				}()...),
				tokRecord{Line: 102, Code: codeUnclosedQuote}),
			lines: 102,
		},
		{
			name: "a bare quote rejects the record and reading goes on",
			in:   "a\"b,c\nd,e\n",
			want: []tokRecord{
				{Line: 1, Code: codeBareQuote},
				{Line: 2, Fields: []string{"d", "e"}},
			},
			lines: 2,
		},
		{
			name: "text after a closing quote rejects the record",
			in:   "\"a\"b,c\nd\n",
			want: []tokRecord{
				{Line: 1, Code: codeBadQuote},
				{Line: 2, Fields: []string{"d"}},
			},
			lines: 2,
		},
		{
			name: "an error in the second line of a record consumes both lines",
			in:   "\"a\nb\"x\nc\n",
			want: []tokRecord{
				{Line: 1, Code: codeBadQuote},
				{Line: 3, Fields: []string{"c"}},
			},
			lines: 3,
		},
		{
			name: "a re-read line may open a quoted field that closes in lines not yet read",
			in:   "\"x\n" + strings.Repeat("p\n", 99) + "\"y\nz\"\n",
			want: append(append([]tokRecord{{Line: 1, Code: codeUnclosedQuote}},
				func() []tokRecord {
					var rs []tokRecord
					for i := 2; i <= 100; i++ {
						rs = append(rs, tokRecord{Line: i, Fields: []string{"p"}})
					}
					return rs
				}()...),
				tokRecord{Line: 101, Fields: []string{"y\nz"}}),
			lines: 102,
		},
		{
			name: "blank lines are records of their own",
			in:   "\n\r\na\n\n",
			want: []tokRecord{
				{Line: 1, Blank: true},
				{Line: 2, Blank: true},
				{Line: 3, Fields: []string{"a"}},
				{Line: 4, Blank: true},
			},
			lines: 4,
		},
		{
			name: "an overlong line is rejected without being kept",
			in:   "a\n" + strings.Repeat("x", maxLineBytes+10) + "\nb\n",
			want: []tokRecord{
				{Line: 1, Fields: []string{"a"}},
				{Line: 2, Code: codeLineTooLong},
				{Line: 3, Fields: []string{"b"}},
			},
			lines: 3,
		},
		{
			name: "a long line under the limit is read whole",
			in:   strings.Repeat("x", 200<<10) + "\n",
			want: []tokRecord{
				{Line: 1, Fields: []string{strings.Repeat("x", 200<<10)}},
			},
			lines: 1,
		},
		{
			name: "an overlong line inside a quoted field ends the attempt and is reported itself",
			in:   "\"a\n" + strings.Repeat("x", maxLineBytes+10) + "\nb\n",
			want: []tokRecord{
				{Line: 1, Code: codeUnclosedQuote},
				{Line: 2, Code: codeLineTooLong},
				{Line: 3, Fields: []string{"b"}},
			},
			lines: 3,
		},
		{
			name:  "empty input has no lines",
			in:    "",
			want:  nil,
			lines: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lines := tokenize(t, tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.lines, lines)
		})
	}
}
