package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// missend is seed 000's recall policy, from the built-in runbook: e-mail
// and call, confirmed by phone AND e-mail, calls 09:00-20:00 JST.
func missend(t *testing.T) runbooks.RecallPhase {
	t.Helper()
	snap, err := runbooks.Builtin("missend")
	require.NoError(t, err)
	return *snap.Runbook.Phases.Recall
}

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// startAt10JST starts the test clock inside calling hours.
func startAt10JST(env *testsuite.TestWorkflowEnvironment) time.Time {
	start := time.Date(2026, 11, 16, 10, 0, 0, 0, tokyo)
	env.SetStartTime(start)
	return start
}

func phoneByKeypad(at time.Time, sid string) workflows.Confirmation {
	return workflows.Confirmation{Channel: runbooks.ConfirmPhone, Evidence: workflows.Evidence{Source: "voice", CallSID: sid, Digits: "1", ReceivedAt: at}}
}

func callEvent(kind workflows.DeliveryKind, attempt int, sid string) workflows.DeliveryEvent {
	return workflows.DeliveryEvent{Channel: runbooks.ChannelVoice, Kind: kind, Attempt: attempt,
		Evidence: workflows.Evidence{Source: "twilio", CallSID: sid, EventID: sid + ":" + string(kind)}}
}

func attemptOn(st workflows.RecallStatus, ch runbooks.Channel, n int) workflows.Attempt {
	for _, at := range st.Attempts {
		if at.Channel == ch && at.N == n {
			return at
		}
	}
	return workflows.Attempt{}
}

func queryRecall(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.RecallStatus {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.RecallStatus
	require.NoError(t, v.Get(&st))
	return st
}

// calls records the call attempts the workflow makes, with their times.
type calls struct {
	mu    sync.Mutex
	times []time.Time
}

func (c *calls) mock(env *testsuite.TestWorkflowEnvironment, errFor func(n int) error) {
	env.OnActivity(a.CallDeletionRequest, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.DeletionRequest) (activities.SendResult, error) {
			c.mu.Lock()
			c.times = append(c.times, env.Now())
			c.mu.Unlock()
			if errFor != nil {
				if err := errFor(r.Attempt); err != nil {
					return activities.SendResult{}, err
				}
			}
			return activities.SendResult{MessageID: "CA" + string(rune('0'+r.Attempt))}, nil
		})
}

func (c *calls) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.times) }

func TestRecall_PhoneAndEmailBothNeeded(t *testing.T) {
	env := newEnv()
	start := startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m")).Once()
	var c calls
	c.mock(env, nil)
	var afterPhone workflows.RecallStatus
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA1"))
		env.SignalWorkflow(workflows.SignalDelivery, callEvent(workflows.DeliveryCompleted, 1, "CA1"))
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() { afterPhone = queryRecall(t, env) }, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, 5*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(missend(t)))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.StatePhoneConfirmed, afterPhone.State, "phone alone is not enough for seed 000")
	var st workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.StateConfirmed, st.State)
	require.Equal(t, 1, c.count(), "no second call after the keypad confirmation")
	require.Len(t, st.Confirmations, 2)
	require.Equal(t, "CA1", st.Confirmations[0].Evidence.CallSID, "the call SID and digits are the evidence")
	require.Equal(t, "1", st.Confirmations[0].Evidence.Digits)
	require.Equal(t, start.Add(5*time.Hour), st.Confirmations[1].At.In(tokyo))
}

func TestRecall_OnlyPhoneConfirmedEndsUnreachableForTheEmailConfirmation(t *testing.T) {
	env := newEnv()
	startAt10JST(env)
	policy := missend(t)
	policy.Retry.Email = &runbooks.RetrySchedule{Intervals: []runbooks.Duration{days(1)}, MaxAttempts: 3}
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m")).Times(3)
	var c calls
	c.mock(env, nil)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA1"))
	}, time.Minute)
	var st workflows.RecallStatus
	env.RegisterDelayedCallback(func() {
		st = queryRecall(t, env)
		_ = env.SignalWorkflow // the operator closes it: confirmed by post
		env.UpdateWorkflow(workflows.UpdateCloseRecipient, "close", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("close rejected: %v", err) }, OnComplete: func(any, error) {},
		}, workflows.CloseRecipient{By: "U0LEAD", Reason: "confirmed by post"})
	}, 10*24*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(policy))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.StateUnreachable, st.State)
	require.Contains(t, st.Reason, "email")
	var final workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&final))
	require.Equal(t, workflows.StateClosedByOperator, final.State)
	require.Equal(t, "confirmed by post", final.Reason)
	require.Equal(t, "U0LEAD", final.ClosedBy)
}

