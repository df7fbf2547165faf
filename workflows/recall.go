package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
)

// a refers to activities by method value; workflows never call them directly.
var a *activities.Activities

// callOutcomeWait bounds how long a Recall waits to hear how a call ended
// before counting the attempt as unanswered.
const callOutcomeWait = 15 * time.Minute

// Recall runs the playbook for one wrong recipient: request deletion on the
// runbook's channels, collect the confirmations the runbook requires, retry
// on schedule (calls only inside calling hours), and never leave a silent
// gap: a recipient who cannot be reached becomes unreachable, a human task,
// until confirmed late or closed by an operator.
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
	// lastDetails are the current details last set.
	lastDetails string

	requested bool
	confirmed map[runbooks.Confirmation]bool
	// exhausted marks request channels that can no longer reach the person.
	exhausted map[runbooks.Channel]bool
	// outcomes holds how each call attempt ended, by attempt number.
	outcomes  map[int]DeliveryKind
	seenEvent map[string]bool
	// reported marks the requests a provider has reported on (a bounce, a
	// call's outcome): such a request went out, even if its send's answer
	// was lost.
	reported map[request]bool
	// sending counts sends waiting for their answer (or for their
	// cancellation to land); the workflow does not complete before it is 0.
	sending int
	// reporting counts progress signals to the parent not yet
	// acknowledged; the workflow must not complete before they are, or the
	// last is dropped.
	reporting int
	// callback is the call on which the person asked to be called back
	// (pressed 2; 0: not asked): a person's task from then on.
	callback int
}

// versionCallbackTask: a callback request makes the Recall unreachable (a
// person's task) and ends the automated calls; before it, it was only
// recorded.
const versionCallbackTask = "callback-request-is-a-task"

func newRecall(in RecallInput) *recall {
	return &recall{
		in:        in,
		status:    RecallStatus{RecipientID: in.RecipientID, State: StatePending, Attempts: []Attempt{}, Confirmations: []ConfirmationRecord{}, Events: []DeliveryEvent{}},
		confirmed: map[runbooks.Confirmation]bool{},
		exhausted: map[runbooks.Channel]bool{},
		outcomes:  map[int]DeliveryKind{},
		seenEvent: map[string]bool{},
		reported:  map[request]bool{},
	}
}

// request names one request: a channel and its attempt number.
type request struct {
	ch runbooks.Channel
	n  int
}

