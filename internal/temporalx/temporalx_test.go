package temporalx_test

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/temporalx"
)

func TestKeys(t *testing.T) {
	load := func(env map[string]string) config.Config {
		t.Helper()
		cfg, err := config.Load(config.RoleCLI, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	sandboxCfg := load(map[string]string{config.EnvSandbox: "1"})
	// Sandbox mode with a real provider beside it: no public key.
	mixedCfg := load(map[string]string{config.EnvSandbox: "1", "SENDGRID_API_KEY": "SG.real"})
	realCfg := load(nil)
	own := "k1:" + mustKey(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name    string
		cfg     config.Config
		env     map[string]string
		current string
		wantErr bool
	}{
		{"sandbox without keys uses the public sandbox key", sandboxCfg, nil, "sandbox-demo", false},
		{"sandbox with own keys uses them", sandboxCfg, map[string]string{codec.EnvKeys: own}, "k1", false},
		{"real providers without keys refuse to start", realCfg, nil, "", true},
		{"real providers with keys", realCfg, map[string]string{codec.EnvKeys: own}, "k1", false},
		{"malformed keys refuse to start", sandboxCfg, map[string]string{codec.EnvKeys: "k1:short"}, "", true},
		{"sandbox mode beside a real provider without keys refuses to start", mixedCfg, nil, "", true},
		{"the public sandbox key outside sandbox mode refuses to start", realCfg, map[string]string{codec.EnvKeys: config.SandboxCodecKeys}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := temporalx.Keys(tt.cfg, func(k string) string { return tt.env[k] }, logger)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				if tt.env == nil && !errors.Is(err, codec.ErrNoKeys) {
					t.Errorf("error %v should wrap ErrNoKeys", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if keys.Current != tt.current {
				t.Errorf("current key %q, want %q", keys.Current, tt.current)
			}
		})
	}
}

func mustKey(t *testing.T) string {
	k, err := codec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The sandbox key is announced in the log of a process that runs (worker,
// front door), once; a CLI command prints nothing (it would on every call).
func TestSandboxKeyAnnouncedByLongRunningProcessesOnly(t *testing.T) {
	env := func(k string) string { return map[string]string{config.EnvSandbox: "1"}[k] }
	for _, tc := range []struct {
		role     config.Role
		announce bool
	}{
		{config.RoleCLI, false},
		{config.RoleWorker, true},
		{config.RoleServe, true},
	} {
		cfg, err := config.Load(tc.role, env)
		if err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		if _, err := temporalx.Keys(cfg, env, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
			t.Fatal(err)
		}
		if announced := strings.Contains(log.String(), "public sandbox key"); announced != tc.announce {
			t.Errorf("%s: announced = %v, want %v (%q)", tc.role, announced, tc.announce, log.String())
		}
	}
}
