// Package recipients reads the lists of people breachflow contacts, and
// accounts for every row: each input row is accepted, merged into an earlier
// duplicate, or rejected with its line number and reason. Lists travel
// through workflows as a ListRef, never as data.
package recipients

import (
	"errors"
	"fmt"

	"github.com/breachflow/breachflow/internal/contentscan"
)

// ListRef names a stored recipient list: where it is, the SHA-256 of its
// bytes, and how many recipients it accepted. Workflows carry ListRefs,
// never the lists themselves.
type ListRef struct {
	Location string `json:"location"` // key in the list store (content address)
	SHA256   string `json:"sha256"`
	Count    int    `json:"count"` // accepted recipients
}

// String is safe to log: it holds no personal data.
func (r ListRef) String() string {
	return fmt.Sprintf("list %s (%d recipients)", short(r.SHA256), r.Count)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Recipient is one accepted person. ID is opaque ("R00007": the index among
// accepted rows) and is the only part that may appear in workflow IDs,
// search attributes, logs or Slack.
type Recipient struct {
	ID         string `json:"id"`
	Line       int    `json:"line"` // 1-based line of the file, header = 1
	Name       string `json:"name,omitempty"`
	Kana       string `json:"kana,omitempty"`
	Email      string `json:"email,omitempty"` // normalised (lower-case domain)
	Phone      string `json:"phone,omitempty"` // E.164
	PostalCode string `json:"postal_code,omitempty"`
	Address    string `json:"address,omitempty"`
	TimeZone   string `json:"time_zone,omitempty"` // IANA; empty = the runbook's calling-hours zone
}

// RecipientID formats the opaque ID of the n-th (1-based) accepted recipient.
func RecipientID(n int) string { return fmt.Sprintf("R%05d", n) }

// ErrFingerprint means a stored list no longer matches its ListRef's SHA-256:
// it was changed or corrupted and must not be used.
var ErrFingerprint = errors.New("recipient list does not match its fingerprint")

// Person is the recipient's data as the leak check looks for it in
// messages to others (contentscan.Text.Find).
func (r Recipient) Person() contentscan.Person {
	return contentscan.Person{Name: r.Name, Kana: r.Kana, Email: r.Email, Phone: r.Phone, Address: r.PostalCode + " " + r.Address}
}
