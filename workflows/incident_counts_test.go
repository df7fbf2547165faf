package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/workflows"
)

// A Recall's only report (a worker killed before its send's answer came
// back: the person's click makes it requested and confirmed at once) can
// arrive in the very workflow task in which the server suggests
// continue-as-new. The Incident's main coroutine runs first in that task:
// it used to continue as new while the goroutine blocked in Receive held
// the report, taken but unapplied, so the next run counted the recipient
// as pending forever (issue 23, seen in TestFault_WorkerKilledMidRecall).
func TestIncident_AReportArrivingWithTheContinueAsNewSuggestionIsCarried(t *testing.T) {
	env := newIncidentEnv()
	// The Recalls themselves are not what is tested: they start, and
	// their reports are sent by the test.
	env.OnWorkflow(workflows.Recall, mock.Anything, mock.Anything).Return(workflows.RecallStatus{}, nil)
	env.RegisterDelayedCallback(func() {
		// Both reach the workflow in one workflow task: the suggestion is
		// set by a callback that starts no task, then the signal is
		// delivered and its task runs.
		env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, 0)
		env.SignalWorkflow(workflows.SignalRecallProgress, workflows.RecallProgress{
			RecipientID: "R00002", Index: 1, Seq: 1, State: workflows.StateConfirmed,
			Requested: true, EmailConfirmed: true,
		})
	}, time.Hour)

	env.ExecuteWorkflow(workflows.Incident, incidentInput(2, 10))

	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "the Incident continues as new: %v", env.GetWorkflowError())
	var next workflows.IncidentInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Carry)
	require.Equal(t, workflows.RecallCounts{Total: 2, Pending: 1, Requested: 1, EmailConfirmed: 1, Confirmed: 1}, next.Carry.Counts,
		"the report delivered with the suggestion is in the next run's counts")
	require.Equal(t, workflows.StateConfirmed, next.Carry.Recipients[1].State)
	require.Equal(t, 1, next.Carry.Recipients[1].Seq)
}
