//go:build integration && faults

package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/workflows"
)

// Fault tests of the broadcast: seed 004's apology to 100,000 people,
// approved by its quorum, sent by the real worker binary (its e-mail task
// queue, its rate limit of 10 requests of 1,000 a second, its synchronous
// progress records) while something fails: the worker is killed, the
// Temporal server restarts, SendGrid fails a fifth of the requests. Each
// time the broadcast must complete with every recipient accounted for
// (sent; without an address; bounced, through the real event webhook),
// the people it could not reach must become the substitute-measure task,
// and the duplicates the sandbox counted per recipient are reported and
// held to their bound.
//
// Duplicates: SendGrid has no idempotency key. A request that SendGrid took
// but whose answer never reached the Broadcast (the worker died, the
// answer timed out) is sent again, because a notice must reach everyone;
// the Broadcast counts those people in Progress.Resent ("may have received
// it twice"), an upper bound of the real duplicates (a request recorded in
// flight may not have left yet). A request is recorded in flight before it
// goes out and its outcome with the start of the next, so at most
// Concurrency requests (4 of 1,000) are in doubt when a worker dies.
//
// Stop mid-send (the update returns within seconds, nothing goes out
// after it) is TestBroadcast_StopHaltsTheSendWithinSeconds.

// The list: faultNotices people; every 1,000th address (500, 1,500, ...)
// bounces, every 2,000th person (1,000, 3,000, ...) has no address.
const (
	faultNotices          = 100_000
	faultNoticeBounces    = faultNotices / 1000
	faultNoticeNoAddress  = faultNotices / 2000
	faultNoticeBatch      = 1000
	faultNoticeLanes      = 4
	faultNoticeInDoubtMax = faultNoticeLanes * faultNoticeBatch
)

// faultNoticeScenario: people read the notice; the bounce addresses
// bounce. The event webhook posts bounces and drops only, as an account
// set up for broadcasts would (a hundred thousand "delivered" posts would
// be most of the test's work, and the Broadcast ignores them).
const faultNoticeScenario = `
sendgrid_events: bounces
email:
  default: {persona: ignore}
  recipients:
    - {match: "*@bounce.example.jp", persona: bounce}
`

// faultNoticeEnv configures the worker process for the notice: who gets
// the test send, which contacts the notice may quote.
var faultNoticeEnv = map[string]string{
	"BREACHFLOW_ROLES":              approverRoles,
	"BREACHFLOW_PUBLISHED_CONTACTS": "privacy@example.co.jp,0120-123-456",
}

// newNoticeFaultStack is a stack running the real worker binary.
func newNoticeFaultStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	opts.scenario, opts.quiet, opts.workerProcess, opts.env = faultNoticeScenario, true, true, faultNoticeEnv
	return newStack(t, opts)
}

// startNoticeBroadcast stores the list, starts the broadcast with the
// worker's defaults (4 requests in flight) in chunks of 25 requests, and
// approves it with the runbook's quorum.
func (s *stack) startNoticeBroadcast(ctx context.Context) string {
	s.t.Helper()
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		fmt.Fprintln(bw, "name,email,phone")
		for k := 1; k <= faultNotices; k++ {
			switch {
			case k%2000 == 1000:
				fmt.Fprintf(bw, "顧客 %d,,090-%04d-%04d\n", k, k/10000, k%10000)
			case k%1000 == 500:
				fmt.Fprintf(bw, "顧客 %d,b%07d@bounce.example.jp,\n", k, k)
			default:
				fmt.Fprintf(bw, "顧客 %d,c%07d@notice.example.jp,\n", k, k)
			}
		}
		pw.CloseWithError(bw.Flush())
	}()
	list, rep, err := s.store.Put(ctx, pr, recipients.Options{})
	if err != nil || rep.RejectedCount > 0 || list.Count != faultNotices {
		s.t.Fatalf("store list: %v (%d rejected, %d stored)", err, rep.RejectedCount, list.Count)
	}
	in := seed004Broadcast(s.t, newIncidentID(), list, faultNoticeBatch)
	in.Concurrency, in.BatchesPerChunk, in.BounceWindow = faultNoticeLanes, 25, 2*time.Second
	return startApproved(ctx, s.t, s, in)
}

// sandboxTotals reads the sandbox's e-mail counters (without the
// per-address maps).
func (s *stack) sandboxTotals(ctx context.Context) sandbox.EmailTotals {
	s.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.SandboxURL+"/sim/stats?totals=1", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("sandbox stats: %v", err)
	}
	defer resp.Body.Close()
	var st sandbox.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		s.t.Fatalf("sandbox stats: %v", err)
	}
	return st.EmailTotals
}

