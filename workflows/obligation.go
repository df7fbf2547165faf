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
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/internal/timefmt"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

// filingSkew is how far in the future a recorded filing time may be
// (clocks of people's machines differ).
const filingSkew = 5 * time.Minute

// overdueEvery is how often an overdue obligation is escalated again until
// it is filed or decided not required.
const overdueEvery = 24 * time.Hour

// Obligation runs one legal obligation of an incident (the APPI 確報 to the
// PPC, the GDPR Art. 33 notification, ...): it drafts the report from the
// facts and live counts and posts it for review; reminds the runbook's
// roles at the regime's instants and escalates; marks the obligation
// overdue when its deadline passes, recording the missed deadline for good;
// follows deadlines that move when the facts change; and ends when a
// person records the filing (UpdateRecordFiling) or two people decide it is
// not required (UpdateProposeNotRequired, UpdateReviewNotRequired).
func Obligation(ctx workflow.Context, in ObligationInput) (ObligationStatus, error) {
	o := newObligation(in)
	if err := o.setup(ctx); err != nil {
		return o.status, err
	}
	return o.run(ctx)
}

type obligation struct {
	in     ObligationInput
	ob     regimes.Obligation
	sit    reports.Situation
	thread *activities.SlackMessageRef
	loc    *time.Location
	n      *staffNotifier
	status ObligationStatus

	// fired marks reminder, escalation and deadline instants already
	// handled (lookups only, never ranged over).
	fired       map[string]bool
	lastOverdue time.Time
	revisions   []ObligationRevision
	// outbox holds notices queued by handlers; the main loop sends them.
	outbox      []queuedNotice
	changed     bool
	redraft     bool
	postDraft   bool
	postedDraft int
	published   string
	reports     []workflow.Future
}

// queuedNotice is a notice and the timeline entry recording it.
type queuedNotice struct {
	entry record.Entry
	nt    staffNotice
}

func newObligation(in ObligationInput) *obligation {
	o := &obligation{in: in, ob: in.Obligation, sit: in.Situation, thread: in.Thread,
		loc: displayZone(in.DisplayZone), fired: map[string]bool{}}
	o.n = &staffNotifier{incidentID: in.IncidentID, thread: func() *activities.SlackMessageRef { return o.thread }}
	o.status = ObligationStatus{
		IncidentID: in.IncidentID, ObligationID: o.ob.ID, WorkflowID: ObligationWorkflowID(in.IncidentID, o.ob.ID),
		Regime: o.ob.Regime, Kind: string(o.ob.Kind), Title: o.ob.Title, Audience: o.ob.Audience.Name,
		State: ObligationPending, Timeline: []record.Entry{},
	}
	o.syncClock()
	return o
}

// syncClock copies the obligation's clock into the status.
func (o *obligation) syncClock() {
	s := &o.status
	s.Deadline, s.Target, s.Grace, s.Hard = o.ob.Deadline, o.ob.Target, o.ob.Grace, o.ob.Hard
	s.ClockPending, s.Clock, s.Source = o.ob.Pending, o.ob.Clock, o.ob.Source
	s.Due = o.ob.Deadline
	if !o.ob.Hard || s.Due.IsZero() {
		s.Due = o.ob.Target
	}
}

