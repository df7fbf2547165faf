package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// errHangup ends a call's TwiML (a <Hangup/>, <Reject/>, or the callee or
// the API hanging up).
var errHangup = errors.New("hang up")

// runCall plays the callee of one call. ctx is the sandbox's lifetime;
// callCtx also ends when the API hangs the call up.
func (s *Sandbox) runCall(ctx, callCtx context.Context, c *simCall) {
	p := c.persona
	defer func() {
		s.mu.Lock()
		c.done = true
		s.mu.Unlock()
	}()
	if !s.callProgress(callCtx, c, "initiated", "initiated", nil) {
		s.finishHungUp(ctx, c)
		return
	}
	if p.Name == PersonaBusy {
		if s.sleep(callCtx, time.Second) {
			s.endCall(ctx, c, "busy", url.Values{"SipResponseCode": {"486"}})
		} else {
			s.finishHungUp(ctx, c)
		}
		return
	}
	if !s.callProgress(callCtx, c, "ringing", "ringing", nil) {
		s.finishHungUp(ctx, c)
		return
	}
	answers := false
	switch p.Name {
	case PersonaPress1, PersonaPress2, PersonaSilence:
		answers = true
	case PersonaNoAnswerThenPress1:
		answers = c.attempt > p.Count
	}
	if !answers {
		if s.sleep(callCtx, time.Duration(c.Timeout)*time.Second) {
			s.endCall(ctx, c, "no-answer", url.Values{"SipResponseCode": {"487"}})
		} else {
			s.finishHungUp(ctx, c)
		}
		return
	}
	if !s.sleep(callCtx, ringTime) {
		s.finishHungUp(ctx, c)
		return
	}
	s.mu.Lock()
	now := time.Now().UTC()
	c.StartTime = &now
	s.mu.Unlock()
	if !s.callProgress(callCtx, c, "answered", "in-progress", nil) {
		s.finishHungUp(ctx, c)
		return
	}
	s.updatePhone(c.To, func(st *PhoneStats) { st.Answered++ })
	talk, err := s.converse(callCtx, c)
	s.mu.Lock()
	c.Duration = int(talk / time.Second)
	s.mu.Unlock()
	if err != nil && !errors.Is(err, errHangup) && callCtx.Err() == nil {
		s.callError(c, err.Error())
	}
	if callCtx.Err() != nil {
		s.finishHungUp(ctx, c)
		return
	}
	s.endCall(ctx, c, "completed", nil)
}

// finishHungUp reports the terminal status after the API hung up (the
// handler already set it); when the sandbox is closing it does nothing.
func (s *Sandbox) finishHungUp(ctx context.Context, c *simCall) {
	s.mu.Lock()
	hungUp, status := c.hungUp, c.Status
	s.mu.Unlock()
	if !hungUp || ctx.Err() != nil {
		return
	}
	s.endCall(ctx, c, status, nil)
}

func (s *Sandbox) callError(c *simCall, msg string) {
	s.mu.Lock()
	c.Errors = append(c.Errors, msg)
	s.phoneStat(c.To).LastError = msg
	s.mu.Unlock()
	s.log.Warn("twilio sim: call error", "call_sid", c.Sid, "err", msg)
}

// endCall sets a terminal status and reports it (always, like Twilio's
// "completed" event).
func (s *Sandbox) endCall(ctx context.Context, c *simCall, status string, extra url.Values) {
	s.mu.Lock()
	c.Status = status
	if c.EndTime == nil {
		now := time.Now().UTC()
		c.EndTime = &now
	}
	st := s.phoneStat(c.To)
	switch status {
	case "completed":
		st.Completed++
	case "busy":
		st.Busy++
	case "no-answer":
		st.NoAnswer++
	case "canceled":
		st.Canceled++
	}
	if extra == nil {
		extra = url.Values{}
	}
	if status == "completed" {
		extra.Set("CallDuration", strconv.Itoa(c.Duration))
		extra.Set("Duration", strconv.Itoa((c.Duration+59)/60))
	} else {
		extra.Set("CallDuration", "0")
	}
	s.mu.Unlock()
	s.callProgress(ctx, c, "completed", status, extra)
}

