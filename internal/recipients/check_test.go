package recipients

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// outcome is what became of the rows of a list, by line.
type outcome struct {
	Accepted []int          // lines, in ID order
	Dups     map[int]int    // line -> merged into
	Rejected map[int]string // line -> code
	Blank    []int
	Warnings map[int]string // line -> code (last per line)
}

func outcomeOf(rep Report, recs []Recipient) outcome {
	o := outcome{Dups: map[int]int{}, Rejected: map[int]string{}, Warnings: map[int]string{}, Blank: rep.BlankLines}
	for _, r := range recs {
		o.Accepted = append(o.Accepted, r.Line)
	}
	for _, d := range rep.Duplicates {
		o.Dups[d.Line] = d.MergedInto
	}
	for _, r := range rep.Rejected {
		o.Rejected[r.Line] = r.Code
	}
	for _, w := range rep.Warnings {
		o.Warnings[w.Line] = w.Code
	}
	return o
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want outcome
		recs []Recipient // when set: the accepted recipients, normalised
		// extra checks of the report
		check func(t *testing.T, rep Report)
	}{
		{
			name: "English header, every row accepted and normalised",
			in: "Name,Kana,E-mail,Phone,ZIP,Address,Time Zone\n" +
				"Taro Yamada,ヤマダ タロウ,Taro@Example.JP,090-1234-5678,1000001,Tokyo,Asia/Tokyo\n" +
				"Jane Doe,,jane@example.com,+1 415 555 0100,94105,San Francisco,America/Los_Angeles\n",
			want: outcome{Accepted: []int{2, 3}},
			recs: []Recipient{
				{ID: "R00001", Line: 2, Name: "Taro Yamada", Kana: "ヤマダ タロウ", Email: "Taro@example.jp", Phone: "+819012345678", PostalCode: "100-0001", Address: "Tokyo", TimeZone: "Asia/Tokyo"},
				{ID: "R00002", Line: 3, Name: "Jane Doe", Email: "jane@example.com", Phone: "+14155550100", PostalCode: "94105", Address: "San Francisco", TimeZone: "America/Los_Angeles"},
			},
		},
		{
			name: "Japanese header with BOM, full-width text folded",
			in: "\uFEFF氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所\n" +
				"山田　太郎,ﾔﾏﾀﾞ ﾀﾛｳ,ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ,０９０－１２３４－５６７８,〒１００－０００１,東京都千代田区１－１\n",
			want: outcome{Accepted: []int{2}},
			recs: []Recipient{{ID: "R00001", Line: 2, Name: "山田 太郎", Kana: "ヤマダ タロウ", Email: "taro@example.jp", Phone: "+819012345678", PostalCode: "100-0001", Address: "東京都千代田区1-1"}},
			check: func(t *testing.T, rep Report) {
				assert.Equal(t, "utf-8-bom", rep.Encoding)
				assert.Equal(t, "bom", rep.EncodingSource)
			},
		},
		{
			name: "header names tolerate case, spaces, full width and required marks",
			in:   "　ＮＡＭＥ　,E_MAIL ,電話番号（必須）\nA,a@example.jp,\n",
			want: outcome{Accepted: []int{2}},
			check: func(t *testing.T, rep Report) {
				assert.Equal(t, []Column{
					{Index: 1, Name: "NAME", Field: "name", Values: 1},
					{Index: 2, Name: "E_MAIL", Field: "email", Values: 1},
					{Index: 3, Name: "電話番号(必須)", Field: "phone", Values: 0},
				}, rep.Columns)
			},
		},
		{
			name: "multi-line quoted fields keep the line numbers of later rows",
			in: "name,email,address\n" +
				"A,a@example.jp,\"1-1 Street\nBuilding 2\"\n" +
				"\"B\nb\",b@example.jp,x\n" +
				"C,bad,x\n",
			want: outcome{Accepted: []int{2, 4}, Rejected: map[int]string{6: codeEmail}},
			recs: []Recipient{
				{ID: "R00001", Line: 2, Name: "A", Email: "a@example.jp", Address: "1-1 Street Building 2"},
				{ID: "R00002", Line: 4, Name: "B b", Email: "b@example.jp", Address: "x"},
			},
		},
		{
			name: "short and long rows are rejected: a shifted column would put data in the wrong field",
			in:   "name,email,phone\nA,a@example.jp\nB,b@example.jp,,extra\nC,c@example.jp,\n",
			want: outcome{Accepted: []int{4}, Rejected: map[int]string{2: codeFieldCount, 3: codeFieldCount}},
		},
		{
			name: "blank lines and rows of empty cells are not rows, but are listed",
			in:   "\n\nname,email\n\nA,a@example.jp\n,\n  ,　\n\"\",\"\"\nB,b@example.jp\n\n",
			want: outcome{Accepted: []int{5, 9}, Blank: []int{1, 2, 4, 6, 7, 8, 10}},
			check: func(t *testing.T, rep Report) {
				assert.Equal(t, 3, rep.HeaderLine)
				assert.Equal(t, 10, rep.Lines)
				assert.Equal(t, 2, rep.Rows)
			},
		},
		{
			name: "broken quoting is rejected by line and reading goes on",
			in:   "name,email\nA\"x,a@example.jp\n\"D\"d,d@example.jp\nC,c@example.jp\n\"B,b@example.jp\n",
			want: outcome{Accepted: []int{4}, Rejected: map[int]string{2: codeBareQuote, 3: codeBadQuote, 5: codeUnclosedQuote}},
		},
		{
			name: "a row needs an e-mail address or a phone number",
			in:   "name,email,phone\nA,,\nB,b@example.jp,\nC,,03-1234-5678\n",
			want: outcome{Accepted: []int{3, 4}, Rejected: map[int]string{2: codeNoContact}},
		},
		{
			name: "an invalid contact rejects the row even when the other contact is good",
			in:   "name,email,phone\nA,not-an-address,090-1234-5678\nB,b@example.jp,12\n",
			want: outcome{Rejected: map[int]string{2: codeEmail, 3: codePhone}},
		},
		{
			name: "unknown columns are reported with how many values they held",
			in:   "会員番号,name,email,備考\n1,A,a@example.jp,\n2,B,b@example.jp,VIP\n",
			want: outcome{Accepted: []int{2, 3}},
			check: func(t *testing.T, rep Report) {
				assert.Equal(t, []Column{
					{Index: 1, Name: "会員番号", Values: 2},
					{Index: 4, Name: "備考", Values: 1},
				}, rep.UnknownColumns)
			},
		},
		{
			name: "invalid UTF-8 in a used column rejects the row; in an unknown column it is a warning",
			in:   "name,email,memo\nA\xff,a@example.jp,\nB,b@example.jp,\xfe\n",
			opts: Options{Encoding: EncodingUTF8},
			want: outcome{Accepted: []int{3}, Rejected: map[int]string{2: codeEncoding}, Warnings: map[int]string{3: warnIgnoredBytes}},
		},
		{
			name: "control characters reject the row",
			in:   "name,email\nA\x00B,a@example.jp\n",
			want: outcome{Rejected: map[int]string{2: codeControl}},
		},
		{
			name: "name, kana and address parts are joined in column order",
			in:   "姓,名,セイ,メイ,都道府県,市区町村,番地,メール\n山田,太郎,ヤマダ,タロウ,東京都,千代田区,1-1,taro@example.jp\n",
			want: outcome{Accepted: []int{2}},
			recs: []Recipient{{ID: "R00001", Line: 2, Name: "山田 太郎", Kana: "ヤマダ タロウ", Email: "taro@example.jp", Address: "東京都 千代田区 1-1"}},
		},
		{
			name: "of several phone columns the first that is not empty is used, and the header says so",
			in:   "name,電話番号,携帯電話\nA,,090-1234-5678\nB,03-1234-5678,090-8765-4321\n",
			want: outcome{Accepted: []int{2, 3}, Warnings: map[int]string{1: warnSeveralCols}},
			recs: []Recipient{
				{ID: "R00001", Line: 2, Name: "A", Phone: "+819012345678"},
				{ID: "R00002", Line: 3, Name: "B", Phone: "+81312345678"},
			},
		},
		{
			name: "a time zone must be an IANA name",
			in:   "name,email,タイムゾーン\nA,a@example.jp,Asia/Tokyo\nB,b@example.jp,JST\nC,c@example.jp,\n",
			want: outcome{Accepted: []int{2, 4}, Rejected: map[int]string{3: codeTimeZone}},
		},
		{
			name: "phones in an unassigned range are accepted with a warning",
			in:   "name,phone\nA,090-0000-0001\n",
			want: outcome{Accepted: []int{2}, Warnings: map[int]string{2: warnUnassigned}},
		},
		{
			name: "the region option reads national numbers of another country",
			in:   "name,phone\nA,(415) 555-0100\n",
			opts: Options{Region: "us"},
			want: outcome{Accepted: []int{2}},
			recs: []Recipient{{ID: "R00001", Line: 2, Name: "A", Phone: "+14155550100"}},
		},
		{
			name: "detail lists are capped but counts stay exact",
			in:   "name,email\n" + strings.Repeat("A,bad\n", 5),
			opts: Options{MaxDetails: 2},
			want: outcome{Rejected: map[int]string{2: codeEmail, 3: codeEmail}},
			check: func(t *testing.T, rep Report) {
				assert.Equal(t, 5, rep.RejectedCount)
				assert.Len(t, rep.Rejected, 2)
				assert.True(t, rep.Truncated)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, recs := checkCapture(t, tt.in, tt.opts)
			got := outcomeOf(rep, recs)
			want := tt.want
			if want.Dups == nil {
				want.Dups = map[int]int{}
			}
			if want.Rejected == nil {
				want.Rejected = map[int]string{}
			}
			if want.Warnings == nil {
				want.Warnings = map[int]string{}
			}
			if want.Blank == nil {
				want.Blank = []int{}
			}
			assert.Equal(t, want, got, "rejected: %+v", rep.Rejected)
			assert.Equal(t, rep.Rows, rep.Accepted+rep.DuplicateCount+rep.RejectedCount, "every row accounted for")
			if tt.recs != nil {
				assert.Equal(t, tt.recs, recs)
			}
			if tt.check != nil {
				tt.check(t, rep)
			}
			// Check, without a sink, reports the same.
			plain, err := Check(strings.NewReader(tt.in), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, rep, plain)
		})
	}
}

func TestCheckFailsOnUnusableInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want error
	}{
		{"empty file", "", Options{}, ErrNoHeader},
		{"only blank lines", "\n\n,,\n", Options{}, ErrNoHeader},
		{"data where the header should be", "山田 太郎,taro@example.jp,090-1234-5678\n", Options{}, ErrNoHeader},
		{"a title line above the header", "会員名簿 2024年\n氏名,メールアドレス\n", Options{}, ErrNoHeader},
		{"header without e-mail or phone column", "氏名,住所\nA,B\n", Options{}, ErrNoHeader},
		{"header line cannot be parsed", "\"name,email\n", Options{}, ErrNoHeader},
		{"UTF-16 with BOM", "\xff\xfen\x00a\x00m\x00e\x00", Options{}, ErrUnsupportedFormat},
		{"UTF-16 without BOM", "n\x00a\x00m\x00e\x00,\x00e\x00m\x00a\x00i\x00l\x00\n\x00", Options{}, ErrUnsupportedFormat},
		{"legacy .xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", Options{}, ErrUnsupportedFormat},
		{"XLSX that is no workbook", "PK\x03\x04not a zip", Options{}, ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(strings.NewReader(tt.in), tt.opts)
			require.ErrorIs(t, err, tt.want)
			for _, personal := range []string{"山田", "taro", "090"} {
				assert.NotContains(t, err.Error(), personal, "errors never echo the data")
			}
		})
	}
	for _, opts := range []Options{{Encoding: "latin1"}, {Format: "ods"}, {Region: "XX"}} {
		_, err := Check(strings.NewReader("name,email\n"), opts)
		assert.Error(t, err, "%+v", opts)
	}
}

