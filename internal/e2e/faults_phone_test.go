//go:build integration && faults

package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Fault tests of the phone path: a recall by call and SMS, confirmed on the
// phone keypad, while the worker is killed or Twilio fails a fifth of the
// requests. Every recipient must end in a named state (confirmed by phone;
// unreachable for the numbers Twilio refuses), no recipient may be lost or
// counted twice, and the calls and texts that went out twice for the same
// request are counted and reported.

// The recall's people: phoneFaultRecipients in all, of whom the first
// phoneFaultMissFirst miss the first call and answer the second, and the
// last phoneFaultInvalid have a number Twilio refuses (21211).
const (
	phoneFaultRecipients = 300
	phoneFaultMissFirst  = 30
	phoneFaultInvalid    = 4
)

// phoneFaultScenario: every callee answers at once and presses 1, except
// those who miss the first call and the invalid numbers.
const phoneFaultScenario = `
phone:
  default: {persona: press1}
  recipients:
    - {match: "+81902000*", persona: no_answer_then_press1, count: 1}
    - {match: "+81909000*", persona: invalid}
`

// phoneFaultRunbook asks by call and by SMS (the text carries the link),
// and needs the keypad confirmation; calls at any hour, a missed call is
// tried again after 3 s, the text again after a minute.
const phoneFaultRunbook = `kind: runbook
id: fault-phone-recall
version: 1
title: {ja: 電話とSMSの削除依頼, en: Phone and SMS recall}
phases:
  recall:
    request: [voice, sms]
    confirm: [phone]
    retry:
      voice: {intervals: [3s], max_attempts: 4}
      sms: {intervals: [1m], max_attempts: 2}
    calling_hours: {start: "00:00", end: "24:00", time_zone: Asia/Tokyo}
    unreachable:
      title: {ja: 別の方法で連絡する, en: Reach this person another way}
      owner: support
      reminder: 2d
`

// phoneFaultDeadline bounds each test (a guard against a hang).
const phoneFaultDeadline = 6 * time.Minute

// declarePhoneFaultRecall declares the recall over phoneFaultRecipients
// fictitious people.
func (s *stack) declarePhoneFaultRecall(ctx context.Context) string {
	s.t.Helper()
	snap, diags := runbooks.Load("fault-phone-recall.yaml", []byte(phoneFaultRunbook))
	if len(diags) > 0 {
		s.t.Fatalf("runbook: %v", diags)
	}
	var list strings.Builder
	list.WriteString("name,phone\n")
	for k := 1; k <= phoneFaultRecipients; k++ {
		fmt.Fprintf(&list, "Phone Person %d,%s\n", k, phoneFaultNumber(k, "0"))
	}
	return s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "phone fault test"}}, list.String())
}

// phoneFaultNumber is recipient k's number, national ("090-2000-0001",
// with prefix "0") or E.164 ("+819020000001", with prefix "+81").
func phoneFaultNumber(k int, prefix string) string {
	block := "1000"
	switch {
	case k <= phoneFaultMissFirst:
		block = "2000"
	case k > phoneFaultRecipients-phoneFaultInvalid:
		block = "9000"
	}
	if prefix == "0" {
		return fmt.Sprintf("090-%s-%04d", block, k)
	}
	return fmt.Sprintf("+8190%s%04d", block, k)
}

func phoneFaultIsInvalid(k int) bool { return k > phoneFaultRecipients-phoneFaultInvalid }

// phoneMidRun waits until a third of the recipients have been asked while
// a third are still pending.
func (s *stack) phoneMidRun(ctx context.Context, id string) workflows.RecallCounts {
	s.t.Helper()
	st := s.waitStatus(ctx, id, "a third of the recipients asked", func(st workflows.IncidentStatus) bool {
		return st.Recall.Requested >= phoneFaultRecipients/3
	})
	if st.Recall.Pending < phoneFaultRecipients/3 {
		s.t.Fatalf("the recall was nearly over before the fault: %+v", st.Recall)
	}
	return st.Recall
}

