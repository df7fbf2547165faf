// Command worker runs breachflow's workflows and activities on any Temporal
// cluster (TEMPORAL_* environment, see docs/ARCHITECTURE.md).
package main

import (
	"log/slog"
	"os"

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
	cfg, err := config.FromEnv()
	if err != nil {
		fatal(logger, "configuration", err)
	}
	if s := cfg.SandboxNotice(); len(s) > 0 {
		logger.Info("no credentials for these providers: using the sandbox", "providers", s, "sandbox_url", cfg.SandboxURL)
	}
	c, err := temporalx.Dial(cfg, logger)
	if err != nil {
		fatal(logger, "connect to Temporal", err)
	}
	defer c.Close()
	acts, err := activities.NewSet(cfg, &recipients.Store{Dir: cfg.ListDir}, c, logger)
	if err != nil {
		fatal(logger, "activities", err)
	}
	w := worker.New(c, cfg.TaskQueue, worker.Options{})
	workflows.Register(w)
	acts.Register(w)
	logger.Info("worker started", "task_queue", cfg.TaskQueue, "roles", cfg.Roles.String(), "record_dir", cfg.RecordDir)
	if err := w.Run(worker.InterruptCh()); err != nil {
		fatal(logger, "worker", err)
	}
}

func fatal(logger *slog.Logger, what string, err error) {
	logger.Error(what, "error", err)
	os.Exit(1)
}
