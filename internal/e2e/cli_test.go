//go:build integration

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// cliUser is the $USER of the responder at the terminal.
const cliUser = "aiko"

// starterCLI runs the real starter binary against a stack, configured by
// environment only, as a responder runs it.
type starterCLI struct {
	t   *testing.T
	bin string
	env []string
}

func newStarterCLI(t *testing.T, s *stack) starterCLI {
	t.Helper()
	return starterCLI{t: t, bin: binary(t, "starter"), env: []string{
		"TEMPORAL_ADDRESS=" + devServer.FrontendHostPort(),
		"TEMPORAL_NAMESPACE=default",
		"HOME=" + t.TempDir(),
		"USER=" + cliUser,
		codec.EnvKeys + "=" + testCodecKeys,
		"BREACHFLOW_TASK_QUEUE=" + s.cfg.TaskQueue,
		"BREACHFLOW_LIST_DIR=" + s.cfg.ListDir,
	}}
}

// run runs `starter args...` and returns its exit status and outputs.
func (c starterCLI) run(ctx context.Context, args ...string) (int, string, string) {
	c.t.Helper()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	c.t.Fatalf("starter %s: %v", strings.Join(args, " "), err)
	return 0, "", ""
}

// ok runs a step that must succeed and decodes its --json output into out
// (nil to skip).
func (c starterCLI) ok(ctx context.Context, out any, args ...string) string {
	c.t.Helper()
	code, stdout, stderr := c.run(ctx, args...)
	if code != 0 {
		c.t.Fatalf("starter %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			c.t.Fatalf("starter %s: --json output: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
	return stdout
}

// refused runs a step the workflow must refuse: exit 1 and the
// validator's reason, on one line.
func (c starterCLI) refused(ctx context.Context, want string, args ...string) {
	c.t.Helper()
	code, stdout, stderr := c.run(ctx, args...)
	if code != 1 {
		c.t.Fatalf("starter %s: exit %d, want 1 (refused)\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	var line string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "refused: ") {
			line = l
		}
	}
	if !strings.Contains(line, want) {
		c.t.Fatalf("starter %s: refusal %q lacks %q\nstderr: %s", strings.Join(args, " "), line, want, stderr)
	}
}

func obligationStatus(ctx context.Context, t *testing.T, s *stack, id, obligationID string) workflows.ObligationStatus {
	t.Helper()
	var o workflows.ObligationStatus
	if err := incidents.Query(ctx, s.client, workflows.ObligationWorkflowID(id, obligationID), workflows.QueryStatus, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// Issues #6 and #7: every human step from the command line, through the
// real starter binary, against a running incident: a checklist task done,
// a filing recorded, "not required" proposed by one person and approved
// by another (the proposer's own approval refused), an unreachable
// recipient closed, the facts changed, the prevention report recorded;
// each step with the responder's identity in the workflow, and each
// refusal the workflow's reason with exit status 1.
func TestCLI_HumanStepsOfAnIncident(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: `
email:
  default: {persona: click, delay: 1s}
  recipients:
    - {match: "*@bounce.example.jp", persona: bounce}
`})
	cli := newStarterCLI(t, s)
	snap, err := runbooks.Builtin("visible-recipients")
	if err != nil {
		t.Fatal(err)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap,
		Facts: workflows.Facts{Title: "Newsletter with visible addresses", WhatLeaked: "e-mail addresses and bank accounts", Persons: 5,
			AwareAt: time.Now().Add(-time.Hour), SensitiveOrFinancial: true, Jurisdictions: []string{"JP-APPI"}}},
		"name,email\nA,a@example.jp\nB,b@example.jp\nC,c@bounce.example.jp\nD,d@example.jp\nE,e@example.jp\n")
	s.waitStatus(ctx, id, "the bounce unreachable and the obligations open", func(st workflows.IncidentStatus) bool {
		return st.Recall.Unreachable == 1 && len(st.Obligations) >= 2
	})

	// What the responder sees first.
	var st workflows.IncidentStatus
	cli.ok(ctx, &st, "status", id, "--json")
	if len(st.Tasks) == 0 || len(st.Obligations) < 2 || len(st.Unreachable) != 1 || st.Facts.Persons != 5 {
		t.Fatalf("status: %d tasks, %d obligations, unreachable %v, facts %+v", len(st.Tasks), len(st.Obligations), st.Unreachable, st.Facts)
	}
	text := cli.ok(ctx, nil, "status", id)
	for _, want := range []string{"obligations:", st.Obligations[0].ObligationID, "tasks:", "stop-mailing", "unreachable: " + st.Unreachable[0]} {
		if !strings.Contains(text, want) {
			t.Errorf("status text lacks %q:\n%s", want, text)
		}
	}
	cli.refused(ctx, "there is no workflow INC-19990101-NOSUCH", "status", "INC-19990101-NOSUCH")

	// A checklist task, done once.
	var task workflows.TaskStatus
	cli.ok(ctx, &task, "task", "done", id, "stop-mailing", "--note", "mailing stopped at 09:40", "--json")
	if !task.Done || task.DoneBy != "cli:"+cliUser || task.Note != "mailing stopped at 09:40" {
		t.Errorf("task = %+v", task)
	}
	cli.refused(ctx, "task stop-mailing was already done by cli:"+cliUser, "task", "done", id, "stop-mailing")
	cli.refused(ctx, `no task "visit-home" in this incident's checklist`, "task", "done", id, "visit-home")

	// A filing, recorded with its receipt number.
	filed, other := st.Obligations[0].ObligationID, st.Obligations[1].ObligationID
	out := cli.ok(ctx, nil, "obligation", "file", id, filed, "--reference", "PPC-2026-000123", "--channel", "PPC web form", "--filed-at", "now")
	if !strings.Contains(out, filed+": filed") {
		t.Errorf("file: %s", out)
	}
	if o := obligationStatus(ctx, t, s, id, filed); o.State != workflows.ObligationFiled || o.Filing.Reference != "PPC-2026-000123" || o.Filing.By != "cli:"+cliUser {
		t.Errorf("filed obligation: %s %+v", o.State, o.Filing)
	}
	// Once filed, the Obligation ends: a second filing is told so.
	waitFor(ctx, t, "the filed obligation's workflow to end", func() bool {
		d, err := s.client.DescribeWorkflowExecution(ctx, workflows.ObligationWorkflowID(id, filed), "")
		return err == nil && d.WorkflowExecutionInfo.GetCloseTime() != nil
	})
	cli.refused(ctx, workflows.ObligationWorkflowID(id, filed)+" has ended (filed)", "obligation", "file", id, filed, "--reference", "PPC-2", "--channel", "PPC web form", "--filed-at", "now")
	cli.refused(ctx, "a filing cannot be in the future", "obligation", "file", id, other,
		"--reference", "PPC-3", "--channel", "PPC web form", "--filed-at", time.Now().Add(24*time.Hour).Format(time.RFC3339))

	// "Not required": proposed by one person, reviewed by another only.
	const rationale = "the regulator confirmed it is covered by the report already filed"
	cli.refused(ctx, "nobody has proposed that", "obligation", "not-required", "approve", id, other, "--by", "cli:ren")
	cli.ok(ctx, nil, "obligation", "not-required", "propose", id, other, "--rationale", rationale)
	cli.refused(ctx, "proposed this already", "obligation", "not-required", "propose", id, other, "--rationale", rationale, "--by", "cli:ren")
	cli.ok(ctx, nil, "obligation", "not-required", "reject", id, other, "--by", "cli:ren", "--note", "ask the regulator in writing first")
	if o := obligationStatus(ctx, t, s, id, other); !o.State.Open() || o.Proposal != nil {
		t.Errorf("after the rejection: %s, proposal %+v", o.State, o.Proposal)
	}
	cli.ok(ctx, nil, "obligation", "not-required", "propose", id, other, "--rationale", rationale+" (in writing)")
	cli.refused(ctx, "a second person must review the proposal", "obligation", "not-required", "approve", id, other)
	var decided workflows.ObligationStatus
	cli.ok(ctx, &decided, "obligation", "not-required", "approve", id, other, "--by", "cli:ren", "--json")
	if decided.State != workflows.ObligationNotRequired || decided.NotRequired == nil ||
		decided.NotRequired.ProposedBy != "cli:"+cliUser || decided.NotRequired.ApprovedBy != "cli:ren" {
		t.Errorf("not required: %s %+v", decided.State, decided.NotRequired)
	}

	// The unreachable recipient, closed by decision.
	bounced := st.Unreachable[0]
	var rs workflows.RecallStatus
	cli.ok(ctx, &rs, "recipient", "close", id, bounced, "--reason", "confirmed by post", "--json")
	if rs.State != workflows.StateClosedByOperator || rs.ClosedBy != "cli:"+cliUser || rs.Contact != nil {
		t.Errorf("recipient: %s by %q (contact shown: %v)", rs.State, rs.ClosedBy, rs.Contact != nil)
	}
	cli.refused(ctx, bounced+" is already closed", "recipient", "close", id, bounced, "--reason", "again")
	cli.refused(ctx, "there is no running workflow "+workflows.RecallWorkflowID(id, "R09999"), "recipient", "confirm", id, "R09999")

	// The facts change; the others stay.
	cli.ok(ctx, nil, "facts", "change", id, "--persons", "6", "--reason", "one more subscriber found in the logs")
	cli.refused(ctx, "the same as the current ones", "facts", "change", id, "--persons", "6", "--reason", "again")
	var facts workflows.Facts
	cli.ok(ctx, &facts, "facts", "show", id, "--json")
	if facts.Persons != 6 || facts.Title != "Newsletter with visible addresses" || !facts.SensitiveOrFinancial {
		t.Errorf("facts after the change: %+v", facts)
	}

	// The prevention report.
	cli.ok(ctx, nil, "prevention", "record", id, "--reference", "DOC-2026-17")
	cli.refused(ctx, "the prevention report is already recorded", "prevention", "record", id, "--reference", "DOC-2026-18")

	st = s.waitStatus(ctx, id, "the steps in the incident's status", func(st workflows.IncidentStatus) bool {
		return st.Recall.ClosedByOperator == 1 && st.Prevention != nil && st.Prevention.Report != nil
	})
	if st.Prevention.Report.By != "cli:"+cliUser {
		t.Errorf("prevention recorded by %q", st.Prevention.Report.By)
	}
}
