package activities

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/worker"
	"golang.org/x/time/rate"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
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

// Set is every activity struct a breachflow worker registers. Notices
// runs on the e-mail task queue (Register registers it separately, on
// RegisterMail), where the worker's rate limit holds.
type Set struct {
	Core    *Activities
	Roles   *RoleMailer
	Records *Recorder
	Letters *Letters
	Notices *Notices
	Reader  *WorkflowReader
}

// Temporal is what the activity set needs of the Temporal client: the
// Recall status queries of the closing record and of reconciliation, and
// synchronous heartbeats of the broadcast sender.
type Temporal interface {
	WorkflowQuerier
	HeartbeatRecorder
}

// NewSet builds the worker's activities from configuration.
func NewSet(cfg config.Config, nc NoticeConfig, lists *recipients.Store, c Temporal, logger *slog.Logger) (*Set, error) {
	core, err := New(cfg, lists, logger)
	if err != nil {
		return nil, err
	}
	core.Org = nc.Org
	var limiter *rate.Limiter
	if nc.SendGridRPS > 0 {
		limiter = rate.NewLimiter(rate.Limit(nc.SendGridRPS), 1)
	}
	return &Set{
		Core:    core,
		Roles:   &RoleMailer{Roles: cfg.Roles, Mail: core.Mail, Sender: core.Sender},
		Records: &Recorder{Dir: cfg.RecordDir, Workflows: c},
		Letters: &Letters{Dir: nc.LetterDir, Sender: nc.Sender, Published: nc.Published, Logger: logger},
		Notices: &Notices{Mail: core.Mail, Lists: lists, Sender: core.Sender, Config: nc, Heartbeats: c, Limiter: limiter, Logger: logger},
		Reader:  &WorkflowReader{Workflows: c},
	}, nil
}

// Register registers the activities of the main task queue.
func (s *Set) Register(r worker.ActivityRegistry) {
	r.RegisterActivity(s.Core)
	r.RegisterActivity(s.Roles)
	r.RegisterActivity(s.Records)
	r.RegisterActivity(s.Letters)
	r.RegisterActivity(s.Reader)
}

// RegisterMail registers the broadcast sender, for the e-mail task queue.
func (s *Set) RegisterMail(r worker.ActivityRegistry) { r.RegisterActivity(s.Notices) }
