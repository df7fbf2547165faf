// Package config reads breachflow's configuration from the environment,
// using the ecosystem's own variable names: TEMPORAL_* (through the SDK's
// envconfig), SENDGRID_*, TWILIO_*, SLACK_*, and BREACHFLOW_* for our own.
//
// It fails closed. Each process role needs its own secrets (Requirements);
// a missing one stops the process with a message naming the variable. The
// public sandbox secrets of this repository are used only in sandbox mode
// (BREACHFLOW_SANDBOX=1: the demo and the tests), only for a provider none
// of whose variables is set, never in place of a configured value, never
// beside a real credential, and never by a process listening beyond
// loopback. Outside sandbox mode a sandbox value is refused wherever it is
// given.
package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
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
	// IncidentChannel is the Slack channel (ID) where an incident declared
	// from the CLI gets its message and thread (BREACHFLOW_SLACK_CHANNEL;
	// empty = no Slack message). Slack declarations use their own channel.
	IncidentChannel string

	SendGrid SendGrid
	Twilio   Twilio
	Slack    Slack

	// Role is the process this configuration was loaded for.
	Role Role
	// Sandbox: the process is in sandbox mode (BREACHFLOW_SANDBOX=1).
	Sandbox bool
	// sandboxed lists what is served by the public sandbox secrets
	// ("sendgrid", "twilio", "slack", "link secret"); empty outside
	// sandbox mode.
	sandboxed []string
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

// EnvSandbox puts a process in sandbox mode: "1" (or true, yes).
const EnvSandbox = "BREACHFLOW_SANDBOX"

// Role is a kind of breachflow process; each needs its own secrets.
type Role string

// The process roles.
const (
	// RoleCLI is the starter's commands that talk to Temporal: no
	// provider secrets (payload keys are required by temporalx).
	RoleCLI Role = "cli"
	// RoleWorker sends mail, calls and Slack messages and signs links.
	RoleWorker Role = "worker"
	// RoleServe is the front door: it verifies links, provider webhooks
	// and Slack requests.
	RoleServe Role = "serve"
	// RoleCodecServer decrypts payloads for the Temporal UI; its own token
	// rules are codec.ServerOptionsFromEnv's and CheckCodecListen's.
	RoleCodecServer Role = "codec-server"
	// RoleSandbox is the provider simulators and the demo driving them:
	// sandbox mode only.
	RoleSandbox Role = "sandbox"
)

// Requirement is one secret a role needs: a variable, or one of several.
type Requirement struct {
	Provider string   // "sendgrid", "twilio", "slack", "breachflow"
	AnyOf    []string // the variables, any one of which satisfies it
	Why      string
}

// Requirements lists the secrets a role needs, in the order they are
// checked: SECURITY.md's table is this.
func Requirements(r Role) []Requirement {
	switch r {
	case RoleWorker:
		return []Requirement{
			{"sendgrid", []string{"SENDGRID_API_KEY"}, "to send mail"},
			{"twilio", []string{"TWILIO_ACCOUNT_SID"}, "to call and text"},
			{"twilio", []string{"TWILIO_AUTH_TOKEN"}, "to call and text"},
			{"twilio", []string{"TWILIO_FROM_NUMBER"}, "to call and text"},
			{"slack", []string{"SLACK_BOT_TOKEN"}, "to post to the incident channel"},
			{"breachflow", []string{"BREACHFLOW_LINK_SECRET"}, "to sign the confirmation links in every deletion request"},
			{"breachflow", []string{"BREACHFLOW_PUBLIC_URL"}, "to build the confirmation links and provider callbacks (where recipients and providers reach the front door)"},
		}
	case RoleServe:
		return []Requirement{
			{"sendgrid", []string{"SENDGRID_WEBHOOK_PUBLIC_KEY"}, "to verify SendGrid's event webhook"},
			{"twilio", []string{"TWILIO_AUTH_TOKEN"}, "to verify Twilio's callbacks"},
			{"slack", []string{"SLACK_BOT_TOKEN"}, "to answer in Slack"},
			{"slack", []string{"SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"}, "to verify Slack's requests (HTTP) or to connect in Socket Mode"},
			{"breachflow", []string{"BREACHFLOW_LINK_SECRET"}, "to verify the confirmation links"},
		}
	}
	return nil
}

