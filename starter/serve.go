package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/client"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/frontdoor"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/temporalx"
	"github.com/breachflow/breachflow/runbooks"
)

// cmdServe serves the front door until interrupted.
func cmdServe(ctx context.Context, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2}
	}
	cfg, err := config.ForRole(config.RoleServe)
	if err != nil {
		return err
	}
	if cfg.Sandbox {
		logger.Warn("sandbox mode (BREACHFLOW_SANDBOX=1): public sandbox secrets in use; never with real data", "sandboxed", cfg.SandboxNotice(), "sandbox_url", cfg.SandboxURL)
	}
	c, err := temporalx.Dial(cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	links, err := linktoken.NewSigner(cfg.LinkSecret)
	if err != nil {
		return err
	}
	nc, err := activities.LoadNoticeConfig(os.Getenv)
	if err != nil {
		return err
	}
	org := nc.Org
	if org.Organization == "" {
		org.Organization = cfg.MailFromName
	}
	fd, err := frontdoor.New(frontdoor.Config{
		Temporal: c, Links: links, SendGridPublicKey: cfg.SendGrid.WebhookPublicKey, Logger: logger,
		PublicURL: cfg.PublicURL, TwilioAuthToken: cfg.Twilio.AuthToken,
		Voice: frontdoor.RecallScripts(c, org), Org: org, Recalls: frontdoor.RecallStatuses(c),
	})
	if err != nil {
		return err
	}
	bot, err := newSlackBot(cfg, c, logger)
	if err != nil {
		return err
	}
	defer bot.Close()
	bot.Routes(fd.Handle)
	if cfg.Slack.AppToken != "" {
		go func() {
			if err := bot.RunSocketMode(ctx, cfg.Slack.AppToken); err != nil && ctx.Err() == nil {
				logger.Error("slack socket mode stopped", "error", err)
			}
		}()
	}
	srv := frontdoor.NewHTTPServer(cfg.ListenAddr, fd)
	logger.Info("front door listening", "addr", cfg.ListenAddr, "public_url", cfg.PublicURL)
	return serveUntil(ctx, srv)
}

// newSlackBot builds the Slack dispatcher: slash commands, modals and
// buttons, over HTTP and (with SLACK_APP_TOKEN) Socket Mode.
func newSlackBot(cfg config.Config, c client.Client, logger *slog.Logger) (*slackbot.Dispatcher, error) {
	sc, err := slackbot.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second})}
	if cfg.SlackSandboxed() {
		opts = append(opts, slack.OptionAPIURL(cfg.SandboxURL+"/slack/api/"))
		sc.SocketModeAPIURL = cfg.SandboxURL + "/slack/api/"
		sc.ResponseURLBases = []string{sandbox.SlackResponseURLBase(cfg.SandboxURL)}
	}
	sc.Slack = slack.New(cfg.Slack.BotToken, opts...)
	if cfg.RunbooksDir != "" {
		own, diags := runbooks.LoadDir(cfg.RunbooksDir)
		if len(diags) > 0 {
			return nil, exitError{1, "BREACHFLOW_RUNBOOKS_DIR has invalid runbooks; fix them or remove them:\n" + diags.Error()}
		}
		sc.Runbooks = own
		logger.Info("own runbooks offered in Slack", "dir", cfg.RunbooksDir, "count", len(own))
	}
	sc.Temporal, sc.Lists, sc.TaskQueue = c, recipients.Store{Dir: cfg.ListDir}, cfg.TaskQueue
	sc.SigningSecret, sc.Sandbox, sc.Logger = cfg.Slack.SigningSecret, cfg.SlackSandboxed(), logger
	return slackbot.New(sc)
}

func serveUntil(ctx context.Context, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cmdSandbox runs the provider simulators until interrupted.
func cmdSandbox(ctx context.Context, logger *slog.Logger, args []string) error {
	if len(args) > 0 && args[0] == "declare" {
		return cmdSandboxDeclare(ctx, logger, args[1:])
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	scenario := fs.String("scenario", "demo", "built-in scenario name or a scenario file")
	scale := fs.Float64("time-scale", 0, "divide simulated delays by this (0: the scenario's)")
	failures := fs.Float64("failure-rate", 0, "share (0..1) of provider calls answered with an injected 429, 5xx or timeout")
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2}
	}
	cfg, err := config.ForRole(config.RoleSandbox)
	if err != nil {
		return err
	}
	sc, err := sandbox.LoadScenario(*scenario)
	if err != nil {
		return err
	}
	return sandbox.Run(ctx, sandbox.Config{
		EngineURL:        cfg.PublicURL,
		TwilioAccountSID: config.SandboxTwilioAccountSID, TwilioAuthToken: config.SandboxTwilioAuthToken,
		SlackBotToken: config.SandboxSlackBotToken, SlackSigningSecret: config.SandboxSlackSigningSecret,
		SendGridWebhookPrivateKey: config.SandboxSendGridWebhookPrivateKey,
		SandboxURL:                cfg.SandboxURL,
		Scenario:                  sc, TimeScale: *scale, FailureRate: *failures, Logger: logger,
	}, cfg.SandboxAddr)
}
