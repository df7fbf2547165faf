package workflows

// Internal tests of the response (checklist, obligations, daily report,
// close) as an Incident embeds it. hostIncident below is the smallest
// Incident that wires the response the way Incident must (see
// docs/obligations.md, "Wiring it into the Incident"): setup, start, a
// close update, close. Recall counts come from the test by signal.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
)

// Signals and queries of the test host.
const (
	// hostCounts carries the recall counts.
	hostCounts = "test_recall_counts"
	// hostContinue asks the host to continue as new.
	hostContinue = "test_continue_as_new"
	// hostViews returns hostView.
	hostViews = "test_views"
	// hostThread posts the incident message (with hostInput.LateThread).
	hostThread = "test_thread"
)

// hostInput starts the host: an incident, and what a previous run carried.
type hostInput struct {
	In     IncidentInput  `json:"in"`
	Carry  *ResponseCarry `json:"carry,omitempty"`
	Counts *RecallCounts  `json:"counts,omitempty"`
	// LateThread: the incident message exists only after hostThread.
	LateThread bool `json:"late_thread,omitempty"`
}

// hostView is what an Incident shows from its response.
type hostView struct {
	Facts        Facts                  `json:"facts"`
	Tasks        []slackui.TaskView     `json:"tasks"`
	Deadlines    []slackui.DeadlineView `json:"deadlines"`
	NextDeadline time.Time              `json:"next_deadline"`
	Blockers     []string               `json:"blockers"`
	ViewKey      string                 `json:"view_key"`
	Obligations  []ObligationSummary    `json:"obligations"`
	TaskStatuses []TaskStatus           `json:"task_statuses"`
	Prevention   *PreventionStatus      `json:"prevention"`
}

func hostIncident(ctx workflow.Context, hin hostInput) (activities.RecordResult, error) {
	in := hin.In
	counts := hin.Counts
	if counts == nil && in.WrongRecipients != nil {
		counts = &RecallCounts{Total: in.WrongRecipients.Count, Pending: in.WrongRecipients.Count}
	}
	thread := &activities.SlackMessageRef{Channel: in.SlackChannel, TS: "1763000000.000100"}
	if hin.LateThread {
		posted := thread
		thread = nil
		workflow.Go(ctx, func(ctx workflow.Context) {
			workflow.GetSignalChannel(ctx, hostThread).Receive(ctx, nil)
			thread = posted
		})
	}
	r := newResponse(in, hin.Carry, responseHooks{
		thread: func() *activities.SlackMessageRef { return thread },
		recall: func() *RecallCounts { return counts },
	})
	if err := r.setup(ctx); err != nil {
		return activities.RecordResult{}, err
	}
	var closed *CloseIncident
	if err := workflow.SetUpdateHandler(ctx, UpdateCloseIncident, func(ctx workflow.Context, c CloseIncident) error {
		closed = &c
		return nil
	}); err != nil {
		return activities.RecordResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, hostViews, func() (hostView, error) {
		return hostView{Facts: r.facts(), Tasks: r.taskViews(), Deadlines: r.deadlineViews(),
			NextDeadline: r.nextDeadline(), Blockers: r.closeBlockers(), ViewKey: r.viewKey(),
			Obligations: r.obligationSummaries(), TaskStatuses: r.taskStatuses(), Prevention: r.prevention()}, nil
	}); err != nil {
		return activities.RecordResult{}, err
	}
	ch := workflow.GetSignalChannel(ctx, hostCounts)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var c RecallCounts
			ch.Receive(ctx, &c)
			counts = &c
		}
	})
	cont := false
	workflow.Go(ctx, func(ctx workflow.Context) {
		workflow.GetSignalChannel(ctx, hostContinue).Receive(ctx, nil)
		cont = true
	})
	if err := r.start(ctx); err != nil {
		return activities.RecordResult{}, err
	}
	if err := workflow.Await(ctx, func() bool { return closed != nil || cont }); err != nil {
		return activities.RecordResult{}, err
	}
	if closed == nil {
		// Continue-as-new the way Incident must: drain, wait until
		// nothing is in flight, carry.
		r.drain(ctx)
		if err := workflow.Await(ctx, func() bool { return !r.busy() && workflow.AllHandlersFinished(ctx) }); err != nil {
			return activities.RecordResult{}, err
		}
		r.drain(ctx)
		return activities.RecordResult{}, workflow.NewContinueAsNewError(ctx, hostIncident, hostInput{In: in, Carry: r.snapshot(), Counts: counts})
	}
	return r.close(ctx, *closed)
}

var respTokyo, _ = time.LoadLocation("Asia/Tokyo")

func respJST(m time.Month, d, h, mi int) time.Time {
	return time.Date(2026, m, d, h, mi, 0, 0, respTokyo)
}

// Seed 000: declared Thursday 2026-11-12 10:00 JST, half an hour after the
// organisation became aware; 53 wrong recipients of a file with members'
// bank-account data.
var (
	respAware    = respJST(11, 12, 9, 30)
	respDeclared = respJST(11, 12, 10, 0)
)

// day is an instant of day n (day 1 = the declaration's day), JST.
func day(n, h, mi int) time.Time {
	return respDeclared.AddDate(0, 0, n-1).Add(time.Duration(h-10)*time.Hour + time.Duration(mi)*time.Minute)
}

func respInput(t *testing.T, jurisdictions ...string) IncidentInput {
	t.Helper()
	snap, err := runbooks.Builtin("missend")
	require.NoError(t, err)
	return IncidentInput{
		IncidentID: "INC-20261112-SEED00", Runbook: snap,
		Facts: Facts{Title: "会員情報ファイルの誤送信", WhatLeaked: "氏名、住所、口座情報", Persons: 53, AwareAt: respAware,
			SensitiveOrFinancial: true, Jurisdictions: jurisdictions},
		WrongRecipients: &recipients.ListRef{Location: "x", SHA256: "abc", Count: 53},
		DeclaredBy:      "U0LEAD", DeclaredAt: respDeclared, SlackChannel: "C0INCIDENT",
	}
}

// respPeople serves every list as seed 000's wrong recipients: 佐藤 美咲,
// 鈴木 健太 and 高橋 陽子 first, then 会員 N.
type respPeople struct{}

