package workflows_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

var notices *activities.Notices

const broadcastID = "INC-20261116-SEED04/broadcast/1"

func listOf(name string, n int) recipients.ListRef {
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:])
	return recipients.ListRef{Location: h + ".jsonl", SHA256: h, Count: n}
}

// seed004 is a broadcast on the runbook of seed 004 (three approvals, 500
// a request), one request a chunk so that a few thousand recipients take
// several chunks.
func seed004(n int) workflows.BroadcastInput {
	snap, err := runbooks.Builtin("addresses-in-body")
	if err != nil {
		panic(err)
	}
	return workflows.BroadcastInput{
		IncidentID: "INC-20261116-SEED04", Policy: *snap.Runbook.Phases.Broadcast,
		Notice: runbooks.NoticeData{IncidentID: "INC-20261116-SEED04", Organization: "株式会社サンプル",
			ContactEmail: "privacy@example.co.jp", ContactPhone: "0120-123-456", ContactHours: "平日10:00〜17:00"},
		Items: activities.NoticeItems{Summary: "配信メールの本文にメールアドレスの一覧が記載された", DataItems: []string{"メールアドレス"},
			Cause: "テスト配信から本番配信への切替時の設定誤り", SecondaryHarm: "現時点で確認されていない"},
		List:            listOf("customers-v1", n),
		BatchesPerChunk: 1,
		Concurrency:     2,
	}
}

// fakeNotices plays the notice activities: it renders a content bound to
// the list it is given, and records which recipients every chunk sent.
type fakeNotices struct {
	mu        sync.Mutex
	sends     map[int]int // recipient index -> times sent
	chunks    []activities.SendChunk
	testSends int
	refuse    bool // the next PrepareNotice is refused by the scan
	// gate, when set, decides per chunk whether it sends (true) or stops
	// before its first request (false); it may block.
	gate func(c activities.SendChunk) bool
	// keys is the approver registry the worker is configured with (none:
	// approvals are not verified).
	keys approvals.Registry
}

func newFakeNotices() *fakeNotices { return &fakeNotices{sends: map[int]int{}} }

func (f *fakeNotices) register(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(notices.PrepareNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NoticeRequest) (activities.PreparedNotice, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			c := activities.NoticeContent{From: "security@example.com", Subject: "お詫び", Text: in.Items.Summary, HTML: "<p>" + in.Items.Summary + "</p>", List: in.List}
			if f.refuse {
				f.refuse = false
				return activities.PreparedNotice{Content: c, Findings: []contentscan.Finding{{Rule: contentscan.RuleEmail, Part: "text", Line: 3, Detail: "e-mail address"}}}, nil
			}
			c.Fingerprint = c.ComputeFingerprint()
			return activities.PreparedNotice{Content: c}, nil
		})
	env.OnActivity(notices.SendTestNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.TestSendRequest) (activities.TestSendResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.testSends++
			return activities.TestSendResult{Approvers: 3, Roles: in.Roles, MessageID: fmt.Sprintf("test-%d", f.testSends)}, nil
		})
	env.OnActivity(notices.SendNotices, mock.Anything, mock.Anything).Return(f.send)
	env.OnActivity(notices.ApproverKeys, mock.Anything).Return(func(context.Context) (approvals.Registry, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.keys, nil
	})
}

func (f *fakeNotices) send(_ context.Context, c activities.SendChunk) (activities.ChunkProgress, error) {
	if c.Approved == "" || c.Approved != c.Content.Fingerprint {
		return activities.ChunkProgress{}, temporal.NewNonRetryableApplicationError("not approved", activities.ErrTypeFingerprintMismatch, nil)
	}
	if f.gate != nil && !f.gate(c) {
		p := activities.ChunkProgress{Next: c.Start}
		return p, temporal.NewNonRetryableApplicationError("send canceled", activities.ErrTypeSendCanceled, nil, p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chunks = append(f.chunks, c)
	for i := c.Start; i < c.End; i++ {
		f.sends[i]++
	}
	return activities.ChunkProgress{Next: c.End, Sent: c.End - c.Start, Requests: (c.End - c.Start + c.BatchSize - 1) / c.BatchSize}, nil
}

// chunksDone counts the chunks that sent.
func (f *fakeNotices) chunksDone() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.chunks)
}

