package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

// ObligationSetCarry is the state of an Incident's obligations handed over
// by continue-as-new.
type ObligationSetCarry struct {
	Items []ObligationItem `json:"items"`
	// Evaluated: the facts were evaluated at least once; Unauthorized is
	// the unauthorized-purpose fact last evaluated, and
	// UnauthorizedFoundAt when it turned true after the declaration.
	Evaluated           bool       `json:"evaluated,omitempty"`
	Unauthorized        bool       `json:"unauthorized,omitempty"`
	UnauthorizedFoundAt *time.Time `json:"unauthorized_found_at,omitempty"`
	// Thread is the incident message last given to the obligations.
	Thread *activities.SlackMessageRef `json:"thread,omitempty"`
}

// ObligationItem is one Obligation child as its Incident knows it.
type ObligationItem struct {
	ObligationID string `json:"obligation_id"`
	WorkflowID   string `json:"workflow_id"`
	// Opened is the obligation as first evaluated, shown until the child
	// reports.
	Opened ObligationSummary `json:"opened"`
	// Clock, Facts and Counts fingerprint what the child was last told.
	Clock  string `json:"clock"`
	Facts  string `json:"facts"`
	Counts string `json:"counts"`
	// NoLongerOwed: the child was told the rules no longer list it.
	NoLongerOwed bool `json:"no_longer_owed,omitempty"`
	// Status is the child's latest progress; nil until it reports.
	Status *ObligationStatus `json:"status,omitempty"`
}

func (it *ObligationItem) state() ObligationState {
	if it.Status != nil {
		return it.Status.State
	}
	return it.Opened.State
}

// obligationSet keeps an Incident's legal obligations: one Obligation
// child per obligation the facts trigger. It starts children for new
// obligations, tells existing ones about moved deadlines and fresher facts
// and counts, and never drops one: an obligation the rules stop listing is
// told so and stays open until a person files it or two people decide it
// is not required.
type obligationSet struct {
	incidentID string
	notify     []string
	escalate   []string
	// jurisdictions are the runbook's regimes, used when the facts name none.
	jurisdictions []string
	zone          string
	thread        func() *activities.SlackMessageRef
	changed       func()
	carry         *ObligationSetCarry
	// pending counts child starts and signals in flight; continue-as-new
	// waits for them.
	pending int
	// progress holds the children's reports until applied (see inbox).
	progress *inbox[ObligationStatus]
}

// newObligationSet builds the set from the runbook (phase "obligations":
// the roles notified and escalated to, and the regimes; with no such
// phase, management is told and the runbook's regimes apply). zone is the
// zone messages show times in; thread returns the incident message (nil
// for none); changed is called whenever an obligation's status changes.
func newObligationSet(incidentID string, rb runbooks.Runbook, zone string, carry *ObligationSetCarry,
	thread func() *activities.SlackMessageRef, changed func()) *obligationSet {
	s := &obligationSet{incidentID: incidentID, zone: zone, thread: thread, changed: changed, carry: carry,
		notify: []string{runbooks.AudienceManagement}, escalate: []string{runbooks.AudienceManagement}, jurisdictions: rb.Regimes}
	if p := rb.Phases.Obligations; p != nil {
		s.notify, s.escalate = p.Notify, p.Escalate
		if len(p.Regimes) > 0 {
			s.jurisdictions = p.Regimes
		}
	}
	return s
}

// setup listens for the children's progress.
func (s *obligationSet) setup(ctx workflow.Context) {
	s.progress = listen(ctx, SignalObligationProgress, s.apply)
}

// drain applies every progress signal already delivered; call it before
// continue-as-new.
func (s *obligationSet) drain(workflow.Context) { s.progress.drain() }

// apply records a child's progress; stale and duplicate deliveries change
// nothing.
func (s *obligationSet) apply(st ObligationStatus) {
	it := s.item(st.ObligationID)
	if it == nil || (it.Status != nil && st.Seq <= it.Status.Seq) {
		return
	}
	it.Status = &st
	if s.changed != nil {
		s.changed()
	}
}

