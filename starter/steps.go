package main

// The human steps of an incident from the command line: each one is a
// Temporal Update on the workflow that owns the step (the Incident, one
// Obligation, one Recall, one Broadcast, one BrokerDemand), with the actor
// (--by) recorded in its history. A step the workflow refuses (its
// validator) changes nothing and ends with the validator's message on one
// line and exit status 1; a mistake on the command line ends with the
// usage and exit status 2, before anything is sent.
//
// Grammar: starter NOUN VERB INCIDENT_ID [ITEM_ID...] [flags], flags
// before or after the IDs.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/temporalx"
	"github.com/breachflow/breachflow/internal/timefmt"
)

// updateTimeout is how long a step waits for Temporal to confirm it.
const updateTimeout = time.Minute

// verb is one subcommand of a noun (task done, broker answer, ...).
type verb struct {
	name  string
	args  []string // positional arguments, in order
	flags string   // the flags as the usage shows them
	about string
	// update: the verb changes something (--by, --json); otherwise it
	// shows something (--json).
	update bool
	// define registers the verb's own flags and returns what runs it, or
	// a usage problem found in the arguments (before any connection).
	define func(fs *flag.FlagSet) func(s *session, args []string) (step, error)
}

// step is a parsed command, ready to run against Temporal.
type step func(ctx context.Context, s *session) error

// noun groups the verbs of one kind of thing.
type noun struct {
	name  string
	about string
	verbs []verb
}

// session is what a step runs with.
type session struct {
	by     string
	asJSON bool
	out    io.Writer
	logger *slog.Logger
	c      client.Client
}

// usageError is a mistake on the command line (exit status 2).
func usageError(format string, a ...any) error { return exitError{2, fmt.Sprintf(format, a...)} }

// line is the usage line of a verb.
func (n noun) line(v verb) string {
	parts := []string{"starter"}
	if n.name != "" {
		parts = append(parts, n.name)
	}
	parts = append(parts, v.name)
	parts = append(parts, v.args...)
	if v.flags != "" {
		parts = append(parts, v.flags)
	}
	return strings.Join(parts, " ")
}

// usage is the noun's usage: every verb with what it does.
func (n noun) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", n.about)
	for _, v := range n.verbs {
		fmt.Fprintf(&b, "  %s\n      %s\n", wrap(n.line(v), 78, "      "), wrap(v.about, 72, "      "))
	}
	return b.String()
}

