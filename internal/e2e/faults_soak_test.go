//go:build integration && faults

package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/workflows"
)

// Soak tests (issue 23): the worker is killed not once but at K moments of
// one run, at seeded random points, one of them as the Incident continues
// as new; and the Temporal server restarts twice. At the end the counts
// must be exactly the Recalls' (and the Broadcast's) truth twice over:
// as the reports alone left them (no reconciliation corrected anything,
// so a reporting bug cannot hide behind the healing), and after an
// explicit reconciliation.
//
// BREACHFLOW_SOAK_SEED replays a run's kill points exactly (the seed is
// logged); BREACHFLOW_SOAK_KILLS sets K (default 8, what CI runs; `make
// soak` runs 24).

// soakPlan is when a soak kills: the first kill once the run has made
// some progress, then each after a seeded random stretch of running
// (gaps), each followed by a seeded random restart delay (pauses).
type soakPlan struct {
	seed   uint64
	first  float64
	gaps   []time.Duration
	pauses []time.Duration
}

func newSoakPlan(t *testing.T) soakPlan {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("BREACHFLOW_SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("BREACHFLOW_SOAK_SEED=%q: want a number", v)
		}
		seed = n
	}
	kills := 8
	if v := os.Getenv("BREACHFLOW_SOAK_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("BREACHFLOW_SOAK_KILLS=%q: want a positive number", v)
		}
		kills = n
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := soakPlan{seed: seed, first: 0.02 + 0.1*rng.Float64()}
	for range kills {
		p.gaps = append(p.gaps, time.Duration(300+rng.IntN(2700))*time.Millisecond)
		p.pauses = append(p.pauses, time.Duration(200+rng.IntN(1800))*time.Millisecond)
	}
	t.Logf("soak: seed %d: %d kills, the first at %.3f of the run, then after %v of running, restarted after %v; re-run exactly with BREACHFLOW_SOAK_SEED=%d BREACHFLOW_SOAK_KILLS=%d",
		seed, kills, p.first, p.gaps, p.pauses, seed, kills)
	return p
}

// requireNoHealingNeeded checks that the counts are the truth without
// reconciliation (none corrected anything: every report arrived), then
// with it (an explicit reconciliation finds nothing to correct).
func (s *stack) requireNoHealingNeeded(ctx context.Context, id string, st workflows.IncidentStatus, want workflows.RecallCounts) {
	s.t.Helper()
	if st.CountsCorrected != 0 {
		s.t.Errorf("reconciliation corrected %d recipient(s): their progress reports never reached the incident", st.CountsCorrected)
	}
	var r workflows.RecallReconciliation
	if err := incidents.Update(ctx, s.client, workflows.IncidentWorkflowID(id), workflows.UpdateReconcileRecall,
		workflows.ReconcileRecall{By: "e2e"}, &r); err != nil {
		s.t.Fatalf("reconcile: %v", err)
	}
	if len(r.Corrections) != 0 || r.Counts != want {
		s.t.Errorf("reconciliation after the run: %d corrections %+v, counts %+v; want none, %+v", len(r.Corrections), r.Corrections, r.Counts, want)
	}
}

// incidentRun is the Incident's current run ID.
func (s *stack) incidentRun(ctx context.Context, id string) string {
	d, err := s.client.DescribeWorkflowExecution(ctx, workflows.IncidentWorkflowID(id), "")
	if err != nil {
		return ""
	}
	return d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
}

// killAlong kills the worker along the plan (progress reads how far the
// run is, from 0 to 1) and restarts it after each pause; a kill waits for
// its stretch of running and for the run to have gone on since the last. With incident
// set, the first time the Incident's run changes (it continued as new)
// the worker is killed at once, in place of the next kill. It returns how
// many kills happened before the run ended (done) and whether one was at
// a continue-as-new.
func (s *stack) killAlong(ctx context.Context, plan soakPlan, incident string, progress func() float64, done func() bool) (kills int, atContinueAsNew bool) {
	s.t.Helper()
	run := ""
	if incident != "" {
		run = s.incidentRun(ctx, incident)
	}
	next, last := time.Time{}, 0.0 // the first kill waits for progress instead
	for k := range plan.gaps {
		for {
			if done() {
				return kills, atContinueAsNew
			}
			if incident != "" && !atContinueAsNew {
				if r := s.incidentRun(ctx, incident); r != "" && r != run {
					atContinueAsNew = true
					s.t.Logf("kill %d: the Incident continued as new (%.3f of the run)", k+1, progress())
					break
				}
			}
			// Each kill after a stretch of running in which the run went on:
			// kills at one stalled point would test one moment K times.
			if p := progress(); (k == 0 && p >= plan.first) || (k > 0 && time.Now().After(next) && p > last) {
				s.t.Logf("kill %d at %.3f of the run", k+1, p)
				last = p
				break
			}
			select {
			case <-ctx.Done():
				s.t.Fatalf("the run did not reach kill %d", k+1)
			case <-time.After(50 * time.Millisecond):
			}
		}
		s.worker.kill()
		kills++
		time.Sleep(plan.pauses[k])
		s.worker.restart()
		next = time.Now().Add(plan.gaps[k])
	}
	return kills, atContinueAsNew
}