func TestRecall_InvalidNumberMakesPhoneConfirmationImpossible(t *testing.T) {
	env := newEnv()
	startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	var c calls
	c.mock(env, func(int) error {
		return temporal.NewNonRetryableApplicationError("twilio 21211", activities.ErrTypeInvalidNumber, nil)
	})
	var st workflows.RecallStatus
	env.RegisterDelayedCallback(func() {
		st = queryRecall(t, env)
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
		env.UpdateWorkflow(workflows.UpdateRecordPhoneConfirmation, "op", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnComplete: func(any, error) {},
		}, workflows.OperatorConfirmation{By: "U0LEAD", Note: "reached on the office line"})
	}, time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(missend(t)))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 1, c.count(), "an invalid number is not called again")
	require.Equal(t, workflows.StateUnreachable, st.State, "at once: no automated way to get the phone confirmation")
	require.Equal(t, "failed: "+activities.ErrTypeInvalidNumber, attemptOn(st, runbooks.ChannelVoice, 1).Outcome)
	var final workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&final))
	require.Equal(t, workflows.StateConfirmed, final.State, "an operator's call and a late link click finish it")
	require.Equal(t, "operator", final.Confirmations[1].Evidence.Source)
	require.Equal(t, "U0LEAD", final.Confirmations[1].Evidence.Operator)
}

func TestRecall_NoAnswerThenAnswerOnTheSecondCall(t *testing.T) {
	env := newEnv()
	start := startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	var c calls
	c.mock(env, nil)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalDelivery, callEvent(workflows.DeliveryNoAnswer, 1, "CA1"))
		env.SignalWorkflow(workflows.SignalDelivery, callEvent(workflows.DeliveryNoAnswer, 1, "CA1")) // Twilio retry
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA2"))
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, 2*time.Hour+5*time.Minute)

	env.ExecuteWorkflow(workflows.Recall, recallInput(missend(t)))

	require.NoError(t, env.GetWorkflowError())
	var st workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.StateConfirmed, st.State)
	require.Equal(t, 2, c.count())
	require.Equal(t, start.Add(time.Minute+2*time.Hour), c.times[1].In(tokyo), "the runbook's 2h after the unanswered call")
	require.Equal(t, string(workflows.DeliveryNoAnswer), attemptOn(st, runbooks.ChannelVoice, 1).Outcome, "every attempt is recorded with its outcome")
	require.Equal(t, "confirmed", attemptOn(st, runbooks.ChannelVoice, 2).Outcome)
	require.Len(t, st.Events, 1, "the retried no-answer callback is recorded once")
}

func TestRecall_CallDueAt22WaitsFor09(t *testing.T) {
	env := newEnv()
	start := time.Date(2026, 11, 16, 22, 0, 0, 0, tokyo)
	env.SetStartTime(start)
	var emailAt time.Time
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.DeletionRequest) (activities.SendResult, error) {
			emailAt = env.Now()
			return activities.SendResult{MessageID: "m"}, nil
		})
	var c calls
	c.mock(env, nil)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA1"))
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, 12*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(missend(t)))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, start, emailAt.In(tokyo), "e-mail goes out at once, whatever the hour")
	require.Equal(t, 1, c.count())
	require.Equal(t, time.Date(2026, 11, 17, 9, 0, 0, 0, tokyo), c.times[0].In(tokyo), "the call waits for 09:00 JST")
}

