package twilioroute

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransport(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	tests := []struct {
		name, base, in, wantPath, wantQuery string
	}{
		{"prefix", srv.URL + "/twilio", "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?To=%2B81", "/twilio/2010-04-01/Accounts/AC1/Calls.json", "To=%2B81"},
		{"prefix with slash", srv.URL + "/twilio/", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "/twilio/2010-04-01/Accounts/AC1/Messages.json", ""},
		{"no prefix", srv.URL, "https://api.twilio.com/2010-04-01/x.json", "/2010-04-01/x.json", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &http.Client{Transport: Transport(tc.base, nil)}
			req, err := http.NewRequest(http.MethodPost, tc.in, strings.NewReader("To=%2B81"))
			require.NoError(t, err)
			req.SetBasicAuth("AC1", "tok")
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusTeapot, resp.StatusCode)
			assert.Equal(t, tc.wantPath, got.URL.Path)
			assert.Equal(t, tc.wantQuery, got.URL.RawQuery)
			assert.Equal(t, "To=%2B81", body)
			u, p, ok := got.BasicAuth()
			assert.True(t, ok)
			assert.Equal(t, "AC1:tok", u+":"+p)
			assert.Equal(t, strings.TrimPrefix(srv.URL, "http://"), got.Host)
			assert.Equal(t, "api.twilio.com", req.URL.Host, "the caller's request is not modified")
		})
	}
}

func TestTransportBadBase(t *testing.T) {
	for _, base := range []string{"", "127.0.0.1:8090", "ftp://x/y", "http://%zz"} {
		t.Run(base, func(t *testing.T) {
			c := &http.Client{Transport: Transport(base, nil)}
			_, err := c.Get("https://api.twilio.com/2010-04-01/x.json")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "twilioroute: bad base URL")
		})
	}
}
