package slackbot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

// OpenIncidentsQuery is the visibility query of `/breach list`.
const OpenIncidentsQuery = "WorkflowType = 'Incident' AND ExecutionStatus = 'Running'"

// maxListed bounds how many incidents `/breach list` shows.
const maxListed = 20

// lookupTimeout bounds a status or list lookup done for a slash command.
const lookupTimeout = 15 * time.Second

// replyTimeout is the time left, after background work, to tell the user.
const replyTimeout = 10 * time.Second

var incidentIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)

// HandleSlashCommand answers one slash command (/breach declare|status|list|
// facts|prevention|notices|broker|close|help).
// It returns within Slack's 3 seconds: declare opens the modal at once,
// status and list answer later through response_url when Temporal is slow.
func (d *Dispatcher) HandleSlashCommand(ctx context.Context, cmd slack.SlashCommand) Ack {
	sub, rest, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	sub = strings.ToLower(sub)
	rest = strings.TrimSpace(rest)
	d.log.Info("slackbot: slash command", "command", cmd.Command, "sub", sub, "user", cmd.UserID, "channel", cmd.ChannelID)
	switch sub {
	case "", "help":
		return ephemeral(helpText(cmd.Command))
	case "declare":
		return d.declareCommand(ctx, cmd, rest)
	case "status":
		if !incidentIDPattern.MatchString(rest) {
			return ephemeral(fmt.Sprintf("Usage: `%s status INC-YYYYMMDD-XXXXXX` (see `%s list` for open incidents).", command(cmd), command(cmd)))
		}
		return d.answerSoon(cmd, "Looking up "+rest+"…", func(ctx context.Context) (string, bool) {
			return d.status(ctx, cmd.UserID, rest)
		})
	case "list":
		return d.answerSoon(cmd, "Looking up open incidents…", func(ctx context.Context) (string, bool) {
			return d.list(ctx, cmd.UserID)
		})
	case "facts", "prevention", "notices", "broker", "close":
		return d.incidentCommand(ctx, cmd, sub, rest)
	}
	return ephemeral(fmt.Sprintf("Unknown command %q.\n\n%s", sub, helpText(cmd.Command)))
}

func command(cmd slack.SlashCommand) string {
	if cmd.Command == "" {
		return "/breach"
	}
	return cmd.Command
}

func helpText(c string) string {
	if c == "" {
		c = "/breach"
	}
	return strings.Join([]string{
		"*breachflow* — data-breach response runbooks",
		fmt.Sprintf("• `%s declare [runbook]` — declare an incident (opens a form)", c),
		fmt.Sprintf("• `%s status INC-YYYYMMDD-XXXXXX` — where an incident stands", c),
		fmt.Sprintf("• `%s list` — open incidents", c),
		fmt.Sprintf("• `%s facts INC-…` — change the facts (people affected, what leaked, unauthorized purpose; opens a form)", c),
		fmt.Sprintf("• `%s prevention INC-…` — record the root-cause and prevention report (opens a form)", c),
		fmt.Sprintf("• `%s notices INC-…` — start the notice to everyone affected (test send and approvals first)", c),
		fmt.Sprintf("• `%s broker INC-…` — start a cease-and-desist demand to a list broker (opens a form)", c),
		fmt.Sprintf("• `%s close INC-…` — close the incident: its closing record is written (approvers; opens a form)", c),
		fmt.Sprintf("• `%s help` — this help", c),
		"The incident message in this channel has buttons for the human steps: complete a task, record a phone confirmation, close a recipient, record a regulator filing or propose that it is not required, update the facts, send the notices, add a broker, close the incident; broadcasts and broker letters have their own buttons.",
	}, "\n")
}