func (respPeople) Page(_ context.Context, ref recipients.ListRef, offset, limit int) ([]recipients.Recipient, error) {
	named := []recipients.Recipient{
		{Name: "佐藤 美咲", Kana: "サトウ ミサキ", Email: "misaki.sato@example.jp", Phone: "+819011112222", PostalCode: "060-0001", Address: "北海道札幌市中央区北1条西2丁目3-4"},
		{Name: "鈴木 健太", Kana: "スズキ ケンタ", Email: "kenta.suzuki@example.jp", Phone: "+819012345678"},
		{Name: "高橋 陽子", Kana: "タカハシ ヨウコ", Email: "yoko.takahashi@example.jp"},
	}
	var out []recipients.Recipient
	for k := offset; k < min(offset+limit, ref.Count); k++ {
		r := recipients.Recipient{Name: fmt.Sprintf("会員 %03d号", k+1)}
		if k < len(named) {
			r = named[k]
		}
		r.ID = recipients.RecipientID(k + 1)
		out = append(out, r)
	}
	return out, nil
}

// respSent is one message breachflow sent, to "slack" or a role.
type respSent struct {
	at      time.Time
	to      string
	subject string
	text    string
}

type respHarness struct {
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
	mu    sync.Mutex
	sent  []respSent
	// record is what the close asked the Recorder to write.
	record *activities.RecordRequest
}

func newRespHarness(t *testing.T, realRecorder *activities.Recorder) *respHarness {
	t.Helper()
	return newRespHarnessAt(t, realRecorder, respDeclared)
}

// newRespHarnessAt starts the test clock at start.
func newRespHarnessAt(t *testing.T, realRecorder *activities.Recorder, start time.Time) *respHarness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.SetDetachedChildWait(false)
	env.SetStartTime(start)
	Register(env)
	env.RegisterWorkflow(hostIncident)
	h := &respHarness{env: env, start: start}
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.ThreadReply) error {
		h.add(respSent{at: env.Now(), to: "slack", text: r.Text})
		return nil
	})
	env.OnActivity(roleMail.EmailRole, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.RoleMessage) (activities.RoleMailResult, error) {
		h.add(respSent{at: env.Now(), to: m.Role, subject: m.Subject, text: m.Text})
		return activities.RoleMailResult{Role: m.Role, Sent: 1}, nil
	})
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(func(_ context.Context, req reports.Request) (reports.Draft, error) {
		return reports.Build(req)
	})
	// The leak check itself, on the people of respPeople.
	checker := &activities.Notices{Lists: respPeople{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	env.OnActivity(noticeActs.CheckText, mock.Anything, mock.Anything).Return(checker.CheckText)
	if realRecorder != nil {
		env.RegisterActivity(realRecorder)
	} else {
		env.OnActivity(recorder.WriteRecord, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.RecordRequest) (activities.RecordResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.record = &req
			return activities.RecordResult{Entries: len(req.Record.Timeline)}, nil
		})
	}
	return h
}

func (h *respHarness) add(s respSent) { h.mu.Lock(); defer h.mu.Unlock(); h.sent = append(h.sent, s) }

// messages returns what went to one recipient, with text containing needle.
func (h *respHarness) messages(to, needle string) []respSent {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []respSent
	for _, s := range h.sent {
		if s.to == to && strings.Contains(s.subject+"\n"+s.text, needle) {
			out = append(out, s)
		}
	}
	return out
}

// at runs fn at an instant of the test clock.
func (h *respHarness) at(when time.Time, fn func()) {
	h.env.RegisterDelayedCallback(fn, when.Sub(h.start))
}

var respUpdates atomic.Int64

// update sends an Update to the host (workflowID "") or to a child and
// returns where its rejection will be (validators answer asynchronously).
func (h *respHarness) update(t *testing.T, workflowID, name string, arg any) *error {
	t.Helper()
	rejected := new(error)
	cb := &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { *rejected = err }, OnComplete: func(any, error) {}}
	id := fmt.Sprintf("%s-%d", name, respUpdates.Add(1))
	if workflowID == "" {
		h.env.UpdateWorkflow(name, id, cb, arg)
	} else {
		require.NoError(t, h.env.UpdateWorkflowByID(workflowID, name, id, cb, arg))
	}
	return rejected
}

func (h *respHarness) counts(c RecallCounts) { h.env.SignalWorkflow(hostCounts, c) }

func (h *respHarness) file(t *testing.T, obligationID, ref string, at time.Time) *error {
	t.Helper()
	return h.fileVia(t, obligationID, ref, "PPC web form", at)
}

func (h *respHarness) fileVia(t *testing.T, obligationID, ref, channel string, at time.Time) *error {
	t.Helper()
	return h.update(t, ObligationWorkflowID("INC-20261112-SEED00", obligationID), UpdateRecordFiling,
		RecordFiling{FiledAt: at, Reference: ref, Channel: channel, By: "U0DPO"})
}

func (h *respHarness) obligation(t *testing.T, id string) ObligationStatus {
	t.Helper()
	v, err := h.env.QueryWorkflowByID(ObligationWorkflowID("INC-20261112-SEED00", id), QueryStatus)
	require.NoError(t, err)
	var st ObligationStatus
	require.NoError(t, v.Get(&st))
	return st
}

func (h *respHarness) close(t *testing.T, at time.Time) {
	h.at(at, func() {
		h.update(t, "", UpdateCloseIncident, CloseIncident{By: "U0LEAD", Reason: "all 53 confirmed; prevention report submitted"})
	})
}

func (h *respHarness) done(t *testing.T) {
	t.Helper()
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
}

type entryAt struct {
	kind record.Kind
	at   time.Time
}

func entriesOf(es []record.Entry, kinds ...record.Kind) []entryAt {
	var out []entryAt
	for _, e := range es {
		if slices.Contains(kinds, e.Kind) {
			out = append(out, entryAt{e.Kind, e.At.In(respTokyo)})
		}
	}
	return out
}

