package redact_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/breachflow/breachflow/internal/redact"
)

func TestRedactEmailAddresses(t *testing.T) {
	cases := []struct{ in, want string }{
		{"taro.yamada@example.com", "[email]"},
		{"to=taro.yamada@example.com status=sent", "to=[email] status=sent"},
		{"<Taro.Yamada+breach@mail.example.co.jp>", "<[email]>"},
		{`"first_last-1@sub.example.org"`, `"[email]"`},
		{"mailto:someone@example.com", "mailto:[email]"},
		{"a@b.cc", "[email]"},
		{"UPPER@EXAMPLE.COM", "[email]"},
		{"first.last+tag_1-x%y@example.com", "[email]"},
		{"o'brien@example.ie", "o'[email]"},
		{"two: a@example.com, b@example.org.", "two: [email], [email]."},
		{"adjacent a@example.com;b@example.com", "adjacent [email];[email]"},
		{"連絡先はtaro@example.comです。", "連絡先は[email]です。"},
		{"（taro@example.jp）", "（[email]）"},
		{"full-width at: taro＠example.com", "full-width at: [email]"},
		{"full-width all: ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "full-width all: [email]"},
		{"url-encoded: /unsubscribe?e=taro%40example.com&x=1", "url-encoded: /unsubscribe?e=[email]&x=1"},
		{"encoded at in a local part: x%40y@example.com", "encoded at in a local part: [email]"},
		{"internationalised: 太郎@例え.jp", "internationalised: [email]"},
		{"idn domain: taro@例え.jp", "idn domain: [email]"},
		{"trailing dot: a@example.com.", "trailing dot: [email]."},
		{"digit after tld: a@b.cc1", "digit after tld: [email]"},
		{"double at: x@a@example.com", "double at: x@[email]"},
		{"error: send to taro@example.com: 550 mailbox unavailable", "error: send to [email]: 550 mailbox unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := redact.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactPhoneNumbers(t *testing.T) {
	cases := []struct{ in, want string }{
		// International.
		{"+81 90-1234-5678", "[phone]"},
		{"+81-90-1234-5678", "[phone]"},
		{"+819012345678", "[phone]"},
		{"+81 (0)3-1234-5678", "[phone]"},
		{"+81(0)90-1234-5678", "[phone]"},
		{"+1 (415) 555-0100", "[phone]"},
		{"+1.415.555.0100", "[phone]"},
		{"+44 20 7946 0958", "[phone]"},
		{"+33 1 23 45 67 89", "[phone]"},
		{"+4915112345678", "[phone]"},
		{"twilio To=%2B819012345678&From=x", "twilio To=[phone]&From=x"},
		// Japanese national forms.
		{"090-1234-5678", "[phone]"},
		{"080 1234 5678", "[phone]"},
		{"070.1234.5678", "[phone]"},
		{"09012345678", "[phone]"},
		{"03-1234-5678", "[phone]"},
		{"0312345678", "[phone]"},
		{"06-6123-4567", "[phone]"},
		{"(03) 1234-5678", "[phone]"},
		{"(03)1234-5678", "[phone]"},
		{"03(1234)5678", "[phone]"},
		{"0120-123-456", "[phone]"},
		{"0466-12-3456", "[phone]"},
		// Full-width digits, dashes, parentheses and spaces.
		{"０９０－１２３４－５６７８", "[phone]"},
		{"０９０ー１２３４ー５６７８", "[phone]"},
		{"０３（１２３４）５６７８", "[phone]"},
		{"＋８１　９０　１２３４　５６７８", "[phone]"},
		{"090‐1234‐5678", "[phone]"},
		{"090–1234–5678", "[phone]"},
		// North American.
		{"415-555-0100", "[phone]"},
		{"(415) 555-0100", "[phone]"},
		{"1-800-555-0100", "[phone]"},
		// Other national forms with a trunk 0.
		{"020 7946 0958", "[phone]"},
		{"01 23 45 67 89", "[phone]"},
		// In context.
		{"tel:090-1234-5678", "tel:[phone]"},
		{"phone=09012345678 attempt=2", "phone=[phone] attempt=2"},
		{"電話番号は090-1234-5678です", "電話番号は[phone]です"},
		{"携帯:０９０１２３４５６７８まで", "携帯:[phone]まで"},
		{"call 090-1234-5678.", "call [phone]."},
		{"(tel 03-1234-5678)", "(tel [phone])"},
		{"numbers 090-1234-5678, 03-1234-5678", "numbers [phone], [phone]"},
		{"090-1234-5678 2026-11-21", "[phone] 2026-11-21"},
		{"/users/09012345678/profile", "/users/[phone]/profile"},
		{"dial +81 90 1234 5678 now", "dial [phone] now"},
		{"both taro@example.com 090-1234-5678", "both [email] [phone]"},
		{"taro@example.com/090-1234-5678", "[email]/[phone]"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := redact.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRedactLeavesIdentifiersAlone lists what breachflow logs all the time
// and must stay readable.
func TestRedactLeavesIdentifiersAlone(t *testing.T) {
	for _, s := range []string{
		"",
		"plain text without numbers",
		"recipient R00007 confirmed",
		"R0000012345",
		"INC-20261121-ABC234",
		"INC-20261121-ABC234/recall/R00007",
		"workflow INC-20261121-ABC234/recall/R00007 run 0193f3b6-7d1c-7c2a-9f1e-2b3c4d5e6f70",
		"uuid 01234567-0123-0123-0123-012345678901",
		"uuid 0e1d2c3b-4a59-6877-8695-a4b3c2d1e0f9",
		"call CA0123456789abcdef0123456789abcdef ringing",
		"message SM1234567890abcdef1234567890abcdef",
		"account AC00000000000000000000000000000000",
		"ts=1763712000",
		"ts=1763712000123",
		"ts=1763712000.123456",
		"2026-11-21",
		"2026-11-21T09:00:00+09:00",
		"2026-11-21 09:00:00",
		"2026/11/21 09:00",
		"12:34:56.789",
		"took 72h0m0s",
		"retry in 1m30.5s",
		"elapsed=250ms",
		"go.temporal.io/sdk@v1.50.0",
		"golang.org/x/net@v0.58.0/http2/server.go:123",
		"docker.io/temporalio/ui@sha256:0123456789abcdef",
		"version 1.2.3",
		"listening on 127.0.0.1:8233",
		"peer 192.168.100.200:7233",
		"ipv6 [2001:db8::1]:8080",
		"count=0 total=1234567890",
		"0.0123456789",
		"price ¥1,234,567,890",
		"sha256 09876543210fedcba",
		"id=abc-0312345678",
		"0312345678-ABC",
		"v090-1234-5678",
		"hex 0x0123456789",
		"port 08080",
		"postcode 〒100-0001",
		"attempts 3 of 10, backoff 2s",
		"list sha256=5d41402abc4b2a76b9719d911017c592",
		"bytes=1048576 rows=1000000",
		"user@localhost",
		"@channel deadline in 72h",
		"12345678901234567890",
		"+09:00",
		"4111 1111 1111 1111",
	} {
		if got := redact.Redact(s); got != s {
			t.Errorf("Redact(%q) = %q, want it unchanged", s, got)
		}
	}
}

// simpleEmail is the plain address pattern every output is checked against.
var simpleEmail = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

// FuzzRedact checks, for any input, that no plain address survives, that
// valid UTF-8 stays valid, that redacting twice changes nothing more, and
// that strings without digits or "@" are left alone. Seeds are in
// testdata/fuzz/FuzzRedact.
func FuzzRedact(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		out := redact.Redact(s)
		if m := simpleEmail.FindString(out); m != "" {
			t.Fatalf("Redact(%q) = %q still holds address %q", s, out, m)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Redact(%q) = %q is not valid UTF-8", s, out)
		}
		if again := redact.Redact(out); again != out {
			t.Fatalf("Redact is not idempotent: %q -> %q -> %q", s, out, again)
		}
		if !strings.Contains(s, "@") && !strings.ContainsAny(s, "0123456789０１２３４５６７８９%＠﹫") && out != s {
			t.Fatalf("Redact(%q) = %q changed a string without digits or @", s, out)
		}
	})
}
