package slackbot_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

const (
	incidentID  = "INC-20261121-ABCDEF"
	recallWF    = incidentID + "/recall/R00007"
	broadcastWF = incidentID + "/broadcast/1"
	filingWF    = incidentID + "/obligation/JP-APPI-final"
	fingerprint = "fp-9c1e4b7a"
)

// postIncidentMessage posts the incident message, as the workflow will,
// and a broadcast approval message; it returns their timestamps.
func (h *harness) postIncidentMessage() (incidentTS, broadcastTS string) {
	h.t.Helper()
	a := &activities.Activities{Slack: h.api}
	ref, err := a.PostIncidentMessage(context.Background(), activities.IncidentMessage{
		Channel: incidentChannel,
		View: slackui.IncidentView{
			IncidentID: incidentID, WorkflowID: incidentID, Title: "Order confirmation sent to the wrong customers",
			Runbook: "missend", Phase: workflows.PhaseRecall,
			Deadlines: []slackui.DeadlineView{{ObligationID: "JP-APPI-final", WorkflowID: filingWF,
				Label: "JP-APPI final report to the PPC", Due: time.Date(2026, 12, 21, 0, 0, 0, 0, jst), State: "pending"}},
			Tasks:          []slackui.TaskView{{ID: "T1", Title: "Stop the mailing job", Owner: "infra"}},
			Unreachable:    []slackui.RecipientView{{RecipientID: "R00007", WorkflowID: recallWF}},
			Prevention:     &slackui.PreventionView{Due: time.Date(2027, 5, 21, 0, 0, 0, 0, jst)},
			CanSendNotices: true, CanAddBroker: true,
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	_, bts, err := h.api.PostMessage(incidentChannel, slack.MsgOptionText("Broadcast ready", false), slack.MsgOptionBlocks(
		slack.NewActionBlock("broadcast", slack.NewButtonBlockElement(slackui.ActionApproveBroadcast,
			slackui.ButtonValue{WorkflowID: broadcastWF, Item: fingerprint}.Encode(),
			slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)),
			slack.NewButtonBlockElement(slackui.ActionPauseBroadcast,
				slackui.ButtonValue{WorkflowID: broadcastWF}.Encode(),
				slack.NewTextBlockObject(slack.PlainTextType, "Pause", false, false)),
			slack.NewButtonBlockElement(slackui.ActionResumeBroadcast,
				slackui.ButtonValue{WorkflowID: broadcastWF}.Encode(),
				slack.NewTextBlockObject(slack.PlainTextType, "Resume", false, false)),
			slack.NewButtonBlockElement(slackui.ActionStopBroadcast,
				slackui.ButtonValue{WorkflowID: broadcastWF}.Encode(),
				slack.NewTextBlockObject(slack.PlainTextType, "Stop", false, false)))))
	if err != nil {
		h.t.Fatal(err)
	}
	return ref.TS, bts
}

// click presses a button and checks the acknowledgement is empty.
func (h *harness) click(user, ts, action string) {
	h.t.Helper()
	resp, err := h.sb.ClickButton(context.Background(), user, incidentChannel, ts, action, "")
	if err != nil {
		h.t.Fatal(err)
	}
	if got := ackText(h.t, resp); got != "" {
		h.t.Errorf("button answered %q, want an empty acknowledgement", got)
	}
}

func TestButtonsBecomeUpdatesCarryingTheSlackUserID(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		action   string
		broadcst bool
		workflow string
		update   string
		arg      any
		told     string
	}{
		{"complete a task", alice, slackui.ActionCompleteTask, false, incidentID, workflows.UpdateCompleteTask,
			workflows.CompleteTask{TaskID: "T1", By: alice}, "Task `T1` is done"},
		{"record a phone confirmation", carol, slackui.ActionPhoneConfirmed, false, recallWF, workflows.UpdateRecordPhoneConfirmation,
			workflows.OperatorConfirmation{By: carol}, "R00007 confirmed the deletion by phone"},
		{"approve a broadcast", bob, slackui.ActionApproveBroadcast, true, broadcastWF, workflows.UpdateApproveBroadcast,
			workflows.ApproveBroadcast{Fingerprint: fingerprint, By: bob}, "Broadcast approved"},
		{"a responder pauses a broadcast", alice, slackui.ActionPauseBroadcast, true, broadcastWF, workflows.UpdatePauseBroadcast,
			workflows.BroadcastControl{By: alice}, "Broadcast paused"},
		{"a responder stops a broadcast", carol, slackui.ActionStopBroadcast, true, broadcastWF, workflows.UpdateStopBroadcast,
			workflows.BroadcastControl{By: carol}, "Broadcast stopped"},
		{"an approver resumes a broadcast", bob, slackui.ActionResumeBroadcast, true, broadcastWF, workflows.UpdateResumeBroadcast,
			workflows.BroadcastControl{By: bob}, "Broadcast resumed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, defaultOptions())
			its, bts := h.postIncidentMessage()
			ts := its
			if tt.broadcst {
				ts = bts
			}
			h.click(tt.user, ts, tt.action)
			h.bot.Wait()
			updates := h.callsOf("UpdateWorkflow")
			if len(updates) != 1 {
				t.Fatalf("%d updates, want 1", len(updates))
			}
			u := updates[0]
			if u.WorkflowID != tt.workflow || u.Name != tt.update {
				t.Errorf("update %s on %s, want %s on %s", u.Name, u.WorkflowID, tt.update, tt.workflow)
			}
			if !reflect.DeepEqual(u.Arg, tt.arg) {
				t.Errorf("payload %+v, want %+v", u.Arg, tt.arg)
			}
			if !strings.HasPrefix(u.UpdateID, "slack:"+tt.user+":") {
				t.Errorf("update ID %q: want one derived from the click", u.UpdateID)
			}
			if got := h.ephemeralsTo(tt.user); !containsAny(got, tt.told) {
				t.Errorf("ephemerals %q, want %q", got, tt.told)
			}
		})
	}
}

