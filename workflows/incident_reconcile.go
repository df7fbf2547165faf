package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/runbooks"
)

// Counts that heal (issue 23). The Incident keeps one compact record per
// recipient, moved by its Recall's progress reports. Reports are numbered
// and carry the whole state, so a late or repeated one changes nothing; but
// a report that never arrives (lost in a workflow task, or given up after
// reportRetries) would leave the record wrong for good. So the Incident
// reconciles: it asks each recipient it does not hold as final (confirmed
// or closed) for its Recall's own latest report (QueryProgress, answered
// by running and completed Recalls alike, through the QueryWorkflows
// activity, a page at a time), and applies any the Recall has sent and the
// Incident never applied. A report still in flight is left to arrive. Each
// correction is recorded in the timeline, told in the thread and counted
// in the breachflow_recall_counts_corrected metric.
//
// It reconciles periodically (reconcileEvery) while recipients are open,
// before every report and draft is built (response.situation), before
// continue-as-new, before close, and on demand (UpdateReconcileRecall).

// versionReconcile: the Incident reconciles its counts with its Recalls.
const versionReconcile = "reconcile-recall-counts"

// reconcileEvery is how often an Incident reconciles while some started
// recipient is not final (a variable for tests).
var reconcileEvery = time.Hour

// reconcilePage bounds the Recalls one QueryWorkflows activity asks, so
// each answer stays small in the history (a variable for tests).
var reconcilePage = 500

// maxCorrectionsKept bounds the corrections an Incident carries for its
// status; the timeline keeps them all.
const maxCorrectionsKept = 100

// openStarted is how many started recipients are not final: the ones a
// reconciliation asks about. O(1): recipients not started are pending and
// never final, started ones are counted by state.
func (i *incident) openStarted() int {
	c := i.carry.Counts
	return i.carry.Next - c.Confirmed - c.ClosedByOperator
}

// final reports whether a recipient's state can no longer change.
func final(s RecallState) bool { return s == StateConfirmed || s == StateClosedByOperator }

// reconcileLoop reconciles every reconcileEvery while recipients are open.
func (i *incident) reconcileLoop(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return i.openStarted() > 0 || i.closed != nil }); err != nil || i.closed != nil {
			return
		}
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: reconcileEvery,
			TimerOptions: workflow.TimerOptions{Summary: "reconcile recall counts after " + runbooks.Duration(reconcileEvery).String()}},
			func() bool { return i.closed != nil })
		if err != nil || ok {
			return
		}
		i.reconcile(ctx, "periodic check")
	}
}

// reconcile asks the Recall of every started recipient not held as final
// for its latest report, and applies the ones the Incident missed. It runs
// one at a time: a second caller waits for the first, then runs its own.
func (i *incident) reconcile(ctx workflow.Context, why string) RecallReconciliation {
	res := RecallReconciliation{Corrections: []CountCorrection{}}
	if !i.reconciles {
		res.Counts = i.carry.Counts
		return res
	}
	if err := workflow.Await(ctx, func() bool { return !i.reconciling }); err != nil {
		return res
	}
	i.reconciling = true
	defer func() { i.reconciling = false }()
	var open []int
	for idx := 0; idx < i.carry.Next && idx < len(i.carry.Recipients); idx++ {
		if !final(i.carry.Recipients[idx].State) {
			open = append(open, idx)
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    20 * time.Second, // an answer at least every 20 s, or a killed worker's attempt is retried
		Summary:             "reconcile recall counts (" + why + ")",
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
	})
	for start := 0; start < len(open); start += reconcilePage {
		page := open[start:min(start+reconcilePage, len(open))]
		ids := make([]string, len(page))
		for k, idx := range page {
			ids[k] = RecallWorkflowID(i.in.IncidentID, recipients.RecipientID(idx+1))
		}
		var out activities.QueryResult
		if err := workflow.ExecuteActivity(actx, reader.QueryWorkflows, activities.QueryRequest{WorkflowIDs: ids, Query: QueryProgress}).Get(ctx, &out); err != nil {
			// Not fatal: the next reconciliation tries again.
			workflow.GetLogger(ctx).Warn("reconciliation could not ask the Recalls", "why", why, "error", err)
			break
		}
		res.Checked += len(page)
		for k, idx := range page {
			if k >= len(out.Answers) || len(out.Answers[k]) == 0 || string(out.Answers[k]) == "null" {
				continue // not started yet (its start is retried), or gone
			}
			var p RecallProgress
			if err := json.Unmarshal(out.Answers[k], &p); err != nil || p.Index != idx {
				workflow.GetLogger(ctx).Warn("reconciliation: unusable answer", "recipient", recipients.RecipientID(idx+1), "error", err)
				continue
			}
			if c, ok := i.correct(ctx, p, why); ok {
				res.Corrections = append(res.Corrections, c)
			}
		}
	}
	if n := len(res.Corrections); n > 0 {
		workflow.GetMetricsHandler(ctx).Counter("breachflow_recall_counts_corrected").Inc(int64(n))
		ids := make([]string, n)
		for k, c := range res.Corrections {
			ids[k] = c.RecipientID
		}
		i.reply("Counts corrected (%s): %d recipient(s) whose progress report never reached the incident, now as their Recall says: %s.",
			why, n, listIDs(ids, 10))
	}
	res.Counts = i.carry.Counts
	return res
}

