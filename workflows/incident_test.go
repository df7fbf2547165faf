package workflows_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

func incidentInput(n, window int) workflows.IncidentInput {
	policy := emailOnly()
	policy.Concurrency = window
	return workflows.IncidentInput{
		IncidentID: "INC-20261121-TEST01",
		Runbook: runbooks.Snapshot{SHA256: "h", Runbook: runbooks.Runbook{
			ID: "missend", Version: 1, Phases: runbooks.Phases{Recall: &policy},
		}},
		Facts:           workflows.Facts{Title: "test", Persons: n},
		WrongRecipients: &recipients.ListRef{Location: "x", SHA256: "abc", Count: n},
		DeclaredBy:      "U1",
	}
}

func queryIncident(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.IncidentStatus {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.IncidentStatus
	require.NoError(t, v.Get(&st))
	return st
}

// closeIncident closes the incident, every recipient settled. A refused
// close cancels the workflow, so the test fails at once rather than run
// on forever.
func closeIncident(env *testsuite.TestWorkflowEnvironment) {
	closeIncidentWith(env, workflows.CloseIncident{By: "U1", Reason: "all confirmed"})
}

// closeStoppingRecalls closes the incident and stops asking the
// recipients still in progress (StopRecalls).
func closeStoppingRecalls(env *testsuite.TestWorkflowEnvironment) {
	closeIncidentWith(env, workflows.CloseIncident{By: "U1", Reason: "handled outside breachflow", StopRecalls: true})
}

func closeIncidentWith(env *testsuite.TestWorkflowEnvironment, c workflows.CloseIncident) {
	env.UpdateWorkflow(workflows.UpdateCloseIncident, "close-1", &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(error) { env.CancelWorkflow() }, OnComplete: func(any, error) {},
	}, c)
}

func TestIncident_EveryRecipientIsRecalledAndCountedExactly(t *testing.T) {
	const n = 53
	env := newIncidentEnv()
	// Everyone is asked once; R00053, who never confirms, is reminded twice more.
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m")).Times(n + 2)

	var afterRequests, afterConfirmations workflows.IncidentStatus
	env.RegisterDelayedCallback(func() { afterRequests = queryIncident(t, env) }, time.Hour)
	env.RegisterDelayedCallback(func() {
		// Everyone but R00053 confirms; duplicates change nothing.
		for k := 1; k < n; k++ {
			id := workflows.RecallWorkflowID("INC-20261121-TEST01", recipients.RecipientID(k))
			require.NoError(t, env.SignalWorkflowByID(id, workflows.SignalConfirmation, confirmByLink(env.Now())))
			require.NoError(t, env.SignalWorkflowByID(id, workflows.SignalConfirmation, confirmByLink(env.Now())))
		}
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() { afterConfirmations = queryIncident(t, env) }, 3*time.Hour)
	var details string
	env.RegisterDelayedCallback(func() { details = currentDetails(t, env) }, 10*24*time.Hour-time.Minute)
	env.RegisterDelayedCallback(func() { closeIncident(env) }, 10*24*time.Hour)

	env.ExecuteWorkflow(workflows.Incident, incidentInput(n, 100))

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.RecallCounts{Total: n, Requested: n}, afterRequests.Recall)
	require.Equal(t, workflows.PhaseRecall, afterRequests.Phase)
	require.Equal(t, workflows.RecallCounts{Total: n, Requested: n, EmailConfirmed: n - 1, Confirmed: n - 1}, afterConfirmations.Recall)

	var res workflows.IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.PhaseClosed, res.Status.Phase)
	require.Equal(t, workflows.RecallCounts{Total: n, Requested: n, EmailConfirmed: n - 1, Confirmed: n - 1, Unreachable: 1}, res.Status.Recall,
		"the one who never confirmed ends unreachable, not lost")
	require.Equal(t, []string{"R00053"}, res.Status.Unreachable)
	// Who closed it, when (in the incident's zone) and why: what a step
	// after the close is told.
	require.NotNil(t, res.Status.Closed)
	require.Equal(t, "U1", res.Status.Closed.By)
	require.Regexp(t, `^closed at \d{4}-\d{2}-\d{2} \d{2}:\d{2} JST by U1 \(all confirmed\)$`, res.Status.Closed.Text())

	// The Temporal UI shows a manager, without scrolling, how many are
	// confirmed under the runbook's rule and who is unreachable.
	t.Logf("details:\n%s", details)
	lines := strings.Split(details, "\n")
	head := strings.Join(lines[:min(len(lines), workflows.DetailsHead)], "\n")
	require.Contains(t, head, "**confirmed 52 of 53** (e-mail)")
	require.Contains(t, head, "**Unreachable (1):** R00053")
}

// currentDetails reads the workflow's current details, as the Temporal UI
// shows them.
func currentDetails(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	v, err := env.QueryWorkflow("__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	return md.GetCurrentDetails()
}

func TestIncident_SlidingWindowBoundsRunningRecalls(t *testing.T) {
	const n, window = 12, 5
	env := newIncidentEnv()
	var mu sync.Mutex  // activities run on their own goroutines
	var asked []string // recall workflow IDs, in the order requests went out
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.DeletionRequest) (activities.SendResult, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, r.RecallWorkflowID)
			return activities.SendResult{MessageID: "m"}, nil
		})
	confirmed, maxRunning := 0, 0
	for h := 1; h <= 2*n; h++ {
		env.RegisterDelayedCallback(func() {
			mu.Lock()
			next := ""
			if running := len(asked) - confirmed; running > maxRunning {
				maxRunning = running
			}
			if confirmed < len(asked) {
				next = asked[confirmed]
				confirmed++
			}
			mu.Unlock()
			// One recipient confirms per hour, oldest first.
			if next != "" {
				require.NoError(t, env.SignalWorkflowByID(next, workflows.SignalConfirmation, confirmByLink(env.Now())))
			}
		}, time.Duration(h)*time.Hour)
	}
	env.RegisterDelayedCallback(func() { closeIncident(env) }, time.Duration(3*n)*time.Hour)

	env.ExecuteWorkflow(workflows.Incident, incidentInput(n, window))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, window, maxRunning, "never more than the window at once, and the window is used")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, asked, n, "everyone asked exactly once")
	var res workflows.IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, n, res.Status.Recall.Confirmed)
}

func TestIncident_CloseNeedsWhoAndWhy(t *testing.T) {
	env := newIncidentEnv()
	in := incidentInput(0, 1)
	in.WrongRecipients = nil
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCloseIncident, "bad", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { rejected = err }, OnComplete: func(any, error) {},
		}, workflows.CloseIncident{By: "U1"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { closeIncident(env) }, time.Hour)

	env.ExecuteWorkflow(workflows.Incident, in)

	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, rejected, "who closes it and why")
	var res workflows.IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.PhaseClosed, res.Status.Phase)
}

func TestIncident_ContinuesAsNewWithoutLosingProgress(t *testing.T) {
	env := newIncidentEnv()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	env.SetContinueAsNewSuggested(true)

	env.ExecuteWorkflow(workflows.Incident, incidentInput(5, 2))

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	var can interface{ Error() string }
	require.ErrorAs(t, err, &can)
	require.Contains(t, err.Error(), "continue as new")
}
