package workflows

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/timefmt"
	"github.com/breachflow/breachflow/runbooks"
)

// DefaultRecallConcurrency is the sliding window of Recall workflows running
// at once when the runbook does not say.
const DefaultRecallConcurrency = 200

// IncidentCarry is the state an Incident hands to its next run on
// continue-as-new. Recipients are indexed by their position in the list.
type IncidentCarry struct {
	Phase      string              `json:"phase"`
	Next       int                 `json:"next"`
	Running    int                 `json:"running"`
	Counts     RecallCounts        `json:"counts"`
	Recipients []RecipientProgress `json:"recipients"`
	// LastDay and PrevDay are the counts at the last two daily boundaries
	// (the daily report's hour), for day-over-day deltas.
	LastDay   RecallCounts `json:"last_day"`
	LastDayAt time.Time    `json:"last_day_at,omitempty"`
	PrevDay   RecallCounts `json:"prev_day"`
	PrevDayAt time.Time    `json:"prev_day_at,omitempty"`
	Slack     slackState   `json:"slack"`
	// CountsCorrected counts the recipients reconciliation corrected;
	// Corrections keeps the last maxCorrectionsKept of them.
	CountsCorrected int               `json:"counts_corrected,omitempty"`
	Corrections     []CountCorrection `json:"corrections,omitempty"`
	// Response is the checklist, obligations, daily report and closing.
	Response *ResponseCarry `json:"response,omitempty"`
}

// RecipientProgress is the Incident's compact record of one recipient.
type RecipientProgress struct {
	Seq   int         `json:"q,omitempty"`
	State RecallState `json:"s"`
	Flags uint8       `json:"f,omitempty"`
}

// Flags of RecipientProgress.
const (
	flagRequested uint8 = 1 << iota
	flagEmail
	flagPhone
	flagCallback // asked to be called back
	// flagClosedHere: closed by the Incident's close (StopRecalls) without
	// its Recall's word (never started, or its final report had not
	// arrived); only the Recall's own final state replaces it.
	flagClosedHere
)

// Incident is one breach, from declaration to close.
func Incident(ctx workflow.Context, in IncidentInput) (IncidentResult, error) {
	i := newIncident(in)
	if err := i.setup(ctx); err != nil {
		return IncidentResult{}, err
	}
	return i.run(ctx)
}

type incident struct {
	in            IncidentInput
	resp          *response
	carry         IncidentCarry
	pendingStarts int
	dirty         bool
	closed        *CloseIncident
	closedAt      time.Time
	lastDetails   string
	// posting is the thread reply being posted, taken from the queue.
	posting string
	// stopping: the close stops the Recalls (StopRecalls); no Recall is
	// started any more. signalling counts stop signals not yet delivered.
	stopping   bool
	signalling int
	// progress holds the Recalls' reports until applied (see inbox).
	progress *inbox[RecallProgress]
	// reconciles: this run reconciles its counts (versionReconcile);
	// reconciling: a reconciliation is running; canReconciling,
	// canReconciled: the one before continue-as-new started, ended.
	reconciles, reconciling       bool
	canReconciling, canReconciled bool
}

func newIncident(in IncidentInput) *incident {
	i := &incident{in: in}
	defer i.newResponse()
	if in.Carry != nil {
		i.carry = *in.Carry
		return i
	}
	i.carry.Phase = PhaseDeclared
	if in.WrongRecipients != nil && in.Runbook.Runbook.Phases.Recall != nil {
		n := in.WrongRecipients.Count
		i.carry.Recipients = make([]RecipientProgress, n)
		for k := range i.carry.Recipients {
			i.carry.Recipients[k].State = StatePending
		}
		i.carry.Counts = RecallCounts{Total: n, Pending: n}
		i.carry.Phase = PhaseRecall
	} else {
		i.carry.Phase = PhaseMonitoring
	}
	return i
}

