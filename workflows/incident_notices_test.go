package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Notices and letters started from an Incident (issue #7): the Incident
// runs for real, its Broadcast and BrokerDemand children too; the
// activities are played by fakes that render the real template and record
// what they were asked.

const noticeIncidentID = "INC-20261116-NOTICE"

var noticeTokyo, _ = time.LoadLocation("Asia/Tokyo")

// noticeStart is 2026-11-16 09:00 JST, a Monday.
var noticeStart = time.Date(2026, 11, 16, 9, 0, 0, 0, noticeTokyo)

// noticeRig is an incident's test environment with the notice and letter
// activities faked.
type noticeRig struct {
	env  *testsuite.TestWorkflowEnvironment
	fake *fakeNotices
	mu   sync.Mutex
	// prepared are the notices rendered, in order; letters the letters.
	prepared []activities.NoticeRequest
	letters  []activities.BrokerLetterRequest
	record   *activities.RecordRequest
}

func newNoticeRig(t *testing.T) *noticeRig {
	t.Helper()
	env := newEnv()
	env.SetStartTime(noticeStart)
	r := &noticeRig{env: env, fake: newFakeNotices()}
	var rm *activities.RoleMailer
	var rec *activities.Recorder
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(reports.Draft{}, nil).Maybe()
	env.OnActivity(rm.EmailRole, mock.Anything, mock.Anything).Return(activities.RoleMailResult{Sent: 1}, nil).Maybe()
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(a.PostIncidentMessage, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{Channel: "C0INC", TS: "1.000001"}, nil).Maybe()
	env.OnActivity(a.PostBroadcastMessage, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{Channel: "C0INC", TS: "2.000001"}, nil).Maybe()
	env.OnActivity(a.PostTaskNotice, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{}, nil).Maybe()
	env.OnActivity(rec.WriteRecord, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.RecordRequest) (activities.RecordResult, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.record = &req
		return activities.RecordResult{Entries: len(req.Record.Timeline)}, nil
	}).Maybe()
	env.OnActivity(notices.PrepareNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NoticeRequest) (activities.PreparedNotice, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.prepared = append(r.prepared, in)
			lang := in.Lang
			if lang == "" {
				lang = "ja"
			}
			subject, body, err := in.Template.Render(lang, in.Notice)
			if err != nil {
				return activities.PreparedNotice{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeNoticeIncomplete, nil)
			}
			c := activities.NoticeContent{From: "security@example.com", Subject: subject, Text: body, List: in.List}
			c.Fingerprint = c.ComputeFingerprint()
			return activities.PreparedNotice{Content: c}, nil
		}).Maybe()
	env.OnActivity(notices.SendTestNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.TestSendRequest) (activities.TestSendResult, error) {
			return activities.TestSendResult{Approvers: 3, Roles: in.Roles, MessageID: "test-" + in.BroadcastID}, nil
		}).Maybe()
	env.OnActivity(notices.SendNotices, mock.Anything, mock.Anything).Return(r.fake.send).Maybe()
	env.OnActivity(notices.ApproverKeys, mock.Anything).Return(approvals.Registry{}, nil).Maybe()
	env.OnActivity(letterActs.RenderBrokerLetter, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BrokerLetterRequest) (activities.BrokerLetter, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.letters = append(r.letters, in)
			return activities.BrokerLetter{Path: "/letters/" + in.DemandID + ".pdf", SHA256: "0123456789ab" + in.DemandID, Pages: 2}, nil
		}).Maybe()
	return r
}

// at runs fn at an instant of the test clock.
func (r *noticeRig) at(when time.Time, fn func()) {
	r.env.RegisterDelayedCallback(fn, when.Sub(noticeStart))
}

// on is day n (day 1 = the declaration's) at hh:mm JST.
func on(n, hh, mm int) time.Time {
	return time.Date(2026, 11, 16+n-1, hh, mm, 0, 0, noticeTokyo)
}

// call sends an update to the incident (wid "") or a child and keeps what
// came back.
type call struct {
	rejected, failed error
	completed        bool
	result           any
}

func (r *noticeRig) update(t *testing.T, wid, name string, arg any) *call {
	t.Helper()
	c := &call{}
	cb := &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { c.rejected = err },
		OnComplete: func(res any, err error) { c.result, c.failed, c.completed = res, err, true }}
	id := fmt.Sprintf("%s-%s-%d", name, wid, time.Now().UnixNano())
	if wid == "" {
		r.env.UpdateWorkflow(name, id, cb, arg)
	} else {
		require.NoError(t, r.env.UpdateWorkflowByID(wid, name, id, cb, arg))
	}
	return c
}