func (r *recall) setup(ctx workflow.Context) error {
	if err := setQuery(ctx, QueryStatus, func() (RecallStatus, error) { return r.status, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	if err := setQuery(ctx, QueryRequestContext, func() (activities.RequestContext, error) {
		return activities.RequestContext{Message: r.in.Policy.EffectiveMessage(), Sent: r.in.Sent}, nil
	}); err != nil {
		return fmt.Errorf("register request context query: %w", err)
	}
	if err := setQuery(ctx, QueryProgress, func() (RecallProgress, error) {
		p := r.progress(r.seq)
		p.InFlight = r.reporting > 0
		return p, nil
	}); err != nil {
		return fmt.Errorf("register progress query: %w", err)
	}
	if err := setUpdate(ctx, UpdateRecordPhoneConfirmation,
		func(ctx workflow.Context, oc OperatorConfirmation) (RecallStatus, error) {
			r.onConfirmation(ctx, Confirmation{Channel: runbooks.ConfirmPhone, Evidence: Evidence{
				Source: "operator", Operator: oc.By, Note: oc.Note, ReceivedAt: workflow.Now(ctx)}})
			return r.status, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(oc OperatorConfirmation) error {
			switch {
			case strings.TrimSpace(oc.By) == "":
				return errors.New("recording a phone confirmation needs the operator's identity")
			case r.status.State == StateClosedByOperator:
				return fmt.Errorf("%s is closed: %s", r.in.RecipientID, r.status.Reason)
			case r.confirmed[runbooks.ConfirmPhone]:
				var missing []string
				for _, c := range r.in.Policy.Confirm {
					if !r.confirmed[c] {
						missing = append(missing, string(c))
					}
				}
				if len(missing) == 0 {
					return fmt.Errorf("%s has already confirmed by phone", r.in.RecipientID)
				}
				return fmt.Errorf("%s has already confirmed by phone; the runbook also needs a confirmation by %s: if the person confirmed the deletion another way, close the recipient with that reason",
					r.in.RecipientID, strings.Join(missing, " and "))
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("register phone confirmation update: %w", err)
	}
	if err := setUpdate(ctx, UpdateCloseRecipient,
		func(ctx workflow.Context, c CloseRecipient) (RecallStatus, error) {
			r.status.ClosedBy = c.By
			r.setState(ctx, StateClosedByOperator, c.Reason)
			return r.status, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(c CloseRecipient) error {
			switch {
			case strings.TrimSpace(c.By) == "" || strings.TrimSpace(c.Reason) == "":
				return errors.New("closing a recipient needs who closes it and why (e.g. \"confirmed by post\")")
			case r.status.State == StateConfirmed:
				return fmt.Errorf("%s is already confirmed", r.in.RecipientID)
			case r.status.State == StateClosedByOperator:
				return fmt.Errorf("%s is already closed: %s", r.in.RecipientID, r.status.Reason)
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("register close update: %w", err)
	}
	confirmations := signalChannel(ctx, SignalConfirmation)
	deliveries := signalChannel(ctx, SignalDelivery)
	stops := signalChannel(ctx, SignalStopRecall)
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
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s StopRecall
			stops.Receive(ctx, &s)
			r.onStop(ctx, s)
		}
	})
	return nil
}

// onStop ends the Recall because its incident closed with StopRecalls:
// closed_by_operator, which cancels every pending send (its answer no
// longer matters) and reports to the Incident. A confirmed or already
// closed recipient stays as it is.
func (r *recall) onStop(ctx workflow.Context, s StopRecall) {
	if r.status.State == StateConfirmed || r.status.State == StateClosedByOperator {
		return
	}
	r.status.ClosedBy = s.By
	r.setState(ctx, StateClosedByOperator, fmt.Sprintf("incident closed by %s: %s", s.By, s.Reason))
}

func (r *recall) run(ctx workflow.Context) (RecallStatus, error) {
	r.lookup(ctx)
	// No first report: the Incident counts a Recall it starts as pending.
	for _, ch := range r.in.Policy.Request {
		workflow.Go(ctx, func(ctx workflow.Context) { r.requestLoop(ctx, ch) })
	}
	// Wait until the recipient is confirmed or closed, or a required
	// confirmation can no longer be obtained by any channel.
	if err := workflow.Await(ctx, func() bool { return r.done() || r.blocked() }); err != nil {
		return r.status, err
	}
	if !r.done() {
		// A human takes over ("find another way to reach this person"); the
		// Incident lists and reminds it. A late confirmation or an
		// operator's close ends it.
		r.setState(ctx, StateUnreachable, r.blockedReason())
		if err := workflow.Await(ctx, r.done); err != nil {
			return r.status, err
		}
	}
	// Every send still pending is being cancelled (its answer no longer
	// matters): wait until the cancellations land, so the history records
	// them and the server retries nothing for a closed Recall.
	// And until the parent has every progress report.
	if err := workflow.Await(ctx, func() bool {
		return workflow.AllHandlersFinished(ctx) && r.sending == 0 && r.reporting == 0
	}); err != nil {
		return r.status, err
	}
	return r.status, nil
}

// lookup records whom this Recall is about, for those who may decrypt the
// history; a failure is not fatal (the send activities report it too).
func (r *recall) lookup(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var c recipients.Recipient
	if err := workflow.ExecuteLocalActivity(lctx, a.LookupRecipient, activities.LookupRequest{List: r.in.List, RecipientID: r.in.RecipientID}).Get(ctx, &c); err != nil {
		workflow.GetLogger(ctx).Warn("recipient lookup failed", "recipient", r.in.RecipientID, "error", err)
		return
	}
	r.status.Contact = &c
}

// done reports whether the recipient is closed, or meets the runbook's
// confirmation rule.
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

// blocked reports whether some required confirmation is missing and every
// channel that could bring it is exhausted.
func (r *recall) blocked() bool { return r.blockedReason() != "" }

func (r *recall) blockedReason() string {
	if r.callback > 0 {
		// The call promised them a person's call (frontdoor.sayCallback).
		return fmt.Sprintf("asked on call #%d to be called back: call them back, then record the outcome", r.callback)
	}
	for _, c := range r.in.Policy.Confirm {
		if r.confirmed[c] {
			continue
		}
		providers, live := 0, 0
		for _, ch := range r.in.Policy.Request {
			if confirms(ch) == c {
				providers++
				if !r.exhausted[ch] {
					live++
				}
			}
		}
		// With no automated channel, an operator's call brings the
		// confirmation: that is not a gap.
		if providers > 0 && live == 0 {
			return fmt.Sprintf("no way left to obtain the %s confirmation", c)
		}
	}
	return ""
}

// confirms maps a request channel to the confirmation it can bring: a call
// brings a phone confirmation; e-mail and SMS carry the confirmation link.
func confirms(ch runbooks.Channel) runbooks.Confirmation {
	if ch == runbooks.ChannelVoice {
		return runbooks.ConfirmPhone
	}
	return runbooks.ConfirmEmail
}

func (r *recall) satisfied(ch runbooks.Channel) bool {
	return r.done() || r.confirmed[confirms(ch)] || r.exhausted[ch]
}

// requestLoop sends requests on one channel until its confirmation arrives,
// the schedule runs out, or the channel proves unusable.
func (r *recall) requestLoop(ctx workflow.Context, ch runbooks.Channel) {
	sched := r.in.Policy.Retry.For(ch)
	maxAttempts := 1
	if sched != nil && sched.MaxAttempts > 0 {
		maxAttempts = sched.MaxAttempts
	}
	for n := 1; n <= maxAttempts; n++ {
		if r.satisfied(ch) {
			return
		}
		if ch != runbooks.ChannelEmail && !r.waitCallingHours(ctx, ch, n) {
			return
		}
		att := Attempt{Channel: ch, N: n, At: workflow.Now(ctx)}
		res, err, moot := r.send(ctx, ch, n)
		switch {
		case err == nil:
			att.MessageID, att.Outcome = res.MessageID, "sent"
		case isPermanent(err):
			att.Outcome = "failed: " + errorType(err)
			r.record(att)
			r.publishDetails(ctx)
			r.exhausted[ch] = true
			return
		case moot && r.reported[request{ch, n}] && !r.satisfied(ch):
			// The provider reported on this request: it went out, though
			// the send's answer was lost. Carry on as if it was answered.
			att.Outcome, err = "sent (answer lost; the provider reported on it)", nil
		case moot:
			// Whether this request went out is unknown (its answer was
			// lost or late); it no longer matters, and it is not retried.
			att.Outcome = "cancelled: " + r.mootReason(ch)
			r.record(att)
			r.publishDetails(ctx)
			return
		default:
			att.Outcome = "failed: " + errorType(err)
		}
		idx := r.record(att)
		r.publishDetails(ctx)
		if err == nil {
			r.markRequested(ctx)
			if ch == runbooks.ChannelVoice {
				r.status.Attempts[idx].Outcome = string(r.awaitCallOutcome(ctx, n))
			}
		}
		if r.satisfied(ch) || n == maxAttempts {
			break
		}
		wait := time.Hour
		if sched != nil {
			wait = sched.Wait(n)
		}
		opts := workflow.AwaitOptions{Timeout: wait, TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("%s request #%d after %s", ch, n+1, runbooks.Duration(wait))}}
		if _, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return r.satisfied(ch) }); err != nil {
			return
		}
	}
	if r.satisfied(ch) {
		return
	}
	// A link may still be clicked: give the last e-mail or SMS its full
	// wait before declaring the channel spent. A call's outcome is known.
	if ch != runbooks.ChannelVoice && sched != nil {
		last := sched.Wait(maxAttempts)
		opts := workflow.AwaitOptions{Timeout: last, TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("%s: last wait %s", ch, runbooks.Duration(last))}}
		if _, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return r.satisfied(ch) }); err != nil {
			return
		}
	}
	if !r.confirmed[confirms(ch)] {
		r.exhausted[ch] = true
	}
}

