package frontdoor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/serviceerror"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/workflows"
)

// BroadcastEvent is the part of a SendGrid event a Broadcast needs. The
// custom args of broadcast mails (activities.ArgBroadcastID,
// ArgRecipientID, ArgTest) arrive as top-level keys: opaque IDs only.
type BroadcastEvent struct {
	Event       string `json:"event"`
	EventID     string `json:"sg_event_id"`
	BroadcastID string `json:"breachflow_broadcast"`
	RecipientID string `json:"breachflow_recipient"`
	Batch       string `json:"breachflow_batch"`
	Test        string `json:"breachflow_test"`
}

// BroadcastDelivery turns a SendGrid event into the signal for its
// Broadcast. ok is false when the event is not about a live broadcast
// message (a test send, a recall mail) or not a bounce or drop: a
// broadcast counts who could not be reached, and a million "delivered"
// signals would only fill its history.
func BroadcastDelivery(e BroadcastEvent) (workflowID string, d workflows.BroadcastDelivery, ok bool) {
	if e.BroadcastID == "" || e.Test != "" || e.EventID == "" || !strings.Contains(e.BroadcastID, "/broadcast/") {
		return "", d, false
	}
	if _, err := recipients.ParseRecipientID(e.RecipientID); err != nil {
		return "", d, false
	}
	switch e.Event {
	case "bounce":
		d.Kind = workflows.DeliveryBounced
	case "dropped":
		d.Kind = workflows.DeliveryDropped
	default:
		return "", d, false
	}
	d.RecipientID, d.EventID = e.RecipientID, e.EventID
	return e.BroadcastID, d, true
}

// ApplyBroadcastEvent signals a broadcast's bounce or drop to its
// Broadcast workflow, once per SendGrid event ID; anything else is
// ignored. A Broadcast that has ended is not an error.
//
// The SendGrid webhook calls it for every verified event that names no
// Recall (sendgrid.go).
func (s *Server) ApplyBroadcastEvent(ctx context.Context, e BroadcastEvent) error {
	id, d, ok := BroadcastDelivery(e)
	if !ok {
		return nil
	}
	done, first, err := s.sgEvents.Claim(ctx, e.EventID)
	if err != nil {
		return fmt.Errorf("wait for an earlier delivery of event %s: %w", e.EventID, err)
	}
	if !first {
		return nil // applied by an earlier delivery
	}
	err = s.cfg.Temporal.SignalWorkflow(ctx, id, "", workflows.SignalBroadcastDelivery, d)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		err = nil // the broadcast has ended
	}
	done(err == nil)
	if err != nil {
		return fmt.Errorf("signal broadcast %s: %w", id, err)
	}
	return nil
}
