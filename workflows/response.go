package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

// ResponseCarry is the state of an incident's response (checklist,
// obligations, daily report, close, timeline) handed over by
// continue-as-new.
type ResponseCarry struct {
	Started    bool      `json:"started"`
	DeclaredAt time.Time `json:"declared_at"`
	// Facts are the current facts (the declaration's, then each
	// update_facts).
	Facts       Facts              `json:"facts"`
	Timeline    []record.Entry     `json:"timeline"`
	Tasks       ChecklistCarry     `json:"tasks"`
	Obligations ObligationSetCarry `json:"obligations"`
	Daily       DailyReportCarry   `json:"daily"`
	Closing     ClosingCarry       `json:"closing"`
	// Notices are the broadcasts and broker demands started.
	Notices NoticesCarry `json:"notices"`
}

// responseHooks is what the response needs from its Incident.
type responseHooks struct {
	// thread returns the incident message; nil for none (yet).
	thread func() *activities.SlackMessageRef
	// recall returns the recall counts; nil when nothing is recalled.
	recall func() *RecallCounts
	// changed is called when what the Incident shows has changed.
	changed func()
	// reconcile makes the recall counts the Recalls' truth before a
	// report or draft is built from them; nil: nothing to reconcile.
	reconcile func(ctx workflow.Context, why string)
	// closed reports whether the incident is closing (no new notices).
	closed func() bool
	// reply posts a line in the incident message's thread.
	reply func(string)
	// closedHere returns the recipients the close stopped without their
	// Recall's word (StopRecalls), for the record; nil for none.
	closedHere func() *activities.ClosedRecipients
}

// response is what an Incident runs besides the recall: the containment
// checklist, the legal obligations, the daily report, the prevention
// report and, at close, the record. It keeps the incident's timeline.
//
// The Incident wires it in four places: setup (handlers for complete_task,
// update_facts and record_prevention_report, and the obligations'
// progress), start (first run: declare and evaluate the obligations; every
// run: start the timers), close (export the record) and continue-as-new
// (drain, wait while busy, carry).
type response struct {
	in          IncidentInput
	hooks       responseHooks
	carry       *ResponseCarry
	sh          *crew
	tasks       *checklist
	obligations *obligationSet
	daily       *dailyReport
	closing     *closing
	notices     *noticeSet
}

// newResponse builds the response of an incident; carry is nil on a new
// incident.
func newResponse(in IncidentInput, carry *ResponseCarry, hooks responseHooks) *response {
	c := &ResponseCarry{Facts: in.Facts, DeclaredAt: in.DeclaredAt}
	if carry != nil {
		cc := *carry
		c = &cc
	}
	if hooks.thread == nil {
		hooks.thread = func() *activities.SlackMessageRef { return nil }
	}
	if hooks.recall == nil {
		hooks.recall = func() *RecallCounts { return nil }
	}
	return &response{in: in, hooks: hooks, carry: c}
}

// zone is where people read the times: the daily report's zone, else
// Asia/Tokyo.
func (r *response) zone() string {
	if dr := r.in.Runbook.Runbook.Phases.DailyReport; dr != nil && dr.TimeZone != "" {
		return dr.TimeZone
	}
	return "Asia/Tokyo"
}