func TestButtonsCheckWhoPressesThem(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		action   string
		broadcst bool
		told     string
	}{
		{"a stranger completes a task", mallory, slackui.ActionCompleteTask, false, "needs a responder"},
		{"an approver who is not a responder completes a task", bob, slackui.ActionCompleteTask, false, "needs a responder"},
		{"a stranger records a phone confirmation", mallory, slackui.ActionPhoneConfirmed, false, "needs a responder"},
		{"a stranger closes a recipient", mallory, slackui.ActionCloseRecipient, false, "needs a responder"},
		{"a responder approves a broadcast", alice, slackui.ActionApproveBroadcast, true, "needs an approver"},
		{"a responder records a filing", alice, slackui.ActionRecordFiling, false, "needs an approver"},
		{"a stranger stops a broadcast", mallory, slackui.ActionStopBroadcast, true, "needs a responder"},
		{"a stranger pauses a broadcast", mallory, slackui.ActionPauseBroadcast, true, "needs a responder"},
		{"a responder resumes a broadcast", alice, slackui.ActionResumeBroadcast, true, "needs an approver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, defaultOptions())
			its, bts := h.postIncidentMessage()
			ts := its
			if tt.broadcst {
				ts = bts
			}
			h.click(tt.user, ts, tt.action)
			got := h.ephemeralsTo(tt.user)
			if !containsAny(got, tt.told) || !containsAny(got, "othing was changed") {
				t.Errorf("ephemerals %q: want %q and that nothing changed", got, tt.told)
			}
			if calls := h.temporal.Calls(); len(calls) != 0 {
				t.Errorf("Temporal was called: %+v", calls)
			}
			if n := len(h.sb.SlackViews()); n != 0 {
				t.Errorf("%d modals opened for a refused user", n)
			}
		})
	}
}

func TestRejectedUpdateIsShownAsTheValidatorSaidIt(t *testing.T) {
	h := newHarness(t, defaultOptions())
	h.temporal.updateErr = temporal.NewApplicationError("task T1 is already done (by U0CAROL)", "AlreadyDone")
	its, _ := h.postIncidentMessage()
	h.click(alice, its, slackui.ActionCompleteTask)
	got := h.ephemeralsTo(alice)
	if !containsAny(got, "Not done: task T1 is already done (by U0CAROL)") {
		t.Errorf("ephemerals %q: want the validator's message", got)
	}
	if containsAny(got, "is done, recorded") {
		t.Errorf("ephemerals %q: a rejected update was reported as done", got)
	}
}

