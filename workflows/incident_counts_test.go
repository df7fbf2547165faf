package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/workflows"
)

const countsIncident = "INC-20261121-TEST01"

// A Recall's only report (a worker killed before its send's answer came
// back: the person's click makes it requested and confirmed at once) can
// arrive in the very workflow task in which the server suggests
// continue-as-new. The Incident's main coroutine runs first in that task:
// it used to continue as new while the goroutine blocked in Receive held
// the report, taken but unapplied, so the next run counted the recipient
// as pending forever (issue 23, seen in TestFault_WorkerKilledMidRecall).
func TestIncident_AReportArrivingWithTheContinueAsNewSuggestionIsCarried(t *testing.T) {
	env := newIncidentEnv()
	// The Recalls themselves are not what is tested: they start, and
	// their reports are sent by the test.
	env.OnWorkflow(workflows.Recall, mock.Anything, mock.Anything).Return(workflows.RecallStatus{}, nil)
	env.RegisterDelayedCallback(func() {
		// Both reach the workflow in one workflow task: the suggestion is
		// set by a callback that starts no task, then the signal is
		// delivered and its task runs.
		env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, 0)
		env.SignalWorkflow(workflows.SignalRecallProgress, workflows.RecallProgress{
			RecipientID: "R00002", Index: 1, Seq: 1, State: workflows.StateConfirmed,
			Requested: true, EmailConfirmed: true,
		})
	}, time.Hour)

	env.ExecuteWorkflow(workflows.Incident, incidentInput(2, 10))

	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "the Incident continues as new: %v", env.GetWorkflowError())
	var next workflows.IncidentInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Carry)
	require.Equal(t, workflows.RecallCounts{Total: 2, Pending: 1, Requested: 1, EmailConfirmed: 1, Confirmed: 1}, next.Carry.Counts,
		"the report delivered with the suggestion is in the next run's counts")
	require.Equal(t, workflows.StateConfirmed, next.Carry.Recipients[1].State)
	require.Equal(t, 1, next.Carry.Recipients[1].Seq)
}

// truthTable is what each Recall answers to QueryProgress: the test's
// stand-in for the Recalls, whose reports the test sends (or loses).
type truthTable struct {
	mu    sync.Mutex
	by    map[string]workflows.RecallProgress // by workflow ID
	pages []int                               // IDs asked per activity
}

func (tt *truthTable) set(p workflows.RecallProgress) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.by[workflows.RecallWorkflowID(countsIncident, p.RecipientID)] = p
}

func (tt *truthTable) query(_ context.Context, req activities.QueryRequest) (activities.QueryResult, error) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if req.Query != workflows.QueryProgress {
		return activities.QueryResult{}, errors.New("unexpected query " + req.Query)
	}
	tt.pages = append(tt.pages, len(req.WorkflowIDs))
	out := make([]json.RawMessage, len(req.WorkflowIDs))
	for k, id := range req.WorkflowIDs {
		if p, ok := tt.by[id]; ok {
			b, err := json.Marshal(p)
			if err != nil {
				return activities.QueryResult{}, err
			}
			out[k] = b
		}
	}
	return activities.QueryResult{Answers: out}, nil
}

// newCountsEnv runs an Incident over n recipients whose Recalls are
// stand-ins: they start and wait, the test sends their reports, and the
// truth table answers for them. The record the close writes is captured.
func newCountsEnv(t *testing.T, n int) (*testsuite.TestWorkflowEnvironment, *truthTable, *activities.RecordRequest) {
	t.Helper()
	env := newEnv()
	var rm *activities.RoleMailer
	var rec *activities.Recorder
	var rd *activities.WorkflowReader
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(reports.Draft{}, nil).Maybe()
	env.OnActivity(rm.EmailRole, mock.Anything, mock.Anything).Return(activities.RoleMailResult{}, nil).Maybe()
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(a.PostIncidentMessage, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{Channel: "C", TS: "1.000001"}, nil).Maybe()
	written := &activities.RecordRequest{}
	env.OnActivity(rec.WriteRecord, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.RecordRequest) (activities.RecordResult, error) {
			*written = req
			return activities.RecordResult{}, nil
		}).Maybe()
	tt := &truthTable{by: map[string]workflows.RecallProgress{}}
	env.OnActivity(rd.QueryWorkflows, mock.Anything, mock.Anything).Return(tt.query).Maybe()
	env.OnWorkflow(workflows.Recall, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, _ workflows.RecallInput) (workflows.RecallStatus, error) {
			return workflows.RecallStatus{}, workflow.Await(ctx, func() bool { return false })
		})
	return env, tt, written
}

