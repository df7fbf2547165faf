package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	chIncident = "C0INCIDENT"
	grpResp    = "S0RESPONDERS"
)

var slackScenario = SlackWorkspace{
	Users:  []SlackUser{{ID: "U0LEAD", Name: "incident.lead"}, {ID: "U0DPO", Name: "privacy.officer"}, {ID: "U0INTRUDER", Name: "curious.intern"}},
	Groups: []SlackGroup{{ID: grpResp, Handle: "breach-responders", Users: []string{"U0LEAD", "U0DPO"}}},
	Channels: []SlackChannel{{ID: chIncident, Name: "incident-response", Members: []string{"U0LEAD", "U0DPO", "U0INTRUDER"}},
		{ID: "C0EMPTY", Name: "empty"}},
}

func slackClient(sandboxURL, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(sandboxURL+"/slack/api/"), slack.OptionHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSlackWebAPI(t *testing.T) {
	e := newFakeEngine(t)
	sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Slack: slackScenario}})
	api := slackClient(url, SlackBotToken)
	ctx := ctx5(t)

	at, err := api.AuthTestContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, SlackBotUserID, at.UserID)
	assert.Equal(t, SlackTeamID, at.TeamID)

	approve := slack.NewActionBlock("approve_blk",
		slack.NewButtonBlockElement("approve", "INC-1", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)))
	ch, ts, err := api.PostMessageContext(ctx, chIncident, slack.MsgOptionText("INC-1 declared", false), slack.MsgOptionBlocks(approve),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "incident", EventPayload: map[string]any{"id": "INC-1"}}))
	require.NoError(t, err)
	assert.Equal(t, chIncident, ch)
	assert.Regexp(t, `^\d{10}\.\d{6}$`, ts)
	m, ok := sb.SlackMessage(chIncident, ts)
	require.True(t, ok)
	assert.Equal(t, "INC-1 declared", m.Text)
	assert.Contains(t, string(m.Blocks), `"action_id":"approve"`)
	assert.Contains(t, string(m.Metadata), `"event_type":"incident"`)

	// Timestamps stay unique even within one second.
	seen := map[string]bool{ts: true}
	for i := range 30 {
		_, ts2, err := api.PostMessageContext(ctx, chIncident, slack.MsgOptionText(fmt.Sprint(i), false), slack.MsgOptionTS(ts))
		require.NoError(t, err)
		assert.False(t, seen[ts2], ts2)
		seen[ts2] = true
	}

	_, _, _, err = api.UpdateMessageContext(ctx, chIncident, ts, slack.MsgOptionText("INC-1 approved", false), slack.MsgOptionBlocks())
	require.NoError(t, err)
	m, _ = sb.SlackMessage(chIncident, ts)
	assert.Equal(t, "INC-1 approved", m.Text)
	assert.Empty(t, m.Blocks, "MsgOptionBlocks() clears the blocks")
	assert.Equal(t, 1, m.Updates)

	mts, err := api.PostEphemeralContext(ctx, chIncident, "U0INTRUDER", slack.MsgOptionText("Not authorized", false))
	require.NoError(t, err)
	assert.NotEmpty(t, mts)
	require.Len(t, sb.SlackEphemerals(), 1)
	assert.Equal(t, "U0INTRUDER", sb.SlackEphemerals()[0].User)

	members, err := api.GetUserGroupMembersContext(ctx, grpResp)
	require.NoError(t, err)
	assert.Equal(t, []string{"U0LEAD", "U0DPO"}, members)

	var all []string
	cursor := ""
	pages := 0
	for {
		ids, next, err := api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: chIncident, Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		all = append(all, ids...)
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	assert.Equal(t, []string{"U0LEAD", "U0DPO", "U0INTRUDER"}, all)
	assert.Equal(t, 2, pages)

	u, err := api.GetUserInfoContext(ctx, "U0DPO")
	require.NoError(t, err)
	assert.Equal(t, "privacy.officer", u.Name)

	calls := sb.SlackCalls()
	assert.Equal(t, "auth.test", calls[0].Method)
	assert.Equal(t, "chat.postMessage", calls[1].Method)
	assert.Equal(t, ts, calls[1].TS)
	assert.Equal(t, 1, sb.Stats().Slack.Updates)
}

