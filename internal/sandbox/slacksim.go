package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// DefaultSlashCommand is the command SlashCommand sends when text does not
// start with one ("/breach declare" sends "/breach" with text "declare").
const DefaultSlashCommand = "/breachflow"

// defaultSandboxURL is where the engine reaches the sandbox when
// Config.SandboxURL is empty (BREACHFLOW_SANDBOX_URL's default).
const defaultSandboxURL = "http://127.0.0.1:8090"

// SlackResponse is the engine's answer to a simulated Slack request.
type SlackResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// TriggerID is the trigger_id sent with the request (valid 3 s).
	TriggerID string
	// ViewResponse is the parsed answer to a view_submission, if it had a
	// JSON body (e.g. response_action "errors"); nil for an empty 200,
	// which closes the view.
	ViewResponse *slack.ViewSubmissionResponse
	// Sent is the request as it went, signed: a test replays it byte for
	// byte, as whoever captured it could.
	Sent SlackRequest
}

// SlackRequest is a signed request the simulator sent to the engine.
type SlackRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// signSlack returns X-Slack-Signature for a request body:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
func signSlack(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("v0:" + ts + ":"))
	h.Write(body)
	return "v0=" + hex.EncodeToString(h.Sum(nil))
}

// slackUser returns the scenario user; with no users in the scenario any
// user ID is accepted.
func (s *Sandbox) slackUser(id string) (SlackUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.slack.users[id]; ok {
		return u, nil
	}
	if len(s.slack.users) == 0 && id != "" {
		return SlackUser{ID: id, Name: strings.ToLower(id)}, nil
	}
	return SlackUser{}, fmt.Errorf("slack sim: unknown user %q (list it under slack.users in the scenario)", id)
}

func (s *Sandbox) sandboxURL() string {
	if s.cfg.SandboxURL != "" {
		return strings.TrimRight(s.cfg.SandboxURL, "/")
	}
	return defaultSandboxURL
}

// postSlack POSTs a signed form to the engine.
func (s *Sandbox) postSlack(ctx context.Context, path string, form url.Values) (*SlackResponse, error) {
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.engineURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("slack sim: build request: %w", err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", signSlack(s.cfg.SlackSigningSecret, ts, body))
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("slack sim: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("slack sim: read answer of %s: %w", path, err)
	}
	return &SlackResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: b,
		Sent: SlackRequest{Path: path, Header: req.Header.Clone(), Body: body}}, nil
}

// SlashCommand has user type a slash command in channel: a signed form POST
// to {EngineURL}/slack/commands with a fresh trigger_id (valid for
// views.open for 3 s). If text starts with "/", its first word is the
// command; otherwise DefaultSlashCommand is used.
func (s *Sandbox) SlashCommand(ctx context.Context, user, channel, text string) (*SlackResponse, error) {
	return s.SlashCommandWithResponseURL(ctx, user, channel, text, "")
}

// SlashCommandWithResponseURL is SlashCommand, signed as Slack signs it,
// with the response_url given (a hostile one, for tests); "" means the
// sandbox's own.
func (s *Sandbox) SlashCommandWithResponseURL(ctx context.Context, user, channel, text, responseURL string) (*SlackResponse, error) {
	if responseURL == "" {
		responseURL = SlackResponseURLBase(s.sandboxURL()) + randomHex(12)
	}
	u, err := s.slackUser(user)
	if err != nil {
		return nil, err
	}
	command := DefaultSlashCommand
	if strings.HasPrefix(text, "/") {
		command, text, _ = strings.Cut(text, " ")
		text = strings.TrimSpace(text)
	}
	s.mu.Lock()
	trigger := s.newTrigger(user)
	chName := s.slack.channels[channel].Name
	s.slack.totals.SlashCommands++
	s.mu.Unlock()
	form := url.Values{
		"token":                 {"sandbox-verification-token"},
		"team_id":               {SlackTeamID},
		"team_domain":           {"sandbox"},
		"channel_id":            {channel},
		"channel_name":          {chName},
		"user_id":               {u.ID},
		"user_name":             {u.Name},
		"command":               {command},
		"text":                  {text},
		"api_app_id":            {slackAppID},
		"is_enterprise_install": {"false"},
		"response_url":          {responseURL},
		"trigger_id":            {trigger},
	}
	resp, err := s.postSlack(ctx, "/slack/commands", form)
	if err != nil {
		return nil, err
	}
	resp.TriggerID = trigger
	return resp, nil
}

