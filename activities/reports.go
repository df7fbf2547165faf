package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/reports"
)

// ErrTypeInvalidInput: an activity was given input it can never act on
// (an unknown time zone, an unsafe incident ID); retrying cannot help.
const ErrTypeInvalidInput = "InvalidInput"

// DraftReport drafts the report an obligation owes (the APPI 速報/確報 with
// the PPC form's fields and Rule 8(1)'s nine items, the GDPR Art. 33(3)
// notification, ...) from the incident's facts and live counts, for people
// to review and complete before they file it. It holds no personal data.
func (a *Activities) DraftReport(_ context.Context, req reports.Request) (reports.Draft, error) {
	d, err := reports.Build(req)
	if err != nil {
		return reports.Draft{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	}
	return d, nil
}
