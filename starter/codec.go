package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/frontdoor"
	"github.com/breachflow/breachflow/internal/temporalx"
)

// cmdCodecServer serves the codec endpoint the Temporal UI calls to decrypt
// payloads for people holding the token (docs/encryption.md).
func cmdCodecServer(ctx context.Context, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("codec-server", flag.ContinueOnError)
	addr := fs.String("listen", envOr("BREACHFLOW_CODEC_LISTEN_ADDR", "127.0.0.1:8081"), "listen address")
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2}
	}
	cfg, err := config.ForRole(config.RoleCodecServer)
	if err != nil {
		return err
	}
	keys, err := temporalx.Keys(cfg, os.Getenv, logger)
	if err != nil {
		return err
	}
	opts, err := codec.ServerOptionsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	if err := codec.CheckListen(*addr, opts, config.IsLoopback); err != nil {
		return err
	}
	opts.Logger = logger
	h, err := codec.Handler(keys, opts)
	if err != nil {
		return err
	}
	srv := frontdoor.NewHTTPServer(*addr, h)
	srv.WriteTimeout = time.Minute
	logger.Info("codec server listening", "addr", *addr, "origins", strings.Join(opts.Origins, ","), "keys", keys.IDs())
	return serveUntil(ctx, srv)
}

// cmdCodecKey prints a new key line for BREACHFLOW_CODEC_KEYS.
func cmdCodecKey(_ context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("codec-key", flag.ContinueOnError)
	id := fs.String("id", "k"+time.Now().UTC().Format("20060102"), "key ID (1-32 of A-Z a-z 0-9 . _ -)")
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2}
	}
	k, err := codec.GenerateKey()
	if err != nil {
		return err
	}
	fmt.Printf("%s:%s\n", *id, k)
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
