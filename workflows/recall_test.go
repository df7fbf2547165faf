package workflows_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

var a *activities.Activities

// newIncidentEnv is newEnv for tests of the recall inside an Incident: the
// response around it (obligations, reports, the closing record) talks to
// people through activities these tests do not look at.
func newIncidentEnv() *testsuite.TestWorkflowEnvironment {
	env := newEnv()
	var rm *activities.RoleMailer
	var rec *activities.Recorder
	var rd *activities.WorkflowReader
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(reports.Draft{}, nil).Maybe()
	env.OnActivity(rm.EmailRole, mock.Anything, mock.Anything).Return(activities.RoleMailResult{}, nil).Maybe()
	env.OnActivity(rec.WriteRecord, mock.Anything, mock.Anything).Return(activities.RecordResult{}, nil).Maybe()
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(a.PostIncidentMessage, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{Channel: "C", TS: "1.000001"}, nil).Maybe()
	// Reconciliation finds nothing to correct: these tests show the
	// reports alone keep the counts exact (incident_counts_test.go shows
	// reconciliation).
	env.OnActivity(rd.QueryWorkflows, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.QueryRequest) (activities.QueryResult, error) {
			return activities.QueryResult{Answers: make([]json.RawMessage, len(req.WorkflowIDs))}, nil
		}).Maybe()
	return env
}

// newEnv returns a test environment that logs only errors.
func newEnv() *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute) // wall clock; -race on 2 cores is slow
	// Recalls are abandoned children that outlive a closed Incident (an
	// unreachable recipient's task stays open): do not wait for them.
	env.SetDetachedChildWait(false)
	workflows.Register(env)
	env.OnActivity(a.LookupRecipient, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LookupRequest) (recipients.Recipient, error) {
			return recipients.Recipient{ID: in.RecipientID, Name: "Test Person"}, nil
		}).Maybe()
	return env
}

func days(n int) runbooks.Duration { return runbooks.Duration(time.Duration(n) * 24 * time.Hour) }

// emailOnly is a recall policy that asks by e-mail and needs only the
// e-mail confirmation: three requests, one day apart.
func emailOnly() runbooks.RecallPhase {
	return runbooks.RecallPhase{
		Request: []runbooks.Channel{runbooks.ChannelEmail},
		Confirm: []runbooks.Confirmation{runbooks.ConfirmEmail},
		Retry:   runbooks.RetrySchedules{Email: &runbooks.RetrySchedule{Intervals: []runbooks.Duration{days(1)}, MaxAttempts: 3}},
	}
}

func recallInput(policy runbooks.RecallPhase) workflows.RecallInput {
	return workflows.RecallInput{
		IncidentID: "INC-20261121-TEST01", RecipientID: "R00001", Index: 0,
		List:   recipients.ListRef{Location: "x", SHA256: "abc", Count: 1},
		Policy: policy,
	}
}

func sent(id string) func(context.Context, activities.DeletionRequest) (activities.SendResult, error) {
	return func(context.Context, activities.DeletionRequest) (activities.SendResult, error) {
		return activities.SendResult{MessageID: id}, nil
	}
}

func confirmByLink(at time.Time) workflows.Confirmation {
	return workflows.Confirmation{Channel: runbooks.ConfirmEmail, Evidence: workflows.Evidence{Source: "link", ReceivedAt: at}}
}

func TestRecall_EmailConfirmationAfterFirstRequestConfirms(t *testing.T) {
	env := newEnv()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("msg-1")).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, 3*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(emailOnly()))

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.StateConfirmed, st.State)
	require.Len(t, st.Attempts, 1)
	require.Equal(t, "msg-1", st.Attempts[0].MessageID)
	require.Len(t, st.Confirmations, 1)
	require.Equal(t, "link", st.Confirmations[0].Evidence.Source)
	env.AssertExpectations(t)
}

