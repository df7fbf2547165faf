//go:build integration && faults

package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Fault tests: seed 004's recall (1,016 recipients, e-mail request and
// e-mail confirmation) while something fails: the worker is killed, the
// Temporal server restarts, the providers fail a fifth of the calls, the
// front door restarts. Each time every recipient must end in a named state
// (confirmed; unreachable for the few whose address bounces), no recipient
// may be lost or counted twice, and the duplicate sends the sandbox saw are
// reported.
//
// They take minutes, so they have their own build tag and make target:
// `make test-faults` (run by CI after `make test`). The deadlines are
// deadlock guards, not performance targets.

// faultRecipients is seed 004's count of wrong recipients; the last
// faultBounces of them have an address that bounces.
const (
	faultRecipients = benchRecipients
	faultBounces    = 8
)

// faultScenario: everyone clicks the link at once, except the addresses
// that bounce.
const faultScenario = `
email:
  default: {persona: click}
  recipients:
    - {match: "*@bounce.example.jp", persona: bounce}
`

// faultRecallRunbook is seed 004's recall with the reminder brought from a
// day to 10 s: a person whose click was lost to an outage (the page said
// "please try again") is asked again within the test.
const faultRecallRunbook = `kind: runbook
id: fault-recall
version: 1
title: {ja: 削除依頼, en: Deletion request}
phases:
  recall:
    request: [email]
    confirm: [email]
    retry:
      email: {intervals: [10s], max_attempts: 6}
    unreachable:
      title: {ja: 別の方法で連絡する, en: Reach this person another way}
      owner: support
      reminder: 2d
`

// faultDeadline bounds each fault test (a guard against a hang, not a
// timing assertion).
const faultDeadline = 10 * time.Minute

// newFaultStack is a stack with the fault scenario.
func newFaultStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	opts.scenario, opts.quiet = faultScenario, true
	return newStack(t, opts)
}

// declareFaultRecall declares seed 004's recall over faultRecipients
// fictitious people, the last faultBounces of whom bounce.
func (s *stack) declareFaultRecall(ctx context.Context) string {
	s.t.Helper()
	snap, diags := runbooks.Load("fault-recall.yaml", []byte(faultRecallRunbook))
	if len(diags) > 0 {
		s.t.Fatalf("runbook: %v", diags)
	}
	list := emailList(faultRecipients-faultBounces, "example.jp")
	for k := 1; k <= faultBounces; k++ {
		list += fmt.Sprintf("Bounce Person %d,bounce%d@bounce.example.jp\n", k, k)
	}
	return s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "fault test"}}, list)
}

// midRun waits until a third of the recipients have been asked while many
// are still pending, and returns the counts at that moment.
func (s *stack) midRun(ctx context.Context, id string) workflows.RecallCounts {
	s.t.Helper()
	st := s.waitStatus(ctx, id, "a third of the recipients asked", func(st workflows.IncidentStatus) bool {
		return st.Recall.Requested >= faultRecipients/3
	})
	if st.Recall.Pending < faultRecipients/3 {
		s.t.Fatalf("the recall was nearly over before the fault: %+v", st.Recall)
	}
	return st.Recall
}

// recallOutcome is what the providers saw of a finished recall.
type recallOutcome struct {
	// messages sent, to how many addresses; duplicates are messages beyond
	// the first with the same request key (the same attempt sent twice);
	// reminders are messages of a later attempt.
	messages, addresses, duplicates, reminders int
	// webhookPosts of SendGrid events to the front door, webhookFailures
	// among them (each was retried); reports: bounce reports applied to the
	// Recalls, over all of them (a "delivered" report changes nothing in a
	// Recall: the front door takes it and signals nothing); bouncedMessages:
	// messages sent to the addresses that bounce.
	webhookPosts, webhookFailures, reports, bouncedMessages int
	// lostClicks: confirmation clicks that failed (the front door or the
	// server was away); each person then clicked a reminder.
	lostClicks int
}

func (o recallOutcome) String() string {
	return fmt.Sprintf("%d messages to %d addresses: %d duplicate sends, %d reminders; %d event webhook posts, %d failed and retried, %d bounce reports applied for %d bounced messages; %d confirmation clicks lost",
		o.messages, o.addresses, o.duplicates, o.reminders, o.webhookPosts, o.webhookFailures, o.reports, o.bouncedMessages, o.lostClicks)
}

