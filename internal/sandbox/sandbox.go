// Package sandbox simulates the provider APIs breachflow talks to (SendGrid
// mail send, Twilio voice and SMS, the Slack Web API) and the people at the
// other end of them.
//
// The simulators speak the real wire formats, so the engine uses the
// official SDK clients unchanged, pointed at the sandbox:
//
//	SendGrid: sendgrid.GetRequest(key, "/v3/mail/send", sandboxURL+"/sendgrid")
//	Twilio:   an http.Client whose transport is twilioroute.Transport(sandboxURL+"/twilio", nil)
//	Slack:    slack.OptionAPIURL(sandboxURL + "/slack/api/")
//
// Requests are validated the way the real API would validate them and every
// accepted request is recorded. Simulated recipients ("personas", chosen per
// address or number by a Scenario) then call the engine's webhooks with valid
// signatures: SendGrid's ECDSA-signed event webhook, Twilio's X-Twilio-Signature
// callbacks and Slack's signed slash commands and interactions. The engine
// therefore runs its full verify-then-signal path in demos and tests.
//
// The sandbox's own inspection API lives under /sim/ (GET /sim/stats,
// GET /sim/outbox, ...). It shows addresses and numbers: it is a local
// simulator whose recipients are fictitious. Logs never show them.
package sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sandbox-default credentials. They are alphanumeric because twilio-go
// rejects anything else before sending. They are public and only good for
// the sandbox.
const (
	// TwilioAccountSID is the sandbox's Twilio account SID.
	TwilioAccountSID = "ACsandbox00000000000000000000000000"
	// TwilioAuthToken is the sandbox's Twilio auth token; it signs webhooks.
	TwilioAuthToken = "sandboxauthtoken0000000000000000"
	// TwilioFromNumber is the caller ID the sandbox expects by default.
	TwilioFromNumber = "+15005550006"
	// SendGridAPIKey is a SendGrid API key the sandbox accepts. Any non-empty
	// key is accepted unless Config.SendGridAPIKey is set.
	SendGridAPIKey = "SG.sandbox.sandbox"
	// SlackBotToken is the sandbox's Slack bot token.
	SlackBotToken = "xoxb-sandbox-0000-0000"
	// SlackSigningSecret is the sandbox's Slack signing secret.
	SlackSigningSecret = "sandboxsigningsecret0000000000000"
	// SlackTeamID is the workspace ID the sandbox reports.
	SlackTeamID = "T0SANDBOX"
	// SlackBotUserID is the bot user the sandbox reports from auth.test.
	SlackBotUserID = "U0SANDBOXBOT"
)

// Config configures a Sandbox. Empty credentials take the sandbox defaults
// above.
type Config struct {
	// EngineURL is the public base URL of the engine (`starter serve`), to
	// which simulated recipients send webhooks, e.g. http://127.0.0.1:8080.
	EngineURL string
	// TwilioAccountSID and TwilioAuthToken are the credentials the Twilio
	// simulator accepts; the token also signs its webhooks.
	TwilioAccountSID, TwilioAuthToken string
	// SlackBotToken is the only token the Slack simulator accepts;
	// SlackSigningSecret signs slash commands and interactions.
	SlackBotToken, SlackSigningSecret string
	// SandboxURL is the base URL at which the engine reaches the sandbox;
	// it is used in Slack response_url values. Empty means
	// http://127.0.0.1:8090 (Run sets it from its listener when empty).
	SandboxURL string
	// SlackTriggerTTL is how long a trigger_id can open a view; 0 means
	// Slack's 3 s. Tests on loaded machines may lengthen it.
	SlackTriggerTTL time.Duration
	// SendGridWebhookPrivateKey signs the SendGrid event webhook (base64
	// PKCS#8, P-256). Empty generates a key at start; a fixed key lets a
	// separately started front door verify (config.SandboxSendGridWebhook*).
	SendGridWebhookPrivateKey string
	// SendGridAPIKey, when set, is the only accepted SendGrid key; when
	// empty, any non-empty Bearer key is accepted.
	SendGridAPIKey string
	// Scenario chooses personas per recipient and defines Slack users.
	Scenario Scenario
	// TimeScale divides every persona delay: 60 turns a minute of simulated
	// delay into one second of real time. 0 means the scenario's time_scale,
	// or 1 if that is unset too.
	TimeScale float64
	// FailureRate is the share (0..1) of provider API calls answered with an
	// injected failure: 429 with Retry-After / X-RateLimit-Reset, a 5xx, or a
	// timeout (the request is processed but the answer never comes, which is
	// the ambiguous failure that causes duplicates).
	FailureRate float64
	// Logger receives the sandbox's logs; nil means slog.Default().
	Logger *slog.Logger
	// HTTPClient makes the simulated recipients' requests to the engine; nil
	// means a client with a 15 s timeout.
	HTTPClient *http.Client
}

// Sandbox is the set of provider simulators and simulated recipients. Create
// it with New, serve Handler, and Close it to stop every simulated recipient.
type Sandbox struct {
	cfg       Config
	engineURL string
	log       *slog.Logger
	scale     float64
	http      *http.Client
	sgKey     *ecdsa.PrivateKey
	sgPub     string
	failures  *failureInjector
	scenario  *compiledScenario

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sem    chan struct{} // bounds concurrent webhook deliveries to the engine
	// webhookBackoff is the first retry delay of webhook deliveries.
	webhookBackoff time.Duration

	mu          sync.Mutex
	closed      bool
	outbox      []OutboxMessage
	email       map[string]*EmailStats // by lower-cased address
	emailTotals EmailTotals

	twilio  *twilioState
	slack   *slackState
	emailDK map[string]int // duplicate key -> count

	handler http.Handler
}