func TestSlackWebAPIErrors(t *testing.T) {
	e := newFakeEngine(t)
	sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Slack: slackScenario}})
	api := slackClient(url, SlackBotToken)
	ctx := ctx5(t)
	_, ts, err := api.PostMessageContext(ctx, chIncident, slack.MsgOptionText("x", false))
	require.NoError(t, err)
	sb.mu.Lock()
	stale := sb.newTrigger("U0LEAD")
	sb.slack.triggers[stale].issued = time.Now().Add(-4 * time.Second)
	used := sb.newTrigger("U0LEAD")
	sb.mu.Unlock()
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Declare", false, false)}
	_, err = api.OpenViewContext(ctx, used, modal)
	require.NoError(t, err)

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"invalid auth", func() error { _, err := slackClient(url, "xoxb-wrong").AuthTestContext(ctx); return err }, "invalid_auth"},
		{"not authed", func() error { _, err := slackClient(url, "").AuthTestContext(ctx); return err }, "not_authed"},
		{"unknown channel", func() error {
			_, _, err := api.PostMessageContext(ctx, "C0NOPE", slack.MsgOptionText("x", false))
			return err
		}, "channel_not_found"},
		{"no text", func() error { _, _, err := api.PostMessageContext(ctx, chIncident); return err }, "no_text"},
		{"update unknown ts", func() error {
			_, _, _, err := api.UpdateMessageContext(ctx, chIncident, "1700000000.000001", slack.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		{"update in another channel", func() error {
			_, _, _, err := api.UpdateMessageContext(ctx, "C0EMPTY", ts, slack.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		{"ephemeral to non-member", func() error {
			_, err := api.PostEphemeralContext(ctx, "C0EMPTY", "U0LEAD", slack.MsgOptionText("x", false))
			return err
		}, "user_not_in_channel"},
		{"unknown trigger", func() error { _, err := api.OpenViewContext(ctx, "123.456.abc", modal); return err }, "expired_trigger_id"},
		{"stale trigger", func() error { _, err := api.OpenViewContext(ctx, stale, modal); return err }, "expired_trigger_id"},
		{"trigger used twice", func() error { _, err := api.OpenViewContext(ctx, used, modal); return err }, "expired_trigger_id"},
		{"view without title", func() error {
			sb.mu.Lock()
			tr := sb.newTrigger("U0LEAD")
			sb.mu.Unlock()
			_, err := api.OpenViewContext(ctx, tr, slack.ModalViewRequest{Type: slack.VTModal})
			return err
		}, "invalid_arguments"},
		{"update unknown view", func() error { _, err := api.UpdateViewContext(ctx, modal, "", "", "V0NOPE"); return err }, "not_found"},
		{"unknown group", func() error { _, err := api.GetUserGroupMembersContext(ctx, "S0NOPE"); return err }, "no_such_subteam"},
		{"members of unknown channel", func() error {
			_, _, err := api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: "C0NOPE"})
			return err
		}, "channel_not_found"},
		{"bad cursor", func() error {
			_, _, err := api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: chIncident, Cursor: "!!"})
			return err
		}, "invalid_cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var se slack.SlackErrorResponse
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, tc.want, se.Err)
		})
	}
	assert.Equal(t, len(tests), sb.Stats().Slack.APIErrors)
}

func TestSlackRateLimitInjection(t *testing.T) {
	e := newFakeEngine(t)
	sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Slack: slackScenario}})
	sb.failures.pick = func() failureKind { return failRateLimited }
	_, _, err := slackClient(url, SlackBotToken).PostMessageContext(ctx5(t), chIncident, slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	require.True(t, errors.As(err, &rl), "%v", err)
	assert.Equal(t, time.Second, rl.RetryAfter)
	assert.Empty(t, sb.SlackMessages())
}

// slackEngine is a fake engine's Slack side: it verifies signatures, opens
// a modal on the slash command, validates the submission, posts the
// incident message and handles approval clicks with a group check.
type slackEngine struct {
	mu          sync.Mutex
	badSigs     int
	commands    []slack.SlashCommand
	incidentTS  string
	openErr     error
	interaction []slack.InteractionCallback
}