func TestRecall_RemindsOnScheduleThenUnreachableUntilLateConfirmation(t *testing.T) {
	env := newEnv()
	var attempts []int
	var sendTimes []time.Duration
	start := env.Now()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.DeletionRequest) (activities.SendResult, error) {
			attempts = append(attempts, r.Attempt)
			sendTimes = append(sendTimes, env.Now().Sub(start))
			return activities.SendResult{MessageID: "m"}, nil
		})
	var stateAtDay4 workflows.RecallState
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryStatus)
		require.NoError(t, err)
		var st workflows.RecallStatus
		require.NoError(t, v.Get(&st))
		stateAtDay4 = st.State
	}, 4*24*time.Hour)
	// A confirmation weeks later still counts.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, 20*24*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(emailOnly()))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []int{1, 2, 3}, attempts)
	require.Equal(t, []time.Duration{0, 24 * time.Hour, 48 * time.Hour}, sendTimes)
	require.Equal(t, workflows.StateUnreachable, stateAtDay4, "after 3 requests and a last day of waiting")
	var st workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.StateConfirmed, st.State)
}

func TestRecall_BounceMakesRecipientUnreachableAtOnce(t *testing.T) {
	env := newEnv()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m")).Once()
	var st workflows.RecallStatus
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalDelivery, workflows.DeliveryEvent{Channel: runbooks.ChannelEmail, Kind: workflows.DeliveryBounced, Evidence: workflows.Evidence{Source: "sendgrid", EventID: "ev1"}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&st))
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(emailOnly()))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.StateUnreachable, st.State, "a bounce ends e-mail requests at once")
	require.Len(t, st.Attempts, 1, "no reminder after a bounce")
	require.Len(t, st.Events, 1)
}

func TestRecall_DuplicateConfirmationsAndEventsAreRecordedOnce(t *testing.T) {
	env := newEnv()
	policy := emailOnly()
	policy.Confirm = []runbooks.Confirmation{runbooks.ConfirmEmail, runbooks.ConfirmPhone}
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	delivered := workflows.DeliveryEvent{Channel: runbooks.ChannelEmail, Kind: workflows.DeliveryDelivered, Evidence: workflows.Evidence{EventID: "ev-1"}}
	for _, d := range []time.Duration{time.Minute, 2 * time.Minute} {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(workflows.SignalDelivery, delivered)
			env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
		}, d)
	}
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalConfirmation, workflows.Confirmation{Channel: runbooks.ConfirmPhone, Evidence: workflows.Evidence{Source: "operator", Operator: "U123"}})
	}, time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(policy))

	require.NoError(t, env.GetWorkflowError())
	var st workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.StateConfirmed, st.State)
	require.Len(t, st.Confirmations, 2, "one per channel, duplicates ignored")
	require.Len(t, st.Events, 1, "duplicate event ID ignored")
}

func TestRecall_NoAddressExhaustsChannelWithoutRetrying(t *testing.T) {
	env := newEnv()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(
		activities.SendResult{}, temporal.NewNonRetryableApplicationError("no address", activities.ErrTypeNoAddress, nil)).Once()
	var st workflows.RecallStatus
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(workflows.QueryStatus)
		require.NoError(t, v.Get(&st))
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(emailOnly()))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.StateUnreachable, st.State)
	require.Equal(t, "failed: "+activities.ErrTypeNoAddress, st.Attempts[0].Outcome)
}

func TestRecall_ABounceCountsAsAskedEvenWhenTheSendsAnswerWasLost(t *testing.T) {
	env := newEnv()
	// The provider took the mail but its answer never came: the activity
	// is still retrying when the bounce report arrives.
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(
		activities.SendResult{}, temporal.NewNonRetryableApplicationError("answer lost", "Lost", nil)).After(2 * time.Hour)
	var st workflows.RecallStatus
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalDelivery, workflows.DeliveryEvent{Channel: runbooks.ChannelEmail, Kind: workflows.DeliveryBounced,
			Evidence: workflows.Evidence{Source: "sendgrid", EventID: "ev-b"}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		st = queryRecall(t, env)
		env.SignalWorkflow(workflows.SignalConfirmation, confirmByLink(env.Now()))
	}, 3*time.Hour)

	env.ExecuteWorkflow(workflows.Recall, recallInput(emailOnly()))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.StateUnreachable, st.State)
	require.True(t, st.Requested, "the bounce proves the request went out: counted as asked")
	var final workflows.RecallStatus
	require.NoError(t, env.GetWorkflowResult(&final))
	require.Equal(t, workflows.StateConfirmed, final.State)
}
