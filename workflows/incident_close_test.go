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
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// closeEnv is an Incident of n recipients (e-mail only, window w) whose
// sends and written record the test reads.
type closeEnv struct {
	env *testsuite.TestWorkflowEnvironment
	in  workflows.IncidentInput

	mu     sync.Mutex
	sends  map[string][]time.Time // by Recall workflow ID
	record *activities.RecordRequest
}

func newCloseEnv(n, window int) *closeEnv {
	c := &closeEnv{env: newEnv(), in: incidentInput(n, window), sends: map[string][]time.Time{}}
	var rm *activities.RoleMailer
	var rec *activities.Recorder
	c.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(reports.Draft{}, nil).Maybe()
	c.env.OnActivity(rm.EmailRole, mock.Anything, mock.Anything).Return(activities.RoleMailResult{}, nil).Maybe()
	c.env.OnActivity(rec.WriteRecord, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.RecordRequest) (activities.RecordResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.record = &r
			return activities.RecordResult{}, nil
		})
	c.env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.DeletionRequest) (activities.SendResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.sends[r.RecallWorkflowID] = append(c.sends[r.RecallWorkflowID], c.env.Now())
			return activities.SendResult{MessageID: "m"}, nil
		}).Maybe()
	return c
}

func (c *closeEnv) recallID(k int) string {
	return workflows.RecallWorkflowID(c.in.IncidentID, recipients.RecipientID(k))
}

func (c *closeEnv) at(d time.Duration, fn func()) { c.env.RegisterDelayedCallback(fn, d) }

// Ways a recipient settles without the incident's close.
func (c *closeEnv) confirm(t *testing.T, k int) {
	require.NoError(t, c.env.SignalWorkflowByID(c.recallID(k), workflows.SignalConfirmation, confirmByLink(c.env.Now())))
}

func (c *closeEnv) bounce(t *testing.T, k int) {
	ev := workflows.DeliveryEvent{Channel: runbooks.ChannelEmail, Kind: workflows.DeliveryBounced,
		Evidence: workflows.Evidence{Source: "sendgrid", EventID: "bounce-" + recipients.RecipientID(k)}}
	require.NoError(t, c.env.SignalWorkflowByID(c.recallID(k), workflows.SignalDelivery, ev))
}

func (c *closeEnv) closeRecipient(t *testing.T, k int) {
	require.NoError(t, c.env.UpdateWorkflowByID(c.recallID(k), workflows.UpdateCloseRecipient, "close-"+recipients.RecipientID(k), &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(err error) { t.Errorf("close recipient refused: %v", err) }, OnComplete: func(any, error) {},
	}, workflows.CloseRecipient{By: "U0OPS", Reason: "confirmed by post"}))
}

// tryClose closes the incident; the refusal, if any, is kept in *refused.
func (c *closeEnv) tryClose(stop bool, refused *error) {
	c.env.UpdateWorkflow(workflows.UpdateCloseIncident, "close", &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(err error) { *refused = err }, OnComplete: func(any, error) {},
	}, workflows.CloseIncident{By: "U1", Reason: "handled outside breachflow", StopRecalls: stop})
}

func (c *closeEnv) result(t *testing.T) workflows.IncidentResult {
	t.Helper()
	require.True(t, c.env.IsWorkflowCompleted())
	require.NoError(t, c.env.GetWorkflowError())
	var res workflows.IncidentResult
	require.NoError(t, c.env.GetWorkflowResult(&res))
	return res
}

// A close is refused while anyone is still being asked (started or not
// yet started by the sliding window), saying how many, which, and what to
// do; it is accepted once everyone is confirmed, unreachable (a person's
// task) or closed by an operator.
func TestIncident_CloseIsRefusedWhileRecipientsAreStillBeingAsked(t *testing.T) {
	tests := []struct {
		name       string
		n, window  int
		meanwhile  func(c *closeEnv, t *testing.T) // 10 minutes in
		wantRefuse []string                        // empty: accepted
	}{
		{
			name: "twelve being asked, seven of them not started yet", n: 12, window: 5,
			meanwhile: func(*closeEnv, *testing.T) {},
			wantRefuse: []string{
				"12 recipient(s) are still being asked to delete the data (R00001, R00002, R00003, R00004, R00005, R00006, R00007, R00008, R00009, R00010 and 2 more)",
				"close each with a reason (starter recipient close)", "--stop-recalls", "stops asking them",
			},
		},
		{
			name: "one still asked among the settled", n: 3, window: 3,
			meanwhile:  func(c *closeEnv, t *testing.T) { c.confirm(t, 1); c.bounce(t, 2) },
			wantRefuse: []string{"1 recipient(s) are still being asked to delete the data (R00003)"},
		},
		{
			name: "everyone confirmed, unreachable or closed by an operator: accepted", n: 3, window: 3,
			meanwhile: func(c *closeEnv, t *testing.T) { c.confirm(t, 1); c.bounce(t, 2); c.closeRecipient(t, 3) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCloseEnv(tt.n, tt.window)
			var refused error
			c.at(10*time.Minute, func() { tt.meanwhile(c, t) })
			c.at(time.Hour, func() { c.tryClose(false, &refused) })
			c.at(2*time.Hour, func() {
				if refused != nil {
					closeStoppingRecalls(c.env) // end the test
				}
			})

			c.env.ExecuteWorkflow(workflows.Incident, c.in)

			res := c.result(t)
			if len(tt.wantRefuse) == 0 {
				require.NoError(t, refused)
				require.Equal(t, workflows.RecallCounts{Total: 3, Requested: 3, EmailConfirmed: 1, Confirmed: 1, Unreachable: 1, ClosedByOperator: 1}, res.Status.Recall)
				require.Equal(t, []string{"R00002"}, res.Status.Unreachable, "without --stop-recalls an unreachable recipient stays a person's task")
				return
			}
			require.Error(t, refused)
			for _, want := range tt.wantRefuse {
				require.Contains(t, refused.Error(), want)
			}
		})
	}
}

