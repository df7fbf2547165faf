//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"golang.org/x/time/rate"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/roles"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Everybody reads and nobody clicks: a notice has no link to follow.
const quietScenario = `
email:
  default: {persona: ignore}
`

// approvers of the seed-004 runbook's roles, for the test send.
const approverRoles = "privacy-officer=dpo@example.co.jp;legal=counsel@example.co.jp;management=ceo@example.co.jp"

// broadcastNotices builds the notice activities the e-mail worker runs:
// the sandbox's SendGrid, the stack's list store, synchronous heartbeats
// through the stack's client, and rps requests a second.
func broadcastNotices(t testing.TB, s *stack, rps float64) *activities.Notices {
	t.Helper()
	dir, err := roles.Parse(approverRoles)
	if err != nil {
		t.Fatal(err)
	}
	n := &activities.Notices{
		Mail:   &activities.SendGridMailer{APIKey: s.cfg.SendGrid.APIKey, Host: s.cfg.SandboxURL + "/sendgrid", HTTP: &http.Client{Timeout: 30 * time.Second}},
		Lists:  s.store,
		Sender: activities.FromAddress{Name: "株式会社サンプル", Email: s.cfg.MailFrom},
		Config: activities.NoticeConfig{Roles: dir, Published: contentscan.Allowlist{Emails: []string{"privacy@example.co.jp"}, Phones: []string{"0120-123-456"}}},
		// The worker's client: progress is on the server before the next request.
		Heartbeats: s.client,
	}
	if rps > 0 {
		n.Limiter = rate.NewLimiter(rate.Limit(rps), 1)
	}
	return n
}

// startMailWorker starts a worker on the e-mail task queue, as the
// worker process does next to its main one.
func startMailWorker(t testing.TB, s *stack, n *activities.Notices) worker.Worker {
	t.Helper()
	w := worker.New(s.client, workflows.MailTaskQueue(s.cfg.TaskQueue), worker.Options{MaxConcurrentActivityExecutionSize: 8})
	w.RegisterActivity(n)
	if err := w.Start(); err != nil {
		t.Fatalf("mail worker: %v", err)
	}
	return w
}

// affectedList stores n fictitious customers, each with an address.
func affectedList(ctx context.Context, t testing.TB, s *stack, n int, domain string) recipients.ListRef {
	t.Helper()
	var b strings.Builder
	b.Grow(n * 40)
	b.WriteString("name,email\n")
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&b, "顧客 %d,c%07d@%s\n", k, k, domain)
	}
	ref, rep, err := s.store.Put(ctx, strings.NewReader(b.String()), recipients.Options{})
	if err != nil {
		t.Fatalf("store list: %v", err)
	}
	if rep.RejectedCount > 0 {
		t.Fatalf("list rejected %d rows", rep.RejectedCount)
	}
	return ref
}

// seed004Broadcast is the apology of seed 004 to everyone on the list.
func seed004Broadcast(t testing.TB, incidentID string, list recipients.ListRef, batch int) workflows.BroadcastInput {
	t.Helper()
	snap, err := runbooks.Builtin("addresses-in-body")
	if err != nil {
		t.Fatal(err)
	}
	policy := *snap.Runbook.Phases.Broadcast
	policy.BatchSize = batch
	return workflows.BroadcastInput{
		IncidentID: incidentID, Policy: policy, List: list,
		Notice: runbooks.NoticeData{IncidentID: incidentID, Organization: "株式会社サンプル",
			ContactEmail: "privacy@example.co.jp", ContactPhone: "0120-123-456", ContactHours: "平日10:00〜17:00"},
		Items: activities.NoticeItems{Summary: "プロダクトニュースの本文にメールアドレスの一覧が記載されたまま配信されました。", DataItems: []string{"メールアドレス"},
			Cause: "テスト配信から本番配信への切替時の設定誤り", SecondaryHarm: "現時点で確認されておりません"},
		BatchesPerChunk: 10, Concurrency: 2, BounceWindow: time.Second,
	}
}

func newIncidentID() string {
	return fmt.Sprintf("INC-20261121-%06X", time.Now().UnixNano()&0xffffff)
}