func (s *obligationSet) item(id string) *ObligationItem {
	for k := range s.carry.Items {
		if s.carry.Items[k].ObligationID == id {
			return &s.carry.Items[k]
		}
	}
	return nil
}

// busy reports whether starts or signals are in flight.
func (s *obligationSet) busy() bool { return s.pending > 0 }

// evalResult is what the evaluation side effect records.
type evalResult struct {
	Result regimes.Result `json:"result"`
	Err    string         `json:"err,omitempty"`
}

// evaluate applies the built-in regimes to the facts. It runs as a side
// effect, so the result is recorded in history: a replay on a build with
// newer regime files sees the obligations that were owed then.
//
// An unauthorized purpose found after the declaration is known from
// foundAt (the update's time when zero): the regimes' clocks that depend
// on it run from then. A foundAt given later corrects it.
func (s *obligationSet) evaluate(ctx workflow.Context, f Facts, foundAt time.Time) (regimes.Result, error) {
	now := workflow.Now(ctx)
	switch {
	case f.Unauthorized && s.carry.Evaluated && !s.carry.Unauthorized && s.carry.UnauthorizedFoundAt == nil:
		t := now
		if !foundAt.IsZero() {
			t = foundAt
		}
		s.carry.UnauthorizedFoundAt = &t
	case f.Unauthorized && s.carry.Evaluated && !foundAt.IsZero():
		t := foundAt
		s.carry.UnauthorizedFoundAt = &t
	}
	s.carry.Evaluated, s.carry.Unauthorized = true, f.Unauthorized
	rf := regimeFacts(f, s.jurisdictions, s.carry.UnauthorizedFoundAt)
	enc := workflow.SideEffect(ctx, func(workflow.Context) any {
		regs, err := regimes.Builtin()
		if err != nil {
			return evalResult{Err: err.Error()}
		}
		return evalResult{Result: regimes.Evaluate(rf, regs, now)}
	})
	var res evalResult
	if err := enc.Get(&res); err != nil {
		return regimes.Result{}, fmt.Errorf("evaluate obligations: %w", err)
	}
	if res.Err != "" {
		return regimes.Result{}, fmt.Errorf("evaluate obligations: load regimes: %s", res.Err)
	}
	return res.Result, nil
}

// unauthorizedFoundAt is when the unauthorized purpose was found after
// the declaration; zero when it was not, or known from the start.
func (s *obligationSet) unauthorizedFoundAt() time.Time {
	if t := s.carry.UnauthorizedFoundAt; t != nil {
		return *t
	}
	return time.Time{}
}

// regimeFacts turns the incident's facts into the facts the regimes test.
// SensitiveOrFinancial sets both sensitive and financial harm (the
// conservative reading: either can make a breach reportable); the
// jurisdictions are the facts', else the runbook's.
func regimeFacts(f Facts, jurisdictions []string, unauthorizedFoundAt *time.Time) regimes.Facts {
	rf := regimes.Facts{
		AwareAt: f.AwareAt, Persons: f.Persons,
		Sensitive: f.SensitiveOrFinancial, FinancialHarm: f.SensitiveOrFinancial,
		UnauthorizedPurpose: f.Unauthorized, Jurisdictions: f.Jurisdictions,
	}
	if f.Unauthorized && unauthorizedFoundAt != nil {
		t := *unauthorizedFoundAt
		rf.UnauthorizedPurposeFoundAt = &t
	}
	if len(rf.Jurisdictions) == 0 {
		rf.Jurisdictions = jurisdictions
	}
	return rf
}

