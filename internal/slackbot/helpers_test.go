package slackbot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/workflows"
)

// Slack workspace of the tests.
const (
	alice   = "U0ALICE"   // responder, through the user group S0RESP
	bob     = "U0BOB"     // approver, as a member of C0APPROVERS
	mallory = "U0MALLORY" // neither
	carol   = "U0CAROL"   // responder, listed directly

	incidentChannel  = "C0INCIDENT"
	approversChannel = "C0APPROVERS"
	respondersGroup  = "S0RESP"
)

// call is one recorded Temporal call.
type call struct {
	Method     string
	At         time.Time
	WorkflowID string
	Name       string // update or query name
	Arg        any
	Start      client.StartWorkflowOptions
	UpdateID   string
	Query      string
}

// fakeTemporal is an in-memory Temporal: it records calls and answers from
// its fields. With hang set, every call blocks until its context ends.
type fakeTemporal struct {
	mu    sync.Mutex
	calls []call

	hang      bool
	delay     time.Duration // before answering
	startErr  error
	updateErr error // returned by the update handle's Get, as a validator rejection is
	// updateResult is what every Update returns (decoded into the caller's result).
	updateResult any
	status       workflows.IncidentStatus
	// queries answers QueryStatus by workflow ID (status otherwise).
	queries  map[string]any
	queryErr error
	list     *workflowservice.ListWorkflowExecutionsResponse
	started  map[string]bool // workflow IDs started: a second start fails as Temporal's does
}

func (f *fakeTemporal) wait(ctx context.Context) error {
	f.mu.Lock()
	hang, delay := f.hang, f.delay
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (f *fakeTemporal) record(c call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.At = time.Now()
	f.calls = append(f.calls, c)
}

func (f *fakeTemporal) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeTemporal) ExecuteWorkflow(ctx context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	var arg any
	if len(args) > 0 {
		arg = args[0]
	}
	f.record(call{Method: "ExecuteWorkflow", WorkflowID: opts.ID, Arg: arg, Start: opts})
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	if f.startErr != nil {
		return nil, f.startErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started[opts.ID] {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "", "")
	}
	if f.started == nil {
		f.started = map[string]bool{}
	}
	f.started[opts.ID] = true
	return fakeRun{id: opts.ID}, nil
}

func (f *fakeTemporal) QueryWorkflow(ctx context.Context, workflowID, _, queryType string, _ ...any) (converter.EncodedValue, error) {
	f.record(call{Method: "QueryWorkflow", WorkflowID: workflowID, Name: queryType})
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	if v, ok := f.queries[workflowID]; ok {
		return jsonValue{v}, nil
	}
	return jsonValue{f.status}, nil
}

func (f *fakeTemporal) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	var arg any
	if len(o.Args) > 0 {
		arg = o.Args[0]
	}
	f.record(call{Method: "UpdateWorkflow", WorkflowID: o.WorkflowID, Name: o.UpdateName, Arg: arg, UpdateID: o.UpdateID})
	if o.WaitForStage != client.WorkflowUpdateStageCompleted {
		return nil, fmt.Errorf("fake: want WaitForStage Completed, got %v", o.WaitForStage)
	}
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeHandle{wf: o.WorkflowID, id: o.UpdateID, err: f.updateErr, result: f.updateResult}, nil
}

func (f *fakeTemporal) ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.record(call{Method: "ListWorkflow", Query: req.GetQuery()})
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	if f.list == nil {
		return &workflowservice.ListWorkflowExecutionsResponse{}, nil
	}
	return f.list, nil
}

type fakeRun struct{ id string }

func (r fakeRun) GetID() string                  { return r.id }
func (r fakeRun) GetRunID() string               { return "run-1" }
func (r fakeRun) GetFirstExecutionRunID() string { return "run-1" }
func (r fakeRun) Get(context.Context, any) error { return nil }
func (r fakeRun) GetWithOptions(context.Context, any, client.WorkflowRunGetOptions) error {
	return nil
}

type fakeHandle struct {
	wf, id string
	err    error
	result any
}

func (h fakeHandle) WorkflowID() string { return h.wf }
func (h fakeHandle) RunID() string      { return "run-1" }
func (h fakeHandle) UpdateID() string   { return h.id }
func (h fakeHandle) Get(_ context.Context, ptr any) error {
	if h.err != nil {
		return h.err
	}
	if ptr == nil || h.result == nil {
		return nil
	}
	return jsonValue{h.result}.Get(ptr)
}

