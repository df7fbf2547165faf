// Package incidents declares and inspects incidents through a Temporal
// client. The starter CLI, the Slack front door and the tests share it.
package incidents

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Declaration is what it takes to declare an incident.
type Declaration struct {
	IncidentID      string // optional; NewID is used when empty
	Runbook         runbooks.Snapshot
	Facts           workflows.Facts
	WrongRecipients *recipients.ListRef
	// Affected is everyone whose data leaked, the list start_broadcast
	// notifies by default; nil when not known yet.
	Affected   *recipients.ListRef
	DeclaredBy string
	DeclaredAt time.Time
	// SlackChannel is where the incident message goes (the channel it was
	// declared in); empty for none.
	SlackChannel string
}

// Starter starts workflows; client.Client implements it.
type Starter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// NewID returns a fresh incident ID, INC-YYYYMMDD-XXXXXX, with the date in
// JST (the organisation's day of awareness) and six random characters that
// avoid look-alikes (no 0/O, 1/I).
func NewID(now time.Time) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "INC-" + now.In(jst).Format("20060102") + "-" + string(b)
}

// IDFor returns the incident ID a declaration identified by key gets: the
// date of day (in JST) and six characters derived from key, so the same
// declaration (a Slack form submitted, then replayed) always names the same
// incident and Temporal starts it once. Different keys collide with the
// same odds as NewID's random characters (one in 32^6 a day).
func IDFor(day time.Time, key string) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	sum := sha256.Sum256([]byte("breachflow incident id\x00" + key))
	b := make([]byte, 6)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return "INC-" + day.In(jst).Format("20060102") + "-" + string(b)
}

// AlreadyDeclared reports whether err says the incident was started before
// (the same declaration submitted twice).
func AlreadyDeclared(err error) bool {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	return errors.As(err, &started)
}

var jst = time.FixedZone("JST", 9*3600)

// Declare starts the Incident workflow and returns its ID.
func Declare(ctx context.Context, c Starter, taskQueue string, d Declaration) (string, error) {
	if d.IncidentID == "" {
		d.IncidentID = NewID(time.Now())
	}
	if d.DeclaredAt.IsZero() {
		d.DeclaredAt = time.Now().UTC()
	}
	if strings.TrimSpace(d.DeclaredBy) == "" {
		return "", fmt.Errorf("declare incident: who declares it is required")
	}
	if d.Runbook.Runbook.Phases.Recall != nil && d.WrongRecipients == nil {
		return "", fmt.Errorf("declare incident: runbook %q recalls data from wrong recipients: a recipient list is required", d.Runbook.Runbook.ID)
	}
	in := workflows.IncidentInput{
		IncidentID: d.IncidentID, Runbook: d.Runbook, Facts: d.Facts,
		WrongRecipients: d.WrongRecipients, Affected: d.Affected, DeclaredBy: d.DeclaredBy, DeclaredAt: d.DeclaredAt,
		SlackChannel: d.SlackChannel,
	}
	opts := client.StartWorkflowOptions{
		ID:                       workflows.IncidentWorkflowID(d.IncidentID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// Without it the SDK answers a start of a running ID with that run
		// and no error, and a replayed declaration would be told
		// "declared" (AlreadyDeclared needs the error).
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            "Incident " + d.IncidentID + " (" + d.Runbook.Runbook.ID + ")",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SAIncidentID.ValueSet(d.IncidentID),
			workflows.SARunbook.ValueSet(d.Runbook.Runbook.ID),
			workflows.SAPhase.ValueSet(workflows.PhaseDeclared),
		),
	}
	if _, err := c.ExecuteWorkflow(ctx, opts, workflows.Incident, in); err != nil {
		return "", fmt.Errorf("start incident %s: %w", d.IncidentID, err)
	}
	return d.IncidentID, nil
}

// Status queries an incident's current status.
func Status(ctx context.Context, c Updater, incidentID string) (workflows.IncidentStatus, error) {
	var st workflows.IncidentStatus
	if err := Query(ctx, c, workflows.IncidentWorkflowID(incidentID), workflows.QueryStatus, &st); err != nil {
		return st, fmt.Errorf("incident %s: %w", incidentID, err)
	}
	return st, nil
}

// Close closes an incident through its close update.
func Close(ctx context.Context, c Updater, incidentID, by, reason string) (workflows.IncidentStatus, error) {
	var st workflows.IncidentStatus
	err := Update(ctx, c, workflows.IncidentWorkflowID(incidentID), workflows.UpdateCloseIncident,
		workflows.CloseIncident{By: by, Reason: reason}, &st)
	if err != nil {
		return st, fmt.Errorf("close incident %s: %w", incidentID, err)
	}
	return st, nil
}