func progress(idx, seq int, s workflows.RecallState) workflows.RecallProgress {
	p := workflows.RecallProgress{RecipientID: recipients.RecipientID(idx + 1), Index: idx, Seq: seq, State: s, Requested: true}
	p.EmailConfirmed = s == workflows.StateConfirmed || s == workflows.StateEmailConfirmed
	return p
}

// reconcileNow asks the Incident to reconcile, as `starter recipient
// reconcile` does, and keeps the answer.
func reconcileNow(t *testing.T, env *testsuite.TestWorkflowEnvironment, id string, out *workflows.RecallReconciliation) {
	env.UpdateWorkflow(workflows.UpdateReconcileRecall, id, &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(err error) { t.Errorf("reconcile refused: %v", err) },
		OnComplete: func(v any, err error) {
			require.NoError(t, err)
			*out = v.(workflows.RecallReconciliation)
		},
	}, workflows.ReconcileRecall{By: "U1"})
}

// Reconciliation applies exactly the reports the Incident missed: a report
// lost (delivered, or given up on), a final state behind a forged or
// replayed number; and leaves alone what is on its way or older.
func TestIncident_ReconciliationCorrectsOnlyLostReports(t *testing.T) {
	type recipient struct {
		reported *workflows.RecallProgress // the report that reached the Incident; nil: none
		truth    workflows.RecallProgress  // the Recall's answer
		want     workflows.RecallState     // the Incident's state after reconciling
		fixed    bool                      // counted as a correction
	}
	conf, req, unr := workflows.StateConfirmed, workflows.StateRequested, workflows.StateUnreachable
	ptr := func(p workflows.RecallProgress) *workflows.RecallProgress { return &p }
	inFlight := func(p workflows.RecallProgress) workflows.RecallProgress { p.InFlight = true; return p }
	cases := map[string]recipient{
		"its only report was lost: corrected":               {nil, progress(0, 1, conf), conf, true},
		"its last report was lost: corrected":               {ptr(progress(1, 1, req)), progress(1, 2, unr), unr, true},
		"its report is on its way: left to arrive":          {ptr(progress(2, 1, req)), inFlight(progress(2, 2, conf)), req, false},
		"every report arrived: nothing to do":               {ptr(progress(3, 2, unr)), progress(3, 2, unr), unr, false},
		"the Incident heard newer news: kept":               {ptr(progress(4, 3, unr)), progress(4, 2, req), unr, false},
		"final in the Recall, a forged number: corrected":   {ptr(progress(5, 9, req)), progress(5, 2, conf), conf, true},
		"never reported, not started yet (null): untouched": {nil, workflows.RecallProgress{}, workflows.StatePending, false},
	}
	names := []string{ // a fixed order: the indexes above
		"its only report was lost: corrected", "its last report was lost: corrected", "its report is on its way: left to arrive",
		"every report arrived: nothing to do", "the Incident heard newer news: kept", "final in the Recall, a forged number: corrected",
		"never reported, not started yet (null): untouched",
	}
	env, tt, _ := newCountsEnv(t, len(names))
	for _, name := range names {
		c := cases[name]
		if c.truth.RecipientID != "" {
			tt.set(c.truth)
		}
		if c.reported != nil {
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalRecallProgress, *c.reported) }, time.Minute)
		}
	}
	var got workflows.RecallReconciliation
	var st workflows.IncidentStatus
	env.RegisterDelayedCallback(func() { reconcileNow(t, env, "r1", &got) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() { st = queryIncident(t, env) }, 3*time.Minute)
	env.RegisterDelayedCallback(func() { closeStoppingRecalls(env) }, 4*time.Minute)
	env.ExecuteWorkflow(workflows.Incident, incidentInput(len(names), 10))
	require.NoError(t, env.GetWorkflowError())

	var fixed []string
	for _, name := range names {
		if cases[name].fixed {
			fixed = append(fixed, cases[name].truth.RecipientID)
		}
	}
	var corrected []string
	for _, c := range got.Corrections {
		corrected = append(corrected, c.RecipientID)
		require.Equal(t, "asked by U1", c.Why)
	}
	require.Equal(t, fixed, corrected)
	require.Equal(t, len(names), got.Checked, "every started recipient not final is asked (R00007's Recall answers null)")
	require.Equal(t, len(fixed), st.CountsCorrected)
	// The counts after reconciling, recipient by recipient.
	want := workflows.RecallCounts{Total: len(names)}
	for _, name := range names {
		switch s := cases[name].want; s {
		case conf:
			want.Confirmed++
			want.EmailConfirmed++
			want.Requested++
		case unr:
			want.Unreachable++
			want.Requested++
		case req:
			want.Requested++
		default:
			want.Pending++
		}
	}
	require.Equal(t, want, got.Counts)
	require.Equal(t, want, st.Recall)
}

