package slackbot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

// Inputs of the close modal (slackui.CallbackCloseIncident): the reason
// (InputReason) and, while recipients are still being asked, whether to
// stop asking them.
const (
	InputStopRecalls = "stop_recalls"
	// StopRecalls is the value of InputStopRecalls's one checkbox.
	StopRecalls = "stop"
)

// maxCloseReason bounds the reason of a close.
const maxCloseReason = 1000

// maxOpenListed bounds how many open obligations the close modal names.
const maxOpenListed = 10

// inProgress counts the recipients still being asked: neither confirmed,
// unreachable nor closed (the close_incident validator's rule).
func inProgress(r workflows.RecallCounts) int {
	return max(0, r.Total-r.Confirmed-r.Unreachable-r.ClosedByOperator)
}

// openClose authorizes an approver, asks the Incident where it stands and
// opens the close modal: closing ends the response, so it is an
// approver's decision, like a regulator filing.
func (d *Dispatcher) openClose(ctx context.Context, trigger string, t target, meta actionMeta) Ack {
	var st workflows.IncidentStatus
	checks, err := d.authorizeAndQuery(ctx, t.User, meta.WorkflowID, &st, roleApprover)
	if c := checks[roleApprover]; !c.ok {
		d.later(t, "Nothing was changed. "+c.refusal)
		return Ack{}
	}
	if err != nil {
		d.later(t, temporalFailure("look up "+incidentOf(meta.WorkflowID), err))
		return Ack{}
	}
	if st.Phase == workflows.PhaseClosed {
		d.later(t, fmt.Sprintf("%s is already closed.", incidentOf(meta.WorkflowID)))
		return Ack{}
	}
	meta.InProgress = inProgress(st.Recall)
	return d.openModal(ctx, trigger, t, func(m actionMeta) (slack.ModalViewRequest, error) { return d.closeIncidentModal(m, st) }, meta)
}

// closeIncidentModal asks why the incident is closed and, while
// recipients are still being asked, whether to stop asking them.
func (d *Dispatcher) closeIncidentModal(meta actionMeta, st workflows.IncidentStatus) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	var open []workflows.ObligationSummary
	for _, o := range st.Obligations {
		if o.State.Open() {
			open = append(open, o)
		}
	}
	intro := fmt.Sprintf("Close incident *%s*. Its closing record (timeline, JSON and Markdown) is written and the incident message shows it closed. Your Slack ID and reason are recorded.",
		incidentOf(meta.WorkflowID))
	switch {
	case len(open) > 0:
		var b strings.Builder
		fmt.Fprintf(&b, "\n%d obligation(s) are still open; the closing record lists them as open:", len(open))
		for k, o := range open {
			if k == maxOpenListed {
				fmt.Fprintf(&b, "\n• …and %d more", len(open)-maxOpenListed)
				break
			}
			fmt.Fprintf(&b, "\n• %s (%s", obligationLabel(workflows.ObligationStatus{ObligationID: o.ObligationID, Title: o.Title, Audience: o.Audience}), o.State)
			if !o.Due.IsZero() {
				b.WriteString(", due " + o.Due.In(d.cfg.Location).Format("2006-01-02 15:04 MST"))
			}
			b.WriteString(")")
		}
		intro += b.String()
	case len(st.Obligations) > 0:
		intro += "\nEvery obligation is settled."
	}
	reason := slack.NewPlainTextInputBlockElement(pt("e.g. every recipient deleted the data; the PPC final report is filed"), InputReason)
	reason.Multiline = true
	reason.MaxLength = maxCloseReason
	blocks := []slack.Block{
		slack.NewSectionBlock(md(intro), nil, nil),
		slack.NewInputBlock(InputReason, pt("Why is the incident closed?"), pt("Recorded with the close. No personal data."), reason),
	}
	if n := meta.InProgress; n > 0 {
		opt := slack.NewOptionBlockObject(StopRecalls,
			pt(fmt.Sprintf("Stop asking the %d recipient(s) still in progress", n)),
			pt("Each is recorded as closed by this close."))
		stop := slack.NewInputBlock(InputStopRecalls, pt("Recipients still being asked"),
			pt("Without this the close is refused while anyone is still being asked. Unreachable recipients' tasks end too."),
			slack.NewCheckboxGroupsBlockElement(InputStopRecalls, opt))
		stop.Optional = true
		blocks = append(blocks, stop)
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackCloseIncident, PrivateMetadata: pm,
		Title: pt("Close incident"), Submit: pt("Close incident"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}, nil
}

// closeOutcome is what became of a close: refused by the authorizer, or
// the Update's error (nil: closed).
type closeOutcome struct {
	refusal string
	err     error
}