// callProgress sends a status callback if StatusCallback is set and the
// event was requested ("completed" is always sent). It reports false if
// ctx ended.
func (s *Sandbox) callProgress(ctx context.Context, c *simCall, event, status string, extra url.Values) bool {
	s.mu.Lock()
	if c.Status != status && !terminalCallStatus(c.Status) {
		c.Status = status
	}
	cb, method := c.StatusCallback, c.StatusCallbackMethod
	want := event == "completed" || contains(c.StatusCallbackEvents, event)
	var params url.Values
	if cb != "" && want {
		params = s.callParams(c, status)
		params.Set("CallbackSource", "call-progress-events")
		params.Set("SequenceNumber", strconv.Itoa(c.seq))
		params.Set("Timestamp", time.Now().UTC().Format(twilioTimeFormat))
		c.seq++
		for k, v := range extra {
			params[k] = v
		}
	}
	s.mu.Unlock()
	if params == nil {
		return ctx.Err() == nil
	}
	_, err := s.twilioWebhook(ctx, method, cb, params)
	s.mu.Lock()
	c.Callbacks = append(c.Callbacks, status)
	s.twilio.totals.Callbacks++
	if err != nil {
		s.twilio.totals.CallbackFailures++
	}
	s.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		s.log.Warn("twilio sim: status callback failed", "call_sid", c.Sid, "status", status, "err", err)
	}
	return ctx.Err() == nil
}

// callParams are the parameters Twilio sends with every voice request; s.mu
// must be held.
func (s *Sandbox) callParams(c *simCall, status string) url.Values {
	return url.Values{
		"CallSid":    {c.Sid},
		"AccountSid": {s.cfg.TwilioAccountSID},
		"From":       {c.From},
		"To":         {c.To},
		"Caller":     {c.From},
		"Called":     {c.To},
		"CallStatus": {status},
		"Direction":  {"outbound-api"},
		"ApiVersion": {twilioAPIVersion},
	}
}

// converse runs the call's TwiML with the persona's keypresses and returns
// the simulated talk time.
func (s *Sandbox) converse(ctx context.Context, c *simCall) (time.Duration, error) {
	var talk time.Duration
	s.mu.Lock()
	doc, docURL, method := []byte(c.Twiml), c.URL, c.Method
	s.mu.Unlock()
	if docURL != "" {
		var err error
		if doc, err = s.fetchTwiml(ctx, c, method, docURL, nil); err != nil {
			return talk, err
		}
	}
	for hop := 0; ; hop++ {
		if hop == maxTwimlHops {
			return talk, errHangup // the callee gives up on an endless menu
		}
		next, err := s.runTwiml(ctx, c, doc, docURL, &talk)
		if err != nil || next == nil {
			return talk, err
		}
		doc, docURL = next.doc, next.url
	}
}

type nextDoc struct {
	doc []byte
	url string
}

// runTwiml executes one TwiML document. It returns the next document (after
// a Gather action or a Redirect), nil at the end of the document, or
// errHangup.
func (s *Sandbox) runTwiml(ctx context.Context, c *simCall, doc []byte, docURL string, talk *time.Duration) (*nextDoc, error) {
	root, err := parseTwiml(doc)
	if err != nil {
		return nil, fmt.Errorf("12100 document parse failure: %w", err)
	}
	p := c.persona
	for _, verb := range root.Nodes {
		if r := s.takeRedirect(c); r != nil {
			return s.follow(ctx, c, r.method, r.url, r.twiml, docURL)
		}
		switch verb.XMLName.Local {
		case "Say":
			s.hear(c, verb, talk)
		case "Pause":
			n, err := strconv.Atoi(verb.attr("length"))
			if err != nil || n < 1 {
				n = 1
			}
			*talk += time.Duration(n) * time.Second
		case "Play":
			*talk += 3 * time.Second
		case "Gather":
			for _, inner := range verb.Nodes {
				if inner.XMLName.Local == "Say" {
					s.hear(c, inner, talk)
				}
			}
			digits := ""
			switch p.Name {
			case PersonaPress1, PersonaNoAnswerThenPress1:
				digits = "1"
			case PersonaPress2:
				digits = "2"
			}
			if n, err := strconv.Atoi(verb.attr("numDigits")); err == nil && n > 0 && len(digits) > n {
				digits = digits[:n]
			}
			wait := p.Delay
			if digits == "" {
				t, err := strconv.Atoi(verb.attr("timeout"))
				if err != nil || t < 1 {
					t = 5
				}
				wait = time.Duration(t) * time.Second
			}
			if !s.sleep(ctx, wait) {
				return nil, ctx.Err()
			}
			*talk += wait
			if digits == "" && verb.attr("actionOnEmptyResult") != "true" {
				s.recordDigits(c, "")
				continue // no input: Twilio goes on with the next verb
			}
			target, err := resolveAction(docURL, verb.attr("action"))
			if err != nil {
				return nil, err
			}
			params := url.Values{"Digits": {digits}, "FinishedOnKey": {""}, "msg": {"Gather End"}}
			s.recordDigits(c, digits)
			next, err := s.fetchTwiml(ctx, c, strings.ToUpper(verb.attr("method")), target, params)
			if err != nil {
				return nil, err
			}
			return &nextDoc{doc: next, url: target}, nil
		case "Redirect":
			target, err := resolveAction(docURL, strings.TrimSpace(verb.Text))
			if err != nil {
				return nil, err
			}
			return s.follow(ctx, c, strings.ToUpper(verb.attr("method")), target, "", docURL)
		case "Hangup", "Reject":
			return nil, errHangup
		default:
			s.callError(c, "12200 schema validation warning: unsupported verb <"+verb.XMLName.Local+">")
		}
	}
	if r := s.takeRedirect(c); r != nil {
		return s.follow(ctx, c, r.method, r.url, r.twiml, docURL)
	}
	return nil, nil
}

