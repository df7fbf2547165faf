package slackbot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

// Inputs of the obligation, prevention-report and facts modals.
const (
	// Not-required proposal (slackui.CallbackProposeNotRequired).
	InputRationale = "rationale"
	// Not-required review (slackui.CallbackReviewNotRequired): the
	// decision (DecisionApprove or DecisionReject) and a note (required
	// to reject).
	InputDecision = "decision"
	InputNote     = "note"

	// Prevention report (slackui.CallbackPreventionReport): when it was
	// submitted, its reference (InputReference) and a note (InputNote).
	InputSubmittedDate = "submitted_date"
	InputSubmittedTime = "submitted_time"

	// Facts change (slackui.CallbackUpdateFacts): InputPersons,
	// InputWhatLeaked, InputUnauthorized, InputSensitive as in the
	// declaration, when the unauthorized purpose was found, and the
	// reason for the change (InputReason).
	InputFoundDate = "found_date"
	InputFoundTime = "found_time"
)

// Values of InputDecision.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// Limits of the step modals' free-text fields.
const (
	maxRationale = 1000
	maxNote      = 1000
)

// lookupBudget bounds a lookup done before a modal opens, run alongside
// the authorization check.
const lookupBudget = time.Second

// roleCheck is the outcome of one authorization check.
type roleCheck struct {
	refusal string
	ok      bool
}

// authorizeAndQuery checks the roles and queries the workflow's status
// at the same time, within lookupBudget: both must be done before the
// trigger's 3 seconds run out.
func (d *Dispatcher) authorizeAndQuery(ctx context.Context, user, workflowID string, result any, roles ...role) (map[role]roleCheck, error) {
	lctx, cancel := context.WithTimeout(ctx, lookupBudget)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		checks = map[role]roleCheck{}
		qerr   error
	)
	for _, r := range roles {
		wg.Go(func() {
			refusal, ok := d.authorize(lctx, r, user)
			mu.Lock()
			checks[r] = roleCheck{refusal, ok}
			mu.Unlock()
		})
	}
	wg.Go(func() {
		v, err := d.cfg.Temporal.QueryWorkflow(lctx, workflowID, "", workflows.QueryStatus)
		if err == nil {
			err = v.Get(result)
		}
		qerr = err
	})
	wg.Wait()
	return checks, qerr
}

// openNotRequired opens the not-required proposal, or, when one is open,
// its review: a responder may propose, an approver reviews (and the
// Obligation refuses a review by the proposer).
func (d *Dispatcher) openNotRequired(ctx context.Context, trigger string, t target, meta actionMeta) Ack {
	var st workflows.ObligationStatus
	checks, err := d.authorizeAndQuery(ctx, t.User, meta.WorkflowID, &st, roleResponder, roleApprover)
	need := roleResponder
	if err == nil && st.Proposal != nil {
		need = roleApprover
	}
	if c := checks[need]; !c.ok {
		d.later(t, "Nothing was changed. "+c.refusal)
		return Ack{}
	}
	switch {
	case err != nil:
		d.later(t, temporalFailure("look up obligation "+itemOr(meta.Item, meta.WorkflowID), err))
		return Ack{}
	case !st.State.Open():
		d.later(t, fmt.Sprintf("Nothing to decide: `%s` is already %s.", itemOr(st.ObligationID, meta.Item), st.State))
		return Ack{}
	case st.Proposal == nil:
		return d.openModal(ctx, trigger, t, func(m actionMeta) (slack.ModalViewRequest, error) { return d.proposeNotRequiredModal(m, st) }, meta)
	}
	return d.openModal(ctx, trigger, t, func(m actionMeta) (slack.ModalViewRequest, error) { return d.reviewNotRequiredModal(m, st) }, meta)
}

func obligationLabel(st workflows.ObligationStatus) string {
	label := fmt.Sprintf("`%s`", st.ObligationID)
	if st.Title != "" {
		label += " " + st.Title
	}
	if st.Audience != "" {
		label += " → " + st.Audience
	}
	return label
}

