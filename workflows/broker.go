package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/internal/timefmt"
)

// Defaults of BrokerDemandInput.
const (
	defaultResponseWindow    = 14 * 24 * time.Hour
	defaultDeliveryAllowance = 3 * 24 * time.Hour
	// answerSoon is how long before the answer is due the owner is told.
	answerSoon = 2 * 24 * time.Hour
)

// BrokerDemand is one cease-and-desist demand to a list broker or a
// company using the leaked list (seed 002): the letter is rendered as a
// Word file to upload to Japan Post's e内容証明 (which takes Word files
// only) and as a PDF for the records and for printing; e内容証明 has no
// API, so a person sends it by content-certified mail with proof of
// delivery and records the
// tracking number (reminded until done); the answer period then runs,
// with a reminder before it ends and an escalation when it has; the answer
// (complied, refused, none) is recorded; refused or silent, the demand
// becomes a task to escalate to the regulator and the police.
func BrokerDemand(ctx workflow.Context, in BrokerDemandInput) (BrokerDemandStatus, error) {
	d := &brokerDemand{in: in, status: BrokerDemandStatus{
		IncidentID: in.IncidentID, DemandID: in.DemandID, State: DemandAwaitingMailing,
		Mailings: []LetterMailed{}, Answers: []BrokerAnswer{}, Escalations: []Escalation{},
	}}
	if err := d.setup(ctx); err != nil {
		return d.status, err
	}
	return d.run(ctx)
}

type brokerDemand struct {
	in     BrokerDemandInput
	status BrokerDemandStatus
	// parent numbers the reports to the Incident (incident_notices.go).
	parent noticeReporter
}