func TestChecklist_RemindsAtTheRunbookOffsetsAndRecordsWhoDidWhat(t *testing.T) {
	h := newRespHarness(t, nil)
	var rejected []*error
	var accepted *error
	h.at(day(1, 12, 30), func() {
		rejected = append(rejected,
			h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "nope", By: "U0OPS"}),
			h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "stop-sending"}))
		accepted = h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "stop-sending", By: "U0OPS", Note: "send job disabled"})
		rejected = append(rejected, h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "stop-sending", By: "U0LEAD"}))
	})
	h.close(t, day(2, 12, 0))

	h.env.ExecuteWorkflow(hostIncident, hostInput{In: respInput(t)})

	h.done(t)
	require.NoError(t, *accepted)
	require.ErrorContains(t, *rejected[0], `no task "nope" in this incident's checklist (tasks: stop-sending, engage-counsel, open-contact-desk, monitor-secondary-harm)`)
	require.ErrorContains(t, *rejected[1], "needs who completed it")
	require.ErrorContains(t, *rejected[2], "already done by U0OPS at 2026-11-12 12:30 JST")

	var got []string
	for _, e := range h.record.Record.Timeline {
		if strings.HasPrefix(string(e.Kind), "task_") {
			got = append(got, fmt.Sprintf("%s %s %s %s [%s] %s", e.At.In(respTokyo).Format("01-02 15:04"), e.Kind, e.Subject, e.Actor, strings.Join(e.To, " "), e.Reason))
		}
	}
	require.Equal(t, []string{
		"11-12 11:00 task_reminder stop-sending breachflow [slack incident-lead] ",
		"11-12 12:00 task_due stop-sending breachflow [slack incident-lead] ",
		"11-12 12:30 task_completed stop-sending U0OPS [] send job disabled",
		"11-12 14:00 task_reminder engage-counsel breachflow [slack legal] ",
		"11-12 16:00 task_reminder open-contact-desk breachflow [slack support] ",
		"11-13 10:00 task_due engage-counsel breachflow [slack legal] ",
		"11-13 10:00 task_escalation engage-counsel breachflow [slack management legal] ",
		"11-13 10:00 task_due open-contact-desk breachflow [slack support] ",
	}, got, "stop-sending's 3h escalation is not sent: it was done")
	require.Len(t, h.messages("management", "engage-counsel"), 0, "task mails name the task by title, not ID")
	require.Len(t, h.messages("management", "Escalation: Consult counsel"), 1)
	task := h.record.Record.Tasks[0]
	require.Equal(t, record.Task{ID: "stop-sending", Title: "送信を止め、誤送信先と送られたファイルを特定する", TitleEn: "Stop the sending and identify the wrong recipients and the file sent",
		Owner: "incident-lead", Due: day(1, 12, 0), Done: true, DoneAt: day(1, 12, 30), DoneBy: "U0OPS", Note: "send job disabled"}, inJST(task))
}

func inJST(t record.Task) record.Task {
	t.Due, t.DoneAt = t.Due.In(respTokyo), t.DoneAt.In(respTokyo)
	return t
}

// Seed 000: a status report at 18:00 JST every day for the first week and
// until nearly everyone (98%) is confirmed, then only on days something
// changed; to the incident channel and management. Day 7's report: 53
// asked, 53 confirmed by phone, 52 also by e-mail, +1 since yesterday.
func TestDailyReport_DailyForAWeekThenOnlyWhenSomethingChanged(t *testing.T) {
	h := newRespHarness(t, nil)
	full := func(c RecallCounts) RecallCounts { c.Total, c.Requested = 53, 53; return c }
	h.at(day(1, 12, 0), func() { h.counts(full(RecallCounts{PhoneConfirmed: 40, EmailConfirmed: 30, Confirmed: 25})) })
	h.at(day(2, 12, 0), func() { h.counts(full(RecallCounts{PhoneConfirmed: 53, EmailConfirmed: 45, Confirmed: 45})) })
	h.at(day(3, 12, 0), func() { h.counts(full(RecallCounts{PhoneConfirmed: 53, EmailConfirmed: 51, Confirmed: 51})) })
	h.at(day(7, 12, 0), func() { h.counts(full(RecallCounts{PhoneConfirmed: 53, EmailConfirmed: 52, Confirmed: 52})) })
	// Day 10: the last member's deletion is confirmed by post; an operator closes them.
	h.at(day(10, 12, 0), func() {
		h.counts(full(RecallCounts{PhoneConfirmed: 53, EmailConfirmed: 52, Confirmed: 52, ClosedByOperator: 1}))
	})
	h.at(day(1, 11, 0), func() {
		h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "stop-sending", By: "U0OPS"})
		h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "engage-counsel", By: "U0LEGAL"})
		h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "open-contact-desk", By: "U0SUP"})
		h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "monitor-secondary-harm", By: "U0SEC"})
	})
	h.at(day(2, 11, 0), func() { h.file(t, "JP-APPI/preliminary", "PPC-1", day(2, 10, 30)) })
	h.at(day(2, 11, 0), func() { h.file(t, "JP-APPI/individual_notice", "BC-1", day(2, 10, 0)) })
	h.at(day(12, 11, 0), func() { h.file(t, "JP-APPI/final", "PPC-2", day(12, 10, 30)) })
	h.close(t, day(15, 12, 0))

	h.env.ExecuteWorkflow(hostIncident, hostInput{In: respInput(t)})

	h.done(t)
	var sent, skipped []int
	for _, e := range h.record.Record.Timeline {
		d := int(e.At.Sub(respDeclared).Hours()/24) + 1
		switch e.Kind {
		case record.KindDailyReport:
			require.Equal(t, "18:00", e.At.In(respTokyo).Format("15:04"))
			require.Equal(t, []string{"slack", "management", "affected"}, e.To)
			require.Contains(t, e.Outcome, "affected: not sent — the affected have not been notified yet (start_broadcast first)",
				"no report reaches the affected before the notice itself, and the record says so")
			sent = append(sent, d)
		case record.KindDailyReportSkipped:
			skipped = append(skipped, d)
		case record.KindDailyReportsEnded:
			t.Fatal("then_on_change_only: reports never end")
		}
	}
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 10, 12}, sent, "days 1-7; then day 10 (closed by post) and day 12 (final report filed)")
	require.Equal(t, []int{8, 9, 11, 13, 14}, skipped)
	require.Len(t, h.messages("management", "日次報告"), 9, "each report e-mailed to management")

	day7 := h.messages("slack", "第7日")
	require.Len(t, day7, 1)
	for _, want := range []string{
		"【日次報告】INC-20261112-SEED00 会員情報ファイルの誤送信 — 第7日（2026年11月18日(水) 18:00 時点）",
		"・依頼済み 53（+0）", "・電話で削除確認 53（+0）", "・メールで削除確認 52（+1）", "・確認完了 52（+1）",
		"・JP-APPI/preliminary 速報 (preliminary report) → 個人情報保護委員会 (PPC): 提出済み、提出 2026年11月13日(金) 10:30",
		"・JP-APPI/final 確報 (final report) → 個人情報保護委員会 (PPC): 下書き済み、期限 2026年12月11日(金) 23:59（残り23日6時間）",
		"■ 初動対応タスク: 完了 4 / 4",
		"■ 前回の報告からの変化\n・メールで削除確認 +1\n・確認完了 +1\n",
		"[Daily report] INC-20261112-SEED00 会員情報ファイルの誤送信 — day 7 (as of 2026-11-18 18:00 JST)",
		"- confirmed by e-mail 52 (+1)",
		"- JP-APPI/final 確報 (final report) → 個人情報保護委員会 (PPC): drafted, due 2026-12-11 23:59 JST (23 days 6 hours left)",
	} {
		require.Contains(t, day7[0].text, want)
	}
	require.Contains(t, h.messages("slack", "第10日")[0].text, "■ 前回の報告からの変化\n・個別対応で完了 +1\n")
	require.Contains(t, h.messages("slack", "第12日")[0].text, "・JP-APPI/final: 下書き済み → 提出済み")
	require.Contains(t, h.messages("slack", "day 12 ")[0].text, "- JP-APPI/final: drafted → filed")
}

