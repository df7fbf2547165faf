package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/workflows"
)

func approverKey(t *testing.T, id string) (approvals.Key, string) {
	t.Helper()
	file, entry, err := approvals.GenerateKey(id)
	require.NoError(t, err)
	k, err := approvals.ParseKey(file)
	require.NoError(t, err)
	return k, entry
}

// With an approver registry, a quorum counts verified people: one CLI user
// holding one key cannot meet a quorum of 2 by approving twice under two
// --by names, nor by signing for someone else; a second, distinct person
// (here approving in Slack, attested by the front door's key) can.
func TestBroadcast_OneApproverCannotMeetAQuorumOfTwoAlone(t *testing.T) {
	alice, ea := approverKey(t, "alice")
	_, eb := approverKey(t, "bob")
	door, es := approverKey(t, approvals.SlackKeyID)
	reg, err := approvals.ParseRegistry(ea + ";" + eb + ";" + es)
	require.NoError(t, err)

	env := broadcastEnv()
	f := newFakeNotices()
	f.keys = reg
	f.register(env)
	in := seed004(10)
	in.Policy.Quorum = 2
	signed := func(fp, by, keyID, sig string) *outcome {
		return update(env, workflows.UpdateApproveBroadcast, workflows.ApproveBroadcast{Fingerprint: fp, By: by, KeyID: keyID, Signature: sig})
	}
	var unsigned, first, asBob, twice, forged, slack *outcome
	var between workflows.BroadcastStatus
	steps(env,
		func() {
			fp := queryBroadcast(t, env).Fingerprint
			unsigned = approve(env, fp, "alice")
			first = signed(fp, "alice", "alice", alice.Sign(broadcastID, fp, "alice"))
			asBob = signed(fp, "bob", "alice", alice.Sign(broadcastID, fp, "bob"))
			twice = signed(fp, "alice", "alice", alice.Sign(broadcastID, fp, "alice"))
			forged = signed(fp, "bob", "bob", alice.Sign(broadcastID, fp, "bob"))
		},
		func() { between = queryBroadcast(t, env) },
		func() {
			fp := queryBroadcast(t, env).Fingerprint
			slack = signed(fp, "U0LEGAL", approvals.SlackKeyID, door.Sign(broadcastID, fp, approvals.SlackIdentity("U0LEGAL")))
		},
	)
	env.RegisterDelayedCallback(func() {}, time.Hour)
	env.ExecuteWorkflow(workflows.Broadcast, in)

	require.ErrorContains(t, unsigned.rejected, "must be signed by a registered approver")
	first.ok(t)
	require.ErrorContains(t, asBob.rejected, "signs only its own approvals")
	require.ErrorContains(t, twice.rejected, "already approved")
	require.ErrorContains(t, forged.rejected, "signature does not match")
	require.Equal(t, workflows.BroadcastAwaitingApproval, between.State, "one person, however many names, is one approval of 2")
	require.Len(t, between.Approvals, 1)
	slack.ok(t)
	st := result(t, env)
	require.Equal(t, workflows.BroadcastDone, st.State)
	require.Len(t, st.Approvals, 2)
	require.Equal(t, "alice", st.Approvals[0].Identity)
	require.Equal(t, "slack:U0LEGAL", st.Approvals[1].Identity)
}
