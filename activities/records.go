package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
)

// WorkflowQuerier queries a workflow; client.Client implements it.
type WorkflowQuerier interface {
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// Recorder writes an incident's record (package record) to a directory the
// organisation keeps (BREACHFLOW_RECORD_DIR), because the record must
// outlive Temporal's retention. It asks each wrong recipient's Recall
// workflow for its details, so the Incident need not carry them.
type Recorder struct {
	// Dir is the records directory; each incident gets Dir/<incident ID>/.
	Dir string
	// Workflows answers the Recall workflows' status queries.
	Workflows WorkflowQuerier
	// Concurrency bounds the queries in flight (default 8).
	Concurrency int
}

// Names of the files a record is written to, inside Dir/<incident ID>/.
const (
	RecordJSONFile     = "record.json"
	RecordMarkdownFile = "record.md"
	// RecipientsCSVFile is the wrong recipients' table for a spreadsheet
	// (record.Record.RecipientsCSV), written when something was recalled.
	RecipientsCSVFile = "recipients.csv"
)

// RecordRequest is the record as the workflows know it, and where to find
// the recipients' details.
type RecordRequest struct {
	Record record.Record `json:"record"`
	// Recall names the Recall workflows to query; nil when nothing was
	// recalled.
	Recall *RecallSource `json:"recall,omitempty"`
	// Notices names the Broadcast and BrokerDemand workflows to query;
	// nil when the incident started none.
	Notices *NoticeSource `json:"notices,omitempty"`
}

// NoticeSource names an incident's Broadcast and BrokerDemand workflows
// (record.Record.Broadcasts and BrokerDemands by workflow ID), each
// answering Query with its status (workflows.BroadcastStatus,
// workflows.BrokerDemandStatus).
type NoticeSource struct {
	Broadcasts []string `json:"broadcasts,omitempty"`
	Demands    []string `json:"demands,omitempty"`
	Query      string   `json:"query"`
}

// RecallSource names the Recall workflows of an incident: the IDs are
// WorkflowIDPrefix + R00001 ... R<Count>, each answering Query with its
// status (workflows.RecallStatus).
type RecallSource struct {
	WorkflowIDPrefix string `json:"workflow_id_prefix"`
	Count            int    `json:"count"`
	Query            string `json:"query"`
	// ClosedByIncident lists the recipients the incident's close stopped
	// (close_incident with stop_recalls) without their Recall's word:
	// never started, or whose Recall had not reported its stop. Each is
	// recorded as closed_by_operator by the close, unless its Recall says
	// it ended otherwise (confirmed, or closed).
	ClosedByIncident *ClosedRecipients `json:"closed_by_incident,omitempty"`
}

// ClosedRecipients are recipients closed by an incident's close: their
// opaque IDs, who closed the incident and the reason they carry.
type ClosedRecipients struct {
	IDs    []string `json:"ids"`
	By     string   `json:"by"`
	Reason string   `json:"reason"`
}

// RecordResult says where the record was written and its fingerprints.
type RecordResult struct {
	Dir            string `json:"dir"`
	JSONFile       string `json:"json_file"`
	MarkdownFile   string `json:"markdown_file"`
	JSONSHA256     string `json:"json_sha256"`
	MarkdownSHA256 string `json:"markdown_sha256"`
	CSVFile        string `json:"csv_file,omitempty"`
	CSVSHA256      string `json:"csv_sha256,omitempty"`
	Entries        int    `json:"entries"`
	Recipients     int    `json:"recipients"`
}

// incidentDir is what an incident ID may look like to become a directory.
var incidentDir = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// WriteRecord completes the record with every recipient's requests and
// confirmations, then writes it as JSON and Markdown, each file replaced
// atomically so a reader never sees half a record. The same request gives
// the same files, so a retry is harmless. A missing directory setting or a
// query that fails is retried (fix the configuration, the record waits);
// a Recall that never started is recorded as such.
func (r *Recorder) WriteRecord(ctx context.Context, req RecordRequest) (RecordResult, error) {
	rec := req.Record
	if !incidentDir.MatchString(rec.IncidentID) || rec.IncidentID == "." || rec.IncidentID == ".." {
		return RecordResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("incident ID %q cannot name a record directory", rec.IncidentID), ErrTypeInvalidInput, nil)
	}
	if r.Dir == "" {
		return RecordResult{}, errors.New("write record: no records directory: set BREACHFLOW_RECORD_DIR")
	}
	if src := req.Recall; src != nil && src.Count > 0 {
		ps, err := r.recipients(ctx, *src)
		if err != nil {
			return RecordResult{}, err
		}
		if rec.Recall == nil {
			rec.Recall = &record.Recall{}
		}
		rec.Recall.Recipients = ps
	}
	rec.MergeRecall()
	if src := req.Notices; src != nil {
		if err := r.notices(ctx, &rec, *src); err != nil {
			return RecordResult{}, err
		}
		rec.MergeNotices()
	}
	js, err := rec.JSON()
	if err != nil {
		return RecordResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	}
	md := []byte(rec.Markdown())
	csv := rec.RecipientsCSV()

	dir := filepath.Join(r.Dir, rec.IncidentID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return RecordResult{}, fmt.Errorf("write record of %s: %w", rec.IncidentID, err)
	}
	res := RecordResult{Dir: dir, Entries: len(rec.Timeline)}
	if rec.Recall != nil {
		res.Recipients = len(rec.Recall.Recipients)
	}
	for _, f := range []struct {
		name string
		data []byte
		path *string
		sum  *string
	}{
		{RecordJSONFile, js, &res.JSONFile, &res.JSONSHA256},
		{RecordMarkdownFile, md, &res.MarkdownFile, &res.MarkdownSHA256},
		{RecipientsCSVFile, csv, &res.CSVFile, &res.CSVSHA256},
	} {
		if f.data == nil {
			continue
		}
		p := filepath.Join(dir, f.name)
		if err := writeAtomically(p, f.data); err != nil {
			return RecordResult{}, fmt.Errorf("write record of %s: %w", rec.IncidentID, err)
		}
		h := sha256.Sum256(f.data)
		*f.path, *f.sum = p, hex.EncodeToString(h[:])
	}
	activity.GetLogger(ctx).Info("incident record written", "incident", rec.IncidentID, "dir", dir,
		"entries", res.Entries, "recipients", res.Recipients, "json_sha256", res.JSONSHA256)
	return res, nil
}

