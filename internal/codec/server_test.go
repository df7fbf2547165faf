package codec_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/breachflow/breachflow/internal/codec"
)

const (
	token    = "0123456789abcdef0123456789abcdef-test-token"
	uiOrigin = "http://localhost:8233"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeClock is a settable clock for session expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// codecServer starts Handler(keys, opts) with test defaults filled in.
func codecServer(t *testing.T, keys codec.Keys, opts codec.Options) (*httptest.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	h, err := codec.Handler(keys, opts)
	if err != nil {
		t.Fatalf("Handler: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, logs
}

func defaultServer(t *testing.T) (*httptest.Server, *syncBuffer) {
	return codecServer(t, ring("k2026b", "k2026a"), codec.Options{Origins: []string{uiOrigin, "http://localhost:8088/"}, Token: token})
}

// remote returns the SDK's remote codec client, as the CLI builds it.
func remote(endpoint, auth string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: endpoint,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("X-Namespace", "default")
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			return nil
		},
	})
}

func TestServerRoundTripThroughRemoteCodec(t *testing.T) {
	srv, logs := defaultServer(t)
	local := mustDC(t, ring("k2026b", "k2026a"))
	oldLocal := mustDC(t, ring("k2026a"))
	in := person{Name: name, Email: email, Phone: "090-1234-5678"}

	for _, endpoint := range []string{srv.URL + "/default", srv.URL} {
		t.Run(endpoint, func(t *testing.T) {
			viaServer := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), remote(endpoint, "Bearer "+token))

			// The server encrypts (the UI's and CLI's /encode) ...
			p, err := viaServer.ToPayload(in)
			if err != nil {
				t.Fatalf("encode through server: %v", err)
			}
			if string(p.Metadata[codec.MetadataKeyID]) != "k2026b" {
				t.Errorf("server encoded with key %q, want current k2026b", p.Metadata[codec.MetadataKeyID])
			}
			// ... and workers read it.
			var got person
			if err := local.FromPayload(p, &got); err != nil || !reflect.DeepEqual(got, in) {
				t.Fatalf("worker decoding server's payload = %+v, %v", got, err)
			}
			// Workers encrypt, with the current or an older key, and the
			// server decrypts (the UI's /decode).
			for _, dc := range []converter.DataConverter{local, oldLocal} {
				p, err := dc.ToPayload(in)
				if err != nil {
					t.Fatal(err)
				}
				got = person{}
				if err := viaServer.FromPayload(p, &got); err != nil || !reflect.DeepEqual(got, in) {
					t.Fatalf("server decoding worker's payload = %+v, %v", got, err)
				}
			}
		})
	}
	if strings.Contains(logs.String(), email) || strings.Contains(logs.String(), token) {
		t.Errorf("server logged a payload or the token:\n%s", logs)
	}
}

func TestServerReportsDecodeErrorsWithoutPayloads(t *testing.T) {
	srv, logs := defaultServer(t)
	foreign := mustDC(t, ring("k1999"))
	p, err := foreign.ToPayload(email)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote(srv.URL+"/default", "Bearer "+token).Decode([]*commonpb.Payload{p})
	if err == nil || !strings.Contains(err.Error(), `unknown encryption key ID "k1999"`) {
		t.Fatalf("decode with unknown key = %v, want unknown key ID error", err)
	}
	if strings.Contains(logs.String(), email) {
		t.Errorf("server logged a payload:\n%s", logs)
	}
}

