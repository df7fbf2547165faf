package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/activities"
)

// The sender is part of what the approvers approved (the fingerprint
// covers it, and the test send showed it): a worker whose sender setting
// changed after the approval still sends from the approved address.
func TestSendNotices_GoOutFromTheApprovedSender(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 20)
	c := prepare(t, n, seed004Request(t, list)).Content
	require.Equal(t, "security@example.co.jp", c.From)
	n.Sender = activities.FromAddress{Name: "other", Email: "newsletter@example.co.jp"} // redeployed meanwhile
	_, err := sendChunk(t, n, chunkOf(c, 0, 20), nil)
	require.NoError(t, err)
	out := w.sb.Outbox()
	require.Len(t, out, 18)
	for _, m := range out {
		require.Equal(t, "security@example.co.jp", m.From, "from the sender the approvers approved")
	}
}