func (c *call) ok(t *testing.T) {
	t.Helper()
	require.NoError(t, c.rejected)
	require.True(t, c.completed, "the update did not complete")
	require.NoError(t, c.failed)
}

// started decodes a start_broadcast result.
func (c *call) started(t *testing.T) workflows.BroadcastStarted {
	t.Helper()
	c.ok(t)
	var out workflows.BroadcastStarted
	decodeResult(t, c.result, &out)
	return out
}

func (c *call) added(t *testing.T) workflows.BrokerDemandAdded {
	t.Helper()
	c.ok(t)
	var out workflows.BrokerDemandAdded
	decodeResult(t, c.result, &out)
	return out
}

func decodeResult(t *testing.T, res, into any) {
	t.Helper()
	switch v := res.(type) {
	case converter.EncodedValue:
		require.NoError(t, v.Get(into))
	default:
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		require.NoError(t, err)
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, into))
	}
}

func (r *noticeRig) status(t *testing.T) workflows.IncidentStatus {
	t.Helper()
	return queryIncident(t, r.env)
}

// approveNotice approves a broadcast's current fingerprint by its quorum
// of distinct approvers.
func (r *noticeRig) approveNotice(t *testing.T, wid string) []*call {
	t.Helper()
	v, err := r.env.QueryWorkflowByID(wid, workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.BroadcastStatus
	require.NoError(t, v.Get(&st))
	require.Equal(t, workflows.BroadcastAwaitingApproval, st.State)
	var out []*call
	for _, by := range []string{"U_PRIVACY", "U_LEGAL", "U_MGMT"}[:st.Quorum] {
		out = append(out, r.update(t, wid, workflows.UpdateApproveBroadcast, workflows.ApproveBroadcast{Fingerprint: st.Fingerprint, By: by}))
	}
	return out
}

func (r *noticeRig) closeAt(t *testing.T, when time.Time) {
	r.at(when, func() {
		r.update(t, "", workflows.UpdateCloseIncident, workflows.CloseIncident{By: "U0LEAD", Reason: "done"})
	})
}

// brokerIncident is seed 002's kind of incident: the list-broker-resale
// runbook (broadcast quorum 3, broker_demands two weeks), ten people (no
// legal obligation, so no Obligation children), five on the affected list.
func brokerIncident(t *testing.T) workflows.IncidentInput {
	t.Helper()
	snap, err := runbooks.Builtin("list-broker-resale")
	require.NoError(t, err)
	return workflows.IncidentInput{
		IncidentID: noticeIncidentID, Runbook: snap,
		Facts: workflows.Facts{Title: "名簿業者への顧客情報の流出", WhatLeaked: "氏名、住所、電話番号", Persons: 10,
			AwareAt: noticeStart.Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}},
		Affected:   &recipients.ListRef{Location: "affected.jsonl", SHA256: "affected-sha", Count: 5},
		DeclaredBy: "U0LEAD", DeclaredAt: noticeStart,
	}
}

func withoutPhase(in workflows.IncidentInput, drop func(*runbooks.Phases)) workflows.IncidentInput {
	drop(&in.Runbook.Runbook.Phases)
	return in
}

