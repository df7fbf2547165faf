// Package config reads breachflow's configuration from the environment,
// using the ecosystem's own variable names: TEMPORAL_* (through the SDK's
// envconfig), SENDGRID_*, TWILIO_*, SLACK_*, and BREACHFLOW_* for our own.
// A provider without credentials is served by the local sandbox.
package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/breachflow/breachflow/internal/roles"
)

// Config is the whole configuration of a worker or starter process.
type Config struct {
	TaskQueue  string // BREACHFLOW_TASK_QUEUE
	PublicURL  string // BREACHFLOW_PUBLIC_URL: where providers and recipients reach `starter serve`
	ListenAddr string // BREACHFLOW_LISTEN_ADDR
	LinkSecret string // BREACHFLOW_LINK_SECRET
	ListDir    string // BREACHFLOW_LIST_DIR
	SandboxURL string // BREACHFLOW_SANDBOX_URL: provider simulators
	// SandboxAddr is where `starter sandbox` listens (BREACHFLOW_SANDBOX_ADDR).
	SandboxAddr  string
	MailFrom     string // BREACHFLOW_MAIL_FROM
	MailFromName string // BREACHFLOW_MAIL_FROM_NAME
	// RecordDir is where closed incidents' records (timeline JSON and
	// Markdown) are written: they must outlive Temporal's retention
	// (BREACHFLOW_RECORD_DIR).
	RecordDir string
	// Roles is who holds each runbook role, for reminders, escalations and
	// reports by e-mail (BREACHFLOW_ROLES="dpo=a@x,b@x;legal=c@x").
	Roles roles.Directory
	// RunbooksDir holds the organisation's own runbooks, offered beside the
	// built-ins (BREACHFLOW_RUNBOOKS_DIR; empty = built-ins only).
	RunbooksDir string

	SendGrid SendGrid
	Twilio   Twilio
	Slack    Slack
}

// SendGrid holds SendGrid credentials; an empty APIKey means the sandbox.
type SendGrid struct {
	APIKey           string // SENDGRID_API_KEY
	WebhookPublicKey string // SENDGRID_WEBHOOK_PUBLIC_KEY (base64 DER ECDSA)
}

// Twilio holds Twilio credentials; an empty AccountSID means the sandbox.
type Twilio struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN
	FromNumber string // TWILIO_FROM_NUMBER
}

// Slack holds Slack credentials; an empty BotToken means the sandbox.
type Slack struct {
	BotToken      string // SLACK_BOT_TOKEN
	SigningSecret string // SLACK_SIGNING_SECRET
	AppToken      string // SLACK_APP_TOKEN (Socket Mode)
}

// Sandbox credentials: fixed, public, and only ever accepted by the local
// simulators. twilio-go requires alphanumeric credentials.
const (
	SandboxLinkSecret         = "sandbox-link-secret-not-for-production"
	SandboxSendGridAPIKey     = "SG.sandbox"
	SandboxTwilioAccountSID   = "ACsandbox00000000000000000000000000"
	SandboxTwilioAuthToken    = "sandboxauthtoken0000000000000000"
	SandboxTwilioFromNumber   = "+815000000000"
	SandboxSlackBotToken      = "xoxb-sandbox"
	SandboxSlackSigningSecret = "sandbox-slack-signing-secret"
	// SandboxSendGridWebhookPrivateKey signs the sandbox's event webhooks
	// (base64 PKCS#8, P-256); SandboxSendGridWebhookPublicKey verifies them
	// (base64 DER PKIX, the form SendGrid's console shows).
	SandboxSendGridWebhookPrivateKey = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgigE9/GRDEKpGWIiEQHpl8Zqgf+9TAjvsyLHByRXAV0ShRANCAAS24vpXgESKooSIUi7xiODhpKeCBjuW64U3L3HRqniTK+ze9UQK9C/OsPhLzuJ72PCnoIbaUDcOjKgq+iWBN2Tb"
	// SandboxCodecKeys encrypts workflow payloads in sandbox mode when no
	// BREACHFLOW_CODEC_KEYS is set: a public key, so sandbox histories are
	// encrypted the same way as production ones but protect nothing.
	SandboxCodecKeys                = "sandbox-demo:RwNk0eNvlllvBCJgbkAWOZDpPS4YzHzgXaa1DSa8GtA="
	SandboxSendGridWebhookPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtuL6V4BEiqKEiFIu8Yjg4aSnggY7luuFNy9x0ap4kyvs3vVECvQvzrD4S87ie9jwp6CG2lA3DoyoKvolgTdk2w=="
)

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return Load(os.Getenv) }

