package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/workflows"
)

// approveCapture answers a broadcast's status query and keeps the
// approval sent.
type approveCapture struct {
	client.Client // nothing else is called
	fp            string
	sent          []workflows.ApproveBroadcast
}

func (f *approveCapture) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	p, err := converter.GetDefaultDataConverter().ToPayloads(workflows.BroadcastStatus{State: workflows.BroadcastAwaitingApproval, Fingerprint: f.fp})
	if err != nil {
		return nil, err
	}
	return client.NewValue(p), nil
}

func (f *approveCapture) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.sent = append(f.sent, o.Args[0].(workflows.ApproveBroadcast))
	return approvedHandle{}, nil
}

type approvedHandle struct{}

func (approvedHandle) WorkflowID() string                 { return "INC-1/broadcast/2" }
func (approvedHandle) RunID() string                      { return "" }
func (approvedHandle) UpdateID() string                   { return "u" }
func (approvedHandle) Get(_ context.Context, _ any) error { return nil }

// An approver key made by `starter approver-key` signs `broadcast approve`:
// the approval is recorded under the key's ID and verifies against the
// registry entry printed; --by cannot put another name on it.
func TestApproverKey_SignsTheApprovalUnderItsOwnName(t *testing.T) {
	t.Setenv("USER", "aiko")
	dir := t.TempDir()
	file := filepath.Join(dir, "alice.key")
	var out strings.Builder
	require.NoError(t, approverKey(&out, []string{"alice", "--out", file}))
	entry := strings.TrimSpace(out.String()[strings.LastIndex(strings.TrimSpace(out.String()), "\n")+1:])
	reg, err := approvals.ParseRegistry(entry)
	require.NoError(t, err)
	info, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the private key is its holder's alone")
	require.ErrorContains(t, approverKey(&out, []string{"alice", "--out", file}), "never overwritten")

	fp := strings.Repeat("ab", 32)
	step, s, err := broadcastNoun.parse([]string{"approve", "INC-1", "2", "--fingerprint", fp[:16], "--key", file})
	require.NoError(t, err)
	require.Equal(t, "alice", s.by, "recorded under the key's ID")
	fake := &approveCapture{fp: fp}
	var printed strings.Builder
	s.c, s.out = fake, &printed
	require.NoError(t, step(context.Background(), s))
	require.Len(t, fake.sent, 1)
	ab := fake.sent[0]
	require.Equal(t, "alice", ab.By)
	require.Equal(t, "alice", ab.KeyID)
	require.NoError(t, reg.Verify(ab.KeyID, workflows.BroadcastWorkflowID("INC-1", 2), fp, ab.By, ab.Signature))

	_, _, err = broadcastNoun.parse([]string{"approve", "INC-1", "2", "--fingerprint", fp[:16], "--key", file, "--by", "bob"})
	require.ErrorContains(t, err, "signed with the key of alice")
}