// Closing with StopRecalls stops every recipient still open: a Recall
// being asked and an unreachable one (waiting for a person) end
// closed_by_operator with the close's reason, no request goes out after
// the close, a recipient the sliding window never started is closed
// without starting a Recall, the counts stay exact, and the record lists
// the never-started one as closed by the close.
func TestIncident_CloseWithStopRecallsEndsEveryOpenRecipient(t *testing.T) {
	c := newCloseEnv(8, 4)
	// R00001..R00004 start; R00001 confirms, R00002 bounces (unreachable),
	// an operator closes R00003: R00005..R00007 start in their place.
	// R00008 waits for a free slot.
	c.at(10*time.Minute, func() { c.confirm(t, 1); c.bounce(t, 2); c.closeRecipient(t, 3) })
	var before workflows.IncidentStatus
	var refused error
	closeAt := time.Hour
	c.at(closeAt-time.Minute, func() { before = queryIncident(t, c.env) })
	c.at(closeAt, func() { c.tryClose(true, &refused) })
	start := c.env.Now()

	c.env.ExecuteWorkflow(workflows.Incident, c.in)

	res := c.result(t)
	require.NoError(t, refused)
	require.Equal(t, workflows.RecallCounts{Total: 8, Requested: 7, Pending: 1, EmailConfirmed: 1, Confirmed: 1, Unreachable: 1, ClosedByOperator: 1}, before.Recall,
		"before the close: four being asked, one not started")
	require.Equal(t, workflows.RecallCounts{Total: 8, Requested: 7, EmailConfirmed: 1, Confirmed: 1, ClosedByOperator: 7}, res.Status.Recall,
		"after: everyone but the confirmed one closed, the unreachable one included; nobody pending")
	require.Empty(t, res.Status.Unreachable)

	for k := 1; k <= 8; k++ {
		v, err := c.env.QueryWorkflowByID(c.recallID(k), workflows.QueryStatus)
		if k == 8 {
			require.Error(t, err, "R00008's Recall never started")
			continue
		}
		require.NoError(t, err)
		var st workflows.RecallStatus
		require.NoError(t, v.Get(&st))
		switch k {
		case 1:
			require.Equal(t, workflows.StateConfirmed, st.State)
		case 3:
			require.Equal(t, "confirmed by post", st.Reason, "closed by its operator before the close")
		default:
			require.Equal(t, workflows.StateClosedByOperator, st.State, "R%05d", k)
			require.Equal(t, "incident closed by U1: handled outside breachflow", st.Reason, "R%05d", k)
			require.Equal(t, "U1", st.ClosedBy)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, at := range c.sends {
		for _, when := range at {
			require.True(t, when.Before(start.Add(closeAt)), "%s asked at %v, after the close", id, when.Sub(start))
		}
	}
	require.NotNil(t, c.record)
	require.Equal(t, &activities.ClosedRecipients{IDs: []string{"R00008"}, By: "U1", Reason: "incident closed by U1: handled outside breachflow"},
		c.record.Recall.ClosedByIncident, "the record lists the never-started one as closed by the close")
	require.Equal(t, 7, c.record.Record.Recall.Counts.ClosedByOperator)
}

// A close with StopRecalls sends its stop signals a batch at a time
// (stopBatch, 500; 5 here), so that a large incident's close does not
// put thousands of signals in one workflow task: every open Recall is
// stopped and the counts are exact.
func TestIncident_CloseWithStopRecallsSignalsInBatches(t *testing.T) {
	defer workflows.SetStopBatch(5)()
	const n = 12
	c := newCloseEnv(n, n)
	var refused error
	c.at(time.Hour, func() { c.tryClose(true, &refused) })

	c.env.ExecuteWorkflow(workflows.Incident, c.in)

	res := c.result(t)
	require.NoError(t, refused)
	require.Equal(t, workflows.RecallCounts{Total: n, Requested: n, ClosedByOperator: n}, res.Status.Recall)
	require.NotNil(t, c.record)
	require.Nil(t, c.record.Recall.ClosedByIncident, "every Recall reported its own stop")
}
