package sandbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Event webhook delivery, like SendGrid: retried on non-2xx or transport
// errors with exponential backoff, a bounded number of times.
const (
	webhookAttempts   = 6
	webhookBackoff    = 200 * time.Millisecond
	webhookMaxBackoff = 5 * time.Second
	maxPageBytes      = 1 << 20
)

// SendGrid event webhook signature headers.
const (
	sgSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sgTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// mailbox plays one recipient of one message: the provider's events, then
// the persona's reaction.
func (s *Sandbox) mailbox(ctx context.Context, m OutboxMessage, addr string, slot int, p persona) {
	sgMessageID := fmt.Sprintf("%s.filter0001.%d.%s.%d", m.MessageID, 16000+m.Index, strings.ToUpper(randomHex(5)), slot)
	smtpID := fmt.Sprintf("<%s@ismtpd0001p1nrt1.sendgrid.net>", m.MessageID)
	event := func(name string, extra map[string]any) map[string]any {
		ev := map[string]any{}
		for k, v := range m.CustomArgs {
			ev[k] = v // custom args are top-level keys; event fields win on conflict
		}
		ev["email"] = addr
		ev["timestamp"] = time.Now().Unix()
		ev["event"] = name
		ev["sg_event_id"] = randomToken(16)
		ev["sg_message_id"] = sgMessageID
		ev["smtp-id"] = smtpID
		switch len(m.Categories) {
		case 0:
		case 1:
			ev["category"] = m.Categories[0] // SendGrid sends a string for one category...
		default:
			ev["category"] = m.Categories // ...and an array for several
		}
		for k, v := range extra {
			ev[k] = v
		}
		return ev
	}
	events := []map[string]any{event("processed", nil)}
	if s.scenario.sgEvents == SendGridEventsBounces {
		events = nil // only the bounce or drop below
	}
	var last map[string]any
	switch p.Name {
	case PersonaBounce:
		last = event("bounce", map[string]any{"reason": "550 5.1.1 The email account that you tried to reach does not exist.",
			"status": "5.1.1", "type": "bounce", "bounce_classification": "Invalid Address"})
	case PersonaDrop:
		last = event("dropped", map[string]any{"reason": "Bounced Address", "status": "5.0.0"})
	default:
		last = event("delivered", map[string]any{"response": "250 2.0.0 OK", "tls": 1, "ip": "192.0.2.10"})
	}
	if s.scenario.postsEvents(p) {
		s.postEvents(ctx, m.MessageID, append(events, last))
	}
	s.updateEmail(addr, func(st *EmailStats) { st.count(p) })
	if !p.acts() {
		return
	}
	if !s.sleep(ctx, p.Delay) {
		return
	}
	link := s.findConfirmLink(m)
	if link == "" {
		s.log.Warn("sendgrid sim: no confirmation link in message", "x_message_id", m.MessageID, "persona", p.Name)
		s.updateEmail(addr, func(st *EmailStats) { st.LastError = "no confirmation link in the message" })
		return
	}
	err := s.followLink(ctx, addr, link, p.Name != PersonaScanner)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("sendgrid sim: persona could not follow the link", "x_message_id", m.MessageID, "persona", p.Name, "err", err)
		s.updateEmail(addr, func(st *EmailStats) { st.LastError = err.Error() })
	}
}

// acts reports whether an e-mail persona does something once the message
// is delivered (opens it and follows its link).
func (p persona) acts() bool {
	switch p.Name {
	case PersonaClick, PersonaClickLater, PersonaScanner:
		return true
	}
	return false
}

// count counts the message's delivery outcome for its persona.
func (st *EmailStats) count(p persona) {
	switch p.Name {
	case PersonaBounce:
		st.Bounced++
	case PersonaDrop:
		st.Dropped++
	default:
		st.Delivered++
	}
}

