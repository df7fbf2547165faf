package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/temporalx"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

func cmdStart(ctx context.Context, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	rb := fs.String("runbook", "", "built-in runbook ID ("+strings.Join(runbooks.BuiltinIDs(), ", ")+") or a runbook file")
	list := fs.String("recipients", "", "CSV/XLSX list of the wrong recipients (recall)")
	affected := fs.String("affected", "", "CSV/XLSX list, or a stored list's sha256:REF, of everyone whose data leaked (the notice's default list)")
	title := fs.String("title", "", "incident title (no personal data)")
	what := fs.String("what", "", "what leaked (no personal data): the deletion requests say the mail contained it")
	sentSubject := fs.String("sent-subject", "", "the subject of the message sent by mistake, which the deletion requests name (no personal data)")
	sentAt := fs.String("sent-at", "", "when the message was sent by mistake, RFC 3339; the deletion requests give its date")
	persons := fs.Int("persons", 0, "number of people whose data leaked (default: the --affected list's count, else the --recipients list's)")
	aware := fs.String("aware-at", "", "when the organisation became aware, RFC 3339 (default: now)")
	unauthorized := fs.Bool("unauthorized", false, "the leak may have been done with an unauthorized purpose")
	sensitive := fs.Bool("sensitive", false, "sensitive data, or data whose misuse may cause financial harm")
	juris := fs.String("jurisdictions", "", "comma-separated regimes, e.g. JP-APPI,EU-GDPR (default: the runbook's regimes)")
	by := fs.String("by", defaultBy(), "who declares the incident")
	id := fs.String("id", "", "incident ID (default: generated)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	channel := fs.String("slack-channel", "", "the Slack channel ID (C…) where the incident gets its message and thread (default $BREACHFLOW_SLACK_CHANNEL; none: no Slack message)")
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2}
	}
	if *rb == "" {
		return exitError{2, "starter start: --runbook is required (" + strings.Join(runbooks.BuiltinIDs(), ", ") + ", or a file)"}
	}
	if strings.TrimSpace(*title) == "" {
		return exitError{2, "starter start: --title is required: what happened, in a few words and without personal data (the Slack form asks for it too)"}
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if *channel == "" {
		*channel = cfg.IncidentChannel
	}
	if *channel != "" && !slackChannelID.MatchString(*channel) {
		return exitError{2, fmt.Sprintf("starter start: Slack channel %q: give the channel's ID (C… or G…, from the channel's details in Slack), not its name", *channel)}
	}
	snap, err := loadRunbook(*rb, cfg.RunbooksDir)
	if err != nil {
		return err
	}
	jurisdictions, err := parseJurisdictions(*juris)
	if err != nil {
		return exitError{2, "starter start: " + err.Error()}
	}
	if len(jurisdictions) == 0 {
		// The runbook's regimes, as the Slack declaration preselects them.
		jurisdictions = snap.Runbook.Regimes
		if o := snap.Runbook.Phases.Obligations; o != nil && len(o.Regimes) > 0 {
			jurisdictions = o.Regimes
		}
	}
	awareAt := time.Now().UTC()
	if *aware != "" {
		if awareAt, err = time.Parse(time.RFC3339, *aware); err != nil {
			return exitError{2, fmt.Sprintf("starter start: --aware-at %q: want RFC 3339, e.g. 2026-11-21T09:30:00+09:00", *aware)}
		}
		// The legal clocks start here: a mistyped year would move them all.
		if now := time.Now(); awareAt.After(now.Add(time.Minute)) {
			return exitError{2, fmt.Sprintf("starter start: --aware-at %s is in the future (it is now %s): give when the organisation became aware, or leave it out for now",
				*aware, now.In(awareAt.Location()).Format(time.RFC3339))}
		}
	}
	var sent time.Time
	if *sentAt != "" {
		if sent, err = time.Parse(time.RFC3339, *sentAt); err != nil {
			return exitError{2, fmt.Sprintf("starter start: --sent-at %q: want RFC 3339, e.g. 2026-11-12T10:30:00+09:00", *sentAt)}
		}
		if sent.After(time.Now().Add(time.Minute)) {
			return exitError{2, fmt.Sprintf("starter start: --sent-at %s is in the future: give when the message went out", *sentAt)}
		}
	}
	d := incidents.Declaration{
		IncidentID: *id, Runbook: snap, DeclaredBy: *by, SlackChannel: *channel,
		Facts: workflows.Facts{
			Title: *title, WhatLeaked: *what, Persons: *persons, AwareAt: awareAt,
			Unauthorized: *unauthorized, SensitiveOrFinancial: *sensitive, Jurisdictions: jurisdictions,
			SentSubject: strings.TrimSpace(*sentSubject), SentAt: sent,
		},
	}
	if *list != "" {
		ref, err := storeList(ctx, cfg, *list)
		if err != nil {
			return err
		}
		d.WrongRecipients = &ref
		if d.Facts.Persons == 0 {
			d.Facts.Persons = ref.Count
		}
	}
	if *affected != "" {
		ref, err := listRef(ctx, *affected)
		if err != nil {
			return err
		}
		d.Affected = &ref
		if *persons == 0 {
			// Everyone whose data leaked, rather than who received it.
			d.Facts.Persons = ref.Count
		}
	}
	// What a person typed goes into messages to people (the title into
	// notices, what and the subject into every deletion request): it may
	// quote nobody on the incident's lists.
	typed := []contentscan.Part{{Name: "--title", Text: d.Facts.Title}, {Name: "--what", Text: d.Facts.WhatLeaked}, {Name: "--sent-subject", Text: d.Facts.SentSubject}}
	if err := checkTyped(ctx, cfg, typed, d.WrongRecipients, d.Affected); err != nil {
		return err
	}
	c, err := temporalx.Dial(cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	incidentID, err := incidents.Declare(ctx, c, cfg.TaskQueue, d)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]string{"incident_id": incidentID})
	}
	fmt.Println(incidentID)
	return nil
}

