//go:build integration && linux

package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachflow/breachflow/workflows"
)

// TestDemo runs `make demo`'s script as a newcomer would (on spare ports and
// folders): the stack comes up, the incident is declared through Slack,
// `starter status --json` shows phone and e-mail confirmations and an
// unreachable recipient, and Ctrl-C (SIGINT to the process group) stops
// every process it started.
func TestDemo(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin")+"/", "./worker", "./starter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "temporal")); err != nil {
		t.Fatalf("no bin/temporal: run `make tools`")
	}
	ports := map[string]string{"TEMPORAL_PORT": "27233", "UI_PORT": "28233", "SERVE_PORT": "28080", "SANDBOX_PORT": "28090", "CODEC_PORT": "28081"}
	env := append(os.Environ(), "DEMO_DATA="+t.TempDir(), "DEMO_LOGS="+t.TempDir())
	for k, v := range ports {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command("bash", filepath.Join(root, "tools", "demo.sh"))
	cmd.Dir, cmd.Env = root, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})

	ids := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`incident (INC-\d{8}-[0-9A-Z]+)`)
		for sc.Scan() {
			t.Log(sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ids <- m[1]
			}
		}
	}()
	var id string
	select {
	case id = <-ids:
	case <-time.After(4 * time.Minute):
		t.Fatal("the demo did not print its incident")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var st workflows.IncidentStatus
	waitFor(ctx, t, "phone and e-mail confirmations and an unreachable recipient", func() bool {
		c := exec.CommandContext(ctx, filepath.Join(root, "bin", "starter"), "status", id, "--json")
		c.Env = append(os.Environ(), "TEMPORAL_ADDRESS=127.0.0.1:"+ports["TEMPORAL_PORT"], "BREACHFLOW_SANDBOX=1")
		b, err := c.Output()
		if err != nil || json.Unmarshal(b, &st) != nil {
			return false
		}
		r := st.Recall
		return r.Total == 53 && r.PhoneConfirmed > 0 && r.EmailConfirmed > 0 && r.Confirmed > 0 && r.Unreachable > 0
	})
	t.Logf("demo status: %+v", st.Recall)
	// The demo's facts (sensitive data, JP-APPI) open the APPI obligations,
	// with their deadlines.
	appi := 0
	for _, o := range st.Obligations {
		if strings.HasPrefix(o.ObligationID, "JP-APPI/") {
			appi++
			t.Logf("obligation %s due %s (%s)", o.ObligationID, o.Due, o.State)
		}
	}
	if appi < 2 {
		t.Errorf("the demo shows %d APPI obligations, want the preliminary and final reports at least", appi)
	}

	// Ctrl-C.
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the demo did not stop on Ctrl-C")
	}
	stopped = true
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("processes of the demo are still running after Ctrl-C (kill -0 -%d: %v)", pgid, err)
	}
	for name, p := range ports {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+p, time.Second); err == nil {
			c.Close()
			t.Errorf("%s %s still listening after Ctrl-C", name, p)
		}
	}
	if strings.TrimSpace(id) == "" {
		t.Fatal("no incident")
	}
}
