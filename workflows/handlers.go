package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// handlerDescriptions describe every query, update and signal for the
// Temporal UI, which shows them beside each handler's name: one place to
// read what a workflow answers and accepts.
var handlerDescriptions = map[string]string{
	QueryStatus:         "The workflow's whole state as JSON: what the CLI's status commands and Slack show.",
	QueryProgress:       "A Recall's progress: its state and counts, as it last reported them to its incident.",
	QueryRequestContext: "What a voice call and its text say to this recipient (organisation, desk, what was sent); no personal data.",

	UpdateCloseIncident:           "Close the incident (by, reason; stop_recalls to stop asking the recipients still open). Refused while anything must not be dropped.",
	UpdateReconcileRecall:         "Check every open recipient against its Recall and correct the counts whose report never arrived.",
	UpdateCompleteTask:            "Mark a containment task done (task ID, by, note).",
	UpdateFacts:                   "Change the incident's facts (persons, what leaked, sensitive, unauthorized purpose); refused if a text quotes personal data.",
	UpdateRecordPreventionReport:  "Record that the root-cause and prevention report was submitted.",
	UpdateStartBroadcast:          "Prepare a notice to everyone affected; it waits for its test send and approvals.",
	UpdateAddBrokerDemand:         "Start a cease-and-desist letter to a list broker or a company using the list.",
	UpdateRecordPhoneConfirmation: "Record that the recipient confirmed the deletion by phone, to an operator.",
	UpdateCloseRecipient:          "Close this recipient by hand, with a reason (for example: deleted in person).",
	UpdateApproveBroadcast:        "Approve the notice whose test send you checked (its fingerprint); signed approvals count toward the quorum.",
	UpdateReviseBroadcast:         "Replace a refused notice's text and send a new test, under the same number.",
	UpdatePauseBroadcast:          "Pause the send: the batches in flight stop.",
	UpdateResumeBroadcast:         "Resume a paused send (an approver's decision).",
	UpdateStopBroadcast:           "Stop the send for good.",
	UpdateRecordSubstitute:        "Record the substitute measure (published notice, inquiry desk) for the people who could not be reached.",
	UpdateRecordFiling:            "Record that the report was filed (when, channel, reference, by).",
	UpdateProposeNotRequired:      "Propose that this obligation is not required, with the rationale; another person must review it.",
	UpdateReviewNotRequired:       "Approve or reject a proposal that this obligation is not required.",
	UpdateRecordMailing:           "Record that the letter was mailed (tracking number).",
	UpdateRecordBrokerAnswer:      "Record the answer to the letter: complied, refused, or no answer.",
	UpdateRecordEscalation:        "Record the escalation to the regulator or the police.",

	SignalConfirmation:       "A recipient confirmed the deletion (link, SMS link, phone key press); from the front door.",
	SignalDelivery:           "A provider's report on a request (delivered, bounced, answered, no answer); from the front door.",
	SignalStopRecall:         "Stop asking this recipient: the incident was closed with stop_recalls.",
	SignalRecallProgress:     "A Recall's progress report to its incident.",
	SignalNoticeProgress:     "A notice's or letter's progress report to its incident.",
	SignalBroadcastDelivery:  "A provider's report on one notice (bounced, dropped); from the front door.",
	SignalObligationRevision: "New facts or counts for an obligation's deadline and draft, from its incident.",
	SignalObligationProgress: "An obligation's progress report to its incident.",
}

// setQuery declares a query handler with its description.
func setQuery(ctx workflow.Context, name string, handler any) error {
	return workflow.SetQueryHandlerWithOptions(ctx, name, handler, workflow.QueryHandlerOptions{Description: handlerDescriptions[name]})
}

// setUpdate declares an update handler with its description.
func setUpdate(ctx workflow.Context, name string, handler any, opts workflow.UpdateHandlerOptions) error {
	opts.Description = handlerDescriptions[name]
	return workflow.SetUpdateHandlerWithOptions(ctx, name, handler, opts)
}

// signalChannel is a signal's channel, declared with its description.
func signalChannel(ctx workflow.Context, name string) workflow.ReceiveChannel {
	return workflow.GetSignalChannelWithOptions(ctx, name, workflow.SignalChannelOptions{Description: handlerDescriptions[name]})
}

// sleep waits d with a summary the Temporal UI shows on the timer.
func sleep(ctx workflow.Context, d time.Duration, summary string) error {
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary}).Get(ctx, nil)
}