func broadcastStatus(ctx context.Context, t testing.TB, c client.Client, id string) (workflows.BroadcastStatus, error) {
	var st workflows.BroadcastStatus
	v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// awaitBroadcast polls the broadcast's status until ok.
func awaitBroadcast(ctx context.Context, t testing.TB, c client.Client, id, what string, ok func(workflows.BroadcastStatus) bool) workflows.BroadcastStatus {
	t.Helper()
	var last workflows.BroadcastStatus
	for {
		st, err := broadcastStatus(ctx, t, c, id)
		if err == nil {
			last = st
			if ok(st) {
				return st
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s: state %s, %+v (err %v)", what, last.State, last.Progress, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func updateBroadcast(ctx context.Context, t testing.TB, c client.Client, id, name string, arg any) workflows.BroadcastStatus {
	t.Helper()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var st workflows.BroadcastStatus
	if err := h.Get(ctx, &st); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return st
}

// startApproved starts the broadcast and approves its fingerprint with the
// runbook's quorum of three, after the test send.
func startApproved(ctx context.Context, t testing.TB, s *stack, in workflows.BroadcastInput) string {
	t.Helper()
	id := workflows.BroadcastWorkflowID(in.IncidentID, 1)
	if _, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.cfg.TaskQueue}, workflows.Broadcast, in); err != nil {
		t.Fatalf("start broadcast: %v", err)
	}
	st := awaitBroadcast(ctx, t, s.client, id, "awaiting approval", func(st workflows.BroadcastStatus) bool {
		return st.State == workflows.BroadcastAwaitingApproval || st.State == workflows.BroadcastRefused
	})
	if st.State != workflows.BroadcastAwaitingApproval {
		t.Fatalf("broadcast %s: %s", st.State, st.Reason)
	}
	for _, by := range []string{"U0PRIVACY", "U0LEGAL", "U0MGMT"} {
		updateBroadcast(ctx, t, s.client, id, workflows.UpdateApproveBroadcast, workflows.ApproveBroadcast{Fingerprint: st.Fingerprint, By: by})
	}
	return id
}

// sentTo counts, per address, the live notices of broadcast id the
// sandbox accepted, and checks each went to one person only.
func sentTo(t testing.TB, sb *sandbox.Sandbox, id string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range sb.Outbox() {
		if m.CustomArgs[activities.ArgBroadcastID] != id || m.CustomArgs[activities.ArgTest] != "" {
			continue
		}
		if len(m.Recipients()) != 1 {
			t.Fatalf("a notice went to %d people", len(m.Recipients()))
		}
		out[strings.ToLower(m.To[0])]++
	}
	return out
}

// The e-mail worker is stopped in the middle of the send and another one
// takes over on the same queue: the send resumes from the progress the
// first one recorded, and nobody receives the notice twice.
func TestBroadcast_WorkerReplacedMidSendSendsNobodyTwice(t *testing.T) {
	const n = 12000
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: quietScenario})
	list := affectedList(ctx, t, s, n, "restart.example.jp")
	w1 := startMailWorker(t, s, broadcastNotices(t, s, 40))
	id := startApproved(ctx, t, s, seed004Broadcast(t, newIncidentID(), list, 100))

	st := awaitBroadcast(ctx, t, s.client, id, "a quarter sent", func(st workflows.BroadcastStatus) bool { return st.Progress.Sent >= n/4 })
	w1.Stop()
	atStop := len(sentTo(t, s.sandbox, id))
	t.Logf("first worker stopped at %d sent (%d accepted by the sandbox)", st.Progress.Sent, atStop)
	if atStop >= n {
		t.Fatalf("everything was sent before the worker stopped: the test proves nothing")
	}
	w2 := startMailWorker(t, s, broadcastNotices(t, s, 0))
	defer w2.Stop()

	st = awaitBroadcast(ctx, t, s.client, id, "everyone sent", func(st workflows.BroadcastStatus) bool { return st.State.Final() })
	if st.State != workflows.BroadcastDone || st.Progress.Sent != n || st.Progress.Resent != 0 {
		t.Fatalf("status %s %+v, want done with %d sent, none resent", st.State, st.Progress, n)
	}
	got := sentTo(t, s.sandbox, id)
	if len(got) != n {
		t.Fatalf("%d people received the notice, want %d", len(got), n)
	}
	for addr, k := range got {
		if k != 1 {
			t.Fatalf("%s received the notice %d times", addr, k)
		}
	}
	if d := s.sandbox.Stats().EmailTotals.Duplicates; d != 0 {
		t.Fatalf("the sandbox counted %d duplicates", d)
	}
}

// Stop in the middle of the send: the update returns within seconds, once
// the batches in flight have stopped, and nothing is sent after it.
func TestBroadcast_StopHaltsTheSendWithinSeconds(t *testing.T) {
	const n = 20000
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: quietScenario})
	list := affectedList(ctx, t, s, n, "stop.example.jp")
	w := startMailWorker(t, s, broadcastNotices(t, s, 40))
	defer w.Stop()
	id := startApproved(ctx, t, s, seed004Broadcast(t, newIncidentID(), list, 100))
	awaitBroadcast(ctx, t, s.client, id, "the send under way", func(st workflows.BroadcastStatus) bool { return st.Progress.Sent >= 2000 })

	start := time.Now()
	st := updateBroadcast(ctx, t, s.client, id, workflows.UpdateStopBroadcast, workflows.BroadcastControl{By: "U0LEAD", Reason: "wrong template"})
	took := time.Since(start)
	atStop := len(sentTo(t, s.sandbox, id))
	t.Logf("stop took %v; %d sent", took, atStop)
	if took > 5*time.Second {
		t.Fatalf("stop took %v", took)
	}
	if st.State != workflows.BroadcastStopped {
		t.Fatalf("state %s after stop", st.State)
	}
	time.Sleep(2 * time.Second)
	if after := len(sentTo(t, s.sandbox, id)); after != atStop {
		t.Fatalf("%d notices were sent after the stop returned", after-atStop)
	}
	final := awaitBroadcast(ctx, t, s.client, id, "stopped", func(st workflows.BroadcastStatus) bool { return st.State.Final() })
	if final.Progress.Sent != atStop || atStop >= n {
		t.Fatalf("the broadcast counts %d sent, the sandbox accepted %d of %d", final.Progress.Sent, atStop, n)
	}
}