// sentOnce checks every recipient of [0, n) was sent exactly once.
func (f *fakeNotices) sentOnce(t *testing.T, n int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		if f.sends[i] != 1 {
			t.Fatalf("recipient %d was sent %d times, want exactly once", i, f.sends[i])
		}
	}
	require.Len(t, f.sends, n)
}

func queryBroadcast(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.BroadcastStatus {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.BroadcastStatus
	require.NoError(t, v.Get(&st))
	return st
}

// outcome is what became of an update: rejected by its validator, or
// completed (with an error or not).
type outcome struct {
	rejected, failed error
	completed        bool
}

// update sends an update; the test environment applies it after the
// current callback returns.
func update(env *testsuite.TestWorkflowEnvironment, name string, arg any) *outcome {
	o := &outcome{}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(err error) { o.rejected = err },
		OnComplete: func(_ any, err error) { o.failed, o.completed = err, true },
	}, arg)
	return o
}

func (o *outcome) ok(t *testing.T) {
	t.Helper()
	require.NoError(t, o.rejected)
	require.True(t, o.completed, "the update did not complete")
	require.NoError(t, o.failed)
}

func approve(env *testsuite.TestWorkflowEnvironment, fp, by string) *outcome {
	return update(env, workflows.UpdateApproveBroadcast, workflows.ApproveBroadcast{Fingerprint: fp, By: by})
}

// steps runs each step a minute after the previous one, so each sees what
// the ones before did.
func steps(env *testsuite.TestWorkflowEnvironment, fs ...func()) {
	for i, f := range fs {
		env.RegisterDelayedCallback(f, time.Duration(i+1)*time.Minute)
	}
}

func broadcastEnv() *testsuite.TestWorkflowEnvironment {
	env := newEnv()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: broadcastID})
	return env
}

// approveAll approves the current fingerprint with the quorum.
func approveAll(t *testing.T, env *testsuite.TestWorkflowEnvironment) []*outcome {
	fp := queryBroadcast(t, env).Fingerprint
	var out []*outcome
	for _, by := range []string{"U_PRIVACY", "U_LEGAL", "U_MGMT"} {
		out = append(out, approve(env, fp, by))
	}
	return out
}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.BroadcastStatus {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.BroadcastStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	return st
}

// Seed 004's fix: three distinct approvers approve the exact fingerprint;
// the same approver twice counts once and a stale fingerprint is refused;
// the quorum starts the send, one message per recipient, each once.
func TestBroadcast_QuorumOfDistinctApproversOfTheFingerprintStartsSending(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	f.register(env)
	var before, afterTwo workflows.BroadcastStatus
	var first, again, stale, nobody, second, third *outcome
	steps(env,
		func() { before = queryBroadcast(t, env) },
		func() { first = approve(env, before.Fingerprint, "U_PRIVACY") },
		func() { again = approve(env, before.Fingerprint, "U_PRIVACY") },
		func() { stale = approve(env, strings.Repeat("0", 64), "U_LEGAL") },
		func() { nobody = approve(env, before.Fingerprint, " ") },
		func() { second = approve(env, before.Fingerprint, "U_LEGAL") },
		func() { afterTwo = queryBroadcast(t, env) },
		func() { third = approve(env, before.Fingerprint, "U_MGMT") },
	)

	env.ExecuteWorkflow(workflows.Broadcast, seed004(1300))

	st := result(t, env)
	require.Equal(t, workflows.BroadcastAwaitingApproval, before.State)
	require.Len(t, before.TestSends, 1, "the approvers got the test send before anyone could approve")
	require.Equal(t, before.Fingerprint, before.TestSends[0].Fingerprint)
	first.ok(t)
	second.ok(t)
	third.ok(t)
	require.ErrorContains(t, again.rejected, "already approved")
	require.ErrorContains(t, stale.rejected, "check the new test send")
	require.ErrorContains(t, nobody.rejected, "identity")
	require.Equal(t, workflows.BroadcastAwaitingApproval, afterTwo.State, "two of three approvals send nothing")
	require.Len(t, afterTwo.Approvals, 2)

	require.Equal(t, workflows.BroadcastDone, st.State)
	require.Equal(t, workflows.BroadcastProgress{Total: 1300, Done: 1300, Sent: 1300, Requests: 3}, st.Progress)
	require.Len(t, st.Approvals, 3)
	for k, by := range []string{"U_PRIVACY", "U_LEGAL", "U_MGMT"} {
		require.Equal(t, by, st.Approvals[k].By, "every approval is kept as evidence")
		require.Equal(t, before.Fingerprint, st.Approvals[k].Fingerprint)
	}
	f.sentOnce(t, 1300)
	for _, c := range f.chunks {
		require.Equal(t, before.Fingerprint, c.Approved, "every batch carries the approved fingerprint")
		require.Equal(t, 500, c.BatchSize, "the runbook's batch size")
	}
}

