package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

// fakeWorkflows answers status queries from a table by workflow ID; a
// missing ID is NotFound.
type fakeWorkflows struct {
	mu      sync.Mutex
	status  map[string]any
	asked   []string
	failAll error
}

func (f *fakeWorkflows) QueryWorkflow(_ context.Context, workflowID, _, queryType string, _ ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, queryType+" "+workflowID)
	if f.failAll != nil {
		return nil, f.failAll
	}
	st, ok := f.status[workflowID]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(st)
	if err != nil {
		return nil, err
	}
	return client.NewValue(p), nil
}

func recordRequest() activities.RecordRequest {
	at := time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)
	return activities.RecordRequest{
		Record: record.Record{
			Version: record.Version, IncidentID: "INC-20261112-SEED00", TimeZone: "Asia/Tokyo",
			DeclaredAt: at, DeclaredBy: "U0LEAD",
			Timeline: []record.Entry{{At: at, Kind: record.KindDeclared, Actor: "U0LEAD", Summary: "declared"}},
			Recall:   &record.Recall{Counts: record.Counts{Total: 2, Requested: 1, Confirmed: 1}},
		},
		Recall: &activities.RecallSource{WorkflowIDPrefix: "INC-20261112-SEED00/recall/", Count: 2, Query: "status"},
	}
}

func runRecorder(t *testing.T, r *activities.Recorder, req activities.RecordRequest) (activities.RecordResult, error) {
	t.Helper()
	env := quietActivityEnv()
	env.RegisterActivity(r)
	v, err := env.ExecuteActivity(r.WriteRecord, req)
	if err != nil {
		return activities.RecordResult{}, err
	}
	var res activities.RecordResult
	require.NoError(t, v.Get(&res))
	return res, nil
}

func TestWriteRecord_QueriesEveryRecallAndWritesJSONAndMarkdown(t *testing.T) {
	confirmedAt := time.Date(2026, 11, 12, 11, 0, 0, 0, time.UTC)
	wf := &fakeWorkflows{status: map[string]any{
		// The JSON of workflows.RecallStatus.
		"INC-20261112-SEED00/recall/R00001": map[string]any{
			"recipient_id": "R00001", "state": "confirmed",
			"attempts":      []any{map[string]any{"channel": "email", "n": 1, "at": confirmedAt.Add(-time.Hour), "message_id": "sg-1", "outcome": "sent"}},
			"confirmations": []any{map[string]any{"channel": "email", "at": confirmedAt, "evidence": map[string]any{"source": "link", "received_at": confirmedAt}}},
			"events":        []any{},
		},
	}}
	dir := t.TempDir()
	res, err := runRecorder(t, &activities.Recorder{Dir: dir, Workflows: wf, Concurrency: 1}, recordRequest())
	require.NoError(t, err)

	require.Equal(t, []string{"status INC-20261112-SEED00/recall/R00001", "status INC-20261112-SEED00/recall/R00002"}, wf.asked)
	require.Equal(t, filepath.Join(dir, "INC-20261112-SEED00", activities.RecordJSONFile), res.JSONFile)
	require.Equal(t, 2, res.Recipients)
	require.Equal(t, 3, res.Entries, "declared, the request and the confirmation")

	b, err := os.ReadFile(res.JSONFile)
	require.NoError(t, err)
	var back record.Record
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, []record.Recipient{
		{RecipientID: "R00001", State: "confirmed",
			Attempts:      []record.Attempt{{Channel: "email", N: 1, At: confirmedAt.Add(-time.Hour), MessageID: "sg-1", Outcome: "sent"}},
			Confirmations: []record.Confirmation{{Channel: "email", At: confirmedAt, Evidence: record.Evidence{Source: "link", ReceivedAt: confirmedAt}}},
			Events:        []record.Event{}},
		{RecipientID: "R00002", State: "not_started", NotStarted: true},
	}, back.Recall.Recipients)
	require.Equal(t, []record.Kind{record.KindDeclared, record.KindRecallRequest, record.KindRecallConfirmation}, kinds(back.Timeline))

	md, err := os.ReadFile(res.MarkdownFile)
	require.NoError(t, err)
	require.Contains(t, string(md), "| R00002 | not started |")
	info, err := os.Stat(res.MarkdownFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), info.Mode().Perm())

	csvData, err := os.ReadFile(res.CSVFile)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "INC-20261112-SEED00", activities.RecipientsCSVFile), res.CSVFile)
	require.Contains(t, string(csvData), "R00002,not started,")

	again, err := runRecorder(t, &activities.Recorder{Dir: dir, Workflows: wf}, recordRequest())
	require.NoError(t, err)
	require.Equal(t, res.JSONSHA256, again.JSONSHA256, "a retry writes the same record")
	require.Equal(t, res.CSVSHA256, again.CSVSHA256, "a retry writes the same table")
	left, err := os.ReadDir(filepath.Dir(res.JSONFile))
	require.NoError(t, err)
	require.Len(t, left, 3, "no temporary files left behind")
}

