// Package approvals ties an approval of a notice to a verified person, so
// that a quorum counts people, not names. Anyone who can reach Temporal can
// send approve_broadcast with any "by"; an approval counts only when it is
// signed (Ed25519) by a key of the organisation's approver registry
// (BREACHFLOW_APPROVER_KEYS on the worker):
//
//   - from the CLI, by the approver's own key (a file only they hold):
//     the identity is the key's ID, and "by" must be it;
//   - from Slack, by the front door's key (ID "slack"), which it uses only
//     after checking Slack's signature and the approver allowlist: the
//     identity is "slack:" and the Slack user ID.
//
// The statement signed binds the broadcast, the exact content fingerprint
// and the identity, so a signature cannot be replayed onto another notice,
// another revision or another name. Verification is pure (no clock, no
// I/O): the workflow does it in its update validator.
package approvals

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// SlackKeyID is the registry ID of the front door's key, which attests
// approvals made in Slack.
const SlackKeyID = "slack"

// Registry maps approver IDs to their public keys (standard base64 of the
// 32-byte Ed25519 key). It is public data: it travels in workflow
// histories.
type Registry struct {
	Keys map[string]string `json:"keys,omitempty"`
}

// Empty reports whether no key is registered: approvals are then
// unverified (the sandbox and development only; see SECURITY.md).
func (r Registry) Empty() bool { return len(r.Keys) == 0 }

// validID is what an approver ID may look like.
var validID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ParseRegistry reads BREACHFLOW_APPROVER_KEYS: "id=KEY;id2=KEY2", each KEY
// the public key `starter approver-key` printed.
func ParseRegistry(s string) (Registry, error) {
	r := Registry{Keys: map[string]string{}}
	for i, entry := range strings.Split(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, key, ok := strings.Cut(entry, "=")
		id, key = strings.TrimSpace(id), strings.TrimSpace(key)
		if !ok || !validID.MatchString(id) {
			return Registry{}, fmt.Errorf("approver keys, entry %d: want id=PUBLIC_KEY with a lower-case id (letters, digits, . _ -)", i+1)
		}
		if _, dup := r.Keys[id]; dup {
			return Registry{}, fmt.Errorf("approver keys, entry %d: %s is listed twice", i+1, id)
		}
		if _, err := publicKey(key); err != nil {
			return Registry{}, fmt.Errorf("approver keys, entry %d (%s): %w", i+1, id, err)
		}
		r.Keys[id] = key
	}
	return r, nil
}

// IDs lists the registered IDs, sorted.
func (r Registry) IDs() []string {
	ids := make([]string, 0, len(r.Keys))
	for id := range r.Keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func publicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("not an approver public key (base64 of 32 bytes, as `starter approver-key` prints it)")
	}
	return ed25519.PublicKey(b), nil
}

// SlackIdentity is the identity of an approval made in Slack by user.
func SlackIdentity(user string) string { return "slack:" + user }

// statement is what an approval signs.
func statement(broadcastID, fingerprint, identity string) []byte {
	return []byte("breachflow-approval-v1\n" + broadcastID + "\n" + fingerprint + "\n" + identity)
}

// Verify checks that sig is keyID's signature of an approval of the
// broadcast's exact fingerprint by identity, and that the identity is the
// one keyID may sign for: its own ID, or, for the front door's key, a Slack
// identity.
func (r Registry) Verify(keyID, broadcastID, fingerprint, identity, sig string) error {
	key, ok := r.Keys[keyID]
	if !ok {
		return fmt.Errorf("approval signed with key %q, which is not in the approver registry (BREACHFLOW_APPROVER_KEYS)", keyID)
	}
	switch {
	case keyID == SlackKeyID && !strings.HasPrefix(identity, "slack:"):
		return errors.New("the front door's key signs only approvals made in Slack")
	case keyID != SlackKeyID && identity != keyID:
		return fmt.Errorf("key %s signs only its own approvals, not %s's", keyID, identity)
	}
	pub, err := publicKey(key)
	if err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !ed25519.Verify(pub, statement(broadcastID, fingerprint, identity), raw) {
		return errors.New("the approval's signature does not match this notice, its fingerprint and its approver")
	}
	return nil
}

// Key is an approver's private key, as its file holds it.
type Key struct {
	ID   string
	priv ed25519.PrivateKey
}

// keyHeader starts an approver key file.
const keyHeader = "breachflow-approver-key-v1"

// GenerateKey makes a new key for id and returns its file's text (private:
// only its holder keeps it) and its registry entry (public).
func GenerateKey(id string) (file, entry string, err error) {
	if !validID.MatchString(id) {
		return "", "", fmt.Errorf("approver id %q: use lower-case letters, digits, . _ - (e.g. sato.misaki)", id)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate approver key: %w", err)
	}
	file = fmt.Sprintf("%s %s %s\n", keyHeader, id, base64.StdEncoding.EncodeToString(priv.Seed()))
	entry = id + "=" + base64.StdEncoding.EncodeToString(pub)
	return file, entry, nil
}

// ParseKey reads an approver key file's text.
func ParseKey(text string) (Key, error) {
	f := strings.Fields(text)
	if len(f) != 3 || f[0] != keyHeader || !validID.MatchString(f[1]) {
		return Key{}, errors.New("not an approver key file (make one with `starter approver-key ID`)")
	}
	seed, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil || len(seed) != ed25519.SeedSize {
		return Key{}, errors.New("the approver key file is damaged")
	}
	return Key{ID: f[1], priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Sign signs an approval of the broadcast's exact fingerprint by identity
// (the key's own ID, or a Slack identity for the front door's key).
func (k Key) Sign(broadcastID, fingerprint, identity string) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(k.priv, statement(broadcastID, fingerprint, identity)))
}
