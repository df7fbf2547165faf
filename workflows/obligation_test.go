package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks/regimes"
	"github.com/breachflow/breachflow/workflows"
)

var roleMail *activities.RoleMailer

// jstAt is an instant in Tokyo.
func jstAt(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, tokyo)
}

// Seed 000's incident: discovered Thursday 2026-11-12 10:00 JST; a file
// with 53 members' personal and bank-account data.
var seedAware = jstAt(2026, 11, 12, 10, 0, 0)

func seedFacts(unauthorized bool) regimes.Facts {
	return regimes.Facts{AwareAt: seedAware, Persons: 53, Sensitive: true, FinancialHarm: true,
		UnauthorizedPurpose: unauthorized, Jurisdictions: []string{"JP-APPI"}}
}

// owedObligation evaluates the built-in regimes and returns one obligation.
func owedObligation(t *testing.T, f regimes.Facts, id string) regimes.Obligation {
	t.Helper()
	regs, err := regimes.Builtin()
	require.NoError(t, err)
	for _, o := range regimes.Obligations(f, regs, f.AwareAt) {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("%s is not owed", id)
	return regimes.Obligation{}
}

var incidentThread = activities.SlackMessageRef{Channel: "C0INCIDENT", TS: "1763000000.000100"}

func obligationInput(ob regimes.Obligation) workflows.ObligationInput {
	return workflows.ObligationInput{
		IncidentID: "INC-20261112-SEED00", Obligation: ob,
		Situation: reports.Situation{IncidentID: "INC-20261112-SEED00", AsOf: seedAware,
			Facts: reports.Facts{Title: "会員情報ファイルの誤送信", WhatLeaked: "氏名、口座情報", Persons: 53, AwareAt: seedAware, SensitiveOrFinancial: true}},
		Notify: []string{"privacy-officer", "legal"}, Escalate: []string{"management"},
		Thread: &incidentThread, DisplayZone: "Asia/Tokyo", Reason: "declared", By: "U0LEAD",
	}
}

// notified is one message breachflow sent: to "slack" or to a role.
type notified struct {
	at      time.Time
	to      string
	subject string
	text    string
}

// obOutbox records the notices activities were asked to send, and drafts
// reports with the real builder.
type obOutbox struct {
	mu   sync.Mutex
	list []notified
}

func mockStaffNotices(env *testsuite.TestWorkflowEnvironment) *obOutbox {
	o := &obOutbox{}
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.ThreadReply) error {
		o.add(notified{at: env.Now(), to: "slack", text: r.Text})
		return nil
	})
	env.OnActivity(roleMail.EmailRole, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.RoleMessage) (activities.RoleMailResult, error) {
		o.add(notified{at: env.Now(), to: m.Role, subject: m.Subject, text: m.Text})
		return activities.RoleMailResult{Role: m.Role, Sent: 1}, nil
	})
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(func(_ context.Context, req reports.Request) (reports.Draft, error) {
		return reports.Build(req)
	})
	return o
}

func (o *obOutbox) add(s notified) { o.mu.Lock(); defer o.mu.Unlock(); o.list = append(o.list, s) }

// to returns the instants messages went to one recipient whose subject
// starts with prefix (after the incident tag).
func (o *obOutbox) to(who, prefix string) []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Time
	for _, s := range o.list {
		subj := s.subject
		if i := strings.Index(subj, "] "); i >= 0 {
			subj = subj[i+2:]
		}
		if s.to == who && strings.HasPrefix(subj, prefix) {
			out = append(out, s.at.In(tokyo))
		}
	}
	return out
}

// obUpdates numbers the test's updates: each needs its own ID.
var obUpdates atomic.Int64

// obUpdate sends an Update and returns where its rejection will be.
func obUpdate(env *testsuite.TestWorkflowEnvironment, name string, arg any) *error {
	var rejected error
	env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, obUpdates.Add(1)), &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(err error) { rejected = err }, OnComplete: func(any, error) {},
	}, arg)
	return &rejected
}

// atInstant registers fn to run at an absolute instant of the test clock.
func atInstant(env *testsuite.TestWorkflowEnvironment, start, when time.Time, fn func()) {
	env.RegisterDelayedCallback(fn, when.Sub(start))
}