// Day 20: forensics find the file was taken on purpose. The facts change
// (update_facts); the APPI 確報 is re-evaluated under Rule 7(3): 60 days
// from the same day 1, so the deadline moves from 2026-12-11 to
// 2027-01-10, recorded with who changed the facts and why; the 30-day
// clock's reminders never fire.
func TestFactsChange_UnauthorizedPurposeFoundOnDay20MovesTheFinalReportToDay60(t *testing.T) {
	h := newRespHarness(t, nil)
	day20 := day(20, 10, 0)
	changed := respInput(t).Facts
	changed.Unauthorized = true
	var rejected *error
	var moved ObligationStatus
	var told any // what the responder who changed the facts is shown
	h.at(day20, func() {
		rejected = h.update(t, "", UpdateFacts, FactsChange{Facts: respInput(t).Facts, Reason: "nothing", By: "U0DPO"})
		h.env.UpdateWorkflow(UpdateFacts, "facts-day-20", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(error) {},
			OnComplete: func(res any, err error) { require.NoError(t, err); told = res }},
			FactsChange{Facts: changed, Reason: "forensics: the file was taken on purpose", By: "U0DPO"})
	})
	h.at(day(21, 10, 0), func() { moved = h.obligation(t, "JP-APPI/final") })
	h.at(day(2, 11, 0), func() { h.file(t, "JP-APPI/preliminary", "PPC-1", day(2, 10, 30)) })
	h.at(day(58, 11, 0), func() { h.file(t, "JP-APPI/final", "PPC-2", day(58, 10, 30)) })
	h.close(t, day(59, 12, 0))

	h.env.ExecuteWorkflow(hostIncident, hostInput{In: respInput(t)})

	h.done(t)
	require.ErrorContains(t, *rejected, "the new facts are the same as the current ones")
	require.True(t, time.Date(2027, 1, 10, 23, 59, 59, 0, respTokyo).Equal(moved.Deadline), "day 60: %s", moved.Deadline)
	// The update's answer already shows the moved deadline, not the one
	// the child had last reported (`starter facts change` printed the 30
	// days).
	var obs []ObligationSummary
	p, err := converter.GetDefaultDataConverter().ToPayload(told)
	require.NoError(t, err)
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &obs))
	fi := slices.IndexFunc(obs, func(o ObligationSummary) bool { return o.ObligationID == "JP-APPI/final" })
	require.GreaterOrEqual(t, fi, 0, "the facts change answers with the obligations")
	require.True(t, moved.Deadline.Equal(obs[fi].Due), "told due %s, want %s", obs[fi].Due.In(respTokyo), moved.Deadline)
	require.True(t, obs[fi].Hard)
	require.Equal(t, "60 days, anchor_day_is_day_1", moved.Clock)
	i := slices.IndexFunc(moved.Timeline, func(e record.Entry) bool { return e.Kind == record.KindDeadlineMoved })
	require.GreaterOrEqual(t, i, 0)
	m := moved.Timeline[i]
	require.Equal(t, "U0DPO", m.Actor)
	require.Equal(t, "facts changed: forensics: the file was taken on purpose", m.Reason)
	require.True(t, day20.Equal(m.At))

	var reminders []string
	for _, s := range h.messages("legal", "Reminder: JP-APPI/final") {
		reminders = append(reminders, s.at.In(respTokyo).Format("2006-01-02 15:04:05"))
	}
	require.Equal(t, []string{"2026-12-31 23:59:59", "2027-01-05 23:59:59"}, reminders,
		"the 60-day D-10 and D-5 (filed before D-2); never the 30-day D-10 (2026-12-01) nor D-5 (2026-12-06)")

	rec := h.record.Record
	i = slices.IndexFunc(rec.Timeline, func(e record.Entry) bool { return e.Kind == record.KindFactsChanged })
	require.Equal(t, record.Entry{At: day20, Kind: record.KindFactsChanged, Actor: "U0DPO", Reason: "forensics: the file was taken on purpose",
		Summary: "unauthorized purpose: false → true"}, withAt(rec.Timeline[i], day20))
	final := rec.Obligations[slices.IndexFunc(rec.Obligations, func(o record.Obligation) bool { return o.ID == "JP-APPI/final" })]
	require.Equal(t, "filed", final.State)
	require.False(t, final.Filing.Late)
}

// withAt returns e with At replaced when it is the same instant as at
// (times come back from history in another location).
func withAt(e record.Entry, at time.Time) record.Entry {
	if e.At.Equal(at) {
		e.At = at
	}
	return e
}

