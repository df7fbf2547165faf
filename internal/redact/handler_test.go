package redact_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/redact"
)

const (
	addr  = "taro.yamada@example.com"
	phone = "090-1234-5678"
)

// contact is a fmt.Stringer that prints personal data.
type contact struct{ email string }

func (c contact) String() string { return "contact <" + c.email + ">" }

// lazy is a slog.LogValuer that resolves to personal data.
type lazy struct{}

func (lazy) LogValue() slog.Value { return slog.StringValue("resolved " + addr) }

// textual is an encoding.TextMarshaler.
type textual struct{}

func (textual) MarshalText() ([]byte, error) { return []byte("text " + phone), nil }

// recipient is a struct logged whole.
type recipient struct {
	ID     string            `json:"id"`
	Email  string            `json:"email"`
	Phones []string          `json:"phones"`
	Meta   map[string]string `json:"meta"`
	Count  int               `json:"count"`
}

// newLogger returns a JSON logger behind the redacting handler.
func newLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(redact.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

func TestHandlerRedactsEverywhere(t *testing.T) {
	nilContact := (*net.IPNet)(nil)
	cases := []struct {
		name string
		log  func(l *slog.Logger)
		want string // a fragment of the JSON line
	}{
		{"message", func(l *slog.Logger) { l.Info("sending to " + addr) }, `"msg":"sending to [email]"`},
		{"string attribute", func(l *slog.Logger) { l.Info("m", "to", addr) }, `"to":"[email]"`},
		{"phone attribute", func(l *slog.Logger) { l.Info("m", "phone", "+81 90-1234-5678") }, `"phone":"[phone]"`},
		{"attribute key", func(l *slog.Logger) { l.Info("m", addr, 1) }, `"[email]":1`},
		{"group", func(l *slog.Logger) {
			l.Info("m", slog.Group("recipient", "id", "R00007", "email", addr, slog.Group("tel", "mobile", phone)))
		}, `"recipient":{"id":"R00007","email":"[email]","tel":{"mobile":"[phone]"}}`},
		{"error", func(l *slog.Logger) { l.Error("m", "err", fmt.Errorf("send: %w", errors.New("550 "+addr+" unknown"))) }, `"err":"send: 550 [email] unknown"`},
		{"stringer", func(l *slog.Logger) { l.Info("m", "who", contact{addr}) }, `"who":"contact <[email]>"`},
		{"nil stringer", func(l *slog.Logger) { l.Info("m", "net", nilContact) }, `"net":"<nil>"`},
		{"log valuer", func(l *slog.Logger) { l.Info("m", "v", lazy{}) }, `"v":"resolved [email]"`},
		{"log valuer in group", func(l *slog.Logger) { l.Info("m", slog.Group("g", "v", lazy{})) }, `"g":{"v":"resolved [email]"}`},
		{"text marshaler", func(l *slog.Logger) { l.Info("m", "t", textual{}) }, `"t":"text [phone]"`},
		{"bytes", func(l *slog.Logger) { l.Info("m", "raw", []byte("to "+addr)) }, `"raw":"to [email]"`},
		{"struct", func(l *slog.Logger) {
			l.Info("m", "r", recipient{ID: "R00007", Email: addr, Phones: []string{phone}, Meta: map[string]string{addr: "x"}, Count: 3})
		}, `"r":{"count":3,"email":"[email]","id":"R00007","meta":{"[email]":"x"},"phones":["[phone]"]}`},
		{"map", func(l *slog.Logger) { l.Info("m", "m", map[string]any{"to": addr, "n": 1}) }, `"m":{"n":1,"to":"[email]"}`},
		{"slice", func(l *slog.Logger) { l.Info("m", "s", []string{addr, "R00007"}) }, `"s":["[email]","R00007"]`},
		{"string-kinded type", func(l *slog.Logger) {
			type address string
			l.Info("m", "a", address(addr))
		}, `"a":"[email]"`},
		{"not JSON-encodable", func(l *slog.Logger) { l.Info("m", "c", make(chan string)) }, `"c":"0x`},
		{"with attrs", func(l *slog.Logger) { l.With("to", addr).Info("m") }, `"to":"[email]"`},
		{"with group", func(l *slog.Logger) { l.WithGroup("send").Info("m", "to", addr) }, `"send":{"to":"[email]"}`},
		{"with group named by an address", func(l *slog.Logger) { l.WithGroup(addr).Info("m", "n", 1) }, `"[email]":{"n":1}`},
		{"numbers, times and durations unchanged", func(l *slog.Logger) {
			l.Info("m", "n", 9012345678, "d", 72*time.Hour, "t", time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), "ok", true)
		}, `"n":9012345678,"d":259200000000000,"t":"2026-11-21T09:00:00Z","ok":true`},
		{"identifiers unchanged", func(l *slog.Logger) {
			l.Info("recall confirmed", "workflow", "INC-20261121-ABC234/recall/R00007", "sid", "CA0123456789abcdef0123456789abcdef", "at", int64(1763712000))
		}, `"msg":"recall confirmed","workflow":"INC-20261121-ABC234/recall/R00007","sid":"CA0123456789abcdef0123456789abcdef","at":1763712000`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(newLogger(&buf))
			line := buf.String()
			if !strings.Contains(line, tc.want) {
				t.Errorf("log line\n%s\ndoes not contain\n%s", line, tc.want)
			}
			for _, secret := range []string{addr, phone, "90-1234-5678"} {
				if strings.Contains(line, secret) {
					t.Errorf("log line holds %q:\n%s", secret, line)
				}
			}
			if !json.Valid(bytes.TrimSpace(buf.Bytes())) {
				t.Errorf("not valid JSON: %s", line)
			}
		})
	}
}

