package incidents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/workflows"
)

// Updater sends Updates and Queries to workflows; client.Client
// implements it.
type Updater interface {
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// Refused says a workflow did not apply an Update or answer a Query: its
// validator (or handler) rejected the request, or there is no running
// workflow of that ID. Nothing was changed. Reason is one line, as the
// validator wrote it.
type Refused struct {
	WorkflowID string
	Name       string // the Update or Query
	Reason     string
	err        error
}

func (r *Refused) Error() string { return r.Reason }

// Unwrap returns the Temporal error behind the refusal.
func (r *Refused) Unwrap() error { return r.err }

// NotFound is a lookup of a workflow that does not exist: a wrong or
// mistyped ID, not a refusal by a workflow.
type NotFound struct {
	WorkflowID string
	// Hint names the IDs that do exist, when the caller can tell.
	Hint string
	err  error
}

func (n *NotFound) Error() string {
	msg := "no incident, recipient, obligation, notice or letter has the ID " + n.WorkflowID
	if n.Hint != "" {
		return msg + "; " + n.Hint
	}
	return msg + " (check it against `starter status INCIDENT_ID` or the Temporal UI)"
}

// Unwrap returns the Temporal error behind it.
func (n *NotFound) Unwrap() error { return n.err }

// Update sends the Update name with arg to the workflow and waits until it
// is applied; its result is decoded into result (nil to ignore it). A
// rejection (validator, handler, or no such running workflow) is a
// *Refused; a timeout of ctx is an error wrapping
// client.WorkflowUpdateServiceTimeoutOrCanceledError or ctx's error.
func Update(ctx context.Context, c Updater, workflowID, name string, arg, result any) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	if err != nil {
		if r := refusal(workflowID, name, err); r != nil {
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				state, absent := endedState(ctx, c, workflowID)
				if absent {
					return &NotFound{WorkflowID: workflowID, err: err}
				}
				if state != "" {
					r.Reason = workflowID + " has ended (" + state + "): nothing more can be recorded on it"
				}
			}
			return r
		}
		return fmt.Errorf("update %s on %s: %w", name, workflowID, err)
	}
	return nil
}

// Query asks the workflow's query name and decodes the answer into result.
// A workflow that does not exist is a *NotFound.
func Query(ctx context.Context, c Updater, workflowID, name string, result any) error {
	v, err := c.QueryWorkflow(ctx, workflowID, "", name)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return &NotFound{WorkflowID: workflowID, err: err}
		}
		return fmt.Errorf("query %s on %s: %w", name, workflowID, err)
	}
	if err := v.Get(result); err != nil {
		return fmt.Errorf("decode %s of %s: %w", name, workflowID, err)
	}
	return nil
}

// refusal turns a rejected Update into a Refused; nil for other errors
// (connection, timeout), after which the Update may still be applied.
func refusal(workflowID, name string, err error) *Refused {
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &appErr):
		return &Refused{WorkflowID: workflowID, Name: name, Reason: appErr.Message(), err: err}
	case errors.As(err, &nf):
		return &Refused{WorkflowID: workflowID, Name: name, err: err,
			Reason: "there is no running workflow " + workflowID + " (it has ended, or the IDs are wrong)"}
	case errors.As(err, &canceled):
		return &Refused{WorkflowID: workflowID, Name: name, Reason: "the workflow was cancelled", err: err}
	}
	return nil
}

// describer is the part of client.Client that tells how a workflow ended.
type describer interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
}

// endedState says how a workflow that has ended stands: its last state
// (or phase) from its status query, after how it closed when that was not
// a normal completion ("failed, last state awaiting_mailing"); "" when it
// cannot be told.
// absent reports that the workflow was never started (Temporal knows no
// execution with that ID): a wrong ID, not an ended workflow.
func endedState(ctx context.Context, c Updater, workflowID string) (state string, absent bool) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	closed := ""
	if d, ok := c.(describer); ok {
		resp, err := d.DescribeWorkflowExecution(ctx, workflowID, "")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return "", true
		}
		if err == nil {
			switch st := resp.GetWorkflowExecutionInfo().GetStatus(); st {
			case enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			default:
				closed = strings.ToLower(st.String())
			}
		}
	}
	var st struct {
		State  string             `json:"state"`
		Phase  string             `json:"phase"`
		Closed *workflows.Closure `json:"closed"`
	}
	if err := Query(ctx, c, workflowID, workflows.QueryStatus, &st); err == nil {
		state = st.State
		if state == "" {
			state = st.Phase
		}
		if st.Closed != nil {
			// An incident: who closed it, when and why.
			state = st.Closed.Text()
		}
	}
	switch {
	case closed != "" && state != "":
		return closed + ", last state " + state, false
	case closed != "":
		return closed, false
	}
	return state, false
}
