package codec

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Environment variables read by LoadKeys.
const (
	// EnvKeys holds keys inline: "id:base64key,id:base64key", the first one
	// current.
	EnvKeys = "BREACHFLOW_CODEC_KEYS"
	// EnvKeyFile names a file with one "id:base64key" per line, the first
	// one current (after EnvKeys' keys, if both are set). Blank lines and
	// lines starting with # are ignored.
	EnvKeyFile = "BREACHFLOW_CODEC_KEY_FILE"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

// ErrNoKeys is returned (wrapped) by LoadKeys when neither EnvKeys nor
// EnvKeyFile is set, so that a caller can tell "not configured" from
// "misconfigured".
var ErrNoKeys = errors.New("no payload encryption keys configured")

// validKeyID is the shape of a key ID: it is stored in clear in every
// payload's metadata and appears in error messages, and must not contain
// the separators of the key list format. At most 32 characters, so that a
// base64 key (43 or 44) written where the ID belongs is never a valid ID,
// and so never printed.
var validKeyID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// keyIDRule describes validKeyID in error messages.
const keyIDRule = "want 1-32 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit"

// Keys is a key ring: payloads are encrypted with Current, and decrypted
// with whichever key their metadata names, so that old payloads stay
// readable after a rotation as long as their key stays in ByID.
//
// Keys never prints key material: String, GoString and LogValue show only
// the key IDs.
type Keys struct {
	Current string            // ID of the key that encrypts
	ByID    map[string][]byte // every key that may decrypt, Current included; 32 bytes each
}

// Validate checks that the ring can encrypt and decrypt: a well-formed
// current key ID present in ByID, and every key ID well formed and every
// key exactly KeySize bytes.
func (k Keys) Validate() error {
	if len(k.ByID) == 0 {
		return ErrNoKeys
	}
	for _, id := range k.IDs() {
		if !validKeyID.MatchString(id) {
			// Not quoted: a malformed ID may be key material in the wrong place.
			return fmt.Errorf("a key ID is malformed: %s", keyIDRule)
		}
		if n := len(k.ByID[id]); n != KeySize {
			return fmt.Errorf("key %q is %d bytes, want %d (AES-256)", id, n, KeySize)
		}
	}
	if k.Current == "" {
		return errors.New("no current key ID")
	}
	if _, ok := k.ByID[k.Current]; !ok {
		return fmt.Errorf("current key ID %q is not among the configured keys %v", k.Current, k.IDs())
	}
	return nil
}

// IDs returns the configured key IDs, sorted.
func (k Keys) IDs() []string {
	ids := make([]string, 0, len(k.ByID))
	for id := range k.ByID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String describes the ring by its key IDs only.
func (k Keys) String() string {
	return fmt.Sprintf("codec.Keys{Current: %q, IDs: %q}", k.Current, k.IDs())
}

// GoString is String, so that %#v does not print key material either.
func (k Keys) GoString() string { return k.String() }

// LogValue logs the key IDs only.
func (k Keys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("current", k.Current), slog.Any("ids", k.IDs()))
}

// LoadKeys reads the key ring from the environment through getenv
// (os.Getenv in production): EnvKeys, then the file named by EnvKeyFile.
// The first key listed is current. The same ID may appear in both places
// only with the same key. Without either variable the error wraps
// ErrNoKeys. Error messages name variables, files, lines and key IDs,
// never key material.
func LoadKeys(getenv func(string) string) (Keys, error) {
	inline := strings.TrimSpace(getenv(EnvKeys))
	path := strings.TrimSpace(getenv(EnvKeyFile))
	if inline == "" && path == "" {
		return Keys{}, fmt.Errorf("%w: set %s or %s (generate a key with `starter codec-key`)", ErrNoKeys, EnvKeys, EnvKeyFile)
	}
	r := ring{keys: Keys{ByID: map[string][]byte{}}, from: map[string]string{}}
	if inline != "" {
		for i, entry := range strings.FieldsFunc(inline, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' }) {
			if strings.TrimSpace(entry) == "" {
				continue
			}
			if err := r.add(entry, fmt.Sprintf("%s entry %d", EnvKeys, i+1)); err != nil {
				return Keys{}, err
			}
		}
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Keys{}, fmt.Errorf("read %s: %w", EnvKeyFile, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			if err := r.add(text, fmt.Sprintf("%s:%d", path, line)); err != nil {
				return Keys{}, err
			}
		}
		if err := sc.Err(); err != nil {
			return Keys{}, fmt.Errorf("read %s %s: %w", EnvKeyFile, path, err)
		}
	}
	if len(r.keys.ByID) == 0 {
		return Keys{}, fmt.Errorf("%w: %s and %s list no keys", ErrNoKeys, EnvKeys, EnvKeyFile)
	}
	if err := r.keys.Validate(); err != nil {
		return Keys{}, fmt.Errorf("payload encryption keys: %w", err)
	}
	return r.keys, nil
}

// ring accumulates keys while loading, remembering where each came from.
type ring struct {
	keys Keys
	from map[string]string
}

// add parses one "id:base64key" entry found at where.
func (r *ring) add(entry, where string) error {
	id, encoded, ok := strings.Cut(strings.TrimSpace(entry), ":")
	id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
	if !ok || id == "" || encoded == "" {
		return fmt.Errorf("%s: want id:base64key", where)
	}
	if !validKeyID.MatchString(id) {
		// Not quoted: a malformed ID may be key material in the wrong place.
		return fmt.Errorf("%s: malformed key ID: %s", where, keyIDRule)
	}
	key, err := decodeKey(encoded)
	if err != nil {
		return fmt.Errorf("%s: key %q: %w", where, id, err)
	}
	if prev, dup := r.keys.ByID[id]; dup {
		if !bytes.Equal(prev, key) {
			return fmt.Errorf("%s: key ID %q is also defined at %s with a different key", where, id, r.from[id])
		}
		return nil
	}
	if r.keys.Current == "" {
		r.keys.Current = id
	}
	r.keys.ByID[id] = key
	r.from[id] = where
	return nil
}

// decodeKey decodes standard or URL-safe base64, padded or not, and checks
// the length. Its errors never include the input.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("%d bytes after base64 decoding, want %d (AES-256)", len(key), KeySize)
		}
		return key, nil
	}
	return nil, errors.New("not valid base64")
}

// GenerateKey returns a new random AES-256 key, base64 encoded (standard
// alphabet, padded): the value half of an "id:base64key" entry.
func GenerateKey() (string, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}
