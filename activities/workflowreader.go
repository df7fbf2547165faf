package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"
)

// WorkflowReader asks workflows for their own account of themselves. The
// Incident uses it to reconcile its per-recipient counts with each
// Recall's truth, so a progress report that never arrived cannot leave a
// count wrong for good.
type WorkflowReader struct {
	// Workflows answers the queries; client.Client implements it.
	Workflows WorkflowQuerier
	// Concurrency bounds the queries in flight (default 8).
	Concurrency int
}

// QueryRequest names the workflows to query (by workflow ID, latest run)
// and the query. Callers keep a request to a page (a few hundred IDs), so
// its answer stays small in the workflow's history.
type QueryRequest struct {
	WorkflowIDs []string `json:"workflow_ids"`
	Query       string   `json:"query"`
}

// QueryResult holds each workflow's answer, in the request's order, as the
// JSON the workflow returned; null for a workflow that does not exist (a
// Recall never started). The caller decodes it into the workflow's own
// type, which this package does not import.
type QueryResult struct {
	Answers []json.RawMessage `json:"answers"`
}

// QueryWorkflows queries every workflow of the request, at most
// Concurrency at a time, heartbeating as answers come in. Running and
// completed workflows both answer (a completed one is replayed by a
// worker). A workflow that does not exist answers null; any other failure
// fails the activity, to be retried.
func (w *WorkflowReader) QueryWorkflows(ctx context.Context, req QueryRequest) (QueryResult, error) {
	if w.Workflows == nil {
		return QueryResult{}, errors.New("query workflows: no Temporal client")
	}
	out := make([]json.RawMessage, len(req.WorkflowIDs))
	limit := w.Concurrency
	if limit <= 0 {
		limit = 8
	}
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for k, id := range req.WorkflowIDs {
		g.Go(func() error {
			v, err := w.Workflows.QueryWorkflow(gctx, id, "", req.Query)
			var nf *serviceerror.NotFound
			switch {
			case errors.As(err, &nf):
				return nil // never started: null
			case err != nil:
				return fmt.Errorf("query %s of %s: %w", req.Query, id, err)
			}
			var raw json.RawMessage
			if err := v.Get(&raw); err != nil {
				return fmt.Errorf("decode %s of %s: %w", req.Query, id, err)
			}
			out[k] = raw
			mu.Lock()
			done++
			activity.RecordHeartbeat(ctx, done)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return QueryResult{}, err
	}
	return QueryResult{Answers: out}, nil
}
