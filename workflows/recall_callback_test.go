package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// A person who presses 2 on the call is told "someone will call you back"
// (frontdoor.sayCallback). That is a person's task at once, like any
// recipient the automation cannot finish: the Recall turns unreachable
// (the Incident lists and reminds it, with the buttons to record the
// outcome) saying why, and no more automated calls go to them.
func TestRecall_CallbackRequestIsAHumanTask(t *testing.T) {
	env := newEnv()
	startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	var c calls
	c.mock(env, nil)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalDelivery, callEvent(workflows.DeliveryCallbackRequested, 1, "CA1"))
		env.SignalWorkflow(workflows.SignalDelivery, callEvent(workflows.DeliveryCompleted, 1, "CA1"))
	}, 2*time.Minute)
	var st workflows.RecallStatus
	env.RegisterDelayedCallback(func() { st = queryRecall(t, env) }, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
		env.UpdateWorkflow(workflows.UpdateRecordPhoneConfirmation, "op", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnComplete: func(any, error) {},
		}, workflows.OperatorConfirmation{By: "U0LEAD", Note: "called back"})
	}, 3*24*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(missend(t)))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.StateUnreachable, st.State, "a person must call back: the Incident's task")
	require.Contains(t, st.Reason, "call them back")
	require.Equal(t, string(workflows.DeliveryCallbackRequested), attemptOn(st, runbooks.ChannelVoice, 1).Outcome)
	require.Equal(t, 1, c.count(), "no more automated calls to someone waiting for a person's call")
	var final workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&final))
	require.Equal(t, workflows.StateConfirmed, final.State, "the call back and the link click finish it")
}

// The Incident says so in its thread: a person must call them back.
func TestIncident_TellsWhoAskedToBeCalledBack(t *testing.T) {
	env := newEnv() // newIncidentEnv's, but with the thread replies kept
	var rm *activities.RoleMailer
	var rec *activities.Recorder
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(reports.Draft{}, nil).Maybe()
	env.OnActivity(rm.EmailRole, mock.Anything, mock.Anything).Return(activities.RoleMailResult{}, nil).Maybe()
	env.OnActivity(rec.WriteRecord, mock.Anything, mock.Anything).Return(activities.RecordResult{}, nil).Maybe()
	env.OnActivity(a.PostIncidentMessage, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{Channel: "C1", TS: "1.000001"}, nil).Maybe()
	startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	env.OnActivity(a.CallDeletionRequest, mock.Anything, mock.Anything).Return(sent("CA1"))
	var mu sync.Mutex
	var replies []string
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.ThreadReply) error {
		mu.Lock()
		defer mu.Unlock()
		replies = append(replies, r.Text)
		return nil
	})
	in := incidentInput(1, 1)
	policy := missend(t)
	in.Runbook.Runbook.Phases.Recall = &policy
	in.SlackChannel = "C1"
	env.RegisterDelayedCallback(func() {
		id := workflows.RecallWorkflowID(in.IncidentID, "R00001")
		require.NoError(t, env.SignalWorkflowByID(id, workflows.SignalDelivery, callEvent(workflows.DeliveryCallbackRequested, 1, "CA1")))
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() { closeIncident(env) }, time.Hour)

	env.ExecuteWorkflow(workflows.Incident, in)

	require.NoError(t, env.GetWorkflowError())
	var res workflows.IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, []string{"R00001"}, res.Status.Unreachable)
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, replies, "R00001 asked on the phone to be called back: call them back, then record the outcome (buttons on the incident message).")
}