// newResponse builds the checklist, obligations, daily report and closing
// over the incident's state.
func (i *incident) newResponse() {
	i.resp = newResponse(i.in, i.carry.Response, responseHooks{
		thread: func() *activities.SlackMessageRef { return i.carry.Slack.Ref },
		recall: func() *RecallCounts {
			if i.carry.Counts.Total == 0 {
				return nil
			}
			c := i.carry.Counts
			return &c
		},
		changed:   func() { i.dirty = true },
		reconcile: func(ctx workflow.Context, why string) { i.reconcile(ctx, why) },
		closed:    func() bool { return i.closed != nil },
		reply:     func(text string) { i.reply("%s", text) },
		closedHere: func() *activities.ClosedRecipients {
			if i.closed == nil || !i.closed.StopRecalls {
				return nil
			}
			return &activities.ClosedRecipients{IDs: i.closedHereIDs(), By: i.closed.By, Reason: stopReason(*i.closed)}
		},
	})
}

func (i *incident) setup(ctx workflow.Context) error {
	if err := i.resp.setup(ctx); err != nil {
		return err
	}
	if err := setQuery(ctx, QueryStatus, func() (IncidentStatus, error) { return i.status(), nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	if err := setUpdate(ctx, UpdateCloseIncident,
		func(ctx workflow.Context, req CloseIncident) (IncidentStatus, error) {
			i.closed, i.closedAt = &req, workflow.Now(ctx)
			return i.status(), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req CloseIncident) error {
			if strings.TrimSpace(req.By) == "" || strings.TrimSpace(req.Reason) == "" {
				return fmt.Errorf("closing an incident needs who closes it and why")
			}
			if i.closed != nil {
				return fmt.Errorf("incident %s is already %s: nothing more can be recorded on it", i.in.IncidentID, i.closure().Text())
			}
			if ids := i.inProgress(); len(ids) > 0 && !req.StopRecalls {
				return fmt.Errorf("%d recipient(s) are still being asked to delete the data (%s): close each with a reason (starter recipient close), "+
					"or close the incident with --stop-recalls (stop_recalls), which stops asking them and records them as closed by this close",
					len(ids), listIDs(ids, 10))
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("register close update: %w", err)
	}
	i.progress = listen(ctx, SignalRecallProgress, i.apply)
	if err := setUpdate(ctx, UpdateReconcileRecall,
		func(ctx workflow.Context, req ReconcileRecall) (RecallReconciliation, error) {
			return i.reconcile(ctx, "asked by "+req.By), nil
		},
		workflow.UpdateHandlerOptions{Validator: validateReconcile},
	); err != nil {
		return fmt.Errorf("register reconcile update: %w", err)
	}
	return nil
}

func (i *incident) run(ctx workflow.Context) (IncidentResult, error) {
	i.reconciles = workflow.GetVersion(ctx, versionReconcile, workflow.DefaultVersion, 1) >= 1
	if i.reconciles {
		workflow.Go(ctx, i.reconcileLoop)
	}
	workflow.Go(ctx, i.dailyBoundaries)
	if i.slackEnabled() {
		workflow.Go(ctx, i.slackLoop)
		workflow.Go(ctx, i.unreachableReminders)
	}
	if err := i.resp.start(ctx); err != nil {
		return IncidentResult{}, err
	}
	i.publish(ctx)
	for {
		i.fillWindow(ctx)
		// Wake on progress, on close, or when it is time to continue as new
		// (once every child start has been acknowledged) or to reconcile
		// before it.
		if err := workflow.Await(ctx, func() bool {
			return i.dirty || i.closed != nil || (i.wantsContinueAsNew(ctx) && (!i.reconciles || i.canReconciled || !i.canReconciling))
		}); err != nil {
			return IncidentResult{}, err
		}
		i.drain(ctx)
		if i.carry.Phase == PhaseRecall && i.settled() == i.carry.Counts.Total && i.carry.Next >= i.carry.Counts.Total {
			i.carry.Phase = PhaseMonitoring
			i.dirty = true
			c := i.carry.Counts
			i.reply("Recall settled: %d confirmed, %d unreachable (tasks for a human), %d closed by an operator.", c.Confirmed, c.Unreachable, c.ClosedByOperator)
		}
		if i.closed != nil {
			i.reconcile(ctx, "close")
			stopped := 0
			if i.closed.StopRecalls {
				stopped = i.stopRecalls(ctx)
			}
			i.carry.Phase = PhaseClosed
			i.dirty = true
			i.publish(ctx)
			if i.slackEnabled() {
				if stopped > 0 {
					i.reply("Incident closed by <@%s>: %s. Stopped asking %d recipient(s): closed by this close.", i.closed.By, i.closed.Reason, stopped)
				} else {
					i.reply("Incident closed by <@%s>: %s", i.closed.By, i.closed.Reason)
				}
				i.flushSlack(ctx)
			}
			rec, err := i.resp.close(ctx, *i.closed)
			if err != nil {
				return IncidentResult{}, err
			}
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return IncidentResult{}, err
			}
			return IncidentResult{Status: i.status(), Record: rec}, nil
		}
		i.publish(ctx)
		if i.wantsContinueAsNew(ctx) {
			switch {
			case !i.reconciles || i.canReconciled:
				return IncidentResult{}, i.continueAsNew(ctx)
			case !i.canReconciling:
				// Reconcile first, beside the loop, which goes on applying
				// reports, settling the phase and publishing meanwhile.
				i.canReconciling = true
				workflow.Go(ctx, func(ctx workflow.Context) {
					i.reconcile(ctx, "continue-as-new")
					i.canReconciled = true
				})
			}
		}
	}
}

// wantsContinueAsNew: the server suggests it and nothing in flight holds
// the run (child starts, the response's work).
func (i *incident) wantsContinueAsNew(ctx workflow.Context) bool {
	return i.canSuggested(ctx) && i.pendingStarts == 0 && !i.resp.busy()
}

// dailyBoundaries snapshots the counts at every daily boundary (the daily
// report's hour and zone; 18:00 Asia/Tokyo when the runbook has none), so
// status shows "+1 since yesterday".
func (i *incident) dailyBoundaries(ctx workflow.Context) {
	at, zone := runbooks.ClockTime(18*60), "Asia/Tokyo"
	if dr := i.in.Runbook.Runbook.Phases.DailyReport; dr != nil {
		at, zone = dr.At, dr.TimeZone
	}
	for {
		now := workflow.Now(ctx)
		next, err := nextDaily(now, at, zone)
		if err != nil {
			workflow.GetLogger(ctx).Error("daily boundary", "error", err)
			return
		}
		if err := workflow.NewTimerWithOptions(ctx, next.Sub(now), workflow.TimerOptions{
			Summary: "daily boundary " + next.Format("2006-01-02 15:04 MST"),
		}).Get(ctx, nil); err != nil {
			return
		}
		i.carry.PrevDay, i.carry.PrevDayAt = i.carry.LastDay, i.carry.LastDayAt
		i.carry.LastDay, i.carry.LastDayAt = i.carry.Counts, workflow.Now(ctx)
		i.dirty = true
	}
}

// nextDaily is the next instant strictly after now at clock time at in zone.
func nextDaily(now time.Time, at runbooks.ClockTime, zone string) (time.Time, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return now, fmt.Errorf("time zone %q: %w", zone, err)
	}
	l := now.In(loc)
	t := time.Date(l.Year(), l.Month(), l.Day(), at.Minutes()/60, at.Minutes()%60, 0, 0, loc)
	if !t.After(now) {
		t = time.Date(l.Year(), l.Month(), l.Day()+1, at.Minutes()/60, at.Minutes()%60, 0, 0, loc)
	}
	return t, nil
}

func (i *incident) canSuggested(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

func (i *incident) window() int {
	if rc := i.in.Runbook.Runbook.Phases.Recall; rc != nil && rc.Concurrency > 0 {
		return rc.Concurrency
	}
	return DefaultRecallConcurrency
}

func (i *incident) canStart() bool {
	return i.carry.Phase == PhaseRecall && i.carry.Next < i.carry.Counts.Total && i.carry.Running < i.window()
}

// fillWindow starts Recalls until the sliding window is full.
func (i *incident) fillWindow(ctx workflow.Context) {
	for i.canStart() && !i.canSuggested(ctx) {
		idx := i.carry.Next
		i.carry.Next++
		i.carry.Running++
		i.startRecall(ctx, idx)
	}
}

func (i *incident) startRecall(ctx workflow.Context, idx int) {
	rid := recipients.RecipientID(idx + 1)
	wid := RecallWorkflowID(i.in.IncidentID, rid)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            wid,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         "Recall " + rid + " of " + i.in.IncidentID,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SAIncidentID.ValueSet(i.in.IncidentID), SARecallState.ValueSet(string(StatePending))),
	})
	fut := workflow.ExecuteChildWorkflow(cctx, Recall, RecallInput{
		IncidentID: i.in.IncidentID, RecipientID: rid, Index: idx,
		List: *i.in.WrongRecipients, Policy: *i.in.Runbook.Runbook.Phases.Recall,
		ParentWorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Sent:             i.sentMessage(),
	})
	i.pendingStarts++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { i.pendingStarts-- }()
		if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			var started *temporal.ChildWorkflowExecutionAlreadyStartedError
			if !asAlreadyStarted(err, &started) {
				workflow.GetLogger(ctx).Error("recall did not start; it will be retried", "recipient", rid, "error", err)
				// Still pending until the retry has started it: the next
				// run would take it as started and never start it.
				i.pendingStarts++
				workflow.Go(ctx, func(ctx workflow.Context) {
					defer func() { i.pendingStarts-- }()
					i.retryStart(ctx, idx)
				})
			}
		}
	})
}