// SubmitView has user submit the open view viewID with values
// (block_id -> action_id -> value): a view_submission interaction POSTed
// to {EngineURL}/slack/interactions. Every block and action ID must exist
// in the view; the value goes where the element type puts it (value,
// selected_option, selected_date, selected_user, ...).
func (s *Sandbox) SubmitView(ctx context.Context, user, viewID string, values map[string]map[string]string) (*SlackResponse, error) {
	u, err := s.slackUser(user)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sv, ok := s.slack.views[viewID]
	var view slack.View
	if ok {
		err = json.Unmarshal(sv.View, &view)
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("slack sim: no view %q was opened", viewID)
	}
	if sv.Closed {
		return nil, fmt.Errorf("slack sim: view %q is closed", viewID)
	}
	if err != nil {
		return nil, fmt.Errorf("slack sim: decode view %q: %w", viewID, err)
	}
	types := inputElementTypes(view.Blocks)
	state := map[string]map[string]slack.BlockAction{}
	for blockID, actions := range values {
		for actionID, v := range actions {
			typ, ok := types[blockID+"/"+actionID]
			if !ok {
				return nil, fmt.Errorf("slack sim: view %q has no input %s/%s", viewID, blockID, actionID)
			}
			if state[blockID] == nil {
				state[blockID] = map[string]slack.BlockAction{}
			}
			state[blockID][actionID] = blockActionValue(typ, actionID, blockID, v)
		}
	}
	view.State = &slack.ViewState{Values: state}
	s.mu.Lock()
	trigger := s.newTrigger(user)
	s.slack.totals.ViewSubmissions++
	s.mu.Unlock()
	ic := slack.InteractionCallback{
		Type:                   slack.InteractionTypeViewSubmission,
		Token:                  "sandbox-verification-token",
		TriggerID:              trigger,
		Team:                   slack.Team{ID: SlackTeamID, Domain: "sandbox"},
		User:                   slack.User{ID: u.ID, Name: u.Name, TeamID: SlackTeamID},
		View:                   view,
		APIAppID:               slackAppID,
		ViewSubmissionCallback: slack.ViewSubmissionCallback{Hash: view.Hash},
	}
	resp, err := s.interact(ctx, &ic)
	if err != nil {
		return nil, err
	}
	resp.TriggerID = trigger
	if len(bytes.TrimSpace(resp.Body)) > 0 {
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
			var vr slack.ViewSubmissionResponse
			if err := json.Unmarshal(resp.Body, &vr); err != nil {
				return resp, fmt.Errorf("slack sim: decode view_submission answer: %w", err)
			}
			resp.ViewResponse = &vr
		}
	}
	if resp.StatusCode == http.StatusOK {
		s.applyViewResponse(sv, resp.ViewResponse)
	}
	return resp, nil
}

// applyViewResponse closes or updates the view as Slack would after a
// submission.
func (s *Sandbox) applyViewResponse(sv *SlackView, vr *slack.ViewSubmissionResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case vr == nil, vr.ResponseAction == slack.RAClear:
		sv.Closed = true
	case vr.ResponseAction == slack.RAUpdate && vr.View != nil:
		raw, err := json.Marshal(vr.View)
		if err != nil {
			return
		}
		if v, errCode := validateView(raw); errCode == "" {
			s.storeView(sv, v)
		}
	}
}

// ClickButton has user click the button actionID of the message at
// channel/ts: a block_actions interaction POSTed to
// {EngineURL}/slack/interactions. The button must be in the message's
// current blocks; an empty value takes the button's own value.
func (s *Sandbox) ClickButton(ctx context.Context, user, channel, ts, actionID, value string) (*SlackResponse, error) {
	u, err := s.slackUser(user)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	m, ok := s.slack.messages[channel+"/"+ts]
	var msg SlackMessage
	if ok {
		msg = *m
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("slack sim: no message %s in %s", ts, channel)
	}
	var blocks slack.Blocks
	if len(msg.Blocks) > 0 {
		if err := json.Unmarshal(msg.Blocks, &blocks); err != nil {
			return nil, fmt.Errorf("slack sim: decode blocks of %s: %w", ts, err)
		}
	}
	btn, blockID := findButton(blocks, actionID)
	if btn == nil {
		return nil, fmt.Errorf("slack sim: message %s has no button %q", ts, actionID)
	}
	if value == "" {
		value = btn.Value
	}
	actionTS := fmt.Sprintf("%d.%06d", time.Now().Unix(), time.Now().Nanosecond()/1000)
	s.mu.Lock()
	trigger := s.newTrigger(user)
	s.slack.totals.ButtonClicks++
	s.mu.Unlock()
	var text slack.TextBlockObject
	if btn.Text != nil {
		text = *btn.Text
	}
	ic := slack.InteractionCallback{
		Type:        slack.InteractionTypeBlockActions,
		Token:       "sandbox-verification-token",
		TriggerID:   trigger,
		ResponseURL: SlackResponseURLBase(s.sandboxURL()) + randomHex(12),
		Team:        slack.Team{ID: SlackTeamID, Domain: "sandbox"},
		User:        slack.User{ID: u.ID, Name: u.Name, TeamID: SlackTeamID},
		Channel:     slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: channel}}},
		Container:   slack.Container{Type: "message", MessageTs: ts, ChannelID: channel},
		Message: slack.Message{Msg: slack.Msg{Type: "message", Timestamp: ts, ThreadTimestamp: msg.ThreadTS, Text: msg.Text,
			User: SlackBotUserID, BotID: slackBotID, Blocks: blocks}},
		APIAppID: slackAppID,
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{
			ActionID: actionID, BlockID: blockID, Type: slack.ActionType(slack.METButton), Value: value, ActionTs: actionTS, Text: text,
		}}},
	}
	resp, err := s.interact(ctx, &ic)
	if err != nil {
		return nil, err
	}
	resp.TriggerID = trigger
	return resp, nil
}

