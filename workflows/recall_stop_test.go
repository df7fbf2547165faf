package workflows_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// stop_recall (its incident closed with StopRecalls) ends a Recall still
// open, whether it is asking or waiting for a person (unreachable): it
// ends closed_by_operator with the close's reason, sends no further
// request, tells the Incident in a final report, and completes at once.
func TestRecall_StopRecallEndsItClosedWithAFinalReport(t *testing.T) {
	bounce := workflows.DeliveryEvent{Channel: runbooks.ChannelEmail, Kind: workflows.DeliveryBounced,
		Evidence: workflows.Evidence{Source: "sendgrid", EventID: "ev-bounce"}}
	tests := []struct {
		name      string
		before    func(env *testsuite.TestWorkflowEnvironment) // an hour in
		wantState workflows.RecallState
		wantWhy   string
	}{
		{name: "being asked: the next reminder is never sent",
			before:    func(*testsuite.TestWorkflowEnvironment) {},
			wantState: workflows.StateClosedByOperator, wantWhy: "incident closed by U1: handled outside breachflow"},
		{name: "unreachable, waiting for a person: the task ends",
			before:    func(env *testsuite.TestWorkflowEnvironment) { env.SignalWorkflow(workflows.SignalDelivery, bounce) },
			wantState: workflows.StateClosedByOperator, wantWhy: "incident closed by U1: handled outside breachflow"},
		{name: "confirmed by phone, the e-mail still asked: closed too",
			before: func(env *testsuite.TestWorkflowEnvironment) {
				env.SignalWorkflow(workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA1"))
			},
			wantState: workflows.StateClosedByOperator, wantWhy: "incident closed by U1: handled outside breachflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv()
			start := env.Now()
			var mu sync.Mutex
			var reports []workflows.RecallProgress
			env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
			env.OnSignalExternalWorkflow(mock.Anything, "INC-20261121-TEST01", "", workflows.SignalRecallProgress, mock.Anything).Return(
				func(_, _, _, _ string, arg any) error {
					mu.Lock()
					defer mu.Unlock()
					reports = append(reports, arg.(workflows.RecallProgress))
					return nil
				})
			env.RegisterDelayedCallback(func() { tt.before(env) }, time.Hour)
			env.RegisterDelayedCallback(func() {
				env.SignalWorkflow(workflows.SignalStopRecall, workflows.StopRecall{By: "U1", Reason: "handled outside breachflow"})
			}, 2*time.Hour)
			in := recallInput(emailOnly())
			in.ParentWorkflowID = "INC-20261121-TEST01"

			env.ExecuteWorkflow(workflows.Recall, in)

			require.True(t, env.IsWorkflowCompleted(), "the Recall completes")
			require.Less(t, env.Now().Sub(start), 2*time.Hour+time.Minute, "at once, not at the next reminder")
			require.NoError(t, env.GetWorkflowError())
			var st workflows.RecallStatus
			require.NoError(t, env.GetWorkflowResult(&st))
			require.Equal(t, tt.wantState, st.State)
			require.Equal(t, tt.wantWhy, st.Reason)
			require.Equal(t, "U1", st.ClosedBy)
			require.Len(t, st.Attempts, 1, "no request after the stop")
			mu.Lock()
			defer mu.Unlock()
			last := reports[len(reports)-1]
			require.Equal(t, workflows.StateClosedByOperator, last.State, "the final report tells the Incident")
		})
	}
}