// follow fetches the TwiML of a redirect (or takes inline TwiML).
func (s *Sandbox) follow(ctx context.Context, c *simCall, method, target, twiml, docURL string) (*nextDoc, error) {
	if target == "" {
		return &nextDoc{doc: []byte(twiml), url: docURL}, nil
	}
	doc, err := s.fetchTwiml(ctx, c, method, target, nil)
	if err != nil {
		return nil, err
	}
	return &nextDoc{doc: doc, url: target}, nil
}

func (s *Sandbox) takeRedirect(c *simCall) *twimlSource {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.redirect
	c.redirect = nil
	return r
}

func (s *Sandbox) hear(c *simCall, say twimlNode, talk *time.Duration) {
	text := strings.TrimSpace(say.Text)
	*talk += time.Duration(1+utf8.RuneCountInString(text)/8) * time.Second
	s.mu.Lock()
	c.Said = append(c.Said, Said{Language: say.attr("language"), Voice: say.attr("voice"), Text: text})
	s.mu.Unlock()
}

func (s *Sandbox) recordDigits(c *simCall, digits string) {
	s.mu.Lock()
	c.Digits = append(c.Digits, digits)
	st := s.phoneStat(c.To)
	if digits != "" {
		st.Digits = append(st.Digits, digits)
	}
	s.mu.Unlock()
}

// resolveAction resolves a Gather action or Redirect URL against the
// current document's URL. With inline TwiML there is none, so it must be
// absolute (Twilio error 15004 otherwise).
func resolveAction(docURL, action string) (string, error) {
	if absoluteURL(action) {
		return action, nil
	}
	if docURL == "" {
		return "", fmt.Errorf("15004 the URL %q is not absolute and inline TwiML has no document URL", action)
	}
	base, err := url.Parse(docURL)
	if err != nil {
		return "", fmt.Errorf("document URL: %w", err)
	}
	u, err := base.Parse(action)
	if err != nil {
		return "", fmt.Errorf("11100 invalid URL %q: %w", action, err)
	}
	return u.String(), nil
}

// fetchTwiml requests TwiML from the engine with the call's parameters plus
// extra, signed like Twilio.
func (s *Sandbox) fetchTwiml(ctx context.Context, c *simCall, method, target string, extra url.Values) ([]byte, error) {
	s.mu.Lock()
	params := s.callParams(c, "in-progress")
	s.mu.Unlock()
	for k, v := range extra {
		params[k] = v
	}
	body, err := s.twilioWebhook(ctx, method, target, params)
	if err != nil {
		return nil, fmt.Errorf("11200 HTTP retrieval failure: %w", err)
	}
	return body, nil
}

// twilioWebhook sends a signed Twilio webhook (POST form, or GET with the
// parameters in the query) and returns the response body of a 2xx answer.
func (s *Sandbox) twilioWebhook(ctx context.Context, method, target string, params url.Values) ([]byte, error) {
	if method == "" {
		method = http.MethodPost
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var req *http.Request
	var err error
	if method == http.MethodGet {
		u, perr := url.Parse(target)
		if perr != nil {
			return nil, fmt.Errorf("webhook URL: %w", perr)
		}
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil {
			req.Header.Set("X-Twilio-Signature", twilioSignature(s.cfg.TwilioAuthToken, u.String(), nil))
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", twilioSignature(s.cfg.TwilioAuthToken, target, params))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("I-Twilio-Idempotency-Token", randomHex(16))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("Accept", "*/*")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s webhook: %w", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read webhook answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("webhook answered %s", resp.Status)
	}
	return body, nil
}