func TestReasonsNeverEchoPersonalData(t *testing.T) {
	secrets := []string{"Hanako", "hanako", "secret-mail", "0312", "Shibuya", "Zone"}
	in := "name,email,phone,address,time_zone\n" +
		"Hanako,secret-mail,0312,Shibuya,\n" +
		"Hanako,hanako@example.jp,0312,Shibuya,Zone\n" +
		"Hanako,hanako@example,,Shibuya,\n" +
		"\"Hanako,hanako@example.jp\n"
	rep, err := Check(strings.NewReader(in), Options{})
	require.NoError(t, err)
	require.Equal(t, 4, rep.RejectedCount)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	js, err := json.Marshal(rep)
	require.NoError(t, err)
	for _, s := range secrets {
		assert.NotContains(t, text.String(), s)
		assert.NotContains(t, string(js), s)
	}
}

func TestEncodingDetection(t *testing.T) {
	header := "name,email\n"
	jpRow := "山田 太郎,taro@example.jp\n"
	manyASCII := strings.Repeat("A,a@example.jp\n", 10_000) // 150 KB before the first non-ASCII byte
	tests := []struct {
		name       string
		in         []byte
		opts       Options
		encoding   string
		source     string
		wantName   string // name of the last accepted recipient
		wantReject string // code of the last row, when rejected
	}{
		{"ASCII reads as UTF-8", []byte(header + "A,a@example.jp\n"), Options{}, "utf-8", "detected", "A", ""},
		{"UTF-8 detected", []byte(header + jpRow), Options{}, "utf-8", "detected", "山田 太郎", ""},
		{"UTF-8 with BOM", append(bomUTF8, header+jpRow...), Options{}, "utf-8-bom", "bom", "山田 太郎", ""},
		{"Shift_JIS detected", sjis(header + jpRow), Options{}, "shift_jis", "detected", "山田 太郎", ""},
		{"Shift_JIS detected after 150 KB of ASCII", sjis(header + manyASCII + jpRow), Options{}, "shift_jis", "detected", "山田 太郎", ""},
		{"Shift_JIS chosen by option", sjis(header + jpRow), Options{Encoding: EncodingShiftJIS}, "shift_jis", "option", "山田 太郎", ""},
		{"UTF-8 chosen for a Shift_JIS file rejects its rows", sjis(header + jpRow), Options{Encoding: EncodingUTF8}, "utf-8", "option", "", codeEncoding},
		{"a BOM wins over the option", append(bomUTF8, header+jpRow...), Options{Encoding: EncodingShiftJIS}, "utf-8-bom", "bom", "山田 太郎", ""},
		{"a Shift_JIS row in a UTF-8 file is rejected", append([]byte(header+jpRow), sjis("佐藤,sato@example.jp\n")...), Options{}, "utf-8", "detected", "山田 太郎", codeEncoding},
		{"a UTF-8 row in a Shift_JIS file is rejected", append(sjis(header+jpRow), "佐藤,sato@example.jp\n"...), Options{}, "shift_jis", "detected", "山田 太郎", codeEncoding},
		{"the first non-ASCII row decides, however late", []byte(header + manyASCII + jpRow), Options{}, "utf-8", "detected", "山田 太郎", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, recs := checkCapture(t, string(tt.in), tt.opts)
			assert.Equal(t, tt.encoding, rep.Encoding)
			assert.Equal(t, tt.source, rep.EncodingSource)
			if tt.wantName != "" {
				require.NotEmpty(t, recs)
				assert.Equal(t, tt.wantName, recs[len(recs)-1].Name)
			}
			if tt.wantReject != "" {
				require.NotEmpty(t, rep.Rejected)
				assert.Equal(t, tt.wantReject, rep.Rejected[len(rep.Rejected)-1].Code)
				assert.Equal(t, rep.Lines, rep.Rejected[len(rep.Rejected)-1].Line)
			}
		})
	}
}

