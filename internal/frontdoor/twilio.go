package frontdoor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go/twiml"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// script is what the call about a Recall says, in Japanese (the
// recipients are in Japan), read by Twilio's ja-JP text-to-speech: the
// organisation's voice and the runbook's words (activities/catalog), or,
// when the Recall cannot be asked, the generic words with the
// organisation's name.
//
// A Recall's script never changes, so it is kept (scriptCacheSize calls at
// most): the answers to the keypad, and the repeat, cost no second query.
// The query waits scriptWait at most, so that Twilio, which waits 15 s for
// TwiML, always gets an answer, even while no worker runs.
func (s *Server) script(ctx context.Context, recallWorkflowID string) activities.VoiceScript {
	if s.cfg.Voice != nil {
		if v, ok := s.scripts.get(recallWorkflowID); ok {
			return v
		}
		qctx, cancel := context.WithTimeout(ctx, scriptWait)
		defer cancel()
		v, err := s.cfg.Voice.Script(qctx, recallWorkflowID)
		if err == nil && v.Ask != "" {
			s.scripts.put(recallWorkflowID, v)
			return v
		}
		s.cfg.Logger.Warn("call script: the Recall could not be asked; the generic words are used", "error", err)
	}
	return activities.NewVoiceScript(s.cfg.Org, activities.RequestContext{Message: runbooks.DefaultRecallMessage})
}

// scriptWait bounds the query for a call's script.
const scriptWait = 2 * time.Second

// scriptCacheSize bounds the scripts kept; when full, it starts afresh.
const scriptCacheSize = 10000

// scriptCache keeps the scripts of recent calls' Recalls.
type scriptCache struct {
	mu sync.Mutex
	m  map[string]activities.VoiceScript
}

func (c *scriptCache) get(id string) (activities.VoiceScript, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	return v, ok
}

func (c *scriptCache) put(id string, v activities.VoiceScript) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= scriptCacheSize {
		c.m = map[string]activities.VoiceScript{}
	}
	c.m[id] = v
}

func (s *Server) twilioRoutes() {
	s.mux.HandleFunc("POST /webhooks/twilio/voice/twiml", s.twilioVerified(s.voiceTwiML))
	s.mux.HandleFunc("POST /webhooks/twilio/voice/gather", s.twilioVerified(s.voiceGather))
	s.mux.HandleFunc("POST /webhooks/twilio/voice/status", s.twilioVerified(s.voiceStatus))
	s.mux.HandleFunc("POST /webhooks/twilio/sms/status", s.twilioVerified(s.smsStatus))
}

type twilioHandler func(w http.ResponseWriter, r *http.Request, c linktoken.Claims)

