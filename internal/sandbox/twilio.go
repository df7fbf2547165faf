package sandbox

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachflow/breachflow/internal/sandbox/twilioroute"
)

// TwilioTransport routes twilio-go's requests to a Twilio simulator at base
// (e.g. sandboxURL+"/twilio"); see package twilioroute, which production code
// should import directly to avoid linking the simulator.
func TwilioTransport(base string, next http.RoundTripper) http.RoundTripper {
	return twilioroute.Transport(base, next)
}

const (
	twilioAPIVersion = "2010-04-01"
	twilioMaxTwiml   = 4000
	twilioMaxBody    = 1600
	twilioTimeFormat = time.RFC1123Z
	// ringTime is how long (simulated) an answering callee lets the phone ring.
	ringTime = 4 * time.Second
	// maxTwimlHops bounds how many TwiML documents one call goes through.
	maxTwimlHops = 10
)

// twilioMagic mirrors Twilio's magic test numbers: To numbers that fail at
// create time with a fixed error code.
var twilioMagic = map[string]struct {
	code     int
	msg      string
	smsOnly  bool
	httpCode int
}{
	"+15005550001": {21211, "The 'To' number is not a valid phone number.", false, 400},
	"+15005550002": {21612, "The 'To' phone number is not currently reachable.", false, 400},
	"+15005550003": {21408, "Permission to send an SMS or make a call has not been enabled for the region indicated by the 'To' number.", false, 400},
	"+15005550004": {21610, "Attempt to send to unsubscribed recipient.", false, 400},
	"+15005550009": {21614, "'To' number is not a valid mobile number.", true, 400},
}

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// Call is a simulated call as the sandbox recorded it.
type Call struct {
	Sid                  string     `json:"sid"`
	To                   string     `json:"to"`
	From                 string     `json:"from"`
	Status               string     `json:"status"`
	Persona              string     `json:"persona"`
	URL                  string     `json:"url,omitempty"`
	Method               string     `json:"method,omitempty"`
	Twiml                string     `json:"twiml,omitempty"`
	StatusCallback       string     `json:"status_callback,omitempty"`
	StatusCallbackMethod string     `json:"status_callback_method,omitempty"`
	StatusCallbackEvents []string   `json:"status_callback_events,omitempty"`
	Timeout              int        `json:"timeout"`
	DateCreated          time.Time  `json:"date_created"`
	StartTime            *time.Time `json:"start_time,omitempty"`
	EndTime              *time.Time `json:"end_time,omitempty"`
	// Duration is the simulated talk time in seconds.
	Duration int `json:"duration"`
	// Said is every <Say> the callee heard, in order.
	Said []Said `json:"said,omitempty"`
	// Digits lists what was sent to each <Gather> action ("" = no input).
	Digits []string `json:"digits,omitempty"`
	// Callbacks lists the CallStatus values reported to StatusCallback.
	Callbacks []string `json:"callbacks,omitempty"`
	Errors    []string `json:"errors,omitempty"`
	// Duplicate: created while an earlier call to the same number was live.
	Duplicate bool `json:"duplicate"`
}

// Said is one <Say> heard on a call.
type Said struct {
	Language string `json:"language,omitempty"`
	Voice    string `json:"voice,omitempty"`
	Text     string `json:"text"`
}

// SMS is a simulated text message as the sandbox recorded it.
type SMS struct {
	Sid            string    `json:"sid"`
	To             string    `json:"to"`
	From           string    `json:"from"`
	Body           string    `json:"body"`
	Status         string    `json:"status"`
	Segments       int       `json:"segments"`
	StatusCallback string    `json:"status_callback,omitempty"`
	ErrorCode      int       `json:"error_code,omitempty"`
	DateCreated    time.Time `json:"date_created"`
	Callbacks      []string  `json:"callbacks,omitempty"`
	Duplicate      bool      `json:"duplicate"`
}

type simCall struct {
	Call
	persona persona
	attempt int // 1-based count of calls to this number
	seq     int // status callback sequence number
	cancel  context.CancelFunc
	// hungUp is set when the API ended the call (Status=completed/canceled).
	hungUp bool
	// redirect is TwiML or a URL set by an update of a live call.
	redirect *twimlSource
	done     bool
}