// proposeNotRequiredModal asks why the obligation is not required.
func (d *Dispatcher) proposeNotRequiredModal(meta actionMeta, st workflows.ObligationStatus) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	due := ""
	if !st.Due.IsZero() {
		due = " It is due " + st.Due.In(d.cfg.Location).Format("2006-01-02 15:04 MST") + "."
	}
	why := slack.NewPlainTextInputBlockElement(pt("e.g. the data was encrypted with a key that did not leak (Rule 7(1) does not apply)"), InputRationale)
	why.Multiline = true
	why.MaxLength = maxRationale
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackProposeNotRequired, PrivateMetadata: pm,
		Title: pt("Not required?"), Submit: pt("Propose"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md(fmt.Sprintf("Propose that %s of incident *%s* is not required.%s\nA second person must approve: until then the deadline and the reminders stand. Your Slack ID is recorded.",
				obligationLabel(st), incidentOf(meta.WorkflowID), due)), nil, nil),
			slack.NewInputBlock(InputRationale, pt("Why is it not required?"), pt("The legal reasoning, for the record. No personal data."), why),
		}},
	}, nil
}

// reviewNotRequiredModal shows the open proposal and asks to approve or
// reject it.
func (d *Dispatcher) reviewNotRequiredModal(meta actionMeta, st workflows.ObligationStatus) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	p := st.Proposal
	decision := slack.NewRadioButtonsBlockElement(InputDecision,
		option(DecisionApprove, "Approve: it is not required"), option(DecisionReject, "Reject: the obligation stands"))
	note := slack.NewPlainTextInputBlockElement(pt("required to reject"), InputNote)
	note.Multiline = true
	note.MaxLength = maxNote
	noteBlock := slack.NewInputBlock(InputNote, pt("Note"), pt("Why you reject it (required), or anything to add."), note)
	noteBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackReviewNotRequired, PrivateMetadata: pm,
		Title: pt("Review: not required"), Submit: pt("Record"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md(fmt.Sprintf("<@%s> proposes that %s of incident *%s* is not required:\n>%s",
				p.ProposedBy, obligationLabel(st), incidentOf(meta.WorkflowID), truncate(strings.ReplaceAll(p.Rationale, "\n", "\n>"), 2500))), nil, nil),
			slack.NewContextBlock("", md("A second person decides: the proposer cannot approve or reject their own proposal. Your Slack ID is recorded.")),
			slack.NewInputBlock(InputDecision, pt("Decision"), nil, decision),
			noteBlock,
		}},
	}, nil
}

// proposeNotRequiredSubmission sends propose_not_required.
func (d *Dispatcher) proposeNotRequiredSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputRationale)
	}
	why := strings.TrimSpace(stateValues(ic)[InputRationale][InputRationale].Value)
	if msg := checkText(why, maxRationale, "Say why it is not required."); msg != "" {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{InputRationale: msg})}
	}
	user := ic.User.ID
	item := itemOr(meta.Item, "the obligation")
	d.runLater(meta.target(user), update{Need: roleResponder, WorkflowID: meta.WorkflowID, Name: workflows.UpdateProposeNotRequired,
		Arg: workflows.NotRequiredProposal{By: user, Rationale: why}, UpdateID: viewUpdateID(ic),
		Done: fmt.Sprintf("Proposed, as yours: `%s` is not required. Another person must approve it (Not required… on the incident message); until then its deadline stands.", item)})
	return Ack{}
}

// reviewNotRequiredSubmission sends review_not_required.
func (d *Dispatcher) reviewNotRequiredSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputDecision)
	}
	values := stateValues(ic)
	errs := map[string]string{}
	approve := false
	switch values[InputDecision][InputDecision].SelectedOption.Value {
	case DecisionApprove:
		approve = true
	case DecisionReject:
	default:
		errs[InputDecision] = "Approve or reject."
	}
	note := strings.TrimSpace(values[InputNote][InputNote].Value)
	switch {
	case len([]rune(note)) > maxNote:
		errs[InputNote] = fmt.Sprintf("At most %d characters.", maxNote)
	case note == "" && !approve && errs[InputDecision] == "":
		errs[InputNote] = "Say why you reject it."
	}
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	item := itemOr(meta.Item, "the obligation")
	done := fmt.Sprintf("Approved, as yours: `%s` is decided not required.", item)
	if !approve {
		done = fmt.Sprintf("Rejected, as yours: `%s` stands.", item)
	}
	d.runLater(meta.target(user), update{Need: roleApprover, WorkflowID: meta.WorkflowID, Name: workflows.UpdateReviewNotRequired,
		Arg: workflows.NotRequiredReview{By: user, Approve: approve, Note: note}, UpdateID: viewUpdateID(ic), Done: done})
	return Ack{}
}

