package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/slackui"
)

// Application error types of the Slack activities.
const (
	// ErrTypeSlackAuth: the bot token is invalid, revoked or lacks a scope.
	ErrTypeSlackAuth = "SlackAuth"
	// ErrTypeSlackChannel: the channel does not exist, is archived, or the
	// bot is not in it (invite it with /invite @breachflow).
	ErrTypeSlackChannel = "SlackChannel"
	// ErrTypeSlackRateLimited: Slack asked us to slow down; retried after
	// the Retry-After it gave.
	ErrTypeSlackRateLimited = "SlackRateLimited"
)

// SlackMessageRef names a message the bot posted.
type SlackMessageRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// IncidentMessage is the incident's one message in its channel: posted
// when Ref is nil, updated in place otherwise.
type IncidentMessage struct {
	Channel string               `json:"channel"`
	Ref     *SlackMessageRef     `json:"ref,omitempty"`
	View    slackui.IncidentView `json:"view"`
}

// ThreadReply is a reply in the thread of the incident message, one per
// notable event. Text must hold no personal data.
type ThreadReply struct {
	Ref  SlackMessageRef `json:"ref"`
	Text string          `json:"text"`
}

// PostIncidentMessage posts the incident message (chat.postMessage) or
// updates it in place (chat.update), and returns where it is. If the
// message was deleted, it posts a new one and returns the new reference.
func (a *Activities) PostIncidentMessage(ctx context.Context, in IncidentMessage) (SlackMessageRef, error) {
	if a.Slack == nil {
		return SlackMessageRef{}, temporal.NewNonRetryableApplicationError("no Slack client configured", ErrTypeSlackAuth, nil)
	}
	fallback, blocks := slackui.IncidentBlocks(in.View)
	opts := []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	if in.Ref != nil && in.Ref.TS != "" {
		ch := in.Ref.Channel
		if ch == "" {
			ch = in.Channel
		}
		_, ts, _, err := a.Slack.UpdateMessageContext(ctx, ch, in.Ref.TS, opts...)
		if err == nil {
			return SlackMessageRef{Channel: ch, TS: ts}, nil
		}
		if !isSlackError(err, "message_not_found") {
			return SlackMessageRef{}, slackError("chat.update of the incident message", err)
		}
		a.logger().Info("incident message was deleted: posting a new one", "incident", in.View.IncidentID, "channel", ch)
	}
	if in.Channel == "" {
		return SlackMessageRef{}, temporal.NewNonRetryableApplicationError("incident message: no channel", ErrTypeSlackChannel, nil)
	}
	ch, ts, err := a.Slack.PostMessageContext(ctx, in.Channel, opts...)
	if err != nil {
		return SlackMessageRef{}, slackError("chat.postMessage of the incident message", err)
	}
	return SlackMessageRef{Channel: ch, TS: ts}, nil
}

// PostThreadReply posts a reply in the incident message's thread.
func (a *Activities) PostThreadReply(ctx context.Context, in ThreadReply) error {
	if a.Slack == nil {
		return temporal.NewNonRetryableApplicationError("no Slack client configured", ErrTypeSlackAuth, nil)
	}
	if in.Ref.Channel == "" || in.Ref.TS == "" {
		return temporal.NewNonRetryableApplicationError("thread reply: no incident message to reply to", ErrTypeRejected, nil)
	}
	_, _, err := a.Slack.PostMessageContext(ctx, in.Ref.Channel,
		slack.MsgOptionText(in.Text, false), slack.MsgOptionTS(in.Ref.TS))
	if err != nil {
		return slackError("chat.postMessage in the incident thread", err)
	}
	return nil
}

func isSlackError(err error, code string) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}

// slackError classifies a Slack Web API error for Temporal's retry policy:
// rate limits are retried after Slack's Retry-After, 5xx and network
// errors are retried, and refusals that a retry cannot fix are
// non-retryable application errors with a type name.
func slackError(what string, err error) error {
	msg := fmt.Sprintf("%s: %v", what, err)
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeSlackRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: rl.RetryAfter, Cause: err})
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope", "no_permission":
			return temporal.NewNonRetryableApplicationError(msg, ErrTypeSlackAuth, err)
		case "channel_not_found", "not_in_channel", "is_archived", "restricted_action":
			return temporal.NewNonRetryableApplicationError(msg, ErrTypeSlackChannel, err)
		case "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
			"invalid_arguments", "cant_update_message", "edit_window_closed", "thread_not_found", "message_not_found":
			return temporal.NewNonRetryableApplicationError(msg, ErrTypeRejected, err)
		}
		return fmt.Errorf("%s: %w", what, err) // internal_error, fatal_error, …: retry
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code >= http.StatusInternalServerError || sc.Code == http.StatusTooManyRequests {
			return fmt.Errorf("%s: %w", what, err)
		}
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeRejected, err)
	}
	return fmt.Errorf("%s: %w", what, err) // network, timeout: retry
}