// waitCallingHours sleeps until the runbook's calling hours; false means
// the channel is done (confirmed meanwhile) or the workflow is ending.
func (r *recall) waitCallingHours(ctx workflow.Context, ch runbooks.Channel, n int) bool {
	now := workflow.Now(ctx)
	hours := r.in.Policy.CallingHours
	if c := r.status.Contact; c != nil && c.TimeZone != "" && !hours.Open() {
		hours.TimeZone = c.TimeZone // the recipient's own time zone, from the list
	}
	at, err := hours.Next(now)
	if err != nil || !at.After(now) {
		return true // a bad zone was refused at validation; never block on it
	}
	summary := fmt.Sprintf("%s #%d at %s", ch, n, at.Format("2006-01-02 15:04 MST"))
	opts := workflow.AwaitOptions{Timeout: at.Sub(now), TimerOptions: workflow.TimerOptions{Summary: summary}}
	if _, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return r.satisfied(ch) }); err != nil {
		return false
	}
	return !r.satisfied(ch)
}

// awaitCallOutcome waits until Twilio reports how call attempt n ended.
func (r *recall) awaitCallOutcome(ctx workflow.Context, n int) DeliveryKind {
	opts := workflow.AwaitOptions{Timeout: callOutcomeWait, TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("outcome of call #%d", n)}}
	ok, err := workflow.AwaitWithOptions(ctx, opts, func() bool {
		_, known := r.outcomes[n]
		return known || r.confirmed[runbooks.ConfirmPhone] || r.done()
	})
	switch {
	case r.confirmed[runbooks.ConfirmPhone]:
		return "confirmed"
	case err != nil || !ok:
		return "no outcome reported"
	}
	return r.outcomes[n]
}

