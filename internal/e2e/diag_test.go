//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/workflows"
)

// diagnose logs where an incident's recall stands when a test gives up:
// the Incident's runs, how many Recalls exist in which state, the
// recipients without a Recall, and what the unfinished ones wait for.
func (s *stack) diagnose(id string, n int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runs := listExecutions(ctx, s.t, s.client, fmt.Sprintf(`WorkflowId = %q`, workflows.IncidentWorkflowID(id)))
	for _, r := range runs {
		s.t.Logf("diagnose: incident run %s: %s, %d events", r.GetExecution().GetRunId(), r.GetStatus(), r.GetHistoryLength())
	}
	recalls := listExecutions(ctx, s.t, s.client, fmt.Sprintf(`BreachIncidentID = %q AND WorkflowType = "Recall"`, id))
	byState := map[string]int{}
	have := map[string]bool{}
	var running []string
	for _, e := range recalls {
		wid := e.GetExecution().GetWorkflowId()
		have[wid] = true
		st := "?"
		if p := e.GetSearchAttributes().GetIndexedFields()[workflows.SARecallState.GetName()]; p != nil {
			st = strings.Trim(string(p.GetData()), `"`)
		}
		byState[e.GetStatus().String()+"/"+st]++
		if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			running = append(running, wid)
		}
	}
	s.t.Logf("diagnose: %d Recall executions: %v", len(recalls), byState)
	var missing []string
	for k := 1; k <= n; k++ {
		if wid := workflows.RecallWorkflowID(id, recipients.RecipientID(k)); !have[wid] {
			missing = append(missing, recipients.RecipientID(k))
		}
	}
	if len(missing) > 0 {
		s.t.Logf("diagnose: %d recipients without a Recall: %v", len(missing), head(missing, 20))
	}
	sort.Strings(running)
	for _, wid := range head(running, 10) {
		d, err := s.client.DescribeWorkflowExecution(ctx, wid, "")
		if err != nil {
			s.t.Logf("diagnose: describe %s: %v", wid, err)
			continue
		}
		var acts []string
		for _, a := range d.GetPendingActivities() {
			acts = append(acts, fmt.Sprintf("%s %s attempt %d last failure %q", a.GetActivityType().GetName(), a.GetState(), a.GetAttempt(), a.GetLastFailure().GetMessage()))
		}
		s.t.Logf("diagnose: %s running, %d events, pending activities %v, pending workflow task %v, events %s", wid,
			d.GetWorkflowExecutionInfo().GetHistoryLength(), acts, d.GetPendingWorkflowTask() != nil, eventTypes(ctx, s.t, s.client, wid))
	}
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