// providerVars are each provider's variables: one set means the provider
// is configured (real), and is never completed with sandbox values.
var providerVars = []struct {
	name string
	vars []string
}{
	{"sendgrid", []string{"SENDGRID_API_KEY", "SENDGRID_WEBHOOK_PUBLIC_KEY"}},
	{"twilio", []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"}},
	{"slack", []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"}},
}

// sandboxValues are the public values of this repository: outside sandbox
// mode a variable holding one is refused.
var sandboxValues = map[string]string{
	"BREACHFLOW_LINK_SECRET":      SandboxLinkSecret,
	"SENDGRID_API_KEY":            SandboxSendGridAPIKey,
	"SENDGRID_WEBHOOK_PUBLIC_KEY": SandboxSendGridWebhookPublicKey,
	"TWILIO_ACCOUNT_SID":          SandboxTwilioAccountSID,
	"TWILIO_AUTH_TOKEN":           SandboxTwilioAuthToken,
	"SLACK_BOT_TOKEN":             SandboxSlackBotToken,
	"SLACK_SIGNING_SECRET":        SandboxSlackSigningSecret,
	"BREACHFLOW_CODEC_KEYS":       SandboxCodecKeys,
}

// FromEnv reads the configuration of a command-line process from the
// process environment.
func FromEnv() (Config, error) { return Load(RoleCLI, os.Getenv) }

// ForRole reads the configuration of a role from the process environment.
func ForRole(r Role) (Config, error) { return Load(r, os.Getenv) }

// Load reads the configuration of a role through getenv (os.Getenv in
// production, a map in tests) and validates it.
func Load(role Role, getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	sandbox, err := parseSandbox(getenv(EnvSandbox))
	if err != nil {
		return Config{}, err
	}
	c := Config{
		Role:            role,
		Sandbox:         sandbox,
		TaskQueue:       get("BREACHFLOW_TASK_QUEUE", "breachflow"),
		PublicURL:       strings.TrimRight(get("BREACHFLOW_PUBLIC_URL", "http://127.0.0.1:8080"), "/"),
		ListenAddr:      get("BREACHFLOW_LISTEN_ADDR", "127.0.0.1:8080"),
		LinkSecret:      get("BREACHFLOW_LINK_SECRET", ""),
		ListDir:         get("BREACHFLOW_LIST_DIR", "data/lists"),
		SandboxURL:      strings.TrimRight(get("BREACHFLOW_SANDBOX_URL", "http://127.0.0.1:8090"), "/"),
		SandboxAddr:     get("BREACHFLOW_SANDBOX_ADDR", "127.0.0.1:8090"),
		MailFrom:        get("BREACHFLOW_MAIL_FROM", "security@example.com"),
		MailFromName:    get("BREACHFLOW_MAIL_FROM_NAME", "breachflow"),
		RunbooksDir:     get("BREACHFLOW_RUNBOOKS_DIR", ""),
		IncidentChannel: get("BREACHFLOW_SLACK_CHANNEL", ""),
		RecordDir:       get("BREACHFLOW_RECORD_DIR", "data/records"),
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
	if err := c.validate(func(k string) string { return strings.TrimSpace(getenv(k)) }); err != nil {
		return Config{}, fmt.Errorf("%s: %w", role.process(), err)
	}
	return c, nil
}

// process names the role as its command does.
func (r Role) process() string {
	switch r {
	case RoleWorker:
		return "worker"
	case RoleServe:
		return "starter serve"
	case RoleCodecServer:
		return "starter codec-server"
	case RoleSandbox:
		return "starter sandbox"
	}
	return "starter"
}

func parseSandbox(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q: want 1 (sandbox mode: public secrets, for the demo and tests) or 0", EnvSandbox, v)
}

// IsLoopback reports whether a listen address (host:port) binds to the
// loopback interface only: 127.0.0.0/8, ::1 or localhost. An empty host
// (":8080") binds every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validate(getenv func(string) string) error {
	for name, v := range map[string]string{"BREACHFLOW_PUBLIC_URL": c.PublicURL, "BREACHFLOW_SANDBOX_URL": c.SandboxURL} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s=%q: want an absolute http(s) URL such as https://breach.example.com", name, v)
		}
	}
	configured := map[string]bool{}
	for _, p := range providerVars {
		for _, v := range p.vars {
			if getenv(v) != "" {
				configured[p.name] = true
			}
		}
	}
	if !c.Sandbox {
		if c.Role == RoleSandbox {
			return fmt.Errorf("it runs the provider simulators with public secrets: only in sandbox mode (%s=1)", EnvSandbox)
		}
		for _, name := range slices.Sorted(maps.Keys(sandboxValues)) {
			if getenv(name) == sandboxValues[name] {
				return fmt.Errorf("%s holds the public sandbox value from this repository: set your own (it is accepted only in sandbox mode, %s=1)", name, EnvSandbox)
			}
		}
		for _, req := range Requirements(c.Role) {
			if !anySet(getenv, req.AnyOf) {
				return fmt.Errorf("%s is not set: it is required %s. Set it, or run the demo and tests in sandbox mode (%s=1) with the public sandbox secrets on this machine only",
					strings.Join(req.AnyOf, " or "), req.Why, EnvSandbox)
			}
		}
	} else {
		// Sandbox mode: a configured provider is real and must be
		// complete; the others are served by the sandbox. Nothing real
		// may sit beside a public secret.
		for _, req := range Requirements(c.Role) {
			if req.Provider == "breachflow" {
				continue
			}
			if configured[req.Provider] && !anySet(getenv, req.AnyOf) {
				return fmt.Errorf("%s is not set: %s is configured, so it is real and is never completed with sandbox secrets (%s is required %s)",
					strings.Join(req.AnyOf, " or "), req.Provider, strings.Join(req.AnyOf, " or "), req.Why)
			}
		}
		real := configured["sendgrid"] || configured["twilio"] || configured["slack"]
		if (c.Role == RoleWorker || c.Role == RoleServe) && c.LinkSecret == "" && real {
			return fmt.Errorf("BREACHFLOW_LINK_SECRET is not set: with a real provider configured the public sandbox secret is refused (32+ random bytes, e.g. `openssl rand -hex 32`)")
		}
		if c.Role == RoleServe && !IsLoopback(c.ListenAddr) {
			return fmt.Errorf("BREACHFLOW_LISTEN_ADDR=%s is not loopback: sandbox mode uses public secrets, so the front door listens on 127.0.0.1 or ::1 only", c.ListenAddr)
		}
		if c.Role == RoleSandbox && !IsLoopback(c.SandboxAddr) {
			return fmt.Errorf("BREACHFLOW_SANDBOX_ADDR=%s is not loopback: the simulators accept public secrets, so they listen on 127.0.0.1 or ::1 only", c.SandboxAddr)
		}
	}
	if c.Twilio.AccountSID != "" && (c.Twilio.AuthToken == "" || c.Twilio.FromNumber == "") {
		return fmt.Errorf("TWILIO_ACCOUNT_SID is set: TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are required too")
	}
	if c.Slack.BotToken != "" && c.Slack.SigningSecret == "" && c.Slack.AppToken == "" && c.Role == RoleServe {
		return fmt.Errorf("SLACK_BOT_TOKEN is set: SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) is required too")
	}
	if c.Sandbox {
		c.fillSandbox(configured)
	}
	if c.LinkSecret != "" && len(c.LinkSecret) < 16 {
		return fmt.Errorf("BREACHFLOW_LINK_SECRET is too short: use 32+ random bytes, e.g. `openssl rand -hex 32`")
	}
	return nil
}