// send asks the provider for one request and waits for its answer. A send
// whose answer is lost (a killed worker, a provider timeout) is retried by
// the server, and each retry may deliver the same request again: so as soon
// as the answer no longer matters (the channel's confirmation arrived, the
// channel bounced or proved invalid, the Recall was closed, or the provider
// reported on this very request, which proves it went out), the send is
// cancelled, and send waits until the cancellation is recorded. moot
// reports that the send ended that way, without an answer.
func (r *recall) send(ctx workflow.Context, ch runbooks.Channel, attempt int) (res activities.SendResult, err error, moot bool) {
	var fn any
	switch ch {
	case runbooks.ChannelEmail:
		fn = a.EmailDeletionRequest
	case runbooks.ChannelVoice:
		fn = a.CallDeletionRequest
	case runbooks.ChannelSMS:
		fn = a.SMSDeletionRequest
	default:
		return res, temporal.NewNonRetryableApplicationError("unknown channel "+string(ch), "UnknownChannel", nil), false
	}
	sctx, cancel := workflow.WithCancel(ctx)
	sctx = workflow.WithActivityOptions(sctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             fmt.Sprintf("%s deletion request #%d", ch, attempt),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
			MaximumAttempts: 20,
		},
		// A cancelled send resolves only once the server has recorded the
		// cancellation (or the attempt running meanwhile has ended).
		WaitForCancellation: true,
	})
	req := activities.DeletionRequest{
		IncidentID: r.in.IncidentID, RecipientID: r.in.RecipientID,
		RecallWorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		List:             r.in.List, Attempt: attempt,
		Message: r.in.Policy.EffectiveMessage(), Sent: r.in.Sent,
	}
	r.sending++
	defer func() { r.sending-- }()
	f := workflow.ExecuteActivity(sctx, fn, req)
	moots := func() bool { return r.satisfied(ch) || r.reported[request{ch, attempt}] }
	if err := workflow.Await(ctx, func() bool { return f.IsReady() || moots() }); err == nil && !f.IsReady() {
		cancel()
		moot = true
	}
	err = f.Get(ctx, &res)
	if err == nil {
		moot = false // the answer came before the cancellation landed
	}
	return res, err, moot
}

