// Command worker runs breachflow's workflows and activities on any Temporal
// cluster (TEMPORAL_* environment, see docs/ARCHITECTURE.md).
package main

import (
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/redact"
	"github.com/breachflow/breachflow/internal/temporalx"
	"github.com/breachflow/breachflow/workflows"
)

func main() {
	logger := redact.NewJSONLogger(os.Stderr, slog.LevelInfo)
	cfg, err := config.ForRole(config.RoleWorker)
	if err != nil {
		fatal(logger, "configuration", err)
	}
	if cfg.Sandbox {
		logger.Warn("sandbox mode (BREACHFLOW_SANDBOX=1): public sandbox secrets in use; never with real data", "sandboxed", cfg.SandboxNotice(), "sandbox_url", cfg.SandboxURL)
	}
	c, err := temporalx.Dial(cfg, logger)
	if err != nil {
		fatal(logger, "connect to Temporal", err)
	}
	defer c.Close()
	nc, err := activities.LoadNoticeConfig(os.Getenv)
	if err != nil {
		fatal(logger, "notice configuration", err)
	}
	if err := activities.RequireVerifiedApprovals(!cfg.SendGridSandboxed(), nc); err != nil {
		fatal(logger, "notice configuration", err)
	}
	acts, err := activities.NewSet(cfg, nc, &recipients.Store{Dir: cfg.ListDir}, c, logger)
	if err != nil {
		fatal(logger, "activities", err)
	}
	w := worker.New(c, cfg.TaskQueue, worker.Options{})
	workflows.Register(w)
	acts.Register(w)
	// Broadcast e-mail runs on its own task queue so its rate limit holds
	// across every worker; a stopping worker lets a request in flight end.
	mail := worker.New(c, workflows.MailTaskQueue(cfg.TaskQueue), worker.Options{
		TaskQueueActivitiesPerSecond: nc.SendGridRPS, MaxConcurrentActivityExecutionSize: 8, WorkerStopTimeout: 40 * time.Second,
	})
	acts.RegisterMail(mail)
	if err := mail.Start(); err != nil {
		fatal(logger, "mail worker", err)
	}
	defer mail.Stop()
	logger.Info("worker started", "task_queue", cfg.TaskQueue, "roles", cfg.Roles.String(), "record_dir", cfg.RecordDir)
	if err := w.Run(worker.InterruptCh()); err != nil {
		fatal(logger, "worker", err)
	}
}

func fatal(logger *slog.Logger, what string, err error) {
	logger.Error(what, "error", err)
	os.Exit(1)
}
