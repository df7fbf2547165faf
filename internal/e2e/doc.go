// Package e2e holds breachflow's end-to-end tests (build tag "integration"):
// a real Temporal dev server (the CLI binary built from tools/go.mod, named
// by TEMPORAL_CLI_PATH), the real worker registrations and activities, the
// real front door, and the sandbox's provider simulators, which the real
// SDK clients talk to. Run them with `make integration` (part of `make test`).
package e2e
