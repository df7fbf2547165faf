//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// phoneRecallRunbook is seed 000's playbook (e-mail and call, confirmed by
// phone AND e-mail) with its clocks in seconds, so the retries run here.
const phoneRecallRunbook = `kind: runbook
id: phone-recall
version: 1
title: {ja: 電話とメールの削除依頼, en: Phone and e-mail recall}
phases:
  recall:
    request: [email, voice]
    confirm: [phone, email]
    retry:
      email: {intervals: [1m], max_attempts: 3}
      voice: {intervals: [3s], max_attempts: 3}
    calling_hours: {start: "00:00", end: "24:00", time_zone: Asia/Tokyo}
    unreachable:
      title: {ja: 別の連絡手段を探す, en: Find another way to reach this person}
      owner: support
      reminder: 1d
`

// The phone path of issue #4, end to end: Recall -> twilio-go (real client,
// sandbox API) -> the simulated callee fetches our TwiML (signed), hears the
// ja-JP request, presses 1 on the Gather -> the front door verifies the
// Twilio signature and the token and signals the Recall -> phone_confirmed;
// with the e-mail link as well -> confirmed.
func TestPhonePath_KeypadConfirmationsRetriesAndInvalidNumbers(t *testing.T) {
	const n = 8
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: `
email:
  default: {persona: click, delay: 1s}
phone:
  default: {persona: press1, delay: 1s}
  recipients:
    - {match: "+819000000007", persona: no_answer_then_press1, count: 1}
    - {match: "+15005550001", persona: invalid}
`})
	snap, diags := runbooks.Load("phone-recall.yaml", []byte(phoneRecallRunbook))
	if len(diags) > 0 {
		t.Fatalf("runbook: %v", diags)
	}
	var list strings.Builder
	list.WriteString("氏名,メールアドレス,電話番号\n")
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&list, "テスト 太郎%d,member%02d@example.jp,090-0000-%04d\n", k, k, k)
	}
	list.WriteString("テスト 無効,member09@example.jp,+1 500-555-0001\n") // Twilio's invalid magic number
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "e2e phone path"}}, list.String())

	st := s.waitStatus(ctx, id, "8 confirmed both ways and the invalid number unreachable", func(st workflows.IncidentStatus) bool {
		return st.Recall.Confirmed == n && st.Recall.Unreachable == 1
	})
	want := workflows.RecallCounts{Total: n + 1, Requested: n + 1, EmailConfirmed: n + 1, PhoneConfirmed: n, Confirmed: n, Unreachable: 1}
	if st.Recall != want {
		t.Fatalf("counts = %+v, want %+v", st.Recall, want)
	}
	if len(st.Unreachable) != 1 || st.Unreachable[0] != "R00009" {
		t.Fatalf("unreachable = %v", st.Unreachable)
	}

	stats := s.sandbox.Stats()
	for k := 1; k <= n; k++ {
		num := fmt.Sprintf("+8190000%05d", k)
		p := stats.Phone[num]
		wantCalls := 1
		if k == 7 {
			wantCalls = 2 // no answer, then answered on the retry
		}
		if p.Calls != wantCalls || p.CallDuplicates != 0 {
			t.Errorf("%s: %d calls (%d duplicates), want %d", num, p.Calls, p.CallDuplicates, wantCalls)
		}
		if len(p.Digits) != 1 || p.Digits[0] != "1" {
			t.Errorf("%s: digits %v, want [1]", num, p.Digits)
		}
	}
	if p := stats.Phone["+15005550001"]; p.Rejected != 1 || p.Calls != 0 {
		t.Errorf("invalid number: %+v, want one rejected create and no retry", p)
	}
	// The Japanese text-to-speech the callee heard: the organisation's
	// voice, asked of the call's Recall by the front door.
	heard := false
	for _, c := range s.sandbox.Calls() {
		for _, said := range c.Said {
			if said.Language == "ja-JP" && strings.HasPrefix(said.Text, "こちらは、株式会社サンプルでございます。") &&
				strings.Contains(said.Text, "1を押してください") && strings.Contains(said.Text, "0120-123-456") {
				heard = true
			}
		}
	}
	if !heard {
		t.Error("no call said, in ja-JP, who is calling, what to press and the desk's number")
	}
}