// A changed list voids every approval (kept as evidence), the notice is
// fingerprinted and test-sent again, and the old fingerprint can no longer
// be approved.
func TestBroadcast_ChangedListVoidsEveryApproval(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	f.register(env)
	newList := listOf("customers-v2", 1301)
	var before, after workflows.BroadcastStatus
	var revise, stale *outcome
	var fresh []*outcome
	steps(env,
		func() { before = queryBroadcast(t, env) },
		func() {
			approve(env, before.Fingerprint, "U_PRIVACY")
			approve(env, before.Fingerprint, "U_LEGAL")
		},
		func() {
			revise = update(env, workflows.UpdateReviseBroadcast, workflows.ReviseBroadcast{By: "U_OPS", Reason: "one customer was missing", List: &newList})
		},
		func() { after = queryBroadcast(t, env) },
		func() { stale = approve(env, before.Fingerprint, "U_MGMT") },
		func() { fresh = approveAll(t, env) },
	)

	env.ExecuteWorkflow(workflows.Broadcast, seed004(1300))

	st := result(t, env)
	revise.ok(t)
	require.NotEqual(t, before.Fingerprint, after.Fingerprint, "the list is part of the fingerprint")
	require.Equal(t, workflows.BroadcastAwaitingApproval, after.State)
	require.Empty(t, after.Approvals, "a changed list voids every approval")
	require.Len(t, after.Voided, 2, "voided approvals stay as evidence")
	require.Equal(t, "U_OPS", after.Voided[0].VoidedBy)
	require.Len(t, after.TestSends, 2, "the revised notice is test-sent again")
	require.Equal(t, after.Fingerprint, after.TestSends[1].Fingerprint)
	require.Equal(t, []workflows.Revision{{By: "U_OPS", Reason: "one customer was missing", At: after.Revisions[0].At,
		From: before.Fingerprint, To: after.Fingerprint}}, after.Revisions)
	require.ErrorContains(t, stale.rejected, "check the new test send")
	for _, o := range fresh {
		o.ok(t)
	}
	require.Equal(t, 1301, st.Progress.Sent)
	f.sentOnce(t, 1301)
	for _, c := range f.chunks {
		require.Equal(t, newList, c.Content.List, "only the revised list is sent")
	}
}

// A notice the content scan refuses cannot be approved; a revision that
// fixes it can; stop ends it without a send.
func TestBroadcast_RefusedContentCannotBeApprovedUntilRevised(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	f.refuse = true
	f.register(env)
	items := seed004(0).Items
	items.Summary = "本文を修正しました"
	var refused, revised workflows.BroadcastStatus
	var early, revise, stop *outcome
	steps(env,
		func() { refused = queryBroadcast(t, env) },
		func() { early = approve(env, refused.Fingerprint, "U_PRIVACY") },
		func() {
			revise = update(env, workflows.UpdateReviseBroadcast, workflows.ReviseBroadcast{By: "U_OPS", Reason: "remove the address", Items: &items})
		},
		func() { revised = queryBroadcast(t, env) },
		func() {
			stop = update(env, workflows.UpdateStopBroadcast, workflows.BroadcastControl{By: "U_OPS", Reason: "sent by post instead"})
		},
	)

	env.ExecuteWorkflow(workflows.Broadcast, seed004(1300))

	st := result(t, env)
	require.Equal(t, workflows.BroadcastRefused, refused.State)
	require.Empty(t, refused.Fingerprint)
	require.Len(t, refused.Findings, 1)
	require.ErrorContains(t, early.rejected, "nothing to approve")
	revise.ok(t)
	stop.ok(t)
	require.Equal(t, 1, f.testSends, "only the revised notice is test-sent")
	require.Equal(t, workflows.BroadcastAwaitingApproval, revised.State)
	require.NotEmpty(t, revised.Fingerprint)
	require.Equal(t, seed004(0).Items, refused.Items, "the status shows the items rendered")
	require.Equal(t, items, revised.Items, "and the revised ones once revised")
	require.Equal(t, workflows.BroadcastStopped, st.State)
	require.Zero(t, st.Progress.Sent)
	require.Empty(t, f.chunks)
}

