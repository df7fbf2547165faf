package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/workflows"
)

// A Recall whose start failed is started again a minute later. Until it
// has started, the Incident must not continue as new: the next run would
// take the recipient as started (Next is past it, Running counts it) and
// never start it, so that person would never be asked and the recall
// would never settle.
func TestIncident_NoContinueAsNewWhileARecallStartAwaitsItsRetry(t *testing.T) {
	env := newIncidentEnv()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m")).Maybe()
	in := incidentInput(2, 2)
	// The Incident runs under R00001's Recall ID, so starting that Recall
	// fails (a duplicate of a running workflow, not an
	// already-started-child error): the start is retried every minute.
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.RecallWorkflowID(in.IncidentID, "R00001")})
	env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, 30*time.Second)
	env.RegisterDelayedCallback(func() { closeStoppingRecalls(env) }, 10*time.Minute)

	env.ExecuteWorkflow(workflows.Incident, in)

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.False(t, errors.As(err, &can), "continued as new while R00001's start was still to be retried")
	require.NoError(t, err)
	var res workflows.IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 0, res.Status.Recall.Pending, "R00001, never started, is not left pending")
	require.Equal(t, 2, res.Status.Recall.ClosedByOperator, "R00001, never started, and R00002, being asked, are closed by the close")
}