// setup builds the components and registers their handlers. Call it from
// the Incident's setup.
func (r *response) setup(ctx workflow.Context) error {
	if r.carry.DeclaredAt.IsZero() {
		r.carry.DeclaredAt = workflow.GetInfo(ctx).WorkflowStartTime
	}
	rb := r.in.Runbook.Runbook
	declared := r.carry.DeclaredAt
	r.sh = &crew{incidentID: r.in.IncidentID, n: &staffNotifier{incidentID: r.in.IncidentID, thread: r.hooks.thread},
		loc: displayZone(r.zone()), log: r.log, changed: r.hooks.changed}
	var tasks []runbooks.Task
	if p := rb.Phases.Contain; p != nil {
		tasks = p.Tasks
	}
	r.tasks = newChecklist(tasks, declared, &r.carry.Tasks, r.sh)
	r.obligations = newObligationSet(r.in.IncidentID, rb, r.zone(), &r.carry.Obligations, r.hooks.thread, r.sh.touch)
	r.notices = newNoticeSet(r.in, &r.carry.Notices, r.sh, r.facts, r.hooks.closed, r.hooks.reply)
	if p := rb.Phases.DailyReport; p != nil {
		r.daily = newDailyReport(*p, declared, &r.carry.Daily, r.sh, func() string { return r.carry.Facts.Title },
			r.dailySnapshot, func(ctx workflow.Context) { r.obligations.refresh(ctx, r.situation(ctx)) }, r.notices.dailyReport)
		r.daily.lists = r.notices.otherLists
	}
	var due time.Time
	if p := rb.Phases.Close; p != nil {
		due = declared.Add(p.PreventionReportDue.D())
	}
	r.closing = newClosing(declared, due, r.obligations.notify, r.obligations.escalate, &r.carry.Closing, r.sh)
	r.obligations.setup(ctx)
	if err := r.notices.setup(ctx); err != nil {
		return err
	}

	if err := setUpdate(ctx, UpdateCompleteTask, r.tasks.complete,
		workflow.UpdateHandlerOptions{Validator: r.tasks.validate}); err != nil {
		return fmt.Errorf("register complete task update: %w", err)
	}
	if err := setUpdate(ctx, UpdateFacts, r.changeFacts,
		workflow.UpdateHandlerOptions{Validator: r.validateFacts}); err != nil {
		return fmt.Errorf("register facts update: %w", err)
	}
	if err := setUpdate(ctx, UpdateRecordPreventionReport, r.closing.record,
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, p PreventionReport) error {
			if r.closing.due.IsZero() {
				return errors.New("this incident's runbook promises no prevention report (no close phase)")
			}
			return r.closing.validate(ctx, p)
		}}); err != nil {
		return fmt.Errorf("register prevention report update: %w", err)
	}
	return nil
}

// start runs the response. On a new incident it records the declaration
// and opens the obligations the facts trigger; on every run it starts the
// checklist's, the daily report's and the prevention report's timers.
func (r *response) start(ctx workflow.Context) error {
	if !r.carry.Started {
		r.carry.Started = true
		f := r.carry.Facts
		r.log(record.Entry{At: workflow.Now(ctx), Kind: record.KindDeclared, Actor: r.in.DeclaredBy,
			Summary: fmt.Sprintf("declared with runbook %s v%d: %s; %d persons; aware since %s",
				r.in.Runbook.Runbook.ID, r.in.Runbook.Runbook.Version, f.Title, f.Persons, fmtAt(f.AwareAt, r.sh.loc))})
		if _, err := r.evaluate(ctx, "declared", r.in.DeclaredBy, time.Time{}); err != nil {
			return err
		}
	}
	if r.in.SlackChannel != "" && r.carry.Obligations.Thread == nil {
		// The incident message is posted after the obligations open: give
		// it to them as soon as it exists, so their announcements and
		// drafts reach the channel.
		workflow.Go(ctx, func(ctx workflow.Context) {
			if workflow.Await(ctx, func() bool { return r.hooks.thread() != nil }) == nil {
				r.obligations.refresh(ctx, r.situation(ctx))
			}
		})
	}
	workflow.Go(ctx, r.tasks.run)
	if r.daily != nil {
		workflow.Go(ctx, r.daily.run)
	}
	workflow.Go(ctx, r.closing.run)
	return nil
}

// evaluate applies the regimes to the current facts, records what is not
// owed and why, and reconciles the obligations. unauthorizedFoundAt is
// when an unauthorized purpose was found (zero: now).
func (r *response) evaluate(ctx workflow.Context, reason, by string, unauthorizedFoundAt time.Time) ([]regimes.Obligation, error) {
	res, err := r.obligations.evaluate(ctx, r.carry.Facts, unauthorizedFoundAt)
	if err != nil {
		return nil, err
	}
	now := workflow.Now(ctx)
	for _, no := range res.NotOwed {
		var unmet []string
		for _, u := range no.Unmet {
			unmet = append(unmet, u.Detail)
		}
		r.log(record.Entry{At: now, Kind: record.KindNotOwed, Subject: no.ID,
			Summary: fmt.Sprintf("%s → %s: not owed (%s)", no.Title, no.Audience.Name, reason),
			Reason:  strings.TrimSpace(no.Reason + ": " + strings.Join(unmet, "; "))})
	}
	r.obligations.reconcile(ctx, res.Owed, reason, by, r.situation(ctx))
	r.sh.touch()
	return res.Owed, nil
}

