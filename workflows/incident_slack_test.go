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
}
