package slackbot

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

// Inputs of the broker modals.
const (
	// Add a broker demand (slackui.CallbackAddBroker). The company's name
	// and address go into the letter only: never into Slack messages,
	// workflow IDs or logs.
	InputBrokerName           = "broker_name"
	InputBrokerRepresentative = "broker_representative"
	InputBrokerPostalCode     = "broker_postal_code"
	InputBrokerAddress        = "broker_address"
	InputBrokerData           = "broker_data"
	InputBrokerEvidence       = "broker_evidence"

	// Letter mailed (slackui.CallbackRecordMailing).
	InputTracking   = "tracking_number"
	InputMailedDate = "mailed_date"
	InputMailedTime = "mailed_time"

	// The addressee's answer (slackui.CallbackBrokerAnswer): one of
	// workflows.Answer*, and a note (InputNote).
	InputOutcome = "outcome"

	// An escalation (slackui.CallbackRecordEscalation): one of
	// workflows.Escalate*, and the reference (InputReference).
	InputEscalateTo = "escalate_to"
)

// Limits of the broker modals' fields.
const (
	maxBrokerName = 200
	maxAddress    = 500
	maxData       = 2000
	maxTracking   = 20
)

var postalCode = regexp.MustCompile(`^[0-9]{3}-?[0-9]{4}$`)

// startBroadcast is the Update of "Send notices": start_broadcast on the
// Incident, its outcome posted in the incident message's thread.
func (d *Dispatcher) startBroadcast(incidentWF, user, updateID string) update {
	var res workflows.BroadcastStarted
	return update{Need: roleResponder, WorkflowID: incidentWF, Name: workflows.UpdateStartBroadcast,
		Arg: workflows.StartBroadcast{By: user}, UpdateID: updateID, Result: &res,
		Report: func() (string, string) {
			list := listName(res.List)
			defaulted := ""
			if len(res.Defaulted) > 0 {
				defaulted = fmt.Sprintf(" Filled in by default: %s — check them in the test send.", strings.Join(res.Defaulted, ", "))
			}
			return fmt.Sprintf("Broadcast %d started, as yours: notices to %d people (%s). Nothing reaches them before the test send to the approvers and their approvals, on the broadcast's own message.%s",
					res.N, res.Recipients, list, defaulted),
				fmt.Sprintf("<@%s> started broadcast %d: notices to %d people (%s). Next: the test send to the approvers, then their approvals.%s",
					user, res.N, res.Recipients, list, defaulted)
		}}
}

func listName(l string) string {
	switch l {
	case "affected":
		return "the affected list"
	case "wrong_recipients":
		return "the wrong recipients' list"
	case "given":
		return "the given list"
	}
	return "list " + l
}

// addBrokerModal asks for the company a cease-and-desist letter goes to.
func (d *Dispatcher) addBrokerModal(meta actionMeta) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	text := func(id, placeholder string, limit int, multiline bool) *slack.PlainTextInputBlockElement {
		e := slack.NewPlainTextInputBlockElement(pt(placeholder), id)
		e.MaxLength = limit
		e.Multiline = multiline
		return e
	}
	optional := func(b *slack.InputBlock) *slack.InputBlock {
		b.Optional = true
		return b
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackAddBroker, PrivateMetadata: pm,
		Title: pt("Add broker"), Submit: pt("Start demand"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md(fmt.Sprintf("Start a cease-and-desist demand (利用停止・消去の要請, APPI Art. 27(2) and 30) for incident *%s*: a letter to a list broker or a company using the leaked data, sent by content-certified mail, with its answer period and escalation tracked. The company is named in the letter only; Slack shows its demand ID (B001…).",
				incidentOf(meta.WorkflowID))), nil, nil),
			slack.NewInputBlock(InputBrokerName, pt("Company name"), pt("As the letter addresses it."), text(InputBrokerName, "e.g. 株式会社名簿センター", maxBrokerName, false)),
			optional(slack.NewInputBlock(InputBrokerRepresentative, pt("Addressee"), pt("The representative or contact the letter names."), text(InputBrokerRepresentative, "e.g. 代表取締役 山田太郎", maxBrokerName, false))),
			optional(slack.NewInputBlock(InputBrokerPostalCode, pt("Postal code"), nil, text(InputBrokerPostalCode, "e.g. 100-0001", 8, false))),
			slack.NewInputBlock(InputBrokerAddress, pt("Address"), nil, text(InputBrokerAddress, "e.g. 東京都千代田区…", maxAddress, true)),
			optional(slack.NewInputBlock(InputBrokerData, pt("What data they hold"), pt("Empty: what leaked, from the incident's facts."), text(InputBrokerData, "e.g. a list of 2,000 customers' names and addresses", maxData, true))),
			optional(slack.NewInputBlock(InputBrokerEvidence, pt("How we know"), pt("e.g. where and when the list was offered."), text(InputBrokerEvidence, "e.g. offered on a list-trading site on 11-18", maxData, true))),
		}},
	}, nil
}

