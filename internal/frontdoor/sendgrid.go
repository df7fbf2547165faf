package frontdoor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"go.temporal.io/api/serviceerror"

	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// sendgridEvent is the part of a SendGrid event we read. Custom args arrive
// as top-level keys.
type sendgridEvent struct {
	Event     string `json:"event"`
	EventID   string `json:"sg_event_id"`
	Timestamp int64  `json:"timestamp"`
	RecallID  string `json:"breachflow_recall"`
	Attempt   string `json:"breachflow_attempt"`
	// Broadcast notices carry these instead of a recall.
	BroadcastID string `json:"breachflow_broadcast"`
	RecipientID string `json:"breachflow_recipient"`
	Batch       string `json:"breachflow_batch"`
	Test        string `json:"breachflow_test"`
}

// sendgridEvents receives SendGrid's event webhook: verified with the
// ECDSA signature over the raw body, inside a time window, deduplicated by
// sg_event_id; bounces and drops are then signalled to the Recall (or the
// Broadcast) named in the custom args.
func (s *Server) sendgridEvents(w http.ResponseWriter, r *http.Request) {
	if s.sgKey == nil {
		http.Error(w, "event webhook not configured", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventsBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	sig := r.Header.Get(eventwebhook.VerificationHTTPHeader)
	ts := r.Header.Get(eventwebhook.TimestampHTTPHeader)
	if !s.freshTimestamp(ts) {
		http.Error(w, "stale or missing timestamp", http.StatusUnauthorized)
		return
	}
	if ok, err := eventwebhook.VerifySignature(s.sgKey, body, sig, ts); err != nil || !ok {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	var events []sendgridEvent
	if err := json.Unmarshal(body, &events); err != nil {
		http.Error(w, "body is not a JSON array of events", http.StatusBadRequest)
		return
	}
	for _, e := range events {
		if err := s.applySendGridEvent(r, e); err != nil {
			// A non-2xx makes SendGrid retry the whole batch; the workflows
			// dedupe what was already applied.
			s.cfg.Logger.Error("apply sendgrid event", "event_id", e.EventID, "error", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) freshTimestamp(ts string) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := s.cfg.Now().Sub(time.Unix(n, 0))
	return d < SendGridWindow && d > -SendGridWindow
}

func (s *Server) applySendGridEvent(r *http.Request, e sendgridEvent) error {
	var kind workflows.DeliveryKind
	switch e.Event {
	case "bounce":
		kind = workflows.DeliveryBounced
	case "dropped":
		kind = workflows.DeliveryDropped
	case "delivered":
		// Not signalled: it changes nothing a Recall or a Broadcast acts on
		// (the send's answer already says the provider took the message,
		// and a confirmation proves it arrived), and one signal per message
		// would cost each Recall a workflow task.
		return nil
	default:
		return nil // processed, deferred, open, click, ...: not needed
	}
	if e.RecallID == "" {
		return s.ApplyBroadcastEvent(r.Context(), BroadcastEvent{Event: e.Event, EventID: e.EventID, BroadcastID: e.BroadcastID,
			RecipientID: e.RecipientID, Batch: e.Batch, Test: e.Test})
	}
	if e.EventID == "" {
		return nil
	}
	done, first, err := s.sgEvents.Claim(r.Context(), e.EventID)
	if err != nil {
		return fmt.Errorf("wait for an earlier delivery of event %s: %w", e.EventID, err)
	}
	if !first {
		return nil // applied by an earlier delivery
	}
	attempt, _ := strconv.Atoi(e.Attempt)
	err = s.cfg.Temporal.SignalWorkflow(r.Context(), e.RecallID, "", workflows.SignalDelivery, workflows.DeliveryEvent{
		Channel: runbooks.ChannelEmail, Kind: kind, Attempt: attempt,
		Evidence: workflows.Evidence{Source: "sendgrid", EventID: e.EventID, ReceivedAt: s.cfg.Now().UTC()},
	})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		err = nil // the recall is over; nothing to tell it
	}
	done(err == nil)
	return err
}
