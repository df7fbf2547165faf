package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

// Limits of the action modals' free-text fields.
const (
	maxReason    = 500
	maxReference = 200
	maxChannel   = 100
)

// HandleInteraction answers one interaction: a button of the incident
// message (block_actions) or a modal submission (view_submission). It
// returns within Slack's 3 seconds; Updates run in the background and
// their outcome is shown to the user ephemerally.
func (d *Dispatcher) HandleInteraction(ctx context.Context, ic slack.InteractionCallback) Ack {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		return d.blockActions(ctx, ic)
	case slack.InteractionTypeViewSubmission:
		d.log.Info("slackbot: view submission", "callback", ic.View.CallbackID, "user", ic.User.ID)
		switch ic.View.CallbackID {
		case slackui.CallbackDeclare:
			return d.declareSubmission(ctx, ic)
		case slackui.CallbackCloseRecipient:
			return d.closeRecipientSubmission(ic)
		case slackui.CallbackRecordFiling:
			return d.recordFilingSubmission(ic)
		case slackui.CallbackProposeNotRequired:
			return d.proposeNotRequiredSubmission(ic)
		case slackui.CallbackReviewNotRequired:
			return d.reviewNotRequiredSubmission(ic)
		case slackui.CallbackPreventionReport:
			return d.preventionReportSubmission(ic)
		case slackui.CallbackUpdateFacts:
			return d.updateFactsSubmission(ic)
		case slackui.CallbackAddBroker:
			return d.addBrokerSubmission(ic)
		case slackui.CallbackRecordMailing:
			return d.recordMailingSubmission(ic)
		case slackui.CallbackBrokerAnswer:
			return d.brokerAnswerSubmission(ic)
		case slackui.CallbackRecordEscalation:
			return d.recordEscalationSubmission(ic)
		case slackui.CallbackCloseIncident:
			return d.closeIncidentSubmission(ic)
		}
	}
	return Ack{}
}

// update is one workflow Update a human step turns into.
type update struct {
	Need       role
	WorkflowID string
	Name       string
	Arg        any
	// UpdateID makes a repeated delivery of the same click harmless.
	UpdateID string
	// Done is shown to the user when the Update completes.
	Done string
	// Result, when set, receives the Update's result; Report then says
	// what to show the user (instead of Done) and what to post in the
	// incident message's thread (nothing when empty).
	Result any
	Report func() (told, thread string)
}

// actionMeta is the private_metadata of the action modals: the button's
// value and where to answer.
type actionMeta struct {
	slackui.ButtonValue
	Channel     string `json:"c"`
	ResponseURL string `json:"r,omitempty"`
	// Thread is the message the button was on, to reply under.
	Thread string `json:"t,omitempty"`
	// Aware is when the organisation became aware (Unix seconds), for the
	// facts modal's checks.
	Aware int64 `json:"a,omitempty"`
	// InProgress is how many recipients were still being asked when the
	// close modal opened (it then has the stop-asking checkbox).
	InProgress int `json:"n,omitempty"`
}

// target returns where the outcome of the modal's Update goes.
func (m actionMeta) target(user string) target {
	return target{Channel: m.Channel, User: user, ResponseURL: m.ResponseURL, Thread: m.Thread}
}