// postEvents delivers a signed event batch to the engine, retrying non-2xx
// answers with backoff.
func (s *Sandbox) postEvents(ctx context.Context, msgID string, events []map[string]any) {
	body, err := json.Marshal(events)
	if err != nil {
		s.log.Error("sendgrid sim: encode events", "err", err)
		return
	}
	target := s.engineURL + "/webhooks/sendgrid/events"
	backoff := s.webhookBackoff
	for attempt := 1; ; attempt++ {
		err := s.postSignedEvents(ctx, target, body)
		s.countEmail(func(t *EmailTotals) {
			t.WebhookPosts++
			if err != nil {
				t.WebhookFailures++
			}
		})
		if err == nil {
			return
		}
		if attempt == webhookAttempts || ctx.Err() != nil {
			if ctx.Err() == nil {
				s.log.Warn("sendgrid sim: giving up on event webhook", "x_message_id", msgID, "attempts", attempt, "err", err)
			}
			return
		}
		s.log.Info("sendgrid sim: event webhook failed, retrying", "x_message_id", msgID, "attempt", attempt, "err", err)
		if !sleepReal(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, webhookMaxBackoff)
	}
}

func (s *Sandbox) postSignedEvents(ctx context.Context, target string, body []byte) error {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := signSendGridEvent(s.sgKey, ts, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build event webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "SendGrid Event API")
	req.Header.Set(sgSignatureHeader, sig)
	req.Header.Set(sgTimestampHeader, ts)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("post event webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPageBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("event webhook answered %s", resp.Status)
	}
	return nil
}

