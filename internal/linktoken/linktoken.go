// Package linktoken makes and checks the opaque tokens breachflow puts in
// URLs it hands to the world: confirmation links in e-mails and SMS, and the
// correlation parameter of Twilio webhooks. A token names a workflow and a
// purpose, expires, and is signed with HMAC-SHA256; it never carries
// personal data.
package linktoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Purpose says what a token may be used for; a token for one purpose is
// refused for another.
type Purpose string

// Purposes.
const (
	PurposeEmailConfirm Purpose = "email-confirm" // confirmation link in the deletion-request e-mail
	PurposeSMSConfirm   Purpose = "sms-confirm"   // confirmation link in the deletion-request SMS
	PurposeVoice        Purpose = "voice"         // correlation of a Twilio call's webhooks
)

// Claims is what a token says.
type Claims struct {
	WorkflowID string    `json:"w"`
	Purpose    Purpose   `json:"p"`
	Attempt    int       `json:"a,omitempty"`
	Expires    time.Time `json:"-"`
	ExpiresAt  int64     `json:"e"`
}

// Errors returned by Verify.
var (
	ErrMalformed = errors.New("malformed token")
	ErrSignature = errors.New("token signature does not match")
	ErrExpired   = errors.New("token expired")
	ErrPurpose   = errors.New("token is for another purpose")
)

// Signer makes and verifies tokens with one secret.
type Signer struct{ key []byte }

// NewSigner returns a Signer; the secret should be 32+ random bytes.
func NewSigner(secret string) (*Signer, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("link secret too short: %d bytes, want 16 or more", len(secret))
	}
	// Derive a purpose-specific key so the secret is never used raw.
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("breachflow/linktoken/v1"))
	return &Signer{key: m.Sum(nil)}, nil
}

// enc is strict: a token has exactly one spelling (the unused low bits of
// the last character must be zero), so it can serve as its own key.
var enc = base64.RawURLEncoding.Strict()

// Sign returns a URL-safe token for the claims.
func (s *Signer) Sign(c Claims) (string, error) {
	if c.WorkflowID == "" || c.Purpose == "" || c.Expires.IsZero() {
		return "", fmt.Errorf("sign token: workflow ID, purpose and expiry are required")
	}
	c.ExpiresAt = c.Expires.Unix()
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	p := enc.EncodeToString(body)
	return p + "." + enc.EncodeToString(s.mac(p)), nil
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify checks the token's signature, purpose and expiry at now.
func (s *Signer) Verify(token string, want Purpose, now time.Time) (Claims, error) {
	if len(token) > 2048 {
		return Claims{}, ErrMalformed
	}
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" || sig == "" {
		return Claims{}, ErrMalformed
	}
	got, err := enc.DecodeString(sig)
	if err != nil || enc.EncodeToString(got) != sig {
		return Claims{}, ErrMalformed
	}
	if !hmac.Equal(got, s.mac(p)) {
		return Claims{}, ErrSignature
	}
	body, err := enc.DecodeString(p)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil || c.WorkflowID == "" {
		return Claims{}, ErrMalformed
	}
	c.Expires = time.Unix(c.ExpiresAt, 0)
	if c.Purpose != want {
		return Claims{}, ErrPurpose
	}
	if !now.Before(c.Expires) {
		return Claims{}, ErrExpired
	}
	return c, nil
}