// start_broadcast starts Broadcast 1 with the runbook's broadcast policy
// (quorum 2, approver roles, template), the incident's affected list, the
// Rule 10 items from the facts, and the incident ID for the notice; it
// returns once the child runs. The quorum approves the test-sent notice,
// everyone on the list gets it once, and the incident knows it.
func TestStartBroadcast_StartsTheNoticeWithTheRunbooksPolicyAndTheAffectedList(t *testing.T) {
	r := newNoticeRig(t)
	in := brokerIncident(t)
	var start *call
	var during, after workflows.IncidentStatus
	r.at(on(1, 10, 0), func() {
		start = r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD", Reason: "apology to everyone on the list"})
	})
	var approvals []*call
	r.at(on(1, 11, 0), func() {
		during = r.status(t)
		approvals = r.approveNotice(t, workflows.BroadcastWorkflowID(noticeIncidentID, 1))
	})
	r.at(on(5, 12, 0), func() { after = r.status(t) })
	r.closeAt(t, on(5, 13, 0))

	r.env.ExecuteWorkflow(workflows.Incident, in)

	require.True(t, r.env.IsWorkflowCompleted())
	require.NoError(t, r.env.GetWorkflowError())
	require.Equal(t, workflows.BroadcastStarted{N: 1, WorkflowID: noticeIncidentID + "/broadcast/1", List: "affected", Recipients: 5,
		Defaulted: []string{"summary", "data_items", "cause", "secondary_harm"}}, start.started(t))
	for _, c := range approvals {
		c.ok(t)
	}
	r.fake.sentOnce(t, 5)

	require.Len(t, r.prepared, 1)
	p := r.prepared[0]
	require.Equal(t, in.Runbook.Runbook.Phases.Broadcast.Template, p.Template, "the runbook's template")
	require.Equal(t, *in.Affected, p.List, "the incident's affected list")
	require.Equal(t, "ja", p.Lang)
	require.Equal(t, runbooks.NoticeData{IncidentID: noticeIncidentID}, p.Notice, "the desk's contacts come from the configuration")
	require.Equal(t, activities.NoticeItems{Summary: "名簿業者への顧客情報の流出", DataItems: []string{"氏名、住所、電話番号"},
		Cause: "調査中です。判明し次第お知らせいたします。", SecondaryHarm: "調査中です。判明し次第お知らせいたします。"}, p.Items)

	require.Len(t, during.Broadcasts, 1)
	b := during.Broadcasts[0]
	require.Equal(t, workflows.BroadcastAwaitingApproval, b.State, "the child reported its state")
	require.Equal(t, 2, b.Quorum, "the runbook's quorum")
	require.Equal(t, "U0LEAD", b.StartedBy)
	require.Equal(t, workflows.PurposeNotice, b.Purpose)
	require.Equal(t, workflows.BroadcastDone, after.Broadcasts[0].State, "sent, and the bounce window passed")
	require.Equal(t, 5, after.Broadcasts[0].Sent)
	require.Equal(t, 5, after.Broadcasts[0].Total)

	rec := r.record
	require.NotNil(t, rec)
	require.Len(t, rec.Record.Broadcasts, 1)
	require.Equal(t, "done", rec.Record.Broadcasts[0].State)
	require.Equal(t, &activities.NoticeSource{Broadcasts: []string{noticeIncidentID + "/broadcast/1"}, Query: workflows.QueryStatus}, rec.Notices,
		"the Recorder reads the approvals and fingerprints from the Broadcast itself")
}

// The validator refuses what cannot be started, and says what to do.
func TestStartBroadcast_RefusedCases(t *testing.T) {
	base := brokerIncident(t)
	for _, tc := range []struct {
		name string
		in   workflows.IncidentInput
		req  workflows.StartBroadcast
		want string
	}{
		{"no actor", base, workflows.StartBroadcast{}, "the actor's identity (by) is required"},
		{"no broadcast phase", withoutPhase(base, func(p *runbooks.Phases) { p.Broadcast = nil }), workflows.StartBroadcast{By: "U1"},
			"runbook list-broker-resale has no broadcast phase"},
		{"unknown language", base, workflows.StartBroadcast{By: "U1", Lang: "fr"}, `language "fr": want ja or en`},
		{"no list", func() workflows.IncidentInput { in := base; in.Affected = nil; return in }(), workflows.StartBroadcast{By: "U1"},
			"declared without the list of the people affected: give the list to notify"},
		{"an empty list given", base, workflows.StartBroadcast{By: "U1", List: &recipients.ListRef{}}, "the list reference is empty"},
		{"nothing says what leaked", func() workflows.IncidentInput { in := base; in.Facts.WhatLeaked = ""; return in }(), workflows.StartBroadcast{By: "U1"},
			"the notice must say which personal data leaked (APPI Rule 10)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newNoticeRig(t)
			var c *call
			r.at(on(1, 10, 0), func() { c = r.update(t, "", workflows.UpdateStartBroadcast, tc.req) })
			var st workflows.IncidentStatus
			r.at(on(1, 11, 0), func() { st = r.status(t) })
			r.closeAt(t, on(1, 12, 0))

			r.env.ExecuteWorkflow(workflows.Incident, tc.in)

			require.NoError(t, r.env.GetWorkflowError())
			require.ErrorContains(t, c.rejected, tc.want)
			require.Empty(t, st.Broadcasts, "a refused update changes nothing")
			require.Empty(t, r.prepared)
		})
	}
}

