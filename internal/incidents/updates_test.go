package incidents

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// fakeTemporal answers Updates with updateErr (from the call, or from the
// handle with viaHandle), Queries with status, and Describe with closed.
type fakeTemporal struct {
	updateErr error
	viaHandle bool
	status    map[string]string
	closed    enumspb.WorkflowExecutionStatus
}

type fakeHandle struct{ err error }

func (h fakeHandle) WorkflowID() string             { return "w" }
func (h fakeHandle) RunID() string                  { return "r" }
func (h fakeHandle) UpdateID() string               { return "u" }
func (h fakeHandle) Get(context.Context, any) error { return h.err }

func (f *fakeTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if f.viaHandle {
		return fakeHandle{f.updateErr}, nil
	}
	return nil, f.updateErr
}

type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return j.v != nil }
func (j jsonValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	if f.status == nil {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	return jsonValue{f.status}, nil
}

func (f *fakeTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: f.closed}}, nil
}

func TestUpdate_WhatTheResponderIsToldWhenAStepIsNotApplied(t *testing.T) {
	const wid = "INC-1/obligation/JP-APPI/final"
	ended := serviceerror.NewNotFound("workflow execution already completed")
	tests := []struct {
		name        string
		fake        fakeTemporal
		wantRefused string // "" = not a refusal
	}{
		{"the validator's reason, as written",
			fakeTemporal{updateErr: temporal.NewApplicationError("JP-APPI/final is already filed", "error"), viaHandle: true},
			"JP-APPI/final is already filed"},
		{"a workflow that ended normally: its final state",
			fakeTemporal{updateErr: ended, status: map[string]string{"state": "filed"}, closed: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED},
			wid + " has ended (filed): nothing more can be recorded on it"},
		{"a workflow that failed: how it closed and where it stood",
			fakeTemporal{updateErr: ended, status: map[string]string{"state": "awaiting_mailing"}, closed: enumspb.WORKFLOW_EXECUTION_STATUS_FAILED},
			wid + " has ended (failed, last state awaiting_mailing): nothing more can be recorded on it"},
		{"an incident that ended: its phase",
			fakeTemporal{updateErr: ended, status: map[string]string{"phase": "closed"}, closed: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED},
			wid + " has ended (closed): nothing more can be recorded on it"},
		{"no such workflow",
			fakeTemporal{updateErr: ended},
			"there is no running workflow " + wid + " (it has ended, or the IDs are wrong)"},
		{"a timeout is not a refusal: the step may still be applied",
			fakeTemporal{updateErr: client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)},
			""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Update(context.Background(), &tt.fake, wid, "record_filing", struct{}{}, nil)
			var r *Refused
			switch {
			case tt.wantRefused == "" && errors.As(err, &r):
				t.Fatalf("refused %q, want another error", r.Reason)
			case tt.wantRefused == "" && err == nil:
				t.Fatal("no error")
			case tt.wantRefused != "" && !errors.As(err, &r):
				t.Fatalf("err = %v, want a refusal", err)
			case tt.wantRefused != "" && r.Reason != tt.wantRefused:
				t.Fatalf("reason %q, want %q", r.Reason, tt.wantRefused)
			}
		})
	}
}