// sentMessage is what the deletion requests say was sent by mistake: the
// facts as they are now, in the zone people read times in.
func (i *incident) sentMessage() activities.SentMessage {
	f := i.resp.facts()
	return activities.SentMessage{Subject: f.SentSubject, At: f.SentAt, What: f.WhatLeaked, TimeZone: i.resp.zone()}
}

// retryStart tries a failed child start again after a pause, so no
// recipient is dropped.
func (i *incident) retryStart(ctx workflow.Context, idx int) {
	if sleep(ctx, time.Minute, "retry starting a recipient's Recall") != nil {
		return
	}
	if i.stopping {
		// The close stops asking: never started, closed here.
		i.closeHere(idx)
		return
	}
	i.startRecall(ctx, idx)
}

// apply records a Recall's progress; stale and duplicate deliveries change
// nothing.
func (i *incident) apply(p RecallProgress) {
	if p.Index < 0 || p.Index >= len(i.carry.Recipients) {
		return
	}
	cur := &i.carry.Recipients[p.Index]
	if p.Seq <= cur.Seq {
		return
	}
	if cur.Flags&flagClosedHere != 0 && p.State != StateConfirmed && p.State != StateClosedByOperator {
		return // closed by the close; only the Recall's final word replaces it
	}
	flags := progressFlags(p)
	// Counts are kept by difference, never by iterating.
	i.count(*cur, -1)
	prev := cur.State
	wasSettled, wasCallback := cur.State.Settled(), cur.Flags&flagCallback != 0
	cur.Seq, cur.State, cur.Flags = p.Seq, p.State, flags
	i.count(*cur, +1)
	if !wasSettled && cur.State.Settled() {
		i.carry.Running--
	} else if wasSettled && !cur.State.Settled() {
		i.carry.Running++
	}
	switch {
	case p.CallbackRequested && cur.State == StateUnreachable && (prev != StateUnreachable || !wasCallback):
		i.reply("%s asked on the phone to be called back: call them back, then record the outcome (buttons on the incident message).", p.RecipientID)
	case cur.State == StateUnreachable && prev != StateUnreachable:
		i.reply("%s is unreachable: find another way to reach this person (buttons on the incident message).", p.RecipientID)
	}
	i.dirty = true
}

