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
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// TestRecordHistories records the histories the replay tests in package
// workflows replay (workflows/testdata/histories). It runs only when
// BREACHFLOW_RECORD_HISTORIES names the directory to write:
//
//	BREACHFLOW_RECORD_HISTORIES=$PWD/workflows/testdata/histories make integration
//
// Histories are recorded from completed runs, or from runs waiting quietly
// (a history cut mid-task gives false non-determinism errors on replay).
func TestRecordHistories(t *testing.T) {
	dir := os.Getenv("BREACHFLOW_RECORD_HISTORIES")
	if dir == "" {
		t.Skip("set BREACHFLOW_RECORD_HISTORIES to record replay histories")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{slackDeclarers: []string{lead}, scenario: `
email:
  default: {persona: click, delay: 1s}
  recipients:
    - {match: "*@bounce.example.jp", persona: bounce}
    - {match: "*@silent.example.jp", persona: ignore}
phone:
  default: {persona: press1, delay: 1s}
  recipients:
    - {match: "+819000000002", persona: no_answer_then_press1, count: 1}
    - {match: "+819000000009", persona: no_answer}
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
		writeHistory(ctx, t, s.client, dir, name, wid)
	}
	recordStopRecallsHistories(ctx, t, s, snap, dir)
	recordObligationHistory(ctx, t, s, dir)
	recordNoticeHistories(ctx, t, dir)
}

// recordStopRecallsHistories records an incident closed with stop_recalls
// while one person (R00002, who never answers) is still being asked: the
// Incident signals stop_recall, the Recall ends closed_by_operator, and
// the Incident writes its record.
func recordStopRecallsHistories(ctx context.Context, t *testing.T, s *stack, snap runbooks.Snapshot, dir string) {
	list := "name,email,phone\nA,a@example.jp,090-0000-0001\nS,s@silent.example.jp,090-0000-0009\n"
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "replay: closed mid-recall"}, SlackChannel: channel}, list)
	s.waitStatus(ctx, id, "one confirmed, one still asked", func(st workflows.IncidentStatus) bool {
		return st.Recall.Confirmed == 1 && st.Recall.Requested == 2
	})
	h, err := s.client.UpdateWorkflow(ctx, updateOpts(id, workflows.UpdateCloseIncident,
		workflows.CloseIncident{By: lead, Reason: "recorded for replay", StopRecalls: true}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	silent := workflows.RecallWorkflowID(id, "R00002")
	for _, wid := range []string{id, silent} {
		if err := s.client.GetWorkflow(ctx, wid, "").Get(ctx, nil); err != nil {
			t.Fatalf("%s: %v", wid, err)
		}
	}
	writeHistory(ctx, t, s.client, dir, "incident-stop-recalls.json", id)
	writeHistory(ctx, t, s.client, dir, "recall-stopped-by-close.json", silent)
}

// recordObligationHistory records an Obligation: an incident of seed 002's
// runbook whose list was sold (an unauthorized purpose: APPI's reports are
// owed whatever the number of people); its first obligation, APPI's
// preliminary report, is drafted, then filed through record_filing, and
// completes; then the incident closes.
func recordObligationHistory(ctx context.Context, t *testing.T, s *stack, dir string) {
	snap, err := runbooks.Builtin("list-broker-resale")
	if err != nil {
		t.Fatal(err)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, SlackChannel: channel, DeclaredBy: lead,
		Facts: workflows.Facts{Title: "replay: obligation filed", WhatLeaked: "names and addresses", Persons: 20, Unauthorized: true,
			AwareAt: time.Now().Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}}}, "")
	var ob workflows.ObligationSummary
	s.waitStatus(ctx, id, "an obligation drafted", func(st workflows.IncidentStatus) bool {
		if len(st.Obligations) > 0 && st.Obligations[0].State == workflows.ObligationDrafted {
			ob = st.Obligations[0]
			return true
		}
		return false
	})
	var filed workflows.ObligationStatus
	updateAndGet(ctx, t, s.client, ob.WorkflowID, workflows.UpdateRecordFiling, workflows.RecordFiling{
		FiledAt: time.Now(), Reference: "PPC-2026-000123", Channel: "PPC web form", By: lead}, &filed)
	if err := s.client.GetWorkflow(ctx, ob.WorkflowID, "").Get(ctx, nil); err != nil {
		t.Fatalf("%s: %v", ob.WorkflowID, err)
	}
	writeHistory(ctx, t, s.client, dir, "obligation-filed.json", ob.WorkflowID)
	if _, err := incidents.Close(ctx, s.client, id, lead, "recorded for replay"); err != nil {
		t.Fatal(err)
	}
}

// recordNoticeHistories records an Incident of seed 002's runbook that
// starts two notices and a letter through its updates (issue #7), with the
// real worker process and the sandbox: notice 1 approved by the quorum and
// sent to everyone affected; notice 2 (a correction) stopped before
// approval; letter B001 mailed and answered "complied"; then the Incident
// closes and writes its record.
//
// Notice 1 ends its run only after its bounce window (72 hours): its
// history is recorded while it waits for it, once quiet (no activity or
// workflow task pending, nothing new for a second), which the replayer
// accepts like a completed one (it compares every command up to there).
func recordNoticeHistories(ctx context.Context, t *testing.T, dir string) {
	s := newStack(t, stackOptions{slackDeclarers: []string{lead}, scenario: quietScenario, workerProcess: true, env: letterEnv})
	snap, err := runbooks.Builtin("list-broker-resale")
	if err != nil {
		t.Fatal(err)
	}
	affected := affectedList(ctx, t, s, 20, "replay.example.jp")
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, SlackChannel: channel, DeclaredBy: lead, Affected: &affected,
		Facts: workflows.Facts{Title: "replay: list sold to brokers", WhatLeaked: "names and addresses", Persons: 20,
			AwareAt: time.Now().Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}}}, "")

	var n1, n2 workflows.BroadcastStarted
	updateAndGet(ctx, t, s.client, id, workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: lead, Reason: "apology"}, &n1)
	approveQuorum(ctx, t, s, n1.WorkflowID)
	awaitBroadcast(ctx, t, s.client, n1.WorkflowID, "notice 1 sent", func(st workflows.BroadcastStatus) bool { return st.State == workflows.BroadcastSent })
	// The Incident hears it by signal, a moment later: until then it
	// refuses a second notice ("notice 1 is sending").
	s.waitStatus(ctx, id, "the incident told notice 1 is sent", func(st workflows.IncidentStatus) bool {
		return len(st.Broadcasts) == 1 && st.Broadcasts[0].State == workflows.BroadcastSent
	})
	updateAndGet(ctx, t, s.client, id, workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: lead, Lang: "en", Reason: "correction"}, &n2)
	awaitBroadcast(ctx, t, s.client, n2.WorkflowID, "notice 2 awaiting approval", func(st workflows.BroadcastStatus) bool {
		return st.State == workflows.BroadcastAwaitingApproval
	})
	updateBroadcast(ctx, t, s.client, n2.WorkflowID, workflows.UpdateStopBroadcast, workflows.BroadcastControl{By: lead, Reason: "not needed after all"})

	var b1 workflows.BrokerDemandAdded
	updateAndGet(ctx, t, s.client, id, workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: lead,
		Broker: letters.Party{Name: "株式会社名簿センター", PostalCode: "160-0022", Address: "東京都新宿区新宿9-9-9"}, Evidence: "購入した名簿"}, &b1)
	waitFor(ctx, t, "the letter rendered", func() bool {
		return queryStatus[workflows.BrokerDemandStatus](ctx, s, b1.WorkflowID).Letter.SHA256 != ""
	})
	var ds workflows.BrokerDemandStatus
	updateAndGet(ctx, t, s.client, b1.WorkflowID, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "1234-5678-9012", By: lead}, &ds)
	updateAndGet(ctx, t, s.client, b1.WorkflowID, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerComplied, Note: "deleted", By: lead}, &ds)
	for _, wid := range []string{n2.WorkflowID, b1.WorkflowID} {
		if err := s.client.GetWorkflow(ctx, wid, "").Get(ctx, nil); err != nil {
			t.Fatalf("%s: %v", wid, err)
		}
	}
	s.waitStatus(ctx, id, "the incident told of every change", func(st workflows.IncidentStatus) bool {
		return len(st.Broadcasts) == 2 && st.Broadcasts[0].State == workflows.BroadcastSent && st.Broadcasts[1].State == workflows.BroadcastStopped &&
			len(st.BrokerDemands) == 1 && st.BrokerDemands[0].State == workflows.DemandComplied
	})
	if _, err := incidents.Close(ctx, s.client, id, lead, "recorded for replay"); err != nil {
		t.Fatal(err)
	}
	if err := s.client.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	waitQuiet(ctx, t, s.client, n1.WorkflowID)
	for name, wid := range map[string]string{
		"incident-notices.json":  id,
		"broadcast-sent.json":    n1.WorkflowID,
		"broadcast-stopped.json": n2.WorkflowID,
		"broker-complied.json":   b1.WorkflowID,
	} {
		writeHistory(ctx, t, s.client, dir, name, wid)
	}
}

// waitQuiet waits until a running workflow has nothing in flight: no
// activity or workflow task pending, the last event a completed workflow
// task, and no new event for a second.
func waitQuiet(ctx context.Context, t *testing.T, c client.Client, wid string) {
	t.Helper()
	last := int64(-1)
	for {
		d, err := c.DescribeWorkflowExecution(ctx, wid, "")
		if err != nil {
			t.Fatalf("describe %s: %v", wid, err)
		}
		n := d.GetWorkflowExecutionInfo().GetHistoryLength()
		if n == last && len(d.GetPendingActivities()) == 0 && d.GetPendingWorkflowTask() == nil {
			it := c.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			var ev *historypb.HistoryEvent
			for it.HasNext() {
				if ev, err = it.Next(); err != nil {
					t.Fatal(err)
				}
			}
			if ev != nil && ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
				return
			}
		}
		last = n
		select {
		case <-ctx.Done():
			t.Fatalf("%s never became quiet", wid)
		case <-time.After(time.Second):
		}
	}
}

// writeHistory writes a workflow's history as JSON, for the replay tests.
func writeHistory(ctx context.Context, t *testing.T, c client.Client, dir, name, wid string) {
	t.Helper()
	if filepath.Ext(name) == "" {
		name += ".json"
	}
	var h historypb.History
	it := c.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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

func updateOpts(workflowID, name string, arg any) client.UpdateWorkflowOptions {
	return client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted}
}