// Nothing is dropped when the facts change: an obligation the rules no
// longer list is told so and stays open, until two people decide it is
// not required. Here the declarer named Brazil, whose law breachflow does
// not hold (a review for counsel); on day 2 Brazil is removed from the
// facts.
func TestFactsChange_NeverDropsAnObligation(t *testing.T) {
	h := newRespHarness(t, nil)
	noBrazil := respInput(t, "JP-APPI", "BR").Facts
	noBrazil.Jurisdictions = []string{"JP-APPI"}
	review := ObligationWorkflowID("INC-20261112-SEED00", "BR/review")
	var after ObligationStatus
	var ownApproval *error
	h.at(day(2, 10, 0), func() {
		h.update(t, "", UpdateFacts, FactsChange{Facts: noBrazil, Reason: "no member lives in Brazil", By: "U0LEGAL"})
	})
	h.at(day(2, 11, 0), func() {
		after = h.obligation(t, "BR/review")
		h.update(t, review, UpdateProposeNotRequired, NotRequiredProposal{By: "U0LEGAL", Rationale: "membership records: no address in Brazil"})
		ownApproval = h.update(t, review, UpdateReviewNotRequired, NotRequiredReview{By: "U0LEGAL", Approve: true})
	})
	h.at(day(2, 15, 0), func() {
		h.update(t, review, UpdateReviewNotRequired, NotRequiredReview{By: "U0DPO", Approve: true})
	})
	h.close(t, day(3, 12, 0))

	h.env.ExecuteWorkflow(hostIncident, hostInput{In: respInput(t, "JP-APPI", "BR")})

	h.done(t)
	require.Equal(t, ObligationOverdue, after.State, "still open after the facts change (and past its 24-hour target)")
	require.Equal(t, "facts changed: no member lives in Brazil", after.NoLongerOwed)
	require.ErrorContains(t, *ownApproval, "proposer cannot approve")
	rec := h.record.Record
	var ids []string
	for _, o := range rec.Obligations {
		ids = append(ids, o.ID+" "+o.State)
	}
	require.Equal(t, []string{"BR/review not_required", "JP-APPI/preliminary drafted", "JP-APPI/final drafted", "JP-APPI/individual_notice drafted"}, ids)
	br := rec.Obligations[0]
	require.Equal(t, "facts changed: no member lives in Brazil", br.NoLongerOwed)
	require.Equal(t, "U0LEGAL", br.NotRequired.ProposedBy)
	require.Equal(t, "U0DPO", br.NotRequired.ApprovedBy)
	require.Equal(t, []entryAt{{record.KindNoLongerOwed, day(2, 10, 0)}, {record.KindNotRequiredAsked, day(2, 11, 0)}, {record.KindNotRequiredOK, day(2, 15, 0)}},
		entriesOf(rec.Timeline, record.KindNoLongerOwed, record.KindNotRequiredAsked, record.KindNotRequiredOK))
	i := slices.IndexFunc(rec.Timeline, func(e record.Entry) bool { return e.Kind == record.KindClosed })
	require.Contains(t, rec.Timeline[i].Summary, "still open: obligation JP-APPI/preliminary is drafted", "closing with open obligations is recorded as such")
}

// recallStatuses answers the Recall workflows' status queries with seed
// 000's outcome: every member asked by e-mail and phone and confirmed by
// phone the first afternoon; 52 also by e-mail; the last one's deletion
// confirmed by post, closed by an operator.
type recallStatuses struct{ mu sync.Mutex }

func seedRecall(k int) RecallStatus {
	id := recipients.RecipientID(k)
	st := RecallStatus{RecipientID: id, State: StateConfirmed,
		Attempts: []Attempt{
			{Channel: runbooks.ChannelEmail, N: 1, At: day(1, 10, 5), MessageID: "sg-" + id, Outcome: "sent"},
			{Channel: runbooks.ChannelVoice, N: 1, At: day(1, 10, 10), MessageID: "CA-" + id, Outcome: "completed"},
		},
		Confirmations: []ConfirmationRecord{{Channel: runbooks.ConfirmPhone, At: day(1, 13, 0),
			Evidence: Evidence{Source: "voice", CallSID: "CA-" + id, Digits: "1", ReceivedAt: day(1, 13, 0)}}},
		Events: []DeliveryEvent{},
	}
	if k == 53 {
		st.State, st.ClosedBy, st.Reason = StateClosedByOperator, "U0OPS", "deletion confirmed by post"
		return st
	}
	st.Confirmations = append(st.Confirmations, ConfirmationRecord{Channel: runbooks.ConfirmEmail, At: day(1+k%3, 16, 0),
		Evidence: Evidence{Source: "link", ReceivedAt: day(1+k%3, 16, 0)}})
	return st
}