// requireEveryRecipientSettled waits until the recall has settled, then
// checks that no recipient is lost or counted twice: the Incident counts
// every recipient exactly once, as confirmed or (the bounces) unreachable;
// exactly one Recall per recipient exists, in that state (closed when
// confirmed; still open for a human when unreachable), with no
// confirmation and no provider event applied twice; and every address got
// a deletion request, and confirmed it or bounced.
func (s *stack) requireEveryRecipientSettled(ctx context.Context, id string) recallOutcome {
	s.t.Helper()
	t, n, b := s.t, faultRecipients, faultBounces
	st := s.waitStatus(ctx, id, "every recipient settled", func(st workflows.IncidentStatus) bool {
		c := st.Recall
		return c.Confirmed+c.Unreachable+c.ClosedByOperator == n && c.Pending == 0
	})
	want := workflows.RecallCounts{Total: n, Requested: n, EmailConfirmed: n - b, Confirmed: n - b, Unreachable: b}
	if st.Recall != want || st.Phase != workflows.PhaseMonitoring {
		t.Fatalf("incident: phase %s, counts %+v; want %s, %+v", st.Phase, st.Recall, workflows.PhaseMonitoring, want)
	}
	s.requireNoHealingNeeded(ctx, id, st, want)
	var bounced []string
	for k := n - b + 1; k <= n; k++ {
		bounced = append(bounced, recipients.RecipientID(k))
	}
	if !slices.Equal(st.Unreachable, bounced) {
		t.Errorf("unreachable %v, want the bounced %v", st.Unreachable, bounced)
	}

	// One Recall per recipient, each in a named state.
	query := fmt.Sprintf(`BreachIncidentID = %q AND WorkflowType = "Recall"`, id)
	closed := closedExecutions(ctx, t, s.client, query, n-b)
	all := listExecutions(ctx, t, s.client, query)
	if len(all) != n || len(closed) != n-b {
		t.Fatalf("%d Recall executions (%d closed), want exactly %d (%d closed)", len(all), len(closed), n, n-b)
	}
	wids := map[string]bool{}
	for _, e := range all {
		wids[e.GetExecution().GetWorkflowId()] = true
	}
	for k := 1; k <= n; k++ {
		if wid := workflows.RecallWorkflowID(id, recipients.RecipientID(k)); !wids[wid] {
			t.Errorf("no Recall %s", wid)
		}
	}

	// What each Recall recorded: its state, one confirmation at most, each
	// provider event once.
	results := recallResults(ctx, t, s, all)
	bounceReports := map[string]int{} // by Recall workflow ID
	for wid, rs := range results {
		wantState, wantConfirmations := workflows.StateConfirmed, 1
		if slices.Contains(bounced, rs.RecipientID) {
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
			if e.Kind == workflows.DeliveryBounced {
				bounceReports[wid]++
			}
		}
	}

	// What the providers and the people saw.
	stats := s.sandbox.Stats()
	o := recallOutcome{messages: stats.EmailTotals.Messages, addresses: len(stats.Email), duplicates: stats.EmailTotals.Duplicates,
		webhookPosts: stats.EmailTotals.WebhookPosts, webhookFailures: stats.EmailTotals.WebhookFailures}
	if o.addresses != n {
		t.Errorf("the sandbox saw %d addresses, want %d", o.addresses, n)
	}
	for addr, e := range stats.Email {
		switch {
		case strings.HasSuffix(addr, "@bounce.example.jp"):
			if e.Bounced < 1 || e.Confirmed != 0 {
				t.Errorf("%s: %+v, want a bounce", addr, e)
			}
			o.bouncedMessages += e.Messages
		case e.Confirmed < 1:
			t.Errorf("%s never confirmed (%+v)", addr, e)
		}
		o.lostClicks += e.FormPOSTs - e.Confirmed
		if e.LinkGETs > e.FormPOSTs {
			o.lostClicks += e.LinkGETs - e.FormPOSTs // the page itself did not load
		}
	}
	// Bounce reports applied to a Recall never outnumber the messages sent
	// to its person: a webhook retried after a restart counts once.
	messagesTo := map[string]int{} // by Recall workflow ID
	keys := map[string]bool{}
	for _, m := range s.sandbox.Outbox() {
		wid := m.CustomArgs[activities.ArgRecallID]
		messagesTo[wid]++
		if k := m.CustomArgs[activities.ArgRequestKey]; !keys[k] {
			keys[k] = true
			if m.CustomArgs[activities.ArgAttempt] != "1" {
				o.reminders++
			}
		}
	}
	for wid, d := range bounceReports {
		o.reports += d
		if d > messagesTo[wid] {
			t.Errorf("%s: %d bounce reports applied for %d messages sent", wid, d, messagesTo[wid])
		}
	}
	return o
}