// A lost report is corrected on the Incident's own schedule, recorded in
// its timeline and counted, and the record's counts are the truth.
func TestIncident_ALostReportIsCorrectedPeriodicallyAndRecorded(t *testing.T) {
	env, tt, written := newCountsEnv(t, 3)
	for idx := range 3 {
		tt.set(progress(idx, 2, workflows.StateConfirmed))
	}
	// R00002's report never arrives.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalRecallProgress, progress(0, 2, workflows.StateConfirmed))
		env.SignalWorkflow(workflows.SignalRecallProgress, progress(2, 2, workflows.StateConfirmed))
	}, time.Minute)
	var before, after workflows.IncidentStatus
	env.RegisterDelayedCallback(func() { before = queryIncident(t, env) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() { after = queryIncident(t, env) }, workflows.ReconcileEvery()+2*time.Minute)
	env.RegisterDelayedCallback(func() { closeIncident(env) }, workflows.ReconcileEvery()+3*time.Minute)
	env.ExecuteWorkflow(workflows.Incident, incidentInput(3, 10))
	require.NoError(t, env.GetWorkflowError())

	require.Equal(t, workflows.RecallCounts{Total: 3, Pending: 1, Requested: 2, EmailConfirmed: 2, Confirmed: 2}, before.Recall)
	require.Equal(t, workflows.RecallCounts{Total: 3, Requested: 3, EmailConfirmed: 3, Confirmed: 3}, after.Recall,
		"within one period the Incident asked R00002's Recall and corrected it")
	require.Equal(t, 1, after.CountsCorrected)
	var entries []record.Entry
	for _, e := range written.Record.Timeline {
		if e.Kind == record.KindCountCorrected {
			entries = append(entries, e)
		}
	}
	require.Len(t, entries, 1, "the correction is in the incident's record")
	require.Equal(t, "R00002", entries[0].Subject)
	require.Contains(t, entries[0].Summary, "R00002: confirmed, not pending")
	require.Contains(t, entries[0].Summary, "periodic check")
	require.Equal(t, record.Counts{Total: 3, Requested: 3, EmailConfirmed: 3, Confirmed: 3}, written.Record.Recall.Counts)
}

// Before it closes, the Incident reconciles: a recipient whose final report
// was lost does not block or skew the close.
func TestIncident_CloseReconcilesFirst(t *testing.T) {
	env, tt, written := newCountsEnv(t, 2)
	tt.set(progress(0, 1, workflows.StateConfirmed))
	tt.set(progress(1, 1, workflows.StateConfirmed))
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalRecallProgress, progress(0, 1, workflows.StateConfirmed)) }, time.Minute)
	env.RegisterDelayedCallback(func() { closeStoppingRecalls(env) }, 2*time.Minute)
	env.ExecuteWorkflow(workflows.Incident, incidentInput(2, 10))
	require.NoError(t, env.GetWorkflowError())
	var res workflows.IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.RecallCounts{Total: 2, Requested: 2, EmailConfirmed: 2, Confirmed: 2}, res.Status.Recall,
		"R00002 is confirmed, as its Recall says, not closed by the close")
	require.Equal(t, 1, res.Status.CountsCorrected)
	require.Nil(t, written.Recall.ClosedByIncident, "nobody was left for the close to stop")
}

// Reconciling many open recipients asks their Recalls a page at a time:
// the history holds one activity per page, never one per recipient
// (the test environment's callback queue of 1,000 bounds how many stand-in
// Recalls one test can start at once).
func TestIncident_ReconciliationAsksInPages(t *testing.T) {
	const n, page = 300, 120
	defer workflows.SetReconcilePage(page)()
	env, tt, _ := newCountsEnv(t, n)
	var got workflows.RecallReconciliation
	env.RegisterDelayedCallback(func() { reconcileNow(t, env, "r1", &got) }, time.Minute)
	env.RegisterDelayedCallback(env.CancelWorkflow, 2*time.Minute)
	env.ExecuteWorkflow(workflows.Incident, incidentInput(n, n))
	require.Equal(t, n, got.Checked)
	tt.mu.Lock()
	defer tt.mu.Unlock()
	require.Equal(t, []int{120, 120, 60}, tt.pages[:3], "the asked reconciliation, in pages")
	for _, p := range tt.pages {
		require.LessOrEqual(t, p, page)
	}
}