func (q *recallStatuses) QueryWorkflow(_ context.Context, workflowID, _, queryType string, _ ...any) (converter.EncodedValue, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var k int
	if _, err := fmt.Sscanf(workflowID, "INC-20261112-SEED00/recall/R%05d", &k); err != nil || queryType != QueryStatus || k < 1 || k > 53 {
		return nil, fmt.Errorf("unexpected query %s %s", queryType, workflowID)
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(seedRecall(k))
	if err != nil {
		return nil, err
	}
	return client.NewValue(p), nil
}

// A finished seed-000-like incident is exported at close: the record the
// activity writes, read back, holds every decision, send, confirmation
// and filing with who and when.
func TestClose_ExportsTheWholeTimelineOfASeed000Incident(t *testing.T) {
	dir := t.TempDir()
	h := newRespHarness(t, &activities.Recorder{Dir: dir, Workflows: &recallStatuses{}})
	final := RecallCounts{Total: 53, Requested: 53, PhoneConfirmed: 53, EmailConfirmed: 52, Confirmed: 52, ClosedByOperator: 1}
	h.at(day(1, 14, 0), func() {
		h.counts(RecallCounts{Total: 53, Requested: 53, PhoneConfirmed: 53, EmailConfirmed: 17, Confirmed: 17})
	})
	h.at(day(4, 12, 0), func() { h.counts(final) })
	h.at(day(1, 11, 0), func() {
		h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "stop-sending", By: "U0OPS", Note: "sending job stopped"})
	})
	h.at(day(1, 15, 0), func() { h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "engage-counsel", By: "U0LEGAL"}) })
	h.at(day(1, 17, 0), func() { h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "open-contact-desk", By: "U0SUP"}) })
	h.at(day(7, 10, 0), func() {
		h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "monitor-secondary-harm", By: "U0SEC"})
	})
	h.at(day(2, 15, 30), func() { h.file(t, "JP-APPI/preliminary", "PPC-2026-0001", day(2, 15, 0)) })
	h.at(day(2, 10, 0), func() { h.fileVia(t, "JP-APPI/individual_notice", "MAIL-1", "e-mail to every member", day(2, 9, 0)) })
	h.at(day(20, 16, 0), func() { h.file(t, "JP-APPI/final", "PPC-2026-0002", day(20, 15, 0)) })
	h.at(day(50, 10, 30), func() {
		h.update(t, "", UpdateRecordPreventionReport, PreventionReport{By: "U0DPO", Reference: "DOC-2026-12", SubmittedAt: day(50, 10, 0)})
	})
	h.close(t, day(56, 12, 0))

	h.env.ExecuteWorkflow(hostIncident, hostInput{In: respInput(t)})

	h.done(t)
	var res activities.RecordResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	b, err := os.ReadFile(res.JSONFile)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	require.Equal(t, hex.EncodeToString(sum[:]), res.JSONSHA256)
	var rec record.Record
	require.NoError(t, json.Unmarshal(b, &rec))

	// The incident.
	require.Equal(t, "INC-20261112-SEED00", rec.IncidentID)
	require.Equal(t, "missend", rec.Runbook)
	require.NotEmpty(t, rec.RunbookSHA256)
	require.Equal(t, "U0LEAD", rec.DeclaredBy)
	require.True(t, respDeclared.Equal(rec.DeclaredAt))
	require.Equal(t, "U0LEAD", rec.ClosedBy)
	require.Equal(t, "all 53 confirmed; prevention report submitted", rec.CloseReason)
	require.True(t, day(56, 12, 0).Equal(rec.ClosedAt))
	require.Equal(t, "Asia/Tokyo", rec.TimeZone)
	require.Equal(t, record.Facts{Title: "会員情報ファイルの誤送信", WhatLeaked: "氏名、住所、口座情報", Persons: 53, AwareAt: rec.Facts.AwareAt,
		SensitiveOrFinancial: true}, rec.Facts)
	require.True(t, respAware.Equal(rec.Facts.AwareAt))

	// Obligations and filings: who, when, which reference, on time.
	type filing struct {
		id, state, by, ref, channel string
		filedAt                     time.Time
		late                        bool
	}
	var filings []filing
	for _, o := range rec.Obligations {
		require.NotNil(t, o.Filing, o.ID)
		filings = append(filings, filing{o.ID, o.State, o.Filing.By, o.Filing.Reference, o.Filing.Channel, o.Filing.FiledAt.In(respTokyo), o.Filing.Late})
	}
	require.Equal(t, []filing{
		{"JP-APPI/preliminary", "filed", "U0DPO", "PPC-2026-0001", "PPC web form", day(2, 15, 0), false},
		{"JP-APPI/final", "filed", "U0DPO", "PPC-2026-0002", "PPC web form", day(20, 15, 0), false},
		{"JP-APPI/individual_notice", "filed", "U0DPO", "MAIL-1", "e-mail to every member", day(2, 9, 0), false},
	}, filings)
	require.Equal(t, "個人情報の保護に関する法律施行規則 第8条第2項 (「当該事態を知った日から三十日以内（…第三号…六十日以内）」)", rec.Obligations[1].Source)
	require.True(t, time.Date(2026, 12, 11, 23, 59, 59, 0, respTokyo).Equal(rec.Obligations[1].Deadline))

	// Containment tasks: who did each and when.
	var done []string
	for _, task := range rec.Tasks {
		require.True(t, task.Done, task.ID)
		done = append(done, fmt.Sprintf("%s %s %s", task.ID, task.DoneBy, task.DoneAt.In(respTokyo).Format("01-02 15:04")))
	}
	require.Equal(t, []string{"stop-sending U0OPS 11-12 11:00", "engage-counsel U0LEGAL 11-12 15:00",
		"open-contact-desk U0SUP 11-12 17:00", "monitor-secondary-harm U0SEC 11-18 10:00"}, done)

	// The prevention report: due 60 days after the declaration.
	require.True(t, respDeclared.AddDate(0, 0, 60).Equal(rec.Prevention.Due))
	require.Equal(t, "U0DPO", rec.Prevention.By)
	require.Equal(t, "DOC-2026-12", rec.Prevention.Reference)
	require.True(t, day(50, 10, 0).Equal(rec.Prevention.SubmittedAt))

	// The recall: counts, and every recipient's requests and confirmations from their Recall.
	require.Equal(t, record.Counts(final), rec.Recall.Counts)
	require.Len(t, rec.Recall.Recipients, 53)
	last := rec.Recall.Recipients[52]
	require.Equal(t, "R00053", last.RecipientID)
	require.Equal(t, "closed_by_operator", last.State)
	require.Equal(t, "U0OPS", last.ClosedBy)
	require.Equal(t, "deletion confirmed by post", last.Reason)
	require.Equal(t, "CA-R00001", rec.Recall.Recipients[0].Confirmations[0].Evidence.CallSID)

	// The timeline: in time order, from the declaration to the close.
	tl := rec.Timeline
	require.True(t, slices.IsSortedFunc(tl, func(a, b record.Entry) int { return a.At.Compare(b.At) }))
	require.Equal(t, record.KindDeclared, tl[0].Kind)
	require.Equal(t, "U0LEAD", tl[0].Actor)
	require.Equal(t, record.KindClosed, tl[len(tl)-1].Kind)
	require.Equal(t, "U0LEAD", tl[len(tl)-1].Actor)
	require.Equal(t, "incident closed", tl[len(tl)-1].Summary, "nothing left open")
	count := map[record.Kind]int{}
	actors := map[record.Kind][]string{}
	for _, e := range tl {
		count[e.Kind]++
		if e.Actor != record.System && !slices.Contains(actors[e.Kind], e.Actor) {
			actors[e.Kind] = append(actors[e.Kind], e.Actor)
		}
	}
	require.Equal(t, 106, count[record.KindRecallRequest], "53 e-mails and 53 calls")
	require.Equal(t, 105, count[record.KindRecallConfirmation], "53 by phone, 52 by e-mail")
	require.Equal(t, 3, count[record.KindObligationOpened])
	require.Equal(t, 3, count[record.KindFiled])
	require.Equal(t, []string{"U0DPO"}, actors[record.KindFiled])
	require.Equal(t, []string{"U0OPS", "U0LEGAL", "U0SUP", "U0SEC"}, actors[record.KindTaskCompleted])
	require.Equal(t, 1, count[record.KindPreventionRecorded])
	require.Equal(t, []entryAt{{record.KindPreventionReminder, respDeclared.AddDate(0, 0, 46)}}, entriesOf(tl, record.KindPreventionReminder),
		"14 days before it is due; recorded before the 7-day reminder")
	var reportDays []int
	for _, e := range tl {
		if e.Kind == record.KindDailyReport {
			reportDays = append(reportDays, int(e.At.Sub(respDeclared).Hours()/24)+1)
		}
	}
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 20, 50}, reportDays, "days 1-7; then the days the final report and the prevention report were filed")
	i := slices.IndexFunc(tl, func(e record.Entry) bool { return e.Kind == record.KindFiled && e.Subject == "JP-APPI/final" })
	require.Equal(t, "PPC-2026-0002", tl[i].Reference)
	require.Equal(t, "U0DPO", tl[i].Actor)
	require.True(t, day(20, 16, 0).Equal(tl[i].At), "recorded at")

	md, err := os.ReadFile(res.MarkdownFile)
	require.NoError(t, err)
	for _, want := range []string{
		"# Incident record INC-20261112-SEED00 — 会員情報ファイルの誤送信",
		"| JP-APPI/final 確報 (final report) | 個人情報保護委員会 (PPC) | 2026-12-11 23:59 JST | filed | 2026-12-01 15:00 JST via PPC web form | PPC-2026-0002 | U0DPO | no |",
		"Due 2027-01-11 10:00 JST; submitted 2026-12-31 10:00 JST by U0DPO, reference DOC-2026-12.",
		"| R00053 | closed_by_operator |",
		"| 53 | 53 | 53 | 52 | 52 | 0 | 1 | 0 |",
	} {
		require.Contains(t, string(md), want)
	}
}