func TestHandlerWithTextHandler(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(redact.New(slog.NewTextHandler(&buf, nil)))
	l.With("incident", "INC-20261121-ABC234").Info("call "+phone, "to", addr, "r", recipient{Email: addr})
	line := buf.String()
	for _, want := range []string{`msg="call [phone]"`, "to=[email]", "incident=INC-20261121-ABC234", `\"email\":\"[email]\"`} {
		if !strings.Contains(line, want) {
			t.Errorf("%s\ndoes not contain %s", line, want)
		}
	}
	if strings.Contains(line, addr) || strings.Contains(line, phone) {
		t.Errorf("log line holds personal data: %s", line)
	}
}

func TestHandlerRespectsInnerLevelAndLeavesRecordAlone(t *testing.T) {
	var buf bytes.Buffer
	h := redact.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if h.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Info enabled behind a Warn handler")
	}
	if !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Error disabled behind a Warn handler")
	}
	r := slog.NewRecord(time.Now(), slog.LevelError, "to "+addr, 0)
	r.AddAttrs(slog.String("to", addr))
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if r.Message != "to "+addr {
		t.Errorf("Handle changed the caller's record message to %q", r.Message)
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.String() != addr {
			t.Errorf("Handle changed the caller's attribute to %q", a.Value)
		}
		return true
	})
	if strings.Contains(buf.String(), addr) {
		t.Errorf("output holds the address: %s", buf.String())
	}
}

func BenchmarkHandler(b *testing.B) {
	l := slog.New(redact.New(slog.NewJSONHandler(io.Discard, nil)))
	plain := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, bc := range []struct {
		name string
		l    *slog.Logger
		pii  bool
	}{
		{"redacted/typical", l, false},
		{"redacted/with-pii", l, true},
		{"baseline/typical", plain, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			to := "R00007"
			if bc.pii {
				to = addr + " " + phone
			}
			b.ReportAllocs()
			for b.Loop() {
				bc.l.Info("deletion request sent",
					"incident", "INC-20261121-ABC234",
					"workflow", "INC-20261121-ABC234/recall/R00007",
					"recipient", to,
					"attempt", 2,
					"sid", "SM0123456789abcdef0123456789abcdef",
					"elapsed", 250*time.Millisecond)
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"no-digits", "deletion request sent to the recipient"},
		{"ids", "INC-20261121-ABC234/recall/R00007 attempt 2 at 1763712000"},
		{"pii", "send to taro.yamada@example.com failed; calling 090-1234-5678 instead"},
		{"full-width", "連絡先：ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ　０９０－１２３４－５６７８"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = redact.Redact(bc.in)
			}
		})
	}
}