type twimlSource struct{ twiml, url, method string }

type twilioState struct {
	calls     map[string]*simCall
	callOrder []string
	sms       map[string]*SMS
	smsOrder  []string
	phone     map[string]*PhoneStats
	attempts  map[string]int
	smsDK     map[string]int
	totals    PhoneTotals
}

func newTwilioState() *twilioState {
	return &twilioState{calls: map[string]*simCall{}, sms: map[string]*SMS{},
		phone: map[string]*PhoneStats{}, attempts: map[string]int{}, smsDK: map[string]int{}}
}

// phoneStat returns the stats of a number; s.mu must be held.
func (s *Sandbox) phoneStat(number string) *PhoneStats {
	st, ok := s.twilio.phone[number]
	if !ok {
		st = &PhoneStats{}
		s.twilio.phone[number] = st
	}
	return st
}

func (s *Sandbox) updatePhone(number string, f func(*PhoneStats)) {
	s.mu.Lock()
	f(s.phoneStat(number))
	s.mu.Unlock()
}

func (s *Sandbox) twilioRoutes(provider func(string, http.HandlerFunc)) {
	const acct = "/twilio/2010-04-01/Accounts/{AC}"
	provider("POST "+acct+"/Calls.json", s.twilioAuth(s.handleCreateCall))
	provider("GET "+acct+"/Calls.json", s.twilioAuth(s.handleListCalls))
	provider("GET "+acct+"/Calls/{file}", s.twilioAuth(s.handleFetchCall))
	provider("POST "+acct+"/Calls/{file}", s.twilioAuth(s.handleUpdateCall))
	provider("POST "+acct+"/Messages.json", s.twilioAuth(s.handleCreateMessage))
	provider("GET "+acct+"/Messages/{file}", s.twilioAuth(s.handleFetchMessage))
}

// twilioAuth checks HTTP Basic AccountSid:AuthToken and the account in the path.
func (s *Sandbox) twilioAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != s.cfg.TwilioAccountSID || pass != s.cfg.TwilioAuthToken {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeTwilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		if r.PathValue("AC") != s.cfg.TwilioAccountSID {
			writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
			return
		}
		if err := r.ParseForm(); err != nil {
			writeTwilioError(w, http.StatusBadRequest, 20001, "Invalid form body")
			return
		}
		h(w, r)
	}
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (s *Sandbox) rejectCall(w http.ResponseWriter, to string, status, code int, msg string) {
	s.mu.Lock()
	s.twilio.totals.CallsRejected++
	if to != "" {
		s.phoneStat(to).Rejected++
	}
	s.mu.Unlock()
	s.log.Info("twilio: rejected call", "code", code)
	writeTwilioError(w, status, code, msg)
}

