package codec

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
)

// Environment variables read by ServerOptionsFromEnv.
const (
	// EnvServerOrigins lists the Temporal UI origins allowed by CORS,
	// comma-separated, e.g. "http://localhost:8233,http://localhost:8088".
	EnvServerOrigins = "BREACHFLOW_CODEC_ORIGINS"
	// EnvServerToken is the bearer token every request must present.
	EnvServerToken = "BREACHFLOW_CODEC_TOKEN"
	// EnvServerInsecureNoAuth, set to "true" or "1", allows running without
	// a token: local development on a loopback address only.
	EnvServerInsecureNoAuth = "BREACHFLOW_CODEC_INSECURE_NO_AUTH"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 8 << 20 // a 4 MiB gRPC message of payloads, base64'd in JSON, with room to spare
	DefaultSessionTTL   = 12 * time.Hour
	// MinTokenLength is the shortest accepted token; `starter codec-key`
	// prints 44 characters.
	MinTokenLength = 32
)

// corsAllowHeaders are the request headers the Temporal UI sends.
const corsAllowHeaders = "Authorization,Content-Type,X-Namespace"

// sessionCookie is the cookie /login sets for browsers, which cannot send
// a bearer token of their own choosing.
const sessionCookie = "breachflow_codec_session"

// Options configures Handler.
type Options struct {
	// Origins are the Temporal UI origins (scheme://host[:port]) allowed to
	// call the codec server from a browser, e.g. http://localhost:8233.
	// Requests carrying any other Origin are refused. Empty: CLI only.
	Origins []string
	// Token is the bearer token every encode and decode request must
	// present, as "Authorization: Bearer <token>" (the CLI's --codec-auth)
	// or through the session cookie that GET/POST /login sets for the
	// browser. At least MinTokenLength characters.
	Token string
	// InsecureNoAuth allows an empty Token: anyone who can reach the
	// server can decrypt. Only for local development on a loopback
	// address. Ignored when Token is set.
	InsecureNoAuth bool
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// SessionTTL is the lifetime of a /login session; 0 means
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// Logger receives refused requests (method, path, remote address,
	// reason), never payloads or tokens; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for sessions; nil means time.Now.
	Now func() time.Time
}

// ServerOptionsFromEnv reads EnvServerOrigins, EnvServerToken and
// EnvServerInsecureNoAuth through getenv. Handler validates the result.
func ServerOptionsFromEnv(getenv func(string) string) (Options, error) {
	var opts Options
	for _, o := range strings.Split(getenv(EnvServerOrigins), ",") {
		if o = strings.TrimSpace(o); o != "" {
			opts.Origins = append(opts.Origins, o)
		}
	}
	opts.Token = strings.TrimSpace(getenv(EnvServerToken))
	switch v := strings.ToLower(strings.TrimSpace(getenv(EnvServerInsecureNoAuth))); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		opts.InsecureNoAuth = true
	default:
		return Options{}, fmt.Errorf("%s=%q: want true or false", EnvServerInsecureNoAuth, v)
	}
	return opts, nil
}

// CheckListen refuses to serve without a token beyond loopback: with
// opts.InsecureNoAuth and no token, anyone who reaches addr could decrypt
// every payload, so addr must bind 127.0.0.1 or ::1 (loopback decides).
func CheckListen(addr string, opts Options, loopback func(addr string) bool) error {
	if opts.Token == "" && opts.InsecureNoAuth && !loopback(addr) {
		return fmt.Errorf("%s is set and %s is empty, but the codec server would listen on %s, beyond loopback: anyone reaching it could decrypt every payload. Set %s, or listen on 127.0.0.1",
			EnvServerInsecureNoAuth, EnvServerToken, addr, EnvServerToken)
	}
	return nil
}

// Handler returns the codec server: the SDK's payload codec HTTP handler
// (POST …/encode and …/decode at any depth, e.g. /default/decode, per the
// codec server protocol) over a Codec for keys, behind CORS for
// opts.Origins, bearer-token or session authentication, and a body size
// limit. It also serves GET /healthz (unauthenticated) and GET/POST /login
// (a form that turns the token into a session cookie for the browser
// running the Temporal UI). It refuses to start without a token unless
// opts.InsecureNoAuth is set.
func Handler(keys Keys, opts Options) (http.Handler, error) {
	c, err := NewCodec(keys)
	if err != nil {
		return nil, err
	}
	s := &server{
		codec:   converter.NewPayloadCodecHTTPHandler(c),
		origins: map[string]bool{},
		maxBody: opts.MaxBodyBytes,
		ttl:     opts.SessionTTL,
		log:     opts.Logger,
		now:     opts.Now,
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.ttl <= 0 {
		s.ttl = DefaultSessionTTL
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, o := range opts.Origins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("codec server: %w", err)
		}
		s.origins[norm] = true
	}
	switch {
	case opts.Token != "":
		if len(opts.Token) < MinTokenLength {
			return nil, fmt.Errorf("codec server: token is %d characters, want %d or more (generate one with `starter codec-key`)", len(opts.Token), MinTokenLength)
		}
		digest := sha256.Sum256([]byte(opts.Token))
		s.tokenDigest = digest[:]
		m := hmac.New(sha256.New, []byte(opts.Token))
		m.Write([]byte("breachflow/codec/session/v1"))
		s.sessionKey = m.Sum(nil)
	case opts.InsecureNoAuth:
		s.insecure = true
	default:
		return nil, errors.New("codec server: no token; set one (" + EnvServerToken + ") or, for local development on a loopback address only, allow running without (" + EnvServerInsecureNoAuth + "=true)")
	}
	return s, nil
}