func (i *incident) count(rp RecipientProgress, d int) {
	c := &i.carry.Counts
	switch rp.State {
	case StatePending:
		c.Pending += d
	case StateConfirmed:
		c.Confirmed += d
	case StateUnreachable:
		c.Unreachable += d
	case StateClosedByOperator:
		c.ClosedByOperator += d
	}
	if rp.Flags&flagRequested != 0 {
		c.Requested += d
	}
	if rp.Flags&flagEmail != 0 {
		c.EmailConfirmed += d
	}
	if rp.Flags&flagPhone != 0 {
		c.PhoneConfirmed += d
	}
}

// minus returns c - p, count by count.
func (c RecallCounts) minus(p RecallCounts) RecallCounts {
	return RecallCounts{
		Total: c.Total - p.Total, Pending: c.Pending - p.Pending, Requested: c.Requested - p.Requested,
		EmailConfirmed: c.EmailConfirmed - p.EmailConfirmed, PhoneConfirmed: c.PhoneConfirmed - p.PhoneConfirmed,
		Confirmed: c.Confirmed - p.Confirmed, Unreachable: c.Unreachable - p.Unreachable,
		ClosedByOperator: c.ClosedByOperator - p.ClosedByOperator,
	}
}

// stopWait bounds how long a close with StopRecalls waits for the stopped
// Recalls' final reports before it writes the record; a Recall not heard
// from by then is recorded as closed by the close.
const stopWait = 2 * time.Minute

