package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

func seedIncident(t *testing.T, runbook string, n int) workflows.IncidentInput {
	t.Helper()
	snap, err := runbooks.Builtin(runbook)
	require.NoError(t, err)
	return workflows.IncidentInput{
		IncidentID:      "INC-20261116-SEED00",
		Runbook:         snap,
		Facts:           workflows.Facts{Title: "seed", Persons: n},
		WrongRecipients: &recipients.ListRef{Location: "x", SHA256: "abc", Count: n},
		DeclaredBy:      "U0LEAD",
	}
}

func recallID(k int) string {
	return workflows.RecallWorkflowID("INC-20261116-SEED00", recipients.RecipientID(k))
}

// Seed 000: 53 members received a file by mistake. Each is asked by e-mail
// and phone; all 53 confirm by phone on the first day; e-mail confirmations
// trickle in, the last one on day 7; one member never sends the e-mail.
// Day 7's report: asked 53, confirmed by phone 53, also by e-mail 52 (+1
// since yesterday).
func TestSeed000_Day7_53ByPhone52AlsoByEmailPlusOneSinceYesterday(t *testing.T) {
	const n = 53
	env := newIncidentEnv()
	start := time.Date(2026, 11, 16, 10, 0, 0, 0, tokyo) // a Monday morning
	env.SetStartTime(start)
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	env.OnActivity(a.CallDeletionRequest, mock.Anything, mock.Anything).Return(sent("CA"))

	env.RegisterDelayedCallback(func() {
		for k := 1; k <= n; k++ {
			require.NoError(t, env.SignalWorkflowByID(recallID(k), workflows.SignalConfirmation, phoneByKeypad(env.Now(), "CA")))
		}
	}, 3*time.Hour)
	emailDay := func(k int) time.Duration { // hours after the start
		switch {
		case k <= 45:
			return 5 * time.Hour // day 1
		case k <= 51:
			return 2*24*time.Hour + 2*time.Hour // day 3
		default:
			return 6*24*time.Hour + 2*time.Hour // k == 52: day 7, 12:00
		}
	}
	for k := 1; k <= 52; k++ {
		env.RegisterDelayedCallback(func() {
			require.NoError(t, env.SignalWorkflowByID(recallID(k), workflows.SignalConfirmation, confirmByLink(env.Now())))
		}, emailDay(k))
	}
	var day7 workflows.IncidentStatus
	// Day 7 at 19:00 JST, just after the 18:00 report.
	env.RegisterDelayedCallback(func() { day7 = queryIncident(t, env) }, 6*24*time.Hour+9*time.Hour)
	// R00053, confirmed by phone only, is still being asked by e-mail.
	env.RegisterDelayedCallback(func() { closeStoppingRecalls(env) }, 8*24*time.Hour)

	env.ExecuteWorkflow(workflows.Incident, seedIncident(t, "missend", n))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 53, day7.Recall.Requested, "asked 53")
	require.Equal(t, 53, day7.Recall.PhoneConfirmed, "confirmed by phone 53")
	require.Equal(t, 52, day7.Recall.EmailConfirmed, "also by e-mail 52")
	require.Equal(t, 52, day7.Recall.Confirmed, "both ways: 52")
	require.NotNil(t, day7.SinceYesterday)
	require.Equal(t, 1, day7.SinceYesterday.EmailConfirmed, "+1 since yesterday")
	require.Equal(t, 0, day7.SinceYesterday.PhoneConfirmed)
	require.Equal(t, time.Date(2026, 11, 22, 18, 0, 0, 0, tokyo), day7.DayBoundaryAt.In(tokyo), "as of day 7's 18:00 JST report")
}

// Seed 003: 29 addresses were visible to each other; the deletion request
// to all 29 bounced for 15. The 15 become unreachable tasks; the 14 who
// received it confirm.
func TestSeed003_15BouncesBecome15UnreachableTasks14Confirmed(t *testing.T) {
	const n = 29
	env := newIncidentEnv()
	env.SetStartTime(time.Date(2026, 11, 16, 19, 0, 0, 0, tokyo))
	env.OnActivity(a.EmailDeletionRequest, mock.Anything, mock.Anything).Return(sent("m"))
	env.RegisterDelayedCallback(func() {
		for k := 1; k <= n; k++ {
			if k%2 == 1 { // 15 odd-numbered recipients bounce
				ev := workflows.DeliveryEvent{Channel: runbooks.ChannelEmail, Kind: workflows.DeliveryBounced,
					Evidence: workflows.Evidence{Source: "sendgrid", EventID: "bounce-" + recipients.RecipientID(k)}}
				require.NoError(t, env.SignalWorkflowByID(recallID(k), workflows.SignalDelivery, ev))
				continue
			}
			require.NoError(t, env.SignalWorkflowByID(recallID(k), workflows.SignalConfirmation, confirmByLink(env.Now())))
		}
	}, 10*time.Minute)
	var st workflows.IncidentStatus
	env.RegisterDelayedCallback(func() { st = queryIncident(t, env) }, time.Hour)
	env.RegisterDelayedCallback(func() { closeIncident(env) }, 3*24*time.Hour)

	env.ExecuteWorkflow(workflows.Incident, seedIncident(t, "visible-recipients", n))

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.RecallCounts{Total: 29, Requested: 29, EmailConfirmed: 14, Confirmed: 14, Unreachable: 15}, st.Recall)
	require.Len(t, st.Unreachable, 15, "one human task per unreachable recipient")
	require.Equal(t, "R00001", st.Unreachable[0])
	require.Equal(t, workflows.PhaseMonitoring, st.Phase, "everyone is settled: confirmed or a human's task")
}
