package sandbox

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// failureKind is an injected provider failure.
type failureKind int

const (
	failNone failureKind = iota
	// failRateLimited: 429 with Retry-After and X-RateLimit-* headers; the
	// request is not processed.
	failRateLimited
	// failServerError: 500 with the provider's JSON error body; not processed.
	failServerError
	// failBadGateway: 502 with an HTML body, as a proxy would answer; not
	// processed.
	failBadGateway
	// failTimeout: the request IS processed, then the answer is withheld
	// until the client gives up (at most maxHang). This is the ambiguous
	// failure after which a blind retry duplicates a call or an e-mail.
	failTimeout
)

// maxHang bounds how long a failTimeout answer is withheld.
const maxHang = 2 * time.Minute

type failureInjector struct {
	rate float64
	// pick chooses the failure for one request; tests replace it.
	pick func() failureKind
}

func newFailureInjector(rate float64) *failureInjector {
	f := &failureInjector{rate: rate}
	f.pick = func() failureKind {
		if f.rate <= 0 || rand.Float64() >= f.rate {
			return failNone
		}
		return []failureKind{failRateLimited, failServerError, failBadGateway, failTimeout}[rand.IntN(4)]
	}
	return f
}

// wrap injects failures into a provider endpoint. ctx is the sandbox's
// lifetime: a withheld answer is released when it ends.
func (f *failureInjector) wrap(ctx context.Context, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := f.pick()
		prov := providerOf(r.URL.Path)
		switch kind {
		case failNone:
			h(w, r)
		case failRateLimited:
			reset := time.Now().Add(time.Second).Unix()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-RateLimit-Limit", "600")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
			writeProviderError(w, prov, http.StatusTooManyRequests)
		case failServerError:
			writeProviderError(w, prov, http.StatusInternalServerError)
		case failBadGateway:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n"))
		case failTimeout:
			h(httptest.NewRecorder(), r) // processed; the answer is lost
			t := time.NewTimer(maxHang)
			defer t.Stop()
			select {
			case <-r.Context().Done():
			case <-ctx.Done():
			case <-t.C:
			}
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	})
}

func providerOf(p string) string {
	switch {
	case strings.HasPrefix(p, "/sendgrid/"):
		return "sendgrid"
	case strings.HasPrefix(p, "/twilio/"):
		return "twilio"
	case strings.HasPrefix(p, "/slack/"):
		return "slack"
	}
	return ""
}

// writeProviderError writes an error in the provider's own format.
func writeProviderError(w http.ResponseWriter, provider string, status int) {
	switch provider {
	case "sendgrid":
		msg := "internal error"
		if status == http.StatusTooManyRequests {
			msg = "too many requests"
		}
		writeJSON(w, status, map[string]any{"errors": []map[string]any{{"field": nil, "message": msg}}})
	case "twilio":
		code, msg := 20500, "Internal Server Error"
		if status == http.StatusTooManyRequests {
			code, msg = 20429, "Too Many Requests"
		}
		writeTwilioError(w, status, code, msg)
	case "slack":
		if status == http.StatusTooManyRequests {
			writeJSON(w, status, map[string]any{"ok": false, "error": "ratelimited"})
			return
		}
		w.WriteHeader(status)
	default:
		http.Error(w, http.StatusText(status), status)
	}
}
