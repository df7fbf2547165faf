package workflows

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/slackui"
)

// Activities on their own structs, referred to by method value like a:
// the notice activities run on the e-mail task queue.
var (
	noticeActs *activities.Notices
	letterActs *activities.Letters
)

// Defaults of BroadcastInput.
const (
	defaultConcurrency     = 4
	defaultBatchesPerChunk = 100
	defaultBounceWindow    = 72 * time.Hour
	defaultRemindEvery     = 24 * time.Hour
	defaultHistoryLimit    = 2000
	chunkHeartbeatTimeout  = 30 * time.Second
	// maxKept bounds the control events and revisions kept in the status.
	maxKept = 100
)

// Broadcast sends the notice to everyone affected, unable to cause the
// next leak (seeds 003 and 004): the notice is rendered and scanned, its
// content and list fingerprinted, test-sent to the approvers exactly as
// it will go out, and sent only once a quorum of distinct approvers has
// approved that exact fingerprint; any change voids the approvals. It is
// sent in batches of one recipient per message, re-checking the
// fingerprint before each, with progress heartbeated so a restarted worker
// does not send twice, and it can be paused, resumed or stopped within
// seconds. People it cannot reach become a task for the substitute
// measure the law allows (publication and an inquiry desk).
func Broadcast(ctx workflow.Context, in BroadcastInput) (BroadcastStatus, error) {
	b := newBroadcast(ctx, in)
	if err := b.setup(ctx); err != nil {
		return b.status, err
	}
	return b.run(ctx)
}

type broadcast struct {
	in      BroadcastInput
	status  BroadcastStatus
	content *activities.NoticeContent
	next    int
	pending []Range
	bounced []byte

	running     []runningChunk
	chunkSeq    int
	completions int

	slackRef   *activities.SlackMessageRef
	slackDirty bool
	slackBusy  bool
	lastSA     string
	// parent numbers the reports to the Incident (incident_notices.go).
	parent noticeReporter
	// deliveries holds the provider's reports until applied (see inbox).
	deliveries *inbox[BroadcastDelivery]
	// outcomes: 0 not asked yet, 1 old histories, 2 outcomes shown apart
	// (versionOutcomes).
	outcomes int
	// keys is the approver registry (versionVerifiedApprovals).
	keys approvals.Registry
}

type runningChunk struct {
	id     int
	cancel workflow.CancelFunc
}

func newBroadcast(ctx workflow.Context, in BroadcastInput) *broadcast {
	b := &broadcast{in: in}
	if c := in.Carry; c != nil {
		b.status, b.content, b.next, b.pending, b.slackRef, b.bounced, b.keys = c.Status, c.Content, c.Next, c.Pending, c.Slack, c.Bounced, c.Keys
		b.status.Runs++
		b.in.Carry = nil
		return b
	}
	b.status = BroadcastStatus{
		BroadcastID: workflow.GetInfo(ctx).WorkflowExecution.ID, IncidentID: in.IncidentID,
		State: BroadcastPreparing, List: in.List, Quorum: max(1, in.Policy.Quorum), Items: in.Items,
		Approvals: []Approval{}, Progress: BroadcastProgress{Total: in.List.Count},
		StartedAt: workflow.Now(ctx), Runs: 1,
	}
	return b
}

