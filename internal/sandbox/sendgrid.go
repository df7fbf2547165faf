package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"time"
)

// SendGrid limits enforced like the real v3 mail send API.
const (
	sgMaxPersonalizations = 1000
	sgMaxRecipients       = 1000
	sgMaxCustomArgsBytes  = 10000
	sgMaxCategories       = 10
	sgMaxCategoryLen      = 255
	sgMaxBody             = 30 << 20
	sgHelp                = "https://docs.sendgrid.com/api-reference/mail-send/errors"
)

// OutboxMessage is one accepted personalization: one message as its
// recipients see it.
type OutboxMessage struct {
	// MessageID is the request's X-Message-Id.
	MessageID string `json:"message_id"`
	// Index is the personalization's position in the request.
	Index      int      `json:"index"`
	From       string   `json:"from"`
	To         []string `json:"to"`
	CC         []string `json:"cc,omitempty"`
	BCC        []string `json:"bcc,omitempty"`
	Subject    string   `json:"subject"`
	Text       string   `json:"text,omitempty"`
	HTML       string   `json:"html,omitempty"`
	TemplateID string   `json:"template_id,omitempty"`
	// TemplateData is the personalization's dynamic_template_data.
	TemplateData map[string]any    `json:"dynamic_template_data,omitempty"`
	CustomArgs   map[string]string `json:"custom_args,omitempty"`
	Categories   []string          `json:"categories,omitempty"`
	ReceivedAt   time.Time         `json:"received_at"`
}

// Recipients returns every address of the message (to, cc, bcc).
func (m OutboxMessage) Recipients() []string {
	out := append([]string{}, m.To...)
	out = append(out, m.CC...)
	return append(out, m.BCC...)
}

type sgAddress struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type sgContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type sgPersonalization struct {
	To                  []sgAddress                `json:"to"`
	CC                  []sgAddress                `json:"cc"`
	BCC                 []sgAddress                `json:"bcc"`
	From                *sgAddress                 `json:"from"`
	Subject             string                     `json:"subject"`
	Headers             map[string]string          `json:"headers"`
	Substitutions       map[string]string          `json:"substitutions"`
	CustomArgs          map[string]json.RawMessage `json:"custom_args"`
	DynamicTemplateData map[string]any             `json:"dynamic_template_data"`
	SendAt              int64                      `json:"send_at"`
}

type sgMail struct {
	Personalizations []sgPersonalization        `json:"personalizations"`
	From             *sgAddress                 `json:"from"`
	ReplyTo          *sgAddress                 `json:"reply_to"`
	Subject          string                     `json:"subject"`
	Content          []sgContent                `json:"content"`
	TemplateID       string                     `json:"template_id"`
	Categories       []string                   `json:"categories"`
	CustomArgs       map[string]json.RawMessage `json:"custom_args"`
	Headers          map[string]string          `json:"headers"`
	SendAt           int64                      `json:"send_at"`
	MailSettings     *struct {
		SandboxMode *struct {
			Enable *bool `json:"enable"`
		} `json:"sandbox_mode"`
	} `json:"mail_settings"`
}

func (m *sgMail) sandboxMode() bool {
	return m.MailSettings != nil && m.MailSettings.SandboxMode != nil &&
		m.MailSettings.SandboxMode.Enable != nil && *m.MailSettings.SandboxMode.Enable
}

// sgError is one entry of SendGrid's {"errors":[...]} body.
type sgError struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	Help    *string `json:"help"`
}

func sgErr(field, format string, args ...any) sgError {
	help := sgHelp
	e := sgError{Message: fmt.Sprintf(format, args...), Help: &help}
	if field != "" {
		e.Field = &field
	}
	return e
}

func writeSGErrors(w http.ResponseWriter, status int, errs ...sgError) {
	writeJSON(w, status, map[string]any{"errors": errs})
}

