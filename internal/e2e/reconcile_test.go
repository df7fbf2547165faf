//go:build integration

package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Counts that heal, end to end: the Incident's counts are corrupted by
// progress reports that never arrive, then reconciled from the Recalls'
// own truth. The reports are dropped for real: once every recipient has
// confirmed, the Incident is reset (as an operator can, from the UI or
// `temporal workflow reset`) to the workflow task after its first Recall
// started, without reapplying the signals that followed. Every Recall has
// completed and will not report again; the reset Incident holds them as
// never heard from, until `starter recipient reconcile` (the
// reconcile_recall update) asks them.
func TestReconcile_DroppedReportsAreCorrectedFromTheRecalls(t *testing.T) {
	const n = 12
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{})
	snap, diags := runbooks.Load("email-recall.yaml", []byte(emailRecallRunbook))
	if len(diags) > 0 {
		t.Fatalf("runbook: %v", diags)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "dropped reports"}}, emailList(n, "example.jp"))
	want := workflows.RecallCounts{Total: n, Requested: n, EmailConfirmed: n, Confirmed: n}
	s.waitStatus(ctx, id, "everyone confirmed", func(st workflows.IncidentStatus) bool { return st.Recall == want })

	// The reset point: the first workflow task completed after a Recall
	// started; the reports that came later are dropped.
	var resetAt int64
	started, reports := false, 0 // reports after the reset point
	it := s.client.GetWorkflowHistory(ctx, workflows.IncidentWorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
			started = true
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if started && resetAt == 0 {
				resetAt = e.GetEventId()
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			if resetAt != 0 && e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == workflows.SignalRecallProgress {
				reports++
			}
		}
	}
	if resetAt == 0 || reports == 0 {
		t.Fatalf("no reset point before the reports (reset at %d, %d reports)", resetAt, reports)
	}
	if _, err := s.client.WorkflowService().ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 "default",
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: workflows.IncidentWorkflowID(id)},
		Reason:                    "e2e: drop the Recalls' progress reports",
		WorkflowTaskFinishEventId: resetAt,
		RequestId:                 uuid.NewString(),
		ResetReapplyExcludeTypes:  []enumspb.ResetReapplyExcludeType{enumspb.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL},
	}); err != nil {
		t.Fatalf("reset: %v", err)
	}
	corrupted := s.waitStatus(ctx, id, "the reset run answering", func(st workflows.IncidentStatus) bool {
		return st.Recall.Total == n && st.Recall.Confirmed < n
	})
	t.Logf("after %d reports were dropped: %+v", reports, corrupted.Recall)

	var r workflows.RecallReconciliation
	if err := incidents.Update(ctx, s.client, workflows.IncidentWorkflowID(id), workflows.UpdateReconcileRecall,
		workflows.ReconcileRecall{By: "e2e"}, &r); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if r.Counts != want {
		t.Errorf("after reconciling: %+v, want %+v", r.Counts, want)
	}
	if got := len(r.Corrections); got != n-corrupted.Recall.Confirmed || got == 0 {
		t.Errorf("%d corrections for %d recipients held wrongly", got, n-corrupted.Recall.Confirmed)
	}
	for _, c := range r.Corrections {
		if c.To != workflows.StateConfirmed || c.From == workflows.StateConfirmed {
			t.Errorf("correction %+v, want to confirmed", c)
		}
	}
	st, err := incidents.Status(ctx, s.client, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Recall != want || st.CountsCorrected != len(r.Corrections) {
		t.Errorf("status after reconciling: %+v, %d corrected", st.Recall, st.CountsCorrected)
	}
	// A second reconciliation finds nothing more.
	var again workflows.RecallReconciliation
	if err := incidents.Update(ctx, s.client, workflows.IncidentWorkflowID(id), workflows.UpdateReconcileRecall,
		workflows.ReconcileRecall{By: "e2e"}, &again); err != nil {
		t.Fatalf("reconcile again: %v", err)
	}
	if len(again.Corrections) != 0 || again.Counts != want {
		t.Errorf("second reconciliation: %+v", again)
	}
}
