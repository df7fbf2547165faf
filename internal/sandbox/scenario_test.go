package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, in order
	}{
		{"unknown key", "email:\n  defualt:\n    persona: click\n", []string{"s.yaml:2:3: email.defualt: unknown key"}},
		{"unknown email persona", "email:\n  default:\n    persona: press1\n", []string{"s.yaml:3:14: email.default.persona: unknown email persona \"press1\""}},
		{"unknown phone persona", "phone:\n  recipients:\n    - match: \"+8190\"\n      persona: click\n", []string{"s.yaml:4:16: phone.recipients[0].persona: unknown phone persona \"click\""}},
		{"bad glob", "email:\n  recipients:\n    - match: \"[a\"\n      persona: click\n", []string{"email.recipients[0].match: bad pattern"}},
		{"missing match and persona", "email:\n  recipients:\n    - delay: 1m\n", []string{"email.recipients[0].match: is required", "email.recipients[0].persona: is required"}},
		{"duplicate match ignoring case", "email:\n  recipients:\n    - match: A@x.jp\n      persona: click\n    - match: a@x.jp\n      persona: ignore\n", []string{"s.yaml:5:14: email.recipients[1].match: \"a@x.jp\" appears twice"}},
		{"bad duration", "email:\n  default:\n    persona: click\n    delay: soon\n", []string{"s.yaml:4:12: email.default.delay: expected a duration"}},
		{"negative delay", "phone:\n  default:\n    persona: press1\n    delay: -1s\n", []string{"phone.default.delay: must not be negative"}},
		{"negative time scale", "time_scale: -2\n", []string{"s.yaml:1:13: time_scale: must not be negative"}},
		{"unknown event webhook setting", "sendgrid_events: some\n", []string{"s.yaml:1:18: sendgrid_events: unknown value \"some\""}},
		{"unknown slack user in group", "slack:\n  users:\n    - id: U1\n  groups:\n    - id: S1\n      users: [U1, U2]\n", []string{"s.yaml:6:19: slack.groups[0].users[1]: unknown user \"U2\""}},
		{"duplicate slack user", "slack:\n  users:\n    - id: U1\n    - id: U1\n", []string{"slack.users[1].id: user \"U1\" appears twice"}},
		{"channel member unknown", "slack:\n  channels:\n    - id: C1\n      members: [UX]\n", []string{"slack.channels[0].members[0]: unknown user \"UX\""}},
		{"not yaml", "email: [\n", []string{"s.yaml:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScenario("s.yaml", []byte(tc.yaml))
			require.Error(t, err)
			msg := err.Error()
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
		})
	}
}

func TestDemoScenario(t *testing.T) {
	sc, err := LoadScenario("demo")
	require.NoError(t, err)
	assert.Equal(t, 60.0, sc.TimeScale)
	c, err := compileScenario(sc)
	require.NoError(t, err)

	emailCount := map[string]int{}
	phoneCount := map[string]int{}
	for i := 1; i <= 53; i++ {
		emailCount[c.emailPersona(fmt.Sprintf("member%02d@example.jp", i)).Name]++
		phoneCount[c.phonePersona(fmt.Sprintf("+8190000000%02d", i)).Name]++
	}
	assert.Equal(t, map[string]int{PersonaClick: 50, PersonaIgnore: 1, PersonaBounce: 1, PersonaScanner: 1}, emailCount)
	assert.Equal(t, map[string]int{PersonaPress1: 52, PersonaNoAnswerThenPress1: 1}, phoneCount)
	p := c.phonePersona("+819000000023")
	assert.Equal(t, 1, p.Count)
	assert.Equal(t, time.Minute, p.Delay)
	assert.Equal(t, 3*time.Minute, c.emailPersona("member01@example.jp").Delay)
	assert.Equal(t, PersonaBounce, c.emailPersona("anyone@bounce.example.jp").Name)

	// The same file loads by path too.
	sc2, err := LoadScenario(filepath.Join("scenarios", "demo.yaml"))
	require.NoError(t, err)
	assert.Equal(t, sc, sc2)
	require.NotEmpty(t, sc.Slack.Groups)
}

func TestLoadScenarioFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("email:\n  default:\n    persona: nope\n"), 0o600))
	tests := []struct {
		ref  string
		want string
	}{
		{"no-such-builtin", `built-in scenario "no-such-builtin"`},
		{filepath.Join(dir, "missing.yaml"), "read scenario"},
		{bad, bad + ":3:14: email.default.persona"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			_, err := LoadScenario(tc.ref)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPersonaLookup(t *testing.T) {
	c, err := compileScenario(Scenario{
		Email: PersonaTable{
			Default: PersonaSpec{Persona: PersonaIgnore, Delay: Duration(time.Second)},
			Recipients: []PersonaRule{
				{Match: "*@Bounce.example.jp", Persona: PersonaBounce},
				{Match: "VIP@bounce.example.jp", Persona: PersonaClick},
				{Match: "late@example.jp", Persona: PersonaClickLater},
			},
		},
		Phone: PersonaTable{Recipients: []PersonaRule{
			{Match: "+8190000000[0-4]?", Persona: PersonaBusy},
			{Match: "+819000000099", Persona: PersonaNoAnswerThenPress1},
		}},
	})
	require.NoError(t, err)
	tests := []struct {
		channel, key string
		want         persona
	}{
		{"email", "x@bounce.example.jp", persona{Name: PersonaBounce}},
		{"email", "vip@BOUNCE.example.jp", persona{Name: PersonaClick}}, // exact beats glob
		{"email", "late@example.jp", persona{Name: PersonaClickLater, Delay: time.Hour}},
		{"email", "other@example.jp", persona{Name: PersonaIgnore, Delay: time.Second}},
		{"phone", "+819000000012", persona{Name: PersonaBusy}},
		{"phone", "+819000000099", persona{Name: PersonaNoAnswerThenPress1, Count: 1}},
		{"phone", "+819000000077", persona{Name: PersonaPress1}},
	}
	for _, tc := range tests {
		t.Run(tc.channel+" "+tc.key, func(t *testing.T) {
			var got persona
			if tc.channel == "email" {
				got = c.emailPersona(tc.key)
			} else {
				got = c.phonePersona(tc.key)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no engine", Config{}, "EngineURL"},
		{"failure rate", Config{EngineURL: "http://e", FailureRate: 1.5}, "FailureRate"},
		{"time scale", Config{EngineURL: "http://e", TimeScale: -1}, "TimeScale"},
		{"scenario", Config{EngineURL: "http://e", Scenario: Scenario{Email: PersonaTable{Default: PersonaSpec{Persona: "x"}}}}, "email.default.persona"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