func TestCloseRecipientAsksForAReason(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.click(alice, its, slackui.ActionCloseRecipient)
	v := h.lastView()
	if v.CallbackID != slackui.CallbackCloseRecipient {
		t.Fatalf("modal %q, want %q", v.CallbackID, slackui.CallbackCloseRecipient)
	}
	if len(h.temporal.Calls()) != 0 {
		t.Fatal("Temporal was called before the reason was given")
	}

	resp, err := h.sb.SubmitView(context.Background(), alice, v.ID, map[string]map[string]string{
		slackbot.InputReason: {slackbot.InputReason: "   "}})
	if err != nil {
		t.Fatal(err)
	}
	if vr := resp.ViewResponse; vr == nil || vr.Errors[slackbot.InputReason] == "" {
		t.Fatalf("blank reason answered %q, want an error on the reason", resp.Body)
	}

	resp, err = h.sb.SubmitView(context.Background(), alice, v.ID, map[string]map[string]string{
		slackbot.InputReason: {slackbot.InputReason: "deletion confirmed by registered post"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ViewResponse != nil {
		t.Fatalf("answer %q, want the modal closed", resp.Body)
	}
	h.bot.Wait()
	updates := h.callsOf("UpdateWorkflow")
	if len(updates) != 1 {
		t.Fatalf("%d updates, want 1", len(updates))
	}
	want := workflows.CloseRecipient{By: alice, Reason: "deletion confirmed by registered post"}
	if u := updates[0]; u.WorkflowID != recallWF || u.Name != workflows.UpdateCloseRecipient || !reflect.DeepEqual(u.Arg, want) {
		t.Errorf("update %s on %s with %+v, want %s on %s with %+v", u.Name, u.WorkflowID, u.Arg, workflows.UpdateCloseRecipient, recallWF, want)
	}
	if got := h.ephemeralsTo(alice); !containsAny(got, "R00007 is closed") {
		t.Errorf("ephemerals %q", got)
	}
}

func TestRecordFilingAsksWhenAndWhere(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.click(bob, its, slackui.ActionRecordFiling)
	v := h.lastView()
	if v.CallbackID != slackui.CallbackRecordFiling {
		t.Fatalf("modal %q, want %q", v.CallbackID, slackui.CallbackRecordFiling)
	}
	form := func(date, hm, ref, ch string) map[string]map[string]string {
		return map[string]map[string]string{
			slackbot.InputFiledDate: {slackbot.InputFiledDate: date}, slackbot.InputFiledTime: {slackbot.InputFiledTime: hm},
			slackbot.InputReference: {slackbot.InputReference: ref}, slackbot.InputFilingChannel: {slackbot.InputFilingChannel: ch},
		}
	}
	bad := []struct {
		name   string
		values map[string]map[string]string
		block  string
	}{
		{"filed in the future", form("2026-11-22", "10:15", "PPC-2026-0042", "PPC web form"), slackbot.InputFiledDate},
		{"no reference", form("2026-11-21", "10:15", " ", "PPC web form"), slackbot.InputReference},
		{"no channel", form("2026-11-21", "10:15", "PPC-2026-0042", ""), slackbot.InputFilingChannel},
	}
	for _, b := range bad {
		resp, err := h.sb.SubmitView(context.Background(), bob, v.ID, b.values)
		if err != nil {
			t.Fatal(err)
		}
		if vr := resp.ViewResponse; vr == nil || vr.Errors[b.block] == "" {
			t.Errorf("%s: answered %q, want an error on %s", b.name, resp.Body, b.block)
		}
	}
	h.bot.Wait()
	if n := len(h.temporal.Calls()); n != 0 {
		t.Fatalf("invalid filings reached Temporal (%d calls)", n)
	}

	resp, err := h.sb.SubmitView(context.Background(), bob, v.ID, form("2026-11-21", "10:15", "PPC-2026-0042", "PPC web form"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ViewResponse != nil {
		t.Fatalf("answer %q, want the modal closed", resp.Body)
	}
	h.bot.Wait()
	updates := h.callsOf("UpdateWorkflow")
	if len(updates) != 1 {
		t.Fatalf("%d updates, want 1", len(updates))
	}
	want := workflows.RecordFiling{FiledAt: time.Date(2026, 11, 21, 1, 15, 0, 0, time.UTC), Reference: "PPC-2026-0042", Channel: "PPC web form", By: bob}
	if u := updates[0]; u.WorkflowID != filingWF || u.Name != workflows.UpdateRecordFiling || !reflect.DeepEqual(u.Arg, want) {
		t.Errorf("update %s on %s with %+v, want %s on %s with %+v", u.Name, u.WorkflowID, u.Arg, workflows.UpdateRecordFiling, filingWF, want)
	}
}