func (b *broadcast) setup(ctx workflow.Context) error {
	if err := setQuery(ctx, QueryStatus, func() (BroadcastStatus, error) { return b.status, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	handlers := []struct {
		name    string
		handler any
		valid   any
	}{
		{UpdateApproveBroadcast, b.approve, b.validateApprove},
		{UpdateReviseBroadcast, b.revise, b.validateRevise},
		{UpdatePauseBroadcast, b.pause, b.validatePause},
		{UpdateResumeBroadcast, b.resume, b.validateResume},
		{UpdateStopBroadcast, b.stop, b.validateStop},
		{UpdateRecordSubstitute, b.recordSubstitute, b.validateSubstitute},
	}
	for _, h := range handlers {
		if err := setUpdate(ctx, h.name, h.handler, workflow.UpdateHandlerOptions{Validator: h.valid}); err != nil {
			return fmt.Errorf("register %s update: %w", h.name, err)
		}
	}
	b.deliveries = listen(ctx, SignalBroadcastDelivery, b.onDelivery)
	workflow.Go(ctx, b.slackLoop)
	return nil
}

func (b *broadcast) run(ctx workflow.Context) (BroadcastStatus, error) {
	b.publish(ctx)
	for !b.status.State.Final() {
		// Never while preparing: a revision waits for the preparation.
		if b.needsContinueAsNew(ctx) && len(b.running) == 0 && b.status.State != BroadcastPreparing {
			return b.status, b.continueAsNew(ctx)
		}
		switch s := b.status.State; s {
		case BroadcastPreparing:
			b.prepare(ctx)
		case BroadcastSending:
			b.send(ctx)
		case BroadcastSent:
			b.awaitBounces(ctx)
		case BroadcastSubstitutePending:
			b.awaitSubstitute(ctx)
		default: // refused, awaiting approval, paused: people decide
			if err := workflow.Await(ctx, func() bool { return b.status.State != s || b.needsContinueAsNew(ctx) }); err != nil {
				return b.status, err
			}
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && len(b.running) == 0 }); err != nil {
		return b.status, err
	}
	b.publish(ctx)
	b.flushSlack(ctx)
	return b.status, nil
}

func (b *broadcast) concurrency() int { return positive(b.in.Concurrency, defaultConcurrency) }
func (b *broadcast) batchSize() int   { return b.in.Policy.EffectiveBatchSize() }

// chunkSize is BatchesPerChunk requests.
func (b *broadcast) chunkSize() int {
	return b.batchSize() * positive(b.in.BatchesPerChunk, defaultBatchesPerChunk)
}

func (b *broadcast) historyLimit() int                  { return positive(b.in.HistoryLimit, defaultHistoryLimit) }
func (b *broadcast) now(ctx workflow.Context) time.Time { return workflow.Now(ctx) }

func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (b *broadcast) mailQueue(ctx workflow.Context) string {
	if b.in.MailTaskQueue != "" {
		return b.in.MailTaskQueue
	}
	return MailTaskQueue(workflow.GetInfo(ctx).TaskQueueName)
}

// needsContinueAsNew reports whether history is long enough to start a
// new run (the server's suggestion, or HistoryLimit events).
func (b *broadcast) needsContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= b.historyLimit()
}

// prepare renders, scans and fingerprints the notice and test-sends it to
// the approvers; then the broadcast awaits approval, or is refused.
func (b *broadcast) prepare(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: b.mailQueue(ctx), StartToCloseTimeout: 10 * time.Minute, Summary: "render, scan and fingerprint the notice",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var prep activities.PreparedNotice
	err := workflow.ExecuteActivity(actx, noticeActs.PrepareNotice, activities.NoticeRequest{
		BroadcastID: b.status.BroadcastID, Template: b.in.Policy.Template, Lang: b.in.Lang, Notice: b.in.Notice,
		Items: b.in.Items, Attachments: b.in.Attachments, List: b.in.List, OtherLists: b.in.OtherLists,
	}).Get(ctx, &prep)
	b.content = nil
	b.status.Fingerprint, b.status.Findings, b.status.List = "", nil, b.in.List
	b.status.Progress.Total = b.in.List.Count
	switch {
	case err != nil:
		b.refuse(ctx, "the notice could not be prepared: "+failureText(err))
		return
	case len(prep.Findings) > 0:
		b.status.Findings = prep.Findings
		b.status.Subject = ""
		b.refuse(ctx, fmt.Sprintf("the content scan refused the notice (%d findings): revise it", len(prep.Findings)))
		return
	}
	c := prep.Content
	b.content = &c
	b.status.Fingerprint, b.status.Subject = c.Fingerprint, c.Subject
	b.noteRevisionResult(c.Fingerprint)
	if workflow.GetVersion(ctx, versionVerifiedApprovals, workflow.DefaultVersion, 1) >= 1 {
		// Who may approve, as the organisation registers them now.
		var keys approvals.Registry
		if err := workflow.ExecuteActivity(actx, noticeActs.ApproverKeys).Get(ctx, &keys); err != nil {
			b.refuse(ctx, "the approver registry could not be read: "+failureText(err))
			return
		}
		b.keys = keys
	}

	tctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: b.mailQueue(ctx), StartToCloseTimeout: time.Minute, Summary: "test send to the approvers",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, MaximumAttempts: 10},
	})
	var ts activities.TestSendResult
	if err := workflow.ExecuteActivity(tctx, noticeActs.SendTestNotice, activities.TestSendRequest{
		BroadcastID: b.status.BroadcastID, Content: c, Roles: b.in.Policy.Approvers,
	}).Get(ctx, &ts); err != nil {
		b.refuse(ctx, "the test send to the approvers failed: "+failureText(err))
		return
	}
	b.status.TestSends = append(b.status.TestSends, TestSendRecord{
		Fingerprint: c.Fingerprint, At: b.now(ctx), Approvers: ts.Approvers, Roles: ts.Roles, Missing: ts.Missing, MessageID: ts.MessageID,
	})
	b.setState(ctx, BroadcastAwaitingApproval, "")
}

