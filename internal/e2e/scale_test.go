//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// TestScale_TenThousandRecipients recalls 10,000 recipients on the dev
// server: the Incident continues as new many times (its history would
// otherwise pass the event limits), its counts stay exact, and nobody is
// lost. It takes minutes on 2 cores, so it runs only with
// BREACHFLOW_SCALE_RECIPIENTS set (e.g. 10000): `make scale`.
func TestScale_TenThousandRecipients(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BREACHFLOW_SCALE_RECIPIENTS"))
	if n <= 0 {
		t.Skip("set BREACHFLOW_SCALE_RECIPIENTS (e.g. 10000) to run the scale test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: `
email:
  default: {persona: click}
`})
	snap, diags := runbooks.Load("email-recall.yaml", []byte(emailRecallRunbook))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	snap.Runbook.Phases.Recall.Concurrency = 300
	var list strings.Builder
	list.WriteString("name,email\n")
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&list, "P%d,p%06d@scale.example.jp\n", k, k)
	}
	start := time.Now()
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "scale"}}, list.String())
	last := time.Now()
	st := s.waitStatus(ctx, id, "everyone confirmed", func(st workflows.IncidentStatus) bool {
		if time.Since(last) > 30*time.Second {
			t.Logf("%s: %+v", time.Since(start).Round(time.Second), st.Recall)
			last = time.Now()
		}
		return st.Recall.Confirmed == n
	})
	if want := (workflows.RecallCounts{Total: n, Requested: n, EmailConfirmed: n, Confirmed: n}); st.Recall != want {
		t.Fatalf("counts %+v, want %+v", st.Recall, want)
	}
	desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf(`WorkflowType = "Incident" AND BreachIncidentID = %q`, id)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d recipients confirmed in %s; the incident's current run has %d events; %d incident runs (continue-as-new)",
		n, time.Since(start).Round(time.Second), desc.WorkflowExecutionInfo.HistoryLength, resp.Count)
	stats := s.sandbox.Stats()
	if stats.EmailTotals.Messages != n || stats.EmailTotals.Duplicates != 0 {
		t.Errorf("sandbox: %d messages, %d duplicates; want %d and 0", stats.EmailTotals.Messages, stats.EmailTotals.Duplicates, n)
	}
}