// recallResults fetches every Recall's status: the result of a closed one,
// the status query's answer of an open one.
func recallResults(ctx context.Context, t testing.TB, s *stack, recalls []*workflowpb.WorkflowExecutionInfo) map[string]workflows.RecallStatus {
	t.Helper()
	var mu sync.Mutex
	out := map[string]workflows.RecallStatus{}
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for wid := range work {
				rs, err := recallStatus(ctx, s, wid)
				mu.Lock()
				if err != nil {
					t.Errorf("result of %s: %v", wid, err)
				} else {
					out[wid] = rs
				}
				mu.Unlock()
			}
		})
	}
	for _, e := range recalls {
		work <- e.GetExecution().GetWorkflowId()
	}
	close(work)
	wg.Wait()
	return out
}

// The worker process is killed with SIGKILL in the middle of the recall
// and started again: the Recalls resume from their histories, none is
// lost, and a deletion request is sent twice only if a send was in flight
// when the process died.
func TestFault_WorkerKilledMidRecall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	s := newFaultStack(t, stackOptions{workerProcess: true})
	id := s.declareFaultRecall(ctx)

	at := s.midRun(ctx, id)
	s.worker.kill()
	t.Logf("worker killed (SIGKILL) at %+v", at)
	time.Sleep(2 * time.Second) // a supervisor's restart delay
	s.worker.restart()

	o := s.requireEveryRecipientSettled(ctx, id)
	t.Logf("after kill -9 and restart: %s", o)
	if o.reminders != 0 {
		t.Errorf("%d reminders: no confirmation was lost, none should have been needed", o.reminders)
	}
}

// The Temporal server (dev server, SQLite file) is stopped in the middle of
// the recall and started again on the same port and database: the worker,
// the front door and the clients reconnect, and the recall completes.
func TestFault_TemporalServerRestartedMidRecall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	srv := startPersistentDevServer(t)
	s := newFaultStack(t, stackOptions{workerProcess: true, temporal: srv.hostPort})
	id := s.declareFaultRecall(ctx)

	at := s.midRun(ctx, id)
	srv.restart()
	t.Logf("Temporal server restarted at %+v", at)

	o := s.requireEveryRecipientSettled(ctx, id)
	t.Logf("after the server restart: %s", o)
}

// A fifth of the provider calls fail: 429 with Retry-After, 500, 502, or a
// timeout after the mail was accepted (the ambiguous failure). Every
// recipient still ends confirmed (or, for the bounces, unreachable) without
// a reminder. The duplicates the timeouts can cause are reported: none for
// a person who confirms, whose confirmation closes the Recall before the
// timed-out send is retried.
func TestFault_ProvidersFailAFifthOfTheCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	s := newFaultStack(t, stackOptions{workerProcess: true, failureRate: 0.2})
	id := s.declareFaultRecall(ctx)

	o := s.requireEveryRecipientSettled(ctx, id)
	t.Logf("with 20%% provider failures: %s", o)
	if o.reminders != 0 {
		t.Errorf("%d reminders: provider failures are retried by the send, not by a reminder", o.reminders)
	}
}

// `starter serve` is killed with SIGKILL in the middle of the recall and
// started again on the same port: SendGrid's event webhooks that failed
// meanwhile are retried by the provider, and each bounce is applied once.
// A person whose click met the outage reloads, as people do (the sandbox's
// recipients try a page that does not load again, a few seconds apart):
// when the killed process had already signalled the confirmation, the
// reload is answered from the Recall's state and nothing is signalled
// twice. The counts stay exact.
func TestFault_FrontDoorRestartedMidRecall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	s := newFaultStack(t, stackOptions{workerProcess: true, frontdoorProcess: true})
	id := s.declareFaultRecall(ctx)

	at := s.midRun(ctx, id)
	s.serve.kill()
	t.Logf("starter serve killed (SIGKILL) at %+v", at)
	time.Sleep(time.Second) // webhooks fail meanwhile, within SendGrid's retries
	s.serve.restart()

	o := s.requireEveryRecipientSettled(ctx, id)
	t.Logf("after the front door restart: %s", o)
	if o.webhookFailures == 0 {
		t.Errorf("no event webhook failed: the restart did not happen mid-run")
	}
	// Every bounce report arrived (retried through the outage) and was
	// applied exactly once, including one the killed process had already
	// signalled before it could answer.
	if o.reports != o.bouncedMessages {
		t.Errorf("%d bounce reports applied for %d bounced messages, want one each", o.reports, o.bouncedMessages)
	}
}