func (r *response) log(e record.Entry) {
	if e.Actor == "" {
		e.Actor = record.System
	}
	r.carry.Timeline = append(r.carry.Timeline, e)
}

// factsKey fingerprints facts.
func factsKey(f Facts) string {
	k, _ := situationKeys(reports.Situation{Facts: reportFacts(f)})
	return k
}

func reportFacts(f Facts) reports.Facts {
	return reports.Facts{Title: f.Title, WhatLeaked: f.WhatLeaked, Persons: f.Persons, AwareAt: f.AwareAt,
		UnauthorizedPurpose: f.Unauthorized, SensitiveOrFinancial: f.SensitiveOrFinancial, Jurisdictions: f.Jurisdictions}
}

func (r *response) validateFacts(ctx workflow.Context, ch FactsChange) error {
	found := ch.UnauthorizedPurposeFoundAt
	switch {
	case strings.TrimSpace(ch.By) == "" || strings.TrimSpace(ch.Reason) == "":
		return errors.New("changing the facts needs who changes them and why")
	case ch.Facts.AwareAt.IsZero():
		return errors.New("the facts need the time the organisation became aware (it starts the legal clocks)")
	case ch.Facts.AwareAt.After(workflow.Now(ctx).Add(filingSkew)):
		return fmt.Errorf("the organisation cannot have become aware in the future (%s): it starts the legal clocks", fmtAt(ch.Facts.AwareAt, r.sh.loc))
	case ch.Facts.Persons < 0:
		return fmt.Errorf("persons cannot be negative (%d)", ch.Facts.Persons)
	case !found.IsZero() && !ch.Facts.Unauthorized:
		return errors.New("the time the unauthorized purpose was found needs the unauthorized purpose set in the facts")
	case !found.IsZero() && found.After(workflow.Now(ctx).Add(filingSkew)):
		return fmt.Errorf("the unauthorized purpose cannot have been found in the future (%s)", fmtAt(found, r.sh.loc))
	case !found.IsZero() && found.Before(ch.Facts.AwareAt):
		return fmt.Errorf("the unauthorized purpose cannot have been found (%s) before the organisation became aware of the breach (%s)",
			fmtAt(found, r.sh.loc), fmtAt(ch.Facts.AwareAt, r.sh.loc))
	case factsKey(ch.Facts) == factsKey(r.carry.Facts) && ch.Facts.SentSubject == r.carry.Facts.SentSubject &&
		ch.Facts.SentAt.Equal(r.carry.Facts.SentAt) && (found.IsZero() || r.obligations.unauthorizedFoundAt().Equal(found)):
		return errors.New("the new facts are the same as the current ones")
	}
	return nil
}

// changeFacts records new facts and re-evaluates the obligations: new ones
// open, moved deadlines are sent to their obligations with the reason,
// and none is dropped.
func (r *response) changeFacts(ctx workflow.Context, ch FactsChange) ([]ObligationSummary, error) {
	old := r.carry.Facts
	if workflow.GetVersion(ctx, versionFactsChecked, workflow.DefaultVersion, 1) >= 1 {
		if err := r.checkFactsChange(ctx, old, ch.Facts); err != nil {
			return nil, err
		}
	}
	r.carry.Facts = ch.Facts
	summary := factsDiff(old, ch.Facts, r.sh.loc)
	if found := ch.UnauthorizedPurposeFoundAt; !found.IsZero() {
		summary = strings.TrimPrefix(strings.TrimPrefix(summary, "facts changed")+"; unauthorized purpose found at "+fmtAt(found, r.sh.loc), "; ")
	}
	r.log(record.Entry{At: workflow.Now(ctx), Kind: record.KindFactsChanged, Actor: ch.By, Reason: ch.Reason, Summary: summary})
	reason := "facts changed: " + ch.Reason
	owed, err := r.evaluate(ctx, reason, ch.By, ch.UnauthorizedPurposeFoundAt)
	if err != nil {
		return nil, err
	}
	// What the responder is told is the obligations as now owed: the
	// children apply the revisions just sent a moment later.
	return r.obligations.summariesOwed(owed, reason), nil
}

