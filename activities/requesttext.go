package activities

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/breachflow/breachflow/runbooks"
)

// catalog holds the texts people receive from the activities: every one is
// a template in activities/catalog, reviewed there and pinned by golden
// tests.
//
//go:embed catalog/*.tmpl
var catalog embed.FS

var requestTexts = template.Must(template.ParseFS(catalog, "catalog/deletion_request.tmpl"))

// requestData is what a deletion request's templates read.
type requestData struct {
	Name, Org, Phone, Hours, Email string
	DateJa, DateEn, Subject        string
	WhatJa                         string
	ReceivedJa, ReceivedEn         string
	DeleteJa, DeleteEn             string
	// ReceivedSpoken and DeleteSpoken are the runbook's words as a call
	// says them: without the parenthesised asides, up to the first full
	// stop.
	ReceivedSpoken, DeleteSpoken string
	Link, Reference              string
	Reminder                     bool
}

// requestData fills the templates' data for one request.
func newRequestData(org runbooks.NoticeData, in DeletionRequest, name, link string) requestData {
	msg := in.Message
	if msg.Received.Ja == "" || msg.Delete.Ja == "" {
		msg = runbooks.DefaultRecallMessage
	}
	d := requestData{
		Name: name, Org: org.Organization, Phone: org.ContactPhone, Hours: org.ContactHours, Email: org.ContactEmail,
		Subject: strings.TrimSpace(in.Sent.Subject), WhatJa: strings.TrimSpace(in.Sent.What),
		ReceivedJa: msg.Received.Ja, ReceivedEn: msg.Received.En, DeleteJa: msg.Delete.Ja, DeleteEn: msg.Delete.En,
		Link: link, Reference: in.RecipientID, Reminder: in.Attempt > 1,
		ReceivedSpoken: spoken(msg.Received.Ja), DeleteSpoken: spoken(msg.Delete.Ja),
	}
	d.DateJa, d.DateEn = "先日", "a recent day"
	if !in.Sent.At.IsZero() {
		loc, err := time.LoadLocation(in.Sent.TimeZone)
		if in.Sent.TimeZone == "" || err != nil {
			loc = time.FixedZone("JST", 9*3600)
		}
		t := in.Sent.At.In(loc)
		d.DateJa = fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
		d.DateEn = t.Format("2 January 2006")
	}
	return d
}

func renderRequest(name string, d requestData) string {
	var b bytes.Buffer
	if err := requestTexts.ExecuteTemplate(&b, name, d); err != nil {
		// The templates are compiled in and tested: this cannot happen
		// for data of these types.
		panic(fmt.Sprintf("deletion request template %s: %v", name, err))
	}
	return b.String()
}

// deletionRequestEmail renders the e-mail: subject, plain text and HTML.
func deletionRequestEmail(org runbooks.NoticeData, in DeletionRequest, name, link string) (subject, text, html string) {
	d := newRequestData(org, in, name, link)
	subject = renderRequest("email.subject", d)
	text = renderRequest("email.body", d)
	html = "<p>" + strings.ReplaceAll(htmlEscape(strings.ReplaceAll(text, link, "\x00")), "\n", "<br>\n") + "</p>"
	html = strings.ReplaceAll(html, "\x00", `<a href="`+htmlEscape(link)+`">`+htmlEscape(link)+`</a>`)
	return subject, text, html
}

// spoken is a text as a call says it: parenthesised asides dropped, and
// only its first sentence.
func spoken(s string) string {
	s, _, _ = strings.Cut(s, "。")
	for {
		i := strings.Index(s, "（")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "）")
		if j < 0 {
			s = s[:i]
			break
		}
		s = s[:i] + s[i+j+len("）"):]
	}
	return strings.TrimSpace(s)
}

// RequestContext is what a deletion request says besides the
// organisation: the runbook's words and what was sent, as a Recall holds
// them (its request_context query); no personal data.
type RequestContext struct {
	Message runbooks.RecallMessage `json:"message"`
	Sent    SentMessage            `json:"sent,omitzero"`
}

// VoiceScript is what a deletion-request call says: the request with its
// keypad question, and the answers to 1, 2 and silence.
type VoiceScript struct {
	Ask, Thanks, Callback, Goodbye string
}

// NewVoiceScript renders the call of a request in the organisation's voice.
func NewVoiceScript(org runbooks.NoticeData, rc RequestContext) VoiceScript {
	d := newRequestData(org, DeletionRequest{Message: rc.Message, Sent: rc.Sent}, "", "")
	return VoiceScript{Ask: renderRequest("voice.ask", d), Thanks: renderRequest("voice.thanks", d),
		Callback: renderRequest("voice.callback", d), Goodbye: renderRequest("voice.goodbye", d)}
}

// deletionRequestSMS renders the text message.
func deletionRequestSMS(org runbooks.NoticeData, in DeletionRequest, link string) string {
	return renderRequest("sms", newRequestData(org, in, "", link))
}