func (s *Sandbox) interact(ctx context.Context, ic *slack.InteractionCallback) (*SlackResponse, error) {
	payload, err := json.Marshal(ic)
	if err != nil {
		return nil, fmt.Errorf("slack sim: encode interaction: %w", err)
	}
	return s.postSlack(ctx, "/slack/interactions", url.Values{"payload": {string(payload)}})
}

// inputElementTypes maps "block_id/action_id" of a view's input blocks to
// the element type.
func inputElementTypes(blocks slack.Blocks) map[string]slack.MessageElementType {
	out := map[string]slack.MessageElementType{}
	for _, b := range blocks.BlockSet {
		ib, ok := b.(*slack.InputBlock)
		if !ok || ib.Element == nil {
			continue
		}
		if id := elementActionID(ib.Element); id != "" {
			out[ib.BlockID+"/"+id] = ib.Element.ElementType()
		}
	}
	return out
}

func elementActionID(e slack.BlockElement) string {
	b, err := json.Marshal(e)
	if err != nil {
		return ""
	}
	var v struct {
		ActionID string `json:"action_id"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	return v.ActionID
}

// blockActionValue puts a submitted value where Slack puts it for the
// element type.
func blockActionValue(typ slack.MessageElementType, actionID, blockID, v string) slack.BlockAction {
	a := slack.BlockAction{ActionID: actionID, BlockID: blockID, Type: slack.ActionType(typ)}
	switch string(typ) {
	case slack.OptTypeStatic, string(slack.METRadioButtons):
		a.SelectedOption = slack.OptionBlockObject{Value: v, Text: slack.NewTextBlockObject(slack.PlainTextType, v, false, false)}
	case string(slack.METCheckboxGroups), slack.MultiOptTypeStatic:
		for _, x := range strings.Split(v, ",") {
			a.SelectedOptions = append(a.SelectedOptions, slack.OptionBlockObject{Value: x, Text: slack.NewTextBlockObject(slack.PlainTextType, x, false, false)})
		}
	case string(slack.METDatepicker):
		a.SelectedDate = v
	case string(slack.METTimepicker):
		a.SelectedTime = v
	case slack.OptTypeUser:
		a.SelectedUser = v
	case slack.MultiOptTypeUser:
		a.SelectedUsers = strings.Split(v, ",")
	case slack.OptTypeConversations:
		a.SelectedConversation = v
	case slack.MultiOptTypeConversations:
		a.SelectedConversations = strings.Split(v, ",")
	case slack.OptTypeChannels:
		a.SelectedChannel = v
	case slack.MultiOptTypeChannels:
		a.SelectedChannels = strings.Split(v, ",")
	default: // plain_text_input, number_input, email_text_input, url_text_input
		a.Value = v
	}
	return a
}

// findButton finds a button by action_id in actions blocks and section
// accessories, returning it and its block_id.
func findButton(blocks slack.Blocks, actionID string) (*slack.ButtonBlockElement, string) {
	for _, b := range blocks.BlockSet {
		switch bb := b.(type) {
		case *slack.ActionBlock:
			if bb.Elements == nil {
				continue
			}
			for _, e := range bb.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == actionID {
					return btn, bb.BlockID
				}
			}
		case *slack.SectionBlock:
			if bb.Accessory != nil && bb.Accessory.ButtonElement != nil && bb.Accessory.ButtonElement.ActionID == actionID {
				return bb.Accessory.ButtonElement, bb.BlockID
			}
		}
	}
	return nil, ""
}

// SlackResponseURLBase is where the sandbox's response_url values point,
// for the sandbox at sandboxURL: the only place the engine follows them in
// sandbox mode (slackbot.Config.ResponseURLBases).
func SlackResponseURLBase(sandboxURL string) string {
	return strings.TrimSuffix(sandboxURL, "/") + "/slack/hooks/response/"
}
