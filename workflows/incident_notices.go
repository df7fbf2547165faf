package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
)

// BroadcastNotStarted is the state of a broadcast whose workflow could
// not be started (BroadcastRef.StartError says why); DemandNotStarted
// likewise for a broker demand.
const (
	BroadcastNotStarted BroadcastState    = "not_started"
	DemandNotStarted    BrokerDemandState = "not_started"
)

// NoticesCarry is what an Incident knows of its broadcasts and broker
// demands, handed over by continue-as-new: their numbering survives it.
type NoticesCarry struct {
	Broadcasts []BroadcastRef    `json:"broadcasts,omitempty"`
	Demands    []BrokerDemandRef `json:"demands,omitempty"`
	// Notices are the language, items and list of each notice (purpose
	// notice): a daily report to the affected goes the way the last notice
	// sent went.
	Notices []noticeMemo `json:"notices,omitempty"`
	// Last is the order of the last report applied, by workflow ID.
	Last map[string]reportOrder `json:"last,omitempty"`
}

// reportOrder orders a child's reports: by run, then by report.
type reportOrder struct {
	Run time.Time `json:"run"`
	Seq int       `json:"seq"`
}

func (o reportOrder) after(p reportOrder) bool {
	return o.Run.After(p.Run) || o.Run.Equal(p.Run) && o.Seq > p.Seq
}

// noticeMemo is how notice N went out.
type noticeMemo struct {
	N     int                    `json:"n"`
	Lang  string                 `json:"lang"`
	Items activities.NoticeItems `json:"items"`
	List  recipients.ListRef     `json:"list"`
}

// noticeSet starts an incident's Broadcasts (start_broadcast, and the
// daily report to the affected) and BrokerDemands (add_broker_demand) as
// abandoned children, so that neither the Incident's continue-as-new nor
// its close ever stops a send or a letter's clock, and keeps what they
// report (SignalNoticeProgress): states and counts, never names.
//
// Progress is pushed, not pulled: each child signals its Incident when
// its state (or, for a broadcast, its sent count, once per chunk of
// requests) changes. That is bounded (a handful of states, and a
// million-recipient broadcast sends about a hundred chunks) and needs no
// timer or query in the Incident's history. A signal reaches the
// Incident's current run (continue-as-new included); one sent to a closed
// Incident fails in the child's history and changes nothing. The full
// detail (approvals, test sends, mailings, answers) is read from each
// child's status query when the record is written.
type noticeSet struct {
	in     IncidentInput
	carry  *NoticesCarry
	sh     *crew
	facts  func() Facts
	closed func() bool
	// reply tells the incident thread what went wrong (a child that did
	// not start); a start that succeeded is announced by the child's own
	// message in the channel.
	reply func(string)
	// starting counts child starts in flight: continue-as-new and close
	// wait for them.
	starting int
	// progress holds the children's reports until applied (see inbox).
	progress *inbox[NoticeProgress]
}

func newNoticeSet(in IncidentInput, carry *NoticesCarry, sh *crew, facts func() Facts, closed func() bool, reply func(string)) *noticeSet {
	if closed == nil {
		closed = func() bool { return false }
	}
	if reply == nil {
		reply = func(string) {}
	}
	return &noticeSet{in: in, carry: carry, sh: sh, facts: facts, closed: closed, reply: reply}
}

// setup registers start_broadcast and add_broker_demand and listens for
// the children's progress.
func (n *noticeSet) setup(ctx workflow.Context) error {
	if err := setUpdate(ctx, UpdateStartBroadcast, n.startBroadcast,
		workflow.UpdateHandlerOptions{Validator: n.validateStart}); err != nil {
		return fmt.Errorf("register start broadcast update: %w", err)
	}
	if err := setUpdate(ctx, UpdateAddBrokerDemand, n.addDemand,
		workflow.UpdateHandlerOptions{Validator: n.validateDemand}); err != nil {
		return fmt.Errorf("register add broker demand update: %w", err)
	}
	n.progress = listen(ctx, SignalNoticeProgress, n.apply)
	return nil
}

// drain applies the progress already delivered; call it before
// continue-as-new and before close.
func (n *noticeSet) drain(workflow.Context) { n.progress.drain() }