// storeList checks a recipient list and puts it in the list store. A list
// with rejected rows is refused: fix it first, nobody may be dropped.
func storeList(ctx context.Context, cfg config.Config, path string) (recipients.ListRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return recipients.ListRef{}, fmt.Errorf("recipient list: %w", err)
	}
	defer f.Close()
	store := &recipients.Store{Dir: cfg.ListDir}
	ref, rep, err := store.Put(ctx, f, recipients.Options{})
	if err != nil {
		return recipients.ListRef{}, fmt.Errorf("recipient list %s: %w", path, err)
	}
	if rep.RejectedCount > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "recipient list %s has %d rejected rows; fix them so nobody is left out (see `starter recipients check %s`):\n", path, rep.RejectedCount, path)
		for _, r := range rep.Rejected {
			fmt.Fprintf(&b, "  %s:%d: %s\n", path, r.Line, r.Reason)
		}
		return recipients.ListRef{}, exitError{1, strings.TrimRight(b.String(), "\n")}
	}
	return ref, nil
}

// loadRunbook finds a runbook as the Slack declaration offers them: a
// built-in ID, an ID of the organisation's own runbooks (ownDir,
// BREACHFLOW_RUNBOOKS_DIR), or a file.
func loadRunbook(nameOrFile, ownDir string) (runbooks.Snapshot, error) {
	if snap, err := runbooks.Builtin(nameOrFile); err == nil {
		return snap, nil
	}
	ids := runbooks.BuiltinIDs()
	if ownDir != "" {
		own, diags := runbooks.LoadDir(ownDir)
		if len(diags) > 0 {
			return runbooks.Snapshot{}, exitError{1, "BREACHFLOW_RUNBOOKS_DIR has invalid runbooks; fix them or remove them:\n" + diags.Error()}
		}
		for _, snap := range own {
			if snap.Runbook.ID == nameOrFile {
				return snap, nil
			}
			ids = append(ids, snap.Runbook.ID)
		}
	}
	if _, err := os.Stat(nameOrFile); err != nil {
		return runbooks.Snapshot{}, exitError{2, fmt.Sprintf("starter: runbook %q is neither one of %s nor a readable file", nameOrFile, strings.Join(ids, ", "))}
	}
	snap, diags := runbooks.LoadFile(nameOrFile)
	if len(diags) > 0 {
		return snap, exitError{1, diags.Error()}
	}
	return snap, nil
}

