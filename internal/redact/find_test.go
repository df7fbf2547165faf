package redact_test

import (
	"testing"

	"github.com/breachflow/breachflow/internal/redact"
)

func TestFindReportsWhatRedactHides(t *testing.T) {
	tests := []struct {
		in   string
		want []redact.Match
	}{
		{"連絡先はtaro@example.comです。", []redact.Match{{Kind: redact.KindEmail, Start: 12, End: 28, Key: "taro@example.com"}}},
		{"ｔａｒｏ＠ＥＸＡＭＰＬＥ．ｃｏｍ", []redact.Match{{Kind: redact.KindEmail, Start: 0, End: 48, Key: "taro@example.com"}}},
		{"tel 090-1234-5678, +81 90-1234-5678", []redact.Match{
			{Kind: redact.KindPhone, Start: 4, End: 17, Key: "09012345678"},
			{Kind: redact.KindPhone, Start: 19, End: 35, Key: "09012345678"}}},
		{"+81 (0)3-1234-5678", []redact.Match{{Kind: redact.KindPhone, Start: 0, End: 18, Key: "0312345678"}}},
		{"+1 (415) 555-0100", []redact.Match{{Kind: redact.KindPhone, Start: 0, End: 17, Key: "+14155550100"}}},
		{"INC-20261121-ABC234/recall/R00007 at 2026-11-21 10:00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := redact.Find(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("Find = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("match %d = %+v, want %+v", i, got[i], tt.want[i])
				}
				if r := redact.Redact(tt.in[got[i].Start:got[i].End]); r != redact.Email && r != redact.Phone {
					t.Errorf("match %d (%q) is not what Redact hides: %q", i, tt.in[got[i].Start:got[i].End], r)
				}
			}
		})
	}
}

func TestKeysFoldTheWaysOfWritingOneContact(t *testing.T) {
	for _, pair := range [][2]string{
		{redact.EmailKey("Privacy@Example.CO.JP"), redact.EmailKey("privacy@example.co.jp")},
		{redact.EmailKey("ｐｒｉｖａｃｙ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ"), "privacy@example.co.jp"},
		{redact.PhoneKey("0120-123-456"), redact.PhoneKey("+81 120 123 456")},
		{redact.PhoneKey("０１２０−１２３−４５６"), "0120123456"},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%q != %q", pair[0], pair[1])
		}
	}
}
