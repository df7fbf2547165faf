// Package temporalx dials Temporal the same way in every breachflow
// process: options from the SDK's envconfig (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TLS, API key, profiles), logs through slog.
package temporalx

import (
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/log"
)

// Options loads client options from the environment.
func Options(logger *slog.Logger) (client.Options, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client options from environment: %w", err)
	}
	opts.Logger = log.NewStructuredLogger(logger)
	return opts, nil
}

// Dial connects to Temporal with options from the environment.
func Dial(logger *slog.Logger) (client.Client, error) {
	opts, err := Options(logger)
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("dial temporal at %q: %w", opts.HostPort, err)
	}
	return c, nil
}