func (d *Dispatcher) blockActions(ctx context.Context, ic slack.InteractionCallback) Ack {
	if len(ic.ActionCallback.BlockActions) == 0 {
		return Ack{}
	}
	a := ic.ActionCallback.BlockActions[0]
	user := ic.User.ID
	channel := ic.Channel.ID
	if channel == "" {
		channel = ic.Container.ChannelID
	}
	thread := ic.Container.MessageTs
	if thread == "" {
		thread = ic.Message.Timestamp
	}
	if ic.Message.ThreadTimestamp != "" {
		thread = ic.Message.ThreadTimestamp
	}
	t := target{Channel: channel, User: user, ResponseURL: ic.ResponseURL, Thread: thread}
	d.log.Info("slackbot: button", "action", a.ActionID, "user", user, "channel", channel)

	switch a.ActionID {
	case slackui.ActionCompleteTask, slackui.ActionPhoneConfirmed, slackui.ActionApproveBroadcast,
		slackui.ActionCloseRecipient, slackui.ActionRecordFiling,
		slackui.ActionPauseBroadcast, slackui.ActionResumeBroadcast, slackui.ActionStopBroadcast,
		slackui.ActionNotRequired, slackui.ActionPreventionReport, slackui.ActionUpdateFacts,
		slackui.ActionSendNotices, slackui.ActionAddBroker,
		slackui.ActionRecordMailing, slackui.ActionBrokerAnswer, slackui.ActionRecordEscalation,
		slackui.ActionCloseIncident:
	default:
		return Ack{} // not ours (e.g. a link button)
	}
	v, err := slackui.DecodeButtonValue(a.Value)
	if err != nil {
		d.later(t, "This button is damaged ("+err.Error()+"); nothing was changed.")
		return Ack{}
	}
	updateID := ""
	if a.ActionTs != "" && user != "" {
		updateID = "slack:" + user + ":" + a.ActionTs
	}
	switch a.ActionID {
	case slackui.ActionCompleteTask:
		if v.Item == "" {
			d.later(t, "This button names no task; nothing was changed.")
			return Ack{}
		}
		d.runLater(t, update{Need: roleResponder, WorkflowID: v.WorkflowID, Name: workflows.UpdateCompleteTask,
			Arg: workflows.CompleteTask{TaskID: v.Item, By: user}, UpdateID: updateID,
			Done: fmt.Sprintf("Task `%s` is done, recorded as yours.", v.Item)})
	case slackui.ActionPhoneConfirmed:
		d.runLater(t, update{Need: roleResponder, WorkflowID: v.WorkflowID, Name: workflows.UpdateRecordPhoneConfirmation,
			Arg: workflows.OperatorConfirmation{By: user}, UpdateID: updateID,
			Done: fmt.Sprintf("Recorded: %s confirmed the deletion by phone (recorded as yours).", itemOr(v.Item, "the recipient"))})
	case slackui.ActionApproveBroadcast:
		if v.Item == "" {
			d.later(t, "This button names no broadcast fingerprint; nothing was changed.")
			return Ack{}
		}
		ab := workflows.ApproveBroadcast{Fingerprint: v.Item, By: user}
		if k := d.cfg.ApprovalKey; k != nil {
			ab.KeyID, ab.Signature = k.ID, k.Sign(v.WorkflowID, v.Item, approvals.SlackIdentity(user))
		}
		d.runLater(t, update{Need: roleApprover, WorkflowID: v.WorkflowID, Name: workflows.UpdateApproveBroadcast,
			Arg: ab, UpdateID: updateID,
			Done: fmt.Sprintf("Broadcast approved (fingerprint `%s`), recorded as yours.", truncate(v.Item, 16))})
	case slackui.ActionPauseBroadcast:
		// Any responder may halt a send: stopping must never wait for the
		// one person allowed to.
		d.runLater(t, update{Need: roleResponder, WorkflowID: v.WorkflowID, Name: workflows.UpdatePauseBroadcast,
			Arg: workflows.BroadcastControl{By: user}, UpdateID: updateID,
			Done: "Broadcast paused: the batches in flight have stopped. Resume or stop it from its message."})
	case slackui.ActionStopBroadcast:
		d.runLater(t, update{Need: roleResponder, WorkflowID: v.WorkflowID, Name: workflows.UpdateStopBroadcast,
			Arg: workflows.BroadcastControl{By: user}, UpdateID: updateID,
			Done: "Broadcast stopped for good: nothing more will be sent."})
	case slackui.ActionResumeBroadcast:
		// Sending again is an approver's decision, like the first send.
		d.runLater(t, update{Need: roleApprover, WorkflowID: v.WorkflowID, Name: workflows.UpdateResumeBroadcast,
			Arg: workflows.BroadcastControl{By: user}, UpdateID: updateID,
			Done: "Broadcast resumed, recorded as yours."})
	default:
		meta := actionMeta{ButtonValue: v, Channel: channel, ResponseURL: ic.ResponseURL, Thread: thread}
		return d.stepButton(ctx, a.ActionID, ic.TriggerID, t, meta, updateID)
	}
	return Ack{}
}