// TestCheckShiftJISFixture reads testdata/shift_jis_bad_rows.csv, real
// CP932 bytes with CRLF, and expects exactly its bad rows to be reported.
func TestCheckShiftJISFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/shift_jis_bad_rows.csv")
	require.NoError(t, err)
	rep, recs := checkCapture(t, string(data), Options{})

	assert.Equal(t, "shift_jis", rep.Encoding)
	assert.Equal(t, "detected", rep.EncodingSource)
	assert.Equal(t, 17, rep.Lines)
	assert.Equal(t, outcome{
		Accepted: []int{2, 3, 4, 11, 15, 17},
		Dups:     map[int]int{7: 2, 16: 2},
		Rejected: map[int]string{5: codeEmail, 6: codePhone, 8: codeNoContact, 9: codeFieldCount, 10: codeEncoding},
		Blank:    []int{14},
		Warnings: map[int]string{17: warnUnassigned},
	}, outcomeOf(rep, recs))
	assert.Equal(t, []Column{{Index: 1, Name: "No.", Values: 13}}, rep.UnknownColumns)
	assert.Equal(t, []Recipient{
		{ID: "R00001", Line: 2, Name: "架空 一郎", Kana: "カクウ イチロウ", Email: "ichiro@example.jp", Phone: "+819012340001", PostalCode: "100-0001", Address: "東京都架空区見本町1-1"},
		{ID: "R00002", Line: 3, Name: "見本 花子", Kana: "ミホン ハナコ", Email: "hanako@example.jp", Phone: "+819012340002", PostalCode: "100-0002", Address: "東京都架空区見本町1-2 架空ビル①"},
		{ID: "R00003", Line: 4, Name: "髙橋 試験", Kana: "タカハシ シケン", Phone: "+81312340003"},
		{ID: "R00004", Line: 11, Name: "仮名 八郎", Kana: "カメイ ハチロウ", Email: "hachiro@example.jp", Address: "東京都架空区 見本町8-8"},
		{ID: "R00005", Line: 15, Name: "架空 花子", Kana: "カクウ ハナコ", Phone: "+819012340001"},
		{ID: "R00006", Line: 17, Name: "例示 九郎", Kana: "レイジ クロウ", Email: "kuro@example.jp", Phone: "+819000000099"},
	}, recs)
	reasons := map[int]string{}
	for _, r := range rep.Rejected {
		reasons[r.Line] = r.Reason
	}
	assert.Equal(t, "column メールアドレス: the e-mail address has no complete domain (like example.jp); correct it or leave the cell empty", reasons[5])
	assert.Contains(t, reasons[10], "column 氏名: contains bytes that are not valid Shift_JIS (CP932)")
}