func (b *broadcast) refuse(ctx workflow.Context, reason string) {
	b.noteRevisionResult("")
	b.setState(ctx, BroadcastRefused, reason)
}

// noteRevisionResult completes the last revision's record with the
// fingerprint it produced.
func (b *broadcast) noteRevisionResult(fp string) {
	if n := len(b.status.Revisions); n > 0 && b.status.Revisions[n-1].To == "" {
		b.status.Revisions[n-1].To = fp
	}
}

// send runs one chunk after another until every recipient is dealt with,
// the broadcast is paused or stopped, or history is long. A chunk keeps
// Concurrency requests in flight itself: handing them out one at a time
// to whichever lane is free keeps every lane busy to the chunk's end,
// which chunks run side by side could not (the last ones ran alone).
func (b *broadcast) send(ctx workflow.Context) {
	for b.status.State == BroadcastSending {
		for len(b.running) == 0 && !b.needsContinueAsNew(ctx) {
			r, ok := b.nextRange()
			if !ok {
				break
			}
			b.startChunk(ctx, r)
		}
		if len(b.running) == 0 {
			if b.next >= b.status.Progress.Total && len(b.pending) == 0 {
				b.status.SentAt = b.now(ctx)
				b.setState(ctx, BroadcastSent, "")
			}
			return // sent, or time to continue as new
		}
		seen := b.completions
		_ = workflow.Await(ctx, func() bool { return b.completions != seen || b.status.State != BroadcastSending })
	}
}

// nextRange returns the next range to send: an interrupted one first.
func (b *broadcast) nextRange() (Range, bool) {
	if len(b.pending) > 0 {
		r := b.pending[0]
		b.pending = b.pending[1:]
		return r, true
	}
	if b.next >= b.status.Progress.Total {
		return Range{}, false
	}
	r := Range{Start: b.next, End: min(b.next+b.chunkSize(), b.status.Progress.Total)}
	b.next = r.End
	return r, true
}

func (b *broadcast) startChunk(ctx workflow.Context, r Range) {
	b.chunkSeq++
	id := b.chunkSeq
	cctx, cancel := workflow.WithCancel(ctx)
	b.running = append(b.running, runningChunk{id: id, cancel: cancel})
	actx := workflow.WithActivityOptions(cctx, workflow.ActivityOptions{
		TaskQueue:           b.mailQueue(ctx),
		StartToCloseTimeout: 2 * time.Hour,
		// A worker that dies is noticed within this time, and its
		// successor resumes from the last record. While the server is
		// away the lanes wait for it to record their progress: an outage
		// shorter than this leaves no request in doubt (a longer one
		// times the attempt out, and the requests whose answers came
		// meanwhile are sent again).
		HeartbeatTimeout:    chunkHeartbeatTimeout,
		WaitForCancellation: true,
		Summary:             fmt.Sprintf("notice to recipients %d-%d", r.Start+1, r.End),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 50,
		},
	})
	fut := workflow.ExecuteActivity(actx, noticeActs.SendNotices, activities.SendChunk{
		BroadcastID: b.status.BroadcastID, Start: r.Start, End: r.End, BatchSize: b.batchSize(), Lanes: b.concurrency(),
		Content: *b.content, Approved: b.approvedFingerprint(),
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		var p activities.ChunkProgress
		err := fut.Get(ctx, &p)
		b.finishChunk(ctx, id, r, p, err)
	})
}

// approvedFingerprint is the fingerprint the quorum approved.
func (b *broadcast) approvedFingerprint() string {
	if len(b.status.Approvals) < b.status.Quorum {
		return ""
	}
	return b.status.Approvals[0].Fingerprint
}