// addBrokerSubmission validates the broker and sends add_broker_demand.
func (d *Dispatcher) addBrokerSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputBrokerName)
	}
	values := stateValues(ic)
	get := func(id string) string { return strings.TrimSpace(values[id][id].Value) }
	errs := map[string]string{}
	p := letters.Party{Name: get(InputBrokerName), Representative: get(InputBrokerRepresentative),
		PostalCode: get(InputBrokerPostalCode), Address: get(InputBrokerAddress)}
	if msg := checkText(p.Name, maxBrokerName, "Enter the company's name."); msg != "" {
		errs[InputBrokerName] = msg
	}
	if msg := checkOptional(p.Representative, maxBrokerName); msg != "" {
		errs[InputBrokerRepresentative] = msg
	}
	if p.PostalCode != "" {
		if !postalCode.MatchString(p.PostalCode) {
			errs[InputBrokerPostalCode] = "A Japanese postal code: 7 digits, e.g. 100-0001."
		} else if !strings.Contains(p.PostalCode, "-") {
			p.PostalCode = p.PostalCode[:3] + "-" + p.PostalCode[3:]
		}
	}
	if msg := checkText(p.Address, maxAddress, "Enter the address the letter goes to."); msg != "" {
		errs[InputBrokerAddress] = msg
	}
	data, evidence := get(InputBrokerData), get(InputBrokerEvidence)
	if msg := checkOptional(data, maxData); msg != "" {
		errs[InputBrokerData] = msg
	}
	if msg := checkOptional(evidence, maxData); msg != "" {
		errs[InputBrokerEvidence] = msg
	}
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	var res workflows.BrokerDemandAdded
	d.runLater(meta.target(user), update{Need: roleResponder, WorkflowID: meta.WorkflowID, Name: workflows.UpdateAddBrokerDemand,
		Arg: workflows.AddBrokerDemand{By: user, Broker: p, Data: data, Evidence: evidence}, UpdateID: viewUpdateID(ic), Result: &res,
		Report: func() (string, string) {
			return fmt.Sprintf("Demand %s started, as yours: the letter is being rendered. Its task (send it by content-certified mail, then record the tracking number) will appear in this channel with a button.", res.DemandID),
				fmt.Sprintf("<@%s> started broker demand %s: a cease-and-desist letter, to be sent by content-certified mail.", user, res.DemandID)
		}})
	return Ack{}
}

// demandName names a demand in texts: its opaque ID.
func demandName(meta actionMeta) string {
	return "demand " + itemOr(meta.Item, meta.WorkflowID)
}

// recordMailingModal asks for the tracking number of the content-certified
// letter and when it was mailed.
func (d *Dispatcher) recordMailingModal(meta actionMeta) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	tracking := slack.NewPlainTextInputBlockElement(pt("e.g. 1234-5678-9012"), InputTracking)
	tracking.MaxLength = maxTracking
	blocks := []slack.Block{
		slack.NewSectionBlock(md(fmt.Sprintf("Record that the letter of %s (incident *%s*) went by content-certified mail (内容証明) with proof of delivery. The answer period runs from the mailing. Your Slack ID is recorded.",
			demandName(meta), incidentOf(meta.WorkflowID))), nil, nil),
		slack.NewInputBlock(InputTracking, pt("Tracking number (お問い合わせ番号)"), pt("11 to 13 digits, hyphens allowed."), tracking),
	}
	blocks = append(blocks, d.dateTimeInputs(InputMailedDate, InputMailedTime, "Mailed", false)...)
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackRecordMailing, PrivateMetadata: pm,
		Title: pt("Letter mailed"), Submit: pt("Record"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}, nil
}

// trackingNumber normalises a Japan Post tracking number (full-width
// digits and hyphens, spaces) and reports whether it has 11 to 13 digits.
func trackingNumber(s string) (string, bool) {
	var b strings.Builder
	digits := 0
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			r = '0' + (r - '０')
		case r == '－' || r == 'ー' || r == '‐':
			r = '-'
		}
		switch {
		case r >= '0' && r <= '9':
			digits++
			b.WriteRune(r)
		case r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '　':
		default:
			return "", false
		}
	}
	return b.String(), digits >= 11 && digits <= 13
}

// recordMailingSubmission sends record_mailing.
func (d *Dispatcher) recordMailingSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputTracking)
	}
	values := stateValues(ic)
	errs := map[string]string{}
	tn, valid := trackingNumber(values[InputTracking][InputTracking].Value)
	if !valid {
		errs[InputTracking] = "The tracking number (お問い合わせ番号) is 11 to 13 digits, hyphens allowed."
	}
	at := d.pastTime(values, InputMailedDate, InputMailedTime, errs)
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	d.runLater(meta.target(user), update{Need: roleResponder, WorkflowID: meta.WorkflowID, Name: workflows.UpdateRecordMailing,
		Arg: workflows.LetterMailed{TrackingNumber: tn, MailedAt: at, By: user}, UpdateID: viewUpdateID(ic),
		Done: fmt.Sprintf("Mailing of the letter of %s recorded, as yours (tracking number %s): the answer period runs from it.", demandName(meta), tn)})
	return Ack{}
}

