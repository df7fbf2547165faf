package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Inputs of breachflow's modals: each is an input block whose block_id
// and action_id are both this string.
const (
	// Declaration modal (slackui.CallbackDeclare).
	InputRunbook       = "runbook"
	InputTitle         = "title"
	InputWhatLeaked    = "what_leaked"
	InputPersons       = "persons"
	InputAwareDate     = "aware_date"
	InputAwareTime     = "aware_time"
	InputUnauthorized  = "unauthorized"
	InputSensitive     = "sensitive"
	InputJurisdictions = "jurisdictions"
	InputList          = "list"
	InputSentSubject   = "sent_subject"
	InputSentDate      = "sent_date"
	InputSentTime      = "sent_time"

	// Close-recipient modal (slackui.CallbackCloseRecipient).
	InputReason = "reason"

	// Record-filing modal (slackui.CallbackRecordFiling).
	InputFiledDate     = "filed_date"
	InputFiledTime     = "filed_time"
	InputReference     = "reference"
	InputFilingChannel = "filing_channel"
)

// Values of the yes/no radio buttons.
const (
	Yes = "yes"
	No  = "no"
)

// Regimes returns the legal regime IDs a declaration may name as
// jurisdictions.
func Regimes() []string {
	return []string{"JP-APPI", "EU-GDPR", "UK-GDPR", "KR-PIPA", "SG-PDPA", "AU-NDB", "US-HIPAA", "US-CA", "US-NY"}
}

// Limits of the declaration's free-text fields.
const (
	maxTitle      = 150
	maxWhatLeaked = 2000
	// maxSentSubject bounds the mis-sent message's subject, as quoted in
	// every deletion request.
	maxSentSubject = 200
	maxPersons     = 10_000_000_000
	// awareSkew tolerates clocks a little ahead of ours.
	awareSkew = time.Minute
)

// declareMeta is the declaration modal's private_metadata.
type declareMeta struct {
	Channel     string `json:"c"`
	ResponseURL string `json:"r,omitempty"`
	// OpenedAt (Unix seconds) dates the incident ID: a replayed
	// submission carries the same value, so it names the same incident.
	OpenedAt int64 `json:"t,omitempty"`
}