// stopBatch is how many stop signals a close sends in one workflow task
// (a variable for tests only).
var stopBatch = 500

// stopReason is the reason a recipient stopped by the close carries.
func stopReason(c CloseIncident) string {
	return fmt.Sprintf("incident closed by %s: %s", c.By, c.Reason)
}

// open reports whether automated contact with the recipient, or a
// person's task about them, is still open: neither confirmed nor closed.
func open(s RecallState) bool { return s != StateConfirmed && s != StateClosedByOperator }

// inProgress lists, in list order, the recipients still being asked
// (started or not): neither confirmed, unreachable nor closed.
func (i *incident) inProgress() []string {
	var ids []string
	for idx, rp := range i.carry.Recipients {
		if !rp.State.Settled() {
			ids = append(ids, recipients.RecipientID(idx+1))
		}
	}
	return ids
}

// stopRecalls ends every recipient still open because the incident closes
// with StopRecalls, and returns how many it stopped: those never started
// are closed here, without a Recall; every open Recall (asking, or
// unreachable and waiting for a person) gets SignalStopRecall, and the
// close waits, at most stopWait, for their final reports. A Recall not
// heard from by then is closed here too, so every recipient ends in a
// named state and the counts stay exact. Recipients are visited in list
// order, never by map.
func (i *incident) stopRecalls(ctx workflow.Context) int {
	c := *i.closed
	i.stopping = true
	stopped := 0
	for idx := i.carry.Next; idx < len(i.carry.Recipients); idx++ {
		if i.closeHere(idx) {
			stopped++
		}
	}
	i.carry.Next = len(i.carry.Recipients)
	deadline := workflow.Now(ctx).Add(stopWait)
	// A Recall being started is signalled once started; a failed start is
	// closed here instead of retried (retryStart).
	i.awaitUntil(ctx, deadline, "Recalls being started", func() bool { return i.pendingStarts == 0 })
	i.drain(ctx)
	for idx := 0; idx < i.carry.Next; idx++ {
		rp := i.carry.Recipients[idx]
		if !open(rp.State) || rp.Flags&flagClosedHere != 0 {
			continue
		}
		stopped++
		if i.signalling >= stopBatch {
			// Signals go out with the workflow task: a few hundred at a
			// time keeps each task (and its payload) small at scale.
			_ = workflow.Await(ctx, func() bool { return i.signalling == 0 })
		}
		rid := recipients.RecipientID(idx + 1)
		f := workflow.SignalExternalWorkflow(ctx, RecallWorkflowID(i.in.IncidentID, rid), "", SignalStopRecall, StopRecall{By: c.By, Reason: c.Reason})
		i.signalling++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { i.signalling-- }()
			if err := f.Get(ctx, nil); err != nil {
				// Ended meanwhile (its report tells how), or gone: closed
				// here after the wait if no report says otherwise.
				workflow.GetLogger(ctx).Warn("stop not delivered to the recall", "recipient", rid, "error", err)
			}
		})
	}
	i.awaitUntil(ctx, deadline, "final reports of the stopped Recalls", func() bool {
		c := i.carry.Counts
		return i.signalling == 0 && c.Confirmed+c.ClosedByOperator == c.Total
	})
	i.drain(ctx)
	for idx := range i.carry.Recipients {
		i.closeHere(idx)
	}
	return stopped
}

