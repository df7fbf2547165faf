package activities

import "time"

// SetSendBackoff shortens the backoff between tries of a failed notice
// request; the returned function restores it.
func SetSendBackoff(d time.Duration) (restore func()) {
	old, oldMax := sendBackoff, sendMaxBackoff
	sendBackoff, sendMaxBackoff = d, d
	return func() { sendBackoff, sendMaxBackoff = old, oldMax }
}