func kinds(es []record.Entry) []record.Kind {
	var out []record.Kind
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

func TestWriteRecord_Failures(t *testing.T) {
	unsafe := recordRequest()
	unsafe.Record.IncidentID = "../etc"
	tests := []struct {
		name         string
		rec          *activities.Recorder
		req          activities.RecordRequest
		err          string
		nonRetryable bool
	}{
		{"an incident ID that is not a directory name", &activities.Recorder{Dir: "x"}, unsafe, `incident ID "../etc" cannot name a record directory`, true},
		{"no records directory: retried until configured", &activities.Recorder{}, recordRequest(), "set BREACHFLOW_RECORD_DIR", false},
		{"no client to query the recalls", &activities.Recorder{Dir: "x"}, recordRequest(), "no Temporal client", false},
		{"a failing query is retried", &activities.Recorder{Dir: "x", Workflows: &fakeWorkflows{failAll: errors.New("unavailable")}}, recordRequest(),
			"query recall INC-20261112-SEED00/recall/R0000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rec.Dir != "" {
				tt.rec.Dir = filepath.Join(t.TempDir(), tt.rec.Dir)
			}
			_, err := runRecorder(t, tt.rec, tt.req)
			require.ErrorContains(t, err, tt.err)
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Equal(t, tt.nonRetryable, appErr.NonRetryable())
			if tt.rec.Dir != "" {
				_, statErr := os.Stat(tt.rec.Dir)
				require.True(t, os.IsNotExist(statErr), "nothing written")
			}
		})
	}
}

func TestDraftReport_RefusesAnUnknownZoneForGood(t *testing.T) {
	env := quietActivityEnv()
	a := &activities.Activities{}
	env.RegisterActivity(a)
	_, err := env.ExecuteActivity(a.DraftReport, reports.Request{Zone: "Mars/Olympus", Obligation: regimes.Obligation{
		ID: "JP-APPI/final", Regime: "JP-APPI", Kind: regimes.KindFinal, Audience: regimes.Audience{ID: "ppc", Kind: regimes.AudienceRegulator}}})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	require.True(t, strings.Contains(err.Error(), "Mars/Olympus"))
}

// Recipients an incident's close stopped (stop_recalls) without their
// Recall's word are recorded as closed by the close, never as silently in
// progress: one never started, one whose Recall had not reported its stop.
// A Recall that says it ended otherwise (confirmed) keeps its own word.
func TestWriteRecord_RecipientsStoppedByTheCloseAreRecordedClosed(t *testing.T) {
	wf := &fakeWorkflows{status: map[string]any{
		"INC-20261112-SEED00/recall/R00001": map[string]any{"recipient_id": "R00001", "state": "requested", "attempts": []any{}, "confirmations": []any{}, "events": []any{}},
		"INC-20261112-SEED00/recall/R00003": map[string]any{"recipient_id": "R00003", "state": "confirmed", "attempts": []any{}, "confirmations": []any{}, "events": []any{}},
	}}
	req := recordRequest()
	req.Recall.Count = 3
	req.Recall.ClosedByIncident = &activities.ClosedRecipients{IDs: []string{"R00001", "R00002", "R00003"}, By: "U1", Reason: "incident closed by U1: handled by post"}
	res, err := runRecorder(t, &activities.Recorder{Dir: t.TempDir(), Workflows: wf, Concurrency: 1}, req)
	require.NoError(t, err)

	b, err := os.ReadFile(res.JSONFile)
	require.NoError(t, err)
	var back record.Record
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, []record.Recipient{
		{RecipientID: "R00001", State: "closed_by_operator", ClosedBy: "U1", Attempts: []record.Attempt{}, Confirmations: []record.Confirmation{}, Events: []record.Event{},
			Reason: "incident closed by U1: handled by post (stopped by the close; its Recall had not reported the stop)"},
		{RecipientID: "R00002", State: "closed_by_operator", NotStarted: true, ClosedBy: "U1", Reason: "incident closed by U1: handled by post"},
		{RecipientID: "R00003", State: "confirmed", Attempts: []record.Attempt{}, Confirmations: []record.Confirmation{}, Events: []record.Event{}},
	}, back.Recall.Recipients)
	md, err := os.ReadFile(res.MarkdownFile)
	require.NoError(t, err)
	require.Contains(t, string(md), "| R00002 | closed_by_operator (never started) |")
}
