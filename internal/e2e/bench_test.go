//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// benchRecipients is seed 004's count: 1,016 people received the mailing
// with the address list in its body.
const benchRecipients = 1016

// benchRecallRunbook is the recall phase of the built-in addresses-in-body
// runbook (seed 004) alone: e-mail request, e-mail confirmation, the
// default window of Recalls. (The built-in's other phases would add work
// that is not the recall's.)
const benchRecallRunbook = `kind: runbook
id: bench-recall
version: 1
title: {ja: 削除依頼, en: Deletion request}
phases:
  recall:
    request: [email]
    confirm: [email]
    retry:
      email: {intervals: [1d, 2d], max_attempts: 4}
    unreachable:
      title: {ja: 別の方法で連絡する, en: Reach this person another way}
      owner: support
      reminder: 2d
`

// BenchmarkRecall1016 measures a recall of 1,016 recipients end to end on
// the dev server: declaration -> Incident -> one Recall per recipient ->
// SendGrid (sandbox) -> every simulated recipient confirms at once through
// the front door. In the same run, on the same server and with the same
// worker settings, 1,016 trivial one-activity workflows give the ceiling.
//
//	recipients/s        recipients confirmed per second (declaration to the last Recall closed)
//	ceiling-wf/s        trivial workflows per second (first start to the last closed)
//	ratio               recipients/s / ceiling-wf/s (target >= 0.33)
//	confirm-p50-s, -p99 declaration to each Recall's close (confirmed), seconds
//	recall-p50-ms, -p99 each Recall's own start to close, milliseconds
//	events/recipient    mean history length of a Recall (target <= 40); events-max the longest
//	incident-events     history events of the Incident, over all its runs
func BenchmarkRecall1016(b *testing.B) {
	for b.Loop() {
		s := newStack(b, stackOptions{quiet: true})
		ceiling := runCeiling(b, s, benchRecipients)
		r := runRecall(b, s, benchRecipients)
		b.ReportMetric(r.rate, "recipients/s")
		b.ReportMetric(ceiling, "ceiling-wf/s")
		b.ReportMetric(r.rate/ceiling, "ratio")
		b.ReportMetric(r.confirmP50.Seconds(), "confirm-p50-s")
		b.ReportMetric(r.confirmP99.Seconds(), "confirm-p99-s")
		b.ReportMetric(float64(r.recallP50.Milliseconds()), "recall-p50-ms")
		b.ReportMetric(float64(r.recallP99.Milliseconds()), "recall-p99-ms")
		b.ReportMetric(r.eventsMean, "events/recipient")
		b.ReportMetric(float64(r.eventsMax), "events-max")
		b.ReportMetric(float64(r.incidentEvents), "incident-events")
	}
}

type recallRun struct {
	rate                   float64
	confirmP50, confirmP99 time.Duration
	recallP50, recallP99   time.Duration
	eventsMean             float64
	eventsMax              int
	incidentEvents         int
}

func runRecall(b *testing.B, s *stack, n int) recallRun {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	snap, diags := runbooks.Load("bench-recall.yaml", []byte(benchRecallRunbook))
	if len(diags) > 0 {
		b.Fatalf("runbook: %v", diags)
	}
	list := emailList(n, "example.jp")
	// The list is stored before the clock starts: that is the declarer's
	// upload, measured by the recipients benchmarks.
	ref, _, err := s.store.Put(ctx, strings.NewReader(list), recipients.Options{})
	if err != nil {
		b.Fatal(err)
	}
	declaredAt := time.Now()
	id, err := incidents.Declare(ctx, s.client, s.cfg.TaskQueue, incidents.Declaration{
		Runbook: snap, Facts: workflows.Facts{Title: "benchmark"}, WrongRecipients: &ref, DeclaredBy: "bench", DeclaredAt: declaredAt.UTC(),
	})
	if err != nil {
		b.Fatal(err)
	}
	s.waitStatus(ctx, id, fmt.Sprintf("%d confirmations", n), func(st workflows.IncidentStatus) bool {
		return st.Recall.Confirmed == n
	})
	b.StopTimer()
	defer b.StartTimer()

	recalls := closedExecutions(ctx, b, s.client, fmt.Sprintf(`BreachIncidentID = %q AND WorkflowType = "Recall"`, id), n)
	var toConfirmed, own []time.Duration
	var last time.Time
	var wids []string
	for _, e := range recalls {
		closed := e.GetCloseTime().AsTime()
		if closed.After(last) {
			last = closed
		}
		toConfirmed = append(toConfirmed, closed.Sub(declaredAt))
		own = append(own, closed.Sub(e.GetStartTime().AsTime()))
		wids = append(wids, e.GetExecution().GetWorkflowId())
	}
	// History events of every Recall (GetWorkflowHistory), and by type.
	lengths, byType := histories(ctx, b, s.client, wids)
	events, maxEvents := 0, 0
	for _, l := range lengths {
		events += l
		maxEvents = max(maxEvents, l)
	}
	b.Logf("history events per Recall by type (mean over %d): %s", len(wids), meanByType(byType, len(wids)))
	inc := 0
	for _, e := range listExecutions(ctx, b, s.client, fmt.Sprintf(`WorkflowId = %q`, workflows.IncidentWorkflowID(id))) {
		inc += int(e.GetHistoryLength())
	}
	stats := s.sandbox.Stats()
	b.Logf("sandbox: %d messages to %d addresses, %d duplicates", stats.EmailTotals.Messages, len(stats.Email), stats.EmailTotals.Duplicates)
	return recallRun{
		rate:       float64(n) / last.Sub(declaredAt).Seconds(),
		confirmP50: pct(toConfirmed, 50), confirmP99: pct(toConfirmed, 99),
		recallP50: pct(own, 50), recallP99: pct(own, 99),
		eventsMean: float64(events) / float64(len(lengths)), eventsMax: maxEvents,
		incidentEvents: inc,
	}
}