func (n *noticeSet) busy() bool { return n.starting > 0 }

// apply keeps a child's report; a report older than the last one applied
// (signals may arrive out of order) changes nothing.
func (n *noticeSet) apply(p NoticeProgress) {
	order := reportOrder{Run: p.Run, Seq: p.Seq}
	if last, ok := n.carry.Last[p.WorkflowID]; ok && !order.after(last) {
		return
	}
	switch {
	case p.Broadcast != nil:
		r := n.broadcast(p.WorkflowID)
		if r == nil {
			return
		}
		b := p.Broadcast
		r.State, r.Sent, r.Total, r.Approvals, r.Quorum, r.UpdatedAt = b.State, b.Sent, b.Total, b.Approvals, b.Quorum, p.At
		r.Bounced, r.Dropped, r.NotSent = b.Bounced, b.Dropped, b.NotSent
	case p.Demand != nil:
		r := n.demand(p.WorkflowID)
		if r == nil {
			return
		}
		r.State, r.AnswerDue, r.UpdatedAt = p.Demand.State, p.Demand.AnswerDue, p.At
	default:
		return
	}
	if n.carry.Last == nil {
		n.carry.Last = map[string]reportOrder{}
	}
	n.carry.Last[p.WorkflowID] = order
	n.sh.touch()
}

// otherLists are the incident's lists a notice must quote nobody from,
// besides its own: the wrong recipients, the affected and every earlier
// notice's list, in that order, each once.
func (n *noticeSet) otherLists() []recipients.ListRef {
	var out []recipients.ListRef
	seen := map[string]bool{}
	add := func(ref *recipients.ListRef) {
		if ref != nil && ref.Count > 0 && !seen[ref.SHA256] {
			seen[ref.SHA256] = true
			out = append(out, *ref)
		}
	}
	add(n.in.WrongRecipients)
	add(n.in.Affected)
	for k := range n.carry.Notices {
		add(&n.carry.Notices[k].List)
	}
	return out
}

func (n *noticeSet) broadcast(wid string) *BroadcastRef {
	for k := range n.carry.Broadcasts {
		if n.carry.Broadcasts[k].WorkflowID == wid {
			return &n.carry.Broadcasts[k]
		}
	}
	return nil
}

func (n *noticeSet) demand(wid string) *BrokerDemandRef {
	for k := range n.carry.Demands {
		if n.carry.Demands[k].WorkflowID == wid {
			return &n.carry.Demands[k]
		}
	}
	return nil
}

// inProgress reports whether a broadcast has not finished sending: it is
// being prepared, refused (to revise), awaiting approval, sending or
// paused. Sent, substitute_pending, done, stopped and not_started are not.
func (s BroadcastState) inProgress() bool {
	switch s {
	case BroadcastPreparing, BroadcastRefused, BroadcastAwaitingApproval, BroadcastSending, BroadcastPaused:
		return true
	}
	return false
}

// delivered reports whether the broadcast went out to everyone it could
// reach.
func (s BroadcastState) delivered() bool {
	return s == BroadcastSent || s == BroadcastSubstitutePending || s == BroadcastDone
}

// busyWith returns the latest broadcast of a purpose still in progress.
func (n *noticeSet) busyWith(purpose string) *BroadcastRef {
	for k := len(n.carry.Broadcasts) - 1; k >= 0; k-- {
		if r := &n.carry.Broadcasts[k]; r.Purpose == purpose && r.State.inProgress() {
			return r
		}
	}
	return nil
}

// canStart reports whether start_broadcast would be accepted without a
// list (the incident message's "Send notices" button gives none).
func (n *noticeSet) canStart() bool {
	return n.validateStart(StartBroadcast{By: "incident message"}) == nil
}

func (n *noticeSet) noticeLang(l string) string {
	if l == "" {
		return "ja"
	}
	return l
}

// Validators.