// One notice at a time: a second one while the first awaits approval is
// refused (approve, revise or stop it first); once the first is sent, a
// second (a correction, seed 001's errata) is started as Broadcast 2, to
// the list it names. A closing incident starts nothing.
func TestStartBroadcast_OneNoticeAtATime(t *testing.T) {
	r := newNoticeRig(t)
	corrected := recipients.ListRef{Location: "v2.jsonl", SHA256: "affected-v2", Count: 4}
	var first, whileRunning, second, whileClosing *call
	r.at(on(1, 10, 0), func() {
		first = r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD"})
	})
	r.at(on(1, 11, 0), func() {
		whileRunning = r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD", Lang: "en"})
	})
	r.at(on(1, 12, 0), func() { r.approveNotice(t, workflows.BroadcastWorkflowID(noticeIncidentID, 1)) })
	r.at(on(2, 10, 0), func() {
		second = r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0DPO", Lang: "en", Reason: "errata",
			List: &corrected, Items: &activities.NoticeItems{Cause: "a former employee", SecondaryHarm: "none known"}})
	})
	r.at(on(3, 10, 0), func() {
		r.update(t, "", workflows.UpdateCloseIncident, workflows.CloseIncident{By: "U0LEAD", Reason: "done"})
		whileClosing = r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD"})
	})

	r.env.ExecuteWorkflow(workflows.Incident, brokerIncident(t))

	require.NoError(t, r.env.GetWorkflowError())
	require.Equal(t, 1, first.started(t).N)
	require.ErrorContains(t, whileRunning.rejected, "notice 1 is awaiting_approval: approve, revise or stop it ("+noticeIncidentID+"/broadcast/1) before starting another")
	got := second.started(t)
	require.Equal(t, workflows.BroadcastStarted{N: 2, WorkflowID: noticeIncidentID + "/broadcast/2", List: "given", Recipients: 4,
		Defaulted: []string{"summary", "data_items"}}, got)
	require.Len(t, r.prepared, 2)
	require.Equal(t, corrected, r.prepared[1].List)
	require.Equal(t, "en", r.prepared[1].Lang)
	require.Equal(t, "a former employee", r.prepared[1].Items.Cause)
	require.ErrorContains(t, whileClosing.rejected, "is closed: no new notice can be started")

	var res workflows.IncidentResult
	require.NoError(t, r.env.GetWorkflowResult(&res))
	require.Len(t, res.Status.Broadcasts, 2)
	require.Equal(t, workflows.BroadcastAwaitingApproval, res.Status.Broadcasts[1].State, "the errata awaits approval: it goes on after the close")
}

// add_broker_demand numbers the letters B001, B002 in order, with the
// runbook's response window and the facts' description of the data; the
// broker's name and address go to the letter only. Refused without a
// name or an address, or when the runbook sends no letters.
func TestAddBrokerDemand_NumbersTheLettersInOrder(t *testing.T) {
	r := newNoticeRig(t)
	broker := func(name string) letters.Party {
		return letters.Party{Name: name, Address: "東京都新宿区新宿9-9-9", PostalCode: "160-0022"}
	}
	var b1, b2, noName, noAddress *call
	var st workflows.IncidentStatus
	r.at(on(1, 10, 0), func() {
		noName = r.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U0LEGAL", Broker: letters.Party{Address: "東京都"}})
		noAddress = r.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U0LEGAL", Broker: letters.Party{Name: "株式会社名簿センター"}})
		b1 = r.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U0LEGAL", Broker: broker("株式会社名簿センター"), Evidence: "購入した名簿"})
	})
	r.at(on(1, 11, 0), func() {
		b2 = r.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U0LEGAL", Broker: broker("名簿の森株式会社"), Data: "顧客名簿（約7,600件）"})
	})
	r.at(on(1, 12, 0), func() { st = r.status(t) })
	r.closeAt(t, on(1, 13, 0))

	r.env.ExecuteWorkflow(workflows.Incident, brokerIncident(t))

	require.NoError(t, r.env.GetWorkflowError())
	require.ErrorContains(t, noName.rejected, "the broker's name is required")
	require.ErrorContains(t, noAddress.rejected, "the broker's postal address is required")
	require.Equal(t, workflows.BrokerDemandAdded{DemandID: "B001", WorkflowID: noticeIncidentID + "/broker/B001"}, b1.added(t))
	require.Equal(t, workflows.BrokerDemandAdded{DemandID: "B002", WorkflowID: noticeIncidentID + "/broker/B002"}, b2.added(t))
	require.Len(t, r.letters, 2)
	require.Equal(t, "株式会社名簿センター", r.letters[0].Broker.Name)
	require.Equal(t, "氏名、住所、電話番号", r.letters[0].Data, "the facts say what the broker holds")
	require.Equal(t, "顧客名簿（約7,600件）", r.letters[1].Data)
	require.Equal(t, 14, r.letters[0].ReplyWithinDays, "the runbook's response_window: 2w")
	require.Len(t, st.BrokerDemands, 2)
	for _, d := range st.BrokerDemands {
		require.Equal(t, workflows.DemandAwaitingMailing, d.State)
		require.Equal(t, "U0LEGAL", d.StartedBy)
	}
	require.NotContains(t, fmt.Sprintf("%+v", st), "名簿センター", "no company name in the incident's status")
}