// post sends a decode request of one plain payload with the given headers.
func post(t *testing.T, target string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(`{"payloads":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

func TestServerAuthentication(t *testing.T) {
	srv, logs := defaultServer(t)
	cases := []struct {
		name   string
		auth   string
		status int
	}{
		{"right token", "Bearer " + token, http.StatusOK},
		{"scheme is case-insensitive", "bearer " + token, http.StatusOK},
		{"no Authorization", "", http.StatusUnauthorized},
		{"wrong token", "Bearer " + strings.ToUpper(token), http.StatusUnauthorized},
		{"token prefix", "Bearer " + token[:len(token)-1], http.StatusUnauthorized},
		{"token with suffix", "Bearer " + token + "x", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"basic auth", "Basic " + token, http.StatusUnauthorized},
		{"bare token", token, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := map[string]string{}
			if tc.auth != "" {
				header["Authorization"] = tc.auth
			}
			resp := post(t, srv.URL+"/default/decode", header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// Through the SDK's remote codec client, as the CLI sees it.
	_, err := remote(srv.URL, "Bearer wrong").Decode(nil)
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("remote codec with wrong token = %v, want Unauthorized", err)
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), strings.ToUpper(token)) {
		t.Errorf("server logged a token:\n%s", logs)
	}
}

func TestServerCORS(t *testing.T) {
	srv, _ := defaultServer(t)
	cases := []struct {
		name       string
		method     string
		origin     string
		auth       bool
		status     int
		wantOrigin string // Access-Control-Allow-Origin, "" = absent
	}{
		{"preflight from the UI", http.MethodOptions, uiOrigin, false, http.StatusNoContent, uiOrigin},
		{"preflight from the second UI (configured with a slash)", http.MethodOptions, "http://localhost:8088", false, http.StatusNoContent, "http://localhost:8088"},
		{"preflight from elsewhere", http.MethodOptions, "https://evil.example", false, http.StatusForbidden, ""},
		{"preflight from another port", http.MethodOptions, "http://localhost:8234", false, http.StatusForbidden, ""},
		{"preflight from a file", http.MethodOptions, "null", false, http.StatusForbidden, ""},
		{"decode from the UI", http.MethodPost, uiOrigin, true, http.StatusOK, uiOrigin},
		{"decode from elsewhere, even with the token", http.MethodPost, "https://evil.example", true, http.StatusForbidden, ""},
		{"decode from the UI without the token", http.MethodPost, uiOrigin, false, http.StatusUnauthorized, uiOrigin},
		{"decode without Origin (CLI)", http.MethodPost, "", true, http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+"/default/decode", strings.NewReader(`{"payloads":[]}`))
			if err != nil {
				t.Fatal(err)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace,authorization")
			}
			if tc.auth {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			h := resp.Header
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantOrigin)
			}
			if tc.wantOrigin != "" && h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("Access-Control-Allow-Credentials not true")
			}
			if tc.wantOrigin == "" && h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("Access-Control-Allow-Credentials for a refused origin")
			}
			if tc.method == http.MethodOptions && tc.wantOrigin != "" {
				if got := h.Get("Access-Control-Allow-Headers"); got != "Authorization,Content-Type,X-Namespace" {
					t.Errorf("Access-Control-Allow-Headers = %q", got)
				}
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("Access-Control-Allow-Methods = %q", h.Get("Access-Control-Allow-Methods"))
				}
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary = %q, want Origin", h.Values("Vary"))
			}
		})
	}
}

func TestServerRefusesUnsafeConfiguration(t *testing.T) {
	cases := []struct {
		name string
		opts codec.Options
		want string // "" = accepted
	}{
		{"no token", codec.Options{}, "no token"},
		{"short token", codec.Options{Token: "short"}, "token is 5 characters, want 32"},
		{"insecure without token", codec.Options{InsecureNoAuth: true}, ""},
		{"token", codec.Options{Token: token}, ""},
		{"wildcard origin", codec.Options{Token: token, Origins: []string{"*"}}, `origin "*" not allowed`},
		{"origin with path", codec.Options{Token: token, Origins: []string{"http://localhost:8233/namespaces"}}, "want scheme://host[:port]"},
		{"origin without scheme", codec.Options{Token: token, Origins: []string{"localhost:8233"}}, "want scheme://host[:port]"},
		{"file origin", codec.Options{Token: token, Origins: []string{"file:///tmp"}}, "want scheme://host[:port]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.Handler(ring("k1"), tc.opts)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Handler: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Handler = %v, want error containing %q", err, tc.want)
			}
		})
	}
	if _, err := codec.Handler(codec.Keys{}, codec.Options{Token: token}); err == nil {
		t.Error("Handler without keys succeeded")
	}
}

func TestServerInsecureModeNeedsNoToken(t *testing.T) {
	srv, _ := codecServer(t, ring("k1"), codec.Options{InsecureNoAuth: true, Origins: []string{uiOrigin}})
	if resp := post(t, srv.URL+"/default/decode", map[string]string{"Origin": uiOrigin}); resp.StatusCode != http.StatusOK {
		t.Errorf("insecure decode: status %d", resp.StatusCode)
	}
	if resp := post(t, srv.URL+"/default/decode", map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("insecure decode from another origin: status %d, want 403", resp.StatusCode)
	}
	resp, err := http.Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("insecure server offers a login page")
	}
}

func TestServerLimitsBodySize(t *testing.T) {
	srv, _ := codecServer(t, ring("k1"), codec.Options{Token: token, MaxBodyBytes: 1 << 10})
	big := `{"payloads":[{"data":"` + strings.Repeat("A", 2<<10) + `"}]}`
	cases := []struct {
		name    string
		chunked bool
		status  int
	}{
		{"declared length", false, http.StatusRequestEntityTooLarge},
		{"chunked", true, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(big)
			if tc.chunked {
				body = io.MultiReader(body) // unknown length
			}
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/default/decode", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, msg, tc.status)
			}
		})
	}
}

func TestServerLoginSessionForTheBrowser(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	srv, logs := codecServer(t, ring("k1"), codec.Options{Token: token, Origins: []string{uiOrigin}, SessionTTL: time.Hour, Now: clock.Now})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	decode := func() int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/default/decode", strings.NewReader(`{"payloads":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", uiOrigin)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	login := func(tok string) *http.Response {
		t.Helper()
		resp, err := browser.PostForm(srv.URL+"/login", url.Values{"token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}

	resp, err := browser.Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `type="password"`) {
		t.Fatalf("GET /login: %d %s", resp.StatusCode, page)
	}

	if got := decode(); got != http.StatusUnauthorized {
		t.Fatalf("before login: %d, want 401", got)
	}
	if resp := login("wrong-token-wrong-token-wrong-token"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("login with wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp = login(token)
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	c := resp.Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || strings.Contains(c.Value, token) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, not the token", c)
	}
	if got := decode(); got != http.StatusOK {
		t.Fatalf("after login: %d, want 200", got)
	}
	clock.Advance(59 * time.Minute)
	if got := decode(); got != http.StatusOK {
		t.Fatalf("59 minutes after login: %d, want 200", got)
	}
	clock.Advance(time.Minute)
	if got := decode(); got != http.StatusUnauthorized {
		t.Fatalf("an hour after login: %d, want 401", got)
	}

	// A cookie with a forged expiry or MAC is refused.
	u, _ := url.Parse(srv.URL)
	for _, forged := range []string{"99999999999." + strings.Split(c.Value, ".")[1], strings.Split(c.Value, ".")[0] + ".AAAA", "garbage"} {
		jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: forged, Path: "/"}})
		if got := decode(); got != http.StatusUnauthorized {
			t.Errorf("forged cookie %q: %d, want 401", forged, got)
		}
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("server logged the token:\n%s", logs)
	}
}

func TestServerHealthz(t *testing.T) {
	srv, _ := defaultServer(t)
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
}

func TestServerOptionsFromEnv(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want codec.Options
		err  string
	}{
		{"nothing", nil, codec.Options{}, ""},
		{"origins and token", map[string]string{codec.EnvServerOrigins: " http://localhost:8233, http://localhost:8088 ,", codec.EnvServerToken: " " + token + " "},
			codec.Options{Origins: []string{"http://localhost:8233", "http://localhost:8088"}, Token: token}, ""},
		{"insecure", map[string]string{codec.EnvServerInsecureNoAuth: "true"}, codec.Options{InsecureNoAuth: true}, ""},
		{"insecure off", map[string]string{codec.EnvServerInsecureNoAuth: "0"}, codec.Options{}, ""},
		{"insecure typo", map[string]string{codec.EnvServerInsecureNoAuth: "ture"}, codec.Options{}, "want true or false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.ServerOptionsFromEnv(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Origins, "|") != strings.Join(tc.want.Origins, "|") || got.Token != tc.want.Token || got.InsecureNoAuth != tc.want.InsecureNoAuth {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