// stepButton answers the buttons that open a modal, and "Send notices".
func (d *Dispatcher) stepButton(ctx context.Context, action, trigger string, t target, meta actionMeta, updateID string) Ack {
	switch action {
	case slackui.ActionCloseRecipient:
		return d.openActionModal(ctx, trigger, t, roleResponder, d.closeRecipientModal, meta)
	case slackui.ActionRecordFiling:
		return d.openActionModal(ctx, trigger, t, roleApprover, d.recordFilingModal, meta)
	case slackui.ActionNotRequired:
		return d.openNotRequired(ctx, trigger, t, meta)
	case slackui.ActionPreventionReport:
		return d.openActionModal(ctx, trigger, t, roleApprover, d.preventionReportModal, meta)
	case slackui.ActionUpdateFacts:
		return d.openFacts(ctx, trigger, t, meta)
	case slackui.ActionAddBroker:
		return d.openActionModal(ctx, trigger, t, roleResponder, d.addBrokerModal, meta)
	case slackui.ActionRecordMailing:
		return d.openActionModal(ctx, trigger, t, roleResponder, d.recordMailingModal, meta)
	case slackui.ActionBrokerAnswer:
		return d.openActionModal(ctx, trigger, t, roleResponder, d.brokerAnswerModal, meta)
	case slackui.ActionRecordEscalation:
		return d.openActionModal(ctx, trigger, t, roleApprover, d.recordEscalationModal, meta)
	case slackui.ActionCloseIncident:
		return d.openClose(ctx, trigger, t, meta)
	case slackui.ActionSendNotices:
		d.runLater(t, d.startBroadcast(meta.WorkflowID, t.User, updateID))
	}
	return Ack{}
}

func itemOr(item, def string) string {
	if item == "" {
		return def
	}
	return item
}

// later tells the user text in the background, after the acknowledgement.
func (d *Dispatcher) later(t target, text string) {
	d.spawn(replyTimeout, func(ctx context.Context) { d.tell(ctx, t, text) })
}

// runLater runs u in the background: authorization, then the Update, then
// the outcome shown to the user.
func (d *Dispatcher) runLater(t target, u update) {
	if !d.spawn(d.cfg.UpdateTimeout+authBudget+replyTimeout, func(ctx context.Context) { d.run(ctx, t, u) }) {
		d.log.Warn("slackbot: shutting down: button ignored", "update", u.Name, "user", t.User)
	}
}

// run authorizes the user, sends the Update and tells the user the outcome.
// A refused user or a rejected Update changes nothing.
func (d *Dispatcher) run(ctx context.Context, t target, u update) {
	actx, cancel := context.WithTimeout(ctx, authBudget)
	refusal, ok := d.authorize(actx, u.Need, t.User)
	cancel()
	if !ok {
		d.tell(ctx, t, "Nothing was changed. "+refusal)
		return
	}
	t = t.allowed()
	uctx, cancel := context.WithTimeout(ctx, d.cfg.UpdateTimeout)
	err := d.sendUpdate(uctx, u)
	cancel()
	if err != nil {
		d.log.Info("slackbot: update not applied", "update", u.Name, "workflow", u.WorkflowID, "user", t.User, "error", err)
		d.tell(ctx, t, updateFailure(err, d.cfg.UpdateTimeout))
		return
	}
	d.log.Info("slackbot: update applied", "update", u.Name, "workflow", u.WorkflowID, "user", t.User)
	told, thread := u.Done, ""
	if u.Report != nil {
		told, thread = u.Report()
	}
	if thread != "" {
		d.postInThread(ctx, t, thread)
	}
	d.tell(ctx, t, told)
}

func (d *Dispatcher) sendUpdate(ctx context.Context, u update) error {
	h, err := d.cfg.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: u.UpdateID, WorkflowID: u.WorkflowID, UpdateName: u.Name,
		Args: []any{u.Arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return fmt.Errorf("update %s on %s: %w", u.Name, u.WorkflowID, err)
	}
	if err := h.Get(ctx, u.Result); err != nil {
		return fmt.Errorf("update %s on %s: %w", u.Name, u.WorkflowID, err)
	}
	return nil
}