func (n *noticeSet) validateStart(req StartBroadcast) error {
	if err := needBy(req.By); err != nil {
		return err
	}
	rb := n.in.Runbook.Runbook
	switch {
	case n.closed():
		return fmt.Errorf("incident %s is closed: no new notice can be started", n.in.IncidentID)
	case rb.Phases.Broadcast == nil:
		return fmt.Errorf("runbook %s has no broadcast phase, so it notifies nobody: notices need its approval gate (quorum, approvers, template); declare with a runbook that has one", rb.ID)
	case req.Lang != "" && req.Lang != "ja" && req.Lang != "en":
		return fmt.Errorf("language %q: want ja or en", req.Lang)
	case req.List != nil && (req.List.SHA256 == "" || req.List.Count <= 0):
		return errors.New("the list reference is empty: store the list with `starter recipients put` and give the reference it prints")
	case req.List == nil && n.in.Affected == nil:
		return fmt.Errorf("incident %s was declared without the list of the people affected: give the list to notify (store it with `starter recipients put`)", n.in.IncidentID)
	}
	if r := n.busyWith(PurposeNotice); r != nil {
		return fmt.Errorf("notice %d is %s: approve, revise or stop it (%s) before starting another", r.N, r.State, r.WorkflowID)
	}
	items, _ := noticeItems(req.Items, n.facts(), n.noticeLang(req.Lang))
	if len(items.DataItems) == 0 {
		return errors.New("the notice must say which personal data leaked (APPI Rule 10): give items.data_items, or record what leaked in the facts (update_facts)")
	}
	return nil
}

func (n *noticeSet) validateDemand(req AddBrokerDemand) error {
	if err := needBy(req.By); err != nil {
		return err
	}
	rb := n.in.Runbook.Runbook
	switch {
	case n.closed():
		return fmt.Errorf("incident %s is closed: no new letter can be started", n.in.IncidentID)
	case rb.Phases.BrokerDemands == nil:
		return fmt.Errorf("runbook %s has no broker_demands phase: cease-and-desist letters are part of list-broker-resale (or add a broker_demands phase with its response_window to your runbook)", rb.ID)
	case strings.TrimSpace(req.Broker.Name) == "":
		return errors.New("the broker's name is required: the letter is addressed to it")
	case strings.TrimSpace(req.Broker.Address) == "":
		return errors.New("the broker's postal address is required: content-certified mail goes to an address")
	case strings.TrimSpace(req.Data) == "" && strings.TrimSpace(n.facts().WhatLeaked) == "":
		return errors.New("describe the data the broker holds (data), or record what leaked in the facts (update_facts)")
	}
	return nil
}

// Handlers.

