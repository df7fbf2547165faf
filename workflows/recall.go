package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/runbooks"
)

// a refers to activities by method value; workflows never call them directly.
var a *activities.Activities

// Recall runs the playbook for one wrong recipient: request deletion on the
// runbook's channels, collect the confirmations the runbook requires, retry
// on schedule, and never leave a silent gap.
func Recall(ctx workflow.Context, in RecallInput) (RecallStatus, error) {
	r := newRecall(in)
	if err := r.setup(ctx); err != nil {
		return r.status, err
	}
	return r.run(ctx)
}

type recall struct {
	in     RecallInput
	status RecallStatus
	seq    int

	requested bool
	confirmed map[runbooks.Confirmation]bool
	// exhausted marks request channels that can no longer reach the person.
	exhausted map[runbooks.Channel]bool
	seenEvent map[string]bool
	changed   bool
}

func newRecall(in RecallInput) *recall {
	return &recall{
		in:        in,
		status:    RecallStatus{RecipientID: in.RecipientID, State: StatePending, Attempts: []Attempt{}, Confirmations: []ConfirmationRecord{}, Events: []DeliveryEvent{}},
		confirmed: map[runbooks.Confirmation]bool{},
		exhausted: map[runbooks.Channel]bool{},
		seenEvent: map[string]bool{},
	}
}

func (r *recall) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (RecallStatus, error) { return r.status, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	confirmations := workflow.GetSignalChannel(ctx, SignalConfirmation)
	deliveries := workflow.GetSignalChannel(ctx, SignalDelivery)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var c Confirmation
			confirmations.Receive(ctx, &c)
			r.onConfirmation(ctx, c)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var e DeliveryEvent
			deliveries.Receive(ctx, &e)
			r.onDelivery(ctx, e)
		}
	})
	return nil
}

func (r *recall) run(ctx workflow.Context) (RecallStatus, error) {
	r.report(ctx)
	for _, ch := range r.in.Policy.Request {
		workflow.Go(ctx, func(ctx workflow.Context) { r.requestLoop(ctx, ch) })
	}
	// Wait until the recipient is confirmed, or every channel is exhausted.
	if err := workflow.Await(ctx, func() bool { return r.done() || r.allExhausted() }); err != nil {
		return r.status, err
	}
	if !r.done() {
		r.setState(ctx, StateUnreachable, "every request channel failed")
		// #4 adds the human task and operator close; until then an
		// unreachable recipient stays open for a late confirmation.
		if err := workflow.Await(ctx, r.done); err != nil {
			return r.status, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return r.status, err
	}
	return r.status, nil
}

// done reports whether the runbook's confirmation rule holds.
func (r *recall) done() bool {
	if r.status.State == StateClosedByOperator {
		return true
	}
	for _, c := range r.in.Policy.Confirm {
		if !r.confirmed[c] {
			return false
		}
	}
	return len(r.in.Policy.Confirm) > 0
}

func (r *recall) allExhausted() bool {
	for _, ch := range r.in.Policy.Request {
		if !r.exhausted[ch] {
			return false
		}
	}
	return true
}

// confirms maps a request channel to the confirmation it can bring.
func confirms(ch runbooks.Channel) runbooks.Confirmation {
	switch ch {
	case runbooks.ChannelVoice:
		return runbooks.ConfirmPhone
	default:
		return runbooks.ConfirmEmail
	}
}

// requestLoop sends requests on one channel until its confirmation arrives,
// the schedule runs out, or the channel proves unusable.
func (r *recall) requestLoop(ctx workflow.Context, ch runbooks.Channel) {
	sched := r.in.Policy.Retry.For(ch)
	maxAttempts := 1
	if sched != nil && sched.MaxAttempts > 0 {
		maxAttempts = sched.MaxAttempts
	}
	want := confirms(ch)
	for n := 1; n <= maxAttempts; n++ {
		if r.done() || r.confirmed[want] {
			return
		}
		att := Attempt{Channel: ch, N: n, At: workflow.Now(ctx)}
		res, err := r.send(ctx, ch, n)
		switch {
		case err == nil:
			att.MessageID, att.Outcome = res.MessageID, "sent"
		case isPermanent(err):
			att.Outcome = "failed: " + errorType(err)
			r.record(ctx, att)
			r.exhausted[ch] = true
			return
		default:
			att.Outcome = "failed: " + errorType(err)
		}
		r.record(ctx, att)
		if err == nil {
			r.markRequested(ctx)
		}
		if n == maxAttempts {
			break
		}
		wait := time.Hour
		if sched != nil {
			wait = sched.Wait(n)
		}
		opts := workflow.AwaitOptions{Timeout: wait, TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("%s reminder #%d", ch, n+1)}}
		if _, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return r.done() || r.confirmed[want] || r.exhausted[ch] }); err != nil {
			return
		}
		if r.exhausted[ch] {
			return
		}
	}
	// Give the last request its full wait before declaring the channel spent.
	if sched != nil {
		last := sched.Wait(maxAttempts)
		opts := workflow.AwaitOptions{Timeout: last, TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("%s: last wait", ch)}}
		if _, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return r.done() || r.confirmed[want] || r.exhausted[ch] }); err != nil {
			return
		}
	}
	if !r.confirmed[want] {
		r.exhausted[ch] = true
	}
}