type obStep struct {
	kind record.Kind
	at   time.Time
	to   string
}

// obSteps are the timeline's entries of the given kinds.
func obSteps(st workflows.ObligationStatus, kinds ...record.Kind) []obStep {
	var out []obStep
	for _, e := range st.Timeline {
		if slices.Contains(kinds, e.Kind) {
			out = append(out, obStep{e.Kind, e.At.In(tokyo), strings.Join(e.To, " ")})
		}
	}
	return out
}

func obligationResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.ObligationStatus {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.ObligationStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	return st
}

const (
	notifyTo   = "slack privacy-officer legal"
	escalateTo = "slack privacy-officer legal management"
)

// The APPI 確報 is due 30 days from the day of awareness (day 1), 60 when
// the leak may have had an unauthorized purpose, at 23:59:59 JST; the
// regime reminds at D-10, D-5, D-2 and D-1 and escalates at D-3.
func TestObligation_APPIFinalClocksRemindAndEscalateAtTheRegimeInstantsJST(t *testing.T) {
	tests := []struct {
		name         string
		unauthorized bool
		deadline     time.Time
		reminders    [4]time.Time // D-10, D-5, D-2, D-1
		escalation   time.Time    // D-3
	}{
		{"30 days (Rule 8(2))", false, jstAt(2026, 12, 11, 23, 59, 59),
			[4]time.Time{jstAt(2026, 12, 1, 23, 59, 59), jstAt(2026, 12, 6, 23, 59, 59), jstAt(2026, 12, 9, 23, 59, 59), jstAt(2026, 12, 10, 23, 59, 59)},
			jstAt(2026, 12, 8, 23, 59, 59)},
		{"60 days: unauthorized purpose (Rule 7(3))", true, jstAt(2027, 1, 10, 23, 59, 59),
			[4]time.Time{jstAt(2026, 12, 31, 23, 59, 59), jstAt(2027, 1, 5, 23, 59, 59), jstAt(2027, 1, 8, 23, 59, 59), jstAt(2027, 1, 9, 23, 59, 59)},
			jstAt(2027, 1, 7, 23, 59, 59)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ob := owedObligation(t, seedFacts(tt.unauthorized), "JP-APPI/final")
			require.True(t, tt.deadline.Equal(ob.Deadline), "deadline %s", ob.Deadline)
			env := newEnv()
			start := seedAware.Add(time.Hour)
			env.SetStartTime(start)
			out := mockStaffNotices(env)
			filedAt := tt.deadline.Add(-12 * time.Hour)
			atInstant(env, start, filedAt, func() {
				obUpdate(env, workflows.UpdateRecordFiling, workflows.RecordFiling{FiledAt: filedAt, Reference: "PPC-2", Channel: "PPC web form", By: "U0DPO"})
			})

			env.ExecuteWorkflow(workflows.Obligation, obligationInput(ob))

			st := obligationResult(t, env)
			r := tt.reminders
			require.Equal(t, []obStep{
				{record.KindReminder, r[0], notifyTo},
				{record.KindReminder, r[1], notifyTo},
				{record.KindEscalation, tt.escalation, escalateTo},
				{record.KindReminder, r[2], notifyTo},
				{record.KindReminder, r[3], notifyTo},
				{record.KindFiled, filedAt, notifyTo},
			}, obSteps(st, record.KindReminder, record.KindEscalation, record.KindOverdue, record.KindFiled))
			require.Equal(t, r[:], out.to("legal", "Reminder"), "each reminder e-mailed to the notify roles")
			require.Equal(t, []time.Time{tt.escalation}, out.to("management", "Escalation"), "the escalation reaches management")
			require.Equal(t, workflows.ObligationFiled, st.State)
			require.False(t, st.Filing.Late)
			require.Equal(t, "U0DPO", st.Filing.By)
			require.True(t, tt.deadline.Equal(st.Filing.Due))
		})
	}
}