// recallProgress reads a recall's progress from 0 (nobody asked) to 1
// (everyone asked and settled), and whether it has settled.
func (s *stack) recallProgress(ctx context.Context, id string) (progress func() float64, settled func() bool) {
	last := workflows.RecallCounts{}
	read := func() workflows.RecallCounts {
		if st, err := incidents.Status(ctx, s.client, id); err == nil {
			last = st.Recall
		}
		return last
	}
	progress = func() float64 {
		c := read()
		if c.Total == 0 {
			return 0
		}
		return float64(c.Requested+c.Confirmed+c.Unreachable) / float64(2*c.Total)
	}
	settled = func() bool {
		c := read()
		return c.Total > 0 && c.Pending == 0 && c.Confirmed+c.Unreachable+c.ClosedByOperator == c.Total
	}
	return progress, settled
}

// soakContinueAsNewAt is the history length at which the soak's server
// suggests continue-as-new (the default is 4 Ki events, about once per
// 1,000 recipients): about every 150 recipients, so that the Incident
// continues as new several times while the worker is being killed.
const soakContinueAsNewAt = 600

// Seed 004's e-mail recall of 1,016 people, the worker killed at K seeded
// random moments, one of them as the Incident continues as new.
func TestFault_SoakRecallWorkerKilledManyTimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*faultDeadline)
	defer cancel()
	plan := newSoakPlan(t)
	srv := startPersistentDevServer(t, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew="+strconv.Itoa(soakContinueAsNewAt))
	s := newFaultStack(t, stackOptions{workerProcess: true, temporal: srv.hostPort})
	id := s.declareFaultRecall(ctx)
	progress, settled := s.recallProgress(ctx, id)

	kills, atCAN := s.killAlong(ctx, plan, id, progress, settled)
	o := s.requireEveryRecipientSettled(ctx, id)
	runs := len(listExecutions(ctx, t, s.client, fmt.Sprintf("WorkflowId = %q", workflows.IncidentWorkflowID(id))))
	t.Logf("after %d kills (one at a continue-as-new: %v), the Incident in %d runs: %s", kills, atCAN, runs, o)
	if kills != len(plan.gaps) {
		t.Errorf("only %d of %d kills happened before the recall settled", kills, len(plan.gaps))
	}
	if !atCAN || runs < 2 {
		t.Errorf("no kill as the Incident continued as new (%d runs)", runs)
	}
}

// The same recall while the Temporal server is stopped and started twice.
func TestFault_SoakRecallTemporalServerRestartedTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), faultDeadline)
	defer cancel()
	srv := startPersistentDevServer(t)
	s := newFaultStack(t, stackOptions{workerProcess: true, temporal: srv.hostPort})
	id := s.declareFaultRecall(ctx)
	progress, _ := s.recallProgress(ctx, id)
	for k, at := range []float64{0.2, 0.55} {
		for progress() < at {
			select {
			case <-ctx.Done():
				t.Fatalf("the recall did not reach %.2f", at)
			case <-time.After(50 * time.Millisecond):
			}
		}
		srv.restart()
		t.Logf("Temporal server restart %d at %.3f of the recall", k+1, at)
	}
	o := s.requireEveryRecipientSettled(ctx, id)
	t.Logf("after two server restarts: %s", o)
}

// The phone recall of 300 people, the worker killed at K seeded random
// moments: no call is placed twice for the same request, and the counts
// are exact with and without reconciliation.
func TestFault_SoakPhoneWorkerKilledManyTimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*phoneFaultDeadline)
	defer cancel()
	plan := newSoakPlan(t)
	s := newStack(t, stackOptions{scenario: phoneFaultScenario, quiet: true, workerProcess: true})
	id := s.declarePhoneFaultRecall(ctx)
	progress, settled := s.recallProgress(ctx, id)

	kills, _ := s.killAlong(ctx, plan, "", progress, settled)
	o := s.requirePhoneRecallSettled(ctx, id)
	t.Logf("phone recall after %d kills: %s", kills, o)
	if o.duplicateCalls != 0 {
		t.Errorf("%d calls placed twice for the same request", o.duplicateCalls)
	}
}

// Seed 004's notice to 100,000 people, the worker killed at K seeded random
// moments of the send: the sent and bounced counts are exact, and the
// people who may have it twice are bounded by the requests in flight at
// each kill.
func TestFault_SoakBroadcastWorkerKilledManyTimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*faultDeadline)
	defer cancel()
	plan := newSoakPlan(t)
	s := newNoticeFaultStack(t, stackOptions{})
	id := s.startNoticeBroadcast(ctx)
	started := time.Now()
	taken := func() float64 {
		return float64(s.sandboxTotals(ctx).Messages) / float64(faultNotices-faultNoticeNoAddress)
	}
	sent := func() bool { return taken() >= 1 }

	kills, _ := s.killAlong(ctx, plan, "", taken, sent)
	o := s.requireEveryNoticeAccounted(ctx, id, started)
	t.Logf("after %d kills: %s", kills, o)
	if bound := kills * faultNoticeInDoubtMax; o.progress.Resent > bound {
		t.Errorf("%d people counted as possibly sent twice: more than the %d of the requests in flight at %d kills", o.progress.Resent, bound, kills)
	}
}