func addSlackEngine(t *testing.T, e *fakeEngine, api func() *slack.Client) *slackEngine {
	t.Helper()
	se := &slackEngine{}
	verify := func(w http.ResponseWriter, r *http.Request) bool {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		sv, err := slack.NewSecretsVerifier(r.Header, SlackSigningSecret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			se.mu.Lock()
			se.badSigs++
			se.mu.Unlock()
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return true
	}
	e.mux.HandleFunc("POST /slack/commands", func(w http.ResponseWriter, r *http.Request) {
		if !verify(w, r) {
			return
		}
		cmd, err := slack.SlashCommandParse(r)
		require.NoError(t, err)
		se.mu.Lock()
		se.commands = append(se.commands, cmd)
		se.mu.Unlock()
		_, err = api().OpenViewContext(r.Context(), cmd.TriggerID, slack.ModalViewRequest{
			Type: slack.VTModal, CallbackID: "declare_incident", PrivateMetadata: `{"channel":"` + cmd.ChannelID + `"}`,
			Title:  slack.NewTextBlockObject(slack.PlainTextType, "Declare incident", false, false),
			Submit: slack.NewTextBlockObject(slack.PlainTextType, "Declare", false, false),
			Blocks: slack.Blocks{BlockSet: []slack.Block{
				slack.NewInputBlock("summary_blk", slack.NewTextBlockObject(slack.PlainTextType, "Summary", false, false), nil,
					slack.NewPlainTextInputBlockElement(nil, "summary")),
				slack.NewInputBlock("runbook_blk", slack.NewTextBlockObject(slack.PlainTextType, "Runbook", false, false), nil,
					slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "runbook",
						slack.NewOptionBlockObject("missend", slack.NewTextBlockObject(slack.PlainTextType, "Mis-send", false, false), nil))),
				slack.NewInputBlock("aware_blk", slack.NewTextBlockObject(slack.PlainTextType, "Aware since", false, false), nil,
					slack.NewDatePickerBlockElement("aware")),
			}},
		})
		se.mu.Lock()
		se.openErr = err
		se.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	e.mux.HandleFunc("POST /slack/interactions", func(w http.ResponseWriter, r *http.Request) {
		if !verify(w, r) {
			return
		}
		ic, err := slack.InteractionCallbackParse(r)
		require.NoError(t, err)
		se.mu.Lock()
		se.interaction = append(se.interaction, ic)
		se.mu.Unlock()
		switch ic.Type {
		case slack.InteractionTypeViewSubmission:
			vals := ic.View.State.Values
			if strings.TrimSpace(vals["summary_blk"]["summary"].Value) == "" {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(slack.NewErrorsViewSubmissionResponse(map[string]string{"summary_blk": "required"}))
				return
			}
			var md struct{ Channel string }
			require.NoError(t, json.Unmarshal([]byte(ic.View.PrivateMetadata), &md))
			text := fmt.Sprintf("%s (%s, aware %s)", vals["summary_blk"]["summary"].Value,
				vals["runbook_blk"]["runbook"].SelectedOption.Value, vals["aware_blk"]["aware"].SelectedDate)
			_, ts, err := api().PostMessageContext(r.Context(), md.Channel, slack.MsgOptionText(text, false),
				slack.MsgOptionBlocks(
					slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
					slack.NewActionBlock("approve_blk",
						slack.NewButtonBlockElement("approve", "INC-1", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)))))
			require.NoError(t, err)
			se.mu.Lock()
			se.incidentTS = ts
			se.mu.Unlock()
			w.WriteHeader(http.StatusOK)
		case slack.InteractionTypeBlockActions:
			a := ic.ActionCallback.BlockActions[0]
			members, err := api().GetUserGroupMembersContext(r.Context(), grpResp)
			require.NoError(t, err)
			allowed := false
			for _, m := range members {
				allowed = allowed || m == ic.User.ID
			}
			if !allowed {
				_, err = api().PostEphemeralContext(r.Context(), ic.Channel.ID, ic.User.ID, slack.MsgOptionText("Not authorized", false))
				require.NoError(t, err)
				w.WriteHeader(http.StatusOK)
				return
			}
			_, _, _, err = api().UpdateMessageContext(r.Context(), ic.Channel.ID, ic.Container.MessageTs,
				slack.MsgOptionText(fmt.Sprintf("%s approved by <@%s> (%s/%s)", a.Value, ic.User.ID, a.BlockID, a.ActionID), false),
				slack.MsgOptionBlocks())
			require.NoError(t, err)
			w.WriteHeader(http.StatusOK)
		}
	})
	return se
}

func TestSlackUserSimulator(t *testing.T) {
	e := newFakeEngine(t)
	var apiURL string
	se := addSlackEngine(t, e, func() *slack.Client { return slackClient(apiURL, SlackBotToken) })
	sb, url := newTestSandbox(t, e, Config{Scenario: Scenario{Slack: slackScenario}})
	apiURL = url
	ctx := ctx5(t)

	resp, err := sb.SlashCommand(ctx, "U0LEAD", chIncident, "/breach declare")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(resp.Body))
	se.mu.Lock()
	require.NoError(t, se.openErr)
	require.Len(t, se.commands, 1)
	cmd := se.commands[0]
	se.mu.Unlock()
	assert.Equal(t, "/breach", cmd.Command)
	assert.Equal(t, "declare", cmd.Text)
	assert.Equal(t, "U0LEAD", cmd.UserID)
	assert.Equal(t, "incident.lead", cmd.UserName)
	assert.Equal(t, chIncident, cmd.ChannelID)
	assert.Equal(t, resp.TriggerID, cmd.TriggerID)
	assert.True(t, strings.HasPrefix(cmd.ResponseURL, url+"/slack/hooks/response/"), cmd.ResponseURL)

	views := sb.SlackViews()
	require.Len(t, views, 1)
	v := views[0]
	assert.Equal(t, "declare_incident", v.CallbackID)
	assert.Equal(t, "U0LEAD", v.User)

	// The response_url works.
	rr, err := http.Post(cmd.ResponseURL, "application/json", strings.NewReader(`{"text":"working on it"}`))
	require.NoError(t, err)
	rr.Body.Close()
	assert.Equal(t, http.StatusOK, rr.StatusCode)
	require.Len(t, sb.SlackResponseURLPosts(), 1)

	// An empty summary: the engine answers with errors and the view stays open.
	resp, err = sb.SubmitView(ctx, "U0LEAD", v.ID, map[string]map[string]string{"summary_blk": {"summary": " "}})
	require.NoError(t, err)
	require.NotNil(t, resp.ViewResponse)
	assert.Equal(t, slack.RAErrors, resp.ViewResponse.ResponseAction)
	assert.Equal(t, "required", resp.ViewResponse.Errors["summary_blk"])
	assert.False(t, sb.SlackViews()[0].Closed)

	_, err = sb.SubmitView(ctx, "U0LEAD", v.ID, map[string]map[string]string{"summary_blk": {"nope": "x"}})
	assert.ErrorContains(t, err, "no input summary_blk/nope")

	resp, err = sb.SubmitView(ctx, "U0LEAD", v.ID, map[string]map[string]string{
		"summary_blk": {"summary": "会員53名に誤送信"}, "runbook_blk": {"runbook": "missend"}, "aware_blk": {"aware": "2025-01-01"}})
	require.NoError(t, err)
	assert.Nil(t, resp.ViewResponse)
	assert.True(t, sb.SlackViews()[0].Closed)
	se.mu.Lock()
	ts := se.incidentTS
	last := se.interaction[len(se.interaction)-1]
	se.mu.Unlock()
	assert.Equal(t, "declare_incident", last.View.CallbackID)
	assert.Equal(t, v.Hash, last.View.Hash)
	m, ok := sb.SlackMessage(chIncident, ts)
	require.True(t, ok)
	assert.Equal(t, "会員53名に誤送信 (missend, aware 2025-01-01)", m.Text)

	_, err = sb.ClickButton(ctx, "U0LEAD", chIncident, ts, "no_such_button", "")
	assert.ErrorContains(t, err, `no button "no_such_button"`)

	// The intern is in the channel but not in the responders group.
	resp, err = sb.ClickButton(ctx, "U0INTRUDER", chIncident, ts, "approve", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	eph := sb.SlackEphemerals()
	require.Len(t, eph, 1)
	assert.Equal(t, "U0INTRUDER", eph[0].User)
	m, _ = sb.SlackMessage(chIncident, ts)
	assert.Zero(t, m.Updates)

	_, err = sb.ClickButton(ctx, "U0LEAD", chIncident, ts, "approve", "")
	require.NoError(t, err)
	m, _ = sb.SlackMessage(chIncident, ts)
	assert.Equal(t, "INC-1 approved by <@U0LEAD> (approve_blk/approve)", m.Text)
	assert.Equal(t, 1, m.Updates)
	assert.Empty(t, m.Blocks)

	// The approve button is gone now.
	_, err = sb.ClickButton(ctx, "U0DPO", chIncident, ts, "approve", "")
	assert.ErrorContains(t, err, "no button")

	_, err = sb.SlashCommand(ctx, "U0NOBODY", chIncident, "declare")
	assert.ErrorContains(t, err, "unknown user")

	se.mu.Lock()
	assert.Zero(t, se.badSigs)
	se.mu.Unlock()
	var sim struct {
		Messages   []SlackMessage
		Ephemerals []SlackEphemeral
		Views      []SlackView
		Calls      []SlackCall
	}
	getJSON(t, url+"/sim/slack", &sim)
	require.Len(t, sim.Messages, 1)
	assert.Equal(t, ts, sim.Messages[0].TS)
	assert.Len(t, sim.Ephemerals, 1)
	assert.Len(t, sim.Views, 1)
	assert.NotEmpty(t, sim.Calls)

	st := sb.Stats().Slack
	assert.Equal(t, SlackTotals{APICalls: st.APICalls, Messages: 1, Updates: 1, Ephemerals: 1, ViewsOpened: 1,
		SlashCommands: 1, ViewSubmissions: 2, ButtonClicks: 2}, st)
}

func TestSlackSignature(t *testing.T) {
	body := []byte("command=%2Fbreach&text=declare")
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := signSlack(SlackSigningSecret, ts, body)
	tests := []struct {
		name   string
		secret string
		ts     string
		body   []byte
		ok     bool
	}{
		{"as signed", SlackSigningSecret, ts, body, true},
		{"other secret", "othersecret", ts, body, false},
		{"tampered body", SlackSigningSecret, ts, []byte("command=%2Fbreach&text=close"), false},
		{"stale timestamp", SlackSigningSecret, strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10), body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Slack-Request-Timestamp", tc.ts)
			if tc.ts == ts {
				h.Set("X-Slack-Signature", sig)
			} else {
				h.Set("X-Slack-Signature", signSlack(tc.secret, tc.ts, body))
			}
			sv, err := slack.NewSecretsVerifier(h, tc.secret)
			if err == nil {
				_, _ = sv.Write(tc.body)
				err = sv.Ensure()
			}
			assert.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
}

func TestSlashCommandDefaultCommandAndAnyUser(t *testing.T) {
	e := newFakeEngine(t)
	var got slack.SlashCommand
	e.mux.HandleFunc("POST /slack/commands", func(w http.ResponseWriter, r *http.Request) {
		var err error
		got, err = slack.SlashCommandParse(r)
		require.NoError(t, err)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response_type":"ephemeral","text":"ok"}`)
	})
	sb, _ := newTestSandbox(t, e, Config{}) // no users in the scenario: anyone may type
	resp, err := sb.SlashCommand(ctx5(t), "U0ANY", "C0ANY", "status INC-1")
	require.NoError(t, err)
	assert.Equal(t, DefaultSlashCommand, got.Command)
	assert.Equal(t, "status INC-1", got.Text)
	assert.JSONEq(t, `{"response_type":"ephemeral","text":"ok"}`, string(resp.Body))
}