// factsDiff says what changed, field by field.
func factsDiff(a, b Facts, loc *time.Location) string {
	var d []string
	add := func(name, x, y string) {
		if x != y {
			d = append(d, fmt.Sprintf("%s: %s → %s", name, x, y))
		}
	}
	add("title", a.Title, b.Title)
	add("what leaked", a.WhatLeaked, b.WhatLeaked)
	add("persons", fmt.Sprint(a.Persons), fmt.Sprint(b.Persons))
	add("aware at", fmtAt(a.AwareAt, loc), fmtAt(b.AwareAt, loc))
	add("unauthorized purpose", fmt.Sprint(a.Unauthorized), fmt.Sprint(b.Unauthorized))
	add("sensitive or financial", fmt.Sprint(a.SensitiveOrFinancial), fmt.Sprint(b.SensitiveOrFinancial))
	add("jurisdictions", strings.Join(a.Jurisdictions, ","), strings.Join(b.Jurisdictions, ","))
	if len(d) == 0 {
		return "facts changed"
	}
	return strings.Join(d, "; ")
}

// situation is what a draft is built from, now.
func (r *response) situation(ctx workflow.Context) reports.Situation {
	if r.hooks.reconcile != nil {
		r.hooks.reconcile(ctx, "report or draft")
	}
	done, open := r.tasks.measures()
	s := reports.Situation{IncidentID: r.in.IncidentID, AsOf: workflow.Now(ctx), Facts: reportFacts(r.carry.Facts),
		Done: done, Open: open, PreventionDue: r.closing.due, Filings: r.obligations.filings()}
	if c := r.hooks.recall(); c != nil {
		rc := reports.Counts(*c)
		s.Recall = &rc
	}
	return s
}

func (r *response) dailySnapshot() DailySnapshot {
	s := DailySnapshot{Obligations: r.obligations.summaries(), Tasks: r.tasks.statuses(),
		Facts: factsKey(r.carry.Facts), Prevention: r.closing.state()}
	if !r.closing.due.IsZero() {
		s.PreventionDue = r.closing.due
		if rep := r.closing.carry.Report; rep != nil {
			s.PreventionSubmitted = rep.SubmittedAt
		}
	}
	if c := r.hooks.recall(); c != nil {
		rc := *c
		s.Recall = &rc
	}
	return s
}

// facts returns the current facts.
func (r *response) facts() Facts { return r.carry.Facts }

// taskViews and deadlineViews are what the incident message shows.
func (r *response) taskViews() []slackui.TaskView         { return r.tasks.views() }
func (r *response) deadlineViews() []slackui.DeadlineView { return r.obligations.views() }

// viewKey changes whenever the tasks or deadlines the incident message
// shows change (add it to the Incident's slackView key).
func (r *response) viewKey() string {
	return fmt.Sprintf("%+v|%+v|%+v|%v|%s", r.taskViews(), r.deadlineViews(), r.notices.views(), r.notices.canStart(), r.closing.state())
}

// noticeViews are the broadcasts and letters the incident message lists.
func (r *response) noticeViews() []slackui.NoticeView { return r.notices.views() }

// noticeRefs are the broadcasts and broker demands for the status query.
func (r *response) noticeRefs() ([]BroadcastRef, []BrokerDemandRef) { return r.notices.refs() }

// obligationSummaries, taskStatuses and prevention are what the
// Incident's status query shows.
func (r *response) obligationSummaries() []ObligationSummary { return r.obligations.summaries() }
func (r *response) taskStatuses() []TaskStatus               { return r.tasks.statuses() }
func (r *response) prevention() *PreventionStatus {
	if r.closing.due.IsZero() {
		return nil
	}
	st := r.closing.status()
	return &st
}

// nextDeadline is the earliest open deadline, for SANextDeadline; zero
// when none.
func (r *response) nextDeadline() time.Time { return r.obligations.nextDeadline() }

// busy reports whether something is in flight that continue-as-new must
// wait for (child starts, signals, notices).
func (r *response) busy() bool {
	return r.obligations.busy() || r.sh.n.inflight > 0 || r.notices.busy()
}

// drain applies the obligations' progress already delivered; call it
// before continue-as-new and before close.
func (r *response) drain(ctx workflow.Context) {
	r.obligations.drain(ctx)
	r.notices.drain(ctx)
}

// snapshot is the state to carry over continue-as-new.
func (r *response) snapshot() *ResponseCarry {
	c := *r.carry
	return &c
}

