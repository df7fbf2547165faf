//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/frontdoor"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/redact"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/workflows"
)

var devServer *testsuite.DevServer

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	path := os.Getenv("TEMPORAL_CLI_PATH")
	if path == "" {
		_, file, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(file), "..", "..", "bin", "temporal")
	}
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: no Temporal CLI at %s: run `make tools` (or set TEMPORAL_CLI_PATH)\n", path)
		return 1
	}
	var extra []string
	for _, sa := range workflows.SearchAttributes() {
		extra = append(extra, "--search-attribute", sa.Name+"="+sa.CLIType())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  path,
		ClientOptions: &client.Options{Namespace: "default"},
		LogLevel:      "error",
		ExtraArgs:     extra,
		Stdout:        io.Discard,
		Stderr:        io.Discard,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start dev server: %v\n", err)
		return 1
	}
	devServer = srv
	defer func() { _ = srv.Stop() }()
	return m.Run()
}

// stack is one breachflow deployment on the shared dev server: its own task
// queue, list store, sandbox and front door.
type stack struct {
	t         *testing.T
	client    client.Client
	cfg       config.Config
	sandbox   *sandbox.Sandbox
	frontdoor *httptest.Server
	store     *recipients.Store
	logs      *syncBuffer // as written (redacted)
	rawLogs   *syncBuffer // as produced at call sites
	keys      codec.Keys
	lists     map[string]recipients.ListRef // by incident ID
}

type stackOptions struct {
	scenario        string // sandbox scenario YAML; "" = everyone clicks at once
	builtinScenario string // or a built-in scenario by name ("demo")
	failureRate     float64
	slackDeclarers  []string // Slack IDs allowed to declare and act; empty = everyone (sandbox)
}

// testCodecKeys encrypts every payload of the e2e runs.
const testCodecKeys = "e2e:q0zuxAJpUUzEA3ptcJ7YG8fOk2Jb8c6Lx8BPC9tPSJE="

func newStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	// Every log line of the run, as the process would write it (redacted)
	// and as the code produced it (raw), so privacy tests can check both.
	logs, rawLogs := &syncBuffer{}, &syncBuffer{}
	out := slog.NewJSONHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelInfo})
	logger := slog.New(teeHandler{redact.New(out), slog.NewJSONHandler(rawLogs, &slog.HandlerOptions{Level: slog.LevelInfo})})
	keys, err := codec.LoadKeys(func(k string) string {
		if k == codec.EnvKeys {
			return testCodecKeys
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	copts := client.Options{HostPort: devServer.FrontendHostPort(), Namespace: "default", Logger: log.NewStructuredLogger(logger)}
	if err := codec.ClientOptions(&copts, keys); err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(copts)
	if err != nil {
		t.Fatalf("dial dev server: %v", err)
	}
	t.Cleanup(c.Close)

	// The front door's URL is needed by the sandbox and the activities
	// before the front door exists: start the listener first.
	var fdHandler http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	fdSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		h := fdHandler
		mu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(fdSrv.Close)

	// Likewise the sandbox's own URL (Slack response_url) before it exists.
	sbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc := sandbox.Scenario{}
	if opts.builtinScenario != "" {
		if sc, err = sandbox.BuiltinScenario(opts.builtinScenario); err != nil {
			t.Fatalf("scenario: %v", err)
		}
	}
	if opts.scenario != "" {
		if sc, err = sandbox.ParseScenario("scenario.yaml", []byte(opts.scenario)); err != nil {
			t.Fatalf("scenario: %v", err)
		}
	}
	sb, err := sandbox.New(sandbox.Config{
		EngineURL: fdSrv.URL, SandboxURL: "http://" + sbLn.Addr().String(),
		TwilioAccountSID: config.SandboxTwilioAccountSID, TwilioAuthToken: config.SandboxTwilioAuthToken,
		SlackBotToken: config.SandboxSlackBotToken, SlackSigningSecret: config.SandboxSlackSigningSecret,
		Scenario: sc, TimeScale: 1000, FailureRate: opts.failureRate, Logger: logger,
	})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(sb.Close)
	sbSrv := httptest.NewUnstartedServer(sb.Handler())
	sbSrv.Listener.Close()
	sbSrv.Listener = sbLn
	sbSrv.Start()
	t.Cleanup(sbSrv.Close)

	taskQueue := "e2e-" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-")
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"BREACHFLOW_TASK_QUEUE":  taskQueue,
			"BREACHFLOW_PUBLIC_URL":  fdSrv.URL,
			"BREACHFLOW_SANDBOX_URL": sbSrv.URL,
			"BREACHFLOW_LIST_DIR":    t.TempDir(),
		}[k]
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	links, err := linktoken.NewSigner(cfg.LinkSecret)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := frontdoor.New(frontdoor.Config{Temporal: c, Links: links, SendGridPublicKey: sb.SendGridPublicKey(), Logger: logger,
		PublicURL: cfg.PublicURL, TwilioAuthToken: cfg.Twilio.AuthToken})
	if err != nil {
		t.Fatalf("front door: %v", err)
	}
	bot, err := slackbot.New(slackbot.Config{
		Slack:    slack.New(cfg.Slack.BotToken, slack.OptionAPIURL(sbSrv.URL+"/slack/api/")),
		Temporal: c, Lists: recipients.Store{Dir: cfg.ListDir}, TaskQueue: taskQueue,
		SigningSecret: cfg.Slack.SigningSecret, Declarers: opts.slackDeclarers, Approvers: opts.slackDeclarers,
		Sandbox: true, Logger: logger,
	})
	if err != nil {
		t.Fatalf("slack: %v", err)
	}
	t.Cleanup(bot.Close)
	bot.Routes(fd.Handle)
	mu.Lock()
	fdHandler = fd
	mu.Unlock()

	store := &recipients.Store{Dir: cfg.ListDir}
	acts, err := activities.New(cfg, store, logger)
	if err != nil {
		t.Fatalf("activities: %v", err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(acts)
	if err := w.Start(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return &stack{t: t, client: c, cfg: cfg, sandbox: sb, frontdoor: fdSrv, store: store, logs: logs, rawLogs: rawLogs, keys: keys, lists: map[string]recipients.ListRef{}}
}

// declare stores the list and starts an incident on a built-in runbook.
func (s *stack) declare(ctx context.Context, d incidents.Declaration, listCSV string) string {
	s.t.Helper()
	if listCSV != "" {
		ref, rep, err := s.store.Put(ctx, strings.NewReader(listCSV), recipients.Options{})
		if err != nil {
			s.t.Fatalf("store list: %v", err)
		}
		if rep.RejectedCount > 0 {
			s.t.Fatalf("list rejected rows: %+v", rep.Rejected)
		}
		d.WrongRecipients = &ref
	}
	if d.DeclaredBy == "" {
		d.DeclaredBy = "e2e"
	}
	id, err := incidents.Declare(ctx, s.client, s.cfg.TaskQueue, d)
	if err != nil {
		s.t.Fatalf("declare: %v", err)
	}
	if d.WrongRecipients != nil {
		s.lists[id] = *d.WrongRecipients
	}
	return id
}

// waitStatus polls the incident's status until ok returns true.
func (s *stack) waitStatus(ctx context.Context, id string, what string, ok func(workflows.IncidentStatus) bool) workflows.IncidentStatus {
	s.t.Helper()
	var last workflows.IncidentStatus
	for {
		st, err := incidents.Status(ctx, s.client, id)
		if err == nil {
			last = st
			if ok(st) {
				return st
			}
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("timed out waiting for %s; last status %+v (err %v)", what, last.Recall, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// teeHandler sends every record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.a.Enabled(ctx, l) || h.b.Enabled(ctx, l)
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	_ = h.a.Handle(ctx, r.Clone())
	return h.b.Handle(ctx, r)
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{h.a.WithAttrs(as), h.b.WithAttrs(as)}
}

func (h teeHandler) WithGroup(g string) slog.Handler {
	return teeHandler{h.a.WithGroup(g), h.b.WithGroup(g)}
}