func anySet(getenv func(string) string, vars []string) bool {
	for _, v := range vars {
		if getenv(v) != "" {
			return true
		}
	}
	return false
}

// SendGridSandboxed reports whether mail goes to the sandbox.
func (c Config) SendGridSandboxed() bool { return slices.Contains(c.sandboxed, "sendgrid") }

// TwilioSandboxed reports whether Twilio calls go to the sandbox.
func (c Config) TwilioSandboxed() bool { return slices.Contains(c.sandboxed, "twilio") }

// SlackSandboxed reports whether Slack calls go to the sandbox.
func (c Config) SlackSandboxed() bool { return slices.Contains(c.sandboxed, "slack") }

// AnyReal reports whether any provider is configured with real
// credentials.
func (c Config) AnyReal() bool {
	return !c.SendGridSandboxed() || !c.TwilioSandboxed() || !c.SlackSandboxed()
}

// fillSandbox puts the public sandbox secrets in place of the providers
// none of whose variables is set, and of a missing link secret (only
// when no provider is real: validate refuses otherwise).
func (c *Config) fillSandbox(configured map[string]bool) {
	if !configured["sendgrid"] {
		c.SendGrid = SendGrid{APIKey: SandboxSendGridAPIKey, WebhookPublicKey: SandboxSendGridWebhookPublicKey}
		c.sandboxed = append(c.sandboxed, "sendgrid")
	}
	if !configured["twilio"] {
		c.Twilio = Twilio{AccountSID: SandboxTwilioAccountSID, AuthToken: SandboxTwilioAuthToken, FromNumber: SandboxTwilioFromNumber}
		c.sandboxed = append(c.sandboxed, "twilio")
	}
	if !configured["slack"] {
		c.Slack = Slack{BotToken: SandboxSlackBotToken, SigningSecret: SandboxSlackSigningSecret}
		c.sandboxed = append(c.sandboxed, "slack")
	}
	if c.LinkSecret == "" {
		c.LinkSecret = SandboxLinkSecret
		c.sandboxed = append(c.sandboxed, "link secret")
	}
}

// SandboxNotice lists, for the one log line sandbox mode writes at start,
// what the public sandbox secrets serve; empty outside sandbox mode.
func (c Config) SandboxNotice() []string { return slices.Clone(c.sandboxed) }
