package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// lostAnswers mocks a send whose every try reaches the provider but whose
// answer is lost (a gateway timeout): the server retries it, 5 s, then
// 10 s, 20 s... later, and each try could deliver the same request again.
// It records when each try ran.
type lostAnswers struct {
	mu    sync.Mutex
	tries []time.Duration // since the start
}

func (l *lostAnswers) mock(env *testsuite.TestWorkflowEnvironment, send any) {
	start := env.Now()
	env.OnActivity(send, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.DeletionRequest) (activities.SendResult, error) {
			l.mu.Lock()
			l.tries = append(l.tries, env.Now().Sub(start))
			l.mu.Unlock()
			return activities.SendResult{}, temporal.NewApplicationError("the provider's answer was lost", "Timeout")
		})
}

func (l *lostAnswers) count() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.tries) }

// voiceOnly asks by phone and needs the phone confirmation, calls at any
// hour, three calls two hours apart.
func voiceOnly() runbooks.RecallPhase {
	return runbooks.RecallPhase{
		Request: []runbooks.Channel{runbooks.ChannelVoice},
		Confirm: []runbooks.Confirmation{runbooks.ConfirmPhone},
		Retry:   runbooks.RetrySchedules{Voice: &runbooks.RetrySchedule{Intervals: []runbooks.Duration{runbooks.Duration(2 * time.Hour)}, MaxAttempts: 3}},
	}
}

func closeRecipient(env *testsuite.TestWorkflowEnvironment, t *testing.T, reason string) {
	env.UpdateWorkflow(workflows.UpdateCloseRecipient, "close", &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(err error) { t.Errorf("close rejected: %v", err) }, OnComplete: func(any, error) {},
	}, workflows.CloseRecipient{By: "U0LEAD", Reason: reason})
}

// A send whose answer is lost keeps being retried by the server, and each
// retry may deliver the same request again. As soon as its answer no
// longer matters (the address bounced, the person confirmed, an operator
// closed the recipient, or the provider reported on this very request,
// proving it went out) the send is cancelled: no further try, and the
// attempt is recorded as cancelled with the reason, or with what the
// provider reported. The news arrives 7 s
// in, after the second try (5 s) and before the third (15 s).
func TestRecall_ASendWhoseAnswerIsLostIsNotTriedAgainOnceItNoLongerMatters(t *testing.T) {
	bounce := workflows.DeliveryEvent{Channel: runbooks.ChannelEmail, Kind: workflows.DeliveryBounced, Attempt: 1,
		Evidence: workflows.Evidence{Source: "sendgrid", EventID: "ev-bounce"}}
	tests := []struct {
		name      string
		policy    runbooks.RecallPhase
		send      any
		meanwhile func(env *testsuite.TestWorkflowEnvironment, t *testing.T)
		// the state an hour later, the first attempt's outcome, and
		// whether the person counts as asked
		wantState     workflows.RecallState
		wantOutcome   string
		wantRequested bool
	}{
		{
			name: "the address bounces: unreachable, asked (the bounce proves the mail went out)", policy: emailOnly(), send: a.EmailDeletionRequest,
			meanwhile: func(env *testsuite.TestWorkflowEnvironment, _ *testing.T) {
				env.SignalWorkflow(workflows.SignalDelivery, bounce)
			},
			wantState: workflows.StateUnreachable, wantOutcome: "cancelled: the channel cannot reach the person", wantRequested: true,
		},
		{
			name: "the person confirms by the link in the mail whose answer was lost", policy: emailOnly(), send: a.EmailDeletionRequest,
			meanwhile: func(env *testsuite.TestWorkflowEnvironment, _ *testing.T) {
				env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
			},
			wantState: workflows.StateConfirmed, wantOutcome: "cancelled: confirmed", wantRequested: true,
		},
		{
			name: "the person presses 1 on the call whose answer was lost", policy: voiceOnly(), send: a.CallDeletionRequest,
			meanwhile: func(env *testsuite.TestWorkflowEnvironment, _ *testing.T) {
				env.SignalWorkflow(workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA1"))
			},
			wantState: workflows.StateConfirmed, wantOutcome: "cancelled: confirmed", wantRequested: true,
		},
		{
			name: "Twilio reports the call unanswered: it went out, so it is not placed again; the Recall waits for the next scheduled call", policy: voiceOnly(), send: a.CallDeletionRequest,
			meanwhile: func(env *testsuite.TestWorkflowEnvironment, _ *testing.T) {
				env.SignalWorkflow(workflows.SignalDelivery, callEvent(workflows.DeliveryNoAnswer, 1, "CA1"))
			},
			wantState: workflows.StateRequested, wantOutcome: string(workflows.DeliveryNoAnswer), wantRequested: true,
		},
		{
			name: "an operator closes the recipient: not counted as asked (whether the request went out is unknown)", policy: emailOnly(), send: a.EmailDeletionRequest,
			meanwhile: func(env *testsuite.TestWorkflowEnvironment, t *testing.T) {
				closeRecipient(env, t, "confirmed by post")
			},
			wantState: workflows.StateClosedByOperator, wantOutcome: "cancelled: closed by an operator", wantRequested: false,
		},
		{
			name: "the incident closes and stops asking: not counted as asked", policy: emailOnly(), send: a.EmailDeletionRequest,
			meanwhile: func(env *testsuite.TestWorkflowEnvironment, _ *testing.T) {
				env.SignalWorkflow(workflows.SignalStopRecall, workflows.StopRecall{By: "U1", Reason: "handled outside breachflow"})
			},
			wantState: workflows.StateClosedByOperator, wantOutcome: "cancelled: closed by an operator", wantRequested: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv()
			var l lostAnswers
			l.mock(env, tt.send)
			triesBefore := -1
			env.RegisterDelayedCallback(func() {
				triesBefore = l.count()
				tt.meanwhile(env, t)
			}, 7*time.Second)
			var st workflows.RecallStatus // an hour later
			env.RegisterDelayedCallback(func() {
				st = queryRecall(t, env)
				closeRecipient(env, t, "end of test") // an unreachable Recall waits for a human
			}, time.Hour)

			env.ExecuteWorkflow(workflows.Recall, recallInput(tt.policy))

			require.NoError(t, env.GetWorkflowError())
			if st.State == "" { // completed within the hour: its result
				require.NoError(t, env.GetWorkflowResult(&st))
			}
			require.Equal(t, 2, triesBefore, "tried at 0 s and 5 s before the news")
			require.Equal(t, triesBefore, l.count(), "no try after the news (tries at %v)", l.tries)
			require.Equal(t, tt.wantState, st.State)
			require.Len(t, st.Attempts, 1, "and no new request either")
			require.Equal(t, tt.wantOutcome, st.Attempts[0].Outcome)
			require.Equal(t, tt.wantRequested, st.Requested)
		})
	}
}

