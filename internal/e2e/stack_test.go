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
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	enumspb "go.temporal.io/api/enums/v1"
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
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

var devServer *testsuite.DevServer

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// temporalCLI is the Temporal CLI that runs dev servers.
var temporalCLI string

func runMain(m *testing.M) int {
	temporalCLI = os.Getenv("TEMPORAL_CLI_PATH")
	if temporalCLI == "" {
		_, file, _, _ := runtime.Caller(0)
		temporalCLI = filepath.Join(filepath.Dir(file), "..", "..", "bin", "temporal")
	}
	if _, err := os.Stat(temporalCLI); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: no Temporal CLI at %s: run `make tools` (or set TEMPORAL_CLI_PATH)\n", temporalCLI)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, devServerOptions("", ""))
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start dev server: %v\n", err)
		return 1
	}
	devServer = srv
	defer func() { _ = srv.Stop() }()
	defer removeBinaries()
	return m.Run()
}

// devServerOptions runs the Temporal CLI's dev server with breachflow's
// search attributes: on hostPort ("" = a free port), in memory or, with
// dbFile, in a SQLite file that survives a restart.
func devServerOptions(hostPort, dbFile string, extra ...string) testsuite.DevServerOptions {
	for _, sa := range workflows.SearchAttributes() {
		extra = append(extra, "--search-attribute", sa.Name+"="+sa.CLIType())
	}
	return testsuite.DevServerOptions{
		ExistingPath:  temporalCLI,
		ClientOptions: &client.Options{HostPort: hostPort, Namespace: "default"},
		DBFilename:    dbFile,
		LogLevel:      "error",
		ExtraArgs:     extra,
		Stdout:        io.Discard,
		Stderr:        io.Discard,
	}
}

// stack is one breachflow deployment on the shared dev server: its own task
// queue, list store, sandbox and front door.
type stack struct {
	t         testing.TB
	client    client.Client
	cfg       config.Config
	sandbox   *sandbox.Sandbox
	frontdoor *httptest.Server
	store     *recipients.Store
	logs      *syncBuffer // as written (redacted)
	rawLogs   *syncBuffer // as produced at call sites
	keys      codec.Keys
	lists     map[string]recipients.ListRef // by incident ID
	// worker is the worker process (opts.workerProcess), serve the
	// `starter serve` process (opts.frontdoorProcess); nil when in-process.
	worker, serve *process
}

type stackOptions struct {
	scenario        string // sandbox scenario YAML; "" = everyone clicks at once
	builtinScenario string // or a built-in scenario by name ("demo")
	failureRate     float64
	slackDeclarers  []string // Slack IDs allowed to declare and act; empty = everyone (sandbox)
	// workerProcess runs the real worker binary as a subprocess (built by
	// the test, configured by environment) instead of an in-process
	// worker, so a test can kill -9 it and start it again.
	workerProcess bool
	// frontdoorProcess runs the real `starter serve` as a subprocess on a
	// fixed port instead of the in-process front door.
	frontdoorProcess bool
	// temporal is the dev server's host:port; "" = the shared dev server.
	temporal string
	// providerFault, when set, wraps the provider simulators (e.g. to lose
	// the answers to some requests).
	providerFault func(http.Handler) http.Handler
	// quiet keeps the log lines of the run out of `go test -v` (tens of
	// thousands in a large recall); they are shown (the last 200) if the
	// test fails.
	quiet bool
	// env adds to (or overrides) the environment of the worker and
	// front-door processes and of the in-process configuration.
	env map[string]string
}

// stackSeq numbers the stacks of the test binary.
var stackSeq atomic.Int64

// testCodecKeys encrypts every payload of the e2e runs.
const testCodecKeys = "e2e:q0zuxAJpUUzEA3ptcJ7YG8fOk2Jb8c6Lx8BPC9tPSJE="

