package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/workflows"
)

// The bot was removed from the incident channel when the incident was
// declared, and re-invited minutes later: the incident message is posted
// once Slack takes it, and what happened meanwhile reaches the thread,
// in order, instead of being dropped.
func TestIncident_SlackUnavailableKeepsTheMessageAndThreadForLater(t *testing.T) {
	env := newEnv()
	var rm *activities.RoleMailer
	var rec *activities.Recorder
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(reports.Draft{}, nil).Maybe()
	env.OnActivity(rm.EmailRole, mock.Anything, mock.Anything).Return(activities.RoleMailResult{}, nil).Maybe()
	env.OnActivity(rec.WriteRecord, mock.Anything, mock.Anything).Return(activities.RecordResult{}, nil).Maybe()
	startAt10JST(env)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	env.OnActivity(a.CallDeletionRequest, mock.Anything, mock.Anything).Return(sent("CA1"))

	start := env.Now()
	reinvited := start.Add(5 * time.Minute)
	var mu sync.Mutex
	var posts []time.Duration // when a post of the incident message was tried
	var replies []string
	env.OnActivity(a.PostIncidentMessage, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.IncidentMessage) (activities.SlackMessageRef, error) {
			mu.Lock()
			defer mu.Unlock()
			posts = append(posts, env.Now().Sub(start))
			if env.Now().Before(reinvited) {
				return activities.SlackMessageRef{}, temporal.NewNonRetryableApplicationError("chat.postMessage: not_in_channel", activities.ErrTypeSlackChannel, nil)
			}
			return activities.SlackMessageRef{Channel: "C1", TS: "1.000001"}, nil
		})
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.ThreadReply) error {
		mu.Lock()
		defer mu.Unlock()
		if env.Now().Before(reinvited) {
			t.Errorf("a thread reply was posted at %v, before the incident message", env.Now().Sub(start))
		}
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
	mu.Lock()
	defer mu.Unlock()
	// Tried at once, then after 1, 2 and 4 minutes (backing off), and
	// taken at 7 minutes; later updates go through.
	require.GreaterOrEqual(t, len(posts), 4)
	require.Equal(t, []time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute}, posts[:4])
	require.Contains(t, replies, "R00001 asked on the phone to be called back: call them back, then record the outcome (buttons on the incident message).")
	// The close waited for its own reply to be posted.
	require.Equal(t, "Incident closed by <@U1>: all confirmed", replies[len(replies)-1])
}

// Slack going away for good (the bot removed) when the incident is closed
// does not keep the incident open: it waits a few minutes for Slack, then
// closes and writes its record.
func TestIncident_ClosesWhenSlackIsAway(t *testing.T) {
	env := newEnv()
	var rm *activities.RoleMailer
	var rec *activities.Recorder
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(reports.Draft{}, nil).Maybe()
	env.OnActivity(rm.EmailRole, mock.Anything, mock.Anything).Return(activities.RoleMailResult{}, nil).Maybe()
	env.OnActivity(rec.WriteRecord, mock.Anything, mock.Anything).Return(activities.RecordResult{}, nil).Once()
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m")).Maybe()
	start := env.Now()
	removed := start.Add(30 * time.Minute)
	away := temporal.NewNonRetryableApplicationError("not_in_channel", activities.ErrTypeSlackChannel, nil)
	env.OnActivity(a.PostIncidentMessage, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.IncidentMessage) (activities.SlackMessageRef, error) {
			if !env.Now().Before(removed) {
				return activities.SlackMessageRef{}, away
			}
			return activities.SlackMessageRef{Channel: "C1", TS: "1.000001"}, nil
		})
	env.OnActivity(a.PostThreadReply, mock.Anything, mock.Anything).Return(func(context.Context, activities.ThreadReply) error {
		if !env.Now().Before(removed) {
			return away
		}
		return nil
	})
	in := incidentInput(1, 1)
	in.SlackChannel = "C1"
	var closedAt time.Time
	// R00001 is still being asked: the close stops asking.
	env.RegisterDelayedCallback(func() { closeStoppingRecalls(env) }, time.Hour)

	env.ExecuteWorkflow(workflows.Incident, in)
	closedAt = env.Now()

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.PhaseClosed, res.Status.Phase)
	require.LessOrEqual(t, closedAt.Sub(start), time.Hour+10*time.Minute)
	env.AssertExpectations(t)
}