// clockKey fingerprints what times an obligation.
func clockKey(ob regimes.Obligation) string {
	var b strings.Builder
	utc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	fmt.Fprintf(&b, "%s|%s|%s|%v|%s|%s|%s", ob.Clock, utc(ob.Anchor.At), utc(ob.Deadline), ob.Pending, utc(ob.Target), ob.Kind, ob.Anchor.Name)
	for _, r := range ob.Reminders {
		b.WriteString("|r" + utc(r))
	}
	for _, e := range ob.Escalations {
		b.WriteString("|e" + utc(e))
	}
	for _, t := range ob.Triggers {
		b.WriteString("|t" + t.ID)
	}
	return b.String()
}

// situationKeys fingerprint a situation: the facts (material: a new draft
// is posted for review) and the counts, tasks and filings (a quiet
// refresh of the draft).
func situationKeys(sit reports.Situation) (facts, counts string) {
	f := sit.Facts
	facts = fmt.Sprintf("%s|%s|%d|%s|%v|%v|%s", f.Title, f.WhatLeaked, f.Persons, f.AwareAt.UTC().Format(time.RFC3339),
		f.UnauthorizedPurpose, f.SensitiveOrFinancial, strings.Join(f.Jurisdictions, ","))
	var b strings.Builder
	if sit.Recall != nil {
		fmt.Fprintf(&b, "%+v", *sit.Recall)
	}
	for _, m := range sit.Done {
		b.WriteString("|d" + m.ID)
	}
	for _, fl := range sit.Filings {
		b.WriteString("|f" + fl.ObligationID + "=" + fl.Reference)
	}
	return facts, b.String()
}

// reconcile makes the children match the obligations owed: it starts a
// child for each new one, sends a revision to each whose clock, facts or
// counts changed, and tells each open child the rules no longer list that
// it is no longer listed (without cancelling it). reason and by are
// recorded with every change.
func (s *obligationSet) reconcile(ctx workflow.Context, owed []regimes.Obligation, reason, by string, sit reports.Situation) {
	seen := map[string]bool{} // lookups only
	for _, ob := range owed {
		seen[ob.ID] = true
		it := s.item(ob.ID)
		if it == nil {
			s.start(ctx, ob, reason, by, sit)
			continue
		}
		if !it.state().Open() {
			continue
		}
		rv := ObligationRevision{Reason: reason, By: by}
		send := false
		if ck := clockKey(ob); ck != it.Clock || it.NoLongerOwed {
			o := ob
			rv.Obligation, it.Clock, it.NoLongerOwed, send = &o, ck, false, true
		}
		if s.situation(it, sit, &rv) {
			send = true
		}
		if send {
			s.signal(ctx, it, rv)
		}
	}
	for k := range s.carry.Items {
		it := &s.carry.Items[k]
		if seen[it.ObligationID] || it.NoLongerOwed || !it.state().Open() {
			continue
		}
		it.NoLongerOwed = true
		rv := ObligationRevision{NoLongerOwed: true, Reason: reason, By: by}
		s.situation(it, sit, &rv)
		s.signal(ctx, it, rv)
	}
	s.carry.Thread = s.thread()
}

// refresh sends fresher counts, tasks and filings (and a new incident
// message) to the open children whose drafts would change.
func (s *obligationSet) refresh(ctx workflow.Context, sit reports.Situation) {
	for k := range s.carry.Items {
		it := &s.carry.Items[k]
		if !it.state().Open() {
			continue
		}
		var rv ObligationRevision
		if s.situation(it, sit, &rv) {
			s.signal(ctx, it, rv)
		}
	}
	s.carry.Thread = s.thread()
}

// situation adds to rv what changed for the child since it was last told:
// the situation, and the incident message.
func (s *obligationSet) situation(it *ObligationItem, sit reports.Situation, rv *ObligationRevision) bool {
	changed := false
	if fk, ck := situationKeys(sit); fk != it.Facts || ck != it.Counts {
		st := sit
		rv.Situation, rv.Material = &st, fk != it.Facts || rv.Obligation != nil
		it.Facts, it.Counts, changed = fk, ck, true
	}
	if th := s.thread(); th != nil && !sameRef(th, s.carry.Thread) {
		rv.Thread, changed = th, true
	}
	return changed
}

