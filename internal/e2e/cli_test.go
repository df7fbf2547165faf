//go:build integration

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// fails runs a command that must be refused as a usage error (exit
// status 2) with want in its message.
func (c starterCLI) fails(ctx context.Context, want string, args ...string) {
	c.t.Helper()
	code, stdout, stderr := c.run(ctx, args...)
	if code != 2 || !strings.Contains(stderr, want) {
		c.t.Fatalf("starter %s: exit %d, want 2 and %q\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout, stderr)
	}
}

// notFound runs a command that looks up an ID that names nothing: exit
// status 3 and a "not found: " line naming it, not a refusal.
func (c starterCLI) notFound(ctx context.Context, id string, args ...string) {
	c.t.Helper()
	code, stdout, stderr := c.run(ctx, args...)
	if code != 3 || !strings.Contains(stderr, "not found: ") || !strings.Contains(stderr, id) || strings.Contains(stderr, "refused") {
		c.t.Fatalf("starter %s: exit %d, want 3 and \"not found: …%s…\"\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, id, stdout, stderr)
	}
}

// waitEnded waits until a workflow has closed.
func waitEnded(ctx context.Context, t *testing.T, s *stack, workflowID string) {
	t.Helper()
	waitFor(ctx, t, workflowID+" to end", func() bool {
		d, err := s.client.DescribeWorkflowExecution(ctx, workflowID, "")
		return err == nil && d.WorkflowExecutionInfo.GetCloseTime() != nil
	})
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
	cli.notFound(ctx, "INC-19990101-NOSUCH", "status", "INC-19990101-NOSUCH")
	// Any ID the Temporal UI shows is shown as itself.
	if text := cli.ok(ctx, nil, "status", workflows.RecallWorkflowID(id, "R00001")); !strings.Contains(text, "R00001") {
		t.Errorf("status of a recipient's Recall:\n%s", text)
	}

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
	waitEnded(ctx, t, s, workflows.ObligationWorkflowID(id, filed))
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
	waitEnded(ctx, t, s, workflows.RecallWorkflowID(id, bounced))
	cli.refused(ctx, workflows.RecallWorkflowID(id, bounced)+" has ended (closed_by_operator)", "recipient", "close", id, bounced, "--reason", "again")
	cli.notFound(ctx, workflows.RecallWorkflowID(id, "R09999")+"; incident "+id+"'s recipients are R00001 to R", "recipient", "confirm", id, "R09999")

	// The facts change; the others stay.
	cli.ok(ctx, nil, "facts", "change", id, "--persons", "6", "--reason", "one more subscriber found in the logs")
	cli.refused(ctx, "the same as the current ones", "facts", "change", id, "--persons", "6", "--reason", "again")
	cli.refused(ctx, "cannot have been found in the future", "facts", "change", id, "--unauthorized", "--reason", "list found on sale",
		"--found-at", time.Now().Add(24*time.Hour).Format(time.RFC3339))
	found := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	cli.ok(ctx, nil, "facts", "change", id, "--unauthorized", "--found-at", found.Format(time.RFC3339), "--reason", "list found on sale")
	var facts workflows.Facts
	cli.ok(ctx, &facts, "facts", "show", id, "--json")
	if facts.Persons != 6 || !facts.Unauthorized || facts.Title != "Newsletter with visible addresses" || !facts.SensitiveOrFinancial {
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

// Issue #7 from the command line: the notice to everyone affected started,
// approved by one approver quoting the fingerprint of the test send (the
// same approver twice and a stale fingerprint refused), and stopped; a
// cease-and-desist letter added, mailed with its tracking number, refused
// by the broker and escalated to the police.
func TestCLI_BroadcastAndBrokerDemand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: quietScenario, workerProcess: true, env: letterEnv})
	cli := newStarterCLI(t, s)

	// The notice: visible-recipients needs two approvers.
	snap, err := runbooks.Builtin("visible-recipients")
	if err != nil {
		t.Fatal(err)
	}
	affected := affectedList(ctx, t, s, 5, "cli.example.jp")
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Affected: &affected,
		Facts: workflows.Facts{Title: "Newsletter with visible addresses", WhatLeaked: "e-mail addresses", Persons: 5,
			AwareAt: time.Now().Add(-time.Hour), Jurisdictions: []string{"JP-APPI"}}},
		"name,email\nA,a@cli.example.jp\n")
	var started workflows.BroadcastStarted
	cli.ok(ctx, &started, "broadcast", "start", id, "--reason", "apology to every subscriber", "--json")
	if started.N != 1 || started.List != "affected" || started.Recipients != 5 {
		t.Fatalf("started = %+v", started)
	}
	cli.refused(ctx, "notice 1 is", "broadcast", "start", id)
	bst := awaitBroadcast(ctx, t, s.client, started.WorkflowID, "the test send", func(st workflows.BroadcastStatus) bool {
		return st.State == workflows.BroadcastAwaitingApproval || st.State == workflows.BroadcastRefused
	})
	if bst.State != workflows.BroadcastAwaitingApproval {
		t.Fatalf("broadcast %s: %s", bst.State, bst.Reason)
	}
	fp := bst.Fingerprint[:16]
	cli.refused(ctx, "the notice is now "+bst.Fingerprint[:16], "broadcast", "approve", id, "1", "--fingerprint", "0123456789abcdef")
	out := cli.ok(ctx, nil, "broadcast", "approve", id, "1", "--fingerprint", fp)
	if !strings.Contains(out, "approvals 1 of 2") {
		t.Errorf("approve: %s", out)
	}
	cli.refused(ctx, "cli:"+cliUser+" has already approved this notice", "broadcast", "approve", id, "1", "--fingerprint", fp)
	var shown workflows.BroadcastStatus
	cli.ok(ctx, &shown, "broadcast", "status", id, "1", "--json")
	if len(shown.Approvals) != 1 || shown.Approvals[0].By != "cli:"+cliUser || shown.Approvals[0].Fingerprint != bst.Fingerprint {
		t.Errorf("approvals = %+v", shown.Approvals)
	}
	cli.refused(ctx, "only a sending broadcast can be paused", "broadcast", "pause", id, "1")
	var stopped workflows.BroadcastStatus
	cli.ok(ctx, &stopped, "broadcast", "stop", id, "1", "--reason", "wrong template", "--json")
	if stopped.State != workflows.BroadcastStopped || len(stopped.Controls) != 1 || stopped.Controls[0].By != "cli:"+cliUser {
		t.Errorf("stopped = %s %+v", stopped.State, stopped.Controls)
	}
	if sent := sentTo(t, s.sandbox, started.WorkflowID); len(sent) != 0 {
		t.Errorf("a stopped notice reached %d people", len(sent))
	}
	// The incident lists it, started from the CLI.
	var ist workflows.IncidentStatus
	cli.ok(ctx, &ist, "status", id, "--json")
	if len(ist.Broadcasts) != 1 || ist.Broadcasts[0].WorkflowID != started.WorkflowID || ist.Broadcasts[0].StartedBy != "cli:"+cliUser {
		t.Errorf("incident's broadcasts = %+v", ist.Broadcasts)
	}
	waitEnded(ctx, t, s, started.WorkflowID)
	cli.refused(ctx, started.WorkflowID+" has ended (stopped)", "broadcast", "resume", id, "1")
	cli.refused(ctx, "has no broker_demands phase", "broker", "add", id, "--name", "株式会社名簿センター", "--address", "東京都千代田区1-1-1")

	// The letter: list-broker-resale, no recall.
	snap, err = runbooks.Builtin("list-broker-resale")
	if err != nil {
		t.Fatal(err)
	}
	id = s.declare(ctx, incidents.Declaration{Runbook: snap,
		Facts: workflows.Facts{Title: "Customer list resold", WhatLeaked: "names, addresses and phone numbers", Persons: 3000,
			AwareAt: time.Now().Add(-time.Hour), Unauthorized: true, Jurisdictions: []string{"JP-APPI"}}}, "")
	var added workflows.BrokerDemandAdded
	cli.ok(ctx, &added, "broker", "add", id, "--name", "株式会社名簿センター", "--postal-code", "100-0001", "--address", "東京都千代田区千代田1-1-1", "--json")
	if added.DemandID != "B001" {
		t.Fatalf("added = %+v", added)
	}
	cli.refused(ctx, "the tracking number (お問い合わせ番号) is 11 to 13 digits", "broker", "mailed", id, "B001", "--tracking", "12-34")
	cli.ok(ctx, nil, "broker", "mailed", id, "B001", "--tracking", "1234-5678-9012")
	cli.refused(ctx, "demand B001 is awaiting_answer", "broker", "mailed", id, "B001", "--tracking", "1234-5678-9013")
	cli.refused(ctx, "demand B001 is awaiting_answer: no escalation is pending", "broker", "escalated", id, "B001", "--to", "police")
	cli.ok(ctx, nil, "broker", "answer", id, "B001", "refused", "--note", "they say the list was bought lawfully")
	var demand workflows.BrokerDemandStatus
	cli.ok(ctx, &demand, "broker", "escalated", id, "B001", "--to", "police", "--reference", "警視庁 相談番号 123", "--json")
	if demand.State != workflows.DemandEscalationNeeded || len(demand.Mailings) != 1 || demand.Mailings[0].TrackingNumber != "1234-5678-9012" ||
		len(demand.Answers) != 1 || demand.Answers[0].By != "cli:"+cliUser || len(demand.Escalations) != 1 || demand.Escalations[0].To != "police" {
		t.Errorf("demand = %+v", demand)
	}
	cli.refused(ctx, "the escalation to the police is already recorded", "broker", "escalated", id, "B001", "--to", "police")
	text := cli.ok(ctx, nil, "broker", "status", id, "B001")
	if !strings.Contains(text, "tracking 1234-5678-9012") || strings.Contains(text, "名簿センター") {
		t.Errorf("broker status (no company name expected):\n%s", text)
	}
	s.waitStatus(ctx, id, "the demand in the incident's status", func(st workflows.IncidentStatus) bool {
		return len(st.BrokerDemands) == 1 && st.BrokerDemands[0].State == workflows.DemandEscalationNeeded
	})
}