// A send that is answered before the news is never cancelled: the happy
// path records it as sent.
func TestRecall_ASendAnsweredBeforeTheNewsIsRecordedAsSent(t *testing.T) {
	env := newEnv()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("msg-1")).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, time.Second)

	env.ExecuteWorkflow(workflows.Recall, recallInput(emailOnly()))

	require.NoError(t, env.GetWorkflowError())
	var st workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.StateConfirmed, st.State)
	require.Equal(t, []workflows.Attempt{{Channel: runbooks.ChannelEmail, N: 1, At: st.Attempts[0].At, MessageID: "msg-1", Outcome: "sent"}}, st.Attempts)
	env.AssertExpectations(t)
}

// A progress report that does not reach the Incident (it was between two
// runs, say) is sent again, with the current state, until it does; the
// Recall completes only once its last report has arrived, so the
// Incident's counts stay exact.
func TestRecall_AProgressReportThatFailsIsSentAgain(t *testing.T) {
	env := newEnv()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m")).Once()
	var mu sync.Mutex
	var delivered []workflows.RecallProgress
	failures := 0
	env.OnSignalExternalWorkflow(mock.Anything, "INC-20261121-TEST01", "", workflows.SignalRecallProgress, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			mu.Lock()
			defer mu.Unlock()
			p := arg.(workflows.RecallProgress)
			if p.State == workflows.StateConfirmed && failures < 2 {
				failures++
				return errors.New("unknown external workflow execution")
			}
			delivered = append(delivered, p)
			return nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, time.Minute)
	in := recallInput(emailOnly())
	in.ParentWorkflowID = "INC-20261121-TEST01"

	env.ExecuteWorkflow(workflows.Recall, in)

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 2, failures)
	require.Len(t, delivered, 2, "requested, then confirmed on the third try")
	last := delivered[len(delivered)-1]
	require.Equal(t, workflows.StateConfirmed, last.State)
	require.True(t, last.Requested && last.EmailConfirmed)
	require.Greater(t, last.Seq, delivered[0].Seq)
}