// checkText checks a required free-text field; it returns the error to
// show, or "".
func checkText(s string, limit int, missing string) string {
	switch n := len([]rune(s)); {
	case n == 0:
		return missing
	case n > limit:
		return fmt.Sprintf("At most %d characters.", limit)
	}
	return ""
}

// checkOptional checks an optional free-text field.
func checkOptional(s string, limit int) string {
	if len([]rune(s)) > limit {
		return fmt.Sprintf("At most %d characters.", limit)
	}
	return ""
}

// dateTimeInputs are a date and a time picker, set to now.
func (d *Dispatcher) dateTimeInputs(dateID, timeID, label string, optional bool) []slack.Block {
	now := d.now().In(d.cfg.Location)
	date := slack.NewDatePickerBlockElement(dateID)
	hm := slack.NewTimePickerBlockElement(timeID)
	if !optional {
		date.InitialDate = now.Format("2006-01-02")
		hm.InitialTime = now.Format("15:04")
	}
	if tz := d.cfg.Location.String(); strings.Contains(tz, "/") {
		hm.Timezone = tz
	}
	tzName := now.Format("MST")
	db := slack.NewInputBlock(dateID, pt(label+" — date ("+tzName+")"), nil, date)
	tb := slack.NewInputBlock(timeID, pt(label+" — time ("+tzName+")"), nil, hm)
	db.Optional, tb.Optional = optional, optional
	return []slack.Block{db, tb}
}

// pastTime reads a date and time picker pair that must not be in the
// future; errors go into errs.
func (d *Dispatcher) pastTime(values map[string]map[string]slack.BlockAction, dateID, timeID string, errs map[string]string) time.Time {
	at, which, msg := parseLocalTime(values[dateID][dateID].SelectedDate, values[timeID][timeID].SelectedTime, d.cfg.Location, dateID, timeID)
	if msg == "" && at.After(d.now().Add(awareSkew)) {
		which, msg = dateID, "This is in the future."
	}
	if msg != "" {
		errs[which] = msg
		return time.Time{}
	}
	return at.UTC()
}

// preventionReportModal asks when and under which reference the
// root-cause and prevention report was submitted.
func (d *Dispatcher) preventionReportModal(meta actionMeta) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	ref := slack.NewPlainTextInputBlockElement(pt("document ID or URL"), InputReference)
	ref.MaxLength = maxReference
	note := slack.NewPlainTextInputBlockElement(nil, InputNote)
	note.Multiline = true
	note.MaxLength = maxNote
	noteBlock := slack.NewInputBlock(InputNote, pt("Note"), nil, note)
	noteBlock.Optional = true
	blocks := []slack.Block{
		slack.NewSectionBlock(md(fmt.Sprintf("Record that the root-cause and prevention report of incident *%s* was submitted. Your Slack ID is recorded.",
			incidentOf(meta.WorkflowID))), nil, nil),
	}
	blocks = append(blocks, d.dateTimeInputs(InputSubmittedDate, InputSubmittedTime, "Submitted", false)...)
	blocks = append(blocks,
		slack.NewInputBlock(InputReference, pt("Reference"), pt("Where the report is, or what the recipient gave back."), ref),
		noteBlock)
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackPreventionReport, PrivateMetadata: pm,
		Title: pt("Prevention report"), Submit: pt("Record"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}, nil
}

// preventionReportSubmission sends record_prevention_report.
func (d *Dispatcher) preventionReportSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputReference)
	}
	values := stateValues(ic)
	errs := map[string]string{}
	at := d.pastTime(values, InputSubmittedDate, InputSubmittedTime, errs)
	ref := strings.TrimSpace(values[InputReference][InputReference].Value)
	if msg := checkText(ref, maxReference, "Enter the report's document ID or URL."); msg != "" {
		errs[InputReference] = msg
	}
	note := strings.TrimSpace(values[InputNote][InputNote].Value)
	if msg := checkOptional(note, maxNote); msg != "" {
		errs[InputNote] = msg
	}
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	d.runLater(meta.target(user), update{Need: roleApprover, WorkflowID: meta.WorkflowID, Name: workflows.UpdateRecordPreventionReport,
		Arg: workflows.PreventionReport{By: user, Reference: ref, SubmittedAt: at, Note: note}, UpdateID: viewUpdateID(ic),
		Done: fmt.Sprintf("The prevention report of %s is recorded, as yours.", incidentOf(meta.WorkflowID))})
	return Ack{}
}

