// Command starter is breachflow's front door and CLI: declare and inspect
// incidents, validate runbooks and recipient lists, serve the webhooks
// (`serve`) and run the provider simulators (`sandbox`).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/breachflow/breachflow/internal/redact"
)

const usageHead = `usage: starter <command> [flags]

commands:
  start --runbook NAME|FILE --title TEXT [--recipients FILE] [--affected FILE]
        [--aware-at TIME] [--what TEXT] [--sent-subject TEXT] [--sent-at TIME] [--persons N] [--sensitive] [--unauthorized]
        [--jurisdictions A,B] [--slack-channel C…]
                                                declare an incident (wrong recipients to recall,
                                                everyone affected to notify; all flags: starter start -h)
  status INCIDENT_ID [--json]                   show an incident: recall, facts, obligations, tasks, broadcasts, broker demands;
                                                or one item by the ID the Temporal UI shows (INC-…/recall/R00001);
                                                an ID that names nothing: "not found", exit status 3
  close INCIDENT_ID --reason WHY [--stop-recalls] [--by WHO]
                                                close an incident; refused while recipients are still
                                                being asked, unless --stop-recalls stops asking them
  validate FILE...                              check runbook and regime files
  recipients check FILE [--json]                check a recipient list
  recipients put FILE                           store a recipient list, print its sha256:REF
  notices check MESSAGE_FILE --list FILE|sha256:REF [--recipient EMAIL] [--json]
                                                check a draft text as every notice is checked: nobody's
                                                data from the list (exit 1: LINE:COL: rule), never quoted
  serve                                         serve webhooks, links and Slack
  sandbox [--scenario FILE]                     run the provider simulators
  sandbox declare [--runbook ID] [--recipients FILE]
                                                declare an incident as the sandbox's Slack user (the demo)
  search-attributes                             print the dev-server flags for our search attributes
  codec-server                                  serve payload decryption to the Temporal UI
  codec-key                                     print a new payload-encryption key
  approver-key ID [--out FILE]                  make an approver's signing key (the file is theirs alone)
                                                and print its BREACHFLOW_APPROVER_KEYS entry

human steps (each one a Temporal Update, refused with the workflow's reason and
exit status 1; --by WHO, default cli:$USER, is recorded; --json prints the result;
` + "`starter NOUN`" + ` explains a noun's steps):
`

const usageTail = `
Configuration comes from the environment: see docs/ARCHITECTURE.md.
`

// usage lists every command; the human steps come from their table.
func usage() string {
	var b strings.Builder
	b.WriteString(usageHead)
	for _, n := range stepNouns {
		for _, v := range n.verbs {
			fmt.Fprintf(&b, "  %s\n", wrap(strings.TrimPrefix(n.line(v), "starter "), 78, "      "))
		}
	}
	b.WriteString(usageTail)
	return b.String()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the exit status.
func run(ctx context.Context, args []string) int {
	logger := redact.NewJSONLogger(os.Stderr, slog.LevelInfo)
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage())
		return 2
	}
	cmds := map[string]func(context.Context, *slog.Logger, []string) error{
		"start":             cmdStart,
		"status":            cmdStatus,
		"close":             cmdClose,
		"validate":          cmdValidate,
		"recipients":        cmdRecipients,
		"notices":           cmdNotices,
		"serve":             cmdServe,
		"sandbox":           cmdSandbox,
		"search-attributes": cmdSearchAttributes,
		"codec-server":      cmdCodecServer,
		"codec-key":         cmdCodecKey,
		"approver-key":      cmdApproverKey,
	}
	for _, n := range stepNouns {
		cmds[n.name] = stepCommand(n)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Print(usage())
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "starter: unknown command %q\n\n%s", args[0], usage())
		return 2
	}
	boundMemory(args[0])
	if err := cmd(ctx, logger, args[1:]); err != nil {
		if e, ok := err.(exitError); ok {
			if e.msg != "" {
				fmt.Fprintln(os.Stderr, e.msg)
			}
			return e.code
		}
		fmt.Fprintf(os.Stderr, "starter %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// listMemoryLimit is the Go memory limit of the commands that read a
// recipient list, unless GOMEMLIMIT sets one: with it the largest list
// accepted (recipients.MaxRows) is read in under 256 MiB of RSS
// (SECURITY.md, "Input limits"). The long-running commands (serve,
// sandbox) keep Go's default.
const listMemoryLimit = 160 << 20

func boundMemory(cmd string) {
	switch cmd {
	case "start", "recipients", "notices":
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(listMemoryLimit)
		}
	}
}

// exitError ends a command with a given status (e.g. 1 for "invalid file").
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