// Load reads the configuration through getenv (os.Getenv in production, a
// map in tests) and validates it.
func Load(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		TaskQueue:    get("BREACHFLOW_TASK_QUEUE", "breachflow"),
		PublicURL:    strings.TrimRight(get("BREACHFLOW_PUBLIC_URL", "http://127.0.0.1:8080"), "/"),
		ListenAddr:   get("BREACHFLOW_LISTEN_ADDR", "127.0.0.1:8080"),
		LinkSecret:   get("BREACHFLOW_LINK_SECRET", ""),
		ListDir:      get("BREACHFLOW_LIST_DIR", "data/lists"),
		SandboxURL:   strings.TrimRight(get("BREACHFLOW_SANDBOX_URL", "http://127.0.0.1:8090"), "/"),
		SandboxAddr:  get("BREACHFLOW_SANDBOX_ADDR", "127.0.0.1:8090"),
		MailFrom:     get("BREACHFLOW_MAIL_FROM", "security@example.com"),
		MailFromName: get("BREACHFLOW_MAIL_FROM_NAME", "breachflow"),
		RunbooksDir:  get("BREACHFLOW_RUNBOOKS_DIR", ""),
		RecordDir:    get("BREACHFLOW_RECORD_DIR", "data/records"),
		SendGrid: SendGrid{
			APIKey:           get("SENDGRID_API_KEY", ""),
			WebhookPublicKey: get("SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
		},
		Twilio: Twilio{
			AccountSID: get("TWILIO_ACCOUNT_SID", ""),
			AuthToken:  get("TWILIO_AUTH_TOKEN", ""),
			FromNumber: get("TWILIO_FROM_NUMBER", ""),
		},
		Slack: Slack{
			BotToken:      get("SLACK_BOT_TOKEN", ""),
			SigningSecret: get("SLACK_SIGNING_SECRET", ""),
			AppToken:      get("SLACK_APP_TOKEN", ""),
		},
	}
	dir, err := roles.FromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	c.Roles = dir
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) validate() error {
	for name, v := range map[string]string{"BREACHFLOW_PUBLIC_URL": c.PublicURL, "BREACHFLOW_SANDBOX_URL": c.SandboxURL} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s=%q: want an absolute http(s) URL such as https://breach.example.com", name, v)
		}
	}
	if c.Twilio.AccountSID != "" && (c.Twilio.AuthToken == "" || c.Twilio.FromNumber == "") {
		return fmt.Errorf("TWILIO_ACCOUNT_SID is set: TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are required too")
	}
	if c.Slack.BotToken != "" && c.Slack.SigningSecret == "" && c.Slack.AppToken == "" {
		return fmt.Errorf("SLACK_BOT_TOKEN is set: SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) is required too")
	}
	if c.SendGrid.APIKey != "" && c.SendGrid.WebhookPublicKey == "" {
		return fmt.Errorf("SENDGRID_API_KEY is set: SENDGRID_WEBHOOK_PUBLIC_KEY is required to verify the event webhook (Mail Settings > Event Webhook > Signature Verification)")
	}
	if c.LinkSecret == "" {
		if !c.FullySandboxed() {
			return fmt.Errorf("BREACHFLOW_LINK_SECRET is required when real provider credentials are set (32+ random bytes, e.g. `openssl rand -hex 32`)")
		}
		c.LinkSecret = SandboxLinkSecret
	}
	if len(c.LinkSecret) < 16 {
		return fmt.Errorf("BREACHFLOW_LINK_SECRET is too short: use 32+ random bytes, e.g. `openssl rand -hex 32`")
	}
	c.fillSandbox()
	return nil
}

// Sandboxed providers, decided from the credentials given.
func (c Config) SendGridSandboxed() bool {
	return c.SendGrid.APIKey == "" || c.SendGrid.APIKey == SandboxSendGridAPIKey
}

// TwilioSandboxed reports whether Twilio calls go to the sandbox.
func (c Config) TwilioSandboxed() bool {
	return c.Twilio.AccountSID == "" || c.Twilio.AccountSID == SandboxTwilioAccountSID
}

// SlackSandboxed reports whether Slack calls go to the sandbox.
func (c Config) SlackSandboxed() bool {
	return c.Slack.BotToken == "" || c.Slack.BotToken == SandboxSlackBotToken
}

// FullySandboxed reports whether no real provider is configured.
func (c Config) FullySandboxed() bool {
	return c.SendGridSandboxed() && c.TwilioSandboxed() && c.SlackSandboxed()
}

// fillSandbox puts the sandbox credentials in place of missing ones.
func (c *Config) fillSandbox() {
	if c.SendGridSandboxed() {
		c.SendGrid = SendGrid{APIKey: SandboxSendGridAPIKey, WebhookPublicKey: SandboxSendGridWebhookPublicKey}
	}
	if c.TwilioSandboxed() {
		c.Twilio = Twilio{AccountSID: SandboxTwilioAccountSID, AuthToken: SandboxTwilioAuthToken, FromNumber: SandboxTwilioFromNumber}
	}
	if c.SlackSandboxed() {
		c.Slack.BotToken = SandboxSlackBotToken
		if c.Slack.SigningSecret == "" {
			c.Slack.SigningSecret = SandboxSlackSigningSecret
		}
	}
}

// SandboxNotice lists, for a one-time log line, which providers are served by
// the sandbox; empty when none are.
func (c Config) SandboxNotice() []string {
	var s []string
	if c.SendGridSandboxed() {
		s = append(s, "sendgrid")
	}
	if c.TwilioSandboxed() {
		s = append(s, "twilio")
	}
	if c.SlackSandboxed() {
		s = append(s, "slack")
	}
	return s
}