// closeIncidentSubmission validates the reason and sends close_incident
// while the modal waits (up to SyncWait, within Slack's 3 seconds): the
// Incident's refusal (recipients still being asked, already closed) is
// shown in the modal, on the field concerned, and the modal stays open.
// An accepted close closes the modal and is told ephemerally; when
// Temporal is slower than SyncWait the modal closes and the outcome,
// whatever it is, is told ephemerally when it comes. The Update ID is the
// view's, so a repeated delivery of the same submission closes once.
func (d *Dispatcher) closeIncidentSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputReason)
	}
	values := stateValues(ic)
	reason := strings.TrimSpace(values[InputReason][InputReason].Value)
	if msg := checkText(reason, maxCloseReason, "Say why the incident is closed."); msg != "" {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{InputReason: msg})}
	}
	stop := false
	for _, o := range values[InputStopRecalls][InputStopRecalls].SelectedOptions {
		if o.Value == StopRecalls {
			stop = true
		}
	}
	user := ic.User.ID
	t := meta.target(user)
	incident := incidentOf(meta.WorkflowID)
	u := update{Need: roleApprover, WorkflowID: meta.WorkflowID, Name: workflows.UpdateCloseIncident,
		Arg: workflows.CloseIncident{By: user, Reason: reason, StopRecalls: stop}, UpdateID: viewUpdateID(ic)}
	done := fmt.Sprintf("%s is closed, as yours: its closing record is being written.", incident)
	if stop && meta.InProgress > 0 {
		done = fmt.Sprintf("%s is closed, as yours: the recipients still being asked are no longer asked (each recorded as closed by this close), and its closing record is being written.", incident)
	}

	var (
		mu     sync.Mutex
		gaveUp bool
	)
	result := make(chan closeOutcome, 1)
	started := d.spawn(authBudget+d.cfg.UpdateTimeout+replyTimeout, func(ctx context.Context) {
		var out closeOutcome
		actx, cancel := context.WithTimeout(ctx, authBudget)
		refusal, ok := d.authorize(actx, u.Need, user)
		cancel()
		if !ok {
			out.refusal = refusal
		} else {
			uctx, cancel := context.WithTimeout(ctx, d.cfg.UpdateTimeout)
			out.err = d.sendUpdate(uctx, u)
			cancel()
		}
		d.logClose(u, user, out)
		mu.Lock()
		if !gaveUp {
			result <- out // buffered: the modal is still waiting for it
			mu.Unlock()
			return
		}
		mu.Unlock()
		// The modal has closed: tell the outcome.
		switch {
		case out.refusal != "":
			d.tell(ctx, t, "Nothing was changed. "+out.refusal)
		case out.err != nil:
			d.tell(ctx, t.allowed(), updateFailure(out.err, d.cfg.UpdateTimeout))
		default:
			d.tell(ctx, t.allowed(), done)
		}
	})
	if !started {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{InputReason: "breachflow is shutting down; submit again in a minute."})}
	}
	timer := time.NewTimer(d.cfg.SyncWait)
	defer timer.Stop()
	var out closeOutcome
	select {
	case out = <-result:
	case <-timer.C:
		mu.Lock()
		select {
		case out = <-result:
			mu.Unlock()
		default:
			gaveUp = true
			mu.Unlock()
			return Ack{}
		}
	}
	switch {
	case out.refusal != "":
		d.later(t, "Nothing was changed. "+out.refusal)
	case out.err != nil:
		if field, msg, ok := closeRefusal(out.err, meta); ok {
			return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{field: msg})}
		}
		d.later(t, updateFailure(out.err, d.cfg.UpdateTimeout))
	default:
		d.later(t, done)
	}
	return Ack{}
}

func (d *Dispatcher) logClose(u update, user string, out closeOutcome) {
	switch {
	case out.refusal != "":
	case out.err != nil:
		d.log.Info("slackbot: update not applied", "update", u.Name, "workflow", u.WorkflowID, "user", user, "error", out.err)
	default:
		d.log.Info("slackbot: update applied", "update", u.Name, "workflow", u.WorkflowID, "user", user)
	}
}

// closeRefusal turns the Incident's refusal of a close into an error on
// the modal's field concerned: recipients still being asked go on the
// checkbox (or, if the modal has none, on the reason), anything else the
// Incident refuses (already closed, ended) on the reason.
func closeRefusal(err error, meta actionMeta) (field, msg string, ok bool) {
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return InputReason, fmt.Sprintf("%s is already closed: its workflow has ended. Nothing was changed.", incidentOf(meta.WorkflowID)), true
	case !errors.As(err, &appErr):
		return "", "", false
	}
	msg = appErr.Message()
	if !strings.Contains(msg, "still being asked") {
		return InputReason, "Not done: " + msg, true
	}
	// "3 recipient(s) are still being asked to delete the data (R00001,
	// …): close each with a reason (starter recipient close), or …": keep
	// who, and say what to do here.
	who, _, _ := strings.Cut(msg, ": close each")
	if meta.InProgress > 0 {
		return InputStopRecalls, "Not closed: " + who + ". Tick the box to stop asking them, or close each recipient first.", true
	}
	return InputReason, "Not closed: " + who + ". Close this form and press Close incident… again: it will offer to stop asking them.", true
}