// updateFailure turns an Update's error into text for the user; a
// validator's rejection is shown as the validator said it.
func updateFailure(err error, timeout time.Duration) string {
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	var de *serviceerror.DeadlineExceeded
	switch {
	case errors.As(err, &appErr):
		return "Not done: " + appErr.Message()
	case errors.As(err, &nf):
		return "Not done: this workflow has ended or does not exist."
	case errors.As(err, &de), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("Temporal did not confirm within %s. It may still be recorded: check `/breach status` before pressing again.", timeout)
	}
	return fmt.Sprintf("Not done: %v", err)
}

// openActionModal authorizes the user and opens the modal of a button
// that needs more input, within the trigger's 3 seconds.
func (d *Dispatcher) openActionModal(ctx context.Context, trigger string, t target, need role,
	build func(actionMeta) (slack.ModalViewRequest, error), meta actionMeta) Ack {
	actx, cancel := context.WithTimeout(ctx, authBudget)
	refusal, ok := d.authorize(actx, need, t.User)
	cancel()
	if !ok {
		d.later(t, "Nothing was changed. "+refusal)
		return Ack{}
	}
	return d.openModal(ctx, trigger, t, build, meta)
}

// openModal builds and opens a modal (the user is already authorized).
func (d *Dispatcher) openModal(ctx context.Context, trigger string, t target,
	build func(actionMeta) (slack.ModalViewRequest, error), meta actionMeta) Ack {
	view, err := build(meta)
	if err != nil {
		d.log.Error("slackbot: build modal", "error", err)
		d.later(t, "Could not build the form: "+err.Error())
		return Ack{}
	}
	octx, cancel := context.WithTimeout(ctx, openBudget)
	_, err = d.cfg.Slack.OpenViewContext(octx, trigger, view)
	cancel()
	if err != nil {
		d.log.Warn("slackbot: views.open failed", "user", t.User, "error", err)
		d.later(t, fmt.Sprintf("Could not open the form (%v). Press the button again.", err))
	}
	return Ack{}
}

// incidentOf returns the incident part of a workflow ID
// ("INC-…/recall/R00007" -> "INC-…").
func incidentOf(workflowID string) string {
	id, _, _ := strings.Cut(workflowID, "/")
	return id
}

func encodeMeta(meta actionMeta) (string, error) {
	b, err := json.Marshal(meta)
	if err != nil {
		return "", fmt.Errorf("encode private metadata: %w", err)
	}
	if len(b) > 3000 {
		return "", fmt.Errorf("button value too long for a modal's private metadata")
	}
	return string(b), nil
}

func decodeMeta(s string) (actionMeta, bool) {
	var m actionMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil || m.WorkflowID == "" {
		return actionMeta{}, false
	}
	return m, true
}

// closeRecipientModal asks why a recipient is closed without their
// confirmation.
func (d *Dispatcher) closeRecipientModal(meta actionMeta) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	reason := slack.NewPlainTextInputBlockElement(pt("e.g. deletion confirmed by post on 11-20"), InputReason)
	reason.Multiline = true
	reason.MaxLength = maxReason
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackCloseRecipient, PrivateMetadata: pm,
		Title: pt("Close recipient"), Submit: pt("Close recipient"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md(fmt.Sprintf("Close *%s* of incident *%s* without their confirmation. Automated contact stops; your reason and your Slack ID are recorded.",
				itemOr(meta.Item, "this recipient"), incidentOf(meta.WorkflowID))), nil, nil),
			slack.NewInputBlock(InputReason, pt("Reason"), pt("No personal data."), reason),
		}},
	}, nil
}