func (d *brokerDemand) setup(ctx workflow.Context) error {
	if err := setQuery(ctx, QueryStatus, func() (BrokerDemandStatus, error) { return d.status, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	for _, h := range []struct {
		name           string
		handler, valid any
	}{
		{UpdateRecordMailing, d.recordMailing, d.validateMailing},
		{UpdateRecordBrokerAnswer, d.recordAnswer, d.validateAnswer},
		{UpdateRecordEscalation, d.recordEscalation, d.validateEscalation},
	} {
		if err := setUpdate(ctx, h.name, h.handler, workflow.UpdateHandlerOptions{Validator: h.valid}); err != nil {
			return fmt.Errorf("register %s update: %w", h.name, err)
		}
	}
	return nil
}

func (d *brokerDemand) remindEvery() time.Duration {
	return positive(d.in.RemindEvery, defaultRemindEvery)
}

func (d *brokerDemand) run(ctx workflow.Context) (BrokerDemandStatus, error) {
	d.publish(ctx)
	if err := d.renderLetter(ctx); err != nil {
		if temporal.IsCanceledError(err) {
			return d.status, err
		}
		// Nothing can be mailed: say why where people look, and end in a
		// named state the Incident hears of, rather than fail unseen.
		d.status.Failure = failureText(err)
		d.status.State = DemandLetterFailed // before the notice, so it offers no "Mailed" button
		d.tell(ctx, fmt.Sprintf("[%s] The letter could not be written, so nothing was mailed: %s. Correct the broker's or the sender's details and add the broker again (%s).",
			d.ref(), d.status.Failure, UpdateAddBrokerDemand))
		d.publish(ctx)
		return d.status, nil
	}
	for {
		switch d.status.State {
		case DemandAwaitingMailing:
			d.tell(ctx, d.mailingTask())
			if err := d.remindUntil(ctx, "mailing of the letter", func() bool { return d.status.State != DemandAwaitingMailing }, ""); err != nil {
				return d.status, err
			}
		case DemandAwaitingAnswer:
			if err := d.awaitAnswer(ctx); err != nil {
				return d.status, err
			}
		case DemandEscalationNeeded:
			d.tell(ctx, fmt.Sprintf("[%s] The addressee refused or did not answer: report to the regulator (PPC) and consult the police, then record each (%s).",
				d.ref(), UpdateRecordEscalation))
			if err := d.remindUntil(ctx, "escalation to the regulator and the police", func() bool { return d.status.State != DemandEscalationNeeded }, ""); err != nil {
				return d.status, err
			}
		default: // complied or escalated
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return d.status, err
			}
			return d.status, nil
		}
	}
}

func (d *brokerDemand) ref() string { return BrokerDemandWorkflowID(d.in.IncidentID, d.in.DemandID) }

// mailingTask asks for the letter to be sent, naming both files: the Word
// file is the one e内容証明 takes; the PDF is the same letter for the
// records, or to print for a post-office counter.
func (d *brokerDemand) mailingTask() string {
	return fmt.Sprintf("[%s] Send the letter by content-certified mail (内容証明) with proof of delivery (配達証明): "+
		"upload the Word file %s to e内容証明 (it takes Word files only; enter the sender and the addressee exactly as the letter writes them), "+
		"or print the PDF %s for a post-office counter. The PDF is also the letter for the records. Then record the tracking number (%s).",
		d.ref(), d.status.Letter.DocxPath, d.status.Letter.Path, UpdateRecordMailing)
}

// renderLetter renders and stores the letter; only its paths and SHA-256s
// enter history.
func (d *brokerDemand) renderLetter(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute, Summary: "render the cease-and-desist letter " + d.in.DemandID,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	window := positive(d.in.ResponseWindow, defaultResponseWindow)
	err := workflow.ExecuteActivity(actx, letterActs.RenderBrokerLetter, activities.BrokerLetterRequest{
		IncidentID: d.in.IncidentID, DemandID: d.in.DemandID, Date: workflow.Now(ctx), Broker: d.in.Broker, Sender: d.in.Sender,
		Data: d.in.Data, Evidence: d.in.Evidence, ReplyWithinDays: int((window + 23*time.Hour) / (24 * time.Hour)),
	}).Get(ctx, &d.status.Letter)
	if err != nil {
		return fmt.Errorf("render the letter of %s: %w", d.in.DemandID, err)
	}
	return nil
}

// awaitAnswer waits for the answer until it is due (mailing + delivery
// allowance + response window), telling the owner shortly before, then
// escalates and reminds daily until the answer (or its absence) is
// recorded.
func (d *brokerDemand) awaitAnswer(ctx workflow.Context) error {
	answered := func() bool { return d.status.State != DemandAwaitingAnswer }
	soon := d.status.AnswerDue.Add(-answerSoon)
	if wait := soon.Sub(workflow.Now(ctx)); wait > 0 {
		if done, err := d.wait(ctx, wait, "answer due soon", answered); err != nil || done {
			return err
		}
		d.tell(ctx, fmt.Sprintf("[%s] The answer to the letter is due on %s.", d.ref(), timefmt.At(d.status.AnswerDue, timefmt.Zone(d.in.DisplayZone), timefmt.English)))
	}
	if wait := d.status.AnswerDue.Sub(workflow.Now(ctx)); wait > 0 {
		if done, err := d.wait(ctx, wait, "answer due "+timefmt.At(d.status.AnswerDue, timefmt.Zone(d.in.DisplayZone), timefmt.English), answered); err != nil || done {
			return err
		}
	}
	return d.remindUntil(ctx, "answer to the letter", answered,
		fmt.Sprintf("[%s] ESCALATION: the answer period has ended. Record the answer: complied, refused, or no answer (%s).", d.ref(), UpdateRecordBrokerAnswer))
}

// wait waits until done or the timeout; it reports whether done.
func (d *brokerDemand) wait(ctx workflow.Context, timeout time.Duration, summary string, done func() bool) (bool, error) {
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: timeout, TimerOptions: workflow.TimerOptions{Summary: summary}}, done)
	return ok, err
}

// remindUntil tells first (if first is set), then reminds every
// RemindEvery until done.
func (d *brokerDemand) remindUntil(ctx workflow.Context, what string, done func() bool, first string) error {
	if first != "" {
		d.tell(ctx, first)
	}
	for {
		ok, err := d.wait(ctx, d.remindEvery(), "reminder: "+what, done)
		if err != nil || ok {
			return err
		}
		d.status.Reminders++
		d.tell(ctx, fmt.Sprintf("[%s] Reminder: %s is still open.", d.ref(), what))
	}
}

// tell posts a task notice in the incident channel (if any). The text
// names the demand by its opaque ID only.
func (d *brokerDemand) tell(ctx workflow.Context, text string) {
	if d.in.SlackChannel == "" {
		workflow.GetLogger(ctx).Info("task notice (no Slack channel)", "demand", d.in.DemandID)
		return
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, Summary: "task notice in Slack",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
	// The notice carries the button of the step the demand awaits (Slack UI).
	demand := &slackui.DemandView{IncidentID: d.in.IncidentID, DemandID: d.in.DemandID,
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, State: string(d.status.State)}
	if err := workflow.ExecuteActivity(actx, a.PostTaskNotice, activities.TaskNotice{Channel: d.in.SlackChannel, Text: text, Demand: demand}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("task notice not posted", "demand", d.in.DemandID, "error", failureText(err))
	}
}

func (d *brokerDemand) setState(ctx workflow.Context, s BrokerDemandState) {
	d.status.State = s
	d.publish(ctx)
}

func (d *brokerDemand) publish(ctx workflow.Context) {
	d.tellIncident(ctx)
	_ = workflow.UpsertTypedSearchAttributes(ctx, SAIncidentID.ValueSet(d.in.IncidentID), SADemandState.ValueSet(string(d.status.State)))
}

// validTrackingNumber reports whether s looks like a Japan Post tracking
// number (お問い合わせ番号): 11 to 13 digits, hyphens allowed.
func validTrackingNumber(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-':
		default:
			return false
		}
	}
	return digits >= 11 && digits <= 13
}