// awaitUntil waits until cond holds or deadline passes.
func (i *incident) awaitUntil(ctx workflow.Context, deadline time.Time, what string, cond func() bool) {
	if cond() {
		return
	}
	wait := deadline.Sub(workflow.Now(ctx))
	if wait <= 0 {
		return
	}
	_, _ = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: wait, TimerOptions: workflow.TimerOptions{Summary: "close: waiting for " + what}}, cond)
}

// closeHere records a recipient as closed by the close (StopRecalls)
// without its Recall's word; false when it was no longer open.
func (i *incident) closeHere(idx int) bool {
	cur := &i.carry.Recipients[idx]
	if !open(cur.State) {
		return false
	}
	i.count(*cur, -1)
	if idx < i.carry.Next && !cur.State.Settled() {
		i.carry.Running--
	}
	cur.State = StateClosedByOperator
	cur.Flags |= flagClosedHere
	i.count(*cur, +1)
	i.dirty = true
	return true
}

// closedHereIDs lists, in list order, the recipients closedHere closed.
func (i *incident) closedHereIDs() []string {
	var ids []string
	for idx, rp := range i.carry.Recipients {
		if rp.Flags&flagClosedHere != 0 {
			ids = append(ids, recipients.RecipientID(idx+1))
		}
	}
	return ids
}

func (i *incident) settled() int {
	c := i.carry.Counts
	return c.Confirmed + c.Unreachable + c.ClosedByOperator
}

// drain applies every progress signal already delivered. It must run before
// continue-as-new, or signals would be lost.
func (i *incident) drain(workflow.Context) { i.progress.drain() }

// publish updates search attributes and current details once per change.
func (i *incident) publish(ctx workflow.Context) {
	if !i.dirty && i.lastDetails != "" {
		return
	}
	i.dirty = false
	c := i.carry.Counts
	sas := []temporal.SearchAttributeUpdate{
		SAPhase.ValueSet(i.carry.Phase),
		SARecipients.ValueSet(int64(c.Total)),
		SAConfirmed.ValueSet(int64(c.Confirmed)),
		SAUnreachable.ValueSet(int64(c.Unreachable)),
	}
	if next := i.resp.nextDeadline(); !next.IsZero() {
		sas = append(sas, SANextDeadline.ValueSet(next))
	} else {
		sas = append(sas, SANextDeadline.ValueUnset())
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, sas...)
	d := i.details(workflow.Now(ctx))
	if d != i.lastDetails {
		workflow.SetCurrentDetails(ctx, d)
		i.lastDetails = d
	}
}