// startBroadcast starts the incident's next notice and returns once the
// Broadcast workflow has started (its preparation and test send follow).
func (n *noticeSet) startBroadcast(ctx workflow.Context, req StartBroadcast) (BroadcastStarted, error) {
	// Checked again: another start may have been accepted meanwhile.
	if err := n.validateStart(req); err != nil {
		return BroadcastStarted{}, err
	}
	lang := n.noticeLang(req.Lang)
	list, source := n.in.Affected, "affected"
	if req.List != nil {
		list, source = req.List, "given"
	}
	items, defaulted := noticeItems(req.Items, n.facts(), lang)
	phase := *n.in.Runbook.Runbook.Phases.Broadcast
	num := len(n.carry.Broadcasts) + 1
	ref := BroadcastRef{N: num, WorkflowID: BroadcastWorkflowID(n.in.IncidentID, num), Purpose: PurposeNotice,
		StartedAt: workflow.Now(ctx), StartedBy: req.By, Reason: req.Reason, List: source,
		State: BroadcastPreparing, Total: list.Count, Quorum: max(1, phase.Quorum)}
	n.carry.Broadcasts = append(n.carry.Broadcasts, ref)
	n.carry.Notices = append(n.carry.Notices, noticeMemo{N: num, Lang: lang, Items: items, List: *list})
	n.sh.touch()
	in := BroadcastInput{IncidentID: n.in.IncidentID, Policy: phase, Lang: lang,
		Notice: runbooks.NoticeData{IncidentID: n.in.IncidentID}, Items: items, List: *list, OtherLists: n.otherLists(),
		SlackChannel: n.in.SlackChannel, StartedBy: req.By}
	summary := fmt.Sprintf("notice %d (%s) of %s", num, lang, n.in.IncidentID)
	if err := n.startBroadcastChild(ctx, ref.WorkflowID, summary, in); err != nil {
		return BroadcastStarted{}, fmt.Errorf("notice %d did not start (%s): try again", num, failureText(err))
	}
	n.sh.log(record.Entry{At: ref.StartedAt, Kind: record.KindBroadcastStarted, Actor: req.By, Subject: ref.WorkflowID, Reason: req.Reason,
		Summary: fmt.Sprintf("notice %d (%s) to the %s list of %d people; defaulted items: %s", num, lang, source, list.Count, orNone(defaulted))})
	return BroadcastStarted{N: num, WorkflowID: ref.WorkflowID, List: source, Recipients: list.Count, Defaulted: defaulted}, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// startBroadcastChild starts a Broadcast and waits until it has started;
// a failure is kept on its ref (state not_started) and recorded.
func (n *noticeSet) startBroadcastChild(ctx workflow.Context, wid, summary string, in BroadcastInput) error {
	err := n.startChild(ctx, wid, summary, SABroadcastState.ValueSet(string(BroadcastPreparing)), Broadcast, in)
	if err != nil {
		if r := n.broadcast(wid); r != nil {
			r.State, r.StartError = BroadcastNotStarted, failureText(err)
			n.sh.log(record.Entry{At: workflow.Now(ctx), Kind: record.KindBroadcastNotStarted, Subject: wid, Reason: r.StartError,
				Summary: "the Broadcast workflow could not be started"})
		}
		workflow.GetLogger(ctx).Error("broadcast did not start", "workflow_id", wid, "error", failureText(err))
		n.reply(fmt.Sprintf("⚠ %s could not be started (%s).", wid, failureText(err)))
		n.sh.touch()
	}
	return err
}

// startChild starts an abandoned child and waits for its start. A child
// already started under that ID is this incident's own (a retried start):
// it counts as started.
func (n *noticeSet) startChild(ctx workflow.Context, wid, summary string, state temporal.SearchAttributeUpdate, wf, arg any) error {
	n.starting++
	defer func() { n.starting-- }()
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: wid,
		// A closing or continuing Incident never stops a send or a
		// letter's clock.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(SAIncidentID.ValueSet(n.in.IncidentID), state),
	})
	err := workflow.ExecuteChildWorkflow(cctx, wf, arg).GetChildWorkflowExecution().Get(ctx, nil)
	var started *temporal.ChildWorkflowExecutionAlreadyStartedError
	if err != nil && asAlreadyStarted(err, &started) {
		return nil
	}
	return err
}

// addDemand starts the next BrokerDemand and returns once it has started.
func (n *noticeSet) addDemand(ctx workflow.Context, req AddBrokerDemand) (BrokerDemandAdded, error) {
	if err := n.validateDemand(req); err != nil {
		return BrokerDemandAdded{}, err
	}
	num := len(n.carry.Demands) + 1
	id := fmt.Sprintf("B%03d", num)
	wid := BrokerDemandWorkflowID(n.in.IncidentID, id)
	now := workflow.Now(ctx)
	n.carry.Demands = append(n.carry.Demands, BrokerDemandRef{DemandID: id, WorkflowID: wid, StartedAt: now, StartedBy: req.By, State: DemandAwaitingMailing})
	n.sh.touch()
	data := strings.TrimSpace(req.Data)
	if data == "" {
		data = n.facts().WhatLeaked
	}
	in := BrokerDemandInput{IncidentID: n.in.IncidentID, DemandID: id, Broker: req.Broker, Data: data, Evidence: req.Evidence,
		ResponseWindow: n.in.Runbook.Runbook.Phases.BrokerDemands.ResponseWindow.D(), SlackChannel: n.in.SlackChannel, StartedBy: req.By,
		DisplayZone: n.sh.loc.String()}
	err := n.startChild(ctx, wid, "cease-and-desist letter "+id+" of "+n.in.IncidentID, SADemandState.ValueSet(string(DemandAwaitingMailing)), BrokerDemand, in)
	if err != nil {
		r := n.demand(wid)
		r.State, r.StartError = DemandNotStarted, failureText(err)
		n.sh.log(record.Entry{At: workflow.Now(ctx), Kind: record.KindBrokerDemandNotStarted, Actor: req.By, Subject: id, Reason: r.StartError,
			Summary: "the BrokerDemand workflow could not be started"})
		workflow.GetLogger(ctx).Error("broker demand did not start", "demand", id, "error", r.StartError)
		n.reply(fmt.Sprintf("⚠ Letter %s could not be started (%s): add it again.", id, r.StartError))
		n.sh.touch()
		return BrokerDemandAdded{}, fmt.Errorf("letter %s did not start (%s): add it again", id, r.StartError)
	}
	n.sh.log(record.Entry{At: now, Kind: record.KindBrokerDemandAdded, Actor: req.By, Subject: id,
		Summary: fmt.Sprintf("cease-and-desist letter %s (answer within %s of arrival)", id, in.ResponseWindow)})
	return BrokerDemandAdded{DemandID: id, WorkflowID: wid}, nil
}