// wrap breaks a line at spaces before width, continuing with indent. A
// flag with its value ("--note TEXT", "[--note TEXT]") stays on one line.
func wrap(line string, width int, indent string) string {
	var words []string
	open := false
	for _, w := range strings.Fields(line) {
		n := len(words)
		switch {
		case open, n > 0 && strings.HasPrefix(words[n-1], "--") && !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "["):
			words[n-1] += " " + w
		default:
			words = append(words, w)
		}
		if strings.HasPrefix(w, "[") {
			open = true
		}
		if strings.HasSuffix(w, "]") {
			open = false
		}
	}
	var b strings.Builder
	col := 0
	for i, w := range words {
		if i > 0 {
			if col+1+len(w) > width {
				b.WriteString("\n" + indent)
				col = len(indent)
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// stepCommand returns the command that runs a noun's verbs.
func stepCommand(n noun) func(context.Context, *slog.Logger, []string) error {
	return func(ctx context.Context, logger *slog.Logger, args []string) error {
		st, s, err := n.parse(args)
		if err != nil {
			return err
		}
		s.logger = logger
		return runStep(ctx, st, s)
	}
}

// parse reads a noun's arguments: the verb, its flags and its IDs.
func (n noun) parse(args []string) (step, *session, error) {
	if len(args) == 0 {
		return nil, nil, exitError{2, strings.TrimRight(n.usage(), "\n")}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Print(n.usage())
		return nil, nil, exitError{code: 0}
	}
	var v *verb
	for i := range n.verbs {
		if n.verbs[i].name == args[0] {
			v = &n.verbs[i]
		}
	}
	if v == nil {
		return nil, nil, usageError("starter %s: unknown step %q\n\n%s", n.name, args[0], strings.TrimRight(n.usage(), "\n"))
	}
	cmd := strings.Join(strings.Fields("starter "+n.name+" "+v.name), " ")
	fs := flag.NewFlagSet(n.name+" "+v.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := &session{out: os.Stdout}
	if v.update {
		fs.StringVar(&s.by, "by", defaultBy(), "who takes the step, recorded in history")
	}
	fs.BoolVar(&s.asJSON, "json", false, "print the result as JSON")
	build := v.define(fs)
	usage := "usage: " + n.line(*v)
	pos, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Printf("%s\n  %s\n\nflags:\n", usage, v.about)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		return nil, nil, exitError{code: 0}
	}
	if err != nil {
		return nil, nil, usageError("%s: %v\n%s", cmd, err, usage)
	}
	if len(pos) != len(v.args) {
		return nil, nil, usageError("%s: want %s, got %d argument(s)\n%s", cmd, strings.Join(v.args, " "), len(pos), usage)
	}
	for i, p := range pos {
		if strings.TrimSpace(p) == "" {
			return nil, nil, usageError("%s: %s is empty\n%s", cmd, v.args[i], usage)
		}
	}
	for i, name := range v.args {
		pos[i] = normalizeID(name, pos[i])
	}
	if v.update && strings.TrimSpace(s.by) == "" {
		return nil, nil, usageError("%s: --by is required (who takes the step; $USER is not set)\n%s", cmd, usage)
	}
	st, err := build(s, pos)
	if err != nil {
		var e exitError
		if errors.As(err, &e) {
			return nil, nil, e
		}
		return nil, nil, usageError("%s: %v\n%s", cmd, err, usage)
	}
	return st, s, nil
}

// parseInterleaved parses flags that come before, between or after the
// positional arguments, and returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// runStep connects to Temporal and runs the step; a refusal is one line
// and exit status 1.
func runStep(ctx context.Context, st step, s *session) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	c, err := temporalx.Dial(cfg, s.logger)
	if err != nil {
		return err
	}
	defer c.Close()
	s.c = c
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	err = st(ctx, s)
	var refused *incidents.Refused
	var notFound *incidents.NotFound
	switch {
	case errors.As(err, &notFound):
		notFound.Hint = knownIDs(ctx, s.c, notFound.WorkflowID)
	case errors.As(err, &refused) && strings.HasPrefix(refused.Reason, "there is no "):
		if known := knownIDs(ctx, s.c, refused.WorkflowID); known != "" {
			refused.Reason += "; " + known
		}
	}
	return explain(err)
}

// knownIDs says which IDs an incident has of the kind a wrong workflow ID
// named ("INC-…/obligation/JP-APPI/prelim": its obligations), so a typo
// at 2 a.m. is answered with what to type; "" when there is nothing to
// say (the incident itself is wrong).
func knownIDs(ctx context.Context, c incidents.Updater, workflowID string) string {
	parts := strings.SplitN(workflowID, "/", 3)
	if len(parts) < 3 {
		return ""
	}
	st, err := incidents.Status(ctx, c, parts[0])
	if err != nil {
		return ""
	}
	var ids []string
	switch parts[1] {
	case "obligation":
		for _, o := range st.Obligations {
			ids = append(ids, o.ObligationID)
		}
	case "broadcast":
		for _, b := range st.Broadcasts {
			ids = append(ids, strconv.Itoa(b.N))
		}
	case "broker":
		for _, d := range st.BrokerDemands {
			ids = append(ids, d.DemandID)
		}
	case "recall":
		if st.Recall.Total == 0 {
			return "incident " + parts[0] + " has no wrong recipients"
		}
		return fmt.Sprintf("incident %s's recipients are %s to %s", parts[0],
			recipients.RecipientID(1), recipients.RecipientID(st.Recall.Total))
	default:
		return ""
	}
	if len(ids) == 0 {
		return fmt.Sprintf("incident %s has no %s yet", parts[0], plural[parts[1]])
	}
	return fmt.Sprintf("incident %s's %s: %s", parts[0], plural[parts[1]], strings.Join(ids, ", "))
}

var plural = map[string]string{"obligation": "obligations", "broadcast": "broadcasts", "broker": "broker demands"}

// exitNotFound is the exit status of a lookup of an ID that does not exist.
const exitNotFound = 3

// explain turns a refusal into its one line and exit status 1, a lookup of
// an ID that does not exist into its own line and exit status 3, and a
// timeout into what it means for the step.
func explain(err error) error {
	var refused *incidents.Refused
	var notFound *incidents.NotFound
	var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound):
		return exitError{exitNotFound, "not found: " + notFound.Error()}
	case errors.As(err, &refused):
		return exitError{1, "refused: " + oneLine(refused.Reason)}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return exitError{1, fmt.Sprintf("Temporal did not confirm within %s (is a worker running?). It may still be applied: check the status before trying again.", updateTimeout)}
	}
	return err
}