func TestRecall_RepeatedNoAnswerEndsUnreachable(t *testing.T) {
	env := newEnv()
	startAt10JST(env)
	policy := missend(t)
	policy.Retry.Voice = &runbooks.RetrySchedule{Intervals: []runbooks.Duration{runbooks.Duration(2 * time.Hour)}, MaxAttempts: 3}
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	var c calls
	c.mock(env, nil)
	// Each call is reported unanswered a minute after it is placed; the
	// next follows two hours after that.
	for k := 1; k <= 3; k++ {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(workflows.SignalDelivery, callEvent(workflows.DeliveryNoAnswer, k, "CA"+string(rune('0'+k))))
		}, time.Duration(k-1)*(2*time.Hour+time.Minute)+time.Minute)
	}
	var st workflows.RecallStatus
	var details string
	env.RegisterDelayedCallback(func() {
		st = queryRecall(t, env)
		details = currentDetails(t, env)
		env.UpdateWorkflow(workflows.UpdateCloseRecipient, "c", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(error) {}, OnComplete: func(any, error) {}},
			workflows.CloseRecipient{By: "U0LEAD", Reason: "moved abroad; confirmed by letter"})
	}, 7*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(policy))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, c.count())
	require.Equal(t, workflows.StateUnreachable, st.State)
	// The Temporal UI says where this recipient stands and why, without
	// anyone's name or number.
	require.Contains(t, details, "— unreachable")
	require.Contains(t, details, "**Asked:** email ×1, voice ×3")
	require.Contains(t, details, "**Why not confirmed yet:** no answer ×3 (voice)")
	require.NotContains(t, details, "+81")
}

func TestRecall_OperatorUpdatesAreValidated(t *testing.T) {
	env := newEnv()
	startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	var c calls
	c.mock(env, nil)
	var rejections []string
	accepted := 0
	update := func(name string, arg any) {
		env.UpdateWorkflow(name, name+time.Now().String(), &testsuite.TestUpdateCallback{
			OnAccept: func() { accepted++ }, OnReject: func(err error) { rejections = append(rejections, err.Error()) }, OnComplete: func(any, error) {},
		}, arg)
	}
	env.RegisterDelayedCallback(func() {
		update(workflows.UpdateCloseRecipient, workflows.CloseRecipient{By: "U0LEAD"})                      // no reason
		update(workflows.UpdateRecordPhoneConfirmation, workflows.OperatorConfirmation{})                   // no operator
		update(workflows.UpdateRecordPhoneConfirmation, workflows.OperatorConfirmation{By: "U0LEAD"})       // accepted
		update(workflows.UpdateRecordPhoneConfirmation, workflows.OperatorConfirmation{By: "U0OTHER"})      // already done
		update(workflows.UpdateCloseRecipient, workflows.CloseRecipient{By: "U0LEAD", Reason: "by letter"}) // accepted
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		update(workflows.UpdateCloseRecipient, workflows.CloseRecipient{By: "U0LEAD", Reason: "again"}) // closed: refused or too late
	}, time.Hour+time.Minute)

	env.ExecuteWorkflow(workflows.Recall, recallInput(missend(t)))

	require.NoError(t, env.GetWorkflowError())
	require.GreaterOrEqual(t, len(rejections), 3)
	require.Contains(t, rejections[0], "who closes it and why")
	require.Contains(t, rejections[1], "operator's identity")
	require.Contains(t, rejections[2], "R00001 has already confirmed by phone; the runbook also needs a confirmation by email: if the person confirmed the deletion another way, close the recipient")
	require.Equal(t, 2, accepted, "only the valid phone confirmation and the first close")
	var st workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.StateClosedByOperator, st.State)
}

func TestRecall_CallingHoursAreTheRecipientsOwnWhenTheListSaysSo(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetDetachedChildWait(false)
	workflows.Register(env)
	// A member living in New York: 10:00 JST is 20:00 the day before there.
	env.OnActivity(a.LookupRecipient, mock.Anything, mock.Anything).Return(
		recipients.Recipient{ID: "R00001", TimeZone: "America/New_York"}, nil)
	start := startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	var c calls
	c.mock(env, nil)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA1"))
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, 13*time.Hour+5*time.Minute) // 09:05 in New York

	env.ExecuteWorkflow(workflows.Recall, recallInput(missend(t)))

	require.NoError(t, env.GetWorkflowError())
	ny, _ := time.LoadLocation("America/New_York")
	require.Equal(t, 1, c.count())
	require.Equal(t, time.Date(2026, 11, 16, 9, 0, 0, 0, ny), c.times[0].In(ny), "09:00 in New York, not in Tokyo")
	require.True(t, c.times[0].After(start))
}
