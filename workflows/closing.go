package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/record"
)

// Reminders before the prevention report is due, and how often it is
// escalated once overdue.
var (
	preventionReminders = []time.Duration{14 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour}
	preventionEvery     = 7 * 24 * time.Hour
)

// ClosingCarry is the close phase's state handed over by continue-as-new.
type ClosingCarry struct {
	Report     *PreventionReport `json:"report,omitempty"`
	RecordedAt time.Time         `json:"recorded_at,omitzero"`
	// Through is the instant up to which reminders were handled.
	Through time.Time `json:"through,omitzero"`
}

// closing tracks the root-cause and prevention report the runbook's close
// phase promises (seed 000: "by December", 60 days), reminding before it
// is due and escalating after, until someone records it
// (UpdateRecordPreventionReport); and at close it exports the incident's
// record (export).
type closing struct {
	due      time.Time // zero: the runbook has no close phase
	notify   []string
	escalate []string
	sh       *crew
	carry    *ClosingCarry
}

// newClosing tracks a prevention report due at due (zero: none) for an
// incident declared at declaredAt; reminders before the declaration are
// not sent.
func newClosing(declaredAt, due time.Time, notify, escalate []string, carry *ClosingCarry, sh *crew) *closing {
	if carry.Through.IsZero() {
		carry.Through = declaredAt
	}
	return &closing{due: due, notify: notify, escalate: escalate, sh: sh, carry: carry}
}

// run reminds and escalates until the report is recorded. Run it as a
// workflow.Go coroutine.
func (c *closing) run(ctx workflow.Context) {
	if c.due.IsZero() {
		return
	}
	for c.carry.Report == nil {
		now := workflow.Now(ctx)
		at, overdue := c.next()
		if at.After(now) {
			opts := workflow.AwaitOptions{Timeout: at.Sub(now), TimerOptions: workflow.TimerOptions{
				Summary: fmt.Sprintf("prevention report due %s: reminder at %s", fmtAt(c.due, c.sh.loc), fmtAt(at, c.sh.loc))}}
			woken, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return c.carry.Report != nil })
			if err != nil {
				return
			}
			if woken {
				continue
			}
			now = workflow.Now(ctx)
		}
		kind, roles := record.KindPreventionReminder, c.notify
		leftJa, leftEn := leftNote(now, c.due)
		ja := fmt.Sprintf("📄 原因分析・再発防止策の報告は %s が期限です%s。提出したら記録してください。", fmtAtJa(c.due, c.sh.loc), leftJa)
		en := fmt.Sprintf("📄 The root-cause and prevention report is due %s%s. Record it once submitted.", fmtAt(c.due, c.sh.loc), leftEn)
		if overdue {
			kind, roles = record.KindPreventionOverdue, append(append([]string{}, c.notify...), c.escalate...)
			ja = fmt.Sprintf("🚨 原因分析・再発防止策の報告の期限（%s）を過ぎています。", fmtAtJa(c.due, c.sh.loc))
			en = fmt.Sprintf("🚨 The root-cause and prevention report was due %s and is not recorded.", fmtAt(c.due, c.sh.loc))
		}
		to, outcome := c.sh.n.send(ctx, staffNotice{summary: "prevention report", slack: true, roles: roles, text: bilingual(ja, en),
			subject: fmt.Sprintf("[%s] Prevention report due %s", c.sh.incidentID, fmtAt(c.due, c.sh.loc))})
		c.sh.log(record.Entry{At: now, Kind: kind, Summary: "prevention report due " + fmtAt(c.due, c.sh.loc), To: to, Outcome: outcome})
		c.carry.Through = now
	}
}

// next is the next reminder instant after Through, and whether it is an
// overdue escalation.
func (c *closing) next() (time.Time, bool) {
	for _, d := range preventionReminders {
		if at := c.due.Add(-d); at.After(c.carry.Through) {
			return at, false
		}
	}
	at := c.due
	for !at.After(c.carry.Through) {
		at = at.Add(preventionEvery)
	}
	return at, true
}

// validate is the record_prevention_report validator.
func (c *closing) validate(ctx workflow.Context, r PreventionReport) error {
	switch {
	case strings.TrimSpace(r.By) == "" || strings.TrimSpace(r.Reference) == "":
		return errors.New("recording the prevention report needs who records it and its reference (document ID or URL)")
	case c.carry.Report != nil:
		return fmt.Errorf("the prevention report is already recorded (%s, by %s)", c.carry.Report.Reference, c.carry.Report.By)
	case r.SubmittedAt.After(workflow.Now(ctx).Add(filingSkew)):
		return errors.New("the prevention report cannot be submitted in the future")
	}
	return nil
}

// record keeps the prevention report.
func (c *closing) record(ctx workflow.Context, r PreventionReport) (PreventionStatus, error) {
	now := workflow.Now(ctx)
	if r.SubmittedAt.IsZero() {
		r.SubmittedAt = now
	}
	c.carry.Report, c.carry.RecordedAt = &r, now
	c.sh.log(record.Entry{At: now, Kind: record.KindPreventionRecorded, Actor: r.By, Reference: r.Reference, Reason: r.Note,
		Summary: fmt.Sprintf("prevention report submitted %s (due %s)", fmtAt(r.SubmittedAt, c.sh.loc), fmtAt(c.due, c.sh.loc))})
	c.sh.touch()
	return c.status(), nil
}

func (c *closing) status() PreventionStatus {
	return PreventionStatus{Due: c.due, Report: c.carry.Report, RecordedAt: c.carry.RecordedAt}
}

// state says where the prevention report stands, for the daily report.
func (c *closing) state() string {
	switch {
	case c.due.IsZero():
		return ""
	case c.carry.Report != nil:
		return "submitted " + fmtAt(c.carry.Report.SubmittedAt, c.sh.loc)
	}
	return "due " + fmtAt(c.due, c.sh.loc)
}

func (c *closing) recordOf() *record.Prevention {
	if c.due.IsZero() {
		return nil
	}
	p := &record.Prevention{Due: c.due, RecordedAt: c.carry.RecordedAt}
	if r := c.carry.Report; r != nil {
		p.SubmittedAt, p.By, p.Reference, p.Note = r.SubmittedAt, r.By, r.Reference, r.Note
	}
	return p
}

// export writes the record with the Recorder activity: retried until it
// is written (a missing directory setting shows as a failing activity in
// the UI, and the close waits for it), since the record must outlive
// Temporal's retention.
func (c *closing) export(ctx workflow.Context, req activities.RecordRequest) (activities.RecordResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute, HeartbeatTimeout: 2 * time.Minute,
		Summary: "write the incident record",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput}},
	})
	var res activities.RecordResult
	if err := workflow.ExecuteActivity(actx, recorder.WriteRecord, req).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("export the record of %s: %w", c.sh.incidentID, err)
	}
	return res, nil
}