// detailsHead is the number of lines the Temporal UI shows of a
// workflow's current details without scrolling: what a manager needs comes
// first, within it (detailsSummary).
const detailsHead = 8

// details are the Incident's current details in the Temporal UI: a
// summary a manager reads at a glance (confirmed of total by the runbook's
// rule, the unreachable, the next deadline, what is overdue, open tasks),
// then the full tables. Times are absolute: the details are published when
// something changes, so a span ("2 days left") would go stale.
func (i *incident) details(now time.Time) string {
	c := i.carry.Counts
	loc := i.resp.sh.loc
	var b strings.Builder
	fmt.Fprintf(&b, "## %s — %s\n", i.in.IncidentID, i.in.Runbook.Runbook.ID)
	b.WriteString(i.detailsSummary(now))
	b.WriteString("\n")
	if c.Total > 0 {
		fmt.Fprintf(&b, "| recall | count |\n|---|---|\n")
		fmt.Fprintf(&b, "| asked | %d / %d |\n| confirmed by phone | %d |\n| confirmed by e-mail | %d |\n| confirmed (runbook rule) | %d |\n| unreachable | %d |\n| closed by operator | %d |\n| pending | %d |\n\n",
			c.Requested, c.Total, c.PhoneConfirmed, c.EmailConfirmed, c.Confirmed, c.Unreachable, c.ClosedByOperator, c.Pending)
	}
	if obs := i.resp.obligationSummaries(); len(obs) > 0 {
		b.WriteString("| obligation | to | due | state |\n|---|---|---|---|\n")
		for _, o := range obs {
			due := timefmt.Due(o.Due, loc, timefmt.English)
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", o.Title, o.Audience, due, o.State)
		}
		b.WriteString("\n")
	}
	open := 0
	for _, t := range i.resp.taskStatuses() {
		if !t.Done {
			open++
		}
	}
	if n := len(i.resp.taskStatuses()); n > 0 {
		fmt.Fprintf(&b, "**Containment tasks:** %d of %d done\n\n", n-open, n)
	}
	i.resp.notices.details(&b)
	return b.String()
}

// detailsListed bounds the IDs and names a summary line lists.
const detailsListed = 5

// detailsSummary is the head of the details, one line per item, at most
// detailsHead-1 lines.
func (i *incident) detailsSummary(now time.Time) string {
	c := i.carry.Counts
	loc := i.resp.sh.loc
	var b strings.Builder
	fmt.Fprintf(&b, "**Phase:** %s", i.carry.Phase)
	if c.Total > 0 {
		fmt.Fprintf(&b, " · **confirmed %d of %d** (%s) · asked %d · pending %d", c.Confirmed, c.Total, i.confirmRule(), c.Requested, c.Pending)
	}
	b.WriteString("\n")
	var unreachable []string
	for idx, rp := range i.carry.Recipients {
		if rp.State == StateUnreachable {
			unreachable = append(unreachable, recipients.RecipientID(idx+1))
		}
	}
	if c.Unreachable > 0 || len(unreachable) > 0 {
		fmt.Fprintf(&b, "**Unreachable (%d):** %s\n", max(c.Unreachable, len(unreachable)), listed(unreachable))
	}
	var next *ObligationSummary
	var overdue []string
	obs := i.resp.obligationSummaries()
	for k := range obs {
		o := &obs[k]
		if !o.State.Open() {
			continue
		}
		if o.State == ObligationOverdue || (!o.Due.IsZero() && !o.Due.After(now)) {
			overdue = append(overdue, fmt.Sprintf("%s (was due %s)", o.Title, timefmt.Due(o.Due, loc, timefmt.English)))
			continue
		}
		if next == nil || (!o.Due.IsZero() && (next.Due.IsZero() || o.Due.Before(next.Due))) {
			next = o
		}
	}
	if next != nil {
		// Times, not spans: the details are published when something
		// changes, and "2 days left" would go stale between.
		fmt.Fprintf(&b, "**Next deadline:** %s — %s\n", next.Title, timefmt.Due(next.Due, loc, timefmt.English))
	}
	if len(overdue) > 0 {
		fmt.Fprintf(&b, "**Overdue (%d):** %s\n", len(overdue), listed(overdue))
	}
	var tasks []string
	for _, t := range i.resp.taskStatuses() {
		if t.Done {
			continue
		}
		item := t.ID
		if d := timefmt.At(t.Due, loc, timefmt.English); d != "" {
			if t.Due.After(now) {
				item += " (due " + d + ")"
			} else {
				item += " (overdue: was due " + d + ")"
			}
		}
		tasks = append(tasks, item)
	}
	if len(tasks) > 0 {
		fmt.Fprintf(&b, "**Open tasks (%d):** %s\n", len(tasks), listed(tasks))
	}
	return b.String()
}