// Daily report to the affected.

// publicReport is a day's report as the affected may read it: counts and
// states, no names, no internal task titles; Ja and En are the body in
// each language.
type publicReport struct {
	Day                  int
	SubjectJa, SubjectEn string
	Ja, En               string
}

// dailyReport sends a day's report to everyone affected as a Broadcast:
// scanned, test-sent, approved by the runbook's quorum, one person per
// message. So that nobody is drowned, and nobody hears a report before
// the notice itself, it starts one only when the stop condition makes a
// report due (the caller), a notice has been sent (it goes the way the
// last one sent went: language, items, list), no notice is in progress,
// and the previous report is not still waiting or sending. It returns
// the outcome for the record.
func (n *noticeSet) dailyReport(ctx workflow.Context, pub publicReport) string {
	phase := n.in.Runbook.Runbook.Phases.Broadcast
	if phase == nil {
		return "affected: not sent — the runbook has no broadcast phase (the approval gate every mail to the affected needs)"
	}
	if n.closed() {
		return "affected: not sent — the incident is closed"
	}
	if r := n.busyWith(PurposeNotice); r != nil {
		return fmt.Sprintf("affected: not sent — notice %d is %s; reports follow the notice", r.N, r.State)
	}
	var memo *noticeMemo
	for k := len(n.carry.Notices) - 1; k >= 0 && memo == nil; k-- {
		m := &n.carry.Notices[k]
		if r := n.broadcast(BroadcastWorkflowID(n.in.IncidentID, m.N)); r != nil && r.State.delivered() {
			memo = m
		}
	}
	if memo == nil {
		return "affected: not sent — the affected have not been notified yet (start_broadcast first)"
	}
	if r := n.busyWith(PurposeDailyReport); r != nil {
		return fmt.Sprintf("affected: not sent — the report of day %d (broadcast %d) is still %s: one report to the affected at a time", r.Day, r.N, r.State)
	}
	num := len(n.carry.Broadcasts) + 1
	wid := BroadcastWorkflowID(n.in.IncidentID, num)
	source := fmt.Sprintf("notice %d", memo.N)
	n.carry.Broadcasts = append(n.carry.Broadcasts, BroadcastRef{N: num, WorkflowID: wid, Purpose: PurposeDailyReport, Day: pub.Day,
		StartedAt: workflow.Now(ctx), StartedBy: record.System, List: source, State: BroadcastPreparing, Total: memo.List.Count, Quorum: max(1, phase.Quorum)})
	n.sh.touch()
	policy := *phase
	policy.Template = dailyTemplate(pub)
	in := BroadcastInput{IncidentID: n.in.IncidentID, Policy: policy, Lang: memo.Lang,
		Notice: runbooks.NoticeData{IncidentID: n.in.IncidentID}, Items: memo.Items, List: memo.List, OtherLists: n.otherLists(),
		SlackChannel: n.in.SlackChannel, StartedBy: record.System}
	if err := n.startBroadcastChild(ctx, wid, fmt.Sprintf("daily report day %d of %s", pub.Day, n.in.IncidentID), in); err != nil {
		return fmt.Sprintf("affected: broadcast %d did not start (%s)", num, failureText(err))
	}
	return fmt.Sprintf("affected: broadcast %d started for %d people (the list of %s); it goes out once %d approvers approve its test send", num, memo.List.Count, source, max(1, phase.Quorum))
}