func (r *recall) send(ctx workflow.Context, ch runbooks.Channel, attempt int) (activities.SendResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             fmt.Sprintf("%s deletion request #%d", ch, attempt),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
			MaximumAttempts: 20,
		},
	})
	req := activities.DeletionRequest{
		IncidentID: r.in.IncidentID, RecipientID: r.in.RecipientID,
		RecallWorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		List:             r.in.List, Attempt: attempt,
	}
	var res activities.SendResult
	var err error
	switch ch {
	case runbooks.ChannelEmail:
		err = workflow.ExecuteActivity(ctx, a.EmailDeletionRequest, req).Get(ctx, &res)
	default:
		err = temporal.NewNonRetryableApplicationError("channel "+string(ch)+" is not supported yet", "UnsupportedChannel", nil)
	}
	return res, err
}

func isPermanent(err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.NonRetryable()
	}
	return false
}

func errorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() != "" {
		return appErr.Type()
	}
	return "error"
}

func (r *recall) record(ctx workflow.Context, att Attempt) {
	r.status.Attempts = append(r.status.Attempts, att)
}

// markRequested records that a request reached a provider.
func (r *recall) markRequested(ctx workflow.Context) {
	if r.requested {
		return
	}
	r.requested = true
	if r.status.State == StatePending {
		r.setState(ctx, StateRequested, "")
	} else {
		r.report(ctx)
	}
}

func (r *recall) onConfirmation(ctx workflow.Context, c Confirmation) {
	if r.confirmed[c.Channel] || r.status.State == StateClosedByOperator {
		return // duplicate or late: already recorded
	}
	if c.Channel != runbooks.ConfirmEmail && c.Channel != runbooks.ConfirmPhone {
		return
	}
	r.confirmed[c.Channel] = true
	r.requested = true // a confirmation proves a request reached them
	r.status.Confirmations = append(r.status.Confirmations, ConfirmationRecord{Channel: c.Channel, At: workflow.Now(ctx), Evidence: c.Evidence})
	switch {
	case r.done():
		r.setState(ctx, StateConfirmed, "")
	case c.Channel == runbooks.ConfirmEmail && r.status.State != StatePhoneConfirmed:
		r.setState(ctx, StateEmailConfirmed, "")
	case c.Channel == runbooks.ConfirmPhone && r.status.State != StateEmailConfirmed:
		r.setState(ctx, StatePhoneConfirmed, "")
	default:
		r.report(ctx)
	}
}

func (r *recall) onDelivery(ctx workflow.Context, e DeliveryEvent) {
	if id := e.Evidence.EventID; id != "" {
		if r.seenEvent[id] {
			return
		}
		r.seenEvent[id] = true
	}
	r.status.Events = append(r.status.Events, e)
	switch e.Kind {
	case DeliveryBounced, DeliveryDropped:
		r.exhausted[e.Channel] = true
	}
}

func (r *recall) setState(ctx workflow.Context, s RecallState, reason string) {
	if r.status.State == s {
		return
	}
	r.status.State = s
	r.status.Reason = reason
	_ = workflow.UpsertTypedSearchAttributes(ctx, SARecallState.ValueSet(string(s)))
	r.report(ctx)
}

// report tells the parent Incident where this recipient stands.
func (r *recall) report(ctx workflow.Context) {
	if r.in.ParentWorkflowID == "" {
		return
	}
	r.seq++
	p := RecallProgress{
		RecipientID: r.in.RecipientID, Index: r.in.Index, Seq: r.seq, State: r.status.State,
		Requested: r.requested, EmailConfirmed: r.confirmed[runbooks.ConfirmEmail], PhoneConfirmed: r.confirmed[runbooks.ConfirmPhone],
	}
	// Fire and forget: the signal is durable once the command is recorded,
	// and the parent ignores stale sequence numbers.
	workflow.SignalExternalWorkflow(ctx, r.in.ParentWorkflowID, "", SignalRecallProgress, p)
}
