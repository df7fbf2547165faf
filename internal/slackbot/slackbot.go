// Package slackbot is breachflow's Slack front end: the /breach slash
// command (declare, status, list, facts, prevention, notices, broker,
// close, help), the declaration modal, and the buttons of the incident message,
// of broadcasts and of broker-demand notices, each of which becomes a
// workflow Update (those needing more input through a modal).
//
// A transport-independent Dispatcher takes a slack.SlashCommand or a
// slack.InteractionCallback and returns the acknowledgement to send. Two
// adapters feed it: HTTP (Routes, every request verified with the signing
// secret on the raw body before anything is parsed) and Socket Mode
// (RunSocketMode). Every request is answered within Slack's 3 seconds
// whatever Temporal is doing: slow work runs in the background and reports
// its outcome ephemerally.
//
// Authorization is checked on the server for every request: declarers
// (responders) may declare, look incidents up and press the responder
// buttons (tasks, recipients, facts, notices, brokers, proposing that an
// obligation is not required); approvers may approve broadcasts, resume
// them, review not-required proposals, record regulator filings, the
// prevention report and escalations to the regulator or the police, and
// close incidents.
// Every human action carries the Slack user ID into the workflow history.
//
// Nothing posted to Slack names a person: messages show incident IDs,
// runbooks, phases, opaque recipient IDs and counts.
package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Temporal is the part of client.Client the dispatcher uses; client.Client
// satisfies it, and tests use an in-memory fake.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
}

var _ Temporal = client.Client(nil)

// Lists resolves a recipient-list reference, as printed by
// `starter recipients put`, to the stored list.
type Lists interface {
	Resolve(ctx context.Context, ref string) (recipients.ListRef, error)
	// Page reads the list, to check what a responder typed against it.
	Page(ctx context.Context, ref recipients.ListRef, offset, limit int) ([]recipients.Recipient, error)
}

