package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
)

// DeletionRequest asks one recipient, on one channel, to delete what they
// received by mistake.
type DeletionRequest struct {
	IncidentID       string             `json:"incident_id"`
	RecipientID      string             `json:"recipient_id"`
	RecallWorkflowID string             `json:"recall_workflow_id"`
	List             recipients.ListRef `json:"list"`
	Attempt          int                `json:"attempt"` // 1 = first request, 2+ = reminders
	// Message is the runbook's words for what was received and what to
	// delete; Sent what was sent, and when.
	Message runbooks.RecallMessage `json:"message"`
	Sent    SentMessage            `json:"sent,omitzero"`
}

// SentMessage is the message sent by mistake, as the incident's facts
// describe it (no personal data): its subject, when it went out, what it
// held, and the zone the date is written in.
type SentMessage struct {
	Subject  string    `json:"subject,omitempty"`
	At       time.Time `json:"at,omitzero"`
	What     string    `json:"what,omitempty"`
	TimeZone string    `json:"time_zone,omitempty"`
}

// SendResult says what a provider accepted.
type SendResult struct {
	MessageID string `json:"message_id"`
}

// Custom args put on every deletion-request e-mail; SendGrid echoes them in
// event webhooks, which is how events find their Recall. Opaque IDs only.
const (
	ArgIncidentID = "breachflow_incident"
	ArgRecallID   = "breachflow_recall"
	ArgAttempt    = "breachflow_attempt"
	ArgRequestKey = "request_key"
)

// EmailDeletionRequest sends the deletion-request e-mail to exactly one
// person, with a signed confirmation link. A recipient without an e-mail
// address gives a non-retryable ErrTypeNoAddress.
func (a *Activities) EmailDeletionRequest(ctx context.Context, in DeletionRequest) (SendResult, error) {
	r, err := a.recipient(ctx, in.List, in.RecipientID)
	if err != nil {
		return SendResult{}, err
	}
	if r.Email == "" {
		return SendResult{}, temporal.NewNonRetryableApplicationError("recipient "+in.RecipientID+" has no e-mail address", ErrTypeNoAddress, nil)
	}
	token, err := a.Links.Sign(linktoken.Claims{
		WorkflowID: in.RecallWorkflowID, Purpose: linktoken.PurposeEmailConfirm,
		Attempt: in.Attempt, Expires: a.now().Add(a.linkTTL()),
	})
	if err != nil {
		return SendResult{}, fmt.Errorf("sign confirmation link: %w", err)
	}
	link := a.PublicURL + "/confirm/" + token
	subject, text, html := deletionRequestEmail(a.org(), in, r.Name, link)

	m := mail.NewV3Mail()
	m.SetFrom(a.from())
	m.Subject = subject
	m.AddContent(mail.NewContent("text/plain", text), mail.NewContent("text/html", html))
	p := mail.NewPersonalization()
	p.AddTos(mail.NewEmail(r.Name, r.Email)) // exactly one recipient per message
	m.AddPersonalizations(p)
	m.SetCustomArg(ArgIncidentID, in.IncidentID)
	m.SetCustomArg(ArgRecallID, in.RecallWorkflowID)
	m.SetCustomArg(ArgAttempt, strconv.Itoa(in.Attempt))
	m.SetCustomArg(ArgRequestKey, in.RecallWorkflowID+"#email#"+strconv.Itoa(in.Attempt))
	m.AddCategories("breachflow-recall")
	// Click tracking would rewrite the confirmation link.
	m.SetTrackingSettings(mail.NewTrackingSettings().SetClickTracking(mail.NewClickTrackingSetting().SetEnable(false)))

	id, err := a.Mail.Send(ctx, m)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		// Returned as is: the SDK reads the type, non-retryability and
		// retry delay only from an application error at the top.
		return SendResult{}, appErr
	}
	if err != nil {
		return SendResult{}, fmt.Errorf("e-mail deletion request %s attempt %d: %w", in.RecipientID, in.Attempt, err)
	}
	activity.GetLogger(ctx).Info("deletion request e-mailed", "recipient", in.RecipientID, "attempt", in.Attempt, "message_id", id)
	return SendResult{MessageID: id}, nil
}

func (a *Activities) recipient(ctx context.Context, ref recipients.ListRef, id string) (recipients.Recipient, error) {
	r, err := a.Lists.Get(ctx, ref, id)
	if err != nil {
		if errors.Is(err, recipients.ErrFingerprint) {
			return r, temporal.NewNonRetryableApplicationError("recipient list does not match its fingerprint", ErrTypeListTampered, err)
		}
		return r, fmt.Errorf("look up recipient %s in %s: %w", id, ref, err)
	}
	return r, nil
}

// org is the organisation as its requests name it: the configured name
// and desk (BREACHFLOW_ORG_NAME, BREACHFLOW_CONTACT_*), else the sender's
// name.
func (a *Activities) org() runbooks.NoticeData {
	o := a.Org
	if strings.TrimSpace(o.Organization) == "" {
		o.Organization = a.Sender.Name
	}
	return o
}

// FromAddress is the sender of our e-mails.
type FromAddress struct{ Name, Email string }

// from returns the sender as a SendGrid address.
func (a *Activities) from() *mail.Email {
	return mail.NewEmail(a.Sender.Name, a.Sender.Email)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// LookupRequest names one recipient of a stored list.
type LookupRequest struct {
	List        recipients.ListRef `json:"list"`
	RecipientID string             `json:"recipient_id"`
}

// LookupRecipient returns a recipient's contact details, so the people
// allowed to decrypt histories (codec server) see whom a Recall is about.
// The result is personal data: it lives only in encrypted payloads.
func (a *Activities) LookupRecipient(ctx context.Context, in LookupRequest) (recipients.Recipient, error) {
	return a.recipient(ctx, in.List, in.RecipientID)
}