// openFacts looks the incident's facts up and opens the facts modal with
// them filled in.
func (d *Dispatcher) openFacts(ctx context.Context, trigger string, t target, meta actionMeta) Ack {
	var st workflows.IncidentStatus
	checks, err := d.authorizeAndQuery(ctx, t.User, meta.WorkflowID, &st, roleResponder)
	if c := checks[roleResponder]; !c.ok {
		d.later(t, "Nothing was changed. "+c.refusal)
		return Ack{}
	}
	if err != nil {
		d.later(t, temporalFailure("look up the facts of "+incidentOf(meta.WorkflowID), err))
		return Ack{}
	}
	if st.Phase == workflows.PhaseClosed {
		d.later(t, fmt.Sprintf("%s is closed: its facts are final.", incidentOf(meta.WorkflowID)))
		return Ack{}
	}
	if !st.Facts.AwareAt.IsZero() {
		meta.Aware = st.Facts.AwareAt.Unix()
	}
	return d.openModal(ctx, trigger, t, func(m actionMeta) (slack.ModalViewRequest, error) { return d.factsModal(m, st.Facts) }, meta)
}

// factsModal shows the facts that choose the obligations, filled in with
// the current ones.
func (d *Dispatcher) factsModal(meta actionMeta, f workflows.Facts) (slack.ModalViewRequest, error) {
	pm, err := encodeMeta(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	yesNo := func(id string, v bool) *slack.RadioButtonsBlockElement {
		yes, no := option(Yes, "Yes"), option(No, "No")
		e := slack.NewRadioButtonsBlockElement(id, yes, no)
		e.InitialOption = no
		if v {
			e.InitialOption = yes
		}
		return e
	}
	persons := slack.NewNumberInputBlockElement(pt("e.g. 53"), InputPersons, false)
	persons.MinValue = "0"
	persons.InitialValue = strconv.Itoa(f.Persons)
	what := slack.NewPlainTextInputBlockElement(pt("e.g. names, addresses and bank account numbers"), InputWhatLeaked)
	what.Multiline = true
	what.MaxLength = maxWhatLeaked
	what.InitialValue = f.WhatLeaked
	reason := slack.NewPlainTextInputBlockElement(pt("e.g. the forensic report found the files were sold"), InputReason)
	reason.Multiline = true
	reason.MaxLength = maxReason
	blocks := []slack.Block{
		slack.NewSectionBlock(md(fmt.Sprintf("Change the facts of incident *%s*. They choose the legal obligations and their deadlines: new obligations open, deadlines move when the rules say so, and none is dropped. Your Slack ID and reason are recorded.",
			incidentOf(meta.WorkflowID))), nil, nil),
		slack.NewInputBlock(InputPersons, pt("Number of people affected"), nil, persons),
		slack.NewInputBlock(InputWhatLeaked, pt("What leaked"), pt("Kinds of data, not the data itself."), what),
		slack.NewInputBlock(InputSensitive, pt("Sensitive data, or data whose misuse may cause financial harm?"), nil, yesNo(InputSensitive, f.SensitiveOrFinancial)),
		slack.NewInputBlock(InputUnauthorized, pt("Done for an unauthorized purpose?"), pt("e.g. theft, unauthorized access, insider exfiltration"), yesNo(InputUnauthorized, f.Unauthorized)),
	}
	if !f.Unauthorized {
		blocks = append(blocks, slack.NewContextBlock("", md("When you answer yes, say when the unauthorized purpose was found (empty: now). Under JP-APPI the final report is then due 60 days from it instead of 30.")))
		blocks = append(blocks, d.dateTimeInputs(InputFoundDate, InputFoundTime, "Found", true)...)
	}
	blocks = append(blocks, slack.NewInputBlock(InputReason, pt("Why do the facts change?"), pt("Recorded with the change. No personal data."), reason))
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: slackui.CallbackUpdateFacts, PrivateMetadata: pm,
		Title: pt("Update facts"), Submit: pt("Update"), Close: pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}, nil
}