func (b *broadcast) finishChunk(ctx workflow.Context, id int, r Range, p activities.ChunkProgress, err error) {
	for k, c := range b.running {
		if c.id == id {
			b.running = append(b.running[:k], b.running[k+1:]...)
			break
		}
	}
	b.completions++
	if err == nil {
		b.account(r, p)
		b.publish(ctx)
		return
	}
	var partial activities.ChunkProgress
	if progressOf(err, &partial) && partial.Next >= r.Start && partial.Next <= r.End {
		b.account(r, partial)
		b.pending = append(b.pending, b.unsent(r, partial)...)
	} else {
		b.pending = append(b.pending, r)
	}
	if b.status.State == BroadcastSending {
		// The provider refused, the list or content no longer matches,
		// retries ran out, or the chunk stopped though nobody paused: stop
		// sending and let people decide. (A chunk canceled by a pause or
		// stop finds the broadcast no longer sending.)
		b.interrupt(ctx, BroadcastPaused, ControlEvent{Action: "pause", By: "breachflow", Reason: "sending failed: " + failureText(err)})
	}
	b.publish(ctx)
}

// account adds a chunk's (partial) progress, which counts from r.Start.
func (b *broadcast) account(r Range, p activities.ChunkProgress) {
	pr := &b.status.Progress
	pr.Done += p.Dealt(r.Start, r.End, b.batchSize())
	pr.Sent += p.Sent
	pr.NoAddress += p.NoAddress
	pr.Invalid += p.Invalid
	pr.Duplicates += p.Duplicates
	pr.Requests += p.Requests
	pr.Resent += p.Resent
	// Requests that may have gone out are sent again with the rest.
	for _, at := range p.InFlight {
		pr.Resent += min(b.batchSize(), r.End-at)
	}
}

// unsent returns the parts of r a chunk stopped at p has not dealt with:
// from p.Next to r.End, less the requests done ahead of p.Next (requests
// in flight at once finish out of order).
func (b *broadcast) unsent(r Range, p activities.ChunkProgress) []Range {
	ahead := slices.Clone(p.Ahead)
	slices.Sort(ahead)
	var out []Range
	at := p.Next
	for _, a := range ahead {
		if a < at || a >= r.End {
			continue
		}
		if a > at {
			out = append(out, Range{Start: at, End: a})
		}
		at = min(a+b.batchSize(), r.End)
	}
	if at < r.End {
		out = append(out, Range{Start: at, End: r.End})
	}
	return out
}

// progressOf extracts a chunk's progress from its failure: the details of
// an application or canceled error, or a timeout's last heartbeat.
func progressOf(err error, p *activities.ChunkProgress) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(p) == nil {
		return true
	}
	var canErr *temporal.CanceledError
	if errors.As(err, &canErr) && canErr.HasDetails() && canErr.Details(p) == nil {
		return true
	}
	var toErr *temporal.TimeoutError
	return errors.As(err, &toErr) && toErr.HasLastHeartbeatDetails() && toErr.LastHeartbeatDetails(p) == nil
}

// failureText describes an activity failure without personal data: the
// error type and the activity's own message.
func failureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if appErr.Type() != "" {
			return appErr.Type() + ": " + appErr.Message()
		}
		return appErr.Message()
	}
	var toErr *temporal.TimeoutError
	if errors.As(err, &toErr) {
		return "timed out"
	}
	return "activity failed"
}

// interrupt moves a sending broadcast to paused or stopped: no chunk
// starts any more, every chunk in flight is canceled and stops between
// two requests, and the call returns once they all have.
func (b *broadcast) interrupt(ctx workflow.Context, to BroadcastState, ev ControlEvent) {
	ev.At = b.now(ctx)
	b.setState(ctx, to, ev.Reason)
	for _, c := range b.running {
		c.cancel()
	}
	_ = workflow.Await(ctx, func() bool { return len(b.running) == 0 })
	ev.Offset = b.status.Progress.Done
	b.control(ev)
	b.publish(ctx)
}

func (b *broadcast) control(ev ControlEvent) {
	b.status.Controls = append(b.status.Controls, ev)
	if len(b.status.Controls) > maxKept {
		b.status.Controls = b.status.Controls[len(b.status.Controls)-maxKept:]
	}
}