func newStack(t testing.TB, opts stackOptions) *stack {
	t.Helper()
	// Every log line of the run, as the process would write it (redacted)
	// and as the code produced it (raw), so privacy tests can check both.
	logs, rawLogs := &syncBuffer{}, &syncBuffer{}
	var echo io.Writer = testWriter{t}
	if opts.quiet {
		echo = io.Discard
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("last log lines of the run:\n%s", logTail(logs.String(), 200))
			}
		})
	}
	out := slog.NewJSONHandler(io.MultiWriter(logs, echo), &slog.HandlerOptions{Level: slog.LevelInfo})
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
	hostPort := opts.temporal
	if hostPort == "" {
		hostPort = devServer.FrontendHostPort()
	}
	copts := client.Options{HostPort: hostPort, Namespace: "default", Logger: log.NewStructuredLogger(logger)}
	if err := codec.ClientOptions(&copts, keys); err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(copts)
	if err != nil {
		t.Fatalf("dial dev server: %v", err)
	}
	t.Cleanup(c.Close)

	// The front door's URL is needed by the sandbox and the activities
	// before the front door exists: start the listener first (or, for a
	// front-door process, choose its port).
	var fdHandler http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	var fdSrv *httptest.Server
	publicURL := ""
	if opts.frontdoorProcess {
		publicURL = "http://" + freeAddr(t)
	} else {
		fdSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.RLock()
			h := fdHandler
			mu.RUnlock()
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(fdSrv.Close)
		publicURL = fdSrv.URL
	}

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
		EngineURL: publicURL, SandboxURL: "http://" + sbLn.Addr().String(),
		// The fixed sandbox key, so a `starter serve` process verifies too.
		SendGridWebhookPrivateKey: config.SandboxSendGridWebhookPrivateKey,
		TwilioAccountSID:          config.SandboxTwilioAccountSID, TwilioAuthToken: config.SandboxTwilioAuthToken,
		SlackBotToken: config.SandboxSlackBotToken, SlackSigningSecret: config.SandboxSlackSigningSecret,
		Scenario: sc, TimeScale: 1000, FailureRate: opts.failureRate, Logger: logger,
	})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(sb.Close)
	var sbHandler = sb.Handler()
	if opts.providerFault != nil {
		sbHandler = opts.providerFault(sbHandler)
	}
	sbSrv := httptest.NewUnstartedServer(sbHandler)
	sbSrv.Listener.Close()
	sbSrv.Listener = sbLn
	sbSrv.Start()
	t.Cleanup(sbSrv.Close)

	// One task queue per stack: two stacks of one test (or benchmark) must
	// not pick up each other's tasks.
	taskQueue := fmt.Sprintf("e2e-%s-%d", strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-"), stackSeq.Add(1))
	// The environment of the worker and front-door processes; the
	// in-process parts read the same values. Nothing is inherited from the
	// test's own environment (no real provider credentials by accident).
	env := map[string]string{
		"TEMPORAL_ADDRESS":       hostPort,
		"TEMPORAL_NAMESPACE":     "default",
		"HOME":                   t.TempDir(), // no Temporal CLI profile of the developer's
		codec.EnvKeys:            testCodecKeys,
		config.EnvSandbox:        "1",
		"BREACHFLOW_TASK_QUEUE":  taskQueue,
		"BREACHFLOW_PUBLIC_URL":  publicURL,
		"BREACHFLOW_LISTEN_ADDR": strings.TrimPrefix(publicURL, "http://"),
		"BREACHFLOW_SANDBOX_URL": sbSrv.URL,
		"BREACHFLOW_LIST_DIR":    t.TempDir(),
		"BREACHFLOW_RECORD_DIR":  t.TempDir(),
		"BREACHFLOW_LETTER_DIR":  t.TempDir(),
	}
	for k, v := range opts.env {
		env[k] = v
	}
	cfg, err := config.Load(config.RoleWorker, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	s := &stack{t: t, client: c, cfg: cfg, sandbox: sb, store: &recipients.Store{Dir: cfg.ListDir},
		logs: logs, rawLogs: rawLogs, keys: keys, lists: map[string]recipients.ListRef{}}
	if opts.frontdoorProcess {
		s.serve = startProcess(t, "starter serve", env, io.MultiWriter(logs, echo), "starter", "serve")
		s.serve.healthz = publicURL + "/healthz"
		s.serve.waitHealthy()
	} else {
		s.frontdoor = fdSrv
		s.startFrontDoor(opts, logger, func(h http.Handler) {
			mu.Lock()
			fdHandler = h
			mu.Unlock()
		})
	}
	if opts.workerProcess {
		s.worker = startProcess(t, "worker", env, io.MultiWriter(logs, echo), "worker")
		return s
	}
	cfg.RecordDir = t.TempDir()
	acts, err := activities.NewSet(cfg, activities.NoticeConfig{LetterDir: t.TempDir()}, s.store, c, logger)
	if err != nil {
		t.Fatalf("activities: %v", err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	workflows.Register(w)
	acts.Register(w)
	if err := w.Start(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return s
}

// startFrontDoor builds the in-process front door (webhooks, links,
// Slack) and hands it to install.
func (s *stack) startFrontDoor(opts stackOptions, logger *slog.Logger, install func(http.Handler)) {
	t, c, cfg, sb := s.t, s.client, s.cfg, s.sandbox
	links, err := linktoken.NewSigner(cfg.LinkSecret)
	if err != nil {
		t.Fatal(err)
	}
	org := runbooks.NoticeData{Organization: "株式会社サンプル", ContactPhone: "0120-123-456", ContactHours: "平日10:00〜17:00"}
	fd, err := frontdoor.New(frontdoor.Config{Temporal: c, Links: links, SendGridPublicKey: sb.SendGridPublicKey(), Logger: logger,
		PublicURL: cfg.PublicURL, TwilioAuthToken: cfg.Twilio.AuthToken, Voice: frontdoor.RecallScripts(c, org), Org: org,
		Recalls: frontdoor.RecallStatuses(c)})
	if err != nil {
		t.Fatalf("front door: %v", err)
	}
	bot, err := slackbot.New(slackbot.Config{
		Slack:    slack.New(cfg.Slack.BotToken, slack.OptionAPIURL(cfg.SandboxURL+"/slack/api/")),
		Temporal: c, Lists: recipients.Store{Dir: cfg.ListDir}, TaskQueue: cfg.TaskQueue,
		SigningSecret: cfg.Slack.SigningSecret, Declarers: opts.slackDeclarers, Approvers: opts.slackDeclarers,
		Sandbox: true, Logger: logger, ResponseURLBases: []string{sandbox.SlackResponseURLBase(cfg.SandboxURL)},
	})
	if err != nil {
		t.Fatalf("slack: %v", err)
	}
	t.Cleanup(bot.Close)
	bot.Routes(fd.Handle)
	install(fd)
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
	start, logged := time.Now(), time.Now()
	for {
		st, err := incidents.Status(ctx, s.client, id)
		if err == nil {
			last = st
			if ok(st) {
				return st
			}
		}
		if time.Since(logged) >= 30*time.Second {
			s.t.Logf("waiting for %s (%s): %+v", what, time.Since(start).Round(time.Second), last.Recall)
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			s.diagnose(id, last.Recall.Total)
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

type testWriter struct{ t testing.TB }

// logTail returns the last n lines of s.
func logTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

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

// recallStatus reads a Recall's status: by query while it runs, from its
// result once it has closed.
func recallStatus(ctx context.Context, s *stack, wid string) (workflows.RecallStatus, error) {
	var rs workflows.RecallStatus
	d, err := s.client.DescribeWorkflowExecution(ctx, wid, "")
	if err != nil {
		return rs, err
	}
	if d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return rs, s.client.GetWorkflow(ctx, wid, "").Get(ctx, &rs)
	}
	v, err := s.client.QueryWorkflow(ctx, wid, "", workflows.QueryStatus)
	if err != nil {
		return rs, err
	}
	return rs, v.Get(&rs)
}