// phoneOutcome is what Twilio (the sandbox) saw of a finished recall.
type phoneOutcome struct {
	// calls and texts created; duplicate*: those beyond the first for the
	// same request (the same Recall and attempt), i.e. sent twice;
	// sandbox*: the sandbox's own duplicate counters (a call created while
	// another to the number was live; a text with the same body and
	// callback as an earlier one).
	calls, duplicateCalls, sandboxCallDuplicates int
	texts, duplicateTexts, sandboxTextDuplicates int
	// secondCalls: calls of a later attempt (after a missed call).
	secondCalls int
	// cancelled: request attempts recorded as cancelled (a send whose
	// answer was lost, no longer needed); lostAnswers: attempts recorded as
	// sent on the provider's report after their answer was lost.
	cancelled, lostAnswers int
}

func (o phoneOutcome) String() string {
	return fmt.Sprintf("%d calls (%d of a later attempt), %d duplicate calls (sandbox: %d while another was live); %d texts, %d duplicate texts (sandbox: %d); %d sends cancelled once moot, %d lost answers made good by Twilio's report",
		o.calls, o.secondCalls, o.duplicateCalls, o.sandboxCallDuplicates, o.texts, o.duplicateTexts, o.sandboxTextDuplicates, o.cancelled, o.lostAnswers)
}

// requirePhoneRecallSettled waits until the recall has settled, then checks
// that no recipient is lost or counted twice: the Incident's counts are
// exact, exactly one Recall per recipient exists in the state its callee
// explains (confirmed by phone, with one keypad confirmation, or
// unreachable for an invalid number), no provider event was applied twice,
// and every valid number heard the request and pressed 1.
func (s *stack) requirePhoneRecallSettled(ctx context.Context, id string) phoneOutcome {
	s.t.Helper()
	t, n, bad := s.t, phoneFaultRecipients, phoneFaultInvalid
	st := s.waitStatus(ctx, id, "every recipient settled", func(st workflows.IncidentStatus) bool {
		c := st.Recall
		return c.Confirmed+c.Unreachable+c.ClosedByOperator == n && c.Pending == 0
	})
	// The invalid numbers were never asked: Twilio refused the call and
	// the text.
	want := workflows.RecallCounts{Total: n, Requested: n - bad, PhoneConfirmed: n - bad, Confirmed: n - bad, Unreachable: bad}
	if st.Recall != want || st.Phase != workflows.PhaseMonitoring {
		t.Fatalf("incident: phase %s, counts %+v; want %s, %+v", st.Phase, st.Recall, workflows.PhaseMonitoring, want)
	}
	s.requireNoHealingNeeded(ctx, id, st, want)
	var invalid []string
	for k := n - bad + 1; k <= n; k++ {
		invalid = append(invalid, recipients.RecipientID(k))
	}
	if !slices.Equal(st.Unreachable, invalid) {
		t.Errorf("unreachable %v, want the invalid numbers %v", st.Unreachable, invalid)
	}

	query := fmt.Sprintf(`BreachIncidentID = %q AND WorkflowType = "Recall"`, id)
	closed := closedExecutions(ctx, t, s.client, query, n-bad)
	all := listExecutions(ctx, t, s.client, query)
	if len(all) != n || len(closed) != n-bad {
		t.Fatalf("%d Recall executions (%d closed), want exactly %d (%d closed)", len(all), len(closed), n, n-bad)
	}
	var o phoneOutcome
	for wid, rs := range recallResults(ctx, t, s, all) {
		wantState, wantConfirmations := workflows.StateConfirmed, 1
		if slices.Contains(invalid, rs.RecipientID) {
			wantState, wantConfirmations = workflows.StateUnreachable, 0
		}
		if rs.State != wantState || len(rs.Confirmations) != wantConfirmations {
			t.Errorf("%s: %s with %d confirmations, want %s with %d", wid, rs.State, len(rs.Confirmations), wantState, wantConfirmations)
		}
		seen := map[string]bool{}
		for _, e := range rs.Events {
			if id := e.Evidence.EventID; id != "" {
				if seen[id] {
					t.Errorf("%s: provider event %s applied twice", wid, id)
				}
				seen[id] = true
			}
		}
		for _, a := range rs.Attempts {
			switch {
			case strings.HasPrefix(a.Outcome, "cancelled"):
				o.cancelled++
			case strings.HasPrefix(a.Outcome, "sent (answer lost"):
				o.lostAnswers++
			}
		}
	}

	// What the callees did.
	stats := s.sandbox.Stats()
	for k := 1; k <= n; k++ {
		num := phoneFaultNumber(k, "+81")
		p := stats.Phone[num]
		if phoneFaultIsInvalid(k) {
			if p.Calls != 0 || p.Messages != 0 || p.Rejected < 2 {
				t.Errorf("%s (invalid): %+v, want refused calls and texts only", num, p)
			}
			continue
		}
		if !slices.Contains(p.Digits, "1") {
			t.Errorf("%s never pressed 1: %+v", num, p)
		}
	}

	// Requests sent twice: a call or text names its Recall and attempt in
	// the signed token of its status callback.
	links, err := linktoken.NewSigner(s.cfg.LinkSecret)
	if err != nil {
		t.Fatal(err)
	}
	request := func(callback string) string {
		u, err := url.Parse(callback)
		if err != nil {
			t.Fatalf("status callback %q: %v", callback, err)
		}
		c, err := links.Verify(u.Query().Get("t"), linktoken.PurposeVoice, time.Now())
		if err != nil {
			t.Fatalf("status callback token: %v", err)
		}
		return c.WorkflowID + "#" + strconv.Itoa(c.Attempt)
	}
	calls, texts := map[string]int{}, map[string]int{}
	for _, c := range s.sandbox.Calls() {
		calls[request(c.StatusCallback)]++
		if !strings.HasSuffix(request(c.StatusCallback), "#1") {
			o.secondCalls++
		}
	}
	for _, m := range s.sandbox.Messages() {
		texts[request(m.StatusCallback)]++
	}
	for _, c := range calls {
		o.calls += c
		o.duplicateCalls += c - 1
	}
	for _, c := range texts {
		o.texts += c
		o.duplicateTexts += c - 1
	}
	o.sandboxCallDuplicates, o.sandboxTextDuplicates = stats.PhoneTotals.CallDuplicates, stats.PhoneTotals.MessageDuplicates
	if o.calls < n-bad+phoneFaultMissFirst {
		t.Errorf("%d calls, want at least one per valid number and a second for each of the %d who missed the first", o.calls, phoneFaultMissFirst)
	}
	return o
}