// parseJurisdictions reads --jurisdictions: built-in regime IDs only, as
// the Slack declaration offers them (an ID no regime has would give a
// legal review without deadlines).
func parseJurisdictions(s string) ([]string, error) {
	ids := splitList(s)
	if len(ids) == 0 {
		return nil, nil
	}
	known, err := builtinRegimeIDs()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !slices.Contains(known, id) {
			return nil, fmt.Errorf("--jurisdictions: no regime %q: use one or more of %s", id, strings.Join(known, ", "))
		}
	}
	return ids, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// statusVerb and closeVerb are top-level commands written as steps.
var (
	statusVerb = verb{
		name: "status", args: []string{argIncident},
		about: "show an incident: recall counts, facts, obligations, tasks, prevention report, broadcasts, broker demands; " +
			"or any one item by the ID the Temporal UI shows (INC-…/recall/R00001, INC-…/obligation/JP-APPI/final, INC-…/broadcast/1, INC-…/broker/B001)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error { return showAny(ctx, s, a[0]) }, nil
			}
		},
	}
	closeVerb = verb{
		name: "close", args: []string{argIncident}, update: true, flags: "--reason WHY [--stop-recalls]",
		about: "close an incident: its record (timeline, JSON and Markdown) is written (close_incident); refused while recipients " +
			"are still being asked, unless --stop-recalls stops asking them (and ends the unreachable ones' tasks): each ends closed_by_operator with this reason",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			reason := fs.String("reason", "", "why it is closed")
			stop := fs.Bool("stop-recalls", false, "stop asking the recipients still in progress and end the unreachable ones' tasks (closed_by_operator)")
			return func(_ *session, a []string) (step, error) {
				if err := required("reason", *reason); err != nil {
					return nil, err
				}
				return func(ctx context.Context, s *session) error {
					return update(ctx, s, workflows.IncidentWorkflowID(a[0]), workflows.UpdateCloseIncident,
						workflows.CloseIncident{By: s.by, Reason: *reason, StopRecalls: *stop}, func(w io.Writer, st workflows.IncidentStatus) {
							printClosed(w, st, s.by, *reason)
							if *stop {
								printStopped(w, st, s.by, *reason)
							}
						})
				}, nil
			}
		},
	}
)

func cmdStatus(ctx context.Context, logger *slog.Logger, args []string) error {
	return stepCommand(noun{verbs: []verb{statusVerb}})(ctx, logger, append([]string{"status"}, args...))
}

func cmdClose(ctx context.Context, logger *slog.Logger, args []string) error {
	return stepCommand(noun{verbs: []verb{closeVerb}})(ctx, logger, append([]string{"close"}, args...))
}

// printClosed says the incident is closed and how it stood: the status the
// close returns is taken just before the phase turns to closed.
func printClosed(w io.Writer, st workflows.IncidentStatus, by, reason string) {
	fmt.Fprintf(w, "%s closed by %s (%s); the worker writes its record to $BREACHFLOW_RECORD_DIR/%s/ (record.json, record.md)\n",
		st.IncidentID, by, reason, st.IncidentID)
	fmt.Fprintln(w, "as it stood at the close:")
	st.Phase = workflows.PhaseClosed
	printStatus(w, st)
}

// printStopped says what a close with --stop-recalls stops: every
// recipient neither confirmed nor closed (in progress, pending, unreachable).
func printStopped(w io.Writer, st workflows.IncidentStatus, by, reason string) {
	r := st.Recall
	if open := r.Total - r.Confirmed - r.ClosedByOperator; open > 0 {
		fmt.Fprintf(w, "stopping %d recipient(s) still open (unreachable ones included): each ends closed_by_operator (\"incident closed by %s: %s\"), and the record lists them\n",
			open, by, reason)
	}
}

