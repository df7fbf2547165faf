//go:build integration

package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// TestRecordHistories records the histories the replay tests in package
// workflows replay (workflows/testdata/histories). It runs only when
// BREACHFLOW_RECORD_HISTORIES names the directory to write:
//
//	BREACHFLOW_RECORD_HISTORIES=$PWD/workflows/testdata/histories make integration
//
// Histories are recorded from completed runs (a history cut mid-task gives
// false non-determinism errors on replay).
func TestRecordHistories(t *testing.T) {
	dir := os.Getenv("BREACHFLOW_RECORD_HISTORIES")
	if dir == "" {
		t.Skip("set BREACHFLOW_RECORD_HISTORIES to record replay histories")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{slackDeclarers: []string{lead}, scenario: `
email:
  default: {persona: click, delay: 1s}
  recipients:
    - {match: "*@bounce.example.jp", persona: bounce}
phone:
  default: {persona: press1, delay: 1s}
  recipients:
    - {match: "+819000000002", persona: no_answer_then_press1, count: 1}
`})
	snap, diags := runbooks.Load("phone-recall.yaml", []byte(phoneRecallRunbook))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	list := "name,email,phone\nA,a@example.jp,090-0000-0001\nB,b@example.jp,090-0000-0002\nC,c@bounce.example.jp,090-0000-0003\n"
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "replay"}, SlackChannel: channel}, list)
	s.waitStatus(ctx, id, "two confirmed, one unreachable", func(st workflows.IncidentStatus) bool {
		return st.Recall.Confirmed == 2 && st.Recall.Unreachable == 1
	})
	// Close the unreachable recipient and the incident, so every run completes.
	h, err := s.client.UpdateWorkflow(ctx, updateOpts(workflows.RecallWorkflowID(id, "R00003"), workflows.UpdateCloseRecipient,
		workflows.CloseRecipient{By: lead, Reason: "confirmed by post"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(ctx, id, "closed by operator", func(st workflows.IncidentStatus) bool { return st.Recall.ClosedByOperator == 1 })
	if _, err := incidents.Close(ctx, s.client, id, lead, "recorded for replay"); err != nil {
		t.Fatal(err)
	}
	if err := s.client.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for name, wid := range map[string]string{
		"incident.json":             id,
		"recall-confirmed.json":     workflows.RecallWorkflowID(id, "R00002"),
		"recall-closed-by-operator": workflows.RecallWorkflowID(id, "R00003"),
	} {
		if filepath.Ext(name) == "" {
			name += ".json"
		}
		var h historypb.History
		it := s.client.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			h.Events = append(h.Events, ev)
		}
		b, err := protojson.MarshalOptions{Multiline: true}.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s: %d events", name, len(h.Events))
	}
}

func updateOpts(workflowID, name string, arg any) client.UpdateWorkflowOptions {
	return client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted}
}