// Pause stops sending (the chunk in flight stops before its next request,
// nothing new starts); resume sends the rest; everyone gets the notice
// once.
func TestBroadcast_PauseHaltsSendingAndResumeSendsTheRestOnce(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	in := seed004(2000) // 4 chunks of one request of 500, one after another
	released := make(chan struct{})
	var gateMu sync.Mutex
	resumed := false
	// The second chunk is in flight when the pause comes: it stops before
	// its first request. Chunks started on resume send.
	f.gate = func(c activities.SendChunk) bool {
		gateMu.Lock()
		after := resumed
		gateMu.Unlock()
		if after || c.Start == 0 {
			return true
		}
		<-released
		return false
	}
	f.register(env)
	var atPause workflows.BroadcastStatus
	var pause, resumeEarly, resume *outcome
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, _ error) {
		if info.ActivityType.Name != "SendNotices" || f.chunksDone() != 1 || pause != nil {
			return
		}
		resumeEarly = update(env, workflows.UpdateResumeBroadcast, workflows.BroadcastControl{By: "U_OPS"})
		pause = &outcome{}
		env.UpdateWorkflow(workflows.UpdatePauseBroadcast, "pause-1", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { pause.rejected = err },
			OnComplete: func(_ any, err error) {
				pause.failed, pause.completed = err, true
				close(released)
				atPause = queryBroadcast(t, env)
				env.RegisterDelayedCallback(func() {
					gateMu.Lock()
					resumed = true
					gateMu.Unlock()
					resume = update(env, workflows.UpdateResumeBroadcast, workflows.BroadcastControl{By: "U_OPS"})
				}, time.Hour)
			},
		}, workflows.BroadcastControl{By: "U_OPS", Reason: "customer complaints"})
	})
	steps(env, func() { approveAll(t, env) })

	env.ExecuteWorkflow(workflows.Broadcast, in)

	st := result(t, env)
	pause.ok(t)
	resume.ok(t)
	require.ErrorContains(t, resumeEarly.rejected, "only a paused broadcast")
	require.Equal(t, workflows.BroadcastPaused, atPause.State)
	require.Equal(t, "paused by U_OPS: customer complaints", atPause.Reason)
	require.Equal(t, 500, atPause.Progress.Sent, "the chunk in flight stopped before it sent")
	require.Equal(t, 2000, st.Progress.Sent)
	f.sentOnce(t, 2000)
	require.Equal(t, []string{"pause", "resume"}, actions(st.Controls))
	require.Equal(t, 500, st.Controls[0].Offset)
}

// Stop halts the send for good: the chunk in flight stops, nothing more is
// sent, and the broadcast ends stopped.
func TestBroadcast_StopHaltsTheSend(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	in := seed004(2000)
	in.Concurrency = 1
	released := make(chan struct{})
	f.gate = func(c activities.SendChunk) bool {
		if c.Start < 1000 {
			return true
		}
		<-released
		return false
	}
	f.register(env)
	var stop *outcome
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, _ error) {
		if info.ActivityType.Name != "SendNotices" || f.chunksDone() != 2 || stop != nil {
			return
		}
		stop = &outcome{}
		env.UpdateWorkflow(workflows.UpdateStopBroadcast, "stop-1", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { stop.rejected = err },
			OnComplete: func(_ any, err error) {
				stop.failed, stop.completed = err, true
				close(released)
			},
		}, workflows.BroadcastControl{By: "U_LEAD", Reason: "wrong template"})
	})
	steps(env, func() { approveAll(t, env) })

	env.ExecuteWorkflow(workflows.Broadcast, in)

	st := result(t, env)
	stop.ok(t)
	require.Equal(t, workflows.BroadcastStopped, st.State)
	require.Equal(t, 1000, st.Progress.Sent)
	require.Equal(t, 2, f.chunksDone(), "nothing is sent after the stop")
	require.Equal(t, "stopped by U_LEAD: wrong template", st.Reason)
}

