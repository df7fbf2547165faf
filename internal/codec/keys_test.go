package codec_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/codec"
)

// b64 encodes key(b) as an "id:base64key" value would carry it.
func b64(b byte) string { return base64.StdEncoding.EncodeToString(key(b)) }

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile := file("keys", "# breachflow payload keys, newest first\n\n  k2026b:"+b64('b')+"  \n# retired 2026-03: k2025z\nk2026a:"+b64('a')+"\n")
	cases := []struct {
		name        string
		env         map[string]string
		wantCurrent string
		wantIDs     []string
	}{
		{"one inline key", map[string]string{codec.EnvKeys: "k2026a:" + b64('a')}, "k2026a", []string{"k2026a"}},
		{"inline, first is current", map[string]string{codec.EnvKeys: "k2026b:" + b64('b') + ", k2026a:" + b64('a')}, "k2026b", []string{"k2026a", "k2026b"}},
		{"file with comments and blank lines", map[string]string{codec.EnvKeyFile: keyFile}, "k2026b", []string{"k2026a", "k2026b"}},
		{"inline then file", map[string]string{codec.EnvKeys: "k2027a:" + b64('c'), codec.EnvKeyFile: keyFile}, "k2027a", []string{"k2026a", "k2026b", "k2027a"}},
		{"same key in both places", map[string]string{codec.EnvKeys: "k2026a:" + b64('a'), codec.EnvKeyFile: keyFile}, "k2026a", []string{"k2026a", "k2026b"}},
		{"URL-safe unpadded base64", map[string]string{codec.EnvKeys: "k1:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))}, "k1", []string{"k1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := codec.LoadKeys(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatalf("LoadKeys: %v", err)
			}
			if keys.Current != tc.wantCurrent {
				t.Errorf("Current = %q, want %q", keys.Current, tc.wantCurrent)
			}
			if got := keys.IDs(); fmt.Sprint(got) != fmt.Sprint(tc.wantIDs) {
				t.Errorf("IDs = %v, want %v", got, tc.wantIDs)
			}
			for id, k := range keys.ByID {
				if len(k) != codec.KeySize {
					t.Errorf("key %s is %d bytes", id, len(k))
				}
			}
		})
	}
}

func TestLoadKeysErrorsNameTheProblemButNeverTheKey(t *testing.T) {
	dir := t.TempDir()
	conflicting := filepath.Join(dir, "keys")
	if err := os.WriteFile(conflicting, []byte("# one\nk2026a:"+b64('z')+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 16))
	long := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 33))
	notB64 := "this-is-not-base64!!secretsecret"
	alnumKey := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0x69, 0xa6, 0x9a}, 11)[:32]) // letters and digits only
	cases := []struct {
		name   string
		env    map[string]string
		want   string
		secret string // key material that must not appear in the error
	}{
		{"nothing configured", nil, "no payload encryption keys configured", ""},
		{"only whitespace", map[string]string{codec.EnvKeys: " , "}, "no payload encryption keys configured", ""},
		{"16-byte key", map[string]string{codec.EnvKeys: "k1:" + short}, `BREACHFLOW_CODEC_KEYS entry 1: key "k1": 16 bytes after base64 decoding, want 32`, short},
		{"33-byte key", map[string]string{codec.EnvKeys: "k0:" + b64('a') + ",k1:" + long}, `entry 2: key "k1": 33 bytes`, long},
		{"not base64", map[string]string{codec.EnvKeys: "k1:" + notB64}, `key "k1": not valid base64`, notB64},
		{"no colon", map[string]string{codec.EnvKeys: b64('a')}, "entry 1: want id:base64key", b64('a')},
		{"empty ID", map[string]string{codec.EnvKeys: ":" + b64('a')}, "want id:base64key", b64('a')},
		{"bad ID", map[string]string{codec.EnvKeys: "key one:" + b64('a')}, "entry 1: malformed key ID: want 1-32 characters", b64('a')},
		{"key and ID swapped", map[string]string{codec.EnvKeys: b64('a') + ":k1"}, "entry 1: malformed key ID", b64('a')},
		{"unpadded URL-safe key and ID swapped", map[string]string{codec.EnvKeys: alnumKey + ":k1"}, "entry 1: malformed key ID", alnumKey},
		{"same ID, different keys", map[string]string{codec.EnvKeys: "k2026a:" + b64('a'), codec.EnvKeyFile: conflicting}, conflicting + `:2: key ID "k2026a" is also defined at BREACHFLOW_CODEC_KEYS entry 1 with a different key`, b64('z')},
		{"missing file", map[string]string{codec.EnvKeyFile: filepath.Join(dir, "absent")}, "read BREACHFLOW_CODEC_KEY_FILE", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.LoadKeys(func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadKeys = %v, want error containing %q", err, tc.want)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error prints key material: %v", err)
			}
		})
	}
}

func TestLoadKeysWithoutConfigurationIsErrNoKeys(t *testing.T) {
	_, err := codec.LoadKeys(func(string) string { return "" })
	if !errors.Is(err, codec.ErrNoKeys) {
		t.Fatalf("LoadKeys = %v, want ErrNoKeys", err)
	}
	_, err = codec.LoadKeys(func(k string) string { return map[string]string{codec.EnvKeys: "k1:AAAA"}[k] })
	if errors.Is(err, codec.ErrNoKeys) {
		t.Fatalf("a malformed key is reported as ErrNoKeys: %v", err)
	}
}

func TestKeysNeverPrintKeyMaterial(t *testing.T) {
	keys := ring("k2026b", "k2026a")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("keys", "keys", keys)
	wrapped := struct{ Keys codec.Keys }{keys}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", keys),
		"%+v":  fmt.Sprintf("%+v", keys),
		"%#v":  fmt.Sprintf("%#v", keys),
		"%s":   keys.String(),
		"nest": fmt.Sprintf("%+v", wrapped),
		"slog": logged.String(),
	}
	for verb, out := range outputs {
		if !strings.Contains(out, "k2026a") || !strings.Contains(out, "k2026b") {
			t.Errorf("%s: %q does not name the key IDs", verb, out)
		}
		for _, id := range []string{"k2026a", "k2026b"} {
			k := keys.ByID[id]
			for _, form := range []string{string(k), base64.StdEncoding.EncodeToString(k), fmt.Sprint(k), fmt.Sprintf("%x", k)} {
				if strings.Contains(out, form) {
					t.Errorf("%s: %q contains key material of %s", verb, out, id)
				}
			}
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := codec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := codec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two generated keys are equal")
	}
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil || len(raw) != codec.KeySize {
		t.Fatalf("generated key %d bytes, %v; want %d", len(raw), err, codec.KeySize)
	}
	keys, err := codec.LoadKeys(func(k string) string {
		return map[string]string{codec.EnvKeys: "k-new:" + a + ",k-old:" + b}[k]
	})
	if err != nil {
		t.Fatalf("generated keys do not load: %v", err)
	}
	if _, err := codec.NewCodec(keys); err != nil {
		t.Fatalf("generated keys do not make a codec: %v", err)
	}
}
