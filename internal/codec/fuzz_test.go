package codec_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/breachflow/breachflow/internal/codec"
)

// fuzzBodyLimit is the fuzzed server's body limit (small, so the endless
// bodies stay cheap).
const fuzzBodyLimit = 64 << 10

// openIndependently decrypts an encrypted payload the way
// docs/encryption.md describes the format, without the Codec: AES-256-GCM,
// 12-byte nonce first, aad "breachflow/codec/v1:<key ID>", plaintext the
// marshalled original payload.
func openIndependently(keys codec.Keys, p *commonpb.Payload) (*commonpb.Payload, bool) {
	id := string(p.GetMetadata()[codec.MetadataKeyID])
	key, ok := keys.ByID[id]
	if !ok || len(p.GetData()) < 12 {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, false
	}
	plain, err := gcm.Open(nil, p.Data[:12], p.Data[12:], []byte("breachflow/codec/v1:"+id))
	if err != nil {
		return nil, false
	}
	var orig commonpb.Payload
	if proto.Unmarshal(plain, &orig) != nil {
		return nil, false
	}
	return &orig, true
}

func encrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == codec.MetadataEncodingEncrypted
}

// Authentication kinds of a fuzzed codec-server request.
const (
	authBearer = iota
	authSession
	authExpiredSession
	authTamperedSession // a valid MAC with a later expiry
	authOtherToken
	authRawHeader
	authRawCookie
	authNone
	authKinds
)