// listed joins the first detailsListed items and counts the rest.
func listed(items []string) string {
	if len(items) <= detailsListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:detailsListed], ", ") + fmt.Sprintf(", and %d more", len(items)-detailsListed)
}

// confirmRule says what "confirmed" takes under the runbook's recall
// phase ("phone and e-mail").
func (i *incident) confirmRule() string {
	rc := i.in.Runbook.Runbook.Phases.Recall
	if rc == nil || len(rc.Confirm) == 0 {
		return "by the runbook's rule"
	}
	var parts []string
	for _, c := range rc.Confirm {
		switch c {
		case runbooks.ConfirmEmail:
			parts = append(parts, "e-mail")
		default:
			parts = append(parts, string(c))
		}
	}
	return strings.Join(parts, " and ")
}

// closure is the incident's close; nil while open.
func (i *incident) closure() *Closure {
	if i.closed == nil {
		return nil
	}
	return &Closure{By: i.closed.By, Reason: i.closed.Reason, At: i.closedAt, Zone: i.resp.sh.loc.String()}
}

func (i *incident) status() IncidentStatus {
	s := IncidentStatus{
		IncidentID: i.in.IncidentID, Runbook: i.in.Runbook.Runbook.ID, RunbookSHA256: i.in.Runbook.SHA256,
		Title: i.resp.facts().Title, Facts: i.resp.facts(), Phase: i.carry.Phase, DeclaredAt: i.in.DeclaredAt, Recall: i.carry.Counts,
		Closed:      i.closure(),
		Unreachable: []string{},
		Obligations: i.resp.obligationSummaries(), Tasks: i.resp.taskStatuses(), Prevention: i.resp.prevention(),
	}
	s.Broadcasts, s.BrokerDemands = i.resp.noticeRefs()
	if !i.carry.LastDayAt.IsZero() {
		// The first boundary compares with the start (all zero).
		d := i.carry.LastDay.minus(i.carry.PrevDay)
		s.SinceYesterday = &d
		s.DayBoundaryAt = i.carry.LastDayAt
	}
	s.CountsCorrected = i.carry.CountsCorrected
	for idx, rp := range i.carry.Recipients {
		if rp.State == StateUnreachable {
			s.Unreachable = append(s.Unreachable, recipients.RecipientID(idx+1))
		}
	}
	return s
}

func (i *incident) continueAsNew(ctx workflow.Context) error {
	i.drain(ctx)
	i.resp.drain(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && !i.resp.busy() }); err != nil {
		return err
	}
	i.drain(ctx)
	i.resp.drain(ctx)
	next := i.in
	carry := i.carry
	if i.posting != "" {
		// Its post is abandoned with this run: the next one posts it
		// (twice, if Slack had it already, rather than never).
		carry.Slack.Replies = append([]string{i.posting}, carry.Slack.Replies...)
	}
	carry.Response = i.resp.snapshot()
	next.Carry = &carry
	return workflow.NewContinueAsNewError(ctx, Incident, next)
}