// A runbook of another jurisdiction, declared from the command line
// without --jurisdictions: its own regimes apply (EU-GDPR's 72 hours), as
// the Slack form preselects them, not JP-APPI. Without --persons, the
// persons are everyone on the --affected list, not the wrong recipients.
func TestCLI_StartFollowsTheRunbooksRegimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{scenario: quietScenario})
	cli := newStarterCLI(t, s)
	dir := t.TempDir()
	rb, err := os.ReadFile("../../runbooks/visible-recipients.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eu := strings.Replace(strings.Replace(string(rb), "regimes: [JP-APPI]", "regimes: [EU-GDPR]", 1), "id: visible-recipients", "id: visible-recipients-eu", 1)
	if !strings.Contains(eu, "[EU-GDPR]") {
		t.Fatal("visible-recipients.yaml no longer says regimes: [JP-APPI]")
	}
	rbFile, listFile, affectedFile := filepath.Join(dir, "eu.yaml"), filepath.Join(dir, "list.csv"), filepath.Join(dir, "affected.csv")
	if err := os.WriteFile(rbFile, []byte(eu), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(listFile, []byte("name,email\nA,a@start.example.de\nB,b@start.example.de\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(affectedFile, []byte("name,email\nA,a@start.example.de\nB,b@start.example.de\nC,c@start.example.de\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var started struct {
		IncidentID string `json:"incident_id"`
	}
	cli.ok(ctx, &started, "start", "--runbook", rbFile, "--recipients", listFile, "--affected", affectedFile, "--title", "Newsletter (EU)",
		"--slack-channel", "C0CLISTART", "--json")
	st := s.waitStatus(ctx, started.IncidentID, "the obligations open", func(st workflows.IncidentStatus) bool { return len(st.Obligations) > 0 })
	// Declared from the CLI, it gets its Slack message like a Slack
	// declaration does.
	waitFor(ctx, t, "the incident's Slack message", func() bool {
		for _, m := range s.sandbox.SlackMessages() {
			if m.Channel == "C0CLISTART" && m.ThreadTS == "" && strings.Contains(m.Text+string(m.Blocks), started.IncidentID) {
				return true
			}
		}
		return false
	})
	cli.fails(ctx, "give the channel's ID", "start", "--runbook", rbFile, "--title", "x", "--slack-channel", "#incident")
	if st.Facts.Persons != 3 {
		t.Errorf("persons %d, want the 3 affected", st.Facts.Persons)
	}
	if !slices.Equal(st.Facts.Jurisdictions, []string{"EU-GDPR"}) {
		t.Errorf("jurisdictions %v, want the runbook's [EU-GDPR]", st.Facts.Jurisdictions)
	}
	for _, o := range st.Obligations {
		if !strings.HasPrefix(o.ObligationID, "EU-GDPR/") || strings.HasSuffix(o.ObligationID, "/review") {
			t.Errorf("obligation %s under a runbook that names EU-GDPR only", o.ObligationID)
		}
	}
}
