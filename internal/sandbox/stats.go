package sandbox

import "net/http"

// Stats is a snapshot of what the sandbox received and what its simulated
// recipients did. Maps are keyed by address (lower case) or E.164 number.
type Stats struct {
	Email       map[string]EmailStats `json:"email"`
	EmailTotals EmailTotals           `json:"email_totals"`
	Phone       map[string]PhoneStats `json:"phone"`
	PhoneTotals PhoneTotals           `json:"phone_totals"`
	Slack       SlackTotals           `json:"slack"`
}

// SlackTotals counts Slack Web API calls and simulated user actions.
type SlackTotals struct {
	APICalls        int `json:"api_calls"`
	APIErrors       int `json:"api_errors"`
	Messages        int `json:"messages"`
	Updates         int `json:"updates"`
	Ephemerals      int `json:"ephemerals"`
	ViewsOpened     int `json:"views_opened"`
	ViewsUpdated    int `json:"views_updated"`
	SlashCommands   int `json:"slash_commands"`
	ViewSubmissions int `json:"view_submissions"`
	ButtonClicks    int `json:"button_clicks"`
}

// PhoneStats counts, for one E.164 number, the calls and texts it received
// and what its persona did.
type PhoneStats struct {
	Persona string `json:"persona"`
	// Calls created to the number; CallDuplicates among them were created
	// while an earlier call to the number was still live.
	Calls          int `json:"calls"`
	CallDuplicates int `json:"call_duplicates"`
	Answered       int `json:"answered"`
	Completed      int `json:"completed"`
	NoAnswer       int `json:"no_answer"`
	Busy           int `json:"busy"`
	Canceled       int `json:"canceled"`
	// Digits pressed, one entry per Gather answered with input.
	Digits []string `json:"digits,omitempty"`
	// Messages (SMS) created to the number; MessageDuplicates among them had
	// the same body and status callback as an earlier one.
	Messages          int `json:"messages"`
	MessageDuplicates int `json:"message_duplicates"`
	SMSDelivered      int `json:"sms_delivered"`
	SMSUndelivered    int `json:"sms_undelivered"`
	// Rejected create requests (invalid or magic numbers, bad parameters).
	Rejected  int    `json:"rejected"`
	LastError string `json:"last_error,omitempty"`
}

// PhoneTotals are request-level Twilio counters.
type PhoneTotals struct {
	CallsCreated      int `json:"calls_created"`
	CallsRejected     int `json:"calls_rejected"`
	CallDuplicates    int `json:"call_duplicates"`
	MessagesCreated   int `json:"messages_created"`
	MessagesRejected  int `json:"messages_rejected"`
	MessageDuplicates int `json:"message_duplicates"`
	// Callbacks: call status callbacks sent; CallbackFailures among them.
	Callbacks        int `json:"callbacks"`
	CallbackFailures int `json:"callback_failures"`
}

// EmailStats counts, for one address, the messages it received and what its
// persona did with them.
type EmailStats struct {
	Persona string `json:"persona"`
	// Messages received (one per personalization naming the address).
	Messages int `json:"messages"`
	// Duplicates: messages beyond the first with the same custom_arg
	// request_key, or without one the same subject.
	Duplicates int `json:"duplicates"`
	Delivered  int `json:"delivered"`
	Bounced    int `json:"bounced"`
	Dropped    int `json:"dropped"`
	// LinkGETs counts GETs of the confirmation page (people and scanners).
	LinkGETs int `json:"link_gets"`
	// FormPOSTs counts submissions of the confirmation form; Confirmed those
	// answered 2xx.
	FormPOSTs int    `json:"form_posts"`
	Confirmed int    `json:"confirmed"`
	LastError string `json:"last_error,omitempty"`
}

// EmailTotals are request-level SendGrid counters.
type EmailTotals struct {
	// Requests accepted (202).
	Requests int `json:"requests"`
	// SandboxModeRequests: valid requests with sandbox_mode on (200, no delivery).
	SandboxModeRequests int `json:"sandbox_mode_requests"`
	// Rejected requests (401, 400).
	Rejected int `json:"rejected"`
	// Messages accepted: one per personalization.
	Messages   int `json:"messages"`
	Duplicates int `json:"duplicates"`
	Confirmed  int `json:"confirmed"`
	// WebhookPosts to the engine's event webhook, WebhookFailures among them.
	WebhookPosts    int `json:"webhook_posts"`
	WebhookFailures int `json:"webhook_failures"`
}

// Stats returns a snapshot of the counters.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Email: make(map[string]EmailStats, len(s.email)), EmailTotals: s.emailTotals,
		Phone: make(map[string]PhoneStats, len(s.twilio.phone)), PhoneTotals: s.twilio.totals, Slack: s.slack.totals}
	for k, v := range s.email {
		st.Email[k] = *v
	}
	for k, v := range s.twilio.phone {
		c := *v
		c.Digits = append([]string(nil), v.Digits...)
		st.Phone[k] = c
	}
	return st
}

// handleStats answers GET /sim/stats; with ?totals=1, only the totals
// (the per-address maps of a million-recipient run are large).
func (s *Sandbox) handleStats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("totals") != "" {
		s.mu.Lock()
		st := Stats{EmailTotals: s.emailTotals, PhoneTotals: s.twilio.totals, Slack: s.slack.totals}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, st)
		return
	}
	writeJSON(w, http.StatusOK, s.Stats())
}
