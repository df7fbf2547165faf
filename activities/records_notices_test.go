package activities_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/workflows"
)

// The record reads each broadcast's and letter's own status: the
// approvals with their fingerprint, the test send, the send; the letter,
// its mailing with the tracking number, the answer. A broadcast that never
// started is marked as such; the list's storage key is not kept.
func TestWriteRecord_ReadsEveryBroadcastAndLetter(t *testing.T) {
	at := time.Date(2026, 11, 13, 1, 0, 0, 0, time.UTC)
	fp := strings.Repeat("f", 64)
	b1, b2 := "INC-20261112-SEED00/broadcast/1", "INC-20261112-SEED00/broadcast/2"
	d1 := "INC-20261112-SEED00/broker/B001"
	fake := &fakeWorkflows{status: map[string]any{
		b1: workflows.BroadcastStatus{BroadcastID: b1, State: workflows.BroadcastDone, Fingerprint: fp, Quorum: 2,
			List:      recipients.ListRef{Location: "secret-store-key.jsonl", SHA256: "list-sha", Count: 3},
			Approvals: []workflows.Approval{{Fingerprint: fp, By: "U0DPO", At: at}, {Fingerprint: fp, By: "U0LEGAL", At: at.Add(time.Minute)}},
			TestSends: []workflows.TestSendRecord{{Fingerprint: fp, At: at.Add(-time.Hour), Approvers: 2, Roles: []string{"legal"}, MessageID: "m-test"}},
			Progress:  workflows.BroadcastProgress{Total: 3, Done: 3, Sent: 3}, SentAt: at.Add(2 * time.Minute)},
		d1: workflows.BrokerDemandStatus{DemandID: "B001", State: workflows.DemandComplied,
			Letter:   activities.BrokerLetter{Path: "/l/B001.pdf", SHA256: "letter-sha"},
			Mailings: []workflows.LetterMailed{{TrackingNumber: "1234-5678-9012", MailedAt: at, By: "U0LEGAL"}},
			Answers:  []workflows.BrokerAnswer{{Outcome: workflows.AnswerComplied, ReceivedAt: at.Add(14 * 24 * time.Hour), By: "U0LEGAL"}}},
	}}
	req := recordRequest()
	req.Recall = nil
	req.Record.Broadcasts = []record.Broadcast{
		{N: 1, WorkflowID: b1, Purpose: "notice", StartedBy: "U0LEAD", List: "affected", State: "sending"},
		{N: 2, WorkflowID: b2, Purpose: "daily_report", Day: 2, StartedBy: record.System, List: "notice 1", State: "preparing"},
	}
	req.Record.BrokerDemands = []record.BrokerDemand{{DemandID: "B001", WorkflowID: d1, StartedBy: "U0LEGAL", State: "awaiting_mailing"}}
	req.Notices = &activities.NoticeSource{Broadcasts: []string{b1, b2}, Demands: []string{d1}, Query: workflows.QueryStatus}
	dir := t.TempDir()

	res, err := runRecorder(t, &activities.Recorder{Dir: dir, Workflows: fake}, req)

	require.NoError(t, err)
	js, err := os.ReadFile(res.JSONFile)
	require.NoError(t, err)
	require.NotContains(t, string(js), "secret-store-key", "the list's storage key is not kept")
	var rec record.Record
	require.NoError(t, json.Unmarshal(js, &rec))
	got := rec.Broadcasts[0]
	require.Equal(t, "done", got.State, "the Broadcast's own state at export")
	require.Equal(t, 3, got.Sent)
	require.Equal(t, fp, got.Details.Fingerprint)
	require.Equal(t, []string{"U0DPO", "U0LEGAL"}, []string{got.Details.Approvals[0].By, got.Details.Approvals[1].By})
	require.Equal(t, "list-sha", got.Details.List.SHA256)
	require.True(t, rec.Broadcasts[1].NotFound, "never started")
	require.Equal(t, "complied", rec.BrokerDemands[0].State)
	require.Equal(t, "1234-5678-9012", rec.BrokerDemands[0].Details.Mailings[0].TrackingNumber)
	var kinds []string
	for _, e := range rec.Timeline {
		kinds = append(kinds, string(e.Kind)+" "+e.Actor)
	}
	require.Equal(t, []string{"declared U0LEAD", "broadcast_test_send breachflow", "broadcast_approval U0DPO", "letter_mailed U0LEGAL",
		"broadcast_approval U0LEGAL", "broadcast_sent breachflow", "broker_answer U0LEGAL"}, kinds)
	md, err := os.ReadFile(res.MarkdownFile)
	require.NoError(t, err)
	require.Contains(t, string(md), "## Notices to everyone affected")
	require.Contains(t, string(md), "| INC-20261112-SEED00/broadcast/2 | daily_report day 2 |")
	require.Contains(t, string(md), "not found")
}