func (o *obligation) setup(ctx workflow.Context) error {
	if err := setQuery(ctx, QueryStatus, func() (ObligationStatus, error) { return o.status, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	if err := setUpdate(ctx, UpdateRecordFiling, o.recordFiling,
		workflow.UpdateHandlerOptions{Validator: o.validateFiling}); err != nil {
		return fmt.Errorf("register record filing update: %w", err)
	}
	if err := setUpdate(ctx, UpdateProposeNotRequired, o.proposeNotRequired,
		workflow.UpdateHandlerOptions{Validator: o.validateProposal}); err != nil {
		return fmt.Errorf("register not-required proposal update: %w", err)
	}
	if err := setUpdate(ctx, UpdateReviewNotRequired, o.reviewNotRequired,
		workflow.UpdateHandlerOptions{Validator: o.validateReview}); err != nil {
		return fmt.Errorf("register not-required review update: %w", err)
	}
	listen(ctx, SignalObligationRevision, func(rv ObligationRevision) {
		o.revisions = append(o.revisions, rv)
		o.changed = true
	})
	return nil
}

func (o *obligation) run(ctx workflow.Context) (ObligationStatus, error) {
	o.open(ctx)
	for {
		o.changed = false
		o.applyRevisions(ctx)
		if o.redraft && o.status.State.Open() {
			o.draft(ctx)
		}
		o.flush(ctx)
		o.publish(ctx)
		if !o.status.State.Open() {
			break
		}
		now := workflow.Now(ctx)
		next, what := o.next(now)
		if next.IsZero() {
			if err := workflow.Await(ctx, func() bool { return o.changed }); err != nil {
				return o.status, err
			}
			continue
		}
		opts := workflow.AwaitOptions{Timeout: next.Sub(now), TimerOptions: workflow.TimerOptions{
			Summary: fmt.Sprintf("%s %s at %s", o.ob.ID, what, fmtAt(next, o.loc))}}
		woken, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return o.changed })
		if err != nil {
			return o.status, err
		}
		if !woken {
			o.fire(ctx, workflow.Now(ctx))
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return o.status, err
	}
	o.flush(ctx)
	o.publish(ctx)
	for _, f := range o.reports {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("progress not delivered to the incident", "obligation", o.ob.ID, "error", err)
		}
	}
	return o.status, nil
}

// log records an entry in the obligation's timeline.
func (o *obligation) log(e record.Entry) {
	if e.Actor == "" {
		e.Actor = record.System
	}
	e.Subject = o.ob.ID
	o.status.Timeline = append(o.status.Timeline, e)
}

// queue records an entry and queues its notice for the main loop.
func (o *obligation) queue(e record.Entry, nt staffNotice) {
	nt.subject = fmt.Sprintf("[%s] %s", o.in.IncidentID, nt.subject)
	o.outbox = append(o.outbox, queuedNotice{entry: e, nt: nt})
	o.changed = true
}

// flush sends the queued notices and records each with its outcome.
func (o *obligation) flush(ctx workflow.Context) {
	for len(o.outbox) > 0 {
		q := o.outbox[0]
		o.outbox = o.outbox[1:]
		q.entry.To, q.entry.Outcome = o.n.send(ctx, q.nt)
		o.log(q.entry)
	}
}

func (o *obligation) label() string {
	return fmt.Sprintf("%s %s → %s", o.ob.ID, o.ob.Title, o.ob.Audience.Name)
}

// dueText says when the obligation is due, for people.
func (o *obligation) dueText() string {
	switch s := o.status; {
	case s.ClockPending:
		return "clock not started yet (" + o.ob.Anchor.Name + ")"
	case s.Hard && !s.Deadline.IsZero():
		return fmt.Sprintf("due %s (%s)", fmtAt(s.Deadline, o.loc), s.Clock)
	case !s.Target.IsZero():
		return "promptly, target " + fmtAt(s.Target, o.loc)
	}
	return "promptly"
}

func (o *obligation) notifyRoles() []string { return o.in.Notify }

func (o *obligation) escalateRoles() []string {
	return append(slices.Clone(o.in.Notify), o.in.Escalate...)
}

// open records the obligation, announces it and asks for the first draft.
func (o *obligation) open(ctx workflow.Context) {
	now := workflow.Now(ctx)
	reason := o.in.Reason
	if o.ob.Note != "" {
		reason = strings.TrimSpace(reason + " " + o.ob.Note)
	}
	o.queue(record.Entry{At: now, Kind: record.KindObligationOpened, Actor: o.in.By,
		Summary: fmt.Sprintf("%s: %s", o.label(), o.dueText()), Reason: reason},
		staffNotice{summary: "obligation opened", subject: "Obligation " + o.ob.ID, slack: true, roles: o.notifyRoles(),
			text: bilingual(
				fmt.Sprintf("📋 法的義務: %s（%s）", o.label(), o.dueText()),
				fmt.Sprintf("📋 Legal obligation: %s (%s). Source: %s", o.label(), o.dueText(), o.ob.Source.Citation))})
	o.skipPast(now)
	o.redraft, o.postDraft = true, true
}

// key names a scheduled instant in fired.
func schedKey(kind string, t time.Time) string { return kind + "@" + t.UTC().Format(time.RFC3339) }