func TestAddBrokerDemand_RefusedWithoutABrokerDemandsPhase(t *testing.T) {
	r := newNoticeRig(t)
	var c *call
	r.at(on(1, 10, 0), func() {
		c = r.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U1", Broker: letters.Party{Name: "X", Address: "Y"}})
	})
	r.closeAt(t, on(1, 11, 0))

	r.env.ExecuteWorkflow(workflows.Incident, withoutPhase(brokerIncident(t), func(p *runbooks.Phases) { p.BrokerDemands = nil }))

	require.NoError(t, r.env.GetWorkflowError())
	require.ErrorContains(t, c.rejected, "runbook list-broker-resale has no broker_demands phase: cease-and-desist letters are part of list-broker-resale (or add a broker_demands phase")
}

// The Incident continues as new while a notice awaits approval and a
// letter awaits mailing: the next run knows both, keeps their numbering
// (the next letter is B002, the next notice 2), and still hears from them.
func TestNotices_SurviveTheIncidentsContinueAsNew(t *testing.T) {
	r := newNoticeRig(t)
	r.at(on(1, 10, 0), func() {
		r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD"})
		r.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U0LEGAL", Broker: letters.Party{Name: "X社", Address: "東京都"}})
	})
	r.at(on(1, 11, 0), func() {
		r.env.SetContinueAsNewSuggested(true)
		// Wake the Incident: an approval's progress reaches it.
		r.approveNotice(t, workflows.BroadcastWorkflowID(noticeIncidentID, 1))
	})

	r.env.ExecuteWorkflow(workflows.Incident, brokerIncident(t))

	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, r.env.GetWorkflowError(), &can)
	var next workflows.IncidentInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Carry)
	require.NotNil(t, next.Carry.Response)
	n := next.Carry.Response.Notices
	require.Len(t, n.Broadcasts, 1)
	require.Len(t, n.Demands, 1)
	require.Equal(t, "U0LEAD", n.Broadcasts[0].StartedBy)
	require.Equal(t, "B001", n.Demands[0].DemandID)

	// The next run, with the children still running elsewhere: a report
	// from notice 1 is applied, numbering goes on.
	r2 := newNoticeRig(t)
	var b2 *call
	var d2 *call
	var st workflows.IncidentStatus
	r2.at(on(1, 12, 0), func() {
		// From the Broadcast's next run, out of order: the report of the
		// send (#2) arrives before that of the approval (#1); the older
		// one changes nothing.
		bid := noticeIncidentID + "/broadcast/1"
		run := next.Carry.Response.Notices.Last[bid].Run.Add(time.Hour)
		r2.env.SignalWorkflow(workflows.SignalNoticeProgress, workflows.NoticeProgress{WorkflowID: bid, At: on(1, 12, 0), Run: run, Seq: 2,
			Broadcast: &workflows.BroadcastProgressRef{State: workflows.BroadcastSent, Sent: 5, Total: 5, Approvals: 2, Quorum: 2}})
		r2.env.SignalWorkflow(workflows.SignalNoticeProgress, workflows.NoticeProgress{WorkflowID: bid, At: on(1, 12, 0), Run: run, Seq: 1,
			Broadcast: &workflows.BroadcastProgressRef{State: workflows.BroadcastSending, Sent: 0, Total: 5, Approvals: 2, Quorum: 2}})
	})
	r2.at(on(1, 13, 0), func() {
		b2 = r2.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD", Reason: "follow-up"})
		d2 = r2.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U0LEGAL", Broker: letters.Party{Name: "Y社", Address: "大阪府"}})
	})
	r2.at(on(1, 14, 0), func() { st = r2.status(t) })
	r2.closeAt(t, on(1, 15, 0))

	r2.env.ExecuteWorkflow(workflows.Incident, next)

	require.NoError(t, r2.env.GetWorkflowError())
	require.Equal(t, 2, b2.started(t).N)
	require.Equal(t, "B002", d2.added(t).DemandID)
	require.Len(t, st.Broadcasts, 2)
	require.Equal(t, workflows.BroadcastSent, st.Broadcasts[0].State)
	require.Equal(t, 5, st.Broadcasts[0].Sent)
	require.Len(t, st.BrokerDemands, 2)
	require.Len(t, r2.record.Record.Broadcasts, 2)
	require.Len(t, r2.record.Record.BrokerDemands, 2)
}