// New validates cfg and builds a Sandbox. It generates the ECDSA key that
// signs SendGrid event webhooks.
func New(cfg Config) (*Sandbox, error) {
	if cfg.EngineURL == "" {
		return nil, errors.New("sandbox: EngineURL is required")
	}
	if cfg.FailureRate < 0 || cfg.FailureRate > 1 {
		return nil, fmt.Errorf("sandbox: FailureRate %v is outside 0..1", cfg.FailureRate)
	}
	if cfg.TimeScale < 0 {
		return nil, fmt.Errorf("sandbox: TimeScale %v is negative", cfg.TimeScale)
	}
	if cfg.TwilioAccountSID == "" {
		cfg.TwilioAccountSID = TwilioAccountSID
	}
	if cfg.TwilioAuthToken == "" {
		cfg.TwilioAuthToken = TwilioAuthToken
	}
	if cfg.SlackBotToken == "" {
		cfg.SlackBotToken = SlackBotToken
	}
	if cfg.SlackSigningSecret == "" {
		cfg.SlackSigningSecret = SlackSigningSecret
	}
	sc, err := compileScenario(cfg.Scenario)
	if err != nil {
		return nil, fmt.Errorf("sandbox: scenario: %w", err)
	}
	key, err := webhookKey(cfg.SendGridWebhookPrivateKey)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("sandbox: marshal event webhook key: %w", err)
	}
	scale := cfg.TimeScale
	if scale == 0 {
		scale = cfg.Scenario.TimeScale
	}
	if scale <= 0 {
		scale = 1
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sandbox{
		cfg:            cfg,
		engineURL:      strings.TrimRight(cfg.EngineURL, "/"),
		log:            log.With("component", "sandbox"),
		scale:          scale,
		http:           hc,
		sgKey:          key,
		sgPub:          base64.StdEncoding.EncodeToString(der),
		failures:       newFailureInjector(cfg.FailureRate),
		scenario:       sc,
		ctx:            ctx,
		cancel:         cancel,
		sem:            make(chan struct{}, 8),
		webhookBackoff: webhookBackoff,
		email:          map[string]*EmailStats{},
		emailDK:        map[string]int{},
	}
	s.twilio = newTwilioState()
	s.slack = newSlackState(cfg.Scenario.Slack)
	s.handler = s.routes()
	return s, nil
}

// Handler serves the provider APIs (/sendgrid/, /twilio/, /slack/api/) and
// the inspection API (/sim/).
func (s *Sandbox) Handler() http.Handler { return s.handler }

// SendGridPublicKey returns the base64 DER (PKIX) ECDSA P-256 public key that
// verifies the sandbox's event webhooks, as SendGrid shows it in its console.
func (s *Sandbox) SendGridPublicKey() string { return s.sgPub }

// webhookKey parses the configured event-webhook signing key (base64
// PKCS#8, P-256), or generates one when none is configured.
func webhookKey(b64 string) (*ecdsa.PrivateKey, error) {
	if b64 == "" {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("sandbox: generate event webhook key: %w", err)
		}
		return key, nil
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("sandbox: event webhook key: not base64: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("sandbox: event webhook key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("sandbox: event webhook key: want an ECDSA P-256 key")
	}
	return ek, nil
}

// TimeScale returns the effective time scale (persona delays are divided by it).
func (s *Sandbox) TimeScale() float64 { return s.scale }

// Close stops every simulated recipient and waits for their goroutines.
// Requests accepted afterwards are recorded but trigger no recipient.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.http.CloseIdleConnections()
}

// spawn runs f in a goroutine tracked by Close. It reports false, and does
// not run f, once the sandbox is closed.
func (s *Sandbox) spawn(f func(ctx context.Context)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.ctx)
	}()
	return true
}

// scaled converts a simulated delay to real time.
func (s *Sandbox) scaled(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) / s.scale)
}

// sleep waits for the scaled simulated delay d; false means ctx ended first.
func (s *Sandbox) sleep(ctx context.Context, d time.Duration) bool {
	return sleepReal(ctx, s.scaled(d))
}

// sleepReal waits for d of real time; false means ctx ended first.
func sleepReal(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	provider := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, s.failures.wrap(s.ctx, h))
	}
	provider("POST /sendgrid/v3/mail/send", s.handleMailSend)
	s.twilioRoutes(provider)
	s.slackRoutes(provider)
	mux.HandleFunc("GET /sim/stats", s.handleStats)
	mux.HandleFunc("GET /sim/outbox", s.handleOutbox)
	mux.HandleFunc("GET /sim/calls", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"calls": s.Calls()})
	})
	mux.HandleFunc("GET /sim/messages", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"messages": s.Messages()})
	})
	mux.HandleFunc("GET /sim/slack", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"messages":   s.SlackMessages(),
			"ephemerals": s.SlackEphemerals(),
			"views":      s.SlackViews(),
			"calls":      s.SlackCalls(),
			"responses":  s.SlackResponseURLPosts(),
		})
	})
	s.simSlackRoutes(mux)
	return mux
}