func actions(evs []workflows.ControlEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

// A batch the provider refuses for good pauses the broadcast with the
// reason; what was sent stays counted, and resuming sends only the rest.
func TestBroadcast_SendingFailurePausesAndResumeContinuesFromTheProgress(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	in := seed004(1300)
	in.Concurrency = 1
	// The middle chunk's first attempt is refused after its first 200.
	var failOnce sync.Once
	env.OnActivity(notices.SendNotices, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, c activities.SendChunk) (activities.ChunkProgress, error) {
			var refused error
			if c.Start == 500 {
				failOnce.Do(func() {
					f.mu.Lock()
					for i := 500; i < 700; i++ {
						f.sends[i]++
					}
					f.mu.Unlock()
					p := activities.ChunkProgress{Next: 700, Sent: 200, Requests: 1}
					refused = temporal.NewNonRetryableApplicationError("sendgrid refused the mail: HTTP 400", activities.ErrTypeRejected, nil, p)
				})
			}
			if refused != nil {
				return activities.ChunkProgress{}, refused
			}
			return f.send(ctx, c)
		})
	f.register(env)
	var paused workflows.BroadcastStatus
	var resume *outcome
	env.RegisterDelayedCallback(func() { approveAll(t, env) }, time.Minute)
	env.RegisterDelayedCallback(func() { paused = queryBroadcast(t, env) }, time.Hour)
	env.RegisterDelayedCallback(func() {
		resume = update(env, workflows.UpdateResumeBroadcast, workflows.BroadcastControl{By: "U_OPS", Reason: "fixed"})
	}, 2*time.Hour)

	env.ExecuteWorkflow(workflows.Broadcast, in)

	st := result(t, env)
	resume.ok(t)
	require.Equal(t, workflows.BroadcastPaused, paused.State)
	require.Contains(t, paused.Reason, "ProviderRejected")
	require.Equal(t, 700, paused.Progress.Sent)
	require.Equal(t, 1300, st.Progress.Sent)
	f.sentOnce(t, 1300)
}

// A chunk refused for good after requests finished out of order (the
// last one done, the first two not): resuming sends exactly the requests
// not done.
func TestBroadcast_ResumeSkipsRequestsDoneOutOfOrder(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	in := seed004(1500)
	in.BatchesPerChunk = 3 // one chunk of three requests, two in flight
	var failOnce sync.Once
	lanes := 0
	env.OnActivity(notices.SendNotices, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, c activities.SendChunk) (activities.ChunkProgress, error) {
			var refused error
			failOnce.Do(func() {
				f.mu.Lock()
				lanes = c.Lanes
				for i := 1000; i < 1500; i++ {
					f.sends[i]++
				}
				f.mu.Unlock()
				p := activities.ChunkProgress{Next: 0, Sent: 500, Requests: 1, Ahead: []int{1000}}
				refused = temporal.NewNonRetryableApplicationError("sendgrid refused the mail: HTTP 400", activities.ErrTypeRejected, nil, p)
			})
			if refused != nil {
				return activities.ChunkProgress{}, refused
			}
			return f.send(ctx, c)
		})
	f.register(env)
	var paused workflows.BroadcastStatus
	var resume *outcome
	env.RegisterDelayedCallback(func() { approveAll(t, env) }, time.Minute)
	env.RegisterDelayedCallback(func() { paused = queryBroadcast(t, env) }, time.Hour)
	env.RegisterDelayedCallback(func() {
		resume = update(env, workflows.UpdateResumeBroadcast, workflows.BroadcastControl{By: "U_OPS", Reason: "fixed"})
	}, 2*time.Hour)

	env.ExecuteWorkflow(workflows.Broadcast, in)

	st := result(t, env)
	resume.ok(t)
	require.Equal(t, 2, lanes, "Concurrency requests in flight")
	require.Equal(t, workflows.BroadcastPaused, paused.State)
	require.Equal(t, 500, paused.Progress.Done)
	require.Equal(t, 1500, st.Progress.Sent)
	require.Equal(t, 1500, st.Progress.Done)
	f.sentOnce(t, 1500)
}

