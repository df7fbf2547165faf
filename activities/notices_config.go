package activities

import (
	"fmt"
	"net/mail"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/redact"
	"github.com/breachflow/breachflow/internal/roles"
	"github.com/breachflow/breachflow/runbooks"
)

// NoticeConfig is the organisation's configuration of notices and
// letters, read from the environment by LoadNoticeConfig.
type NoticeConfig struct {
	// Roles maps the runbooks' approver roles (privacy-officer, legal,
	// ...) to the addresses that receive the test send (BREACHFLOW_ROLES).
	Roles roles.Directory
	// Published is the organisation's published contacts, which notices
	// may quote (BREACHFLOW_PUBLISHED_CONTACTS); the configured desk
	// (Org) and the sender are added to it.
	Published contentscan.Allowlist
	// Org fills what a broadcast leaves empty of the notice's data:
	// organisation name and contact desk (BREACHFLOW_ORG_NAME,
	// BREACHFLOW_CONTACT_EMAIL, BREACHFLOW_CONTACT_PHONE,
	// BREACHFLOW_CONTACT_HOURS).
	Org runbooks.NoticeData
	// Sender is the sender of cease-and-desist letters
	// (BREACHFLOW_ORG_NAME, BREACHFLOW_ORG_POSTAL_CODE,
	// BREACHFLOW_ORG_ADDRESS, BREACHFLOW_ORG_REPRESENTATIVE,
	// BREACHFLOW_ORG_DEPARTMENT, BREACHFLOW_CONTACT_PHONE).
	Sender letters.Party
	// LetterDir is where letters are stored (BREACHFLOW_LETTER_DIR).
	LetterDir string
	// SendGridRPS bounds mail-send requests per second per worker
	// (BREACHFLOW_SENDGRID_RPS; 0 = unbounded).
	SendGridRPS float64
	// Approvers is the approver registry (BREACHFLOW_APPROVER_KEYS): with
	// it, a notice's approvals count only signed by registered people.
	Approvers approvals.Registry
}

// LoadNoticeConfig reads the NoticeConfig through getenv (os.Getenv in
// production).
//
//	BREACHFLOW_ROLES="privacy-officer=dpo@example.com;legal=counsel@example.com,legal2@example.com"
//	BREACHFLOW_PUBLISHED_CONTACTS="privacy@example.com,0120-123-456"
func LoadNoticeConfig(getenv func(string) string) (NoticeConfig, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := NoticeConfig{
		Org: runbooks.NoticeData{
			Organization: get("BREACHFLOW_ORG_NAME", ""), ContactEmail: get("BREACHFLOW_CONTACT_EMAIL", ""),
			ContactPhone: get("BREACHFLOW_CONTACT_PHONE", ""), ContactHours: get("BREACHFLOW_CONTACT_HOURS", ""),
		},
		Sender: letters.Party{
			Name: get("BREACHFLOW_ORG_NAME", ""), PostalCode: get("BREACHFLOW_ORG_POSTAL_CODE", ""),
			Address: get("BREACHFLOW_ORG_ADDRESS", ""), Representative: get("BREACHFLOW_ORG_REPRESENTATIVE", ""),
			Department: get("BREACHFLOW_ORG_DEPARTMENT", ""), Phone: get("BREACHFLOW_CONTACT_PHONE", ""),
		},
		LetterDir: filepath.Clean(get("BREACHFLOW_LETTER_DIR", "data/letters")),
	}
	var err error
	if c.Roles, err = roles.FromEnv(getenv); err != nil {
		return NoticeConfig{}, err
	}
	if c.Published, err = ParseContacts(get("BREACHFLOW_PUBLISHED_CONTACTS", "")); err != nil {
		return NoticeConfig{}, fmt.Errorf("BREACHFLOW_PUBLISHED_CONTACTS: %w", err)
	}
	rps := get("BREACHFLOW_SENDGRID_RPS", "10")
	if c.SendGridRPS, err = strconv.ParseFloat(rps, 64); err != nil || c.SendGridRPS < 0 {
		return NoticeConfig{}, fmt.Errorf("BREACHFLOW_SENDGRID_RPS=%q: want a number of requests per second, 0 for no bound", rps)
	}
	if c.Approvers, err = approvals.ParseRegistry(get("BREACHFLOW_APPROVER_KEYS", "")); err != nil {
		return NoticeConfig{}, fmt.Errorf("BREACHFLOW_APPROVER_KEYS: %w", err)
	}
	return c, nil
}

// ParseContacts parses a comma-separated list of e-mail addresses and
// phone numbers.
func ParseContacts(s string) (contentscan.Allowlist, error) {
	var a contentscan.Allowlist
	for i, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		switch {
		case c == "":
		case strings.Contains(c, "@"):
			if _, err := mail.ParseAddress(c); err != nil {
				return a, fmt.Errorf("entry %d: not an e-mail address", i+1)
			}
			a.Emails = append(a.Emails, c)
		default:
			if m := redact.Find(c); len(m) != 1 || m[0].Kind != redact.KindPhone {
				return a, fmt.Errorf("entry %d: neither an e-mail address nor a phone number", i+1)
			}
			a.Phones = append(a.Phones, c)
		}
	}
	return a, nil
}

// fillNotice completes a broadcast's notice data from the configuration.
func (c NoticeConfig) fillNotice(d runbooks.NoticeData) runbooks.NoticeData {
	if d.Organization == "" {
		d.Organization = c.Org.Organization
	}
	if d.ContactEmail == "" {
		d.ContactEmail = c.Org.ContactEmail
	}
	if d.ContactPhone == "" {
		d.ContactPhone = c.Org.ContactPhone
	}
	if d.ContactHours == "" {
		d.ContactHours = c.Org.ContactHours
	}
	return d
}

// allowlist is what a notice may quote: the configured published
// contacts, the configured desk and the sender. A desk given by the
// broadcast itself is not trusted: it must be one of them, or the scan
// refuses it like any other address.
func (c NoticeConfig) allowlist(sender string) contentscan.Allowlist {
	a := contentscan.Allowlist{
		Emails: append([]string(nil), c.Published.Emails...),
		Phones: append([]string(nil), c.Published.Phones...),
	}
	for _, e := range []string{c.Org.ContactEmail, sender} {
		if e != "" {
			a.Emails = append(a.Emails, e)
		}
	}
	if c.Org.ContactPhone != "" {
		a.Phones = append(a.Phones, c.Org.ContactPhone)
	}
	return a
}

// RequireVerifiedApprovals refuses a worker that would send notices to
// real people (real SendGrid credentials) with no approver registry: every
// approval would be taken at its word, and one person could meet any
// quorum alone (SECURITY.md). The sandbox needs none.
func RequireVerifiedApprovals(realSendGrid bool, nc NoticeConfig) error {
	if realSendGrid && nc.Approvers.Empty() {
		return fmt.Errorf("BREACHFLOW_APPROVER_KEYS is required with real SendGrid credentials: notices go out only on verified approvals (make each approver a key with `starter approver-key ID`)")
	}
	return nil
}
