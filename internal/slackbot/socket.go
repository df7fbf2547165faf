package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode receives slash commands and interactions over Slack's
// Socket Mode (for installations without a public URL) until ctx ends,
// and answers them through the same Dispatcher as HTTP. appToken is the
// app-level token (xapp-…, scope connections:write); Web API calls still
// go through Config.Slack. Requests over the socket need no signature:
// the app token authenticates the connection.
func (d *Dispatcher) RunSocketMode(ctx context.Context, appToken string) error {
	if !strings.HasPrefix(appToken, "xapp-") {
		return errors.New("slackbot: Socket Mode needs an app-level token (xapp-…, scope connections:write) in SLACK_APP_TOKEN")
	}
	opts := []slack.Option{slack.OptionAppLevelToken(appToken)}
	if d.cfg.SocketModeAPIURL != "" {
		opts = append(opts, slack.OptionAPIURL(d.cfg.SocketModeAPIURL))
	}
	sm := socketmode.New(slack.New("", opts...),
		socketmode.OptionLog(slog.NewLogLogger(d.log.Handler(), slog.LevelDebug)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- sm.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			d.Wait()
			if err == nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("slackbot: socket mode: %w", err)
		case evt := <-sm.Events:
			d.socketEvent(ctx, sm, evt)
		}
	}
}

// socketEvent handles one Socket Mode event; requests are answered in
// their own goroutine so a slow one does not hold up the others.
func (d *Dispatcher) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		d.log.Info("slackbot: socket mode connecting")
		return
	case socketmode.EventTypeConnected:
		d.log.Info("slackbot: socket mode connected")
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError:
		d.log.Warn("slackbot: socket mode", "event", string(evt.Type), "error", fmt.Sprint(evt.Data))
		return
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return // hello, disconnect: nothing to acknowledge
	}
	req := *evt.Request
	var handle func() Ack
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			return
		}
		handle = func() Ack { return d.HandleSlashCommand(ctx, cmd) }
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			return
		}
		handle = func() Ack { return d.HandleInteraction(ctx, ic) }
	default:
		// Events API and others: acknowledge so Slack does not retry.
		handle = func() Ack { return Ack{} }
	}
	d.spawn(replyTimeout, func(actx context.Context) {
		if err := sm.AckCtx(actx, req.EnvelopeID, handle().Payload); err != nil {
			d.log.Warn("slackbot: socket mode ack failed", "envelope", req.EnvelopeID, "error", err)
		}
	})
}