// factsEdit is what the facts modal changes.
type factsEdit struct {
	Persons      int
	WhatLeaked   string
	Sensitive    bool
	Unauthorized bool
	FoundAt      time.Time // zero: now (or not set)
	Reason       string
}

// updateFactsSubmission validates the facts modal, closes it, and in the
// background reads the current facts, applies the edit and sends
// update_facts (the fields the form does not show are kept as they are).
func (d *Dispatcher) updateFactsSubmission(ic slack.InteractionCallback) Ack {
	meta, ok := decodeMeta(ic.View.PrivateMetadata)
	if !ok {
		return damagedForm(InputReason)
	}
	values := stateValues(ic)
	get := func(id string) slack.BlockAction { return values[id][id] }
	errs := map[string]string{}
	var e factsEdit
	persons, err := strconv.ParseInt(strings.TrimSpace(get(InputPersons).Value), 10, 64)
	if err != nil || persons < 0 || persons > maxPersons {
		errs[InputPersons] = "Enter the number of people affected: a whole number, 0 or more."
	}
	e.Persons = int(persons)
	e.WhatLeaked = strings.TrimSpace(get(InputWhatLeaked).Value)
	if msg := checkText(e.WhatLeaked, maxWhatLeaked, "Say what kinds of data leaked."); msg != "" {
		errs[InputWhatLeaked] = msg
	}
	yesNo := func(id string) bool {
		switch get(id).SelectedOption.Value {
		case Yes:
			return true
		case No:
			return false
		}
		errs[id] = "Answer yes or no."
		return false
	}
	e.Sensitive = yesNo(InputSensitive)
	e.Unauthorized = yesNo(InputUnauthorized)
	date, hm := get(InputFoundDate).SelectedDate, get(InputFoundTime).SelectedTime
	if e.Unauthorized && (date != "" || hm != "") {
		e.FoundAt = d.pastTime(values, InputFoundDate, InputFoundTime, errs)
		if !e.FoundAt.IsZero() && meta.Aware > 0 && e.FoundAt.Before(time.Unix(meta.Aware, 0)) {
			errs[InputFoundDate] = "This is before the organisation became aware (" + time.Unix(meta.Aware, 0).In(d.cfg.Location).Format("2006-01-02 15:04 MST") + ")."
		}
	}
	e.Reason = strings.TrimSpace(get(InputReason).Value)
	if msg := checkText(e.Reason, maxReason, "Say why the facts change."); msg != "" {
		errs[InputReason] = msg
	}
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	t := meta.target(user)
	updateID := viewUpdateID(ic)
	if !d.spawn(lookupTimeout+d.cfg.UpdateTimeout+authBudget+replyTimeout, func(ctx context.Context) {
		var st workflows.IncidentStatus
		qctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		v, err := d.cfg.Temporal.QueryWorkflow(qctx, meta.WorkflowID, "", workflows.QueryStatus)
		if err == nil {
			err = v.Get(&st)
		}
		cancel()
		if err != nil {
			d.tell(ctx, t, "Nothing was changed. "+temporalFailure("read the current facts of "+incidentOf(meta.WorkflowID), err))
			return
		}
		f := st.Facts
		wasUnauthorized := f.Unauthorized
		f.Persons, f.WhatLeaked, f.SensitiveOrFinancial, f.Unauthorized = e.Persons, e.WhatLeaked, e.Sensitive, e.Unauthorized
		ch := workflows.FactsChange{Facts: f, Reason: e.Reason, By: user}
		if e.Unauthorized && !wasUnauthorized {
			ch.UnauthorizedPurposeFoundAt = e.FoundAt
		}
		d.run(ctx, t, update{Need: roleResponder, WorkflowID: meta.WorkflowID, Name: workflows.UpdateFacts, Arg: ch, UpdateID: updateID,
			Done: fmt.Sprintf("The facts of %s are changed, as yours; the obligations are evaluated again.", incidentOf(meta.WorkflowID))})
	}) {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{InputReason: "breachflow is shutting down; submit again in a minute."})}
	}
	return Ack{}
}