// Ceiling: the smallest durable unit of work, a workflow that runs one
// activity, started n times as fast as the client can.

func ceilingWorkflow(ctx workflow.Context, k int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out int
	err := workflow.ExecuteActivity(ctx, "BenchCeilingActivity", k).Get(ctx, &out)
	return out, err
}

func ceilingActivity(_ context.Context, k int) (int, error) { return k + 1, nil }

// runCeiling returns trivial workflows per second.
func runCeiling(b *testing.B, s *stack, n int) float64 {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The stack's client (payload codec, logger) and server; a worker with
	// the same (default) options as the stack's.
	queue := s.cfg.TaskQueue + "-ceiling"
	w := worker.New(s.client, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(ceilingWorkflow, workflow.RegisterOptions{Name: "BenchCeiling"})
	w.RegisterActivityWithOptions(ceilingActivity, activity.RegisterOptions{Name: "BenchCeilingActivity"})
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	prefix := fmt.Sprintf("bench-ceiling-%d", time.Now().UnixNano())
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for k := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: fmt.Sprintf("%s-%04d", prefix, k), TaskQueue: queue}, "BenchCeiling", k)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	b.Logf("ceiling: %d workflows started in %s", n, time.Since(start).Round(time.Millisecond))
	close(errs)
	for err := range errs {
		b.Fatalf("start: %v", err)
	}
	done := closedExecutions(ctx, b, s.client, fmt.Sprintf(`TaskQueue = %q AND WorkflowType = "BenchCeiling"`, queue), n)
	var last time.Time
	for _, e := range done {
		if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			b.Fatalf("%s: %s", e.GetExecution().GetWorkflowId(), e.GetStatus())
		}
		if t := e.GetCloseTime().AsTime(); t.After(last) {
			last = t
		}
	}
	return float64(n) / last.Sub(start).Seconds()
}

// closedExecutions waits until n executions matching query are closed and
// returns them (from visibility, which the dev server updates at once).
func closedExecutions(ctx context.Context, tb testing.TB, c client.Client, query string, n int) []*workflowpb.WorkflowExecutionInfo {
	tb.Helper()
	q := query + ` AND ExecutionStatus != "Running"`
	for {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
		if err == nil && int(resp.GetCount()) >= n {
			break
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("waiting for %d closed executions (%s): %v (last count err %v)", n, query, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	return listExecutions(ctx, tb, c, q)
}

// listExecutions lists every execution matching query, page by page.
func listExecutions(ctx context.Context, tb testing.TB, c client.Client, query string) []*workflowpb.WorkflowExecutionInfo {
	tb.Helper()
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			tb.Fatalf("list %s: %v", query, err)
		}
		out = append(out, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out
		}
	}
}

// histories reads the history of each workflow and returns its length,
// and the number of events of each type over all of them.
func histories(ctx context.Context, tb testing.TB, c client.Client, wids []string) (lengths []int, byType map[string]int) {
	tb.Helper()
	var mu sync.Mutex
	byType = map[string]int{}
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for wid := range work {
				counts, n := historyEventTypes(ctx, tb, c, wid)
				mu.Lock()
				lengths = append(lengths, n)
				for k, v := range counts {
					byType[k] += v
				}
				mu.Unlock()
			}
		})
	}
	for _, wid := range wids {
		work <- wid
	}
	close(work)
	wg.Wait()
	return lengths, byType
}

// historyEventTypes counts one workflow's history events by type.
func historyEventTypes(ctx context.Context, tb testing.TB, c client.Client, workflowID string) (map[string]int, int) {
	counts := map[string]int{}
	total := 0
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			tb.Errorf("history of %s: %v", workflowID, err)
			return counts, total
		}
		counts[strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")]++
		total++
	}
	return counts, total
}

// eventTypes describes one workflow's history by event type, most first.
func eventTypes(ctx context.Context, tb testing.TB, c client.Client, workflowID string) string {
	counts, total := historyEventTypes(ctx, tb, c, workflowID)
	return fmt.Sprintf("%d in all: %s", total, meanByType(counts, 1))
}

// meanByType lists event types by count per workflow, most first.
func meanByType(counts map[string]int, per int) string {
	types := make([]string, 0, len(counts))
	for k := range counts {
		types = append(types, k)
	}
	sort.Slice(types, func(i, j int) bool {
		a, b := counts[types[i]], counts[types[j]]
		return a > b || a == b && types[i] < types[j]
	})
	parts := make([]string, len(types))
	for i, k := range types {
		parts[i] = fmt.Sprintf("%s %.2f", k, float64(counts[k])/float64(per))
	}
	return strings.Join(parts, ", ")
}

// pct returns the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := (p*len(s)+99)/100 - 1
	return s[max(0, min(k, len(s)-1))]
}