// skipPast handles instants already past when a schedule starts or
// changes: past reminders are dropped; of past escalations only the latest
// is kept, to be sent at once; a past deadline makes the obligation
// overdue at once (fire).
func (o *obligation) skipPast(now time.Time) {
	for _, r := range o.ob.Reminders {
		if !r.After(now) {
			o.fired[schedKey("r", r)] = true
		}
	}
	var past []time.Time
	for _, e := range o.ob.Escalations {
		if !e.After(now) && !o.fired[schedKey("e", e)] {
			past = append(past, e)
		}
	}
	for i := 0; i+1 < len(past); i++ {
		o.fired[schedKey("e", past[i])] = true
	}
}

// next returns the earliest instant still to handle, and what it is.
func (o *obligation) next(now time.Time) (time.Time, string) {
	var at time.Time
	what := ""
	consider := func(t time.Time, kind, name string) {
		if t.IsZero() || o.fired[schedKey(kind, t)] {
			return
		}
		if at.IsZero() || t.Before(at) {
			at, what = t, name
		}
	}
	for _, r := range o.ob.Reminders {
		consider(r, "r", "reminder")
	}
	for _, e := range o.ob.Escalations {
		consider(e, "e", "escalation")
	}
	if o.status.State != ObligationOverdue {
		consider(o.status.Due, "d", "deadline")
	} else if !o.lastOverdue.IsZero() {
		at2 := o.lastOverdue.Add(overdueEvery)
		if at.IsZero() || at2.Before(at) {
			at, what = at2, "overdue escalation"
		}
	}
	if !at.IsZero() && at.Before(now) {
		at = now
	}
	return at, what
}

// fire handles every instant due at now: one notice, the most urgent.
func (o *obligation) fire(ctx workflow.Context, now time.Time) {
	var reminded, escalated bool
	for _, r := range o.ob.Reminders {
		if !r.After(now) && !o.fired[schedKey("r", r)] {
			o.fired[schedKey("r", r)], reminded = true, true
		}
	}
	for _, e := range o.ob.Escalations {
		if !e.After(now) && !o.fired[schedKey("e", e)] {
			o.fired[schedKey("e", e)], escalated = true, true
		}
	}
	due := o.status.Due
	missed := !due.IsZero() && !due.After(now) && !o.fired[schedKey("d", due)] && o.status.State != ObligationOverdue
	if missed {
		o.fired[schedKey("d", due)] = true
	}
	again := o.status.State == ObligationOverdue && !o.lastOverdue.IsZero() && !now.Before(o.lastOverdue.Add(overdueEvery))
	leftJa, leftEn := leftNote(now, due)
	switch {
	case missed:
		o.status.State = ObligationOverdue
		o.status.Missed = append(o.status.Missed, MissedDeadline{Due: due, At: now})
		o.lastOverdue = now
		o.queue(record.Entry{At: now, Kind: record.KindOverdue, Summary: fmt.Sprintf("%s: nothing filed by %s", o.label(), fmtAt(due, o.loc))},
			staffNotice{summary: "overdue", subject: "OVERDUE: " + o.ob.ID, slack: true, roles: o.escalateRoles(), text: bilingual(
				fmt.Sprintf("🚨 期限超過: %s は %s までに提出されていません。直ちに提出し、提出を記録してください。", o.label(), fmtAtJa(due, o.loc)),
				fmt.Sprintf("🚨 OVERDUE: %s was due %s and nothing is recorded as filed. File it now and record the filing.", o.label(), fmtAt(due, o.loc)))})
	case escalated || again:
		if o.status.State == ObligationOverdue {
			o.lastOverdue = now
		}
		o.queue(record.Entry{At: now, Kind: record.KindEscalation, Summary: fmt.Sprintf("%s: %s, still %s%s", o.label(), o.dueText(), o.status.State, leftEn)},
			staffNotice{summary: "escalation", subject: "Escalation: " + o.ob.ID, slack: true, roles: o.escalateRoles(), text: bilingual(
				fmt.Sprintf("🚨 エスカレーション: %s — %s、状態: %s%s%s", o.label(), o.dueText(), o.status.State, leftJa, o.proposalNote()),
				fmt.Sprintf("🚨 Escalation: %s — %s, still %s%s%s", o.label(), o.dueText(), o.status.State, leftEn, o.proposalNote()))})
	case reminded:
		text := bilingual(
			fmt.Sprintf("⏰ リマインダー: %s — %s、状態: %s%s%s", o.label(), o.dueText(), o.status.State, leftJa, o.proposalNote()),
			fmt.Sprintf("⏰ Reminder: %s — %s, state %s%s%s", o.label(), o.dueText(), o.status.State, leftEn, o.proposalNote()))
		if d := o.status.Draft; d != nil && d.Version > o.postedDraft {
			text += "\n\n" + d.Text
			o.postedDraft = d.Version
		}
		o.queue(record.Entry{At: now, Kind: record.KindReminder, Summary: fmt.Sprintf("%s: %s, state %s", o.label(), o.dueText(), o.status.State)},
			staffNotice{summary: "reminder", subject: "Reminder: " + o.ob.ID, slack: true, roles: o.notifyRoles(), text: text})
	}
}

