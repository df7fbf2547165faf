// Package twilioroute points twilio-go at another base URL, such as the
// sandbox's Twilio simulator.
//
// twilio-go has no base-URL option: every service hard-codes
// https://api.twilio.com (or another *.twilio.com host). The supported
// injection point is the client's *http.Client, so Transport rewrites each
// request's scheme and host to the target and prefixes its path with the
// target's path:
//
//	hc := &http.Client{Transport: twilioroute.Transport("http://127.0.0.1:8090/twilio", nil),
//		Timeout: 10 * time.Second,
//		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
//	c := &client.Client{Credentials: client.NewCredentials(sid, token), HTTPClient: hc}
//	c.SetAccountSid(sid)
//	svc := openapi.NewApiServiceWithClient(c)
//
// https://api.twilio.com/2010-04-01/Accounts/AC.../Calls.json then reaches
// http://127.0.0.1:8090/twilio/2010-04-01/Accounts/AC.../Calls.json.
//
// This package is deliberately tiny and imports nothing of the simulator.
package twilioroute

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Transport returns a RoundTripper that sends requests to base (scheme,
// host and path prefix) instead of their own host, through next
// (http.DefaultTransport when nil). The request's context, method, headers
// and body are kept. If base is not an absolute http(s) URL, every request
// fails with an error naming it.
func Transport(base string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	u, err := url.Parse(base)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = fmt.Errorf("want an absolute http(s) URL")
	}
	if err != nil {
		return errTransport{fmt.Errorf("twilioroute: bad base URL %q: %w", base, err)}
	}
	return &rewrite{target: u, prefix: strings.TrimRight(u.Path, "/"), next: next}
}

type rewrite struct {
	target *url.URL
	prefix string
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = t.target.Scheme
	r2.URL.Host = t.target.Host
	r2.Host = t.target.Host
	r2.URL.Path = t.prefix + r.URL.Path
	if r.URL.RawPath != "" {
		r2.URL.RawPath = t.prefix + r.URL.RawPath
	}
	return t.next.RoundTrip(r2)
}

type errTransport struct{ err error }

func (t errTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close() // a RoundTripper must close the body, even on error
	}
	return nil, t.err
}