// twilioVerified checks X-Twilio-Signature against the public URL Twilio
// called, then the correlation token, before the handler runs.
func (s *Server) twilioVerified(h twilioHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.twilio == nil {
			http.Error(w, "twilio webhooks not configured", http.StatusServiceUnavailable)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			if tooLarge(err) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		params := make(map[string]string, len(r.PostForm))
		for k, v := range r.PostForm {
			if len(v) > 0 {
				params[k] = v[0]
			}
		}
		full := s.cfg.PublicURL + r.URL.RequestURI()
		if !s.twilio.Validate(full, params, r.Header.Get("X-Twilio-Signature")) {
			s.cfg.Logger.Warn("twilio webhook refused: bad signature", "path", r.URL.Path)
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		c, err := s.cfg.Links.Verify(r.URL.Query().Get("t"), linktoken.PurposeVoice, s.cfg.Now())
		if err != nil {
			s.cfg.Logger.Warn("twilio webhook refused: bad token", "path", r.URL.Path, "reason", err.Error())
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		// The key is what Twilio signs, not I-Twilio-Idempotency-Token
		// (unsigned: a replay may drop it or bring a fresh one).
		done, first, err := s.twilioSeen.Claim(r.Context(), twilioKey(r))
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		if !first {
			// A retried delivery of a request already applied: answer it
			// as the first time (a gather's TwiML too, so the call goes
			// on), without signalling again.
			h(w, r.WithContext(context.WithValue(r.Context(), replayKey{}, true)), c)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r, c)
		// Not applied (503 "try again"): Twilio's retry, with the same
		// idempotency token, must apply it.
		done(sw.status < 500)
	}
}

// twilioKey names a Twilio request by what Twilio signs: our URL (path,
// token, repeat count) and the call's or message's SID with the status or
// the key pressed. Twilio's retries and any replay share it.
func twilioKey(r *http.Request) string {
	sum := sha256.Sum256([]byte(r.URL.Query().Get("t")))
	f := r.PostForm
	return strings.Join([]string{r.URL.Path, hex.EncodeToString(sum[:16]), r.URL.Query().Get("r"),
		f.Get("CallSid"), f.Get("MessageSid"), f.Get("CallStatus"), f.Get("MessageStatus"), f.Get("Digits")}, "|")
}

// replayKey marks, in a request's context, a retried delivery of a Twilio
// request already applied: signal then sends nothing and reports success.
type replayKey struct{}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func writeTwiML(w http.ResponseWriter, verbs ...twiml.Element) {
	xml, err := twiml.Voice(verbs)
	if err != nil {
		http.Error(w, "twiml", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(xml))
}

func say(text string) *twiml.VoiceSay { return &twiml.VoiceSay{Message: text, Language: "ja-JP"} }

// voiceURL builds our own webhook URL for the same call (token kept).
func (s *Server) voiceURL(r *http.Request, path string, repeat int) string {
	q := url.Values{"t": {r.URL.Query().Get("t")}, "r": {strconv.Itoa(repeat)}}
	return s.cfg.PublicURL + path + "?" + q.Encode()
}

// voiceTwiML is what the call plays: the request, then a one-digit question.
// Silence repeats the question once (r=1), then says goodbye.
func (s *Server) voiceTwiML(w http.ResponseWriter, r *http.Request, c linktoken.Claims) {
	repeat, _ := strconv.Atoi(r.URL.Query().Get("r"))
	gather := &twiml.VoiceGather{
		Input: "dtmf", NumDigits: "1", Timeout: "8", Method: "POST",
		Action: s.voiceURL(r, "/webhooks/twilio/voice/gather", repeat), ActionOnEmptyResult: "true",
		InnerElements: []twiml.Element{say(s.script(r.Context(), c.WorkflowID).Ask)},
	}
	writeTwiML(w, gather)
}

// voiceGather receives the key pressed: 1 confirms deletion by phone, 2
// asks for a call back, anything else or silence repeats once.
func (s *Server) voiceGather(w http.ResponseWriter, r *http.Request, c linktoken.Claims) {
	digits := r.PostForm.Get("Digits")
	callSID := r.PostForm.Get("CallSid")
	repeat, _ := strconv.Atoi(r.URL.Query().Get("r"))
	ev := workflows.Evidence{Source: "voice", CallSID: callSID, Digits: digits, ReceivedAt: s.cfg.Now().UTC()}
	switch digits {
	case "1":
		if !s.signal(w, r, c.WorkflowID, workflows.SignalConfirmation, workflows.Confirmation{Channel: runbooks.ConfirmPhone, Evidence: ev}) {
			return
		}
		writeTwiML(w, say(s.script(r.Context(), c.WorkflowID).Thanks), &twiml.VoiceHangup{})
	case "2":
		ev.EventID = callSID + ":callback"
		if !s.signal(w, r, c.WorkflowID, workflows.SignalDelivery, workflows.DeliveryEvent{Channel: runbooks.ChannelVoice, Kind: workflows.DeliveryCallbackRequested, Attempt: c.Attempt, Evidence: ev}) {
			return
		}
		writeTwiML(w, say(s.script(r.Context(), c.WorkflowID).Callback), &twiml.VoiceHangup{})
	default:
		if repeat < 1 {
			writeTwiML(w, &twiml.VoiceRedirect{Url: s.voiceURL(r, "/webhooks/twilio/voice/twiml", repeat+1), Method: "POST"})
			return
		}
		ev.EventID = callSID + ":no-response"
		if !s.signal(w, r, c.WorkflowID, workflows.SignalDelivery, workflows.DeliveryEvent{Channel: runbooks.ChannelVoice, Kind: workflows.DeliveryNoResponse, Attempt: c.Attempt, Evidence: ev}) {
			return
		}
		writeTwiML(w, say(s.script(r.Context(), c.WorkflowID).Goodbye), &twiml.VoiceHangup{})
	}
}

// voiceStatus turns Twilio's call status callbacks into delivery events.
func (s *Server) voiceStatus(w http.ResponseWriter, r *http.Request, c linktoken.Claims) {
	status := r.PostForm.Get("CallStatus")
	var kind workflows.DeliveryKind
	switch status {
	case "completed":
		kind = workflows.DeliveryCompleted
	case "no-answer":
		kind = workflows.DeliveryNoAnswer
	case "busy":
		kind = workflows.DeliveryBusy
	case "failed", "canceled":
		kind = workflows.DeliveryFailed
	default: // queued, initiated, ringing, in-progress
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sid := r.PostForm.Get("CallSid")
	ev := workflows.DeliveryEvent{Channel: runbooks.ChannelVoice, Kind: kind, Attempt: c.Attempt,
		Evidence: workflows.Evidence{Source: "twilio", CallSID: sid, EventID: sid + ":" + status, ReceivedAt: s.cfg.Now().UTC()}}
	if s.signal(w, r, c.WorkflowID, workflows.SignalDelivery, ev) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// smsStatus turns SMS status callbacks into delivery events. Only a
// failure is signalled: "delivered" changes nothing the Recall acts on
// (the send's answer already says Twilio took the message, and a
// confirmation proves it arrived).
func (s *Server) smsStatus(w http.ResponseWriter, r *http.Request, c linktoken.Claims) {
	status := r.PostForm.Get("MessageStatus")
	var kind workflows.DeliveryKind
	switch status {
	case "undelivered", "failed":
		kind = workflows.DeliveryFailed
	default:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sid := r.PostForm.Get("MessageSid")
	ev := workflows.DeliveryEvent{Channel: runbooks.ChannelSMS, Kind: kind, Attempt: c.Attempt,
		Evidence: workflows.Evidence{Source: "twilio", EventID: sid + ":" + status, ReceivedAt: s.cfg.Now().UTC()}}
	if s.signal(w, r, c.WorkflowID, workflows.SignalDelivery, ev) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// signal sends a signal, answering the request itself on failure: a closed
// Recall is fine (204: nothing left to do), anything else is 503 so the
// provider retries. For a replayed delivery (twilioVerified) it sends
// nothing and reports success: the first delivery applied it.
func (s *Server) signal(w http.ResponseWriter, r *http.Request, workflowID, name string, arg any) bool {
	if r.Context().Value(replayKey{}) != nil {
		return true // applied by the first delivery
	}
	err := s.cfg.Temporal.SignalWorkflow(r.Context(), workflowID, "", name, arg)
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return true
	case errors.As(err, &notFound):
		w.WriteHeader(http.StatusNoContent)
	default:
		s.cfg.Logger.Error("signal workflow", "workflow_id", workflowID, "signal", name, "error", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
	}
	return false
}

// Querier asks a workflow a query; client.Client implements it.
type Querier interface {
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// RecallScripts gives each call the script of its Recall: the Recall's
// request context (its runbook's words and what was sent) in the
// organisation's voice.
func RecallScripts(q Querier, org runbooks.NoticeData) VoiceScripts {
	return recallScripts{q: q, org: org}
}

type recallScripts struct {
	q   Querier
	org runbooks.NoticeData
}

func (r recallScripts) Script(ctx context.Context, recallWorkflowID string) (activities.VoiceScript, error) {
	v, err := r.q.QueryWorkflow(ctx, recallWorkflowID, "", workflows.QueryRequestContext)
	if err != nil {
		return activities.VoiceScript{}, fmt.Errorf("request context of %s: %w", recallWorkflowID, err)
	}
	var rc activities.RequestContext
	if err := v.Get(&rc); err != nil {
		return activities.VoiceScript{}, fmt.Errorf("request context of %s: %w", recallWorkflowID, err)
	}
	return activities.NewVoiceScript(r.org, rc), nil
}
