package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// triggerTTL is how long a trigger_id can open a view, as in Slack.
	triggerTTL = 3 * time.Second
	slackAppID = "A0SANDBOX"
	slackBotID = "B0SANDBOX"
)

// SlackMessage is the current state of a message the bot posted.
type SlackMessage struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Updates counts chat.update calls applied to the message.
	Updates int `json:"updates"`
}

// SlackEphemeral is an ephemeral message shown to one user.
type SlackEphemeral struct {
	Channel   string          `json:"channel"`
	User      string          `json:"user"`
	MessageTS string          `json:"message_ts"`
	Text      string          `json:"text"`
	Blocks    json.RawMessage `json:"blocks,omitempty"`
}

// SlackView is a modal the bot opened (current state).
type SlackView struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
	// User is who the trigger_id belonged to.
	User            string `json:"user"`
	CallbackID      string `json:"callback_id"`
	PrivateMetadata string `json:"private_metadata"`
	// View is the view object as Slack returns it (with id, hash, state).
	View json.RawMessage `json:"view"`
	// Closed is set once a submission closed the view.
	Closed bool `json:"closed"`
}

// SlackCall is one recorded Web API call.
type SlackCall struct {
	Method  string          `json:"method"`
	Time    time.Time       `json:"time"`
	Channel string          `json:"channel,omitempty"`
	TS      string          `json:"ts,omitempty"`
	User    string          `json:"user,omitempty"`
	Text    string          `json:"text,omitempty"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// SlackResponseURLPost is a message the engine posted to a response_url.
type SlackResponseURLPost struct {
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
}

type slackTrigger struct {
	user   string
	issued time.Time
	used   bool
}

type slackState struct {
	users    map[string]SlackUser
	groups   map[string]SlackGroup
	channels map[string]SlackChannel
	seq      int

	messages  map[string]*SlackMessage // channel + "/" + ts
	msgOrder  []string
	ephemeral []SlackEphemeral
	views     map[string]*SlackView
	viewOrder []string
	triggers  map[string]*slackTrigger
	calls     []SlackCall
	responses []SlackResponseURLPost
	totals    SlackTotals
}

func newSlackState(ws SlackWorkspace) *slackState {
	st := &slackState{users: map[string]SlackUser{}, groups: map[string]SlackGroup{}, channels: map[string]SlackChannel{},
		messages: map[string]*SlackMessage{}, views: map[string]*SlackView{}, triggers: map[string]*slackTrigger{}}
	for _, u := range ws.Users {
		st.users[u.ID] = u
	}
	for _, g := range ws.Groups {
		st.groups[g.ID] = g
	}
	for _, c := range ws.Channels {
		st.channels[c.ID] = c
	}
	return st
}

// nextTS returns a unique message timestamp "<unix>.<6-digit seq>"; s.mu
// must be held.
func (s *Sandbox) nextTS() string {
	s.slack.seq = (s.slack.seq + 1) % 1000000
	return fmt.Sprintf("%d.%06d", time.Now().Unix(), s.slack.seq)
}

// triggerTTL is the configured trigger_id lifetime.
func (s *Sandbox) triggerTTL() time.Duration {
	if s.cfg.SlackTriggerTTL > 0 {
		return s.cfg.SlackTriggerTTL
	}
	return triggerTTL
}

// newTrigger registers a fresh trigger_id for user; s.mu must be held.
func (s *Sandbox) newTrigger(user string) string {
	id := fmt.Sprintf("%d.%d.%s", time.Now().UnixNano()%10000000000000, time.Now().Unix(), randomHex(16))
	s.slack.triggers[id] = &slackTrigger{user: user, issued: time.Now()}
	return id
}

func (s *Sandbox) slackRoutes(provider func(string, http.HandlerFunc)) {
	provider("POST /slack/api/{method}", s.handleSlackAPI)
	provider("GET /slack/api/{method}", s.handleSlackAPI)
	// response_url targets handed out with slash commands and interactions.
	provider("POST /slack/hooks/response/{id}", s.handleResponseURL)
}

// slackRequest is a parsed Web API request: form fields or a JSON body.
type slackRequest struct {
	form url.Values
	json map[string]json.RawMessage
}

func (q *slackRequest) str(key string) string {
	if q.json != nil {
		if raw, ok := q.json[key]; ok {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return s
			}
			return string(raw)
		}
		return ""
	}
	return q.form.Get(key)
}

func (q *slackRequest) raw(key string) json.RawMessage {
	if q.json != nil {
		return q.json[key]
	}
	if v := q.form.Get(key); v != "" {
		return json.RawMessage(v)
	}
	return nil
}

func (s *Sandbox) handleSlackAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	q := &slackRequest{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		if err := json.Unmarshal(body, &q.json); err != nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_json"})
			return
		}
	} else {
		if q.form, err = url.ParseQuery(string(body)); err != nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		for k, v := range r.URL.Query() {
			if !q.form.Has(k) {
				q.form[k] = v
			}
		}
	}
	token := q.form.Get("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = bearer
	}
	call := SlackCall{Method: method, Time: time.Now().UTC(), Channel: q.str("channel"), TS: q.str("ts"),
		User: q.str("user"), Text: q.str("text"), Blocks: q.raw("blocks")}
	var resp map[string]any
	var errCode string
	switch {
	case token == "":
		errCode = "not_authed"
	case token != s.cfg.SlackBotToken:
		errCode = "invalid_auth"
	default:
		s.mu.Lock()
		resp, errCode = s.slackMethod(method, q, &call)
		s.mu.Unlock()
	}
	call.Error = errCode
	s.mu.Lock()
	s.slack.calls = append(s.slack.calls, call)
	s.slack.totals.APICalls++
	if errCode != "" {
		s.slack.totals.APIErrors++
	}
	s.mu.Unlock()
	if errCode != "" {
		s.log.Info("slack: API error", "method", method, "error", errCode)
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": errCode})
		return
	}
	resp["ok"] = true
	writeJSON(w, http.StatusOK, resp)
}

// slackMethod runs one Web API method; s.mu must be held.
func (s *Sandbox) slackMethod(method string, q *slackRequest, call *SlackCall) (map[string]any, string) {
	switch method {
	case "auth.test":
		return map[string]any{"url": "https://sandbox.slack.com/", "team": "breachflow sandbox", "user": "breachflow",
			"team_id": SlackTeamID, "user_id": SlackBotUserID, "bot_id": slackBotID}, ""
	case "chat.postMessage":
		return s.slackPostMessage(q, call)
	case "chat.update":
		return s.slackUpdate(q)
	case "chat.postEphemeral":
		return s.slackPostEphemeral(q, call)
	case "views.open":
		return s.slackViewsOpen(q, call)
	case "views.update":
		return s.slackViewsUpdate(q)
	case "usergroups.users.list":
		g, ok := s.slack.groups[q.str("usergroup")]
		if !ok {
			return nil, "no_such_subteam"
		}
		return map[string]any{"users": append([]string{}, g.Users...)}, ""
	case "conversations.members":
		return s.slackMembers(q)
	case "users.info":
		u, ok := s.slack.users[q.str("user")]
		if !ok {
			return nil, "user_not_found"
		}
		return map[string]any{"user": map[string]any{"id": u.ID, "team_id": SlackTeamID, "name": u.Name,
			"real_name": u.Name, "tz": "Asia/Tokyo", "is_bot": false, "deleted": false}}, ""
	}
	return nil, "unknown_method"
}

// knownChannel: with no channels in the scenario every channel exists.
func (s *Sandbox) knownChannel(id string) bool {
	if len(s.slack.channels) == 0 {
		return id != ""
	}
	_, ok := s.slack.channels[id]
	return ok
}

func validBlocks(raw json.RawMessage) bool {
	if raw == nil {
		return true
	}
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return false
	}
	for _, b := range blocks {
		if t, _ := b["type"].(string); t == "" {
			return false
		}
	}
	return true
}

func (s *Sandbox) slackMessageJSON(m *SlackMessage) map[string]any {
	msg := map[string]any{"type": "message", "user": SlackBotUserID, "bot_id": slackBotID, "app_id": slackAppID,
		"text": m.Text, "ts": m.TS, "team": SlackTeamID}
	if m.ThreadTS != "" {
		msg["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		msg["blocks"] = m.Blocks
	}
	if len(m.Metadata) > 0 {
		msg["metadata"] = m.Metadata
	}
	return msg
}

func (s *Sandbox) slackPostMessage(q *slackRequest, call *SlackCall) (map[string]any, string) {
	ch := q.str("channel")
	if ch == "" {
		return nil, "channel_not_found"
	}
	if !s.knownChannel(ch) {
		return nil, "channel_not_found"
	}
	blocks := q.raw("blocks")
	if !validBlocks(blocks) {
		return nil, "invalid_blocks"
	}
	text := q.str("text")
	if text == "" && len(blocks) == 0 && q.str("attachments") == "" {
		return nil, "no_text"
	}
	if utf8.RuneCountInString(text) > 40000 {
		return nil, "msg_too_long"
	}
	threadTS := q.str("thread_ts")
	if threadTS != "" {
		if _, ok := s.slack.messages[ch+"/"+threadTS]; !ok {
			return nil, "thread_not_found"
		}
	}
	m := &SlackMessage{Channel: ch, TS: s.nextTS(), ThreadTS: threadTS, Text: text, Blocks: blocks, Metadata: q.raw("metadata")}
	key := ch + "/" + m.TS
	s.slack.messages[key] = m
	s.slack.msgOrder = append(s.slack.msgOrder, key)
	s.slack.totals.Messages++
	call.TS = m.TS
	return map[string]any{"channel": ch, "ts": m.TS, "message": s.slackMessageJSON(m)}, ""
}

func (s *Sandbox) slackUpdate(q *slackRequest) (map[string]any, string) {
	ch, ts := q.str("channel"), q.str("ts")
	if !s.knownChannel(ch) {
		return nil, "channel_not_found"
	}
	m, ok := s.slack.messages[ch+"/"+ts]
	if !ok {
		return nil, "message_not_found"
	}
	blocks := q.raw("blocks")
	if !validBlocks(blocks) {
		return nil, "invalid_blocks"
	}
	text, hasText := q.str("text"), q.str("text") != ""
	if !hasText && blocks == nil && q.str("attachments") == "" {
		return nil, "no_text"
	}
	if hasText {
		m.Text = text
	}
	if blocks != nil {
		m.Blocks = blocks
		if string(bytes.TrimSpace(blocks)) == "[]" {
			m.Blocks = nil
		}
	}
	if md := q.raw("metadata"); md != nil {
		m.Metadata = md
	}
	m.Updates++
	s.slack.totals.Updates++
	return map[string]any{"channel": ch, "ts": ts, "text": m.Text, "message": s.slackMessageJSON(m)}, ""
}

func (s *Sandbox) slackPostEphemeral(q *slackRequest, call *SlackCall) (map[string]any, string) {
	ch, user := q.str("channel"), q.str("user")
	if !s.knownChannel(ch) {
		return nil, "channel_not_found"
	}
	if len(s.slack.users) > 0 {
		if _, ok := s.slack.users[user]; !ok {
			return nil, "user_not_found"
		}
	}
	if c, ok := s.slack.channels[ch]; ok && !contains(c.Members, user) {
		return nil, "user_not_in_channel"
	}
	blocks := q.raw("blocks")
	if !validBlocks(blocks) {
		return nil, "invalid_blocks"
	}
	if q.str("text") == "" && len(blocks) == 0 {
		return nil, "no_text"
	}
	e := SlackEphemeral{Channel: ch, User: user, MessageTS: s.nextTS(), Text: q.str("text"), Blocks: blocks}
	s.slack.ephemeral = append(s.slack.ephemeral, e)
	s.slack.totals.Ephemerals++
	call.TS = e.MessageTS
	return map[string]any{"message_ts": e.MessageTS}, ""
}

// validateView checks a modal view like Slack does and returns it as a map.
func validateView(raw json.RawMessage) (map[string]any, string) {
	var v map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil, "invalid_arguments"
	}
	if v["type"] != "modal" {
		return nil, "invalid_arguments"
	}
	title, _ := v["title"].(map[string]any)
	tt, _ := title["text"].(string)
	if tt == "" || utf8.RuneCountInString(tt) > 24 {
		return nil, "invalid_arguments"
	}
	blocks, err := json.Marshal(v["blocks"])
	if err != nil || !validBlocks(blocks) {
		return nil, "invalid_blocks"
	}
	ids := map[string]bool{}
	bl, _ := v["blocks"].([]any)
	for _, b := range bl {
		bm, _ := b.(map[string]any)
		if id, _ := bm["block_id"].(string); id != "" {
			if ids[id] {
				return nil, "invalid_blocks"
			}
			ids[id] = true
		}
	}
	return v, ""
}

func (s *Sandbox) storeView(sv *SlackView, v map[string]any) {
	sv.Hash = fmt.Sprintf("%d.%s", time.Now().Unix(), randomHex(6))
	v["id"] = sv.ID
	v["team_id"] = SlackTeamID
	v["hash"] = sv.Hash
	v["state"] = map[string]any{"values": map[string]any{}}
	v["root_view_id"] = sv.ID
	v["app_id"] = slackAppID
	v["bot_id"] = slackBotID
	v["app_installed_team_id"] = SlackTeamID
	for _, k := range []string{"private_metadata", "callback_id", "external_id"} {
		if _, ok := v[k]; !ok {
			v[k] = ""
		}
	}
	sv.CallbackID, _ = v["callback_id"].(string)
	sv.PrivateMetadata, _ = v["private_metadata"].(string)
	sv.View, _ = json.Marshal(v)
}

func (s *Sandbox) slackViewsOpen(q *slackRequest, call *SlackCall) (map[string]any, string) {
	tid := q.str("trigger_id")
	tr, ok := s.slack.triggers[tid]
	if !ok || tr.used || time.Since(tr.issued) > s.triggerTTL() {
		return nil, "expired_trigger_id"
	}
	v, errCode := validateView(q.raw("view"))
	if errCode != "" {
		return nil, errCode
	}
	tr.used = true
	sv := &SlackView{ID: "V" + strings.ToUpper(randomHex(5)), User: tr.user}
	s.storeView(sv, v)
	s.slack.views[sv.ID] = sv
	s.slack.viewOrder = append(s.slack.viewOrder, sv.ID)
	s.slack.totals.ViewsOpened++
	call.User = tr.user
	return map[string]any{"view": json.RawMessage(sv.View)}, ""
}

func (s *Sandbox) slackViewsUpdate(q *slackRequest) (map[string]any, string) {
	var sv *SlackView
	if id := q.str("view_id"); id != "" {
		sv = s.slack.views[id]
	} else if ext := q.str("external_id"); ext != "" {
		for _, v := range s.slack.views {
			var m map[string]any
			if json.Unmarshal(v.View, &m) == nil && m["external_id"] == ext {
				sv = v
			}
		}
	} else {
		return nil, "invalid_arguments"
	}
	if sv == nil {
		return nil, "not_found"
	}
	if h := q.str("hash"); h != "" && h != sv.Hash {
		return nil, "hash_conflict"
	}
	v, errCode := validateView(q.raw("view"))
	if errCode != "" {
		return nil, errCode
	}
	s.storeView(sv, v)
	s.slack.totals.ViewsUpdated++
	return map[string]any{"view": json.RawMessage(sv.View)}, ""
}

func (s *Sandbox) slackMembers(q *slackRequest) (map[string]any, string) {
	c, ok := s.slack.channels[q.str("channel")]
	if !ok {
		return nil, "channel_not_found"
	}
	limit := 100
	if l := q.str("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return nil, "invalid_limit"
		}
		limit = min(n, 1000)
	}
	start := 0
	if cur := q.str("cursor"); cur != "" {
		b, err := base64.StdEncoding.DecodeString(cur)
		n, ok := strings.CutPrefix(string(b), "offset:")
		if err != nil || !ok {
			return nil, "invalid_cursor"
		}
		if start, err = strconv.Atoi(n); err != nil || start < 0 || start > len(c.Members) {
			return nil, "invalid_cursor"
		}
	}
	end := min(start+limit, len(c.Members))
	next := ""
	if end < len(c.Members) {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	return map[string]any{"members": append([]string{}, c.Members[start:end]...),
		"response_metadata": map[string]any{"next_cursor": next}}, ""
}

func (s *Sandbox) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || !json.Valid(body) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.slack.responses = append(s.slack.responses, SlackResponseURLPost{ID: r.PathValue("id"), Body: body})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}

// SlackMessages returns the current state of every message the bot posted,
// oldest first.
func (s *Sandbox) SlackMessages() []SlackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SlackMessage, 0, len(s.slack.msgOrder))
	for _, k := range s.slack.msgOrder {
		out = append(out, *s.slack.messages[k])
	}
	return out
}

// SlackMessage returns the current state of one message.
func (s *Sandbox) SlackMessage(channel, ts string) (SlackMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.slack.messages[channel+"/"+ts]
	if !ok {
		return SlackMessage{}, false
	}
	return *m, true
}

// SlackEphemerals returns every ephemeral message, oldest first.
func (s *Sandbox) SlackEphemerals() []SlackEphemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlackEphemeral(nil), s.slack.ephemeral...)
}

// SlackViews returns every view the bot opened, in opening order.
func (s *Sandbox) SlackViews() []SlackView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SlackView, 0, len(s.slack.viewOrder))
	for _, id := range s.slack.viewOrder {
		out = append(out, *s.slack.views[id])
	}
	return out
}

// SlackCalls returns the log of Web API calls, oldest first.
func (s *Sandbox) SlackCalls() []SlackCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlackCall(nil), s.slack.calls...)
}

// SlackResponseURLPosts returns what the engine posted to response_urls.
func (s *Sandbox) SlackResponseURLPosts() []SlackResponseURLPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlackResponseURLPost(nil), s.slack.responses...)
}
