package config_test

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
)

// Real-looking values: none is a sandbox value.
var (
	linkSecret = "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5"
	workerReal = map[string]string{
		"SENDGRID_API_KEY": "SG.real-key", "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN": "real-twilio-token", "TWILIO_FROM_NUMBER": "+81312345678",
		"SLACK_BOT_TOKEN": "xoxb-real", "BREACHFLOW_LINK_SECRET": linkSecret,
		"BREACHFLOW_PUBLIC_URL": "https://breach.example.co.jp",
	}
	serveReal = map[string]string{
		"SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEreal", "TWILIO_AUTH_TOKEN": "real-twilio-token",
		"SLACK_BOT_TOKEN": "xoxb-real", "SLACK_SIGNING_SECRET": "real-signing-secret", "BREACHFLOW_LINK_SECRET": linkSecret,
		"BREACHFLOW_PUBLIC_URL": "https://breach.example.co.jp", "BREACHFLOW_LISTEN_ADDR": "0.0.0.0:8080",
	}
)

// with returns base with changes applied ("" deletes).
func with(base map[string]string, changes ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			delete(out, changes[i])
		} else {
			out[changes[i]] = changes[i+1]
		}
	}
	return out
}

// TestLoad_FailsClosed is the table of rules: each role, each combination
// that must start (and with what) or must refuse (naming the variable).
func TestLoad_FailsClosed(t *testing.T) {
	type want struct {
		refuse    string   // the refusal names this; "" = starts
		sandboxed []string // what the sandbox serves when it starts
		check     func(t *testing.T, c config.Config)
	}
	tests := []struct {
		name string
		role config.Role
		env  map[string]string
		want want
	}{
		// Worker.
		{"worker: every secret set", config.RoleWorker, workerReal, want{check: func(t *testing.T, c config.Config) {
			if c.SendGrid.APIKey != "SG.real-key" || c.LinkSecret != linkSecret || c.AnyReal() == false {
				t.Errorf("configured values not kept: %+v", c)
			}
		}}},
		{"worker: no SendGrid key", config.RoleWorker, with(workerReal, "SENDGRID_API_KEY", ""), want{refuse: "SENDGRID_API_KEY is not set"}},
		{"worker: no Twilio SID", config.RoleWorker, with(workerReal, "TWILIO_ACCOUNT_SID", ""), want{refuse: "TWILIO_ACCOUNT_SID is not set"}},
		{"worker: no Twilio token", config.RoleWorker, with(workerReal, "TWILIO_AUTH_TOKEN", ""), want{refuse: "TWILIO_AUTH_TOKEN is not set"}},
		{"worker: no Twilio number", config.RoleWorker, with(workerReal, "TWILIO_FROM_NUMBER", ""), want{refuse: "TWILIO_FROM_NUMBER is not set"}},
		{"worker: no Slack token", config.RoleWorker, with(workerReal, "SLACK_BOT_TOKEN", ""), want{refuse: "SLACK_BOT_TOKEN is not set"}},
		{"worker: no link secret", config.RoleWorker, with(workerReal, "BREACHFLOW_LINK_SECRET", ""), want{refuse: "BREACHFLOW_LINK_SECRET is not set"}},
		{"worker: no public URL (links would point at localhost)", config.RoleWorker, with(workerReal, "BREACHFLOW_PUBLIC_URL", ""), want{refuse: "BREACHFLOW_PUBLIC_URL is not set"}},
		{"worker: the sandbox link secret", config.RoleWorker, with(workerReal, "BREACHFLOW_LINK_SECRET", config.SandboxLinkSecret), want{refuse: "BREACHFLOW_LINK_SECRET holds the public sandbox value"}},
		{"worker: the sandbox SendGrid key", config.RoleWorker, with(workerReal, "SENDGRID_API_KEY", config.SandboxSendGridAPIKey), want{refuse: "SENDGRID_API_KEY holds the public sandbox value"}},
		{"worker: the sandbox codec key", config.RoleWorker, with(workerReal, codec.EnvKeys, config.SandboxCodecKeys), want{refuse: "BREACHFLOW_CODEC_KEYS holds the public sandbox value"}},
		{"worker: nothing set", config.RoleWorker, nil, want{refuse: "SENDGRID_API_KEY is not set"}},
		{"worker: sandbox mode, nothing set", config.RoleWorker, map[string]string{config.EnvSandbox: "1"},
			want{sandboxed: []string{"sendgrid", "twilio", "slack", "link secret"}, check: func(t *testing.T, c config.Config) {
				if c.LinkSecret != config.SandboxLinkSecret || c.SendGrid.APIKey != config.SandboxSendGridAPIKey || c.AnyReal() {
					t.Errorf("sandbox mode did not fill the sandbox secrets: %+v", c)
				}
			}}},
		{"worker: sandbox mode beside a real SendGrid key, no link secret", config.RoleWorker,
			map[string]string{config.EnvSandbox: "1", "SENDGRID_API_KEY": "SG.real-key"}, want{refuse: "BREACHFLOW_LINK_SECRET is not set"}},
		{"worker: sandbox mode beside a real SendGrid key", config.RoleWorker,
			map[string]string{config.EnvSandbox: "true", "SENDGRID_API_KEY": "SG.real-key", "BREACHFLOW_LINK_SECRET": linkSecret},
			want{sandboxed: []string{"twilio", "slack"}, check: func(t *testing.T, c config.Config) {
				if c.SendGrid.APIKey != "SG.real-key" || c.SendGridSandboxed() || c.LinkSecret != linkSecret {
					t.Errorf("a configured value was replaced: %+v", c)
				}
			}}},
		{"worker: sandbox mode, Twilio half configured", config.RoleWorker,
			map[string]string{config.EnvSandbox: "1", "TWILIO_ACCOUNT_SID": "AC0123", "BREACHFLOW_LINK_SECRET": linkSecret}, want{refuse: "TWILIO_AUTH_TOKEN is not set"}},
		{"worker: a sandbox mode that is a typo", config.RoleWorker, map[string]string{config.EnvSandbox: "on"}, want{refuse: "BREACHFLOW_SANDBOX"}},

		// Front door: the attack of issue 15 was this role given webhook
		// keys and no API keys, then verifying with the sandbox's.
		{"serve: every secret set, listening on all interfaces", config.RoleServe, serveReal, want{check: func(t *testing.T, c config.Config) {
			if c.SendGrid.WebhookPublicKey != serveReal["SENDGRID_WEBHOOK_PUBLIC_KEY"] || c.Twilio.AuthToken != "real-twilio-token" || c.Slack.SigningSecret != "real-signing-secret" {
				t.Errorf("configured values not kept: %+v", c)
			}
		}}},
		{"serve: Socket Mode instead of a signing secret", config.RoleServe, with(serveReal, "SLACK_SIGNING_SECRET", "", "SLACK_APP_TOKEN", "xapp-real"), want{}},
		{"serve: webhook keys but no link secret", config.RoleServe, with(serveReal, "BREACHFLOW_LINK_SECRET", ""), want{refuse: "BREACHFLOW_LINK_SECRET is not set"}},
		{"serve: no SendGrid webhook key", config.RoleServe, with(serveReal, "SENDGRID_WEBHOOK_PUBLIC_KEY", ""), want{refuse: "SENDGRID_WEBHOOK_PUBLIC_KEY is not set"}},
		{"serve: no Twilio token", config.RoleServe, with(serveReal, "TWILIO_AUTH_TOKEN", ""), want{refuse: "TWILIO_AUTH_TOKEN is not set"}},
		{"serve: no Slack signing secret nor app token", config.RoleServe, with(serveReal, "SLACK_SIGNING_SECRET", ""), want{refuse: "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is not set"}},
		{"serve: the sandbox webhook key", config.RoleServe, with(serveReal, "SENDGRID_WEBHOOK_PUBLIC_KEY", config.SandboxSendGridWebhookPublicKey), want{refuse: "SENDGRID_WEBHOOK_PUBLIC_KEY holds the public sandbox value"}},
		{"serve: the sandbox Twilio token", config.RoleServe, with(serveReal, "TWILIO_AUTH_TOKEN", config.SandboxTwilioAuthToken), want{refuse: "TWILIO_AUTH_TOKEN holds the public sandbox value"}},
		{"serve: the sandbox Slack secret", config.RoleServe, with(serveReal, "SLACK_SIGNING_SECRET", config.SandboxSlackSigningSecret), want{refuse: "SLACK_SIGNING_SECRET holds the public sandbox value"}},
		{"serve: sandbox mode on loopback", config.RoleServe, map[string]string{config.EnvSandbox: "1", "BREACHFLOW_LISTEN_ADDR": "127.0.0.1:18080"},
			want{sandboxed: []string{"sendgrid", "twilio", "slack", "link secret"}}},
		{"serve: sandbox mode on ::1", config.RoleServe, map[string]string{config.EnvSandbox: "1", "BREACHFLOW_LISTEN_ADDR": "[::1]:18080"},
			want{sandboxed: []string{"sendgrid", "twilio", "slack", "link secret"}}},
		{"serve: sandbox mode on all interfaces", config.RoleServe, map[string]string{config.EnvSandbox: "1", "BREACHFLOW_LISTEN_ADDR": "0.0.0.0:8080"}, want{refuse: "BREACHFLOW_LISTEN_ADDR=0.0.0.0:8080 is not loopback"}},
		{"serve: sandbox mode on an empty host", config.RoleServe, map[string]string{config.EnvSandbox: "1", "BREACHFLOW_LISTEN_ADDR": ":8080"}, want{refuse: "is not loopback"}},
		{"serve: sandbox mode, webhook keys given, no link secret", config.RoleServe,
			map[string]string{config.EnvSandbox: "1", "SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkreal", "TWILIO_AUTH_TOKEN": "real-twilio-token"}, want{refuse: "BREACHFLOW_LINK_SECRET is not set"}},
		{"serve: sandbox mode, webhook keys given: never replaced by the sandbox's", config.RoleServe,
			map[string]string{config.EnvSandbox: "1", "SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkreal", "TWILIO_AUTH_TOKEN": "real-twilio-token", "BREACHFLOW_LINK_SECRET": linkSecret},
			want{sandboxed: []string{"slack"}, check: func(t *testing.T, c config.Config) {
				if c.SendGrid.WebhookPublicKey != "MFkreal" || c.Twilio.AuthToken != "real-twilio-token" || c.LinkSecret != linkSecret {
					t.Errorf("a configured value was replaced by a sandbox value: %+v", c)
				}
			}}},
		{"serve: sandbox mode, a Slack token without a way to verify Slack", config.RoleServe,
			map[string]string{config.EnvSandbox: "1", "SLACK_BOT_TOKEN": "xoxb-real", "BREACHFLOW_LINK_SECRET": linkSecret}, want{refuse: "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is not set"}},

		// Codec server: its token is codec's rule (TestCheckListen).
		{"codec-server: needs no provider secret", config.RoleCodecServer, nil, want{}},
		{"codec-server: refuses a sandbox value anyway", config.RoleCodecServer, map[string]string{"BREACHFLOW_CODEC_KEYS": config.SandboxCodecKeys}, want{refuse: "BREACHFLOW_CODEC_KEYS holds the public sandbox value"}},

		// CLI: no provider secrets (payload keys: temporalx).
		{"cli: needs no provider secret", config.RoleCLI, nil, want{}},
		{"cli: refuses a sandbox value", config.RoleCLI, map[string]string{"BREACHFLOW_LINK_SECRET": config.SandboxLinkSecret}, want{refuse: "BREACHFLOW_LINK_SECRET holds the public sandbox value"}},
		{"cli: sandbox mode", config.RoleCLI, map[string]string{config.EnvSandbox: "1"}, want{sandboxed: []string{"sendgrid", "twilio", "slack", "link secret"}}},

		// The simulators: sandbox mode only, on loopback only.
		{"sandbox: outside sandbox mode", config.RoleSandbox, nil, want{refuse: "BREACHFLOW_SANDBOX=1"}},
		{"sandbox: in sandbox mode", config.RoleSandbox, map[string]string{config.EnvSandbox: "1"}, want{sandboxed: []string{"sendgrid", "twilio", "slack", "link secret"}}},
		{"sandbox: listening beyond loopback", config.RoleSandbox, map[string]string{config.EnvSandbox: "1", "BREACHFLOW_SANDBOX_ADDR": "0.0.0.0:8090"}, want{refuse: "BREACHFLOW_SANDBOX_ADDR=0.0.0.0:8090 is not loopback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(tt.role, func(k string) string { return tt.env[k] })
			if tt.want.refuse != "" {
				if err == nil {
					t.Fatalf("started, want a refusal naming %q", tt.want.refuse)
				}
				if !strings.Contains(err.Error(), tt.want.refuse) {
					t.Fatalf("refusal %q does not say %q", err, tt.want.refuse)
				}
				for _, v := range tt.env {
					if len(v) >= 16 && strings.Contains(err.Error(), v) {
						t.Errorf("the refusal quotes a secret: %q", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got := strings.Join(c.SandboxNotice(), ","); got != strings.Join(tt.want.sandboxed, ",") {
				t.Errorf("sandboxed %q, want %q", got, strings.Join(tt.want.sandboxed, ","))
			}
			if c.Sandbox != (tt.env[config.EnvSandbox] != "") {
				t.Errorf("Sandbox = %v", c.Sandbox)
			}
			if tt.want.check != nil {
				tt.want.check(t, c)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:1": true, "[::1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "10.0.0.5:8080": false, "example.com:80": false, "garbage": false,
	} {
		if got := config.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// The codec server's no-token mode binds to loopback only.
func TestCheckListen(t *testing.T) {
	tests := []struct {
		addr   string
		opts   codec.Options
		refuse bool
	}{
		{"127.0.0.1:8081", codec.Options{InsecureNoAuth: true}, false},
		{"0.0.0.0:8081", codec.Options{InsecureNoAuth: true}, true},
		{":8081", codec.Options{InsecureNoAuth: true}, true},
		{"0.0.0.0:8081", codec.Options{Token: "a-token"}, false},
	}
	for _, tt := range tests {
		err := codec.CheckListen(tt.addr, tt.opts, config.IsLoopback)
		if (err != nil) != tt.refuse {
			t.Errorf("%s %+v: err %v, want refused %v", tt.addr, tt.opts, err, tt.refuse)
		}
		if err != nil && !strings.Contains(err.Error(), "BREACHFLOW_CODEC_TOKEN") {
			t.Errorf("the refusal does not name BREACHFLOW_CODEC_TOKEN: %v", err)
		}
	}
}