func sameRef(a, b *activities.SlackMessageRef) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// start starts the Obligation child of a newly owed obligation. A child
// that fails to start is retried, so no obligation is dropped.
func (s *obligationSet) start(ctx workflow.Context, ob regimes.Obligation, reason, by string, sit reports.Situation) {
	wid := ObligationWorkflowID(s.incidentID, ob.ID)
	fk, ck := situationKeys(sit)
	s.carry.Items = append(s.carry.Items, ObligationItem{
		ObligationID: ob.ID, WorkflowID: wid, Clock: clockKey(ob), Facts: fk, Counts: ck,
		Opened: summaryOf(ob, wid),
	})
	in := ObligationInput{
		IncidentID: s.incidentID, Obligation: ob, Situation: sit,
		Notify: s.notify, Escalate: s.escalate, Thread: s.thread(), DisplayZone: s.zone,
		ParentWorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Reason: reason, By: by,
	}
	s.startChild(ctx, in)
}

func (s *obligationSet) startChild(ctx workflow.Context, in ObligationInput) {
	wid := ObligationWorkflowID(s.incidentID, in.Obligation.ID)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: wid,
		// The obligation outlives the Incident's continue-as-new and must
		// keep reminding even if the Incident ends.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         fmt.Sprintf("%s %s of %s", in.Obligation.ID, in.Obligation.Title, s.incidentID),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SAIncidentID.ValueSet(s.incidentID), SAObligationState.ValueSet(string(ObligationPending))),
	})
	fut := workflow.ExecuteChildWorkflow(cctx, Obligation, in)
	s.pending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { s.pending-- }()
		if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			var started *temporal.ChildWorkflowExecutionAlreadyStartedError
			if asAlreadyStarted(err, &started) {
				return
			}
			workflow.GetLogger(ctx).Error("obligation did not start; it will be retried", "obligation", in.Obligation.ID, "error", err)
			s.pending++
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer func() { s.pending-- }()
				if sleep(ctx, time.Minute, "retry starting an obligation") == nil {
					s.startChild(ctx, in)
				}
			})
		}
	})
}

// signal sends a revision to a child.
func (s *obligationSet) signal(ctx workflow.Context, it *ObligationItem, rv ObligationRevision) {
	fut := workflow.SignalExternalWorkflow(ctx, it.WorkflowID, "", SignalObligationRevision, rv)
	s.pending++
	id := it.ObligationID
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { s.pending-- }()
		if err := fut.Get(ctx, nil); err != nil {
			// The child has ended (filed or decided meanwhile): nothing to revise.
			workflow.GetLogger(ctx).Warn("obligation revision not delivered", "obligation", id, "error", err)
		}
	})
}

// summaryOf is an obligation as first evaluated.
func summaryOf(ob regimes.Obligation, wid string) ObligationSummary {
	due := ob.Deadline
	if !ob.Hard || due.IsZero() {
		due = ob.Target
	}
	return ObligationSummary{ObligationID: ob.ID, WorkflowID: wid, Title: ob.Title, Audience: ob.Audience.Name,
		State: ObligationPending, Due: due, Hard: ob.Hard}
}

// summaries returns every obligation, in the order they were opened.
func (s *obligationSet) summaries() []ObligationSummary {
	out := make([]ObligationSummary, 0, len(s.carry.Items))
	for _, it := range s.carry.Items {
		sum := it.Opened
		if st := it.Status; st != nil {
			sum.State, sum.Due, sum.Hard, sum.NoLongerOwed = st.State, st.Due, st.Hard, st.NoLongerOwed
			if st.Filing != nil {
				sum.FiledAt = st.Filing.FiledAt
			}
		}
		out = append(out, sum)
	}
	return out
}