func (s *Sandbox) handleCreateCall(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	to, from := f.Get("To"), f.Get("From")
	twiml, u := f.Get("Twiml"), f.Get("Url")
	switch {
	case to == "":
		s.rejectCall(w, "", 400, 21201, "No 'To' number is specified")
		return
	case from == "":
		s.rejectCall(w, to, 400, 21213, "No 'From' number is specified")
		return
	case !e164RE.MatchString(from):
		s.rejectCall(w, to, 400, 21212, "The 'From' number is not a valid phone number.")
		return
	case u == "" && twiml == "" && f.Get("ApplicationSid") == "":
		s.rejectCall(w, to, 400, 21205, "Url, Twiml or ApplicationSid parameter is required.")
		return
	case u != "" && !absoluteURL(u):
		s.rejectCall(w, to, 400, 21205, "Url is not a valid URL.")
		return
	case f.Get("StatusCallback") != "" && !absoluteURL(f.Get("StatusCallback")):
		s.rejectCall(w, to, 400, 21609, "StatusCallback is not a valid URL.")
		return
	}
	if u == "" && twiml != "" {
		if utf8.RuneCountInString(twiml) > twilioMaxTwiml {
			s.rejectCall(w, to, 400, 32018, "Twiml size exceeded maximum allowed value of 4000 characters")
			return
		}
		if _, err := parseTwiml([]byte(twiml)); err != nil {
			s.rejectCall(w, to, 400, 12100, "Document parse failure: "+err.Error())
			return
		}
	}
	method := strings.ToUpper(f.Get("Method"))
	if method == "" {
		method = http.MethodPost
	}
	cbMethod := strings.ToUpper(f.Get("StatusCallbackMethod"))
	if cbMethod == "" {
		cbMethod = http.MethodPost
	}
	if (method != "GET" && method != "POST") || (cbMethod != "GET" && cbMethod != "POST") {
		s.rejectCall(w, to, 400, 21603, "Method must be GET or POST.")
		return
	}
	timeout := 60
	if t := f.Get("Timeout"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			s.rejectCall(w, to, 400, 21216, "Timeout must be a positive number of seconds.")
			return
		}
		timeout = min(n, 600)
	}
	if m, ok := twilioMagic[to]; ok && !m.smsOnly {
		s.rejectCall(w, to, m.httpCode, m.code, m.msg)
		return
	}
	if !e164RE.MatchString(to) {
		s.rejectCall(w, to, 400, 21211, "The 'To' number is not a valid phone number.")
		return
	}
	p := s.scenario.phonePersona(to)
	if p.Name == PersonaInvalid {
		s.rejectCall(w, to, 400, 21211, "The 'To' number is not a valid phone number.")
		return
	}
	c := &simCall{Call: Call{
		Sid: "CA" + randomHex(16), To: to, From: from, Status: "queued", Persona: p.Name,
		URL: u, Method: method, StatusCallback: f.Get("StatusCallback"), StatusCallbackMethod: cbMethod,
		StatusCallbackEvents: f["StatusCallbackEvent"], Timeout: timeout, DateCreated: time.Now().UTC(),
	}, persona: p}
	if u == "" {
		c.Twiml = twiml
	}
	s.mu.Lock()
	for _, sid := range s.twilio.callOrder {
		if o := s.twilio.calls[sid]; o.To == to && !terminalCallStatus(o.Status) {
			c.Duplicate = true
		}
	}
	s.twilio.attempts[to]++
	c.attempt = s.twilio.attempts[to]
	s.twilio.calls[c.Sid] = c
	s.twilio.callOrder = append(s.twilio.callOrder, c.Sid)
	s.twilio.totals.CallsCreated++
	st := s.phoneStat(to)
	st.Persona = p.Name
	st.Calls++
	if c.Duplicate {
		st.CallDuplicates++
		s.twilio.totals.CallDuplicates++
	}
	resp := s.callJSON(c)
	callCtx, cancel := context.WithCancel(s.ctx)
	c.cancel = cancel
	s.mu.Unlock()
	if !s.spawn(func(ctx context.Context) { defer cancel(); s.runCall(ctx, callCtx, c) }) {
		cancel()
	}
	s.log.Info("twilio: call created", "call_sid", c.Sid, "persona", p.Name, "attempt", c.attempt)
	writeJSON(w, http.StatusCreated, resp)
}

func terminalCallStatus(s string) bool {
	switch s {
	case "completed", "busy", "no-answer", "failed", "canceled":
		return true
	}
	return false
}

// callJSON renders a call as Twilio does (string fields); s.mu must be held.
func (s *Sandbox) callJSON(c *simCall) map[string]any {
	str := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.Format(twilioTimeFormat)
	}
	var duration any
	if terminalCallStatus(c.Status) {
		duration = strconv.Itoa(c.Duration)
	}
	uri := "/2010-04-01/Accounts/" + s.cfg.TwilioAccountSID + "/Calls/" + c.Sid
	updated := c.DateCreated
	if c.EndTime != nil {
		updated = *c.EndTime
	} else if c.StartTime != nil {
		updated = *c.StartTime
	}
	return map[string]any{
		"sid":              c.Sid,
		"date_created":     c.DateCreated.Format(twilioTimeFormat),
		"date_updated":     updated.Format(twilioTimeFormat),
		"parent_call_sid":  nil,
		"account_sid":      s.cfg.TwilioAccountSID,
		"to":               c.To,
		"to_formatted":     c.To,
		"from":             c.From,
		"from_formatted":   c.From,
		"phone_number_sid": "PN" + strings.Repeat("0", 32),
		"status":           c.Status,
		"start_time":       str(c.StartTime),
		"end_time":         str(c.EndTime),
		"duration":         duration,
		"price":            nil,
		"price_unit":       "USD",
		"direction":        "outbound-api",
		"answered_by":      nil,
		"api_version":      twilioAPIVersion,
		"forwarded_from":   nil,
		"group_sid":        nil,
		"caller_name":      nil,
		"queue_time":       "0",
		"trunk_sid":        nil,
		"uri":              uri + ".json",
		"subresource_uris": map[string]any{
			"notifications": uri + "/Notifications.json",
			"recordings":    uri + "/Recordings.json",
			"events":        uri + "/Events.json",
		},
	}
}