// The worker process is killed with SIGKILL in the middle of a phone
// recall and started again. Calls and texts in flight when it died had
// their answers lost: each is retried after its 1-minute timeout unless
// its point is moot by then (the callee pressed 1, or Twilio reported
// how the call ended), which for a call it always is: no call goes twice.
func TestFault_PhoneWorkerKilledMidRecall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), phoneFaultDeadline)
	defer cancel()
	s := newStack(t, stackOptions{scenario: phoneFaultScenario, quiet: true, workerProcess: true})
	id := s.declarePhoneFaultRecall(ctx)

	at := s.phoneMidRun(ctx, id)
	s.worker.kill()
	t.Logf("worker killed (SIGKILL) at %+v", at)
	time.Sleep(2 * time.Second) // a supervisor's restart delay
	s.worker.restart()

	o := s.requirePhoneRecallSettled(ctx, id)
	t.Logf("phone recall after kill -9 and restart: %s", o)
	if o.duplicateCalls != 0 {
		t.Errorf("%d calls placed twice for the same request", o.duplicateCalls)
	}
}

// A fifth of the Twilio requests fail: 429 with Retry-After, 500, 502, or
// a timeout after Twilio placed the call or sent the text (the ambiguous
// failure). Every recipient still ends confirmed by phone (or unreachable
// for an invalid number); a call whose answer was lost is never placed
// again, because the callee's keypad answer or Twilio's status report
// arrives within a second, long before the retry (5 s after the 15 s
// client timeout).
func TestFault_PhoneProvidersFailAFifthOfTheCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), phoneFaultDeadline)
	defer cancel()
	s := newStack(t, stackOptions{scenario: phoneFaultScenario, quiet: true, workerProcess: true, failureRate: 0.2})
	id := s.declarePhoneFaultRecall(ctx)

	o := s.requirePhoneRecallSettled(ctx, id)
	t.Logf("phone recall with 20%% Twilio failures: %s", o)
	if o.duplicateCalls != 0 {
		t.Errorf("%d calls placed twice for the same request", o.duplicateCalls)
	}
}