// Closing the Incident cancels nothing: the notice awaiting approval is
// approved and sent after the close, and the letter is mailed and
// answered, each to its end (the test waits for the abandoned children).
func TestNotices_TheIncidentsCloseDoesNotCancelThem(t *testing.T) {
	r := newNoticeRig(t)
	r.env.SetDetachedChildWait(true)
	bid, did := workflows.BroadcastWorkflowID(noticeIncidentID, 1), workflows.BrokerDemandWorkflowID(noticeIncidentID, "B001")
	r.at(on(1, 10, 0), func() {
		r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD"})
		r.update(t, "", workflows.UpdateAddBrokerDemand, workflows.AddBrokerDemand{By: "U0LEGAL", Broker: letters.Party{Name: "X社", Address: "東京都"}})
	})
	r.closeAt(t, on(1, 11, 0))
	var approvals []*call
	var mailed, answered *call
	r.at(on(2, 10, 0), func() {
		approvals = r.approveNotice(t, bid)
		mailed = r.update(t, did, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "1234-5678-9012", By: "U0LEGAL"})
	})
	r.at(on(10, 10, 0), func() {
		answered = r.update(t, did, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerComplied, By: "U0LEGAL"})
	})

	r.env.ExecuteWorkflow(workflows.Incident, brokerIncident(t))

	require.NoError(t, r.env.GetWorkflowError())
	var res workflows.IncidentResult
	require.NoError(t, r.env.GetWorkflowResult(&res))
	require.Equal(t, workflows.PhaseClosed, res.Status.Phase)
	for _, c := range approvals {
		c.ok(t)
	}
	mailed.ok(t)
	answered.ok(t)
	r.fake.sentOnce(t, 5)
	closed := r.record.Record.Timeline[len(r.record.Record.Timeline)-1]
	require.Contains(t, closed.Summary, noticeIncidentID+"/broadcast/1 is awaiting_approval (it goes on after the close)")
	require.Contains(t, closed.Summary, "letter B001 is awaiting_mailing (it goes on after the close)")
}