func (s *Sandbox) handleMailSend(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(key) == "" || (s.cfg.SendGridAPIKey != "" && key != s.cfg.SendGridAPIKey) {
		s.countEmail(func(t *EmailTotals) { t.Rejected++ })
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []sgError{{
			Message: "The provided authorization grant is invalid, expired, or revoked"}}})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sgMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeSGErrors(w, http.StatusRequestEntityTooLarge, sgErr("", "The JSON payload you have included in your request is too large."))
			return
		}
		writeSGErrors(w, http.StatusBadRequest, sgErr("", "Bad Request"))
		return
	}
	var m sgMail
	if err := json.Unmarshal(body, &m); err != nil {
		s.countEmail(func(t *EmailTotals) { t.Rejected++ })
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			writeSGErrors(w, http.StatusBadRequest, sgErr(te.Field, "Invalid type. Expected: %s, given: %s.", te.Type, te.Value))
			return
		}
		writeSGErrors(w, http.StatusBadRequest, sgErr("", "Bad Request"))
		return
	}
	msgs, errs := validateMail(&m)
	if len(errs) > 0 {
		s.countEmail(func(t *EmailTotals) { t.Rejected++ })
		s.log.Info("sendgrid: rejected mail send", "errors", len(errs), "first", errs[0].Message)
		writeSGErrors(w, http.StatusBadRequest, errs...)
		return
	}
	if m.sandboxMode() {
		s.countEmail(func(t *EmailTotals) { t.SandboxModeRequests++ })
		w.WriteHeader(http.StatusOK)
		return
	}
	id := randomToken(16)
	now := time.Now().UTC()
	for i := range msgs {
		msgs[i].MessageID = id
		msgs[i].ReceivedAt = now
	}
	s.acceptMail(msgs)
	s.log.Info("sendgrid: accepted mail send", "x_message_id", id, "messages", len(msgs))
	w.Header().Set("X-Message-Id", id)
	w.WriteHeader(http.StatusAccepted)
}

// validateMail checks a mail send request as the real API does and turns
// each personalization into an outbox message.
func validateMail(m *sgMail) ([]OutboxMessage, []sgError) {
	var errs []sgError
	if m.From == nil || m.From.Email == "" {
		errs = append(errs, sgErr("from.email", "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter."))
	} else if !validEmail(m.From.Email) {
		errs = append(errs, sgErr("from.email", "The from email does not contain a valid address."))
	}
	switch n := len(m.Personalizations); {
	case n == 0:
		errs = append(errs, sgErr("personalizations", "The personalizations field is required and must have at least one personalization."))
	case n > sgMaxPersonalizations:
		errs = append(errs, sgErr("personalizations", "The personalizations field must have no more than %d personalizations.", sgMaxPersonalizations))
	}
	if m.TemplateID == "" {
		if len(m.Content) == 0 {
			errs = append(errs, sgErr("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block."))
		}
		allSubjects := len(m.Personalizations) > 0
		for _, p := range m.Personalizations {
			if p.Subject == "" {
				allSubjects = false
			}
		}
		if m.Subject == "" && !allSubjects {
			errs = append(errs, sgErr("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined."))
		}
	}
	for i, c := range m.Content {
		if c.Type == "" {
			errs = append(errs, sgErr(fmt.Sprintf("content.%d.type", i), "The content type cannot contain ';', or CRLF characters and must be at least 1 character in length."))
		}
		if c.Value == "" {
			errs = append(errs, sgErr(fmt.Sprintf("content.%d.value", i), "The content value must be a string at least one character in length."))
		}
		if strings.EqualFold(c.Type, "text/plain") && i > 0 {
			errs = append(errs, sgErr("content", "If present, text/plain must be first, followed by text/html, followed by any other content."))
		}
	}
	if len(m.Categories) > sgMaxCategories {
		errs = append(errs, sgErr("categories", "You may not have more than %d categories per request.", sgMaxCategories))
	}
	for i, c := range m.Categories {
		if len(c) > sgMaxCategoryLen {
			errs = append(errs, sgErr(fmt.Sprintf("categories.%d", i), "A category cannot have more than %d characters.", sgMaxCategoryLen))
		}
	}
	topArgs, argErrs := stringArgs("custom_args", m.CustomArgs)
	errs = append(errs, argErrs...)

	var text, html string
	for _, c := range m.Content {
		switch strings.ToLower(c.Type) {
		case "text/plain":
			text = c.Value
		case "text/html":
			html = c.Value
		}
	}
	seen := map[string]string{}
	total := 0
	var msgs []OutboxMessage
	for i, p := range m.Personalizations {
		if len(p.To) == 0 {
			errs = append(errs, sgErr(fmt.Sprintf("personalizations.%d.to", i), "The to array is required for all personalization objects, and must have at least one email object with a valid email address."))
		}
		msg := OutboxMessage{Index: i, TemplateID: m.TemplateID, TemplateData: p.DynamicTemplateData,
			Categories: m.Categories}
		from := m.From
		if p.From != nil {
			from = p.From
		}
		if from != nil {
			msg.From = from.Email
		}
		for _, list := range []struct {
			name  string
			addrs []sgAddress
			dst   *[]string
		}{{"to", p.To, &msg.To}, {"cc", p.CC, &msg.CC}, {"bcc", p.BCC, &msg.BCC}} {
			for j, a := range list.addrs {
				total++
				field := fmt.Sprintf("personalizations.%d.%s.%d.email", i, list.name, j)
				if !validEmail(a.Email) {
					errs = append(errs, sgErr(field, "Does not contain a valid address."))
					continue
				}
				k := strings.ToLower(a.Email)
				if first, dup := seen[k]; dup {
					// The real API names the address; the sandbox names the
					// fields only, so the error never carries personal data.
					errs = append(errs, sgErr(fmt.Sprintf("personalizations.%d", i),
						"Each email address in the personalization block should be unique between to, cc, and bcc. We found a duplicate of %s in the %s field.", first, field))
					continue
				}
				seen[k] = field
				*list.dst = append(*list.dst, a.Email)
			}
		}
		args, argErrs := stringArgs(fmt.Sprintf("personalizations.%d.custom_args", i), p.CustomArgs)
		errs = append(errs, argErrs...)
		merged := map[string]string{}
		for k, v := range topArgs {
			merged[k] = v
		}
		for k, v := range args {
			merged[k] = v
		}
		if b, _ := json.Marshal(merged); len(b) >= sgMaxCustomArgsBytes {
			errs = append(errs, sgErr(fmt.Sprintf("personalizations.%d.custom_args", i), "The custom_args field must be less than %d bytes.", sgMaxCustomArgsBytes))
		}
		if len(merged) > 0 {
			msg.CustomArgs = merged
		}
		msg.Subject = m.Subject
		if p.Subject != "" {
			msg.Subject = p.Subject
		}
		msg.Subject = substitute(msg.Subject, p.Substitutions)
		msg.Text = substitute(text, p.Substitutions)
		msg.HTML = substitute(html, p.Substitutions)
		msgs = append(msgs, msg)
	}
	if total > sgMaxRecipients {
		errs = append(errs, sgErr("personalizations", "The total number of recipients (to, cc and bcc) must be no more than %d.", sgMaxRecipients))
	}
	return msgs, errs
}