func (o *obligation) proposalNote() string {
	if p := o.status.Proposal; p != nil {
		return fmt.Sprintf("\n(%s proposes \"not required\": %s — awaiting a second person's approval)", p.ProposedBy, p.Rationale)
	}
	return ""
}

// applyRevisions applies what the Incident sent, in order.
func (o *obligation) applyRevisions(ctx workflow.Context) {
	for len(o.revisions) > 0 {
		rv := o.revisions[0]
		o.revisions = o.revisions[1:]
		if !o.status.State.Open() {
			continue // filed or decided: nothing left to change
		}
		o.revise(ctx, rv)
	}
}

func (o *obligation) revise(ctx workflow.Context, rv ObligationRevision) {
	now := workflow.Now(ctx)
	if rv.Thread != nil {
		first := o.thread == nil
		o.thread = rv.Thread
		if first {
			o.announceLate(now)
		}
	}
	if rv.Situation != nil {
		o.sit = *rv.Situation
		o.redraft = true
		o.postDraft = o.postDraft || rv.Material
	}
	if rv.Obligation != nil && rv.Obligation.ID == o.ob.ID {
		oldDue, oldText, oldPending := o.status.Due, o.dueText(), o.status.ClockPending
		o.ob = *rv.Obligation
		o.syncClock()
		if o.status.NoLongerOwed != "" {
			o.status.NoLongerOwed = ""
			o.log(record.Entry{At: now, Kind: record.KindObligationOpened, Actor: rv.By, Reason: rv.Reason,
				Summary: o.label() + ": owed again under the rules"})
		}
		if !oldDue.Equal(o.status.Due) || oldPending != o.status.ClockPending {
			summary := fmt.Sprintf("%s: %s → %s", o.label(), oldText, o.dueText())
			if o.status.State == ObligationOverdue && (o.status.Due.IsZero() || o.status.Due.After(now)) {
				o.status.State = o.openState()
				o.lastOverdue = time.Time{}
				summary += "; no longer overdue (the missed deadline stays recorded)"
			}
			o.queue(record.Entry{At: now, Kind: record.KindDeadlineMoved, Actor: rv.By, Reason: rv.Reason, Summary: summary},
				staffNotice{summary: "deadline moved", subject: "Deadline moved: " + o.ob.ID, slack: true, roles: o.notifyRoles(), text: bilingual(
					fmt.Sprintf("↔ 期限変更: %s — %s → %s。理由: %s", o.label(), oldText, o.dueText(), rv.Reason),
					fmt.Sprintf("↔ Deadline moved: %s — %s → %s. Reason: %s", o.label(), oldText, o.dueText(), rv.Reason))})
			o.postDraft = true
		}
		o.skipPast(now)
	}
	if rv.NoLongerOwed && o.status.NoLongerOwed == "" {
		o.status.NoLongerOwed = rv.Reason
		o.queue(record.Entry{At: now, Kind: record.KindNoLongerOwed, Actor: rv.By, Reason: rv.Reason,
			Summary: o.label() + ": no longer listed by the rules; kept open until filed or decided not required"},
			staffNotice{summary: "no longer owed?", subject: "Check: " + o.ob.ID, slack: true, roles: o.escalateRoles(), text: bilingual(
				fmt.Sprintf("❓ 再評価の結果、%s は義務の一覧から外れました（%s）。自動では取り消しません: 提出を記録するか、「不要」を提案し別の担当者の承認を得てください。", o.label(), rv.Reason),
				fmt.Sprintf("❓ After re-evaluation the rules no longer list %s (%s). It is not cancelled automatically: record the filing, or propose \"not required\" for a second person to approve.", o.label(), rv.Reason))})
	}
	o.changed = true
}

