package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
)

// DeletionRequest asks one recipient, on one channel, to delete what they
// received by mistake.
type DeletionRequest struct {
	IncidentID       string             `json:"incident_id"`
	RecipientID      string             `json:"recipient_id"`
	RecallWorkflowID string             `json:"recall_workflow_id"`
	List             recipients.ListRef `json:"list"`
	Attempt          int                `json:"attempt"` // 1 = first request, 2+ = reminders
	// What is a short, non-personal description of what to delete
	// (e.g. the incident title), shown in the message.
	What string `json:"what,omitempty"`
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
	subject, text, html := deletionRequestEmail(in, r.Name, link)

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

// FromAddress is the sender of our e-mails.
type FromAddress struct{ Name, Email string }

// from returns the sender as a SendGrid address.
func (a *Activities) from() *mail.Email {
	return mail.NewEmail(a.Sender.Name, a.Sender.Email)
}

func deletionRequestEmail(in DeletionRequest, name, link string) (subject, text, html string) {
	what := in.What
	if what == "" {
		what = "誤って送信されたメールおよび添付ファイル / the e-mail and attachment sent to you by mistake"
	}
	prefix := ""
	if in.Attempt > 1 {
		prefix = "【再送】"
	}
	subject = prefix + "【重要】誤送信メールの削除のお願い / Please delete an e-mail sent to you by mistake"
	greet := "お客様"
	if name != "" {
		greet = name + " 様"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", greet)
	b.WriteString("先日、当方の誤りにより、お客様宛てではない情報をお送りしてしまいました。深くお詫び申し上げます。\n")
	fmt.Fprintf(&b, "対象: %s\n\n", what)
	b.WriteString("大変お手数ですが、当該メールと添付ファイルを削除（ゴミ箱からも削除）していただき、下記のリンクから削除の完了をお知らせください。\n\n")
	fmt.Fprintf(&b, "%s\n\n", link)
	b.WriteString("We sent you, by mistake, information that was not meant for you. We sincerely apologise.\n")
	b.WriteString("Please delete the e-mail and its attachment (also from the trash), then tell us it is done with the link above.\n\n")
	fmt.Fprintf(&b, "Reference / 受付番号: %s\n", in.RecipientID)
	text = b.String()
	html = "<p>" + strings.ReplaceAll(htmlEscape(strings.ReplaceAll(text, link, "\x00")), "\n", "<br>\n") + "</p>"
	html = strings.Replace(html, "\x00", `<a href="`+htmlEscape(link)+`">`+htmlEscape(link)+`</a>`, 1)
	return subject, text, html
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
