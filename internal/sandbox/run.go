package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Run serves a Sandbox built from cfg on addr until ctx ends, then shuts the
// server down and stops every simulated recipient. It is `starter sandbox`.
func Run(ctx context.Context, cfg Config, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	defer ln.Close()
	if cfg.SandboxURL == "" {
		cfg.SandboxURL = "http://" + ln.Addr().String()
	}
	sb, err := New(cfg)
	if err != nil {
		return err
	}
	defer sb.Close()
	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	sb.log.Info("sandbox: listening",
		"addr", ln.Addr().String(),
		"engine_url", sb.engineURL,
		"time_scale", sb.scale,
		"failure_rate", cfg.FailureRate,
		"sendgrid_webhook_public_key", sb.SendGridPublicKey())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
	}
	sb.cancel() // release withheld answers and stop recipients before draining
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("sandbox: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: serve: %w", err)
	}
	return nil
}
