//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// updateAndGet sends an update to a workflow and waits for its result.
func updateAndGet(ctx context.Context, t testing.TB, c client.Client, id, name string, arg, out any) {
	t.Helper()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := h.Get(ctx, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// approveQuorum approves a broadcast's test-sent fingerprint by its
// quorum of distinct approvers, once it awaits approval.
func approveQuorum(ctx context.Context, t testing.TB, s *stack, bid string) workflows.BroadcastStatus {
	t.Helper()
	st := awaitBroadcast(ctx, t, s.client, bid, "awaiting approval", func(st workflows.BroadcastStatus) bool {
		return st.State == workflows.BroadcastAwaitingApproval || st.State == workflows.BroadcastRefused
	})
	if st.State != workflows.BroadcastAwaitingApproval {
		t.Fatalf("broadcast %s: %s (findings %+v)", st.State, st.Reason, st.Findings)
	}
	for _, by := range []string{"U0PRIVACY", "U0LEGAL", "U0MGMT"}[:st.Quorum] {
		st = updateBroadcast(ctx, t, s.client, bid, workflows.UpdateApproveBroadcast, workflows.ApproveBroadcast{Fingerprint: st.Fingerprint, By: by})
	}
	return st
}

// Issue #7 end to end, with the real worker process and the sandbox's
// SendGrid: start_broadcast on the Incident starts notice 1 to the
// incident's affected list; the notice is test-sent to the approvers, and
// once the runbook's quorum approves it every affected person receives it
// exactly once, one person per message. The Incident hears of it from the
// Broadcast (state and sent count), also of a second notice stopped before
// approval, and the record written at close holds the approvals and the
// fingerprint they approved.
func TestNotices_StartBroadcastThroughTheIncidentReachesEveryAffectedPersonOnce(t *testing.T) {
	const n = 250
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: quietScenario, workerProcess: true, env: letterEnv})
	snap, err := runbooks.Builtin("list-broker-resale")
	if err != nil {
		t.Fatal(err)
	}
	affected := affectedList(ctx, t, s, n, "notice.example.jp")
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, DeclaredBy: lead, Affected: &affected,
		Facts: workflows.Facts{Title: "顧客名簿の名簿業者への流出", WhatLeaked: "氏名、住所、電話番号", Persons: n,
			AwareAt: time.Now().Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}}}, "")

	var started workflows.BroadcastStarted
	updateAndGet(ctx, t, s.client, id, workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: lead, Reason: "apology to every customer"}, &started)
	if started.N != 1 || started.List != "affected" || started.Recipients != n || started.WorkflowID != workflows.BroadcastWorkflowID(id, 1) {
		t.Fatalf("started %+v", started)
	}
	approved := approveQuorum(ctx, t, s, started.WorkflowID)
	if approved.Quorum != snap.Runbook.Phases.Broadcast.Quorum {
		t.Fatalf("quorum %d, the runbook's is %d", approved.Quorum, snap.Runbook.Phases.Broadcast.Quorum)
	}
	st := awaitBroadcast(ctx, t, s.client, started.WorkflowID, "sent", func(st workflows.BroadcastStatus) bool { return st.State == workflows.BroadcastSent })
	if st.Progress.Sent != n {
		t.Fatalf("progress %+v, want %d sent", st.Progress, n)
	}

	got := sentTo(t, s.sandbox, started.WorkflowID)
	if len(got) != n {
		t.Fatalf("%d people received the notice, want %d", len(got), n)
	}
	for addr, k := range got {
		if k != 1 {
			t.Fatalf("%s received the notice %d times", addr, k)
		}
	}
	tests := 0
	for _, m := range s.sandbox.Outbox() {
		if m.CustomArgs[activities.ArgBroadcastID] == started.WorkflowID && m.CustomArgs[activities.ArgTest] != "" {
			tests++
		}
	}
	if tests != 3 {
		t.Fatalf("%d test sends, want one to each of the 3 approvers", tests)
	}
	if d := s.sandbox.Stats().EmailTotals.Duplicates; d != 0 {
		t.Fatalf("the sandbox counted %d duplicates", d)
	}

	s.waitStatus(ctx, id, "the incident knows the notice is sent", func(st workflows.IncidentStatus) bool {
		return len(st.Broadcasts) == 1 && st.Broadcasts[0].State == workflows.BroadcastSent && st.Broadcasts[0].Sent == n
	})
	// A second notice (a correction), stopped before approval: it ends in
	// the workflow task of the stop (no Slack message to update), and the
	// Incident still hears of it.
	var second workflows.BroadcastStarted
	updateAndGet(ctx, t, s.client, id, workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: lead, Lang: "en", Reason: "correction"}, &second)
	awaitBroadcast(ctx, t, s.client, second.WorkflowID, "awaiting approval", func(st workflows.BroadcastStatus) bool {
		return st.State == workflows.BroadcastAwaitingApproval
	})
	updateBroadcast(ctx, t, s.client, second.WorkflowID, workflows.UpdateStopBroadcast, workflows.BroadcastControl{By: lead, Reason: "not needed"})
	if err := s.client.GetWorkflow(ctx, second.WorkflowID, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(ctx, id, "the incident knows notice 2 is stopped", func(st workflows.IncidentStatus) bool {
		return len(st.Broadcasts) == 2 && st.Broadcasts[1].State == workflows.BroadcastStopped
	})
	if _, err := incidents.Close(ctx, s.client, id, lead, "notices sent"); err != nil {
		t.Fatal(err)
	}
	var res workflows.IncidentResult
	if err := s.client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(res.Record.JSONFile)
	if err != nil {
		t.Fatal(err)
	}
	var rec record.Record
	if err := json.Unmarshal(js, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Broadcasts) != 2 || rec.Broadcasts[0].Details == nil || rec.Broadcasts[1].State != string(workflows.BroadcastStopped) {
		t.Fatalf("record broadcasts %+v", rec.Broadcasts)
	}
	d := rec.Broadcasts[0].Details
	if len(d.Approvals) != approved.Quorum || d.Fingerprint != approved.Fingerprint || d.Approvals[0].Fingerprint != approved.Fingerprint || d.Progress.Sent != n {
		t.Fatalf("record details: %d approvals of %s (want %d of %s), %d sent", len(d.Approvals), d.Fingerprint, approved.Quorum, approved.Fingerprint, d.Progress.Sent)
	}
}