func pt(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func md(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func option(value, text string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, pt(truncate(text, 75)), nil)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// catalog is the runbooks the declare form offers: the built-ins and the
// organisation's own (Config.Runbooks), loaded once: parsing them on every
// request would cost the 3-second budget.
type catalog struct {
	ids    []string
	snaps  map[string]runbooks.Snapshot
	recall []string // IDs of the runbooks with a recall phase
}

var builtins = sync.OnceValue(func() []runbooks.Snapshot {
	var out []runbooks.Snapshot
	for _, id := range runbooks.BuiltinIDs() {
		if snap, err := runbooks.Builtin(id); err == nil {
			out = append(out, snap)
		}
	}
	return out
})

// newCatalog offers the built-ins and extra runbooks; an extra runbook
// may not reuse a built-in's ID.
func newCatalog(extra []runbooks.Snapshot) (catalog, error) {
	c := catalog{snaps: map[string]runbooks.Snapshot{}}
	for _, snap := range append(append([]runbooks.Snapshot(nil), builtins()...), extra...) {
		id := snap.Runbook.ID
		if _, dup := c.snaps[id]; dup {
			return c, fmt.Errorf("runbook %q (%s) has the ID of another runbook; give it its own id", id, snap.Source)
		}
		c.ids = append(c.ids, id)
		c.snaps[id] = snap
		if snap.Runbook.Phases.Recall != nil {
			c.recall = append(c.recall, id)
		}
	}
	sort.Strings(c.ids)
	sort.Strings(c.recall)
	return c, nil
}

// runbook returns an offered runbook by ID.
func (d *Dispatcher) runbook(id string) (runbooks.Snapshot, bool) {
	snap, ok := d.cat.snaps[id]
	return snap, ok
}

// declareCommand opens the declaration modal at once: the trigger_id
// expires 3 s after the user typed the command. Nothing touches Temporal.
func (d *Dispatcher) declareCommand(ctx context.Context, cmd slack.SlashCommand, runbookID string) Ack {
	if _, ok := d.runbook(runbookID); runbookID != "" && !ok {
		return ephemeral(fmt.Sprintf("No runbook %q. Runbooks: %s.", runbookID, strings.Join(d.cat.ids, ", ")))
	}
	actx, cancel := context.WithTimeout(ctx, authBudget)
	refusal, ok := d.authorize(actx, roleResponder, cmd.UserID)
	cancel()
	if !ok {
		return ephemeral(refusal)
	}
	view, err := d.declareModal(declareMeta{Channel: cmd.ChannelID, ResponseURL: cmd.ResponseURL, OpenedAt: d.now().Unix()}, runbookID)
	if err != nil {
		d.log.Error("slackbot: build declaration modal", "error", err)
		return ephemeral("Could not build the declaration form: " + err.Error())
	}
	octx, cancel := context.WithTimeout(ctx, openBudget)
	_, err = d.cfg.Slack.OpenViewContext(octx, cmd.TriggerID, view)
	cancel()
	if err != nil {
		d.log.Warn("slackbot: views.open failed", "user", cmd.UserID, "error", err)
		return ephemeral(fmt.Sprintf("Could not open the declaration form (%v). Run `%s declare` again.", err, command(cmd)))
	}
	return Ack{}
}

// declareModal builds the declaration form.
func (d *Dispatcher) declareModal(meta declareMeta, runbookID string) (slack.ModalViewRequest, error) {
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return slack.ModalViewRequest{}, fmt.Errorf("encode private metadata: %w", err)
	}
	now := d.now().In(d.cfg.Location)

	var rbOptions []*slack.OptionBlockObject
	var initialRB *slack.OptionBlockObject
	initialRegimes := []string{"JP-APPI"}
	for _, id := range d.cat.ids {
		text := id
		snap, _ := d.runbook(id)
		if t := snap.Runbook.Title.En; t != "" {
			text = id + " — " + t
		}
		if id == runbookID && len(snap.Runbook.Regimes) > 0 {
			initialRegimes = snap.Runbook.Regimes
		}
		o := option(id, text)
		rbOptions = append(rbOptions, o)
		if id == runbookID {
			initialRB = o
		}
	}
	rbSelect := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, pt("Choose a runbook"), InputRunbook, rbOptions...)
	rbSelect.InitialOption = initialRB

	title := slack.NewPlainTextInputBlockElement(pt("e.g. Order confirmation sent to the wrong customers"), InputTitle)
	title.MaxLength = maxTitle
	what := slack.NewPlainTextInputBlockElement(pt("e.g. names and order numbers in an e-mail attachment"), InputWhatLeaked)
	what.Multiline = true
	what.MaxLength = maxWhatLeaked
	persons := slack.NewNumberInputBlockElement(pt("e.g. 53"), InputPersons, false)
	persons.MinValue = "1"

	awareDate := slack.NewDatePickerBlockElement(InputAwareDate)
	awareDate.InitialDate = now.Format("2006-01-02")
	awareTime := slack.NewTimePickerBlockElement(InputAwareTime)
	awareTime.InitialTime = now.Format("15:04")
	if tz := d.cfg.Location.String(); strings.Contains(tz, "/") {
		awareTime.Timezone = tz
	}

	yesNo := func(id string) *slack.RadioButtonsBlockElement {
		return slack.NewRadioButtonsBlockElement(id, option(Yes, "Yes"), option(No, "No"))
	}

	var regimeOptions, initialRegimeOptions []*slack.OptionBlockObject
	for _, r := range Regimes() {
		o := option(r, r)
		regimeOptions = append(regimeOptions, o)
		if slices.Contains(initialRegimes, r) {
			initialRegimeOptions = append(initialRegimeOptions, o)
		}
	}
	juris := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeStatic, pt("Regimes that apply"), InputJurisdictions, regimeOptions...)
	juris.InitialOptions = initialRegimeOptions

	list := slack.NewPlainTextInputBlockElement(pt("as printed by `starter recipients put`"), InputList)
	listBlock := slack.NewInputBlock(InputList, pt("Recipient list reference"),
		pt("Required by runbooks that recall data from wrong recipients ("+strings.Join(d.cat.recall, ", ")+")."), list)
	listBlock.Optional = true

	tzName := now.Format("MST")
	sentSubject := slack.NewPlainTextInputBlockElement(pt("e.g. 【会員様限定】秋のイベントのご案内"), InputSentSubject)
	sentSubject.MaxLength = maxSentSubject
	sentSubjectBlock := slack.NewInputBlock(InputSentSubject, pt("Subject of the mis-sent message"),
		pt("Quoted in every deletion request, so that the recipient knows which message is meant. No personal data."), sentSubject)
	sentSubjectBlock.Optional = true
	sentDateBlock := slack.NewInputBlock(InputSentDate, pt("Sent — date ("+tzName+")"), pt("When the mis-sent message went out."), slack.NewDatePickerBlockElement(InputSentDate))
	sentDateBlock.Optional = true
	sentTime := slack.NewTimePickerBlockElement(InputSentTime)
	if tz := d.cfg.Location.String(); strings.Contains(tz, "/") {
		sentTime.Timezone = tz
	}
	sentTimeBlock := slack.NewInputBlock(InputSentTime, pt("Sent — time ("+tzName+")"), nil, sentTime)
	sentTimeBlock.Optional = true

	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      slackui.CallbackDeclare,
		PrivateMetadata: string(metaJSON),
		Title:           pt("Declare an incident"),
		Submit:          pt("Declare"),
		Close:           pt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md("Never type names, addresses or numbers of the people affected: this form and the incident message show counts only."), nil, nil),
			slack.NewInputBlock(InputRunbook, pt("Runbook"), nil, rbSelect),
			slack.NewInputBlock(InputTitle, pt("Title"), pt("No personal data."), title),
			slack.NewInputBlock(InputWhatLeaked, pt("What leaked"), pt("Kinds of data, not the data itself."), what),
			slack.NewInputBlock(InputPersons, pt("Number of people affected"), nil, persons),
			slack.NewInputBlock(InputAwareDate, pt("Became aware — date ("+tzName+")"), pt("When the organisation became aware: this starts the legal clocks."), awareDate),
			slack.NewInputBlock(InputAwareTime, pt("Became aware — time ("+tzName+")"), nil, awareTime),
			slack.NewInputBlock(InputUnauthorized, pt("Possibly done for an unauthorized purpose?"), pt("e.g. theft, unauthorized access, insider exfiltration"), yesNo(InputUnauthorized)),
			slack.NewInputBlock(InputSensitive, pt("Sensitive data, or data whose misuse may cause financial harm?"), nil, yesNo(InputSensitive)),
			slack.NewInputBlock(InputJurisdictions, pt("Jurisdictions"), nil, juris),
			listBlock,
			sentSubjectBlock,
			sentDateBlock,
			sentTimeBlock,
		}},
	}, nil
}

