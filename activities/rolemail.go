package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/roles"
)

// ErrTypeNoRoleAddress: nobody holds the role in BREACHFLOW_ROLES, so the
// message could not be e-mailed to it.
const ErrTypeNoRoleAddress = "NoRoleAddress"

// RoleMailer e-mails the people holding a role (BREACHFLOW_ROLES): the
// incident's staff, for reminders, escalations, drafts and daily reports.
// It is separate from Activities so that the role directory stays worker
// configuration: workflows name roles, never addresses.
type RoleMailer struct {
	Roles  roles.Directory
	Mail   Mailer
	Sender FromAddress
}

// RoleMessage is a message to every holder of a role. Subject and Text hold
// no personal data: counts, deadlines, task and obligation names.
type RoleMessage struct {
	IncidentID string `json:"incident_id"`
	Role       string `json:"role"`
	Subject    string `json:"subject"`
	Text       string `json:"text"`
}

// RoleMailResult says how many holders of the role the message reached.
// It names no address.
type RoleMailResult struct {
	Role string `json:"role"`
	// Sent counts the messages the provider accepted, Refused those it
	// refused for good (e.g. an invalid address in the configuration).
	Sent       int      `json:"sent"`
	Refused    int      `json:"refused,omitempty"`
	MessageIDs []string `json:"message_ids,omitempty"`
}

// EmailRole sends the message to each holder of the role, one recipient
// per message, nobody else's address in it. Progress is heartbeated, so a
// retry after a provider failure resumes with the next holder instead of
// mailing the first ones again. A role nobody holds is a non-retryable
// ErrTypeNoRoleAddress.
func (m *RoleMailer) EmailRole(ctx context.Context, in RoleMessage) (RoleMailResult, error) {
	addrs := m.Roles.Addresses(in.Role)
	if len(addrs) == 0 {
		return RoleMailResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("nobody holds role %q: add it to BREACHFLOW_ROLES", in.Role), ErrTypeNoRoleAddress, nil)
	}
	res := RoleMailResult{Role: in.Role}
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &res); err != nil {
			res = RoleMailResult{Role: in.Role}
		}
	}
	for k := res.Sent + res.Refused; k < len(addrs); k++ {
		msg := mail.NewV3Mail()
		msg.SetFrom(mail.NewEmail(m.Sender.Name, m.Sender.Email))
		msg.Subject = in.Subject
		msg.AddContent(mail.NewContent("text/plain", in.Text))
		p := mail.NewPersonalization()
		p.AddTos(mail.NewEmail("", addrs[k])) // exactly one recipient per message
		msg.AddPersonalizations(p)
		msg.SetCustomArg(ArgIncidentID, in.IncidentID)
		msg.SetCustomArg("breachflow_role", in.Role)
		msg.AddCategories("breachflow-staff")
		id, err := m.Mail.Send(ctx, msg)
		switch {
		case err == nil:
			res.Sent++
			if id != "" {
				res.MessageIDs = append(res.MessageIDs, id)
			}
		case isPermanentErr(err):
			res.Refused++
		default:
			activity.RecordHeartbeat(ctx, res)
			// topLevel keeps a rate limit's reset time (NextRetryDelay) for
			// Temporal's retry, which fmt.Errorf would hide.
			return res, topLevel(fmt.Sprintf("e-mail role %s, holder %d of %d", in.Role, k+1, len(addrs)), err, nil)
		}
		activity.RecordHeartbeat(ctx, res)
	}
	activity.GetLogger(ctx).Info("role e-mailed", "incident", in.IncidentID, "role", in.Role, "sent", res.Sent, "refused", res.Refused)
	return res, nil
}

func isPermanentErr(err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.NonRetryable()
	}
	return false
}