func (s *Sandbox) lookupCall(w http.ResponseWriter, r *http.Request) *simCall {
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	c := s.twilio.calls[sid]
	if !ok || c == nil {
		writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return nil
	}
	return c
}

func (s *Sandbox) handleFetchCall(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.lookupCall(w, r); c != nil {
		writeJSON(w, http.StatusOK, s.callJSON(c))
	}
}

// handleUpdateCall supports Status=completed|canceled (hang up) and Twiml
// or Url (redirect a live call).
func (s *Sandbox) handleUpdateCall(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupCall(w, r)
	if c == nil {
		return
	}
	f := r.PostForm
	switch status := f.Get("Status"); status {
	case "":
	case "completed", "canceled":
		if terminalCallStatus(c.Status) {
			break // Twilio accepts and changes nothing
		}
		if status == "canceled" && c.Status == "in-progress" {
			break // canceled only affects queued or ringing calls
		}
		if status == "completed" && c.Status != "in-progress" {
			status = "canceled"
		}
		c.Status = status
		c.hungUp = true
		now := time.Now().UTC()
		c.EndTime = &now
		c.cancel()
	default:
		writeTwilioError(w, http.StatusBadRequest, 21220, "Invalid call state: "+status)
		return
	}
	if tw, u := f.Get("Twiml"), f.Get("Url"); (tw != "" || u != "") && !terminalCallStatus(c.Status) {
		if u != "" && !absoluteURL(u) {
			writeTwilioError(w, http.StatusBadRequest, 21205, "Url is not a valid URL.")
			return
		}
		if u == "" {
			if _, err := parseTwiml([]byte(tw)); err != nil {
				writeTwilioError(w, http.StatusBadRequest, 12100, "Document parse failure: "+err.Error())
				return
			}
		}
		method := strings.ToUpper(f.Get("Method"))
		if method == "" {
			method = http.MethodPost
		}
		c.redirect = &twimlSource{twiml: tw, url: u, method: method}
	}
	writeJSON(w, http.StatusOK, s.callJSON(c))
}

