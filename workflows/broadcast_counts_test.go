package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/workflows"
)

// How a notice stands is told outcome by outcome, everywhere it is shown
// (CLI, Slack, the Temporal UI's details): never "sent 7/7" when 2 bounced.
func TestBroadcastCountsText(t *testing.T) {
	tests := []struct {
		name string
		p    workflows.BroadcastProgress
		want string
	}{
		{"not started", workflows.BroadcastProgress{}, ""},
		{"all accepted, nothing heard", workflows.BroadcastProgress{Total: 7, Sent: 7}, "accepted 7/7"},
		{"two of seven bounced", workflows.BroadcastProgress{Total: 7, Sent: 7, Bounced: 2}, "accepted 7/7, bounced 2"},
		{"every outcome", workflows.BroadcastProgress{Total: 100, Sent: 95, Bounced: 3, Dropped: 1, NoAddress: 4, Invalid: 1}, "accepted 95/100, bounced 3, dropped 1, no address 5"},
		{"halfway", workflows.BroadcastProgress{Total: 1000, Sent: 400}, "accepted 400/1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.CountsText(); got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
			r := workflows.BroadcastRef{Sent: tt.p.Sent, Total: tt.p.Total, Bounced: tt.p.Bounced, Dropped: tt.p.Dropped, NotSent: tt.p.NoAddress + tt.p.Invalid}
			if got := r.CountsText(); got != tt.want {
				t.Errorf("the Incident's view: %q, want %q", got, tt.want)
			}
		})
	}
}

// Bounces and drops that arrive within the bounce window are published as
// they come (versionOutcomes): the Temporal UI's details say "bounced 1,
// dropped 1" hours before the window ends, not "sent" alone.
func TestBroadcast_BouncesAreShownAsTheyArrive(t *testing.T) {
	env := broadcastEnv()
	f := newFakeNotices()
	f.register(env)
	env.OnActivity(a.PostTaskNotice, mock.Anything, mock.Anything).Return(activities.SlackMessageRef{}, nil).Maybe()
	in := seed004(1300)
	var before, after string
	details := func() string {
		v, err := env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(t, err)
		var md sdkpb.WorkflowMetadata
		require.NoError(t, v.Get(&md))
		return md.GetCurrentDetails()
	}
	env.RegisterDelayedCallback(func() { approveAll(t, env) }, time.Minute)
	env.RegisterDelayedCallback(func() { before = details() }, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalBroadcastDelivery, workflows.BroadcastDelivery{RecipientID: "R00002", Kind: workflows.DeliveryBounced, EventID: "e1"})
		env.SignalWorkflow(workflows.SignalBroadcastDelivery, workflows.BroadcastDelivery{RecipientID: "R01300", Kind: workflows.DeliveryDropped, EventID: "e2"})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() { after = details() }, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		update(env, workflows.UpdateRecordSubstitute, workflows.SubstituteMeasure{
			By: "U_PR", PublishedURL: "https://example.co.jp/news/apology", InquiryDesk: "0120-123-456"})
	}, 4*24*time.Hour)
	env.ExecuteWorkflow(workflows.Broadcast, in)
	require.Equal(t, workflows.BroadcastDone, result(t, env).State)
	require.Contains(t, before, "**Recipients:** accepted 1300/1300\n")
	require.Contains(t, after, "**Recipients:** accepted 1300/1300, bounced 1, dropped 1\n", "within the bounce window")
}