// TestExamples pins what the demo lists in runbooks/examples contain.
func TestExamples(t *testing.T) {
	tests := []struct {
		file     string
		encoding string
		accepted int
		want     outcome // Accepted omitted
	}{
		{"missend-53.csv", "utf-8", 53, outcome{Warnings: warnEvery(2, 54, warnUnassigned)}},
		{"visible-recipients-29.csv", "utf-8", 29, outcome{}},
		{"broken-sjis.csv", "shift_jis", 2, outcome{
			Dups:     map[int]int{7: 2},
			Rejected: map[int]string{3: codeEmail, 4: codePhone, 6: codeNoContact, 8: codeFieldCount},
			Warnings: map[int]string{2: warnUnassigned, 5: warnUnassigned},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(examplesDir, tt.file))
			require.NoError(t, err)
			rep, recs := checkCapture(t, string(data), Options{})
			assert.Equal(t, tt.encoding, rep.Encoding)
			assert.Equal(t, tt.accepted, rep.Accepted)
			assert.Equal(t, tt.accepted, len(recs))
			got := outcomeOf(rep, recs)
			got.Accepted = nil
			want := tt.want
			for _, m := range []*map[int]int{&want.Dups} {
				if *m == nil {
					*m = map[int]int{}
				}
			}
			if want.Rejected == nil {
				want.Rejected = map[int]string{}
			}
			if want.Warnings == nil {
				want.Warnings = map[int]string{}
			}
			want.Blank = []int{}
			assert.Equal(t, want, got)
			assert.Empty(t, rep.UnknownColumns)
			emails := map[string]bool{}
			for _, r := range recs {
				if r.Email != "" {
					assert.True(t, strings.HasSuffix(r.Email, "@example.jp"), "fictitious domain only")
					emails[r.Email] = true
				}
				if r.Phone != "" {
					assert.True(t, strings.HasPrefix(r.Phone, "+8190000"), "unassigned range only")
				}
			}
		})
	}
}

func warnEvery(from, to int, code string) map[int]string {
	m := map[int]string{}
	for l := from; l <= to; l++ {
		m[l] = code
	}
	return m
}

// TestReportGolden pins the JSON form of the Report (its field names are a
// stable interface, docs/recipients.md) and the text form, for the broken
// Shift_JIS example.
func TestReportGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examplesDir, "broken-sjis.csv"))
	require.NoError(t, err)
	rep, err := Check(bytes.NewReader(data), Options{})
	require.NoError(t, err)
	js, err := json.MarshalIndent(rep, "", "  ")
	require.NoError(t, err)
	js = append(js, '\n')
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	for path, got := range map[string][]byte{
		"testdata/broken-sjis.report.json": js,
		"testdata/broken-sjis.report.txt":  text.Bytes(),
	} {
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test -run TestReportGolden -update")
		assert.Equal(t, string(want), string(got), path)
	}

	// The JSON round-trips, and its top-level keys are the documented ones.
	var back Report
	require.NoError(t, json.Unmarshal(js, &back))
	back.maxDetails = rep.maxDetails
	assert.Equal(t, rep, back)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(js, &keys))
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	assert.Equal(t, []string{
		"accepted", "blank_line_count", "blank_lines", "columns", "duplicate_count", "duplicates",
		"encoding", "encoding_source", "format", "header_line", "lines", "rejected", "rejected_count",
		"rows", "truncated", "unknown_columns", "version", "warning_count", "warnings",
	}, names)
}

