//go:build integration

package e2e_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/config"
)

// The real binaries, built once per test binary from this checkout (not
// taken from bin/, which may be stale).
var bins struct {
	once sync.Once
	dir  string
	out  []byte
	err  error
}

// repoRoot is the module root of this checkout.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// binary returns the path of a freshly built breachflow command ("worker"
// or "starter").
func binary(t testing.TB, name string) string {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "breachflow-e2e-bin-"); bins.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bins.dir+string(os.PathSeparator), "./worker", "./starter")
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		bins.out, bins.err = cmd.CombinedOutput()
	})
	if bins.err != nil {
		t.Fatalf("go build ./worker ./starter: %v\n%s", bins.err, bins.out)
	}
	return filepath.Join(bins.dir, name)
}

// removeBinaries deletes the built binaries (TestMain, after the run).
func removeBinaries() {
	if bins.dir != "" {
		_ = os.RemoveAll(bins.dir)
	}
}

// process is one breachflow process run by a test: configured by
// environment only, its log lines collected with the stack's, killable
// with SIGKILL and restartable with the same command and environment.
type process struct {
	t    testing.TB
	name string
	path string
	args []string
	env  []string
	logs io.Writer
	// healthz, when set, is polled after every start until it answers 200.
	healthz string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	killed  bool // by the test: its exit is expected
	exitErr error
	starts  int
}

// startProcess starts a built binary with exactly env (nothing inherited),
// its output going to logs, and stops it when the test ends.
func startProcess(t testing.TB, name string, env map[string]string, logs io.Writer, bin string, args ...string) *process {
	t.Helper()
	p := &process{t: t, name: name, path: binary(t, bin), args: args, logs: logs}
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	if _, ok := env[config.EnvSandbox]; !ok {
		// The tests run in sandbox mode unless they say otherwise.
		p.env = append(p.env, config.EnvSandbox+"=1")
	}
	sort.Strings(p.env)
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *process) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.starts++
	p.cmd, p.killed, p.exitErr = cmd, false, nil
	exited := make(chan struct{})
	p.exited = exited
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(exited)
	}()
}

// kill ends the process with SIGKILL (no shutdown of any kind, like a
// crash or an OOM kill) and waits until it is gone.
func (p *process) kill() {
	p.mu.Lock()
	p.killed = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// restart starts the process again, with the same command and environment,
// and waits until it is healthy.
func (p *process) restart() {
	p.t.Helper()
	p.start()
	if p.healthz != "" {
		p.waitHealthy()
	}
}

// waitHealthy polls the health URL until it answers 200 (at most 30 s).
func (p *process) waitHealthy() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(p.healthz)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			p.t.Fatalf("%s exited before it was healthy: %v", p.name, p.exitErr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not healthy at %s after 30s: %v", p.name, p.healthz, err)
		}
	}
}

// stop ends the process gracefully (SIGTERM, then SIGKILL after 15 s) and
// reports it if it had exited on its own with an error.
func (p *process) stop() {
	p.mu.Lock()
	cmd, exited, killed := p.cmd, p.exited, p.killed
	p.mu.Unlock()
	select {
	case <-exited:
		p.mu.Lock()
		err := p.exitErr
		p.mu.Unlock()
		if !killed && err != nil {
			p.t.Errorf("%s exited on its own: %v", p.name, err)
		}
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		p.t.Errorf("%s did not stop within 15s of SIGTERM", p.name)
	}
}

// freeAddr returns a loopback host:port that is free now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