// recipients queries every Recall of the source, in order.
func (r *Recorder) recipients(ctx context.Context, src RecallSource) ([]record.Recipient, error) {
	if r.Workflows == nil {
		return nil, errors.New("write record: no Temporal client to query the Recall workflows")
	}
	out := make([]record.Recipient, src.Count)
	limit := r.Concurrency
	if limit <= 0 {
		limit = 8
	}
	closed := map[string]bool{}
	if c := src.ClosedByIncident; c != nil {
		for _, id := range c.IDs {
			closed[id] = true
		}
	}
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for k := range src.Count {
		id := recipients.RecipientID(k + 1)
		g.Go(func() error {
			p, err := r.recipient(gctx, src, id, closed[id])
			if err != nil {
				return err
			}
			out[k] = p
			mu.Lock()
			done++
			activity.RecordHeartbeat(ctx, done)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// recipient queries one Recall; closedHere says the incident's close
// stopped it without its Recall's word (src.ClosedByIncident).
func (r *Recorder) recipient(ctx context.Context, src RecallSource, id string, closedHere bool) (record.Recipient, error) {
	wid := src.WorkflowIDPrefix + id
	v, err := r.Workflows.QueryWorkflow(ctx, wid, "", src.Query)
	var nf *serviceerror.NotFound
	closed := src.ClosedByIncident
	if !closedHere {
		closed = nil
	}
	switch {
	case errors.As(err, &nf) && closed != nil:
		return record.Recipient{RecipientID: id, State: recallClosedByOperator, NotStarted: true, ClosedBy: closed.By, Reason: closed.Reason}, nil
	case errors.As(err, &nf):
		return record.Recipient{RecipientID: id, State: "not_started", NotStarted: true}, nil
	case err != nil:
		return record.Recipient{}, fmt.Errorf("query recall %s: %w", wid, err)
	}
	var p record.Recipient
	if err := v.Get(&p); err != nil {
		return record.Recipient{}, fmt.Errorf("decode status of recall %s: %w", wid, err)
	}
	if p.RecipientID == "" {
		p.RecipientID = id
	}
	if closed != nil && p.State != recallConfirmed && p.State != recallClosedByOperator {
		// Stopped by the close, but its Recall had not said so.
		p.State, p.ClosedBy = recallClosedByOperator, closed.By
		p.Reason = closed.Reason + " (stopped by the close; its Recall had not reported the stop)"
	}
	return p, nil
}

// Recall states as the record writes them (workflows.RecallState).
const (
	recallConfirmed        = "confirmed"
	recallClosedByOperator = "closed_by_operator"
)

// notices reads each broadcast's and broker demand's status into the
// record: approvals, fingerprints, test sends and sends; the letter,
// mailings, answers and escalations. One that never started is marked
// not found; any other failure is retried.
func (r *Recorder) notices(ctx context.Context, rec *record.Record, src NoticeSource) error {
	if r.Workflows == nil {
		return errors.New("write record: no Temporal client to query the Broadcast and BrokerDemand workflows")
	}
	query := func(wid string, into any) (bool, error) {
		v, err := r.Workflows.QueryWorkflow(ctx, wid, "", src.Query)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("query %s: %w", wid, err)
		}
		if err := v.Get(into); err != nil {
			return false, fmt.Errorf("decode status of %s: %w", wid, err)
		}
		return true, nil
	}
	for k := range rec.Broadcasts {
		b := &rec.Broadcasts[k]
		if !slices.Contains(src.Broadcasts, b.WorkflowID) {
			continue
		}
		var d record.BroadcastDetails
		found, err := query(b.WorkflowID, &d)
		if err != nil {
			return err
		}
		if !found {
			b.NotFound = true
			continue
		}
		b.SetDetails(d)
	}
	for k := range rec.BrokerDemands {
		dm := &rec.BrokerDemands[k]
		if !slices.Contains(src.Demands, dm.WorkflowID) {
			continue
		}
		var d record.BrokerDemandDetails
		found, err := query(dm.WorkflowID, &d)
		if err != nil {
			return err
		}
		if !found {
			dm.NotFound = true
			continue
		}
		dm.SetDetails(d)
	}
	return nil
}

// writeAtomically writes data to a temporary file next to path and renames
// it into place.
func writeAtomically(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