// normalizeOrigin checks that o is an origin, scheme://host[:port], and
// returns it without a trailing slash.
func normalizeOrigin(o string) (string, error) {
	if o == "*" {
		return "", errors.New(`origin "*" not allowed: list the Temporal UI's origins`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("origin %q: want scheme://host[:port], e.g. http://localhost:8233", o)
	}
	return u.Scheme + "://" + u.Host, nil
}

// server is the http.Handler returned by Handler.
type server struct {
	codec       http.Handler
	origins     map[string]bool
	insecure    bool
	tokenDigest []byte // SHA-256 of the token
	sessionKey  []byte // HMAC key for session cookies, derived from the token
	maxBody     int64
	ttl         time.Duration
	log         *slog.Logger
	now         func() time.Time
}

// ServeHTTP implements http.Handler.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case r.URL.Path == "/healthz" && r.Method == http.MethodGet:
		_, _ = w.Write([]byte("ok\n"))
		return
	case r.URL.Path == "/login" && !s.insecure:
		s.login(w, r)
		return
	}
	if !s.cors(w, r) {
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if reason := s.authenticate(r); reason != "" {
		s.refuse(w, r, http.StatusUnauthorized, reason)
		return
	}
	if r.ContentLength > s.maxBody {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	}
	s.codec.ServeHTTP(w, r)
}

// cors applies the CORS policy: requests without an Origin (the CLI, SDK
// clients) pass; a browser request or preflight from a configured origin
// gets that origin, and only that, in Access-Control-Allow-Origin, with
// credentials allowed; any other origin is refused with 403. It reports
// whether to continue.
func (s *server) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !s.origins[origin] {
		s.refuse(w, r, http.StatusForbidden, "origin not allowed")
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "600")
	}
	return true
}

// authenticate returns "" for an authenticated request, else why not.
func (s *server) authenticate(r *http.Request) string {
	if s.insecure {
		return ""
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "authorization is not a bearer token"
		}
		if !s.tokenMatches(strings.TrimSpace(token)) {
			return "wrong bearer token"
		}
		return ""
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if !s.sessionValid(c.Value) {
			return "invalid or expired session"
		}
		return ""
	}
	return "no credentials"
}

// tokenMatches compares in constant time (over digests, so the token's
// length does not leak either).
func (s *server) tokenMatches(token string) bool {
	d := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(d[:], s.tokenDigest) == 1
}

// session returns a cookie value valid until exp: exp.mac.
func (s *server) session(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + base64.RawURLEncoding.EncodeToString(s.sessionMAC(e))
}

func (s *server) sessionMAC(exp string) []byte {
	m := hmac.New(sha256.New, s.sessionKey)
	m.Write([]byte(exp))
	return m.Sum(nil)
}

// sessionValid checks a session cookie's MAC and expiry.
func (s *server) sessionValid(v string) bool {
	e, mac, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || !hmac.Equal(got, s.sessionMAC(e)) {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	return err == nil && s.now().Unix() < exp
}

// loginPage is the form of GET /login and the answer of POST /login.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>breachflow codec server</title></head>
<body>
<h1>breachflow codec server</h1>
{{if .Done}}<p>Signed in until {{.Until}}. Return to the Temporal UI: with "Include cross-origin credentials" on in its Data Encoder settings, it can now decode.</p>
{{else}}{{if .Failed}}<p><strong>Wrong token.</strong></p>{{end}}
<form method="post" action="/login">
<label>Codec server token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>{{end}}
</body></html>
`))

// login serves GET /login (the form) and POST /login (check the token, set
// the session cookie).
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	type page struct {
		Done, Failed bool
		Until        string
	}
	switch r.Method {
	case http.MethodGet:
		_ = loginPage.Execute(w, page{})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := r.ParseForm(); err != nil {
			s.refuse(w, r, http.StatusBadRequest, "unreadable login form")
			return
		}
		if !s.tokenMatches(r.PostForm.Get("token")) {
			s.log.Warn("codec server: refused request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", "wrong token at login")
			w.WriteHeader(http.StatusUnauthorized)
			_ = loginPage.Execute(w, page{Failed: true})
			return
		}
		exp := s.now().Add(s.ttl)
		http.SetCookie(w, &http.Cookie{
			Name:     sessionCookie,
			Value:    s.session(exp),
			Path:     "/",
			MaxAge:   int(s.ttl / time.Second),
			HttpOnly: true,
			Secure:   r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
			SameSite: http.SameSiteStrictMode,
		})
		_ = loginPage.Execute(w, page{Done: true, Until: exp.Format(time.RFC3339)})
	default:
		h.Set("Allow", "GET, POST")
		s.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed")
	}
}

// refuse logs a refused request (never its body or credentials) and
// answers with status.
func (s *server) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	s.log.Warn("codec server: refused request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "status", status, "reason", reason)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="breachflow codec server"`)
	}
	http.Error(w, reason, status)
}
