package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/internal/temporalx"
)

// cmdSandboxDeclare declares an incident the way a responder does in Slack:
// the sandbox's simulated user types `/breach declare`, and fills and
// submits the modal. The requests reach `starter serve` signed exactly as
// Slack sends them. It prints the incident ID.
func cmdSandboxDeclare(ctx context.Context, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("sandbox declare", flag.ContinueOnError)
	rb := fs.String("runbook", "missend", "runbook ID offered in Slack (built-in or from BREACHFLOW_RUNBOOKS_DIR)")
	list := fs.String("recipients", "", "recipient list to store and reference in the form")
	title := fs.String("title", "demo incident", "incident title (no personal data)")
	what := fs.String("what", "member data file", "what leaked (no personal data)")
	persons := fs.Int("persons", 0, "number of people whose data leaked (default: the list's count)")
	user := fs.String("user", "U0LEAD", "simulated Slack user")
	channel := fs.String("channel", "C0INCIDENT", "Slack channel of the incident")
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2}
	}
	cfg, err := config.ForRole(config.RoleSandbox)
	if err != nil {
		return err
	}
	ref := ""
	count := *persons
	if *list != "" {
		lr, err := storeList(ctx, cfg, *list)
		if err != nil {
			return err
		}
		ref = lr.RefString()
		if count == 0 {
			count = lr.Count
		}
	}
	if count == 0 {
		count = 1
	}
	started := time.Now().UTC()
	sim := simClient{base: cfg.SandboxURL, hc: &http.Client{Timeout: 30 * time.Second}}
	var res sandbox.SimSlackResult
	if err := sim.post(ctx, "/sim/slack/command", sandbox.SimSlashCommand{User: *user, Channel: *channel, Text: "/breach declare " + *rb}, &res); err != nil {
		return err
	}
	if res.Status != http.StatusOK {
		return fmt.Errorf("slash command answered %d: %s%s", res.Status, res.Text, res.Body)
	}
	viewID, err := sim.declareView(ctx, *user)
	if err != nil {
		return err
	}
	aware := time.Now().In(time.FixedZone("JST", 9*3600)).Add(-time.Minute)
	values := map[string]string{
		slackbot.InputRunbook: *rb, slackbot.InputTitle: *title, slackbot.InputWhatLeaked: *what,
		slackbot.InputPersons: fmt.Sprint(count), slackbot.InputAwareDate: aware.Format("2006-01-02"),
		slackbot.InputAwareTime: aware.Format("15:04"), slackbot.InputUnauthorized: slackbot.No,
		slackbot.InputSensitive: slackbot.Yes, slackbot.InputJurisdictions: "JP-APPI", slackbot.InputList: ref,
	}
	form := map[string]map[string]string{}
	for k, v := range values {
		if v != "" {
			form[k] = map[string]string{k: v}
		}
	}
	if err := sim.post(ctx, "/sim/slack/submit", sandbox.SimSubmitView{User: *user, ViewID: viewID, Values: form}, &res); err != nil {
		return err
	}
	if res.Status != http.StatusOK || len(res.Body) > 0 {
		return fmt.Errorf("the declare form was refused (%d): %s%s", res.Status, res.Text, res.Body)
	}
	c, err := temporalx.Dial(cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	q := fmt.Sprintf("WorkflowType = 'Incident' AND BreachRunbook = %q AND StartTime >= %q", *rb, started.Add(-time.Second).Format(time.RFC3339))
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 1})
		if err == nil && len(resp.Executions) > 0 {
			fmt.Println(resp.Executions[0].Execution.WorkflowId)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return fmt.Errorf("the form was accepted but no incident appeared within a minute: see the logs of starter serve")
}

type simClient struct {
	base string
	hc   *http.Client
}

func (s simClient) post(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox %s: %w (is `starter sandbox` running?)", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sandbox %s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// declareView finds the declare modal the slash command opened for user.
func (s simClient) declareView(ctx context.Context, user string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/sim/slack", nil)
	if err != nil {
		return "", err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("sandbox /sim/slack: %w", err)
	}
	defer resp.Body.Close()
	var st struct {
		Views []sandbox.SlackView `json:"views"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "", fmt.Errorf("sandbox /sim/slack: %w", err)
	}
	for k := len(st.Views) - 1; k >= 0; k-- {
		v := st.Views[k]
		if v.CallbackID == slackui.CallbackDeclare && v.User == user && !v.Closed {
			return v.ID, nil
		}
	}
	return "", fmt.Errorf("no declare modal was opened for %s: is `starter serve` running, and may %s declare (BREACHFLOW_SLACK_DECLARERS)?", user, user)
}
