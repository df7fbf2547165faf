package linktoken_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/linktoken"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	s, err := linktoken.NewSigner("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := linktoken.NewSigner("another-secret-another-secret-xx")
	good, err := s.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: linktoken.PurposeEmailConfirm, Attempt: 2, Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := other.Sign(linktoken.Claims{WorkflowID: "INC-1/recall/R00001", Purpose: linktoken.PurposeEmailConfirm, Expires: now.Add(time.Hour)})
	p, sig, _ := strings.Cut(good, ".")
	tampered := p[:len(p)-2] + "xx." + sig
	// respell changes the unused low bits of a base64 text's last
	// character: the same bytes under a lax decoder, another spelling.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	respell := func(b64 string, bits int) string {
		i := strings.IndexByte(alphabet, b64[len(b64)-1])
		return b64[:len(b64)-1] + string(alphabet[i^bits])
	}

	tests := []struct {
		name    string
		token   string
		purpose linktoken.Purpose
		at      time.Time
		wantErr error
	}{
		{"valid", good, linktoken.PurposeEmailConfirm, now, nil},
		{"expired", good, linktoken.PurposeEmailConfirm, now.Add(time.Hour), linktoken.ErrExpired},
		{"other purpose", good, linktoken.PurposeVoice, now, linktoken.ErrPurpose},
		{"forged with another secret", forged, linktoken.PurposeEmailConfirm, now, linktoken.ErrSignature},
		{"tampered payload", tampered, linktoken.PurposeEmailConfirm, now, linktoken.ErrSignature},
		{"signature respelled (low bit)", p + "." + respell(sig, 1), linktoken.PurposeEmailConfirm, now, linktoken.ErrMalformed},
		{"signature respelled (both unused bits)", p + "." + respell(sig, 3), linktoken.PurposeEmailConfirm, now, linktoken.ErrMalformed},
		{"signature padded", good + "=", linktoken.PurposeEmailConfirm, now, linktoken.ErrMalformed},
		{"payload respelled", respell(p, 1) + "." + sig, linktoken.PurposeEmailConfirm, now, linktoken.ErrSignature},
		{"no signature", p, linktoken.PurposeEmailConfirm, now, linktoken.ErrMalformed},
		{"garbage", "%%%.###", linktoken.PurposeEmailConfirm, now, linktoken.ErrMalformed},
		{"empty", "", linktoken.PurposeEmailConfirm, now, linktoken.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.Verify(tt.token, tt.purpose, tt.at)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (c.WorkflowID != "INC-1/recall/R00001" || c.Attempt != 2) {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

func TestNewSignerRefusesShortSecret(t *testing.T) {
	if _, err := linktoken.NewSigner("short"); err == nil {
		t.Fatal("want error for a short secret")
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := linktoken.NewSigner("0123456789abcdef0123456789abcdef")
	tok, _ := s.Sign(linktoken.Claims{WorkflowID: "w", Purpose: linktoken.PurposeVoice, Expires: time.Unix(2e9, 0)})
	f.Add(tok)
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token, linktoken.PurposeVoice, time.Unix(1e9, 0))
		if err == nil && c.WorkflowID == "" {
			t.Fatal("accepted a token without a workflow ID")
		}
	})
}