// brokerAnswerModal asks what the addressee answered.
func (d *Dispatcher) brokerAnswerModal(meta actionMeta) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	outcome := slack.NewRadioButtonsBlockElement(InputOutcome,
		option(workflows.AnswerComplied, "Complied: they stopped using and deleted the data"),
		option(workflows.AnswerRefused, "Refused"),
		option(workflows.AnswerNone, "No answer within the period"),
		option(workflows.AnswerReturned, "The letter came back undelivered"))
	note := slack.NewPlainTextInputBlockElement(pt("e.g. written answer of 12-01: list deleted, deletion certificate attached"), InputNote)
	note.Multiline = true
	note.MaxLength = maxNote
	noteBlock := slack.NewInputBlock(InputNote, pt("Note"), pt("No personal data."), note)
	noteBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackBrokerAnswer, PrivateMetadata: pm,
		Title: pt("Record the answer"), Submit: pt("Record"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md(fmt.Sprintf("Record the answer to the letter of %s (incident *%s*). Refused or no answer: the demand becomes a task to escalate to the regulator and the police. Your Slack ID is recorded.",
				demandName(meta), incidentOf(meta.WorkflowID))), nil, nil),
			slack.NewInputBlock(InputOutcome, pt("Answer"), nil, outcome),
			noteBlock,
		}},
	}, nil
}

// brokerAnswerSubmission sends record_broker_answer.
func (d *Dispatcher) brokerAnswerSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputOutcome)
	}
	values := stateValues(ic)
	errs := map[string]string{}
	outcome := values[InputOutcome][InputOutcome].SelectedOption.Value
	var done string
	switch outcome {
	case workflows.AnswerComplied:
		done = "Recorded, as yours: the addressee of %s complied. The demand is done."
	case workflows.AnswerRefused:
		done = "Recorded, as yours: the addressee of %s refused. Next: report to the regulator (PPC) and consult the police, and record each."
	case workflows.AnswerNone:
		done = "Recorded, as yours: no answer to %s. Next: report to the regulator (PPC) and consult the police, and record each."
	case workflows.AnswerReturned:
		done = "Recorded, as yours: the letter of %s came back. Mail it again and record the new tracking number."
	default:
		errs[InputOutcome] = "Choose what they answered."
	}
	note := strings.TrimSpace(values[InputNote][InputNote].Value)
	if msg := checkOptional(note, maxNote); msg != "" {
		errs[InputNote] = msg
	}
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	d.runLater(meta.target(user), update{Need: roleResponder, WorkflowID: meta.WorkflowID, Name: workflows.UpdateRecordBrokerAnswer,
		Arg: workflows.BrokerAnswer{Outcome: outcome, Note: note, By: user}, UpdateID: viewUpdateID(ic),
		Done: fmt.Sprintf(done, demandName(meta))})
	return Ack{}
}

// recordEscalationModal asks to whom the demand was escalated.
func (d *Dispatcher) recordEscalationModal(meta actionMeta) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	to := slack.NewRadioButtonsBlockElement(InputEscalateTo,
		option(workflows.EscalateRegulator, "The regulator (PPC)"),
		option(workflows.EscalatePolice, "The police"))
	ref := slack.NewPlainTextInputBlockElement(pt("e.g. PPC consultation number, police receipt number"), InputReference)
	ref.MaxLength = maxReference
	refBlock := slack.NewInputBlock(InputReference, pt("Reference"), nil, ref)
	refBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackRecordEscalation, PrivateMetadata: pm,
		Title: pt("Record an escalation"), Submit: pt("Record"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md(fmt.Sprintf("Record that %s (incident *%s*) was escalated. The task is done once both the regulator and the police are recorded. Your Slack ID is recorded.",
				demandName(meta), incidentOf(meta.WorkflowID))), nil, nil),
			slack.NewInputBlock(InputEscalateTo, pt("Escalated to"), nil, to),
			refBlock,
		}},
	}, nil
}

// recordEscalationSubmission sends record_escalation.
func (d *Dispatcher) recordEscalationSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputEscalateTo)
	}
	values := stateValues(ic)
	errs := map[string]string{}
	to := values[InputEscalateTo][InputEscalateTo].SelectedOption.Value
	if to != workflows.EscalateRegulator && to != workflows.EscalatePolice {
		errs[InputEscalateTo] = "Choose the regulator or the police."
	}
	ref := strings.TrimSpace(values[InputReference][InputReference].Value)
	if msg := checkOptional(ref, maxReference); msg != "" {
		errs[InputReference] = msg
	} else if strings.ContainsAny(ref, "\r\n\t") {
		errs[InputReference] = "One line."
	}
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	d.runLater(meta.target(user), update{Need: roleApprover, WorkflowID: meta.WorkflowID, Name: workflows.UpdateRecordEscalation,
		Arg: workflows.Escalation{To: to, Reference: ref, By: user}, UpdateID: viewUpdateID(ic),
		Done: fmt.Sprintf("Escalation of %s to the %s recorded, as yours.", demandName(meta), to)})
	return Ack{}
}