func printStatus(w io.Writer, st workflows.IncidentStatus) {
	r := st.Recall
	fmt.Fprintf(w, "%s  %s  runbook %s  phase %s\n", st.IncidentID, st.Title, st.Runbook, st.Phase)
	if r.Total > 0 {
		// Every recipient is in exactly one of the last five counts: those
		// asked and not yet settled (confirmed one way of two, or waiting
		// for an answer) are in progress.
		inProgress := r.Total - r.Confirmed - r.Unreachable - r.ClosedByOperator - r.Pending
		fmt.Fprintf(w, "recall: asked %d/%d, confirmed by phone %d, by e-mail %d; confirmed %d, in progress %d, unreachable %d, closed by operator %d, pending %d\n",
			r.Requested, r.Total, r.PhoneConfirmed, r.EmailConfirmed, r.Confirmed, inProgress, r.Unreachable, r.ClosedByOperator, r.Pending)
	}
	if len(st.Unreachable) > 0 {
		fmt.Fprintf(w, "unreachable: %s\n", strings.Join(st.Unreachable, " "))
	}
	f := st.Facts
	fmt.Fprintf(w, "facts: %d person(s), aware %s, unauthorized purpose %t, sensitive or financial %t, %s\n",
		f.Persons, at(f.AwareAt), f.Unauthorized, f.SensitiveOrFinancial, strings.Join(f.Jurisdictions, ", "))
	if len(st.Obligations) > 0 {
		fmt.Fprintln(w, "obligations:")
		printObligationList(w, st.Obligations)
	}
	if len(st.Tasks) > 0 {
		fmt.Fprintln(w, "tasks:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range st.Tasks {
			state := "open, due " + at(t.Due)
			if t.Done {
				state = "done by " + t.DoneBy + " " + at(t.DoneAt)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.ID, t.Owner, state, t.Title.En)
		}
		tw.Flush()
	}
	if p := st.Prevention; p != nil {
		if p.Report != nil {
			fmt.Fprintf(w, "prevention report: recorded (%s, by %s)\n", p.Report.Reference, p.Report.By)
		} else {
			fmt.Fprintf(w, "prevention report: due %s\n", at(p.Due))
		}
	}
	if len(st.Broadcasts) > 0 {
		fmt.Fprintln(w, "broadcasts:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, b := range st.Broadcasts {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s, approvals %d/%d%s\n", b.N, b.Purpose, b.State, b.CountsText(), b.Approvals, b.Quorum, prefixed(", could not start: ", b.StartError))
		}
		tw.Flush()
	}
	if len(st.BrokerDemands) > 0 {
		fmt.Fprintln(w, "broker demands:")
		for _, d := range st.BrokerDemands {
			due := ""
			if !d.AnswerDue.IsZero() && d.State == workflows.DemandAwaitingAnswer {
				due = ", answer due " + at(d.AnswerDue)
			}
			fmt.Fprintf(w, "  %s  %s%s%s\n", d.DemandID, d.State, due, prefixed(", could not start: ", d.StartError))
		}
	}
}

// firstArg lets a positional argument come before the flags.
func firstArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// showAny shows the workflow an ID names, as the Temporal UI lists it: an
// incident, or one of its recipients, obligations, notices or letters.
func showAny(ctx context.Context, s *session, id string) error {
	incident, rest, _ := strings.Cut(id, "/")
	kind, _, _ := strings.Cut(rest, "/")
	switch kind {
	case "":
		st, err := incidents.Status(ctx, s.c, incident)
		if err != nil {
			return err
		}
		return s.print(st, func(w io.Writer) { printStatus(w, st) })
	case "recall":
		return query(ctx, s, id, workflows.QueryStatus, printRecall)
	case "obligation":
		return query(ctx, s, id, workflows.QueryStatus, printObligation)
	case "broadcast":
		return query(ctx, s, id, workflows.QueryStatus, printBroadcast)
	case "broker":
		return query(ctx, s, id, workflows.QueryStatus, printDemand)
	}
	return usageError("%q is not an ID breachflow gives: use an incident ID (INC-…) or one the Temporal UI shows under it (INC-…/recall/R00001, INC-…/obligation/…, INC-…/broadcast/1, INC-…/broker/B001)", id)
}

// slackChannelID is what a Slack channel ID looks like.
var slackChannelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,20}$`)
