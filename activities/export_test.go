package activities

import (
	"time"

	"github.com/breachflow/breachflow/runbooks"
)

// SetSendBackoff shortens the backoff between tries of a failed notice
// request; the returned function restores it.
func SetSendBackoff(d time.Duration) (restore func()) {
	old, oldMax := sendBackoff, sendMaxBackoff
	sendBackoff, sendMaxBackoff = d, d
	return func() { sendBackoff, sendMaxBackoff = old, oldMax }
}

// DeletionRequestTexts renders a request's e-mail and SMS, for golden tests.
func DeletionRequestTexts(org runbooks.NoticeData, in DeletionRequest, name, link string) (subject, text, sms string) {
	subject, text, _ = deletionRequestEmail(org, in, name, link)
	return subject, text, deletionRequestSMS(org, in, link)
}
