package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
)

// TextCheck asks whether texts that go to people may go: a fact a
// responder changed (the title goes into notices, what leaked and the
// subject into every deletion request), a daily report. Parts are named as
// the findings should name them ("title", "text").
type TextCheck struct {
	IncidentID string               `json:"incident_id"`
	Parts      []contentscan.Part   `json:"parts"`
	Lists      []recipients.ListRef `json:"lists,omitempty"`
}

// TextCheckResult is what the check found: where and which rule, never
// what. No findings: the texts may go.
type TextCheckResult struct {
	Findings []contentscan.Finding `json:"findings,omitempty"`
}

// CheckText runs the check every notice passes on texts that are not
// notices: the patterns of personal data, and everyone on the incident's
// lists (names with or without spaces, kana, addresses however disguised,
// phone numbers in any form, postal addresses). The organisation's
// published contacts and address may appear. It runs on the e-mail task
// queue, where the lists are.
func (n *Notices) CheckText(ctx context.Context, in TextCheck) (TextCheckResult, error) {
	allow := n.Config.allowlist(n.Sender.Email)
	var res TextCheckResult
	var parts []contentscan.Part
	for _, p := range in.Parts {
		if strings.TrimSpace(p.Text) == "" {
			continue
		}
		parts = append(parts, p)
		for _, f := range contentscan.ScanContent("", p.Text, "", nil, allow).Findings {
			f.Part = p.Name
			res.Findings = append(res.Findings, f)
		}
	}
	if len(parts) == 0 {
		return res, nil
	}
	t := contentscan.IndexText(parts...)
	t.Allow(allow.Emails...)
	t.Allow(allow.Phones...)
	t.Allow(n.Config.Sender.Address, n.Config.Sender.PostalCode+n.Config.Sender.Address)
	found, err := recipients.FindPeople(ctx, n.Lists, t, in.Lists, func(done int) {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, done)
		}
	})
	if errors.Is(err, recipients.ErrFingerprint) || errors.Is(err, recipients.ErrBadRef) {
		return res, temporal.NewNonRetryableApplicationError("recipient list does not match its fingerprint", ErrTypeListTampered, err)
	}
	if err != nil {
		return res, fmt.Errorf("check the text of %s: %w", in.IncidentID, err)
	}
	res.Findings = append(res.Findings, found...)
	if len(res.Findings) > 0 {
		n.logger().Info("text refused by the leak check", "incident", in.IncidentID, "findings", len(res.Findings))
	}
	return res, nil
}