// Continue-as-new carries the response: the second run neither declares
// again nor re-opens the obligations, numbers its reports on, and sends
// no reminder twice.
func TestResponse_ContinueAsNewCarriesEverything(t *testing.T) {
	h := newRespHarness(t, nil)
	h.at(day(1, 11, 0), func() { h.update(t, "", UpdateCompleteTask, CompleteTask{TaskID: "stop-sending", By: "U0OPS"}) })
	var view hostView
	canAt := day(3, 12, 0)
	h.at(canAt, func() {
		v, err := h.env.QueryWorkflow(hostViews)
		require.NoError(t, err)
		require.NoError(t, v.Get(&view))
		h.env.SignalWorkflow(hostContinue, nil)
	})

	h.env.ExecuteWorkflow(hostIncident, hostInput{In: respInput(t)})

	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, h.env.GetWorkflowError(), &can)
	var next hostInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Carry)
	require.Len(t, next.Carry.Obligations.Items, 3)

	require.Equal(t, "会員情報ファイルの誤送信", view.Facts.Title)
	require.Equal(t, []slackui.TaskView{
		{ID: "stop-sending", Title: "送信を止め、誤送信先と送られたファイルを特定する / Stop the sending and identify the wrong recipients and the file sent", Owner: "incident-lead", Due: view.Tasks[0].Due, Done: true},
		{ID: "engage-counsel", Title: "弁護士に相談し、削除依頼と削除確認の手順を決める / Consult counsel and agree the deletion request and confirmation procedure", Owner: "legal", Due: view.Tasks[1].Due},
	}, view.Tasks[:2])
	var deadlines []string
	for _, d := range view.Deadlines {
		due := "promptly"
		if !d.Due.IsZero() {
			due = d.Due.In(respTokyo).Format("01-02 15:04")
		}
		deadlines = append(deadlines, fmt.Sprintf("%s %s %s %s", d.ObligationID, d.WorkflowID, d.State, due))
	}
	require.Equal(t, []string{
		"JP-APPI/preliminary INC-20261112-SEED00/obligation/JP-APPI/preliminary drafted 11-15 09:30",
		"JP-APPI/final INC-20261112-SEED00/obligation/JP-APPI/final drafted 12-11 23:59",
		"JP-APPI/individual_notice INC-20261112-SEED00/obligation/JP-APPI/individual_notice drafted promptly",
	}, deadlines, "a prompt duty without a target has no due time (zero)")
	require.True(t, respJST(11, 15, 9, 30).Equal(view.NextDeadline), "the preliminary report's target")
	require.Len(t, view.Obligations, 3)
	require.Equal(t, "JP-APPI/final", view.Obligations[1].ObligationID)
	require.True(t, view.TaskStatuses[0].Done)
	require.Equal(t, "U0OPS", view.TaskStatuses[0].DoneBy)
	require.True(t, respDeclared.AddDate(0, 0, 60).Equal(view.Prevention.Due))
	require.Nil(t, view.Prevention.Report)
	require.Contains(t, view.ViewKey, "JP-APPI/final")
	require.Equal(t, []string{
		"obligation JP-APPI/preliminary is drafted: record its filing, or have it decided not required",
		"obligation JP-APPI/final is drafted: record its filing, or have it decided not required",
		"obligation JP-APPI/individual_notice is drafted: record its filing, or have it decided not required",
		"the prevention report (due 2027-01-11 10:00 JST) is not recorded",
		"task engage-counsel is open", "task open-contact-desk is open", "task monitor-secondary-harm is open",
	}, view.Blockers)

	h2 := newRespHarnessAt(t, nil, canAt)
	h2.close(t, day(9, 12, 0))
	h2.env.ExecuteWorkflow(hostIncident, next)

	h2.done(t)
	tl := h2.record.Record.Timeline
	count := map[string]int{}
	var reports []string
	for _, e := range tl {
		count[string(e.Kind)+" "+e.Subject]++
		if e.Kind == record.KindDailyReport {
			reports = append(reports, e.Summary[:strings.Index(e.Summary, " (")])
		}
	}
	require.Equal(t, 1, count["declared "])
	require.Equal(t, 1, count["obligation_opened JP-APPI/final"], "not re-opened")
	require.Equal(t, 1, count["task_reminder stop-sending"])
	require.Equal(t, 2, count["task_reminder monitor-secondary-harm"], "at 2d (first run) and 5d (second run), once each")
	require.Equal(t, 1, count["task_due monitor-secondary-harm"])
	require.Equal(t, []string{"day 1 report #1", "day 2 report #2", "day 3 report #3", "day 4 report #4", "day 5 report #5",
		"day 6 report #6", "day 7 report #7", "day 8 report #8"}, reports)
}

