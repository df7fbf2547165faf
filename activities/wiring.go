package activities

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/linktoken"
)

// New builds the activities from configuration: real provider APIs where
// credentials are set, the sandbox's simulators otherwise.
func New(cfg config.Config, lists RecipientSource, logger *slog.Logger) (*Activities, error) {
	links, err := linktoken.NewSigner(cfg.LinkSecret)
	if err != nil {
		return nil, fmt.Errorf("confirmation links: %w", err)
	}
	sgHost := "" // sendgrid-go's default: https://api.sendgrid.com
	if cfg.SendGridSandboxed() {
		sgHost = cfg.SandboxURL + "/sendgrid"
	}
	slackOpts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second})}
	if cfg.SlackSandboxed() {
		slackOpts = append(slackOpts, slack.OptionAPIURL(cfg.SandboxURL+"/slack/api/"))
	}
	tw := TwilioAccount{AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken, From: cfg.Twilio.FromNumber}
	if cfg.TwilioSandboxed() {
		tw.BaseURL = cfg.SandboxURL + "/twilio"
	}
	return &Activities{
		Twilio:    tw,
		Slack:     slack.New(cfg.Slack.BotToken, slackOpts...),
		Mail:      &SendGridMailer{APIKey: cfg.SendGrid.APIKey, Host: sgHost, HTTP: &http.Client{Timeout: 30 * time.Second}},
		Lists:     lists,
		Links:     links,
		PublicURL: cfg.PublicURL,
		Sender:    FromAddress{Name: cfg.MailFromName, Email: cfg.MailFrom},
		Logger:    logger,
	}, nil
}