// midSend waits until SendGrid has taken a third of the notices, and
// returns how many it has.
func (s *stack) midSend(ctx context.Context) int {
	s.t.Helper()
	for {
		if m := s.sandboxTotals(ctx).Messages; m >= faultNotices/3 {
			if m >= faultNotices*9/10 {
				s.t.Fatalf("the send was nearly over (%d taken) before the fault", m)
			}
			return m
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("the send did not get a third of the way")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stopFor stops the server (SIGINT, waiting for it to exit), waits d and
// starts it again on the same port and database.
func (p *persistentDevServer) stopFor(d time.Duration) {
	p.t.Helper()
	p.srv.Client().Close()
	if err := p.srv.Stop(); err != nil && !strings.Contains(err.Error(), "signal") {
		p.t.Logf("dev server stop: %v", err)
	}
	p.srv = nil
	time.Sleep(d)
	p.start()
}

// noticeOutcome is what a broadcast under a fault did.
type noticeOutcome struct {
	progress workflows.BroadcastProgress
	// people who got the live notice, and duplicates: notices beyond the
	// first to the same person, among dupPeople people.
	people, duplicates, dupPeople int
	took                          time.Duration
}

func (o noticeOutcome) String() string {
	p := o.progress
	return fmt.Sprintf("%d notices: %d sent, %d without an address, %d bounced, in %d requests, in %v; %d people got it, %d duplicate sends to %d people; the Broadcast counts %d as possibly sent twice",
		p.Total, p.Sent, p.NoAddress, p.Bounced, p.Requests, o.took.Round(time.Second), o.people, o.duplicates, o.dupPeople, p.Resent)
}

// requireEveryNoticeAccounted waits until the broadcast has sent and
// counted every bounce, then checks that every recipient is accounted for:
// sent, or without an address; every address got the notice at least once,
// one recipient per message; the bounces are counted once each and, with
// the people without an address, are the substitute-measure task, which is
// then recorded (the broadcast ends done). It returns the outcome, with the
// duplicates the sandbox saw.
func (s *stack) requireEveryNoticeAccounted(ctx context.Context, id string, started time.Time) noticeOutcome {
	s.t.Helper()
	t := s.t
	st := awaitBroadcast(ctx, t, s.client, id, "sent", func(st workflows.BroadcastStatus) bool {
		return st.State.Final() || st.State == workflows.BroadcastPaused || st.State == workflows.BroadcastSubstitutePending
	})
	if st.State != workflows.BroadcastSubstitutePending {
		t.Fatalf("broadcast %s (%s), want %s: %+v", st.State, st.Reason, workflows.BroadcastSubstitutePending, st.Progress)
	}
	// SendGrid reports the bounces within seconds (and retries a report
	// that fails): a minute is a deadlock guard.
	bctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st = awaitBroadcast(bctx, t, s.client, id, "every bounce counted", func(st workflows.BroadcastStatus) bool {
		return st.Progress.Bounced >= faultNoticeBounces
	})
	o := noticeOutcome{progress: st.Progress, took: st.SentAt.Sub(started)}
	want := workflows.BroadcastProgress{Total: faultNotices, Done: faultNotices, Sent: faultNotices - faultNoticeNoAddress,
		NoAddress: faultNoticeNoAddress, Bounced: faultNoticeBounces, Requests: st.Progress.Requests, Resent: st.Progress.Resent}
	if st.Progress != want {
		t.Errorf("progress %+v, want %+v", st.Progress, want)
	}
	if st.Substitute == nil || st.Substitute.Unreachable != faultNoticeNoAddress+faultNoticeBounces {
		t.Errorf("substitute-measure task %+v, want %d people", st.Substitute, faultNoticeNoAddress+faultNoticeBounces)
	}

	// What SendGrid took: every address at least once, one person per
	// message (sentTo checks it), and how many twice.
	got := sentTo(t, s.sandbox, id)
	o.people = len(got)
	for k := 1; k <= faultNotices; k++ {
		var addr string
		switch {
		case k%2000 == 1000:
			continue
		case k%1000 == 500:
			addr = fmt.Sprintf("b%07d@bounce.example.jp", k)
		default:
			addr = fmt.Sprintf("c%07d@notice.example.jp", k)
		}
		switch n := got[addr]; {
		case n == 0:
			t.Errorf("%s never got the notice", addr)
		case n > 1:
			o.duplicates += n - 1
			o.dupPeople++
		}
	}
	if o.people != faultNotices-faultNoticeNoAddress {
		t.Errorf("%d people got the notice, want %d", o.people, faultNotices-faultNoticeNoAddress)
	}
	stats := s.sandbox.Stats()
	for addr, e := range stats.Email {
		if strings.HasSuffix(addr, "@bounce.example.jp") && e.Bounced < 1 {
			t.Errorf("%s did not bounce: %+v", addr, e)
		}
	}
	// The people who may have it twice, as the Broadcast counts them, are
	// at least those who do.
	if o.duplicates > st.Progress.Resent {
		t.Errorf("%d duplicate sends, but the Broadcast counts %d people as possibly sent twice", o.duplicates, st.Progress.Resent)
	}

	// The substitute measure recorded: the broadcast is done.
	done := updateBroadcast(ctx, t, s.client, id, workflows.UpdateRecordSubstitute, workflows.SubstituteMeasure{
		By: "U0PRIVACY", PublishedURL: "https://www.example.co.jp/notice/2026-11", InquiryDesk: "0120-123-456 (平日10:00〜17:00)"})
	if done.State != workflows.BroadcastDone {
		t.Errorf("after the substitute measure: %s", done.State)
	}
	return o
}

// The worker process is killed with SIGKILL a third of the way into the
// send and started again 2 s later: the chunk's attempt times out on its
// heartbeat and the next attempt, on the new process, resumes from the last
// record. Only the requests recorded in flight at the kill are sent again:
// at most Concurrency of them.
func TestFault_BroadcastWorkerKilledMidSend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	s := newNoticeFaultStack(t, stackOptions{})
	id := s.startNoticeBroadcast(ctx)
	started := time.Now()

	at := s.midSend(ctx)
	s.worker.kill()
	t.Logf("worker killed (SIGKILL) with %d notices taken by SendGrid", at)
	time.Sleep(2 * time.Second) // a supervisor's restart delay
	s.worker.restart()

	o := s.requireEveryNoticeAccounted(ctx, id, started)
	t.Logf("after kill -9 and restart: %s", o)
	if o.progress.Resent > faultNoticeInDoubtMax {
		t.Errorf("%d people counted as possibly sent twice: more than the %d of the requests in flight", o.progress.Resent, faultNoticeInDoubtMax)
	}
}

// The Temporal server (dev server, SQLite file) is stopped a third of the
// way into the send, for longer than the chunk's heartbeat timeout (5 s),
// and started again on the same port and database: the lanes cannot record
// progress, so they send nothing more; the worker and the front door
// reconnect (bounces reported meanwhile are retried by SendGrid). The
// server then times the chunk's attempt out and retries it: the next
// attempt sends again the requests recorded in flight, whose answers came
// while the server was away (at most Concurrency of them).
func TestFault_BroadcastTemporalServerRestartedMidSend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	srv := startPersistentDevServer(t)
	s := newNoticeFaultStack(t, stackOptions{temporal: srv.hostPort})
	id := s.startNoticeBroadcast(ctx)
	started := time.Now()

	at := s.midSend(ctx)
	down := time.Now()
	srv.stopFor(7 * time.Second)
	t.Logf("Temporal server stopped and started again (down %v) with %d notices taken by SendGrid", time.Since(down).Round(100*time.Millisecond), at)

	o := s.requireEveryNoticeAccounted(ctx, id, started)
	t.Logf("after the server restart: %s", o)
	if o.progress.Resent > faultNoticeInDoubtMax {
		t.Errorf("%d people counted as possibly sent twice: more than the %d of the requests in flight", o.progress.Resent, faultNoticeInDoubtMax)
	}
}

// SendGrid fails a fifth of the requests: 429 with Retry-After, 500, 502,
// or a timeout after it took the request (the sandbox withholds the
// answer until the client gives up, 30 s). The lanes retry each request
// themselves (after the reset time for a 429); the send completes. A
// timed-out request was taken, so sending it again duplicates it: the
// Broadcast counts exactly those people, and nobody else gets it twice.
func TestFault_BroadcastProviderFailsAFifthOfTheRequests(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	s := newNoticeFaultStack(t, stackOptions{failureRate: 0.2})
	id := s.startNoticeBroadcast(ctx)
	started := time.Now()

	o := s.requireEveryNoticeAccounted(ctx, id, started)
	tot := s.sandboxTotals(ctx)
	t.Logf("with 20%% of SendGrid requests failing: %s; SendGrid took %d requests", o, tot.Requests)
	if o.duplicates != o.progress.Resent {
		t.Errorf("%d duplicate sends, the Broadcast counts %d: every request sent again had timed out after SendGrid took it", o.duplicates, o.progress.Resent)
	}
}