// Obligations open at the declaration, before the Incident has posted its
// message: what they announced reaches the channel once it exists.
func TestResponse_ObligationsAnnounceInTheChannelOnceItExists(t *testing.T) {
	h := newRespHarness(t, nil)
	var before ObligationStatus
	h.at(day(1, 10, 1), func() {
		before = h.obligation(t, "JP-APPI/final")
		h.env.SignalWorkflow(hostThread, nil)
	})
	h.close(t, day(1, 12, 0))

	h.env.ExecuteWorkflow(hostIncident, hostInput{In: respInput(t), LateThread: true})

	h.done(t)
	require.Equal(t, "slack: no incident message; privacy-officer: 1 sent; legal: 1 sent", before.Timeline[0].Outcome)
	posted := h.messages("slack", "📋 Legal obligation: JP-APPI/final")
	require.Len(t, posted, 1)
	require.True(t, day(1, 10, 1).Equal(posted[0].at))
	require.Contains(t, posted[0].text, "【下書き】漏えい等報告（確報）", "with the draft made before")
}

// The unauthorized purpose's found-at time (update_facts): 500 people, no
// sensitive data, so nothing is owed until forensics find, on day 20, that
// the data was taken on purpose; the finding is recorded on day 25. The
// APPI reports are owed from the finding (Rule 7(3)), so the 60-day 確報
// counts from day 20 when the time of the finding is given, and from the
// update (day 25) when it is not. A found-at time in the future, before
// the organisation became aware, or without the unauthorized purpose is
// refused.
func TestFactsChange_UnauthorizedPurposeFoundAtMovesTheDeadline(t *testing.T) {
	quiet := respInput(t, "JP-APPI")
	quiet.Facts.Persons, quiet.Facts.SensitiveOrFinancial = 500, false
	found := quiet.Facts
	found.Unauthorized = true
	for _, tc := range []struct {
		name    string
		foundAt time.Time
		want    time.Time // the 確報's deadline
		summary string
	}{
		{"found on day 20, recorded on day 25", day(20, 15, 0), respJST(1, 29, 23, 59).AddDate(1, 0, 0).Add(59 * time.Second),
			"unauthorized purpose: false → true; unauthorized purpose found at 2026-12-01 15:00 JST"},
		{"no time given: the update's", time.Time{}, respJST(2, 3, 23, 59).AddDate(1, 0, 0).Add(59 * time.Second),
			"unauthorized purpose: false → true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRespHarness(t, nil)
			var view hostView
			h.at(day(25, 10, 0), func() {
				h.update(t, "", UpdateFacts, FactsChange{Facts: found, Reason: "forensics", By: "U0DPO", UnauthorizedPurposeFoundAt: tc.foundAt})
			})
			h.at(day(26, 10, 0), func() {
				v, err := h.env.QueryWorkflow(hostViews)
				require.NoError(t, err)
				require.NoError(t, v.Get(&view))
			})
			h.close(t, day(27, 10, 0))

			h.env.ExecuteWorkflow(hostIncident, hostInput{In: quiet})

			h.done(t)
			i := slices.IndexFunc(view.Obligations, func(o ObligationSummary) bool { return o.ObligationID == "JP-APPI/final" })
			require.GreaterOrEqual(t, i, 0, "the finding makes the 確報 owed")
			require.True(t, tc.want.Equal(view.Obligations[i].Due), "deadline %s, want %s", view.Obligations[i].Due.In(respTokyo), tc.want)
			tl := h.record.Record.Timeline
			k := slices.IndexFunc(tl, func(e record.Entry) bool { return e.Kind == record.KindFactsChanged })
			require.Equal(t, tc.summary, tl[k].Summary)
		})
	}

	t.Run("refused", func(t *testing.T) {
		h := newRespHarness(t, nil)
		notFound := quiet.Facts
		awareNextYear := quiet.Facts
		awareNextYear.AwareAt = awareNextYear.AwareAt.AddDate(1, 0, 0)
		var errs []*error
		h.at(day(25, 10, 0), func() {
			errs = []*error{
				h.update(t, "", UpdateFacts, FactsChange{Facts: found, Reason: "r", By: "U0DPO", UnauthorizedPurposeFoundAt: day(26, 10, 0)}),
				h.update(t, "", UpdateFacts, FactsChange{Facts: found, Reason: "r", By: "U0DPO", UnauthorizedPurposeFoundAt: respAware.Add(-time.Minute)}),
				h.update(t, "", UpdateFacts, FactsChange{Facts: notFound, Reason: "r", By: "U0DPO", UnauthorizedPurposeFoundAt: day(20, 10, 0)}),
				h.update(t, "", UpdateFacts, FactsChange{Facts: awareNextYear, Reason: "typo", By: "U0DPO"}),
			}
		})
		h.close(t, day(25, 11, 0))

		h.env.ExecuteWorkflow(hostIncident, hostInput{In: quiet})

		h.done(t)
		require.ErrorContains(t, *errs[0], "the unauthorized purpose cannot have been found in the future (2026-12-07 10:00 JST)")
		require.ErrorContains(t, *errs[1], "cannot have been found (2026-11-12 09:29 JST) before the organisation became aware of the breach (2026-11-12 09:30 JST)")
		require.ErrorContains(t, *errs[2], "needs the unauthorized purpose set in the facts")
		require.ErrorContains(t, *errs[3], "the organisation cannot have become aware in the future (2027-11-12 09:30 JST)")
	})
}