// signSendGridEvent signs as SendGrid's signed event webhook does:
// base64(ASN.1 ECDSA signature over sha256(timestamp || body)).
func signSendGridEvent(key *ecdsa.PrivateKey, ts string, body []byte) (string, error) {
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(body)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h.Sum(nil))
	if err != nil {
		return "", fmt.Errorf("sign event webhook: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

var urlRE = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+`)

// findConfirmLink returns the first URL of the message that starts with
// {EngineURL}/confirm/: from the text/plain body, else from the HTML
// body's links, else from the dynamic template data.
func (s *Sandbox) findConfirmLink(m OutboxMessage) string {
	prefix := s.engineURL + "/confirm/"
	pick := func(candidates []string) string {
		for _, c := range candidates {
			c = strings.TrimRight(c, ".,;:!?)]")
			if strings.HasPrefix(c, prefix) && len(c) > len(prefix) {
				return c
			}
		}
		return ""
	}
	if l := pick(urlRE.FindAllString(m.Text, -1)); l != "" {
		return l
	}
	if m.HTML != "" {
		if doc, err := html.Parse(strings.NewReader(m.HTML)); err == nil {
			var hrefs []string
			for n := range doc.Descendants() {
				if n.Type == html.ElementNode && n.DataAtom == atom.A {
					hrefs = append(hrefs, attr(n, "href"))
				}
			}
			if l := pick(hrefs); l != "" {
				return l
			}
		}
	}
	var vals []string
	for _, v := range m.TemplateData {
		if str, ok := v.(string); ok {
			vals = append(vals, urlRE.FindAllString(str, -1)...)
		}
	}
	return pick(vals)
}

// followLink GETs the confirmation page like a browser and, when submit is
// true, submits its POST form. A scanner (submit false) only GETs.
func (s *Sandbox) followLink(ctx context.Context, addr, link string, submit bool) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return fmt.Errorf("cookie jar: %w", err)
	}
	c := &http.Client{Transport: s.http.Transport, Timeout: s.http.Timeout, Jar: jar}
	ua := "Mozilla/5.0 (sandbox recipient) breachflow-sandbox"
	if !submit {
		ua = "Mozilla/5.0 (compatible; sandbox link scanner) breachflow-sandbox"
	}
	resp, err := reloading(ctx, c, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
		if err != nil {
			return nil, fmt.Errorf("build GET: %w", err)
		}
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Accept", "text/html")
		return req, nil
	})
	if err != nil {
		return fmt.Errorf("GET confirmation page: %w", err)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	resp.Body.Close()
	s.updateEmail(addr, func(st *EmailStats) { st.LinkGETs++ })
	if err != nil {
		return fmt.Errorf("read confirmation page: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET confirmation page: status %s", resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/html" {
		return fmt.Errorf("GET confirmation page: content type %q, want text/html", mt)
	}
	if !submit {
		return nil
	}
	action, form, err := parsePostForm(resp.Request.URL, page)
	if err != nil {
		return err
	}
	presp, err := reloading(ctx, c, func() (*http.Request, error) {
		post, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, fmt.Errorf("build POST: %w", err)
		}
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.Header.Set("User-Agent", ua)
		post.Header.Set("Origin", resp.Request.URL.Scheme+"://"+resp.Request.URL.Host)
		post.Header.Set("Referer", resp.Request.URL.String())
		return post, nil
	})
	if err != nil {
		return fmt.Errorf("POST confirmation form: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(presp.Body, maxPageBytes))
	presp.Body.Close()
	ok := presp.StatusCode >= 200 && presp.StatusCode <= 299
	s.updateEmail(addr, func(st *EmailStats) {
		st.FormPOSTs++
		if ok {
			st.Confirmed++
		}
	})
	if ok {
		s.countEmail(func(t *EmailTotals) { t.Confirmed++ })
		return nil
	}
	return fmt.Errorf("POST confirmation form: status %s", presp.Status)
}

// parsePostForm finds the first <form method="post"> of a page and returns
// its action (resolved against the page URL) and the values a browser would
// submit with its first submit button.
func parsePostForm(pageURL *url.URL, page []byte) (string, url.Values, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", nil, fmt.Errorf("parse confirmation page: %w", err)
	}
	var form *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Form && strings.EqualFold(attr(n, "method"), "post") {
			form = n
			break
		}
	}
	if form == nil {
		return "", nil, errors.New(`confirmation page has no <form method="post">`)
	}
	action, err := pageURL.Parse(attr(form, "action"))
	if err != nil {
		return "", nil, fmt.Errorf("form action: %w", err)
	}
	vals := url.Values{}
	submitted := false
	for n := range form.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		name := attr(n, "name")
		switch n.DataAtom {
		case atom.Input:
			if name == "" || hasAttr(n, "disabled") {
				continue
			}
			switch strings.ToLower(attr(n, "type")) {
			case "submit", "image":
				if !submitted {
					vals.Add(name, attr(n, "value"))
					submitted = true
				}
			case "button", "reset", "file":
			case "checkbox", "radio":
				if hasAttr(n, "checked") {
					v := attr(n, "value")
					if !hasAttr(n, "value") {
						v = "on"
					}
					vals.Add(name, v)
				}
			default:
				vals.Add(name, attr(n, "value"))
			}
		case atom.Button:
			t := strings.ToLower(attr(n, "type"))
			if (t == "" || t == "submit") && !submitted {
				submitted = true
				if name != "" {
					vals.Add(name, attr(n, "value"))
				}
			}
		case atom.Textarea:
			if name != "" {
				var b strings.Builder
				for c := range n.Descendants() {
					if c.Type == html.TextNode {
						b.WriteString(c.Data)
					}
				}
				vals.Add(name, b.String())
			}
		}
	}
	return action.String(), vals, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return true
		}
	}
	return false
}

// personRetries is how often a person tries a page again when it does not
// load at all (the connection refused or cut): they press reload, or
// submit the form again, a few seconds apart. A page that loads, whatever
// it says, is not retried.
const personRetries = 5

// reloading sends the request build makes, again after a transport error,
// up to personRetries times, as a person would.
func reloading(ctx context.Context, c *http.Client, build func() (*http.Request, error)) (*http.Response, error) {
	var last error
	for attempt := range personRetries {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, last
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		req, err := build()
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err == nil {
			return resp, nil
		}
		last = err
	}
	return nil, last
}