// A provider accepted the deletion request but its answer was lost (a
// timeout), then reported that the mail bounced: the request did reach the
// provider, so the Incident counts the person as asked, and unreachable;
// and the send whose answer was lost is cancelled, not retried: the same
// mail does not go again to an address known to bounce.
func TestFault_BounceAfterALostAnswerCountsAsAsked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newFaultStack(t, stackOptions{providerFault: loseMailAnswers("@bounce.example.jp")})
	snap, diags := runbooks.Load("fault-recall.yaml", []byte(faultRecallRunbook))
	if len(diags) > 0 {
		t.Fatalf("runbook: %v", diags)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "lost answer"}},
		"name,email\nA,a@example.jp\nB,b@bounce.example.jp\n")

	st := s.waitStatus(ctx, id, "one confirmed, the bounce unreachable", func(st workflows.IncidentStatus) bool {
		return st.Recall.Confirmed == 1 && st.Recall.Unreachable == 1
	})
	if b := s.sandbox.Stats().Email["b@bounce.example.jp"]; b.Messages < 1 || b.Bounced < 1 {
		t.Fatalf("the sandbox did not take and bounce the mail: %+v", b)
	}
	if st.Recall.Requested != 2 {
		t.Errorf("asked %d of 2 (%+v): the bounce proves the request reached the provider", st.Recall.Requested, st.Recall)
	}
	// The send's retries were due 5 s, 15 s, 35 s... after the lost answer:
	// once the Recall has recorded the cancellation, none can come.
	rs := s.waitRecall(ctx, workflows.RecallWorkflowID(id, "R00002"), "the lost send cancelled", func(rs workflows.RecallStatus) bool {
		return len(rs.Attempts) == 1
	})
	if got := rs.Attempts[0].Outcome; !strings.HasPrefix(got, "cancelled: ") {
		t.Errorf("attempt outcome %q, want cancelled", got)
	}
	if b := s.sandbox.Stats().Email["b@bounce.example.jp"]; b.Messages != 1 {
		t.Errorf("%d messages to the bouncing address, want 1: the lost send was retried after the bounce", b.Messages)
	}
}

// waitRecall polls a Recall's status until ok returns true.
func (s *stack) waitRecall(ctx context.Context, wid, what string, ok func(workflows.RecallStatus) bool) workflows.RecallStatus {
	s.t.Helper()
	for {
		rs, err := recallStatus(ctx, s, wid)
		if err == nil && ok(rs) {
			return rs
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("timed out waiting for %s: %+v (err %v)", what, rs, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// loseMailAnswers lets the SendGrid simulator process every mail send but,
// for mails to addresses ending in suffix, answers 504 as a gateway whose
// upstream timed out: the mail is sent and the sender cannot know it.
func loseMailAnswers(suffix string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/sendgrid/v3/mail/send" {
				next.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !bytes.Contains(body, []byte(suffix+`"`)) {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(httptest.NewRecorder(), r) // processed; the answer is lost
			w.WriteHeader(http.StatusGatewayTimeout)
		})
	}
}

// persistentDevServer is a dev server of one test, with its state in a
// SQLite file so that it survives a restart on the same port.
type persistentDevServer struct {
	t        testing.TB
	hostPort string
	db       string
	args     []string
	srv      *testsuite.DevServer
}

func startPersistentDevServer(t testing.TB, extra ...string) *persistentDevServer {
	t.Helper()
	_, httpPort, _ := strings.Cut(freeAddr(t), ":")
	p := &persistentDevServer{t: t, hostPort: freeAddr(t), db: filepath.Join(t.TempDir(), "temporal.db"),
		// The HTTP API on a free port too (its default, port+1000, may be
		// taken); SQLite in WAL mode, as a server keeps it.
		args: append([]string{"--http-port", httpPort, "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"}, extra...)}
	p.start()
	t.Cleanup(func() {
		if p.srv != nil {
			p.srv.Client().Close()
			_ = p.srv.Stop()
		}
	})
	return p
}

func (p *persistentDevServer) start() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, devServerOptions(p.hostPort, p.db, p.args...))
	if err != nil {
		p.t.Fatalf("start dev server on %s: %v", p.hostPort, err)
	}
	p.srv = srv
}

// restart stops the server (SIGINT, waiting for it to exit) and starts it
// again on the same port and database.
func (p *persistentDevServer) restart() {
	p.t.Helper()
	p.srv.Client().Close()
	if err := p.srv.Stop(); err != nil && !strings.Contains(err.Error(), "signal") {
		p.t.Logf("dev server stop: %v", err)
	}
	p.srv = nil
	p.start()
}