// summariesOwed is summaries as they stand once the open children have
// applied the revisions reconcile sent for owed: an open obligation shows
// the deadline owed now, or that the rules no longer list it (reason).
// Filed and decided ones are as they are.
func (s *obligationSet) summariesOwed(owed []regimes.Obligation, reason string) []ObligationSummary {
	out := s.summaries()
	for k := range out {
		sum := &out[k]
		if !sum.State.Open() {
			continue
		}
		i := slices.IndexFunc(owed, func(ob regimes.Obligation) bool { return ob.ID == sum.ObligationID })
		if i < 0 {
			if sum.NoLongerOwed == "" {
				sum.NoLongerOwed = reason
			}
			continue
		}
		now := summaryOf(owed[i], sum.WorkflowID)
		sum.Due, sum.Hard, sum.NoLongerOwed = now.Due, now.Hard, ""
	}
	return out
}

// views returns the obligations for the incident message.
func (s *obligationSet) views() []slackui.DeadlineView {
	var out []slackui.DeadlineView
	for _, sum := range s.summaries() {
		out = append(out, slackui.DeadlineView{ObligationID: sum.ObligationID, WorkflowID: sum.WorkflowID,
			Label: sum.ObligationID + " " + sum.Title + " → " + sum.Audience, Due: sum.Due, State: string(sum.State)})
	}
	return out
}

// nextDeadline is the earliest due instant of an open obligation; zero
// when none is due.
func (s *obligationSet) nextDeadline() time.Time {
	var next time.Time
	for _, sum := range s.summaries() {
		if sum.State.Open() && !sum.Due.IsZero() && (next.IsZero() || sum.Due.Before(next)) {
			next = sum.Due
		}
	}
	return next
}

// filings returns the filings recorded so far, for drafts.
func (s *obligationSet) filings() []reports.Filing {
	var out []reports.Filing
	for _, it := range s.carry.Items {
		if st := it.Status; st != nil && st.Filing != nil {
			out = append(out, reports.Filing{ObligationID: st.ObligationID, Title: st.Title,
				FiledAt: st.Filing.FiledAt, Reference: st.Filing.Reference, Channel: st.Filing.Channel})
		}
	}
	return out
}

// records returns the obligations and their timelines for the record.
func (s *obligationSet) records() ([]record.Obligation, []record.Entry) {
	var obs []record.Obligation
	var entries []record.Entry
	for _, it := range s.carry.Items {
		ro := record.Obligation{ID: it.ObligationID, Title: it.Opened.Title, Audience: it.Opened.Audience,
			State: string(it.state()), Deadline: it.Opened.Due}
		if st := it.Status; st != nil {
			ro.Regime, ro.Kind, ro.Deadline, ro.Target, ro.Source = st.Regime, st.Kind, st.Deadline, st.Target, st.Source.Citation
			ro.NoLongerOwed, ro.Drafts = st.NoLongerOwed, st.Drafts
			if f := st.Filing; f != nil {
				ro.Filing = &record.Filing{FiledAt: f.FiledAt, Reference: f.Reference, Channel: f.Channel, By: f.By,
					RecordedAt: f.RecordedAt, Due: f.Due, Late: f.Late, LatenessSeconds: int64(f.Lateness / time.Second)}
			}
			if d := st.NotRequired; d != nil {
				ro.NotRequired = &record.NotRequired{ProposedBy: d.ProposedBy, ProposedAt: d.ProposedAt, Rationale: d.Rationale,
					ApprovedBy: d.ApprovedBy, ApprovedAt: d.ApprovedAt, Note: d.Note}
			}
			for _, m := range st.Missed {
				ro.Missed = append(ro.Missed, record.Missed{Due: m.Due, At: m.At})
			}
			entries = append(entries, st.Timeline...)
		}
		obs = append(obs, ro)
	}
	return obs, entries
}