// answerSoon runs work in the background and answers with its result if it
// is ready within SyncWait; otherwise it acknowledges with working and
// delivers the result through the response_url when it comes.
// work answers whether the user was authorized: only then may the answer
// go through the response_url.
func (d *Dispatcher) answerSoon(cmd slack.SlashCommand, working string, work func(ctx context.Context) (string, bool)) Ack {
	t := target{Channel: cmd.ChannelID, User: cmd.UserID, ResponseURL: cmd.ResponseURL}
	var (
		mu       sync.Mutex
		gaveUp   bool
		finished bool
		result   string
	)
	done := make(chan struct{})
	started := d.spawn(lookupTimeout+replyTimeout, func(ctx context.Context) {
		wctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		text, authorized := work(wctx)
		cancel()
		mu.Lock()
		if gaveUp {
			mu.Unlock()
			if authorized {
				t = t.allowed()
			}
			d.respond(ctx, t, text)
			return
		}
		finished, result = true, text
		mu.Unlock()
		close(done)
	})
	if !started {
		return ephemeral("breachflow is shutting down; try again in a minute.")
	}
	timer := time.NewTimer(d.cfg.SyncWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
	mu.Lock()
	defer mu.Unlock()
	if finished {
		return ephemeral(result)
	}
	gaveUp = true
	return ephemeral(working)
}

// authorize checks role for user; when refused it returns the text to show.
func (d *Dispatcher) authorize(ctx context.Context, need role, user string) (refusal string, ok bool) {
	dec, err := d.authz.check(ctx, need, user)
	if err != nil {
		d.log.Warn("slackbot: authorization lookup failed", "user", user, "role", need.String(), "error", err)
		return "Could not check whether you may do this (Slack did not answer in time); nothing was changed. Try again.", false
	}
	if !dec.Allowed {
		d.log.Info("slackbot: refused", "user", user, "role", need.String())
		return dec.Reason, false
	}
	return "", true
}

// status looks an incident up for user.
func (d *Dispatcher) status(ctx context.Context, user, incidentID string) (string, bool) {
	if refusal, ok := d.authorize(ctx, roleResponder, user); !ok {
		return refusal, false
	}
	v, err := d.cfg.Temporal.QueryWorkflow(ctx, workflows.IncidentWorkflowID(incidentID), "", workflows.QueryStatus)
	if err != nil {
		return temporalFailure("look up "+incidentID, err), true
	}
	var st workflows.IncidentStatus
	if err := v.Get(&st); err != nil {
		d.log.Error("slackbot: decode incident status", "incident", incidentID, "error", err)
		return fmt.Sprintf("Could not read the status of %s: %v", incidentID, err), true
	}
	return formatStatus(st, d.cfg.Location), true
}

func formatStatus(st workflows.IncidentStatus, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* — %s\n", st.IncidentID, st.Title)
	fmt.Fprintf(&b, "Runbook `%s` · phase *%s*", st.Runbook, st.Phase)
	if !st.DeclaredAt.IsZero() {
		fmt.Fprintf(&b, " · declared %s", st.DeclaredAt.In(loc).Format("2006-01-02 15:04 MST"))
	}
	if r := st.Recall; r.Total > 0 {
		fmt.Fprintf(&b, "\nRecall: asked %d/%d · confirmed %d (by phone %d, by e-mail %d) · pending %d · unreachable %d · closed by an operator %d",
			r.Requested, r.Total, r.Confirmed, r.PhoneConfirmed, r.EmailConfirmed, r.Pending, r.Unreachable, r.ClosedByOperator)
	}
	return b.String()
}

// list shows the open incidents.
func (d *Dispatcher) list(ctx context.Context, user string) (string, bool) {
	if refusal, ok := d.authorize(ctx, roleResponder, user); !ok {
		return refusal, false
	}
	resp, err := d.cfg.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: OpenIncidentsQuery, PageSize: 50,
	})
	if err != nil {
		return temporalFailure("list open incidents", err), true
	}
	execs := resp.GetExecutions()
	if len(execs) == 0 {
		return "No open incidents.", true
	}
	dc := converter.GetDefaultDataConverter()
	keyword := func(fields map[string]*commonpb.Payload, name string) string {
		p, ok := fields[name]
		if !ok {
			return "?"
		}
		var s string
		if err := dc.FromPayload(p, &s); err != nil || s == "" {
			return "?"
		}
		return s
	}
	var b strings.Builder
	b.WriteString("*Open incidents*")
	for i, e := range execs {
		if i == maxListed {
			break
		}
		fields := e.GetSearchAttributes().GetIndexedFields()
		fmt.Fprintf(&b, "\n• *%s* — runbook `%s` · phase %s", e.GetExecution().GetWorkflowId(),
			keyword(fields, workflows.SARunbook.GetName()), keyword(fields, workflows.SAPhase.GetName()))
	}
	if len(execs) > maxListed || len(resp.GetNextPageToken()) > 0 {
		fmt.Fprintf(&b, "\n…more not shown. `temporal workflow list --query %q` lists them all.", OpenIncidentsQuery)
	}
	return b.String(), true
}

// temporalFailure turns a Temporal error into text for the user.
func temporalFailure(what string, err error) string {
	var nf *serviceerror.NotFound
	var de *serviceerror.DeadlineExceeded
	switch {
	case errors.As(err, &nf):
		return fmt.Sprintf("Could not %s: no such workflow (check the ID with `/breach list`).", what)
	case errors.As(err, &de), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Sprintf("Could not %s: Temporal did not answer in time. Try again in a minute.", what)
	}
	return fmt.Sprintf("Could not %s: %v", what, err)
}

// incidentCommand answers `/breach facts|prevention|notices|broker|close INC-…`:
// the same steps as the incident message's buttons, for when the message
// is far up the channel.
func (d *Dispatcher) incidentCommand(ctx context.Context, cmd slack.SlashCommand, sub, incidentID string) Ack {
	if !incidentIDPattern.MatchString(incidentID) {
		return ephemeral(fmt.Sprintf("Usage: `%s %s INC-YYYYMMDD-XXXXXX` (see `%s list` for open incidents).", command(cmd), sub, command(cmd)))
	}
	t := target{Channel: cmd.ChannelID, User: cmd.UserID, ResponseURL: cmd.ResponseURL}
	meta := actionMeta{ButtonValue: slackui.ButtonValue{WorkflowID: workflows.IncidentWorkflowID(incidentID)},
		Channel: cmd.ChannelID, ResponseURL: cmd.ResponseURL}
	switch sub {
	case "facts":
		return d.openFacts(ctx, cmd.TriggerID, t, meta)
	case "prevention":
		return d.openActionModal(ctx, cmd.TriggerID, t, roleApprover, d.preventionReportModal, meta)
	case "broker":
		return d.openActionModal(ctx, cmd.TriggerID, t, roleResponder, d.addBrokerModal, meta)
	case "close":
		return d.openClose(ctx, cmd.TriggerID, t, meta)
	}
	updateID := ""
	if cmd.TriggerID != "" && cmd.UserID != "" {
		updateID = "slack:" + cmd.UserID + ":" + cmd.TriggerID
	}
	d.runLater(t, d.startBroadcast(meta.WorkflowID, cmd.UserID, updateID))
	return ephemeral(fmt.Sprintf("Starting the notices of %s…", incidentID))
}