// jsonValue is a converter.EncodedValue holding v.
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return j.v != nil }
func (j jsonValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

// keywordAttrs builds visibility search attributes.
func keywordAttrs(t *testing.T, kv map[string]string) *commonpb.SearchAttributes {
	t.Helper()
	fields := map[string]*commonpb.Payload{}
	for k, v := range kv {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		fields[k] = p
	}
	return &commonpb.SearchAttributes{IndexedFields: fields}
}

// fakeLists resolves the references it knows.
type fakeLists map[string]recipients.ListRef

func (l fakeLists) Resolve(_ context.Context, ref string) (recipients.ListRef, error) {
	r, ok := l[ref]
	if !ok {
		return recipients.ListRef{}, fmt.Errorf("no list %q", ref)
	}
	return r, nil
}

// Page returns the known list's people: the first is 鈴木 健太
// (kenta.suzuki@example.jp, 090-1234-5678), the others 会員 N.
func (l fakeLists) Page(_ context.Context, ref recipients.ListRef, offset, limit int) ([]recipients.Recipient, error) {
	if ref.SHA256 != knownRef.SHA256 {
		return nil, fmt.Errorf("no list %s", ref.SHA256)
	}
	var out []recipients.Recipient
	for k := offset; k < min(offset+limit, ref.Count); k++ {
		r := recipients.Recipient{ID: recipients.RecipientID(k + 1), Name: fmt.Sprintf("会員 %03d号", k+1), Email: fmt.Sprintf("m%03d@example.jp", k+1)}
		if k == 0 {
			r = recipients.Recipient{ID: "R00001", Name: "鈴木 健太", Kana: "スズキ ケンタ", Email: "kenta.suzuki@example.jp", Phone: "+819012345678"}
		}
		out = append(out, r)
	}
	return out, nil
}

// knownList is the reference fakeLists resolves.
const knownList = "sha256:3f2a9c"

var knownRef = recipients.ListRef{Location: "3f/3f2a9c", SHA256: "3f2a9c", Count: 53}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var jst = time.FixedZone("JST", 9*3600)

// harness is the dispatcher behind its HTTP routes, talking to the
// sandbox's Slack simulator, which also plays the users.
type harness struct {
	t        testing.TB
	temporal *fakeTemporal
	sb       *sandbox.Sandbox
	api      *slack.Client
	bot      *slackbot.Dispatcher
	engine   *httptest.Server
	sbURL    string
	clock    *clock
}

type options struct {
	declarers, approvers []string
	sandboxMode          bool
	syncWait             time.Duration
	extraUsers           int // members added to C0APPROVERS before bob (paging)
	mutate               func(*slackbot.Config)
}

func defaultOptions() options {
	return options{declarers: []string{respondersGroup, carol}, approvers: []string{approversChannel}}
}

func newHarness(t testing.TB, o options) *harness {
	var engineH, sbH http.Handler
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { engineH.ServeHTTP(w, r) }))
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sbH.ServeHTTP(w, r) }))

	users := []sandbox.SlackUser{{ID: alice, Name: "alice"}, {ID: bob, Name: "bob"}, {ID: mallory, Name: "mallory"}, {ID: carol, Name: "carol"}}
	approverMembers := []string{}
	for i := range o.extraUsers {
		id := fmt.Sprintf("U1%06d", i)
		users = append(users, sandbox.SlackUser{ID: id, Name: strings.ToLower(id)})
		approverMembers = append(approverMembers, id)
	}
	approverMembers = append(approverMembers, bob)
	sb, err := sandbox.New(sandbox.Config{
		EngineURL: engine.URL, SandboxURL: sbSrv.URL,
		// Slack's 3 s trigger window is real time; on a loaded 2-core
		// machine under -race a test can take longer than that without the
		// code being slow. Latency is measured by BenchmarkSlashCommandAck.
		SlackTriggerTTL: time.Minute,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		HTTPClient:      &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}},
		Scenario: sandbox.Scenario{Slack: sandbox.SlackWorkspace{
			Users:  users,
			Groups: []sandbox.SlackGroup{{ID: respondersGroup, Handle: "responders", Users: []string{alice}}},
			Channels: []sandbox.SlackChannel{
				{ID: incidentChannel, Name: "incident", Members: []string{alice, bob, mallory, carol}},
				{ID: approversChannel, Name: "approvers", Members: approverMembers},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sbH = sb.Handler()
	api := slack.New(sandbox.SlackBotToken, slack.OptionAPIURL(sbSrv.URL+"/slack/api/"),
		slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}))
	ft := &fakeTemporal{}
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, jst)}
	cfg := slackbot.Config{
		Slack: api, Temporal: ft, Lists: fakeLists{knownList: knownRef}, TaskQueue: "breachflow-test",
		SigningSecret: sandbox.SlackSigningSecret, Declarers: o.declarers, Approvers: o.approvers, Sandbox: o.sandboxMode,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now, SyncWait: o.syncWait,
		ResponseURLBases: []string{sandbox.SlackResponseURLBase(sbSrv.URL)},
	}
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	bot, err := slackbot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	bot.Routes(mux.Handle)
	engineH = mux
	t.Cleanup(func() {
		bot.Close()
		sb.Close()
		engine.Close()
		sbSrv.Close()
	})
	return &harness{t: t, temporal: ft, sb: sb, api: api, bot: bot, engine: engine, sbURL: sbSrv.URL, clock: clk}
}

// slash runs a slash command as user in the incident channel.
func (h *harness) slash(user, text string) *sandbox.SlackResponse {
	h.t.Helper()
	resp, err := h.sb.SlashCommand(context.Background(), user, incidentChannel, "/breach "+text)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// ackText is the text of an ephemeral acknowledgement ("" for an empty one).
func ackText(t testing.TB, r *sandbox.SlackResponse) string {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", r.StatusCode, r.Body)
	}
	if len(strings.TrimSpace(string(r.Body))) == 0 {
		return ""
	}
	var m slackbot.Message
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer %q: %v", r.Body, err)
	}
	if m.ResponseType != "ephemeral" {
		t.Errorf("response_type = %q, want ephemeral (nothing is shown to the channel)", m.ResponseType)
	}
	return m.Text
}

// lastView returns the latest modal opened.
func (h *harness) lastView() sandbox.SlackView {
	h.t.Helper()
	vs := h.sb.SlackViews()
	if len(vs) == 0 {
		h.t.Fatal("no modal was opened")
	}
	return vs[len(vs)-1]
}

// ephemeralsTo returns the ephemeral texts shown to user, after the
// background work has ended.
func (h *harness) ephemeralsTo(user string) []string {
	h.bot.Wait()
	var out []string
	for _, e := range h.sb.SlackEphemerals() {
		if e.User == user {
			out = append(out, e.Text)
		}
	}
	return out
}

func (h *harness) callsOf(method string) []call {
	var out []call
	for _, c := range h.temporal.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