// writeXLSX builds a workbook: sheet "名簿" with the given rows (nil row =
// left empty) and, when other is set, a second sheet.
func writeXLSX(t *testing.T, rows [][]any, other bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	require.NoError(t, f.SetSheetName("Sheet1", "名簿"))
	for i, row := range rows {
		if row == nil {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, err)
		require.NoError(t, f.SetSheetRow("名簿", cell, &row))
	}
	if other {
		_, err := f.NewSheet("集計")
		require.NoError(t, err)
		require.NoError(t, f.SetSheetRow("集計", "A1", &[]any{"電話番号", "メモ"}))
		require.NoError(t, f.SetSheetRow("集計", "A2", &[]any{"03-1234-5678", "x"}))
	}
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	return buf.Bytes()
}

func TestCheckXLSX(t *testing.T) {
	book := writeXLSX(t, [][]any{
		{"氏名", "メールアドレス", "電話番号", "郵便番号"},
		{"架空 太郎", "taro@example.jp", "090-1234-5678", "100-0001"},
		{"見本 花子", "", 9012345679, 1000002}, // numbers, as spreadsheets store them
		nil, // an empty row
		{"試験 一郎", "bad", "", ""},
		{"例示 次郎", "jiro@example.jp", "", "", "stray"}, // a value right of the header
		{"架空 太郎", "TARO@example.jp"},                  // trailing cells left empty
	}, true)
	rep, recs := checkCapture(t, string(book), Options{})
	assert.Equal(t, "xlsx", rep.Format)
	assert.Equal(t, "名簿", rep.Sheet)
	assert.Equal(t, 7, rep.Lines)
	assert.Equal(t, outcome{
		Accepted: []int{2, 3},
		Dups:     map[int]int{7: 2},
		Rejected: map[int]string{5: codeEmail, 6: codeExtraValue},
		Blank:    []int{4},
		Warnings: map[int]string{0: warnOtherSheets},
	}, outcomeOf(rep, recs))
	assert.Equal(t, Recipient{ID: "R00002", Line: 3, Name: "見本 花子", Phone: "+819012345679", PostalCode: "100-0002"}, recs[1])

	rep, recs = checkCapture(t, string(book), Options{Sheet: "集計"})
	assert.Equal(t, "集計", rep.Sheet)
	require.Len(t, recs, 1)
	assert.Equal(t, "+81312345678", recs[0].Phone)
	assert.Equal(t, []Column{{Index: 2, Name: "メモ", Values: 1}}, rep.UnknownColumns)

	_, err := Check(bytes.NewReader(book), Options{Sheet: "ない"})
	assert.ErrorIs(t, err, ErrUnsupportedFormat)

	_, err = Check(strings.NewReader("name,email\n"), Options{Format: FormatXLSX})
	assert.ErrorIs(t, err, ErrUnsupportedFormat, "a CSV forced to XLSX")
}

func TestWriteTextGroupsLines(t *testing.T) {
	in := "name,email\n" + strings.Repeat("A,bad\n", 4) + "B,b@example.jp\nC,bad\n"
	rep, err := Check(strings.NewReader(in), Options{})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, rep.WriteText(&b))
	assert.Contains(t, b.String(), "rows: 6 = 1 accepted + 0 duplicates + 5 rejected\n")
	assert.Contains(t, b.String(), "  lines 2-5, 7: column email: not a valid e-mail address; correct it or leave the cell empty\n")
}

func TestWriteTextReportsWriteErrors(t *testing.T) {
	rep, err := Check(strings.NewReader("name,email\nA,a@example.jp\n"), Options{})
	require.NoError(t, err)
	assert.Error(t, rep.WriteText(failingWriter{}))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
