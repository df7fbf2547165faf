package activities

import (
	"context"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/redact"
	"github.com/breachflow/breachflow/internal/slackui"
)

// TaskNotice is a message about a human task (a reminder, an escalation)
// in the incident's Slack channel. Text must hold no personal data; one
// that quotes an e-mail address or phone number is refused.
type TaskNotice struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
	// Demand, when set, is the broker demand the notice is about: the
	// notice carries the button of the step its state awaits.
	Demand *slackui.DemandView `json:"demand,omitempty"`
}

// PostTaskNotice posts a task reminder or escalation to a channel.
func (a *Activities) PostTaskNotice(ctx context.Context, in TaskNotice) (SlackMessageRef, error) {
	if len(redact.Find(in.Text)) > 0 {
		return SlackMessageRef{}, temporal.NewNonRetryableApplicationError("task notice quotes an address or number", ErrTypeRejected, nil)
	}
	if a.Slack == nil {
		return SlackMessageRef{}, temporal.NewNonRetryableApplicationError("no Slack client configured", ErrTypeSlackAuth, nil)
	}
	if in.Channel == "" {
		return SlackMessageRef{}, temporal.NewNonRetryableApplicationError("task notice: no channel", ErrTypeSlackChannel, nil)
	}
	opts := []slack.MsgOption{slack.MsgOptionText(in.Text, false)}
	if in.Demand != nil {
		_, blocks := slackui.DemandNoticeBlocks(in.Text, *in.Demand)
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	ch, ts, err := a.Slack.PostMessageContext(ctx, in.Channel, opts...)
	if err != nil {
		return SlackMessageRef{}, slackError("chat.postMessage of a task notice", err)
	}
	return SlackMessageRef{Channel: ch, TS: ts}, nil
}

// BroadcastMessage is a broadcast's one message in the incident channel:
// posted when Ref is nil, updated in place otherwise.
type BroadcastMessage struct {
	Channel string                `json:"channel"`
	Ref     *SlackMessageRef      `json:"ref,omitempty"`
	View    slackui.BroadcastView `json:"view"`
}

// PostBroadcastMessage posts or updates a broadcast's message with its
// approve, pause, resume and stop buttons.
func (a *Activities) PostBroadcastMessage(ctx context.Context, in BroadcastMessage) (SlackMessageRef, error) {
	if a.Slack == nil {
		return SlackMessageRef{}, temporal.NewNonRetryableApplicationError("no Slack client configured", ErrTypeSlackAuth, nil)
	}
	fallback, blocks := slackui.BroadcastBlocks(in.View)
	opts := []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	if in.Ref != nil && in.Ref.TS != "" {
		_, ts, _, err := a.Slack.UpdateMessageContext(ctx, in.Ref.Channel, in.Ref.TS, opts...)
		if err == nil {
			return SlackMessageRef{Channel: in.Ref.Channel, TS: ts}, nil
		}
		if !isSlackError(err, "message_not_found") {
			return SlackMessageRef{}, slackError("chat.update of the broadcast message", err)
		}
	}
	if in.Channel == "" {
		return SlackMessageRef{}, temporal.NewNonRetryableApplicationError("broadcast message: no channel", ErrTypeSlackChannel, nil)
	}
	ch, ts, err := a.Slack.PostMessageContext(ctx, in.Channel, opts...)
	if err != nil {
		return SlackMessageRef{}, slackError("chat.postMessage of the broadcast message", err)
	}
	return SlackMessageRef{Channel: ch, TS: ts}, nil
}