// awaitBounces waits out the bounce window after the last batch, then
// opens the substitute-measure task if some people could not be reached.
func (b *broadcast) awaitBounces(ctx workflow.Context) {
	end := b.status.SentAt.Add(positive(b.in.BounceWindow, defaultBounceWindow))
	shows := b.showsOutcomes(ctx)
	for {
		wait := end.Sub(b.now(ctx))
		if wait <= 0 {
			break
		}
		// With outcomes shown (versionOutcomes), each bounce or drop is
		// published as it comes: the Incident, the UI and Slack tell
		// "accepted 7/7, bounced 2" within the window, not after it.
		seen := b.outcomeKey()
		opts := workflow.AwaitOptions{Timeout: wait, TimerOptions: workflow.TimerOptions{Summary: "bounces of the notice until " + end.UTC().Format(time.RFC3339)}}
		ok, err := workflow.AwaitWithOptions(ctx, opts, func() bool {
			return b.needsContinueAsNew(ctx) || (shows && b.outcomeKey() != seen)
		})
		if err != nil || b.needsContinueAsNew(ctx) {
			return // continue as new first; the window goes on from SentAt
		}
		if !ok {
			break
		}
		b.publish(ctx)
	}
	if n := b.status.Progress.Unreachable(); n > 0 {
		b.status.Substitute = &SubstituteTask{OpenedAt: b.now(ctx), Unreachable: n}
		b.setState(ctx, BroadcastSubstitutePending, fmt.Sprintf("%d people could not be reached by e-mail", n))
		b.tell(ctx, b.substituteText())
		return
	}
	b.setState(ctx, BroadcastDone, "")
}

// awaitSubstitute reminds the substitute-measure task until it is recorded.
func (b *broadcast) awaitSubstitute(ctx workflow.Context) {
	every := positive(b.in.RemindEvery, defaultRemindEvery)
	opts := workflow.AwaitOptions{Timeout: every, TimerOptions: workflow.TimerOptions{Summary: "substitute measure reminder"}}
	ok, err := workflow.AwaitWithOptions(ctx, opts, func() bool {
		return b.status.State != BroadcastSubstitutePending || b.needsContinueAsNew(ctx)
	})
	if err != nil || ok {
		return
	}
	b.status.Substitute.Reminders++
	b.tell(ctx, "Reminder: "+b.substituteText())
}

func (b *broadcast) substituteText() string {
	return fmt.Sprintf("[%s] The notice could not reach %d of %d people (no address %d, invalid %d, bounced %d, dropped %d). "+
		"APPI Art. 26(2) allows a substitute measure: publish the notice and keep an inquiry desk, then record it (%s).",
		b.status.BroadcastID, b.status.Substitute.Unreachable, b.status.Progress.Total, b.status.Progress.NoAddress,
		b.status.Progress.Invalid, b.status.Progress.Bounced, b.status.Progress.Dropped, UpdateRecordSubstitute)
}

// onDelivery counts a bounce or drop once per recipient.
func (b *broadcast) onDelivery(d BroadcastDelivery) {
	if d.Kind != DeliveryBounced && d.Kind != DeliveryDropped {
		return
	}
	n, err := recipients.ParseRecipientID(d.RecipientID)
	if err != nil || n > b.status.Progress.Total {
		return
	}
	idx := n - 1
	if need := (b.status.Progress.Total + 7) / 8; len(b.bounced) < need {
		b.bounced = append(b.bounced, make([]byte, need-len(b.bounced))...)
	}
	if b.bounced[idx/8]&(1<<(idx%8)) != 0 {
		return // a repeated event
	}
	b.bounced[idx/8] |= 1 << (idx % 8)
	if d.Kind == DeliveryBounced {
		b.status.Progress.Bounced++
	} else {
		b.status.Progress.Dropped++
	}
	if t := b.status.Substitute; t != nil && t.Done == nil {
		t.Unreachable = b.status.Progress.Unreachable()
	}
}

// drainDeliveries applies the signals already delivered; it must run
// before continue-as-new, or they would be lost.
func (b *broadcast) drainDeliveries(workflow.Context) { b.deliveries.drain() }

func (b *broadcast) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	b.flushSlack(ctx)
	b.drainDeliveries(ctx)
	next := b.in
	next.Carry = &BroadcastCarry{Status: b.status, Content: b.content, Next: b.next, Pending: b.pending, Slack: b.slackRef, Bounced: b.bounced, Keys: b.keys}
	return workflow.NewContinueAsNewError(ctx, Broadcast, next)
}

