// Package temporalx dials Temporal the same way in every breachflow
// process: options from the SDK's envconfig (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TLS, API key, profiles), every payload encrypted by
// the codec (keys from BREACHFLOW_CODEC_KEYS / _FILE), SDK logs through the
// redacting slog logger.
package temporalx

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/log"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
)

// Keys loads the payload-encryption keys. Outside sandbox mode they are
// required, and the public sandbox key is refused: a breach-response tool
// must not store the leaked data in clear. In sandbox mode with no real
// provider, the public sandbox key is used when none is configured, and
// the log of a long-running process (not the CLI's) says so.
func Keys(cfg config.Config, getenv func(string) string, logger *slog.Logger) (codec.Keys, error) {
	keys, err := codec.LoadKeys(getenv)
	switch {
	case err == nil && !cfg.Sandbox && slices.Contains(keys.IDs(), sandboxKeyID):
		return codec.Keys{}, fmt.Errorf("%s holds the public sandbox key %q from this repository: generate your own with `starter codec-key` (the sandbox key is accepted only in sandbox mode, %s=1)",
			codec.EnvKeys, sandboxKeyID, config.EnvSandbox)
	case err == nil:
		return keys, nil
	case errors.Is(err, codec.ErrNoKeys) && cfg.Sandbox && !cfg.AnyReal():
		if cfg.Role != config.RoleCLI {
			// Once per process that runs; a CLI command would repeat it
			// on every call.
			logger.Warn("no BREACHFLOW_CODEC_KEYS: sandbox mode encrypts payloads with the public sandbox key; set your own keys before real data")
		}
		return codec.LoadKeys(func(k string) string {
			if k == codec.EnvKeys {
				return config.SandboxCodecKeys
			}
			return ""
		})
	case errors.Is(err, codec.ErrNoKeys) && cfg.Sandbox:
		return codec.Keys{}, fmt.Errorf("%s is not set: with a real provider configured the public sandbox key is refused (generate one with `starter codec-key`): %w", codec.EnvKeys, err)
	case errors.Is(err, codec.ErrNoKeys):
		return codec.Keys{}, fmt.Errorf("%s is not set: payloads are encrypted with it (generate one with `starter codec-key`), or run the demo and tests in sandbox mode (%s=1): %w", codec.EnvKeys, config.EnvSandbox, err)
	}
	return codec.Keys{}, err
}

// sandboxKeyID is the ID of the public sandbox key (config.SandboxCodecKeys).
var sandboxKeyID, _, _ = strings.Cut(config.SandboxCodecKeys, ":")

// Options loads client options from the environment and adds encryption
// and logging.
func Options(keys codec.Keys, logger *slog.Logger) (client.Options, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client options from environment: %w", err)
	}
	opts.Logger = log.NewStructuredLogger(logger)
	if err := codec.ClientOptions(&opts, keys); err != nil {
		return client.Options{}, fmt.Errorf("payload encryption: %w", err)
	}
	return opts, nil
}

// Dial connects to Temporal with options from the environment.
func Dial(cfg config.Config, logger *slog.Logger) (client.Client, error) {
	keys, err := Keys(cfg, os.Getenv, logger)
	if err != nil {
		return nil, err
	}
	opts, err := Options(keys, logger)
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(opts)
	if err != nil {
		addr := opts.HostPort
		if addr == "" {
			addr = client.DefaultHostPort
		}
		return nil, fmt.Errorf("dial temporal at %s (TEMPORAL_ADDRESS): %w", addr, err)
	}
	return c, nil
}
