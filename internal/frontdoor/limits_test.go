package frontdoor_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/linktoken"
)

// Every body the front door reads has a limit (SECURITY.md, "Input
// limits"): a body at the limit is read and judged on its merits; one byte
// more is answered 413 and reaches no workflow.
func TestBodyLimits(t *testing.T) {
	s, rec, links := newServer(t)
	key := sandboxKey(t)
	confirm := "/confirm/" + token(t, links, linktoken.PurposeEmailConfirm, now.Add(time.Hour))
	voice := token(t, links, linktoken.PurposeVoice, now.Add(time.Hour))
	formOf := func(n int) []byte { // "confirm=deleted&x=…", n bytes
		return []byte("confirm=deleted&x=" + strings.Repeat("a", n-len("confirm=deleted&x=")))
	}
	eventsOf := func(n int) []byte { // a JSON array padded with spaces, n bytes
		ev := `[{"event":"bounce","sg_event_id":"ev-1","breachflow_recall":"INC-1/recall/R00001"}`
		return []byte(ev + strings.Repeat(" ", n-len(ev)-1) + "]")
	}
	formHdr := func([]byte) http.Header {
		return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	}
	signed := func(b []byte) http.Header {
		return signSendGrid(t, key, strconv.FormatInt(now.Unix(), 10), b)
	}
	for _, tc := range []struct {
		path  string
		limit int
		body  func(int) []byte
		hdr   func([]byte) http.Header
	}{
		{confirm, formLimit, formOf, formHdr},
		{"/webhooks/twilio/voice/twiml?t=" + voice, formLimit, formOf, formHdr},
		{"/webhooks/twilio/voice/gather?t=" + voice, formLimit, formOf, formHdr},
		{"/webhooks/twilio/voice/status?t=" + voice, formLimit, formOf, formHdr},
		{"/webhooks/twilio/sms/status?t=" + voice, formLimit, formOf, formHdr},
		{"/webhooks/sendgrid/events", eventsLimit, eventsOf, signed},
	} {
		route, _, _ := strings.Cut(tc.path, "?")
		if strings.HasPrefix(route, "/confirm/") {
			route = "/confirm/{token}"
		}
		for _, size := range []int{tc.limit, tc.limit + 1} {
			before := len(rec.all())
			b := tc.body(size)
			if len(b) != size {
				t.Fatalf("%s: body of %d bytes, want %d", route, len(b), size)
			}
			w := do(s, http.MethodPost, tc.path, bytes.NewReader(b), tc.hdr(b))
			tooLarge := w.Code == http.StatusRequestEntityTooLarge
			if want := size > tc.limit; tooLarge != want {
				t.Errorf("%s, %d bytes (limit %d): status %d, want 413: %v", route, size, tc.limit, w.Code, want)
			}
			if size > tc.limit && len(rec.all()) != before {
				t.Errorf("%s, %d bytes: a signal was sent", route, size)
			}
		}
	}
}