// dailyTemplate is a report's template: its text taken literally (a
// "{{" in a title is text, not an action), then the desk's contacts.
func dailyTemplate(pub publicReport) runbooks.Template {
	lit := func(s string) string { return strings.ReplaceAll(s, "{{", `{{"{{"}}`) }
	return runbooks.Template{
		Subject: runbooks.Localized{Ja: lit(pub.SubjectJa), En: lit(pub.SubjectEn)},
		Body: runbooks.Localized{
			Ja: lit(pub.Ja) + "\nお問い合わせ窓口\n電話: {{.ContactPhone}}（{{.ContactHours}}）\nメール: {{.ContactEmail}}\n\n{{.Organization}}\n（受付番号: {{.IncidentID}}）\n",
			En: lit(pub.En) + "\nContact\nPhone: {{.ContactPhone}} ({{.ContactHours}})\nE-mail: {{.ContactEmail}}\n\n{{.Organization}}\n(reference: {{.IncidentID}})\n",
		},
	}
}

// noticeItems completes the Rule 10 items from the facts: the summary
// from the title, the data items from what leaked; cause and secondary
// harm say they are under investigation. It returns the items filled in.
func noticeItems(given *activities.NoticeItems, f Facts, lang string) (activities.NoticeItems, []string) {
	var it activities.NoticeItems
	if given != nil {
		it = *given
		it.DataItems = slices.Clone(given.DataItems)
	}
	var filled []string
	investigating := "調査中です。判明し次第お知らせいたします。"
	if lang == "en" {
		investigating = "Under investigation: we will tell you as soon as it is known."
	}
	if strings.TrimSpace(it.Summary) == "" && strings.TrimSpace(f.Title) != "" {
		it.Summary, filled = strings.TrimSpace(f.Title), append(filled, "summary")
	}
	if len(it.DataItems) == 0 && strings.TrimSpace(f.WhatLeaked) != "" {
		it.DataItems, filled = []string{strings.TrimSpace(f.WhatLeaked)}, append(filled, "data_items")
	}
	if strings.TrimSpace(it.Cause) == "" {
		it.Cause, filled = investigating, append(filled, "cause")
	}
	if strings.TrimSpace(it.SecondaryHarm) == "" {
		it.SecondaryHarm, filled = investigating, append(filled, "secondary_harm")
	}
	return it, filled
}

// Views.

// refs returns copies of the broadcasts and demands, never nil.
func (n *noticeSet) refs() ([]BroadcastRef, []BrokerDemandRef) {
	return append([]BroadcastRef{}, n.carry.Broadcasts...), append([]BrokerDemandRef{}, n.carry.Demands...)
}

// views are what the incident message lists.
func (n *noticeSet) views() []slackui.NoticeView {
	var out []slackui.NoticeView
	for _, r := range n.carry.Broadcasts {
		label := fmt.Sprintf("Notice %d", r.N)
		if r.Purpose == PurposeDailyReport {
			label = fmt.Sprintf("Daily report day %d to the affected", r.Day)
		}
		state := string(r.State)
		if r.State == BroadcastAwaitingApproval {
			state = fmt.Sprintf("%s (%d of %d)", r.State, r.Approvals, r.Quorum)
		}
		out = append(out, slackui.NoticeView{WorkflowID: r.WorkflowID, Label: label, State: state, Sent: r.Sent, Total: r.Total, Counts: r.CountsText()})
	}
	for _, d := range n.carry.Demands {
		out = append(out, slackui.NoticeView{WorkflowID: d.WorkflowID, Label: "Letter " + d.DemandID, State: string(d.State)})
	}
	return out
}