// Bounces count once per recipient; people the notice cannot reach
// become the substitute-measure task, reminded until it is recorded.
func TestBroadcast_UnreachablePeopleBecomeTheSubstituteMeasureTask(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	f.register(env)
	in := seed004(1300)
	in.SlackChannel = "C0INCIDENT"
	var mu sync.Mutex
	var posts []string
	env.OnActivity(a.PostBroadcastMessage, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{Channel: "C0INCIDENT", TS: "1.1"}, nil)
	env.OnActivity(a.PostTaskNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.TaskNotice) (activities.SlackMessageRef, error) {
			mu.Lock()
			defer mu.Unlock()
			posts = append(posts, n.Text)
			return activities.SlackMessageRef{}, nil
		})
	start := env.Now()
	var missingURL, recorded *outcome
	env.RegisterDelayedCallback(func() { approveAll(t, env) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		for _, d := range []workflows.BroadcastDelivery{
			{RecipientID: "R00002", Kind: workflows.DeliveryBounced, EventID: "e1"},
			{RecipientID: "R00002", Kind: workflows.DeliveryBounced, EventID: "e2"}, // the same person again
			{RecipientID: "R01300", Kind: workflows.DeliveryDropped, EventID: "e3"},
			{RecipientID: "R09999", Kind: workflows.DeliveryBounced, EventID: "e4"}, // not in the list
			{RecipientID: "R00003", Kind: workflows.DeliveryDelivered, EventID: "e5"},
		} {
			env.SignalWorkflow(workflows.SignalBroadcastDelivery, d)
		}
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		missingURL = update(env, workflows.UpdateRecordSubstitute, workflows.SubstituteMeasure{By: "U_PR", InquiryDesk: "0120-123-456"})
	}, 4*24*time.Hour+12*time.Hour)
	env.RegisterDelayedCallback(func() {
		recorded = update(env, workflows.UpdateRecordSubstitute, workflows.SubstituteMeasure{
			By: "U_PR", PublishedURL: "https://example.co.jp/news/apology", InquiryDesk: "0120-123-456, weekdays 10-17"})
	}, 4*24*time.Hour+12*time.Hour+time.Minute)

	env.ExecuteWorkflow(workflows.Broadcast, in)

	st := result(t, env)
	require.ErrorContains(t, missingURL.rejected, "published URL")
	recorded.ok(t)
	require.Equal(t, workflows.BroadcastDone, st.State)
	require.Equal(t, 1, st.Progress.Bounced)
	require.Equal(t, 1, st.Progress.Dropped)
	require.NotNil(t, st.Substitute)
	require.Equal(t, 2, st.Substitute.Unreachable)
	require.Equal(t, start.Add(time.Minute+72*time.Hour).UTC(), st.Substitute.OpenedAt.UTC(), "decided after the bounce window")
	require.Equal(t, "https://example.co.jp/news/apology", st.Substitute.Done.PublishedURL)
	require.Equal(t, 1, st.Substitute.Reminders)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, posts, 2)
	require.Contains(t, posts[0], "could not reach 2 of 1300 people")
	require.Contains(t, posts[1], "Reminder")
}

// History stays bounded: the broadcast continues as new between chunks,
// carrying the progress, the approvals and the content, and the next run
// sends only what is left.
func TestBroadcast_ContinueAsNewCarriesProgressAndApprovals(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	f.register(env)
	in := seed004(2000)
	in.Concurrency = 1
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, _ error) {
		if info.ActivityType.Name == "SendNotices" && f.chunksDone() == 2 {
			env.SetContinueAsNewSuggested(true)
		}
	})
	steps(env, func() { approveAll(t, env) })

	env.ExecuteWorkflow(workflows.Broadcast, in)

	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "want continue-as-new, got %v", env.GetWorkflowError())
	var next workflows.BroadcastInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Carry)
	require.Equal(t, 1000, next.Carry.Next)
	require.Equal(t, 1000, next.Carry.Status.Progress.Sent)
	require.Len(t, next.Carry.Status.Approvals, 3)
	require.Equal(t, workflows.BroadcastSending, next.Carry.Status.State)
	require.NotNil(t, next.Carry.Content)

	env2 := broadcastEnv()
	f.register(env2)
	env2.ExecuteWorkflow(workflows.Broadcast, next)
	st := result(t, env2)
	require.Equal(t, 2000, st.Progress.Sent)
	require.Equal(t, 2, st.Runs)
	f.sentOnce(t, 2000)
}