// FuzzCodecServer: the codec server's HTTP handler with arbitrary methods,
// paths, origins, credentials and bodies. Properties:
//   - no panic (the handler has no recover of its own), no 5xx;
//   - every answer is Cache-Control: no-store, and any CORS grant names
//     the request's own, configured origin (never *);
//   - encode and decode answer nothing but 401 or 403 without a valid
//     token or session;
//   - a 200 from decode holds, for each payload, what an independent
//     AES-GCM decryption of it gives (or the payload itself when it is not
//     ours): a tampered, relabelled or truncated ciphertext never decodes;
//   - a 200 from encode decrypts back to the payloads sent;
//   - /login sets a session only for the right token; the body is read no
//     further than the limit.
func FuzzCodecServer(f *testing.F) {
	keys := ring("k2026b", "k2026a")
	c, err := codec.NewCodec(keys)
	if err != nil {
		f.Fatal(err)
	}
	clock := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	newHandler := func(now time.Time) http.Handler {
		h, err := codec.Handler(keys, codec.Options{
			Origins: []string{uiOrigin}, Token: token, MaxBodyBytes: fuzzBodyLimit, SessionTTL: time.Hour,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
		})
		if err != nil {
			f.Fatal(err)
		}
		return h
	}
	h := newHandler(clock)
	session := func(h http.Handler) string {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(w, req)
		cs := w.Result().Cookies()
		if len(cs) != 1 {
			f.Fatalf("login: %d, cookies %v", w.Code, cs)
		}
		return cs[0].Value
	}
	good := session(h)
	expired := session(newHandler(clock.Add(-2 * time.Hour)))
	exp, mac, _ := strings.Cut(good, ".")
	tampered := exp + "0." + mac

	sealed, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"taro.yamada@example.com"`)}})
	if err != nil {
		f.Fatal(err)
	}
	js := func(ps ...*commonpb.Payload) []byte {
		b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	relabelled := proto.Clone(sealed[0]).(*commonpb.Payload)
	relabelled.Metadata[codec.MetadataKeyID] = []byte("k2026a")
	truncated := proto.Clone(sealed[0]).(*commonpb.Payload)
	truncated.Data = truncated.Data[:20]
	flipped := proto.Clone(sealed[0]).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"a":1}`)}
	bodies := [][]byte{
		js(sealed...), js(relabelled), js(truncated), js(flipped), js(plain), js(plain, sealed[0]),
		js(&commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.MetadataEncodingEncrypted)}}),
		js(&commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.MetadataEncodingEncrypted), codec.MetadataKeyID: []byte("k1999")}, Data: make([]byte, 40)}),
		[]byte(`{"payloads":[]}`), []byte(`{"payloads":[{}]}`), []byte(`{"payloads":null}`), []byte(`{`), []byte(``),
		[]byte(`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"!!"}]}`),
	}
	for i, b := range bodies {
		f.Add("POST", "/default/decode", "", byte(authBearer), "", "application/json", b, false)
		f.Add("POST", "/default/encode", uiOrigin, byte(authSession), "", "application/json", b, i == 0)
	}
	f.Add("POST", "/decode", uiOrigin, byte(authExpiredSession), "", "application/json", bodies[0], false)
	f.Add("POST", "/default/decode", uiOrigin, byte(authTamperedSession), "", "application/json", bodies[0], false)
	f.Add("POST", "/default/decode", "https://evil.example", byte(authBearer), "", "application/json", bodies[0], false)
	f.Add("POST", "/default/decode", "", byte(authOtherToken), "", "application/json", bodies[0], false)
	f.Add("POST", "/default/decode", "", byte(authRawHeader), "bearer "+token, "application/json", bodies[0], false)
	f.Add("POST", "/default/decode", "", byte(authRawHeader), "Basic x", "application/json", bodies[0], false)
	f.Add("POST", "/default/decode", "", byte(authRawCookie), "1.", "application/json", bodies[0], false)
	f.Add("POST", "/default/decode", "null", byte(authNone), "", "application/json", bodies[0], false)
	f.Add("OPTIONS", "/default/decode", uiOrigin, byte(authNone), "", "", []byte(nil), false)
	f.Add("OPTIONS", "/x", "http://localhost:8234", byte(authNone), "", "", []byte(nil), false)
	f.Add("GET", "/default/decode", "", byte(authBearer), "", "", []byte(nil), false)
	f.Add("GET", "/healthz", "", byte(authNone), "", "", []byte(nil), false)
	f.Add("GET", "/login", "", byte(authNone), "", "", []byte(nil), false)
	f.Add("POST", "/login", "", byte(authNone), "", "application/x-www-form-urlencoded", []byte("token="+token), false)
	f.Add("POST", "/login", uiOrigin, byte(authNone), "", "application/x-www-form-urlencoded", []byte("token=x&token="+token), false)
	f.Add("POST", "/login", "", byte(authNone), "", "application/x-www-form-urlencoded", []byte("token="), true)
	f.Add("PUT", "/login", "", byte(authNone), "", "", []byte(nil), false)
	f.Add("POST", "/a/b/c/encode", "", byte(authBearer), "", "application/json", bodies[4], false)
	f.Add("POST", "/default/decodeX", "", byte(authBearer), "", "application/json", bodies[4], false)
	f.Fuzz(func(t *testing.T, method, target, origin string, auth byte, raw, contentType string, body []byte, endless bool) {
		req, err := http.NewRequest(method, "http://codec.local"+target, nil)
		if err != nil || req.URL.Host != "codec.local" {
			return
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		switch auth % authKinds {
		case authBearer:
			req.Header.Set("Authorization", "Bearer "+token)
		case authSession:
			req.Header.Set("Cookie", "breachflow_codec_session="+good)
		case authExpiredSession:
			req.Header.Set("Cookie", "breachflow_codec_session="+expired)
		case authTamperedSession:
			req.Header.Set("Cookie", "breachflow_codec_session="+tampered)
		case authOtherToken:
			req.Header.Set("Authorization", "Bearer "+strings.ToUpper(token))
		case authRawHeader:
			req.Header.Set("Authorization", raw)
		case authRawCookie:
			req.Header.Set("Cookie", "breachflow_codec_session="+raw)
		}
		// Whether the request holds a credential: our own reading.
		authentic := false
		switch auth % authKinds {
		case authBearer, authSession:
			authentic = true
		case authRawHeader:
			scheme, tok, _ := strings.Cut(raw, " ")
			authentic = strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) == token
		case authRawCookie:
			ck, err := req.Cookie("breachflow_codec_session")
			authentic = err == nil && ck.Value == good
		}
		rc := &readCount{r: bytes.NewReader(body), endless: endless}
		req.Body = io.NopCloser(rc)
		if !endless {
			req.ContentLength = int64(len(body))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)

		if w.Code >= 500 {
			t.Fatalf("status %d: %q", w.Code, w.Body.String())
		}
		if rc.n > fuzzBodyLimit+1 {
			t.Fatalf("read %d bytes of the body, limit %d", rc.n, fuzzBodyLimit)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Fatalf("Cache-Control %q, want no-store", got)
		}
		if acao := w.Header().Get("Access-Control-Allow-Origin"); acao != "" && (acao != origin || acao != uiOrigin) {
			t.Fatalf("Access-Control-Allow-Origin %q for Origin %q", acao, origin)
		}
		path := req.URL.Path
		switch {
		case path == "/login":
			form, _ := url.ParseQuery(string(body))
			set := len(w.Result().Cookies()) > 0
			mt, _, _ := mime.ParseMediaType(contentType)
			rightToken := method == http.MethodPost && !endless && form.Get("token") == token &&
				mt == "application/x-www-form-urlencoded"
			if set && !rightToken {
				t.Fatalf("login set a session without the token (form %q)", body)
			}
			return
		case path == "/healthz" && method == http.MethodGet:
			return
		case method == http.MethodOptions:
			if w.Code != http.StatusNoContent && w.Code != http.StatusForbidden {
				t.Fatalf("preflight: %d", w.Code)
			}
			return
		}
		if !authentic {
			if w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
				t.Fatalf("no valid credential (kind %d): %d %q", auth%authKinds, w.Code, w.Body.String())
			}
			return
		}
		if w.Code != http.StatusOK {
			return // 400, 403 (origin), 404, 413: refused, nothing to check
		}
		var in, out commonpb.Payloads
		if err := protojson.Unmarshal(body, &in); err != nil {
			t.Fatalf("200 for a body that is not Payloads: %v", err)
		}
		if err := protojson.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not Payloads (the SDK's remote codec could not read it): %v\n%s", err, w.Body.String())
		}
		if len(in.Payloads) != len(out.Payloads) {
			t.Fatalf("%d payloads in, %d out", len(in.Payloads), len(out.Payloads))
		}
		switch {
		case strings.HasSuffix(path, "/decode"):
			for i, p := range in.Payloads {
				want, ok := p, true
				if encrypted(p) {
					want, ok = openIndependently(keys, p)
				}
				if !ok {
					t.Fatalf("payload %d decoded, but it does not decrypt: tampered or relabelled ciphertext accepted", i)
				}
				if !proto.Equal(want, out.Payloads[i]) {
					t.Fatalf("payload %d decoded to %v, want %v", i, out.Payloads[i], want)
				}
			}
		case strings.HasSuffix(path, "/encode"):
			for i, p := range out.Payloads {
				if !encrypted(p) || string(p.Metadata[codec.MetadataKeyID]) != keys.Current {
					t.Fatalf("payload %d encoded as %v, want encrypted with the current key", i, p.Metadata)
				}
				got, ok := openIndependently(keys, p)
				if !ok || !proto.Equal(got, in.Payloads[i]) {
					t.Fatalf("payload %d does not decrypt back to what was sent", i)
				}
			}
		default:
			t.Fatalf("200 for %s %s", method, path)
		}
	})
}

// readCount counts what the server reads of a body; endless goes on
// with 'a'.
type readCount struct {
	r       io.Reader
	n       int64
	endless bool
}

func (c *readCount) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) && c.endless {
		for i := n; i < len(p); i++ {
			p[i] = 'a'
		}
		n, err = len(p), nil
	}
	c.n += int64(n)
	return n, err
}
