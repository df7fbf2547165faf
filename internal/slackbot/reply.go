package slackbot

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
)

// target is where a late answer goes: an ephemeral message to User in
// Channel, or the request's response_url. Thread, when set, is the
// message whose thread public outcomes are posted in.
type target struct {
	Channel, User, ResponseURL, Thread string
	// authorized is set once User passed the allowlist for the step: only
	// then is the response_url, taken from the request, followed.
	authorized bool
}

// allowed returns t marked as authorized.
func (t target) allowed() target {
	t.authorized = true
	return t
}

// DefaultResponseURLBase is where Slack's response_url values point.
const DefaultResponseURLBase = "https://hooks.slack.com/"

// followable reports whether the response_url may be posted to: the user
// was authorized, and the URL is under one of Config.ResponseURLBases
// (same scheme, same host and port, path below the base's), with no user
// information. Anything else, a local address above all, is never
// contacted.
func (d *Dispatcher) followable(t target) error {
	if !t.authorized {
		return fmt.Errorf("response_url not followed: the user was not authorized")
	}
	u, err := url.Parse(t.ResponseURL)
	if err != nil || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("response_url not followed: not a plain URL")
	}
	for _, base := range d.responseBases {
		if strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Host, base.Host) &&
			strings.HasPrefix(u.EscapedPath(), base.EscapedPath()) && !strings.Contains(u.Path, "/../") {
			return nil
		}
	}
	return fmt.Errorf("response_url not followed: not a Slack address")
}

// Message is a slash-command answer, as an acknowledgement body or a
// response_url post.
type Message struct {
	ResponseType string `json:"response_type"` // "ephemeral": only the user sees it
	Text         string `json:"text"`
}

// ephemeral is an acknowledgement that shows text to the requesting user
// only (slash commands).
func ephemeral(text string) Ack {
	return Ack{Payload: Message{ResponseType: slack.ResponseTypeEphemeral, Text: text}}
}

// tell shows text to the user: chat.postEphemeral in the channel first,
// then the response_url (which works where the bot is not a member).
func (d *Dispatcher) tell(ctx context.Context, t target, text string) {
	d.deliver(ctx, t, text, false)
}

// respond answers a slash command late: the response_url first, then
// chat.postEphemeral.
func (d *Dispatcher) respond(ctx context.Context, t target, text string) {
	d.deliver(ctx, t, text, true)
}

func (d *Dispatcher) deliver(ctx context.Context, t target, text string, urlFirst bool) {
	viaURL := func() error {
		if t.ResponseURL == "" {
			return fmt.Errorf("no response_url")
		}
		if err := d.followable(t); err != nil {
			return err
		}
		err := slack.PostWebhookCustomHTTPContext(ctx, t.ResponseURL, d.hc, &slack.WebhookMessage{
			Text: text, ResponseType: slack.ResponseTypeEphemeral,
		})
		if err != nil {
			return fmt.Errorf("post to response_url: %w", err)
		}
		return nil
	}
	viaEphemeral := func() error {
		if t.Channel == "" || t.User == "" {
			return fmt.Errorf("no channel to post in")
		}
		if _, err := d.cfg.Slack.PostEphemeralContext(ctx, t.Channel, t.User, slack.MsgOptionText(text, false)); err != nil {
			return fmt.Errorf("chat.postEphemeral: %w", err)
		}
		return nil
	}
	first, second := viaEphemeral, viaURL
	if urlFirst {
		first, second = viaURL, viaEphemeral
	}
	err1 := first()
	if err1 == nil {
		return
	}
	if err2 := second(); err2 != nil {
		// The user ID and channel are identifiers, not personal data.
		d.log.Warn("slackbot: could not tell the user", "user", t.User, "channel", t.Channel, "error", err1, "fallback_error", err2)
	}
}

// postInThread posts text, visible to the channel, in the thread of the
// message the user acted on; without one it posts nothing (the user is
// told anyway). Text must hold no personal data.
func (d *Dispatcher) postInThread(ctx context.Context, t target, text string) {
	if t.Channel == "" || t.Thread == "" {
		return
	}
	if _, _, err := d.cfg.Slack.PostMessageContext(ctx, t.Channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(t.Thread)); err != nil {
		d.log.Warn("slackbot: could not post in the thread", "channel", t.Channel, "error", err)
	}
}