func (d *brokerDemand) validateMailing(m LetterMailed) error {
	if err := needBy(m.By); err != nil {
		return err
	}
	if d.status.State != DemandAwaitingMailing {
		return fmt.Errorf("demand %s is %s: the letter is not waiting to be mailed", d.in.DemandID, d.status.State)
	}
	if !validTrackingNumber(strings.TrimSpace(m.TrackingNumber)) {
		return errors.New("the tracking number (お問い合わせ番号) is 11 to 13 digits")
	}
	return nil
}

func (d *brokerDemand) recordMailing(ctx workflow.Context, m LetterMailed) (BrokerDemandStatus, error) {
	now := workflow.Now(ctx)
	if m.MailedAt.IsZero() || m.MailedAt.After(now) {
		m.MailedAt = now
	}
	m.TrackingNumber = strings.TrimSpace(m.TrackingNumber)
	d.status.Mailings = append(d.status.Mailings, m)
	d.status.AnswerDue = m.MailedAt.Add(positive(d.in.DeliveryAllowance, defaultDeliveryAllowance) + positive(d.in.ResponseWindow, defaultResponseWindow))
	d.setState(ctx, DemandAwaitingAnswer)
	return d.status, nil
}

func (d *brokerDemand) validateAnswer(ans BrokerAnswer) error {
	if err := needBy(ans.By); err != nil {
		return err
	}
	if d.status.State != DemandAwaitingAnswer {
		return fmt.Errorf("demand %s is %s: no answer is awaited", d.in.DemandID, d.status.State)
	}
	switch ans.Outcome {
	case AnswerComplied, AnswerRefused, AnswerReturned, AnswerNone:
		return nil
	}
	return fmt.Errorf("outcome %q: want %s, %s, %s or %s", ans.Outcome, AnswerComplied, AnswerRefused, AnswerNone, AnswerReturned)
}

// recordAnswer records the answer: complied ends the demand, a returned
// letter is mailed again, refused or no answer needs escalation.
func (d *brokerDemand) recordAnswer(ctx workflow.Context, ans BrokerAnswer) (BrokerDemandStatus, error) {
	if ans.ReceivedAt.IsZero() {
		ans.ReceivedAt = workflow.Now(ctx)
	}
	d.status.Answers = append(d.status.Answers, ans)
	switch ans.Outcome {
	case AnswerComplied:
		d.setState(ctx, DemandComplied)
	case AnswerReturned:
		d.status.AnswerDue = time.Time{}
		d.setState(ctx, DemandAwaitingMailing)
	default:
		d.setState(ctx, DemandEscalationNeeded)
	}
	return d.status, nil
}

func (d *brokerDemand) validateEscalation(e Escalation) error {
	if err := needBy(e.By); err != nil {
		return err
	}
	if d.status.State != DemandEscalationNeeded {
		return fmt.Errorf("demand %s is %s: no escalation is pending", d.in.DemandID, d.status.State)
	}
	if e.To != EscalateRegulator && e.To != EscalatePolice {
		return fmt.Errorf("escalation to %q: want %s or %s", e.To, EscalateRegulator, EscalatePolice)
	}
	if d.escalated(e.To) {
		return fmt.Errorf("the escalation to the %s is already recorded", e.To)
	}
	if strings.IndexFunc(e.Reference, unicode.IsControl) >= 0 {
		return errors.New("the reference must be one line")
	}
	return nil
}

func (d *brokerDemand) escalated(to string) bool {
	for _, e := range d.status.Escalations {
		if e.To == to {
			return true
		}
	}
	return false
}

// recordEscalation records one escalation; the task is done once both the
// regulator and the police are recorded.
func (d *brokerDemand) recordEscalation(ctx workflow.Context, e Escalation) (BrokerDemandStatus, error) {
	if e.At.IsZero() || e.At.After(workflow.Now(ctx)) {
		e.At = workflow.Now(ctx)
	}
	d.status.Escalations = append(d.status.Escalations, e)
	if d.escalated(EscalateRegulator) && d.escalated(EscalatePolice) {
		d.setState(ctx, DemandEscalated)
	}
	return d.status, nil
}
