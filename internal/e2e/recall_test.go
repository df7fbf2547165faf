//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// emailRecallRunbook asks by e-mail and needs only the e-mail confirmation.
const emailRecallRunbook = `kind: runbook
id: email-recall
version: 1
title: {ja: メール削除依頼, en: E-mail recall}
phases:
  recall:
    request: [email]
    confirm: [email]
    retry:
      email: {intervals: [1d], max_attempts: 3}
    calling_hours: {start: "09:00", end: "20:00", time_zone: Asia/Tokyo}
    concurrency: 25
    unreachable:
      title: {ja: 別の連絡手段を探す, en: Find another way to reach this person}
      owner: privacy-officer
      reminder: 1d
`

func emailList(n int, domain string) string {
	var b strings.Builder
	b.WriteString("name,email\n")
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&b, "Test Person %d,person%03d@%s\n", k, k, domain)
	}
	return b.String()
}

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/confirm/[A-Za-z0-9_\-.]+`)

// The thin path of issue #2, end to end: Incident -> one Recall per
// recipient (sliding window) -> SendGrid (real sendgrid-go, sandbox API) ->
// the simulated recipient GETs the page and POSTs the form -> the front door
// verifies the token and signals the Recall -> email_confirmed -> the
// Incident's counts.
func TestThinPath_EveryRecipientConfirmsByEmailLink(t *testing.T) {
	const clickers = 60
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: `
email:
  default: {persona: click, delay: 1s}
  recipients:
    - {match: "person061@scan.example.jp", persona: scanner, delay: 1s}
`})
	snap, diags := runbooks.Load("email-recall.yaml", []byte(emailRecallRunbook))
	if len(diags) > 0 {
		t.Fatalf("runbook: %v", diags)
	}
	list := emailList(clickers, "example.jp") + "Scanned Person,person061@scan.example.jp\n"
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "e2e thin path"}}, list)

	st := s.waitStatus(ctx, id, "60 e-mail confirmations", func(st workflows.IncidentStatus) bool {
		return st.Recall.EmailConfirmed == clickers && st.Recall.Requested == clickers+1
	})
	if st.Recall.Total != clickers+1 || st.Recall.Confirmed != clickers {
		t.Fatalf("counts = %+v", st.Recall)
	}

	// The scanner fetched its link (GET) and that confirmed nothing.
	scan := s.sandbox.Stats().Email["person061@scan.example.jp"]
	if scan.LinkGETs == 0 {
		t.Fatalf("the scanner persona never fetched its link: %+v", scan)
	}
	time.Sleep(time.Second) // a wrongly confirming GET would have signalled by now
	if st, _ := incidents.Status(ctx, s.client, id); st.Recall.EmailConfirmed != clickers {
		t.Fatalf("a GET of the confirmation link confirmed: %+v", st.Recall)
	}

	// The person behind the scanner then confirms through the page's form.
	link := linkFor(t, s, "person061@scan.example.jp")
	resp, err := http.PostForm(link, url.Values{"confirm": {"deleted"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST confirm = %d", resp.StatusCode)
	}
	st = s.waitStatus(ctx, id, "every recipient e-mail confirmed", func(st workflows.IncidentStatus) bool {
		return st.Recall.EmailConfirmed == clickers+1
	})
	if st.Phase != workflows.PhaseMonitoring || st.Recall.Confirmed != clickers+1 || st.Recall.Pending != 0 {
		t.Fatalf("status = %+v", st)
	}

	// Exactly one deletion request per recipient, each to one person.
	stats := s.sandbox.Stats()
	if len(stats.Email) != clickers+1 {
		t.Fatalf("sandbox saw %d addresses, want %d", len(stats.Email), clickers+1)
	}
	for addr, e := range stats.Email {
		if e.Messages != 1 || e.Duplicates != 0 {
			t.Errorf("%s received %d messages (%d duplicates), want exactly 1", addr, e.Messages, e.Duplicates)
		}
	}
	for _, m := range s.sandbox.Outbox() {
		if n := len(m.Recipients()); n != 1 {
			t.Errorf("message %s went to %d people", m.MessageID, n)
		}
	}
}

func linkFor(t *testing.T, s *stack, addr string) string {
	t.Helper()
	for _, m := range s.sandbox.Outbox() {
		if len(m.To) == 1 && m.To[0] == addr {
			if l := confirmLink.FindString(m.Text); l != "" {
				return l
			}
		}
	}
	t.Fatalf("no confirmation link sent to %s", addr)
	return ""
}
