// Package frontdoor is the HTTP front door of breachflow (`starter serve`):
// confirmation links, provider webhooks and Slack. Every request is verified
// (signature, token, time window, size) before it touches a workflow, and
// turns into a Signal or Update to a workflow ID that carries no personal
// data. A request applies once however often it comes: each is
// deduplicated on what its sender signs (the link token; Twilio's CallSid
// or MessageSid with the status or key pressed; SendGrid's sg_event_id), so
// a replay costs no signal, and a confirmation link is checked against the
// Recall's state before it signals (which survives a restart). Late and
// out-of-order deliveries are harmless: the workflows dedupe too.
package frontdoor

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"github.com/twilio/twilio-go/client"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// Signaler sends signals to workflows; client.Client implements it.
type Signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// VoiceScripts gives the script of a call about a Recall.
type VoiceScripts interface {
	Script(ctx context.Context, recallWorkflowID string) (activities.VoiceScript, error)
}

// Config is what the front door needs.
type Config struct {
	Temporal Signaler
	Links    *linktoken.Signer
	// SendGridPublicKey is the base64 DER ECDSA key of the event webhook.
	SendGridPublicKey string
	// PublicURL is the URL providers call (BREACHFLOW_PUBLIC_URL); Twilio
	// signatures are computed over it.
	PublicURL string
	// TwilioAuthToken verifies X-Twilio-Signature; empty disables the
	// Twilio webhooks.
	TwilioAuthToken string
	// Voice says what a call about a Recall says (the organisation's
	// voice, the runbook's words); nil, or a failure, falls back to the
	// generic words of the catalogue with Org's name.
	Voice VoiceScripts
	// Org is the organisation and its desk (BREACHFLOW_ORG_NAME,
	// BREACHFLOW_CONTACT_*), for the fallback.
	Org runbooks.NoticeData
	// Recalls tells whether a Recall already holds a confirmation, so that
	// a replayed link costs no signal even after a restart (query before
	// signal); nil: only the in-memory dedupe.
	Recalls RecallStates
	Logger  *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is the front door's http.Handler.
type Server struct {
	cfg        Config
	sgKey      *ecdsa.PublicKey
	twilio     *client.RequestValidator
	mux        *http.ServeMux
	sgEvents   *seenSet
	twilioSeen *seenSet
	// links dedupes confirmation POSTs by their token.
	links   *seenSet
	scripts scriptCache
}

// Limits on inbound requests.
const (
	maxFormBody   = 64 << 10
	maxEventsBody = 8 << 20
	// SendGridWindow bounds the age of a signed event-webhook delivery.
	SendGridWindow = 10 * time.Minute
)

// New builds the front door.
func New(cfg Config) (*Server, error) {
	if cfg.Temporal == nil || cfg.Links == nil {
		return nil, fmt.Errorf("frontdoor: Temporal client and link signer are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), sgEvents: newSeenSet(100_000), twilioSeen: newSeenSet(100_000), links: newSeenSet(100_000)}
	if cfg.TwilioAuthToken != "" {
		v := client.NewRequestValidator(cfg.TwilioAuthToken)
		s.twilio = &v
	}
	if cfg.SendGridPublicKey != "" {
		k, err := parseECDSAKey(cfg.SendGridPublicKey)
		if err != nil {
			return nil, fmt.Errorf("frontdoor: SendGrid webhook public key: %w", err)
		}
		s.sgKey = k
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /confirm/{token}", s.confirmPage)
	s.mux.HandleFunc("POST /confirm/{token}", s.confirm)
	s.mux.HandleFunc("POST /webhooks/sendgrid/events", s.sendgridEvents)
	s.twilioRoutes()
	return s, nil
}

// Handle adds a route (used by the Slack and Twilio front doors).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler; it turns a panic into a 500 so no
// malformed input takes the server down.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Logger.Error("front door: panic in handler", "path", r.URL.Path, "panic", fmt.Sprint(v))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// parseECDSAKey parses a base64 DER PKIX key, refusing non-ECDSA keys
// (sendgrid-go's own helper panics on them).
func parseECDSAKey(b64 string) (k *ecdsa.PublicKey, err error) {
	defer func() {
		if recover() != nil {
			k, err = nil, fmt.Errorf("not an ECDSA public key")
		}
	}()
	return eventwebhook.ConvertPublicKeyBase64ToECDSA(b64)
}

// NewHTTPServer wraps a handler with the timeouts a public server needs.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
}

// RecallStates reads a Recall's status (RecallStatuses over a Temporal
// client).
type RecallStates interface {
	RecallStatus(ctx context.Context, recallWorkflowID string) (workflows.RecallStatus, error)
}

// RecallStatuses reads Recalls' status with queries.
func RecallStatuses(q Querier) RecallStates { return recallStates{q} }

type recallStates struct{ q Querier }

func (r recallStates) RecallStatus(ctx context.Context, id string) (workflows.RecallStatus, error) {
	var st workflows.RecallStatus
	v, err := r.q.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
	if err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	return st, nil
}

// stateBudget bounds the query before a signal: past it, the signal goes
// (the workflow drops a duplicate itself).
const stateBudget = 2 * time.Second

// confirmedBy reports whether the Recall already holds a confirmation on
// channel; false when it cannot be asked in time.
func (s *Server) confirmedBy(ctx context.Context, recallID string, channel runbooks.Confirmation) bool {
	if s.cfg.Recalls == nil {
		return false
	}
	qctx, cancel := context.WithTimeout(ctx, stateBudget)
	defer cancel()
	st, err := s.cfg.Recalls.RecallStatus(qctx, recallID)
	if err != nil {
		return false
	}
	for _, c := range st.Confirmations {
		if c.Channel == channel {
			return true
		}
	}
	return false
}

// tooLarge reports whether err is a body beyond its http.MaxBytesReader
// limit (SECURITY.md, "Input limits"): the answer is 413.
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