// announceLate posts to the incident channel, once it exists, what was
// announced before it did: the obligation and its latest draft.
func (o *obligation) announceLate(now time.Time) {
	text := bilingual(
		fmt.Sprintf("📋 法的義務: %s（%s）、状態: %s", o.label(), o.dueText(), o.status.State),
		fmt.Sprintf("📋 Legal obligation: %s (%s), state %s", o.label(), o.dueText(), o.status.State))
	summary := o.label() + ": announced in the incident channel, which did not exist when it opened"
	if d := o.status.Draft; d != nil {
		text += "\n\n" + d.Text
		o.postedDraft = d.Version
	}
	o.queue(record.Entry{At: now, Kind: record.KindObligationOpened, Summary: summary},
		staffNotice{summary: "obligation announced", subject: "Obligation " + o.ob.ID, slack: true, text: text})
}

// openState is the state of an open obligation that is not overdue.
func (o *obligation) openState() ObligationState {
	if o.status.Draft != nil {
		return ObligationDrafted
	}
	return ObligationPending
}

// draft builds the report from the latest situation and, when asked,
// posts it for review.
func (o *obligation) draft(ctx workflow.Context) {
	post := o.postDraft
	o.redraft, o.postDraft = false, false
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, Summary: "draft " + o.ob.ID,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	now := workflow.Now(ctx)
	var d reports.Draft
	if err := workflow.ExecuteActivity(actx, a.DraftReport, reports.Request{Obligation: o.ob, Situation: o.sit, Zone: o.in.DisplayZone}).Get(ctx, &d); err != nil {
		o.log(record.Entry{At: now, Kind: record.KindDraft, Summary: o.label() + ": the draft could not be built", Outcome: "failed (" + errorType(err) + ")"})
		return
	}
	o.status.Drafts++
	o.status.Draft = &DraftRecord{Version: o.status.Drafts, At: now, Draft: d}
	if o.status.State == ObligationPending {
		o.status.State = ObligationDrafted
	}
	summary := fmt.Sprintf("%s: draft v%d (%s, as of %s), %d items to complete", o.label(), o.status.Drafts, d.Template, fmtAt(d.AsOf, o.loc), d.ToFill)
	if !post {
		o.log(record.Entry{At: now, Kind: record.KindDraft, Summary: summary + "; kept for the next reminder"})
		return
	}
	o.postedDraft = o.status.Drafts
	o.queue(record.Entry{At: now, Kind: record.KindDraft, Summary: summary},
		staffNotice{summary: "draft for review", subject: fmt.Sprintf("Draft v%d for review: %s", o.status.Drafts, o.ob.ID), slack: true, roles: o.notifyRoles(),
			text: bilingual(
				fmt.Sprintf("📝 %s の下書き v%d です。確認・記入のうえ提出し、提出を記録してください。", o.label(), o.status.Drafts),
				fmt.Sprintf("📝 Draft v%d of %s for review. Complete it, file it, then record the filing.", o.status.Drafts, o.label())) + "\n\n" + d.Text})
}

func (o *obligation) validateFiling(ctx workflow.Context, f RecordFiling) error {
	now := workflow.Now(ctx)
	aware := o.sit.Facts.AwareAt
	switch {
	case strings.TrimSpace(f.By) == "":
		return errors.New("recording a filing needs who records it")
	case strings.TrimSpace(f.Reference) == "":
		return errors.New("recording a filing needs the reference the regulator gave back (receipt number)")
	case strings.TrimSpace(f.Channel) == "":
		return errors.New("recording a filing needs how it was filed (e.g. PPC web form)")
	case f.FiledAt.IsZero():
		return errors.New("recording a filing needs when it was filed")
	case f.FiledAt.After(now.Add(filingSkew)):
		return fmt.Errorf("a filing cannot be in the future (%s)", fmtAt(f.FiledAt, o.loc))
	case !aware.IsZero() && f.FiledAt.Before(aware):
		return fmt.Errorf("a filing at %s is before the breach was known (%s)", fmtAt(f.FiledAt, o.loc), fmtAt(aware, o.loc))
	case o.status.State == ObligationFiled:
		return fmt.Errorf("%s is already filed (%s, reference %s)", o.ob.ID, fmtAt(o.status.Filing.FiledAt, o.loc), o.status.Filing.Reference)
	case o.status.State == ObligationNotRequired:
		return fmt.Errorf("%s was decided not required", o.ob.ID)
	}
	return nil
}