// openObligations lists the obligations neither filed nor decided not
// required. Closing the incident while one is open leaves
// its Obligation running without an Incident to report to.
func (r *response) openObligations() []ObligationSummary {
	var out []ObligationSummary
	for _, s := range r.obligations.summaries() {
		if s.State.Open() {
			out = append(out, s)
		}
	}
	return out
}

// closeBlockers lists what is still open: obligations not filed nor
// decided, the prevention report, containment tasks. An Incident may
// refuse to close while it is not empty.
func (r *response) closeBlockers() []string {
	var out []string
	for _, s := range r.openObligations() {
		out = append(out, fmt.Sprintf("obligation %s is %s: record its filing, or have it decided not required", s.ObligationID, s.State))
	}
	if !r.closing.due.IsZero() && r.closing.carry.Report == nil {
		out = append(out, "the prevention report (due "+fmtAt(r.closing.due, r.sh.loc)+") is not recorded")
	}
	for _, t := range r.tasks.statuses() {
		if !t.Done {
			out = append(out, "task "+t.ID+" is open")
		}
	}
	bs, ds := r.notices.refs()
	for _, b := range bs {
		if b.State.inProgress() || b.State == BroadcastSubstitutePending {
			out = append(out, fmt.Sprintf("%s is %s (it goes on after the close)", b.WorkflowID, b.State))
		}
	}
	for _, d := range ds {
		if !d.State.Ended() && d.State != DemandNotStarted {
			out = append(out, fmt.Sprintf("letter %s is %s (it goes on after the close)", d.DemandID, d.State))
		}
	}
	return out
}

// close records the close and exports the record. Call it from the
// Incident when it closes, after its last change.
func (r *response) close(ctx workflow.Context, c CloseIncident) (activities.RecordResult, error) {
	// A notice or letter being started is recorded with its outcome.
	_ = workflow.Await(ctx, func() bool { return !r.notices.busy() })
	r.drain(ctx)
	now := workflow.Now(ctx)
	summary := "incident closed"
	if open := r.closeBlockers(); len(open) > 0 {
		summary += "; still open: " + strings.Join(open, "; ")
	}
	r.log(record.Entry{At: now, Kind: record.KindClosed, Actor: c.By, Reason: c.Reason, Summary: summary})
	req := activities.RecordRequest{Record: r.record(now, c)}
	_, _, req.Notices = r.notices.records()
	if rc := r.hooks.recall(); rc != nil && rc.Total > 0 {
		req.Recall = &activities.RecallSource{WorkflowIDPrefix: RecallWorkflowID(r.in.IncidentID, ""), Count: rc.Total, Query: QueryStatus}
		if r.hooks.closedHere != nil {
			if ch := r.hooks.closedHere(); ch != nil && len(ch.IDs) > 0 {
				req.Recall.ClosedByIncident = ch
			}
		}
	}
	return r.closing.export(ctx, req)
}

// record assembles the incident's record from every component.
func (r *response) record(now time.Time, c CloseIncident) record.Record {
	f := r.carry.Facts
	obs, obEntries := r.obligations.records()
	rec := record.Record{
		Version: record.Version, IncidentID: r.in.IncidentID, Title: f.Title,
		Runbook: r.in.Runbook.Runbook.ID, RunbookSHA256: r.in.Runbook.SHA256,
		DeclaredAt: r.carry.DeclaredAt, DeclaredBy: r.in.DeclaredBy,
		ClosedAt: now, ClosedBy: c.By, CloseReason: c.Reason, ExportedAt: now, TimeZone: r.zone(),
		Facts: record.Facts{Title: f.Title, WhatLeaked: f.WhatLeaked, Persons: f.Persons, AwareAt: f.AwareAt,
			UnauthorizedPurpose: f.Unauthorized, SensitiveOrFinancial: f.SensitiveOrFinancial, Jurisdictions: f.Jurisdictions},
		Obligations: obs, Tasks: r.tasks.records(), Prevention: r.closing.recordOf(),
		Timeline: append(append([]record.Entry{}, r.carry.Timeline...), obEntries...),
	}
	if rc := r.hooks.recall(); rc != nil {
		rec.Recall = &record.Recall{Counts: record.Counts(*rc)}
	}
	rec.Broadcasts, rec.BrokerDemands, _ = r.notices.records()
	rec.SortTimeline()
	return rec
}