func TestObligation_DraftsTheNineItemsAndPostsThemForReviewAtOnce(t *testing.T) {
	env := newEnv()
	start := seedAware.Add(time.Hour)
	env.SetStartTime(start)
	out := mockStaffNotices(env)
	var st workflows.ObligationStatus
	atInstant(env, start, start.Add(time.Hour), func() {
		v, err := env.QueryWorkflow(workflows.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&st))
		obUpdate(env, workflows.UpdateRecordFiling, workflows.RecordFiling{FiledAt: env.Now(), Reference: "PPC-1", Channel: "PPC web form", By: "U0DPO"})
	})

	env.ExecuteWorkflow(workflows.Obligation, obligationInput(owedObligation(t, seedFacts(false), "JP-APPI/preliminary")))

	obligationResult(t, env)
	require.Equal(t, workflows.ObligationDrafted, st.State)
	require.Equal(t, "jp-appi-ppc", st.Draft.Template)
	for _, item := range []string{"(1) 概要", "(2) ", "(3) ", "(4) 原因", "(5) ", "(6) ", "(7) 公表", "(8) 再発防止", "(9) その他"} {
		require.Contains(t, st.Draft.Text, item)
	}
	require.Equal(t, []time.Time{start, start, start.Add(time.Hour)}, out.to("slack", ""), "opened, drafted and filed, once each in the thread")
	require.Len(t, out.to("legal", "Draft v1"), 1)
	out.mu.Lock()
	defer out.mu.Unlock()
	i := slices.IndexFunc(out.list, func(n notified) bool { return n.to == "slack" && strings.Contains(n.text, "Draft v1") })
	require.GreaterOrEqual(t, i, 0)
	require.Contains(t, out.list[i].text, "【下書き】漏えい等報告（速報）", "the draft itself is posted for review")
	require.Contains(t, out.list[i].text, "本人53人分", "from the facts and counts")
}

func TestObligation_OverdueIsEscalatedAndTheLatenessIsRecordedForGood(t *testing.T) {
	ob := owedObligation(t, seedFacts(false), "JP-APPI/final")
	deadline := ob.Deadline.In(tokyo)
	env := newEnv()
	start := seedAware.Add(time.Hour)
	env.SetStartTime(start)
	mockStaffNotices(env)
	var overdue workflows.ObligationStatus
	atInstant(env, start, deadline.Add(time.Hour), func() {
		v, err := env.QueryWorkflow(workflows.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&overdue))
	})
	filedAt := deadline.Add(38 * time.Hour)
	atInstant(env, start, filedAt.Add(time.Hour), func() {
		obUpdate(env, workflows.UpdateRecordFiling, workflows.RecordFiling{FiledAt: filedAt, Reference: "PPC-2", Channel: "PPC web form", By: "U0DPO"})
	})

	env.ExecuteWorkflow(workflows.Obligation, obligationInput(ob))

	st := obligationResult(t, env)
	require.Equal(t, workflows.ObligationOverdue, overdue.State)
	require.Len(t, overdue.Missed, 1)
	require.True(t, deadline.Equal(overdue.Missed[0].Due))
	require.Equal(t, []obStep{
		{record.KindOverdue, deadline, escalateTo},
		{record.KindEscalation, deadline.Add(24 * time.Hour), escalateTo},
		{record.KindFiled, filedAt.Add(time.Hour), notifyTo},
	}, obSteps(st, record.KindOverdue, record.KindEscalation, record.KindFiled)[1:],
		"the deadline's own escalation is the overdue notice; then daily until filed")
	require.Equal(t, workflows.ObligationFiled, st.State)
	require.True(t, st.Filing.Late)
	require.Equal(t, 38*time.Hour, st.Filing.Lateness)
	require.Equal(t, overdue.Missed, st.Missed, "the missed deadline stays in the record after filing")
	for _, e := range st.Timeline {
		if e.Kind == record.KindFiled {
			require.Contains(t, e.Summary, "1 day 14 hours late", "lateness in words")
			require.NotContains(t, e.Summary, "38h0m0s")
		}
	}
}