// validateDeclare reads and validates the declaration form. It returns
// the errors to show, per input block; it never calls Temporal.
func (d *Dispatcher) validateDeclare(ctx context.Context, values map[string]map[string]slack.BlockAction) (incidents.Declaration, map[string]string) {
	errs := map[string]string{}
	get := func(id string) slack.BlockAction { return values[id][id] }
	var decl incidents.Declaration

	rbID := get(InputRunbook).SelectedOption.Value
	snap, rbOK := d.runbook(rbID)
	if !rbOK {
		errs[InputRunbook] = "Choose one of the offered runbooks."
	}
	decl.Runbook = snap

	title := strings.TrimSpace(get(InputTitle).Value)
	switch n := len([]rune(title)); {
	case n == 0:
		errs[InputTitle] = "A title is required."
	case n > maxTitle:
		errs[InputTitle] = fmt.Sprintf("At most %d characters.", maxTitle)
	}
	what := strings.TrimSpace(get(InputWhatLeaked).Value)
	switch n := len([]rune(what)); {
	case n == 0:
		errs[InputWhatLeaked] = "Say what kinds of data leaked."
	case n > maxWhatLeaked:
		errs[InputWhatLeaked] = fmt.Sprintf("At most %d characters.", maxWhatLeaked)
	}
	persons, err := strconv.ParseInt(strings.TrimSpace(get(InputPersons).Value), 10, 64)
	if err != nil || persons < 1 || persons > maxPersons {
		errs[InputPersons] = "Enter the number of people affected: a whole number, 1 or more."
	}

	now := d.now()
	awareAt, which, msg := parseLocalTime(get(InputAwareDate).SelectedDate, get(InputAwareTime).SelectedTime, d.cfg.Location,
		InputAwareDate, InputAwareTime)
	if msg == "" && awareAt.After(now.Add(awareSkew)) {
		which, msg = InputAwareDate, fmt.Sprintf("This is in the future (it is now %s).", now.In(d.cfg.Location).Format("2006-01-02 15:04 MST"))
		if awareAt.In(d.cfg.Location).Format("2006-01-02") == now.In(d.cfg.Location).Format("2006-01-02") {
			which = InputAwareTime
		}
	}
	if msg != "" {
		errs[which] = msg
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
	unauthorized := yesNo(InputUnauthorized)
	sensitive := yesNo(InputSensitive)

	var juris []string
	for _, o := range get(InputJurisdictions).SelectedOptions {
		if !slices.Contains(Regimes(), o.Value) {
			errs[InputJurisdictions] = fmt.Sprintf("Unknown regime %q.", o.Value)
		}
		if !slices.Contains(juris, o.Value) {
			juris = append(juris, o.Value)
		}
	}
	if len(juris) == 0 && errs[InputJurisdictions] == "" {
		errs[InputJurisdictions] = "Choose at least one regime (JP-APPI for a Japanese organisation)."
	}

	ref := strings.TrimSpace(get(InputList).Value)
	if rbOK {
		recall := snap.Runbook.Phases.Recall != nil
		switch {
		case recall && ref == "":
			errs[InputList] = fmt.Sprintf("Runbook %s recalls the data from the wrong recipients: enter the list reference printed by `starter recipients put`.", rbID)
		case !recall && ref != "":
			errs[InputList] = fmt.Sprintf("Runbook %s recalls nothing: leave this empty.", rbID)
		case ref != "" && d.cfg.Lists == nil:
			errs[InputList] = "Recipient lists are not configured on this server."
		case ref != "":
			rctx, cancel := context.WithTimeout(ctx, resolveBudget)
			lr, err := d.cfg.Lists.Resolve(rctx, ref)
			cancel()
			if err != nil {
				d.log.Info("slackbot: unknown list reference", "error", err)
				errs[InputList] = "No stored recipient list matches this reference. Paste the reference printed by `starter recipients put`."
			} else {
				decl.WrongRecipients = &lr
			}
		}
	}

	sentSubject := strings.TrimSpace(get(InputSentSubject).Value)
	if n := len([]rune(sentSubject)); n > maxSentSubject {
		errs[InputSentSubject] = fmt.Sprintf("At most %d characters.", maxSentSubject)
	}
	var sentAt time.Time
	switch sd, st := get(InputSentDate).SelectedDate, get(InputSentTime).SelectedTime; {
	case sd == "" && st != "":
		errs[InputSentDate] = "Pick the date the message was sent, or clear the time."
	case sd != "":
		if st == "" {
			st = "00:00" // the day is what a request names
		}
		t, which, msg := parseLocalTime(sd, st, d.cfg.Location, InputSentDate, InputSentTime)
		if msg == "" && t.After(now.Add(awareSkew)) {
			which, msg = InputSentDate, "This is in the future."
		}
		if msg != "" {
			errs[which] = msg
		}
		sentAt = t.UTC()
	}

	decl.Facts = workflows.Facts{
		Title: title, WhatLeaked: what, Persons: int(persons), AwareAt: awareAt.UTC(),
		Unauthorized: unauthorized, SensitiveOrFinancial: sensitive, Jurisdictions: juris,
		SentSubject: sentSubject, SentAt: sentAt,
	}
	if len(errs) > 0 {
		return incidents.Declaration{}, errs
	}
	// What was typed goes into messages to people (the title into
	// notices, what leaked and the subject into every deletion request):
	// it may quote nobody on the incident's list, like the CLI's.
	typed := []contentscan.Part{{Name: InputTitle, Text: title}, {Name: InputWhatLeaked, Text: what}, {Name: InputSentSubject, Text: sentSubject}}
	cctx, cancel := context.WithTimeout(ctx, typedBudget)
	findings, err := incidents.CheckTyped(cctx, d.cfg.Lists, typed, decl.WrongRecipients)
	cancel()
	if err != nil {
		// Fail closed: what cannot be checked is not declared.
		d.log.Warn("slackbot: the typed fields could not be checked", "error", err)
		return incidents.Declaration{}, map[string]string{InputTitle: "breachflow could not check these fields against the recipient list in time; submit again, or declare with `starter start`."}
	}
	for _, f := range findings {
		if _, ok := errs[f.Part]; ok || !slices.Contains([]string{InputTitle, InputWhatLeaked, InputSentSubject}, f.Part) {
			continue
		}
		errs[f.Part] = fmt.Sprintf("This goes to every recipient and holds personal data (line %d, column %d: %s). Rewrite it without names, addresses or numbers.",
			max(f.Line, 1), max(f.Col, 1), f.Rule)
	}
	if len(errs) > 0 {
		d.log.Info("slackbot: declaration refused: typed fields hold personal data", "findings", len(findings))
		return incidents.Declaration{}, errs
	}
	return decl, nil
}

// typedBudget bounds the check of the typed fields against the list, in
// Slack's three seconds.
const typedBudget = 2 * time.Second

// parseLocalTime reads a date picker (YYYY-MM-DD) and a time picker (HH:mm)
// in loc. On failure it names the block to show msg on.
func parseLocalTime(date, hm string, loc *time.Location, dateBlock, timeBlock string) (t time.Time, block, msg string) {
	if date == "" {
		return t, dateBlock, "Pick a date."
	}
	if hm == "" {
		return t, timeBlock, "Pick a time."
	}
	if _, err := time.Parse("2006-01-02", date); err != nil {
		return t, dateBlock, "Pick a valid date."
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+hm, loc)
	if err != nil {
		return t, timeBlock, "Pick a valid time (HH:MM)."
	}
	return t, "", ""
}

// declareSubmission validates the declaration form within Slack's 3
// seconds: errors go back into the modal; a valid form closes it and the
// Incident starts in the background.
func (d *Dispatcher) declareSubmission(ctx context.Context, ic slack.InteractionCallback) Ack {
	var meta declareMeta
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err != nil || meta.Channel == "" {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{
			InputRunbook: "This form is damaged: close it and run `/breach declare` again.",
		})}
	}
	var values map[string]map[string]slack.BlockAction
	if ic.View.State != nil {
		values = ic.View.State.Values
	}
	decl, errs := d.validateDeclare(ctx, values)
	if len(errs) > 0 {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(errs)}
	}
	user := ic.User.ID
	decl.DeclaredBy = user
	t := target{Channel: meta.Channel, User: user, ResponseURL: meta.ResponseURL}
	started := d.spawn(d.cfg.DeclareTimeout+replyTimeout, func(ctx context.Context) {
		if refusal, ok := d.authorize(ctx, roleResponder, user); !ok {
			d.tell(ctx, t, "No incident was declared. "+refusal)
			return
		}
		t := t.allowed()
		now := d.now()
		day := now
		if meta.OpenedAt > 0 {
			day = time.Unix(meta.OpenedAt, 0)
		}
		// The ID comes from the form (its view ID), so the same submission
		// delivered twice (a replay inside the signature window) names the
		// same incident, and Temporal refuses to start it again.
		decl.IncidentID = incidents.IDFor(day, ic.Team.ID+"/"+ic.View.ID)
		decl.DeclaredAt = now.UTC()
		decl.SlackChannel = meta.Channel
		sctx, cancel := context.WithTimeout(ctx, d.cfg.DeclareTimeout)
		id, err := incidents.Declare(sctx, d.cfg.Temporal, d.cfg.TaskQueue, decl)
		cancel()
		if incidents.AlreadyDeclared(err) {
			d.log.Warn("slackbot: declaration submitted again, nothing started", "incident", decl.IncidentID, "user", user)
			d.tell(ctx, t, fmt.Sprintf("Incident *%s* was already declared from this form; nothing new was started.", decl.IncidentID))
			return
		}
		if err != nil {
			d.log.Error("slackbot: declare incident", "user", user, "runbook", decl.Runbook.Runbook.ID, "error", err)
			d.tell(ctx, t, fmt.Sprintf("Could not declare the incident: %v. Nothing was started; run `/breach declare` again.", err))
			return
		}
		d.log.Info("slackbot: incident declared", "incident", id, "user", user, "runbook", decl.Runbook.Runbook.ID, "channel", meta.Channel)
		d.tell(ctx, t, fmt.Sprintf("Incident *%s* declared with runbook `%s`. Its message will appear in <#%s> and be updated as the response runs.",
			id, decl.Runbook.Runbook.ID, meta.Channel))
	})
	if !started {
		return Ack{Payload: slack.NewErrorsViewSubmissionResponse(map[string]string{
			InputRunbook: "breachflow is shutting down; submit again in a minute.",
		})}
	}
	return Ack{}
}
