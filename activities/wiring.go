package activities

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/worker"

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

// Set is every activity struct a breachflow worker registers.
type Set struct {
	Core    *Activities
	Roles   *RoleMailer
	Records *Recorder
}

// NewSet builds the worker's activities from configuration; workflows
// answers the Recall status queries the closing record collects.
func NewSet(cfg config.Config, lists RecipientSource, workflows WorkflowQuerier, logger *slog.Logger) (*Set, error) {
	core, err := New(cfg, lists, logger)
	if err != nil {
		return nil, err
	}
	return &Set{
		Core:    core,
		Roles:   &RoleMailer{Roles: cfg.Roles, Mail: core.Mail, Sender: core.Sender},
		Records: &Recorder{Dir: cfg.RecordDir, Workflows: workflows},
	}, nil
}

// Register registers every activity of the set.
func (s *Set) Register(r worker.ActivityRegistry) {
	r.RegisterActivity(s.Core)
	r.RegisterActivity(s.Roles)
	r.RegisterActivity(s.Records)
}