func TestObligation_DeadlineMovedByTheIncidentIsRecordedWithItsReason(t *testing.T) {
	thirty := owedObligation(t, seedFacts(false), "JP-APPI/final")
	sixty := owedObligation(t, seedFacts(true), "JP-APPI/final")
	env := newEnv()
	start := seedAware.Add(time.Hour)
	env.SetStartTime(start)
	mockStaffNotices(env)
	day20 := jstAt(2026, 12, 1, 10, 0, 0)
	atInstant(env, start, day20, func() {
		env.SignalWorkflow(workflows.SignalObligationRevision, workflows.ObligationRevision{Obligation: &sixty,
			Reason: "forensics: the file was taken on purpose (unauthorized purpose)", By: "U0DPO"})
	})
	filedAt := jstAt(2027, 1, 10, 12, 0, 0)
	atInstant(env, start, filedAt, func() {
		obUpdate(env, workflows.UpdateRecordFiling, workflows.RecordFiling{FiledAt: filedAt, Reference: "PPC-2", Channel: "PPC web form", By: "U0DPO"})
	})

	env.ExecuteWorkflow(workflows.Obligation, obligationInput(thirty))

	st := obligationResult(t, env)
	var moved record.Entry
	for _, e := range st.Timeline {
		if e.Kind == record.KindDeadlineMoved {
			moved = e
		}
	}
	require.Equal(t, "U0DPO", moved.Actor)
	require.Equal(t, "forensics: the file was taken on purpose (unauthorized purpose)", moved.Reason)
	require.True(t, day20.Equal(moved.At))
	require.Contains(t, moved.Summary, "due 2026-12-11 23:59 JST (30 days, anchor_day_is_day_1) → due 2027-01-10 23:59 JST (60 days, anchor_day_is_day_1)")
	require.Equal(t, []obStep{
		{record.KindReminder, jstAt(2026, 12, 31, 23, 59, 59), notifyTo},
		{record.KindReminder, jstAt(2027, 1, 5, 23, 59, 59), notifyTo},
		{record.KindEscalation, jstAt(2027, 1, 7, 23, 59, 59), escalateTo},
		{record.KindReminder, jstAt(2027, 1, 8, 23, 59, 59), notifyTo},
		{record.KindReminder, jstAt(2027, 1, 9, 23, 59, 59), notifyTo},
		{record.KindFiled, filedAt, notifyTo},
	}, obSteps(st, record.KindReminder, record.KindEscalation, record.KindOverdue, record.KindFiled),
		"the 30-day clock's D-10 (12-01 23:59:59), D-5 and deadline never fire")
	require.False(t, st.Filing.Late)
	require.True(t, sixty.Deadline.Equal(st.Deadline))
}

func TestObligation_RecordFilingIsValidated(t *testing.T) {
	ob := owedObligation(t, seedFacts(false), "JP-APPI/final")
	good := workflows.RecordFiling{FiledAt: seedAware.Add(2 * time.Hour), Reference: "PPC-2", Channel: "PPC web form", By: "U0DPO"}
	with := func(f func(*workflows.RecordFiling)) workflows.RecordFiling { r := good; f(&r); return r }
	tests := []struct {
		name   string
		filing workflows.RecordFiling
		err    string
	}{
		{"who", with(func(r *workflows.RecordFiling) { r.By = " " }), "needs who records it"},
		{"reference", with(func(r *workflows.RecordFiling) { r.Reference = "" }), "needs the reference"},
		{"channel", with(func(r *workflows.RecordFiling) { r.Channel = "" }), "needs how it was filed"},
		{"when", with(func(r *workflows.RecordFiling) { r.FiledAt = time.Time{} }), "needs when it was filed"},
		{"future", with(func(r *workflows.RecordFiling) { r.FiledAt = seedAware.Add(24 * time.Hour) }), "cannot be in the future"},
		{"before the breach was known", with(func(r *workflows.RecordFiling) { r.FiledAt = seedAware.Add(-time.Hour) }), "before the breach was known"},
		{"twice", good, "is already filed"},
	}
	env := newEnv()
	start := seedAware.Add(time.Hour)
	env.SetStartTime(start)
	mockStaffNotices(env)
	got := map[string]*error{}
	atInstant(env, start, start.Add(2*time.Hour), func() {
		for _, tt := range tests[:len(tests)-1] {
			got[tt.name] = obUpdate(env, workflows.UpdateRecordFiling, tt.filing)
		}
		require.NoError(t, *obUpdate(env, workflows.UpdateRecordFiling, good))
		got["twice"] = obUpdate(env, workflows.UpdateRecordFiling, good)
	})

	env.ExecuteWorkflow(workflows.Obligation, obligationInput(ob))

	st := obligationResult(t, env)
	for _, tt := range tests {
		require.ErrorContains(t, *got[tt.name], tt.err, tt.name)
	}
	require.Equal(t, "PPC-2", st.Filing.Reference)
	require.Len(t, obSteps(st, record.KindFiled), 1, "rejected updates leave nothing")
}

