// Package activities is the only code in breachflow that talks to the world:
// SendGrid (e-mail), Twilio (voice, SMS), Slack, and the recipient-list
// store. Activities are methods on *Activities, whose clients are injected,
// so tests and the sandbox swap providers without touching workflow code.
//
// Permanent failures are returned as non-retryable application errors with
// a type name from this package (ErrType*), so workflows can tell "this
// person has no e-mail address" from "SendGrid is down".
package activities

import (
	"context"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
)

// Application error types returned by activities.
const (
	// ErrTypeNoAddress: the recipient has no address for this channel.
	ErrTypeNoAddress = "NoAddress"
	// ErrTypeRejected: the provider refused the request for good (4xx).
	ErrTypeRejected = "ProviderRejected"
	// ErrTypeInvalidNumber: Twilio says the number is invalid (21211 and kin).
	ErrTypeInvalidNumber = "InvalidNumber"
	// ErrTypeListTampered: the stored list no longer matches its fingerprint.
	ErrTypeListTampered = "ListTampered"
)

// RecipientSource looks recipients up in a stored list.
type RecipientSource interface {
	Get(ctx context.Context, ref recipients.ListRef, id string) (recipients.Recipient, error)
}

// Activities holds the clients activities use. Build it once per worker.
type Activities struct {
	Mail      Mailer
	Slack     *slack.Client // slack-go, pointed at the real API or the sandbox
	Twilio    TwilioAccount
	Lists     RecipientSource
	Links     *linktoken.Signer
	PublicURL string // base URL of `starter serve`, for links and webhooks
	Sender    FromAddress
	// Org names the organisation and its inquiry desk in every request
	// (BREACHFLOW_ORG_NAME, BREACHFLOW_CONTACT_PHONE, _HOURS, _EMAIL).
	Org    runbooks.NoticeData
	Logger *slog.Logger
	// LinkTTL is how long confirmation links stay valid (default 60 days).
	LinkTTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

func (a *Activities) linkTTL() time.Duration {
	if a.LinkTTL > 0 {
		return a.LinkTTL
	}
	return 60 * 24 * time.Hour
}