// correct applies a Recall's own latest report if the Incident missed it:
// the report is newer than the one applied (or final and different), and
// no longer on its way. It reports the correction made.
func (i *incident) correct(ctx workflow.Context, p RecallProgress, why string) (CountCorrection, bool) {
	cur := i.carry.Recipients[p.Index]
	if p.InFlight {
		return CountCorrection{}, false // it will arrive; the next reconciliation sees if not
	}
	same := cur.State == p.State && cur.Flags&^flagClosedHere == progressFlags(p)
	switch {
	case same:
		return CountCorrection{}, false
	case p.Seq > cur.Seq:
	case final(p.State):
		// The Recall ended there and says nothing after its final report:
		// a higher number the Incident holds was not the Recall's.
	default:
		return CountCorrection{}, false // the Incident has heard newer news
	}
	from := cur.State
	if p.Seq <= cur.Seq {
		p.Seq = cur.Seq + 1
	}
	i.apply(p)
	if i.carry.Recipients[p.Index].State != p.State {
		return CountCorrection{}, false // apply refused it (closed by the close)
	}
	c := CountCorrection{RecipientID: p.RecipientID, From: from, To: p.State, At: workflow.Now(ctx), Why: why}
	i.carry.CountsCorrected++
	if len(i.carry.Corrections) >= maxCorrectionsKept {
		i.carry.Corrections = i.carry.Corrections[1:]
	}
	i.carry.Corrections = append(i.carry.Corrections, c)
	i.resp.log(record.Entry{At: c.At, Kind: record.KindCountCorrected, Subject: c.RecipientID,
		Summary: fmt.Sprintf("%s: %s, not %s: its Recall's report never reached the incident; corrected from the Recall (%s)", c.RecipientID, c.To, c.From, why)})
	workflow.GetLogger(ctx).Warn("recall count corrected: a progress report never arrived", "recipient", c.RecipientID, "from", string(c.From), "to", string(c.To), "why", why)
	return c, true
}

// progressFlags are the flags a report sets on the Incident's record.
func progressFlags(p RecallProgress) uint8 {
	var flags uint8
	if p.Requested {
		flags |= flagRequested
	}
	if p.EmailConfirmed {
		flags |= flagEmail
	}
	if p.PhoneConfirmed {
		flags |= flagPhone
	}
	if p.CallbackRequested {
		flags |= flagCallback
	}
	return flags
}

// validateReconcile refuses a reconciliation nobody asked for by name.
func validateReconcile(req ReconcileRecall) error {
	if strings.TrimSpace(req.By) == "" {
		return fmt.Errorf("reconciling the counts needs who asks for it")
	}
	return nil
}