// oneLine keeps a refusal on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// defaultBy is the actor of a step when --by is not given: cli:$USER.
func defaultBy() string {
	name := os.Getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		return ""
	}
	return "cli:" + name
}

// update sends an Update and prints its result with text (or as JSON).
func update[T any](ctx context.Context, s *session, workflowID, name string, arg any, text func(io.Writer, T)) error {
	var res T
	if err := incidents.Update(ctx, s.c, workflowID, name, arg, &res); err != nil {
		return err
	}
	return s.print(res, func(w io.Writer) { text(w, res) })
}

// query asks a workflow's status and prints it with text (or as JSON).
func query[T any](ctx context.Context, s *session, workflowID, name string, text func(io.Writer, T)) error {
	var res T
	if err := incidents.Query(ctx, s.c, workflowID, name, &res); err != nil {
		return err
	}
	return s.print(res, func(w io.Writer) { text(w, res) })
}

func (s *session) print(v any, text func(io.Writer)) error {
	if s.asJSON {
		// Every time at one precision, in the CLI's zone.
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode the result: %w", err)
		}
		_, err = fmt.Fprintf(s.out, "%s\n", timefmt.JSONTimes(b, cliZone))
		return err
	}
	text(s.out)
	return nil
}

// parseTime reads an RFC 3339 time, or "now".
func parseTime(flagName, v string) (time.Time, error) {
	if v == "now" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want RFC 3339 (e.g. 2026-11-21T09:30:00+09:00) or now", flagName, v)
	}
	return t, nil
}

// optionalTime reads an optional time flag ("" is zero).
func optionalTime(flagName, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return parseTime(flagName, v)
}

// required names the flags (name, value pairs) left empty.
func required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			missing = append(missing, "--"+pairs[i])
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s is required", missing[0])
	}
	return fmt.Errorf("%s are required", strings.Join(missing, ", "))
}

// cliZone is the zone the CLI shows times in: BREACHFLOW_TIMEZONE, else
// Asia/Tokyo, never the machine's (a server runs in UTC).
var cliZone = timefmt.Zone(os.Getenv("BREACHFLOW_TIMEZONE"))

// at formats a time for people, in cliZone, to the minute; "-" for none.
func at(t time.Time) string {
	if s := timefmt.At(t, cliZone, timefmt.English); s != "" {
		return s
	}
	return "-"
}

// normalizeID writes recipient and broker-demand IDs the way the workflows
// name them, so "r7", "7" and "R0007" find R00007, and "b1" finds B001.
// Other IDs are taken as given.
func normalizeID(arg, id string) string {
	prefix, width := "", 0
	switch arg {
	case argRecipient:
		prefix, width = "R", 5
	case argDemand:
		prefix, width = "B", 3
	default:
		return id
	}
	digits := strings.TrimSpace(id)
	if len(digits) > 0 && strings.EqualFold(digits[:1], prefix) {
		digits = digits[1:]
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || strings.ContainsAny(digits, "+-") {
		return id
	}
	return fmt.Sprintf("%s%0*d", prefix, width, n)
}