func (b *broadcast) setState(ctx workflow.Context, s BroadcastState, reason string) {
	b.status.State, b.status.Reason = s, reason
	b.publish(ctx)
}

// publish updates the search attributes, the current details and the
// Slack message when something they show changed.
func (b *broadcast) publish(ctx workflow.Context) {
	p := b.status.Progress
	key := fmt.Sprintf("%s %d %d %d", b.status.State, p.Total, p.Sent, len(b.status.Approvals))
	if b.showsOutcomes(ctx) {
		// A bounce after the send changes what people read.
		key += fmt.Sprintf(" %d %d %d", p.Bounced, p.Dropped, p.NoAddress+p.Invalid)
	}
	b.tellIncident(ctx, key)
	if key == b.lastSA {
		return
	}
	b.lastSA = key
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SAIncidentID.ValueSet(b.status.IncidentID),
		SABroadcastState.ValueSet(string(b.status.State)),
		SARecipients.ValueSet(int64(p.Total)),
		SABroadcastSent.ValueSet(float64(p.Sent)),
	)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("## Notice %s\n\n**State:** %s\n\n**Approvals:** %d of %d\n\n**Recipients:** %s\n",
		b.status.BroadcastID, b.status.State, len(b.status.Approvals), b.status.Quorum, orDash(p.CountsText())))
	if b.in.SlackChannel != "" {
		b.slackDirty = true
	}
}

// slackLoop keeps the broadcast's Slack message up to date, one update at
// a time, never blocking the send.
func (b *broadcast) slackLoop(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return b.slackDirty }); err != nil {
			return
		}
		b.slackDirty, b.slackBusy = false, true
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second, Summary: "broadcast message in Slack",
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
		})
		var ref activities.SlackMessageRef
		err := workflow.ExecuteActivity(actx, a.PostBroadcastMessage, activities.BroadcastMessage{
			Channel: b.in.SlackChannel, Ref: b.slackRef, View: b.view(),
		}).Get(ctx, &ref)
		if err != nil {
			workflow.GetLogger(ctx).Warn("broadcast message not updated in Slack", "error", failureText(err))
		} else {
			b.slackRef = &ref
		}
		b.slackBusy = false
	}
}

// versionVerifiedApprovals: the Broadcast reads the approver registry when
// it prepares a notice, and counts only signed approvals of registered
// people when there is one.
const versionVerifiedApprovals = "verified-approvals"

// versionOutcomes: the Broadcast reports and shows bounces, drops and
// people without an address apart from the sends the provider accepted,
// and publishes again when they change.
const versionOutcomes = "broadcast-outcomes-shown"

// showsOutcomes reports whether this run publishes outcomes apart
// (versionOutcomes); asked once per run.
func (b *broadcast) showsOutcomes(ctx workflow.Context) bool {
	if b.outcomes == 0 {
		b.outcomes = 1
		if workflow.GetVersion(ctx, versionOutcomes, workflow.DefaultVersion, 1) >= 1 {
			b.outcomes = 2
		}
	}
	return b.outcomes == 2
}