// Seed 000's daily report goes to everyone affected as a Broadcast of its
// public text, never before the notice itself, one report broadcast at a
// time, each approved like any notice (quorum 2); the record says what
// happened each day.
func TestDailyReport_ReachesTheAffectedThroughABroadcast(t *testing.T) {
	r := newNoticeRig(t)
	snap, err := runbooks.Builtin("missend")
	require.NoError(t, err)
	in := workflows.IncidentInput{
		IncidentID: noticeIncidentID, Runbook: snap,
		Facts: workflows.Facts{Title: "会員情報ファイルの誤送信 {{.Secret}}", WhatLeaked: "氏名、口座情報", Persons: 10,
			AwareAt: noticeStart.Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}},
		Affected:   &recipients.ListRef{Location: "members.jsonl", SHA256: "members", Count: 5},
		DeclaredBy: "U0LEAD", DeclaredAt: noticeStart,
	}
	r.at(on(2, 9, 0), func() { r.update(t, "", workflows.UpdateStartBroadcast, workflows.StartBroadcast{By: "U0LEAD"}) })
	r.at(on(2, 10, 0), func() { r.approveNotice(t, workflows.BroadcastWorkflowID(noticeIncidentID, 1)) })
	r.at(on(3, 19, 0), func() { r.approveNotice(t, workflows.BroadcastWorkflowID(noticeIncidentID, 2)) })
	var st workflows.IncidentStatus
	var details string
	r.at(on(4, 19, 0), func() { st, details = r.status(t), currentDetails(t, r.env) })
	r.closeAt(t, on(4, 20, 0))

	r.env.ExecuteWorkflow(workflows.Incident, in)

	// What a manager sees in the Temporal UI without scrolling: the open
	// tasks with their due times in the incident's zone, and which are
	// overdue.
	lines := strings.Split(details, "\n")
	head := strings.Join(lines[:min(len(lines), workflows.DetailsHead)], "\n")
	require.Contains(t, head, "**Open tasks (4):** stop-sending (overdue: was due 2026-11-16 11:00 JST), ", details)
	require.Contains(t, head, "monitor-secondary-harm (due 2026-11-23 09:00 JST)", details)
	require.NotContains(t, details, "0001-01-01")

	require.NoError(t, r.env.GetWorkflowError())
	var outcomes []string
	for _, e := range r.record.Record.Timeline {
		if e.Kind == "daily_report" {
			require.Contains(t, e.To, runbooks.AudienceAffected)
			outcomes = append(outcomes, e.Outcome[strings.Index(e.Outcome, "affected: "):])
		}
	}
	require.Equal(t, []string{
		"affected: not sent — the affected have not been notified yet (start_broadcast first)",
		"affected: broadcast 2 started for 5 people (the list of notice 1); it goes out once 2 approvers approve its test send",
		"affected: not sent — the report of day 2 (broadcast 2) is still awaiting_approval: one report to the affected at a time",
		"affected: broadcast 3 started for 5 people (the list of notice 1); it goes out once 2 approvers approve its test send",
	}, outcomes)

	require.Len(t, st.Broadcasts, 3)
	for k, want := range []struct {
		purpose string
		day     int
		state   workflows.BroadcastState
	}{{workflows.PurposeNotice, 0, workflows.BroadcastSent}, {workflows.PurposeDailyReport, 2, workflows.BroadcastSent}, {workflows.PurposeDailyReport, 4, workflows.BroadcastAwaitingApproval}} {
		b := st.Broadcasts[k]
		require.Equal(t, want.purpose, b.Purpose, "broadcast %d", k+1)
		require.Equal(t, want.day, b.Day, "broadcast %d", k+1)
		require.Equal(t, want.state, b.State, "broadcast %d", k+1)
		require.Equal(t, 5, b.Total)
	}
	r.fake.mu.Lock()
	for i := range 5 {
		require.Equal(t, 2, r.fake.sends[i], "recipient %d: the notice and day 2's report, once each", i)
	}
	r.fake.mu.Unlock()

	require.Len(t, r.prepared, 3)
	report := r.prepared[1]
	require.Equal(t, "members", report.List.SHA256, "the list of the notice sent")
	require.Equal(t, r.prepared[0].Items, report.Items, "the notice's Rule 10 items")
	subject, body, err := report.Template.Render("ja", runbooks.NoticeData{IncidentID: noticeIncidentID, ContactPhone: "0120-000-000",
		ContactHours: "平日10〜17時", ContactEmail: "privacy@example.jp", Organization: "株式会社サンプル"})
	require.NoError(t, err, "a title with {{ is text, not an action")
	require.Equal(t, "会員情報ファイルの誤送信 {{.Secret}} に関するご報告（第2日）", subject)
	for _, want := range []string{
		"会員情報ファイルの誤送信 {{.Secret}} について、2026年11月17日(火) 18:00 時点の対応状況をご報告いたします（第2日）。",
		"■ 被害拡大防止の措置: 4 件中 0 件完了",
		"■ 原因分析・再発防止策の報告: 期限 2027年1月15日(金) 09:00",
		"■ 前回のご報告からの変化\n・変化なし\n",
		"電話: 0120-000-000（平日10〜17時）",
		"（受付番号: " + noticeIncidentID + "）",
	} {
		require.Contains(t, body, want)
	}
	for _, english := range []string{"due ", "JST", "filed "} {
		require.NotContains(t, body, english, "a Japanese report has no English fragments")
	}
	for _, internal := range []string{"incident-lead", "送信を止め"} {
		require.NotContains(t, body, internal, "task owners and titles stay with the staff")
	}
}