// Config is what the dispatcher needs. Slack, Temporal and SigningSecret
// are required (SigningSecret only for the HTTP adapter).
type Config struct {
	// Slack is the Web API client (real Slack or the sandbox).
	Slack *slack.Client
	// Runbooks are the organisation's own runbooks, offered in the declare
	// form beside the built-ins (already validated; IDs must not collide).
	Runbooks []runbooks.Snapshot
	Temporal Temporal
	// Lists resolves recipient-list references; nil refuses every
	// reference (and so every runbook with a recall phase).
	Lists     Lists
	TaskQueue string // default workflows.DefaultTaskQueue
	// SigningSecret verifies HTTP requests (SLACK_SIGNING_SECRET).
	SigningSecret string
	// Declarers may declare incidents, look them up and press the
	// responder buttons; Approvers may approve broadcasts and record
	// filings. Each entry is a Slack ID: a user (U…/W…), a user group (S…)
	// or a channel (C…/G…) whose members are allowed. See ParseAllowlist.
	Declarers, Approvers []string
	// Sandbox makes an empty allowlist allow everyone (demos); otherwise
	// an empty allowlist allows nobody.
	Sandbox bool
	// ApprovalKey, the front door's approver key (ID "slack",
	// BREACHFLOW_SLACK_APPROVAL_KEY_FILE), signs the approvals made in
	// Slack once Slack's signature and the approver allowlist are checked,
	// so the Broadcast can tell them from a forged update.
	ApprovalKey *approvals.Key
	Logger      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Location is the time zone of the date and time pickers (Asia/Tokyo,
	// or a fixed JST zone when the tz database is missing, when nil).
	Location *time.Location
	// HTTPClient posts to response_url; nil means a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// ResponseURLBases are the only places a response_url from a request
	// is followed (after the user is authorized): DefaultResponseURLBase
	// when empty; the sandbox's hooks in sandbox mode.
	ResponseURLBases []string
	// SocketModeAPIURL is the Web API base URL the Socket Mode adapter
	// opens its connection through (slack.APIURL when empty).
	SocketModeAPIURL string

	// MembershipTTL is how long group and channel memberships are cached
	// (default 60 s).
	MembershipTTL time.Duration
	// SyncWait is how long status and list wait for Temporal before
	// acknowledging and answering later through response_url, and how long
	// the close modal waits for the Incident's answer before closing and
	// telling it ephemerally (default 1.5 s).
	SyncWait time.Duration
	// DeclareTimeout bounds starting an Incident after a valid submission
	// (default 20 s); UpdateTimeout bounds one button's Update (default 10 s).
	DeclareTimeout, UpdateTimeout time.Duration
}

// Ack is the answer to one Slack request, sent within Slack's 3 seconds:
// over HTTP it is the response body, in Socket Mode the ack payload.
type Ack struct {
	// Payload is sent as JSON; nil is an empty acknowledgement (which, for
	// a view submission, closes the modal).
	Payload any
}

// Time budgets within Slack's 3-second window.
const (
	// authBudget bounds an authorization check done before answering.
	authBudget = time.Second
	// openBudget bounds views.open: the trigger_id expires 3 s after the
	// user's action.
	openBudget = 1500 * time.Millisecond
	// resolveBudget bounds resolving a list reference during validation.
	resolveBudget = time.Second
)

// Dispatcher turns Slack requests into modals, workflow starts, queries
// and Updates. Build it with New; Close it to stop its background work.
type Dispatcher struct {
	cfg   Config
	log   *slog.Logger
	authz *authorizer
	hc    *http.Client
	// responseBases are Config.ResponseURLBases, parsed.
	responseBases []*url.URL
	cat           catalog // the runbooks the declare form offers

	ctx    context.Context // background work; canceled by Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// New validates cfg and builds a Dispatcher.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Slack == nil || cfg.Temporal == nil {
		return nil, errors.New("slackbot: a Slack client and a Temporal client are required")
	}
	for _, list := range [][]string{cfg.Declarers, cfg.Approvers} {
		for _, id := range list {
			if _, err := kindOf(id); err != nil {
				return nil, fmt.Errorf("slackbot: %w", err)
			}
		}
	}
	if cfg.TaskQueue == "" {
		cfg.TaskQueue = workflows.DefaultTaskQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = defaultLocation()
	}
	if cfg.MembershipTTL <= 0 {
		cfg.MembershipTTL = 60 * time.Second
	}
	if cfg.SyncWait <= 0 {
		cfg.SyncWait = 1500 * time.Millisecond
	}
	if cfg.DeclareTimeout <= 0 {
		cfg.DeclareTimeout = 20 * time.Second
	}
	if cfg.UpdateTimeout <= 0 {
		cfg.UpdateTimeout = 10 * time.Second
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	bases := cfg.ResponseURLBases
	if len(bases) == 0 {
		bases = []string{DefaultResponseURLBase}
	}
	var responseBases []*url.URL
	for _, b := range bases {
		u, err := url.Parse(b)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("slackbot: response URL base %q is not an http(s) URL", b)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		responseBases = append(responseBases, u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{cfg: cfg, log: cfg.Logger.With("component", "slackbot"), hc: hc, ctx: ctx, cancel: cancel, responseBases: responseBases}
	d.authz = newAuthorizer(cfg.Slack, cfg.Declarers, cfg.Approvers, cfg.Sandbox, cfg.MembershipTTL, cfg.Now)
	// Load the runbooks now, not in the first request's 3 seconds.
	cat, err := newCatalog(cfg.Runbooks)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("slackbot: %w", err)
	}
	if len(cat.ids) == 0 {
		cancel()
		return nil, errors.New("slackbot: no runbook could be loaded")
	}
	d.cat = cat
	return d, nil
}

// Close cancels the background work (declarations, Updates, late answers)
// and waits for it to end.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}

// Wait waits until the background work started so far has ended, without
// canceling it (tests, graceful shutdown).
func (d *Dispatcher) Wait() { d.wg.Wait() }

// spawn runs f in the background with a context bounded by timeout. It
// reports false, and does not run f, once the dispatcher is closed.
func (d *Dispatcher) spawn(timeout time.Duration, f func(ctx context.Context)) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		ctx, cancel := context.WithTimeout(d.ctx, timeout)
		defer cancel()
		defer func() {
			if v := recover(); v != nil {
				d.log.Error("slackbot: panic in background work", "panic", fmt.Sprint(v))
			}
		}()
		f(ctx)
	}()
	return true
}

func (d *Dispatcher) now() time.Time { return d.cfg.Now() }

// defaultLocation is Asia/Tokyo, or a fixed JST zone without a tz database.
func defaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*3600)
}