// recordFilingModal asks when, how and under which reference a report
// was filed with a regulator.
func (d *Dispatcher) recordFilingModal(meta actionMeta) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	now := d.now().In(d.cfg.Location)
	date := slack.NewDatePickerBlockElement(InputFiledDate)
	date.InitialDate = now.Format("2006-01-02")
	hm := slack.NewTimePickerBlockElement(InputFiledTime)
	hm.InitialTime = now.Format("15:04")
	if tz := d.cfg.Location.String(); strings.Contains(tz, "/") {
		hm.Timezone = tz
	}
	ref := slack.NewPlainTextInputBlockElement(pt("receipt or reference number"), InputReference)
	ref.MaxLength = maxReference
	ch := slack.NewPlainTextInputBlockElement(pt("e.g. PPC web form"), InputFilingChannel)
	ch.MaxLength = maxChannel
	tzName := now.Format("MST")
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackRecordFiling, PrivateMetadata: pm,
		Title: pt("Record filing"), Submit: pt("Record"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md(fmt.Sprintf("Record the filing of obligation `%s` of incident *%s*. Your Slack ID is recorded.",
				itemOr(meta.Item, "?"), incidentOf(meta.WorkflowID))), nil, nil),
			slack.NewInputBlock(InputFiledDate, pt("Filed on ("+tzName+")"), nil, date),
			slack.NewInputBlock(InputFiledTime, pt("Filed at ("+tzName+")"), nil, hm),
			slack.NewInputBlock(InputReference, pt("Reference"), pt("What the regulator gave you back."), ref),
			slack.NewInputBlock(InputFilingChannel, pt("Filed through"), nil, ch),
		}},
	}, nil
}

func damagedForm(block string) Ack {
	return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{
		block: "This form is damaged: close it and press the button again.",
	})}
}

func stateValues(ic slack.InteractionCallback) map[string]map[string]slack.BlockAction {
	if ic.View.State == nil {
		return nil
	}
	return ic.View.State.Values
}

// closeRecipientSubmission validates the reason, closes the modal and
// sends close_recipient in the background.
func (d *Dispatcher) closeRecipientSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputReason)
	}
	reason := strings.TrimSpace(stateValues(ic)[InputReason][InputReason].Value)
	switch n := len([]rune(reason)); {
	case n == 0:
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{InputReason: "Say why the recipient is closed."})}
	case n > maxReason:
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{InputReason: fmt.Sprintf("At most %d characters.", maxReason)})}
	}
	user := ic.User.ID
	t := meta.target(user)
	d.runLater(t, update{Need: roleResponder, WorkflowID: meta.WorkflowID, Name: workflows.UpdateCloseRecipient,
		Arg: workflows.CloseRecipient{By: user, Reason: reason}, UpdateID: viewUpdateID(ic),
		Done: fmt.Sprintf("%s is closed, recorded as yours.", itemOr(meta.Item, "The recipient"))})
	return Ack{}
}

// recordFilingSubmission validates the filing, closes the modal and sends
// record_filing in the background.
func (d *Dispatcher) recordFilingSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputReference)
	}
	values := stateValues(ic)
	get := func(id string) slack.BlockAction { return values[id][id] }
	errs := map[string]string{}
	filedAt, which, msg := parseLocalTime(get(InputFiledDate).SelectedDate, get(InputFiledTime).SelectedTime, d.cfg.Location,
		InputFiledDate, InputFiledTime)
	if msg == "" && filedAt.After(d.now().Add(awareSkew)) {
		which, msg = InputFiledDate, "A filing cannot be in the future."
	}
	if msg != "" {
		errs[which] = msg
	}
	ref := strings.TrimSpace(get(InputReference).Value)
	if ref == "" {
		errs[InputReference] = "Enter the reference the regulator gave you."
	} else if len([]rune(ref)) > maxReference {
		errs[InputReference] = fmt.Sprintf("At most %d characters.", maxReference)
	}
	ch := strings.TrimSpace(get(InputFilingChannel).Value)
	if ch == "" {
		errs[InputFilingChannel] = "Say how it was filed, e.g. PPC web form."
	} else if len([]rune(ch)) > maxChannel {
		errs[InputFilingChannel] = fmt.Sprintf("At most %d characters.", maxChannel)
	}
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	t := meta.target(user)
	d.runLater(t, update{Need: roleApprover, WorkflowID: meta.WorkflowID, Name: workflows.UpdateRecordFiling,
		Arg: workflows.RecordFiling{FiledAt: filedAt.UTC(), Reference: ref, Channel: ch, By: user}, UpdateID: viewUpdateID(ic),
		Done: fmt.Sprintf("Filing of `%s` recorded, as yours.", itemOr(meta.Item, "the obligation"))})
	return Ack{}
}

// viewUpdateID names the Update of one modal submission.
func viewUpdateID(ic slack.InteractionCallback) string {
	if ic.View.ID == "" || ic.User.ID == "" {
		return ""
	}
	return "slack:" + ic.User.ID + ":" + ic.View.ID
}