func (o *obligation) recordFiling(ctx workflow.Context, f RecordFiling) (ObligationStatus, error) {
	now := workflow.Now(ctx)
	rec := FilingRecord{RecordFiling: f, RecordedAt: now, Due: o.status.Due}
	if !rec.Due.IsZero() && f.FiledAt.After(rec.Due) {
		rec.Late, rec.Lateness = true, f.FiledAt.Sub(rec.Due)
	}
	o.status.Filing = &rec
	o.status.State = ObligationFiled
	late, lateJa := "", ""
	if rec.Late {
		late = fmt.Sprintf(", %s (the deadline was %s)", timefmt.Late(rec.Lateness, timefmt.English), fmtAt(rec.Due, o.loc))
		lateJa = fmt.Sprintf("。期限（%s）から%s", fmtAtJa(rec.Due, o.loc), timefmt.Late(rec.Lateness, timefmt.Japanese))
	}
	if o.status.Proposal != nil {
		o.log(record.Entry{At: now, Kind: record.KindNotRequiredRefuse, Actor: f.By, Summary: o.label() + ": the \"not required\" proposal is superseded by the filing"})
		o.status.Proposal = nil
	}
	o.queue(record.Entry{At: now, Kind: record.KindFiled, Actor: f.By, Reference: f.Reference,
		Summary: fmt.Sprintf("%s: filed %s via %s%s", o.label(), fmtAt(f.FiledAt, o.loc), f.Channel, late)},
		staffNotice{summary: "filed", subject: "Filed: " + o.ob.ID, slack: true, roles: o.notifyRoles(), text: bilingual(
			fmt.Sprintf("✅ 提出済み: %s — %s に %s で提出（受付番号 %s、記録 %s）%s", o.label(), fmtAtJa(f.FiledAt, o.loc), f.Channel, f.Reference, f.By, lateJa),
			fmt.Sprintf("✅ Filed: %s — %s via %s (reference %s, recorded by %s)%s", o.label(), fmtAt(f.FiledAt, o.loc), f.Channel, f.Reference, f.By, late))})
	return o.status, nil
}

func (o *obligation) validateProposal(_ workflow.Context, p NotRequiredProposal) error {
	switch {
	case strings.TrimSpace(p.By) == "" || strings.TrimSpace(p.Rationale) == "":
		return errors.New("proposing that an obligation is not required needs who proposes it and why")
	case !o.status.State.Open():
		return fmt.Errorf("%s is already %s", o.ob.ID, o.status.State)
	case o.status.Proposal != nil:
		return fmt.Errorf("%s proposed this already (%s): approve or reject that first", o.status.Proposal.ProposedBy, o.status.Proposal.Rationale)
	}
	return nil
}

func (o *obligation) proposeNotRequired(ctx workflow.Context, p NotRequiredProposal) (ObligationStatus, error) {
	now := workflow.Now(ctx)
	o.status.Proposal = &NotRequiredDecision{ProposedBy: p.By, ProposedAt: now, Rationale: p.Rationale}
	o.queue(record.Entry{At: now, Kind: record.KindNotRequiredAsked, Actor: p.By, Reason: p.Rationale,
		Summary: o.label() + ": proposed not required; the clocks run until a second person approves"},
		staffNotice{summary: "not required?", subject: "Approval needed: " + o.ob.ID + " not required?", slack: true, roles: o.escalateRoles(), text: bilingual(
			fmt.Sprintf("❓ %s が %s を「不要」と提案しました: %s。別の担当者の承認が必要です。承認までリマインダーと期限は有効です。", p.By, o.label(), p.Rationale),
			fmt.Sprintf("❓ %s proposes that %s is not required: %s. Another person must approve; until then the reminders and the deadline stand.", p.By, o.label(), p.Rationale))})
	return o.status, nil
}