// stringArgs checks that every custom_args value is a JSON string.
func stringArgs(field string, raw map[string]json.RawMessage) (map[string]string, []sgError) {
	var errs []sgError
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			errs = append(errs, sgErr(field+"."+k, "Invalid type. Expected: string, given: %s.", jsonKind(v)))
			continue
		}
		out[k] = s
	}
	return out, errs
}

func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '"':
		return "string"
	}
	if bytes.ContainsAny(v, ".eE") {
		return "number"
	}
	return "integer"
}

func substitute(s string, subs map[string]string) string {
	for k, v := range subs {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".")
}

// acceptMail records accepted messages and starts a simulated mailbox per
// recipient.
func (s *Sandbox) acceptMail(msgs []OutboxMessage) {
	type delivery struct {
		msg  OutboxMessage
		addr string
		slot int
		p    persona
	}
	var ds []delivery
	s.mu.Lock()
	s.emailTotals.Requests++
	for _, m := range msgs {
		s.outbox = append(s.outbox, m)
		s.emailTotals.Messages++
		for slot, addr := range m.Recipients() {
			p := s.scenario.emailPersona(addr)
			st := s.emailStat(addr)
			st.Persona = p.Name
			st.Messages++
			dk := strings.ToLower(addr) + "\x00"
			if rk, ok := m.CustomArgs["request_key"]; ok {
				dk += "request_key\x00" + rk
			} else {
				dk += "subject\x00" + m.Subject
			}
			s.emailDK[dk]++
			if s.emailDK[dk] > 1 {
				st.Duplicates++
				s.emailTotals.Duplicates++
			}
			if !s.scenario.postsEvents(p) && !p.acts() {
				// No event to post and nothing to do: delivered at once.
				st.count(p)
				continue
			}
			ds = append(ds, delivery{msg: m, addr: addr, slot: slot, p: p})
		}
	}
	s.mu.Unlock()
	for _, d := range ds {
		s.spawn(func(ctx context.Context) { s.mailbox(ctx, d.msg, d.addr, d.slot, d.p) })
	}
}

// emailStat returns the stats of an address; s.mu must be held.
func (s *Sandbox) emailStat(addr string) *EmailStats {
	k := strings.ToLower(addr)
	st, ok := s.email[k]
	if !ok {
		st = &EmailStats{}
		s.email[k] = st
	}
	return st
}

func (s *Sandbox) countEmail(f func(*EmailTotals)) {
	s.mu.Lock()
	f(&s.emailTotals)
	s.mu.Unlock()
}

func (s *Sandbox) updateEmail(addr string, f func(*EmailStats)) {
	s.mu.Lock()
	f(s.emailStat(addr))
	s.mu.Unlock()
}

func (s *Sandbox) handleOutbox(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"messages": s.Outbox()})
}

// Outbox returns a copy of every accepted message, oldest first.
func (s *Sandbox) Outbox() []OutboxMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OutboxMessage(nil), s.outbox...)
}