// An obligation nobody could assess (an unknown jurisdiction) is owed as a
// review by counsel; deciding it is not required takes two people, and
// the clocks run until the second one approves.
func TestObligation_NotRequiredNeedsASecondPersonsApproval(t *testing.T) {
	f := seedFacts(false)
	f.Jurisdictions = []string{"BR"}
	ob := owedObligation(t, f, "BR/review")
	env := newEnv()
	start := seedAware.Add(time.Hour)
	env.SetStartTime(start)
	mockStaffNotices(env)
	rejections := map[string]*error{}
	atInstant(env, start, start.Add(time.Hour), func() {
		rejections["review without proposal"] = obUpdate(env, workflows.UpdateReviewNotRequired, workflows.NotRequiredReview{By: "U0DPO", Approve: true})
		rejections["proposal without rationale"] = obUpdate(env, workflows.UpdateProposeNotRequired, workflows.NotRequiredProposal{By: "U0LEGAL"})
		require.NoError(t, *obUpdate(env, workflows.UpdateProposeNotRequired, workflows.NotRequiredProposal{By: "U0LEGAL", Rationale: "no member lives in Brazil (membership records)"}))
		rejections["second proposal"] = obUpdate(env, workflows.UpdateProposeNotRequired, workflows.NotRequiredProposal{By: "U0DPO", Rationale: "same"})
		rejections["own approval"] = obUpdate(env, workflows.UpdateReviewNotRequired, workflows.NotRequiredReview{By: "U0LEGAL", Approve: true})
		rejections["rejection without note"] = obUpdate(env, workflows.UpdateReviewNotRequired, workflows.NotRequiredReview{By: "U0DPO"})
	})
	atInstant(env, start, start.Add(13*time.Hour), func() {
		require.NoError(t, *obUpdate(env, workflows.UpdateReviewNotRequired, workflows.NotRequiredReview{By: "U0DPO", Approve: true, Note: "checked the records"}))
		rejections["approved twice"] = obUpdate(env, workflows.UpdateReviewNotRequired, workflows.NotRequiredReview{By: "U0CEO", Approve: true})
	})

	env.ExecuteWorkflow(workflows.Obligation, obligationInput(ob))

	st := obligationResult(t, env)
	for name, want := range map[string]string{
		"review without proposal":    "nobody has proposed",
		"proposal without rationale": "needs who proposes it and why",
		"second proposal":            "U0LEGAL proposed this already",
		"own approval":               "the proposer cannot approve or reject their own",
		"rejection without note":     "needs a note saying why",
		"approved twice":             "BR/review is already not required: proposed by U0LEGAL, approved by U0DPO",
	} {
		require.ErrorContains(t, *rejections[name], want, name)
	}
	require.Equal(t, workflows.ObligationNotRequired, st.State)
	require.Equal(t, &workflows.NotRequiredDecision{ProposedBy: "U0LEGAL", ProposedAt: start.Add(time.Hour), Rationale: "no member lives in Brazil (membership records)",
		ApprovedBy: "U0DPO", ApprovedAt: start.Add(13 * time.Hour), Note: "checked the records"}, decisionInTokyo(st.NotRequired))
	require.Equal(t, []obStep{
		{record.KindNotRequiredAsked, start.Add(time.Hour), escalateTo},
		{record.KindReminder, ob.Reminders[0].In(tokyo), notifyTo},
		{record.KindNotRequiredOK, start.Add(13 * time.Hour), escalateTo},
	}, obSteps(st, record.KindNotRequiredAsked, record.KindReminder, record.KindNotRequiredOK), "the reminder still goes out while approval is pending")
}

func decisionInTokyo(d *workflows.NotRequiredDecision) *workflows.NotRequiredDecision {
	c := *d
	c.ProposedAt, c.ApprovedAt = c.ProposedAt.In(tokyo), c.ApprovedAt.In(tokyo)
	return &c
}
