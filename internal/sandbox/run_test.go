package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunServesUntilCanceled(t *testing.T) {
	// Reserve a free port, then let Run listen on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{EngineURL: "http://127.0.0.1:1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, addr)
	}()
	var resp *http.Response
	require.Eventually(t, func() bool {
		resp, err = http.Get("http://" + addr + "/sim/stats")
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	var st Stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	resp.Body.Close()
	assert.Empty(t, st.Email)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		addr string
		want string
	}{
		{"bad address", Config{EngineURL: "http://e"}, "256.0.0.1:99999", "listen"},
		{"bad config", Config{}, "127.0.0.1:0", "EngineURL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), tc.cfg, tc.addr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