// mootReason says why a channel's pending send no longer matters.
func (r *recall) mootReason(ch runbooks.Channel) string {
	switch {
	case r.status.State == StateClosedByOperator:
		return "closed by an operator"
	case r.done() || r.confirmed[confirms(ch)]:
		return "confirmed"
	}
	return "the channel cannot reach the person"
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

// record keeps an attempt and returns its index.
func (r *recall) record(att Attempt) int {
	r.status.Attempts = append(r.status.Attempts, att)
	return len(r.status.Attempts) - 1
}

// markRequested records that a request reached a provider.
func (r *recall) markRequested(ctx workflow.Context) {
	if r.requested {
		return
	}
	r.requested = true
	r.status.Requested = true
	if r.status.State == StatePending {
		r.setState(ctx, StateRequested, "")
	} else {
		r.report(ctx)
	}
}

func (r *recall) onConfirmation(ctx workflow.Context, c Confirmation) {
	defer r.publishDetails(ctx)
	if r.confirmed[c.Channel] || r.status.State == StateClosedByOperator {
		return // duplicate or late: already recorded
	}
	if c.Channel != runbooks.ConfirmEmail && c.Channel != runbooks.ConfirmPhone {
		return
	}
	r.confirmed[c.Channel] = true
	r.requested = true // a confirmation proves a request reached them
	r.status.Requested = true
	r.status.Confirmations = append(r.status.Confirmations, ConfirmationRecord{Channel: c.Channel, At: workflow.Now(ctx), Evidence: c.Evidence})
	switch {
	case r.done():
		r.setState(ctx, StateConfirmed, "")
	case r.status.State == StateUnreachable:
		r.report(ctx) // still waiting for the other confirmation: a human's task
	case c.Channel == runbooks.ConfirmEmail && r.status.State != StatePhoneConfirmed:
		r.setState(ctx, StateEmailConfirmed, "")
	case c.Channel == runbooks.ConfirmPhone && r.status.State != StateEmailConfirmed:
		r.setState(ctx, StatePhoneConfirmed, "")
	default:
		r.report(ctx)
	}
}

func (r *recall) onDelivery(ctx workflow.Context, e DeliveryEvent) {
	defer r.publishDetails(ctx)
	if id := e.Evidence.EventID; id != "" {
		if r.seenEvent[id] {
			return // a provider's retry
		}
		r.seenEvent[id] = true
	}
	r.status.Events = append(r.status.Events, e)
	// A provider's report about a request proves the request went out,
	// even when the send's own answer was lost.
	r.markRequested(ctx)
	if e.Attempt > 0 {
		r.reported[request{e.Channel, e.Attempt}] = true
	}
	switch e.Kind {
	case DeliveryBounced, DeliveryDropped:
		r.exhausted[e.Channel] = true
	case DeliveryFailed:
		if e.Channel == runbooks.ChannelSMS {
			r.exhausted[e.Channel] = true
		}
	}
	if e.Channel == runbooks.ChannelVoice && e.Attempt > 0 {
		switch e.Kind {
		case DeliveryCompleted, DeliveryNoAnswer, DeliveryBusy, DeliveryFailed, DeliveryCallbackRequested, DeliveryNoResponse:
			// The first terminal word about an attempt wins; "completed"
			// after "callback_requested" adds nothing.
			if _, known := r.outcomes[e.Attempt]; !known {
				r.outcomes[e.Attempt] = e.Kind
			}
		}
	}
	if e.Channel == runbooks.ChannelVoice && e.Kind == DeliveryCallbackRequested && r.callback == 0 && !r.done() &&
		workflow.GetVersion(ctx, versionCallbackTask, workflow.DefaultVersion, 1) == 1 {
		// No more automated calls: a person calls them back.
		r.callback = max(1, e.Attempt)
		r.exhausted[runbooks.ChannelVoice] = true
		if r.status.State == StateUnreachable {
			// Already a person's task (another channel failed): say why now.
			r.status.Reason = r.blockedReason()
			r.report(ctx)
		}
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

// reportRetries bounds how often a progress report that did not reach the
// parent is sent again (1 s, 2 s, 4 s... apart): an Incident that has
// closed needs no more reports.
const reportRetries = 6

// report tells the parent Incident where this recipient stands, and the
// Temporal UI (the current details).
func (r *recall) report(ctx workflow.Context) {
	r.publishDetails(ctx)
	if r.in.ParentWorkflowID == "" {
		return
	}
	r.seq++
	r.sendReport(ctx, r.seq, 0)
}

// publishDetails sets the current details when they changed.
func (r *recall) publishDetails(ctx workflow.Context) {
	if d := r.details(); d != r.lastDetails {
		workflow.SetCurrentDetails(ctx, d)
		r.lastDetails = d
	}
}

// details are the Recall's current details in the Temporal UI: its state,
// what it has asked on which channel, what is confirmed, and, when it is
// stuck, why (bounced, no answer ×3, a callback asked for). No personal
// data: channels and counts only.
func (r *recall) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s — %s\n", r.in.RecipientID, r.status.State)
	asked := map[runbooks.Channel]int{}
	var order []runbooks.Channel
	for _, a := range r.status.Attempts {
		if asked[a.Channel] == 0 {
			order = append(order, a.Channel)
		}
		asked[a.Channel]++
	}
	// In one order whatever order the sends finished in.
	slices.Sort(order)
	var parts []string
	for _, ch := range order {
		parts = append(parts, fmt.Sprintf("%s ×%d", ch, asked[ch]))
	}
	if len(parts) == 0 {
		parts = []string{"not yet"}
	}
	fmt.Fprintf(&b, "**Asked:** %s\n", strings.Join(parts, ", "))
	var confirmed []string
	for _, c := range r.status.Confirmations {
		confirmed = append(confirmed, string(c.Channel))
	}
	if len(confirmed) == 0 {
		confirmed = []string{"not yet"}
	}
	fmt.Fprintf(&b, "**Confirmed:** %s\n", strings.Join(confirmed, ", "))
	type key struct {
		ch   runbooks.Channel
		kind DeliveryKind
	}
	seen := map[key]int{}
	var stuck []key
	for _, e := range r.status.Events {
		switch e.Kind {
		case DeliveryBounced, DeliveryDropped, DeliveryNoAnswer, DeliveryBusy, DeliveryFailed, DeliveryCallbackRequested, DeliveryNoResponse:
		default:
			continue
		}
		k := key{e.Channel, e.Kind}
		if seen[k] == 0 {
			stuck = append(stuck, k)
		}
		seen[k]++
	}
	if len(stuck) > 0 {
		slices.SortFunc(stuck, func(a, b key) int {
			if a.ch != b.ch {
				return strings.Compare(string(a.ch), string(b.ch))
			}
			return strings.Compare(string(a.kind), string(b.kind))
		})
		var why []string
		for _, k := range stuck {
			w := strings.ReplaceAll(string(k.kind), "_", " ")
			if k.kind == DeliveryCallbackRequested {
				w = "asked for a callback"
			}
			if n := seen[k]; n > 1 {
				w += fmt.Sprintf(" ×%d", n)
			}
			why = append(why, fmt.Sprintf("%s (%s)", w, k.ch))
		}
		fmt.Fprintf(&b, "**Why not confirmed yet:** %s\n", strings.Join(why, " · "))
	}
	// No reason text: an operator's words may name the person.
	return b.String()
}

// progress is the report numbered seq of where the recipient stands now.
func (r *recall) progress(seq int) RecallProgress {
	return RecallProgress{
		RecipientID: r.in.RecipientID, Index: r.in.Index, Seq: seq, State: r.status.State,
		Requested: r.requested, EmailConfirmed: r.confirmed[runbooks.ConfirmEmail], PhoneConfirmed: r.confirmed[runbooks.ConfirmPhone],
		CallbackRequested: r.callback > 0,
	}
}

// sendReport signals the parent the current state as report seq. Each
// report carries the whole state and the parent ignores stale sequence
// numbers, so order does not matter, and only the latest report must
// arrive: if it fails, a fresh one is sent after a pause.
func (r *recall) sendReport(ctx workflow.Context, seq, try int) {
	f := workflow.SignalExternalWorkflow(ctx, r.in.ParentWorkflowID, "", SignalRecallProgress, r.progress(seq))
	r.reporting++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { r.reporting-- }()
		err := f.Get(ctx, nil)
		if err == nil || seq != r.seq {
			return // delivered, or a newer report is on its way
		}
		if try == reportRetries {
			workflow.GetLogger(ctx).Warn("progress not delivered to the incident", "recipient", r.in.RecipientID, "error", err)
			return
		}
		if sleep(ctx, time.Duration(1<<try)*time.Second, "retry the progress report to the incident") != nil || seq != r.seq {
			return
		}
		r.seq++
		r.sendReport(ctx, r.seq, try+1)
	})
}