func (s *Sandbox) handleListCalls(w http.ResponseWriter, r *http.Request) {
	q := r.Form
	parseT := func(key string) (time.Time, bool) {
		v := q.Get(key)
		if v == "" {
			return time.Time{}, false
		}
		for _, layout := range []string{time.RFC3339, time.DateOnly} {
			if t, err := time.Parse(layout, v); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	after, hasAfter := parseT("StartTime>")
	before, hasBefore := parseT("StartTime<")
	pageSize := 50
	if n, err := strconv.Atoi(q.Get("PageSize")); err == nil && n > 0 {
		pageSize = min(n, 1000)
	}
	s.mu.Lock()
	calls := []map[string]any{}
	for i := len(s.twilio.callOrder) - 1; i >= 0; i-- { // newest first, like Twilio
		c := s.twilio.calls[s.twilio.callOrder[i]]
		switch {
		case q.Get("To") != "" && c.To != q.Get("To"),
			q.Get("From") != "" && c.From != q.Get("From"),
			q.Get("Status") != "" && c.Status != q.Get("Status"),
			hasAfter && c.DateCreated.Before(after),
			hasBefore && !c.DateCreated.Before(before):
			continue
		}
		calls = append(calls, s.callJSON(c))
	}
	s.mu.Unlock()
	uri := r.URL.Path
	writeJSON(w, http.StatusOK, map[string]any{
		"calls":             calls,
		"end":               max(len(calls)-1, 0),
		"first_page_uri":    uri + "?PageSize=" + strconv.Itoa(pageSize) + "&Page=0",
		"next_page_uri":     nil,
		"page":              0,
		"page_size":         pageSize,
		"previous_page_uri": nil,
		"start":             0,
		"uri":               uri,
	})
}

// smsSegments counts SMS segments: GSM-7 text (approximated as ASCII) fits
// 160 characters (153 per part when split), anything else is UCS-2 with 70
// (67 per part).
func smsSegments(body string) int {
	n := utf8.RuneCountInString(body)
	single, multi := 160, 153
	for _, r := range body {
		if r > 0x7f {
			single, multi = 70, 67
			break
		}
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

func (s *Sandbox) rejectSMS(w http.ResponseWriter, to string, status, code int, msg string) {
	s.mu.Lock()
	s.twilio.totals.MessagesRejected++
	if to != "" {
		s.phoneStat(to).Rejected++
	}
	s.mu.Unlock()
	s.log.Info("twilio: rejected message", "code", code)
	writeTwilioError(w, status, code, msg)
}

func (s *Sandbox) handleCreateMessage(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	to, from, body := f.Get("To"), f.Get("From"), f.Get("Body")
	if from == "" {
		from = f.Get("MessagingServiceSid")
	}
	cb := f.Get("StatusCallback")
	switch {
	case to == "":
		s.rejectSMS(w, "", 400, 21604, "A 'To' phone number is required.")
		return
	case from == "":
		s.rejectSMS(w, to, 400, 21603, "A 'From' phone number or MessagingServiceSid is required.")
		return
	case body == "" && f.Get("MediaUrl") == "" && f.Get("ContentSid") == "":
		s.rejectSMS(w, to, 400, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(body) > twilioMaxBody:
		s.rejectSMS(w, to, 400, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	case cb != "" && !absoluteURL(cb):
		s.rejectSMS(w, to, 400, 21609, "StatusCallback is not a valid URL.")
		return
	}
	if m, ok := twilioMagic[to]; ok {
		s.rejectSMS(w, to, m.httpCode, m.code, m.msg)
		return
	}
	if !e164RE.MatchString(to) {
		s.rejectSMS(w, to, 400, 21211, "The 'To' number is not a valid phone number.")
		return
	}
	p := s.scenario.phonePersona(to)
	if p.Name == PersonaInvalid {
		s.rejectSMS(w, to, 400, 21211, "The 'To' number is not a valid phone number.")
		return
	}
	m := &SMS{Sid: "SM" + randomHex(16), To: to, From: from, Body: body, Status: "queued",
		Segments: smsSegments(body), StatusCallback: cb, DateCreated: time.Now().UTC()}
	s.mu.Lock()
	dk := to + "\x00" + body + "\x00" + cb
	s.twilio.smsDK[dk]++
	m.Duplicate = s.twilio.smsDK[dk] > 1
	s.twilio.sms[m.Sid] = m
	s.twilio.smsOrder = append(s.twilio.smsOrder, m.Sid)
	s.twilio.totals.MessagesCreated++
	st := s.phoneStat(to)
	st.Persona = p.Name
	st.Messages++
	if m.Duplicate {
		st.MessageDuplicates++
		s.twilio.totals.MessageDuplicates++
	}
	resp := s.smsJSON(m)
	s.mu.Unlock()
	s.spawn(func(ctx context.Context) { s.runSMS(ctx, m, p) })
	s.log.Info("twilio: message created", "message_sid", m.Sid, "segments", m.Segments)
	writeJSON(w, http.StatusCreated, resp)
}

// smsJSON renders a message as Twilio does; s.mu must be held.
func (s *Sandbox) smsJSON(m *SMS) map[string]any {
	uri := "/2010-04-01/Accounts/" + s.cfg.TwilioAccountSID + "/Messages/" + m.Sid
	var errCode, errMsg any
	if m.ErrorCode != 0 {
		errCode, errMsg = m.ErrorCode, "Unknown destination handset"
	}
	var svc any
	if strings.HasPrefix(m.From, "MG") {
		svc = m.From
	}
	return map[string]any{
		"sid":                   m.Sid,
		"account_sid":           s.cfg.TwilioAccountSID,
		"to":                    m.To,
		"from":                  m.From,
		"body":                  m.Body,
		"status":                m.Status,
		"num_segments":          strconv.Itoa(m.Segments),
		"num_media":             "0",
		"direction":             "outbound-api",
		"api_version":           twilioAPIVersion,
		"price":                 nil,
		"price_unit":            "USD",
		"error_code":            errCode,
		"error_message":         errMsg,
		"messaging_service_sid": svc,
		"date_created":          m.DateCreated.Format(twilioTimeFormat),
		"date_updated":          m.DateCreated.Format(twilioTimeFormat),
		"date_sent":             nil,
		"uri":                   uri + ".json",
		"subresource_uris":      map[string]any{"media": uri + "/Media.json"},
	}
}

func (s *Sandbox) handleFetchMessage(w http.ResponseWriter, r *http.Request) {
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.twilio.sms[sid]
	if !ok || m == nil {
		writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	writeJSON(w, http.StatusOK, s.smsJSON(m))
}

// runSMS reports queued -> sent -> delivered (or undelivered, 30003).
func (s *Sandbox) runSMS(ctx context.Context, m *SMS, p persona) {
	final, code := "delivered", 0
	if p.Name == PersonaSMSUndelivered {
		final, code = "undelivered", 30003
	}
	for _, status := range []string{"queued", "sent", final} {
		if status != "queued" && !s.sleep(ctx, time.Second) {
			return
		}
		s.mu.Lock()
		m.Status = status
		if status == final {
			m.ErrorCode = code
			st := s.phoneStat(m.To)
			if code == 0 {
				st.SMSDelivered++
			} else {
				st.SMSUndelivered++
			}
		}
		cb := m.StatusCallback
		s.mu.Unlock()
		if cb == "" {
			continue
		}
		params := url.Values{
			"MessageSid":    {m.Sid},
			"SmsSid":        {m.Sid},
			"AccountSid":    {s.cfg.TwilioAccountSID},
			"From":          {m.From},
			"To":            {m.To},
			"MessageStatus": {status},
			"SmsStatus":     {status},
			"ApiVersion":    {twilioAPIVersion},
		}
		if status == final && code != 0 {
			params.Set("ErrorCode", strconv.Itoa(code))
		}
		_, err := s.twilioWebhook(ctx, http.MethodPost, cb, params)
		s.mu.Lock()
		m.Callbacks = append(m.Callbacks, status)
		s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("twilio sim: SMS status callback failed", "message_sid", m.Sid, "status", status, "err", err)
		}
	}
}

// Calls returns a copy of every call, oldest first.
func (s *Sandbox) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.twilio.callOrder))
	for _, sid := range s.twilio.callOrder {
		c := s.twilio.calls[sid].Call
		c.Said = append([]Said(nil), c.Said...)
		c.Digits = append([]string(nil), c.Digits...)
		c.Callbacks = append([]string(nil), c.Callbacks...)
		c.Errors = append([]string(nil), c.Errors...)
		out = append(out, c)
	}
	return out
}

// Messages returns a copy of every SMS, oldest first.
func (s *Sandbox) Messages() []SMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SMS, 0, len(s.twilio.smsOrder))
	for _, sid := range s.twilio.smsOrder {
		m := *s.twilio.sms[sid]
		m.Callbacks = append([]string(nil), m.Callbacks...)
		out = append(out, m)
	}
	return out
}

// twilioSignature computes X-Twilio-Signature: base64(HMAC-SHA1(token,
// url + each param name and value, sorted by name)).
func twilioSignature(token, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return hmacBase64SHA1(token, b.String())
}

// twimlNode is any TwiML element.
type twimlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Text    string      `xml:",chardata"`
	Nodes   []twimlNode `xml:",any"`
}

func (n twimlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// parseTwiml parses a TwiML document; the root must be <Response>.
func parseTwiml(doc []byte) (*twimlNode, error) {
	var root twimlNode
	if err := xml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	if root.XMLName.Local != "Response" {
		return nil, errors.New("the root element is <" + root.XMLName.Local + ">, not <Response>")
	}
	return &root, nil
}