// details writes the current details' table of notices and letters.
func (n *noticeSet) details(b *strings.Builder) {
	if len(n.carry.Broadcasts) == 0 && len(n.carry.Demands) == 0 {
		return
	}
	b.WriteString("| notice or letter | state | recipients |\n|---|---|---|\n")
	for _, v := range n.views() {
		sent := "—"
		if v.Counts != "" {
			sent = v.Counts
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", v.Label, v.State, sent)
	}
	b.WriteString("\n")
}

// records returns the broadcasts and demands for the record, and where
// the Recorder reads their details.
func (n *noticeSet) records() ([]record.Broadcast, []record.BrokerDemand, *activities.NoticeSource) {
	var bs []record.Broadcast
	var ds []record.BrokerDemand
	src := &activities.NoticeSource{Query: QueryStatus}
	for _, r := range n.carry.Broadcasts {
		bs = append(bs, record.Broadcast{N: r.N, WorkflowID: r.WorkflowID, Purpose: r.Purpose, Day: r.Day, StartedAt: r.StartedAt,
			StartedBy: r.StartedBy, Reason: r.Reason, List: r.List, State: string(r.State), Sent: r.Sent, Total: r.Total, StartError: r.StartError})
		if r.StartError == "" {
			src.Broadcasts = append(src.Broadcasts, r.WorkflowID)
		}
	}
	for _, d := range n.carry.Demands {
		ds = append(ds, record.BrokerDemand{DemandID: d.DemandID, WorkflowID: d.WorkflowID, StartedAt: d.StartedAt, StartedBy: d.StartedBy,
			State: string(d.State), StartError: d.StartError})
		if d.StartError == "" {
			src.Demands = append(src.Demands, d.WorkflowID)
		}
	}
	if len(src.Broadcasts)+len(src.Demands) == 0 {
		src = nil
	}
	return bs, ds, src
}

// The children's side: each tells the Incident that started it.

// noticeReporter numbers a child's reports to its Incident within a run
// (the run's start time orders the runs) and sends each change once.
type noticeReporter struct {
	seq  int
	last string
	// final is the signal of a final report not yet known delivered.
	final workflow.Future
}

// report signals p to the parent Incident (none when the child was
// started on its own) when key differs from the last report's. A parent
// that has closed only makes the signal fail, in the child's history.
//
// A final report is waited for, when settle allows (now, or at a later
// call with the same key): a signal still pending when its sender
// completes is dropped by the server (found on the dev server: a
// broadcast stopped without a Slack channel completed in the same
// workflow task, and its Incident never heard of it).
func (r *noticeReporter) report(ctx workflow.Context, key string, p NoticeProgress, final, settle bool) {
	info := workflow.GetInfo(ctx)
	if info.ParentWorkflowExecution == nil {
		return
	}
	if key != r.last {
		r.last = key
		r.seq++
		p.WorkflowID, p.At, p.Run, p.Seq = info.WorkflowExecution.ID, workflow.Now(ctx), info.WorkflowStartTime, r.seq
		fut := workflow.SignalExternalWorkflow(ctx, info.ParentWorkflowExecution.ID, "", SignalNoticeProgress, p)
		r.final = nil
		if final {
			r.final = fut
		}
	}
	if r.final != nil && settle {
		_ = r.final.Get(ctx, nil)
		r.final = nil
	}
}

// tellIncident reports a Broadcast's state and counts to its Incident. It
// runs on every publish, so the final report is settled at the last one,
// once no chunk is in flight (a stop never waits for it).
func (b *broadcast) tellIncident(ctx workflow.Context, key string) {
	p := b.status.Progress
	b.parent.report(ctx, key, NoticeProgress{
		Broadcast: &BroadcastProgressRef{State: b.status.State, Sent: p.Sent, Total: p.Total, Approvals: len(b.status.Approvals), Quorum: b.status.Quorum,
			Bounced: p.Bounced, Dropped: p.Dropped, NotSent: p.NoAddress + p.Invalid},
	}, b.status.State.Final(), len(b.running) == 0)
}

// tellIncident reports a BrokerDemand's state to its Incident.
func (d *brokerDemand) tellIncident(ctx workflow.Context) {
	final := d.status.State.Ended()
	key := fmt.Sprintf("%s %s", d.status.State, d.status.AnswerDue)
	d.parent.report(ctx, key, NoticeProgress{Demand: &DemandProgressRef{State: d.status.State, AnswerDue: d.status.AnswerDue}}, final, true)
}