// A notice whose summary names a person on the incident's lists (here a
// wrong recipient of the recall list) is refused while it is prepared:
// no test send, no approval possible, nothing reaches the provider; the
// findings say where, not what.
func TestNotices_ASummaryNamingAListedPersonIsRefusedBeforeAnySend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: quietScenario, workerProcess: true, env: letterEnv})
	snap, err := runbooks.Builtin("list-broker-resale")
	if err != nil {
		t.Fatal(err)
	}
	affected := affectedList(ctx, t, s, 20, "notice.example.jp")
	wrong, rep, err := s.store.Put(ctx, strings.NewReader("name,kana,email\n佐藤 美咲,サトウ ミサキ,misaki.sato@example.jp\n"), recipients.Options{})
	if err != nil || rep.RejectedCount > 0 {
		t.Fatalf("store list: %v (%d rejected)", err, rep.RejectedCount)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, DeclaredBy: lead, Affected: &affected, WrongRecipients: &wrong,
		Facts: workflows.Facts{Title: "顧客名簿の流出", WhatLeaked: "氏名、住所", Persons: 20, AwareAt: time.Now().Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}}}, "")

	var started workflows.BroadcastStarted
	updateAndGet(ctx, t, s.client, id, workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: lead, Reason: "apology",
		Items: &activities.NoticeItems{Summary: "名簿の流出は、佐藤美咲様からのご連絡で判明しました。"}}, &started)
	st := awaitBroadcast(ctx, t, s.client, started.WorkflowID, "refused", func(st workflows.BroadcastStatus) bool {
		return st.State != workflows.BroadcastPreparing
	})
	if st.State != workflows.BroadcastRefused || len(st.Findings) == 0 || st.Findings[0].Rule != contentscan.RulePersonName || st.Fingerprint != "" {
		t.Fatalf("broadcast %s (%s), findings %v, fingerprint %q; want refused for a listed person's name", st.State, st.Reason, st.Findings, st.Fingerprint)
	}
	for _, f := range st.Findings {
		if strings.Contains(f.String(), "佐藤") || strings.Contains(f.String(), "美咲") {
			t.Errorf("finding %q quotes the name", f)
		}
	}
	if n := len(s.sandbox.Outbox()); n != 0 {
		t.Errorf("%d messages reached the sandbox, want none (not even the test send)", n)
	}
}