func (o *obligation) validateReview(_ workflow.Context, r NotRequiredReview) error {
	p := o.status.Proposal
	switch {
	case strings.TrimSpace(r.By) == "":
		return errors.New("reviewing a \"not required\" proposal needs who reviews it")
	case o.status.State == ObligationNotRequired && o.status.NotRequired != nil:
		d := o.status.NotRequired
		return fmt.Errorf("%s is already not required: proposed by %s, approved by %s", o.ob.ID, d.ProposedBy, d.ApprovedBy)
	case !o.status.State.Open():
		return fmt.Errorf("%s is already %s", o.ob.ID, o.status.State)
	case p == nil:
		return fmt.Errorf("nobody has proposed that %s is not required", o.ob.ID)
	case r.By == p.ProposedBy:
		return errors.New("a second person must review the proposal: the proposer cannot approve or reject their own")
	case !r.Approve && strings.TrimSpace(r.Note) == "":
		return errors.New("rejecting the proposal needs a note saying why")
	}
	return nil
}

func (o *obligation) reviewNotRequired(ctx workflow.Context, r NotRequiredReview) (ObligationStatus, error) {
	now := workflow.Now(ctx)
	p := *o.status.Proposal
	o.status.Proposal = nil
	if !r.Approve {
		o.queue(record.Entry{At: now, Kind: record.KindNotRequiredRefuse, Actor: r.By, Reason: r.Note,
			Summary: fmt.Sprintf("%s: %s's \"not required\" proposal rejected", o.label(), p.ProposedBy)},
			staffNotice{summary: "not required: rejected", subject: "Rejected: " + o.ob.ID + " not required", slack: true, roles: o.notifyRoles(), text: bilingual(
				fmt.Sprintf("✋ %s が %s の「不要」提案を却下しました: %s。義務は継続します。", r.By, o.label(), r.Note),
				fmt.Sprintf("✋ %s rejected the proposal that %s is not required: %s. The obligation stands.", r.By, o.label(), r.Note))})
		return o.status, nil
	}
	p.ApprovedBy, p.ApprovedAt, p.Note = r.By, now, r.Note
	o.status.NotRequired = &p
	o.status.State = ObligationNotRequired
	o.queue(record.Entry{At: now, Kind: record.KindNotRequiredOK, Actor: r.By, Reason: p.Rationale,
		Summary: fmt.Sprintf("%s: not required, proposed by %s, approved by %s", o.label(), p.ProposedBy, r.By)},
		staffNotice{summary: "not required: approved", subject: "Not required: " + o.ob.ID, slack: true, roles: o.escalateRoles(), text: bilingual(
			fmt.Sprintf("☑ %s は不要と決定しました（提案 %s、承認 %s）: %s", o.label(), p.ProposedBy, r.By, p.Rationale),
			fmt.Sprintf("☑ %s is decided not required (proposed by %s, approved by %s): %s", o.label(), p.ProposedBy, r.By, p.Rationale))})
	return o.status, nil
}

// publish updates the search attributes and tells the Incident, once per
// change.
func (o *obligation) publish(ctx workflow.Context) {
	sig := fmt.Sprintf("%s|%s|%d|%d|%s|%v", o.status.State, o.status.Due.UTC().Format(time.RFC3339), len(o.status.Timeline),
		o.status.Drafts, o.status.NoLongerOwed, o.status.Proposal != nil)
	if sig == o.published {
		return
	}
	o.published = sig
	attrs := []temporal.SearchAttributeUpdate{SAObligationState.ValueSet(string(o.status.State))}
	if !o.status.Due.IsZero() {
		attrs = append(attrs, SANextDeadline.ValueSet(o.status.Due))
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, attrs...)
	if o.in.ParentWorkflowID == "" {
		return
	}
	o.status.Seq++
	p := o.status
	if p.Draft != nil {
		d := *p.Draft
		d.Sections, d.Text = nil, "" // the Incident needs the version, not the text
		p.Draft = &d
	}
	o.reports = append(o.reports, workflow.SignalExternalWorkflow(ctx, o.in.ParentWorkflowID, "", SignalObligationProgress, p))
	pending := o.reports[:0]
	for _, f := range o.reports {
		if !f.IsReady() {
			pending = append(pending, f)
		}
	}
	o.reports = pending
}