// outcomeKey is what a bounce or a drop changes.
func (b *broadcast) outcomeKey() int {
	return b.status.Progress.Bounced + b.status.Progress.Dropped
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// flushSlack waits until the Slack message shows the latest state.
func (b *broadcast) flushSlack(ctx workflow.Context) {
	_ = workflow.Await(ctx, func() bool { return !b.slackDirty && !b.slackBusy })
}

func (b *broadcast) view() slackui.BroadcastView {
	v := slackui.BroadcastView{
		IncidentID: b.status.IncidentID, WorkflowID: b.status.BroadcastID, State: string(b.status.State), Reason: b.status.Reason,
		Subject: b.status.Subject, Fingerprint: b.status.Fingerprint, ListSHA256: b.status.List.SHA256, Total: b.status.Progress.Total,
		Quorum: b.status.Quorum, Sent: b.status.Progress.Sent, Undelivered: b.status.Progress.Unreachable(),
		Counts: b.status.Progress.CountsText(),
	}
	for _, ap := range b.status.Approvals {
		v.Approvers = append(v.Approvers, ap.By)
	}
	if n := len(b.status.TestSends); n > 0 && b.status.TestSends[n-1].Fingerprint == b.status.Fingerprint {
		v.TestSentTo = b.status.TestSends[n-1].Approvers
	}
	return v
}

// tell posts a task reminder in the incident channel (if any).
func (b *broadcast) tell(ctx workflow.Context, text string) {
	if b.in.SlackChannel == "" {
		return
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, Summary: "task notice in Slack",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
	if err := workflow.ExecuteActivity(actx, a.PostTaskNotice, activities.TaskNotice{Channel: b.in.SlackChannel, Text: text}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("task notice not posted", "error", failureText(err))
	}
}

// Updates.

func needBy(by string) error {
	if strings.TrimSpace(by) == "" {
		return errors.New("the actor's identity (by) is required")
	}
	return nil
}

func (b *broadcast) validateApprove(ab ApproveBroadcast) error {
	if err := needBy(ab.By); err != nil {
		return err
	}
	if b.status.State != BroadcastAwaitingApproval {
		return fmt.Errorf("the broadcast is %s: there is nothing to approve", b.status.State)
	}
	if ab.Fingerprint != b.status.Fingerprint {
		return fmt.Errorf("this approval is for notice %s, but the notice is now %s: check the new test send and approve that",
			short(ab.Fingerprint), short(b.status.Fingerprint))
	}
	id, err := b.verify(ab)
	if err != nil {
		return err
	}
	for _, ap := range b.status.Approvals {
		if ap.By == ab.By || (id != "" && ap.Identity == id) {
			return fmt.Errorf("%s has already approved this notice (%d of %d approvals): approvers must be distinct people", ab.By, len(b.status.Approvals), b.status.Quorum)
		}
	}
	return nil
}

// verify checks an approval's signature against the approver registry and
// returns the verified identity; "" when no keys are registered (approvals
// are then taken at their word: the sandbox and development only).
func (b *broadcast) verify(ab ApproveBroadcast) (string, error) {
	if b.keys.Empty() {
		return "", nil
	}
	if ab.KeyID == "" || ab.Signature == "" {
		return "", errors.New("approvals of this notice must be signed by a registered approver: " +
			"use the Slack button, or `starter broadcast approve … --key FILE` with your own approver key")
	}
	id := ab.By
	if ab.KeyID == approvals.SlackKeyID {
		id = approvals.SlackIdentity(ab.By)
	}
	if err := b.keys.Verify(ab.KeyID, b.status.BroadcastID, ab.Fingerprint, id, ab.Signature); err != nil {
		return "", err
	}
	return id, nil
}

func (b *broadcast) approve(ctx workflow.Context, ab ApproveBroadcast) (BroadcastStatus, error) {
	id, _ := b.verify(ab) // validated
	b.status.Approvals = append(b.status.Approvals, Approval{Fingerprint: ab.Fingerprint, By: ab.By, At: b.now(ctx), Identity: id})
	if len(b.status.Approvals) >= b.status.Quorum {
		b.status.SendStartedAt = b.now(ctx)
		b.setState(ctx, BroadcastSending, "")
	} else {
		b.publish(ctx)
	}
	return b.status, nil
}

func (b *broadcast) validateRevise(r ReviseBroadcast) error {
	if err := needBy(r.By); err != nil {
		return err
	}
	if strings.TrimSpace(r.Reason) == "" {
		return errors.New("a revision needs a reason")
	}
	if b.status.State != BroadcastAwaitingApproval && b.status.State != BroadcastRefused {
		return fmt.Errorf("the broadcast is %s: content and list are frozen once sending starts", b.status.State)
	}
	if r.List == nil && r.Notice == nil && r.Items == nil && r.Attachments == nil && b.status.State != BroadcastRefused {
		// A refused broadcast may be prepared again unchanged, e.g. once
		// the approvers' addresses are configured.
		return errors.New("a revision changes the list, the notice data, the items or the attachments")
	}
	if r.List != nil && (r.List.SHA256 == "" || r.List.Count <= 0) {
		return errors.New("the new list reference is empty")
	}
	return nil
}

// revise changes the content or list, voids every approval, and returns
// once the notice is prepared again (new fingerprint and test send, or
// refused).
func (b *broadcast) revise(ctx workflow.Context, r ReviseBroadcast) (BroadcastStatus, error) {
	now := b.now(ctx)
	for _, ap := range b.status.Approvals {
		ap.VoidedAt, ap.VoidedBy = now, r.By
		b.status.Voided = append(b.status.Voided, ap)
	}
	b.status.Approvals = []Approval{}
	b.status.Revisions = append(b.status.Revisions, Revision{By: r.By, Reason: r.Reason, At: now, From: b.status.Fingerprint})
	if len(b.status.Revisions) > maxKept {
		b.status.Revisions = b.status.Revisions[len(b.status.Revisions)-maxKept:]
	}
	if r.List != nil {
		b.in.List = *r.List
	}
	if r.Notice != nil {
		b.in.Notice = *r.Notice
	}
	if r.Items != nil {
		b.in.Items = *r.Items
		b.status.Items = b.in.Items
	}
	if r.Attachments != nil {
		b.in.Attachments = *r.Attachments
	}
	b.content = nil
	b.status.Fingerprint = ""
	b.setState(ctx, BroadcastPreparing, "revised by "+r.By)
	if err := workflow.Await(ctx, func() bool { return b.status.State != BroadcastPreparing }); err != nil {
		return b.status, err
	}
	return b.status, nil
}

func (b *broadcast) validatePause(c BroadcastControl) error {
	if err := needBy(c.By); err != nil {
		return err
	}
	if b.status.State != BroadcastSending {
		return fmt.Errorf("the broadcast is %s: only a sending broadcast can be paused", b.status.State)
	}
	return nil
}

func (b *broadcast) pause(ctx workflow.Context, c BroadcastControl) (BroadcastStatus, error) {
	b.interrupt(ctx, BroadcastPaused, ControlEvent{Action: "pause", By: c.By, Reason: pausedReason(c)})
	return b.status, nil
}

func pausedReason(c BroadcastControl) string {
	if c.Reason != "" {
		return "paused by " + c.By + ": " + c.Reason
	}
	return "paused by " + c.By
}

func (b *broadcast) validateResume(c BroadcastControl) error {
	if err := needBy(c.By); err != nil {
		return err
	}
	if b.status.State != BroadcastPaused {
		return fmt.Errorf("the broadcast is %s: only a paused broadcast can be resumed", b.status.State)
	}
	return nil
}

func (b *broadcast) resume(ctx workflow.Context, c BroadcastControl) (BroadcastStatus, error) {
	b.control(ControlEvent{Action: "resume", By: c.By, Reason: c.Reason, At: b.now(ctx), Offset: b.status.Progress.Done})
	b.setState(ctx, BroadcastSending, "")
	return b.status, nil
}

func (b *broadcast) validateStop(c BroadcastControl) error {
	if err := needBy(c.By); err != nil {
		return err
	}
	switch b.status.State {
	case BroadcastRefused, BroadcastAwaitingApproval, BroadcastSending, BroadcastPaused:
		return nil
	}
	return fmt.Errorf("the broadcast is %s: there is nothing to stop", b.status.State)
}

// stop halts the broadcast for good: it returns once every batch in
// flight has stopped.
func (b *broadcast) stop(ctx workflow.Context, c BroadcastControl) (BroadcastStatus, error) {
	reason := "stopped by " + c.By
	if c.Reason != "" {
		reason += ": " + c.Reason
	}
	b.interrupt(ctx, BroadcastStopped, ControlEvent{Action: "stop", By: c.By, Reason: reason})
	return b.status, nil
}

func (b *broadcast) validateSubstitute(m SubstituteMeasure) error {
	if err := needBy(m.By); err != nil {
		return err
	}
	if b.status.State != BroadcastSubstitutePending {
		return fmt.Errorf("the broadcast is %s: no substitute measure is pending", b.status.State)
	}
	u, err := url.Parse(m.PublishedURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("the published URL of the notice is required (http or https)")
	}
	if strings.TrimSpace(m.InquiryDesk) == "" {
		return errors.New("the inquiry desk (how people reach it, and when) is required")
	}
	return nil
}

func (b *broadcast) recordSubstitute(ctx workflow.Context, m SubstituteMeasure) (BroadcastStatus, error) {
	m.At = b.now(ctx)
	b.status.Substitute.Done = &m
	b.setState(ctx, BroadcastDone, "")
	return b.status, nil
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[:16]
	}
	if fp == "" {
		return "(none)"
	}
	return fp
}
