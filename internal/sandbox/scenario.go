package sandbox

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/breachflow/breachflow/internal/yamldoc"
)

// E-mail personas: how a simulated mailbox owner reacts to a message.
const (
	// PersonaClick opens the message after Delay, follows the confirmation
	// link (GET) and submits the page's POST form, as a person would.
	PersonaClick = "click"
	// PersonaClickLater is PersonaClick with a long delay (1 h by default).
	PersonaClickLater = "click_later"
	// PersonaScanner is a mail-security link scanner: it GETs the link at
	// once and never POSTs, so it must never confirm anything.
	PersonaScanner = "scanner"
	// PersonaIgnore receives the message and does nothing.
	PersonaIgnore = "ignore"
	// PersonaBounce makes the message bounce (event "bounce").
	PersonaBounce = "bounce"
	// PersonaDrop makes SendGrid drop the message (event "dropped").
	PersonaDrop = "drop"
)

// Phone personas: how a simulated callee answers calls (and receives SMS).
const (
	// PersonaPress1 answers after Delay and presses 1.
	PersonaPress1 = "press1"
	// PersonaPress2 answers after Delay and presses 2 ("call me back").
	PersonaPress2 = "press2"
	// PersonaNoAnswer lets every call ring out (no-answer).
	PersonaNoAnswer = "no_answer"
	// PersonaBusy makes every call end busy.
	PersonaBusy = "busy"
	// PersonaNoAnswerThenPress1 lets the first Count calls ring out, then
	// answers and presses 1.
	PersonaNoAnswerThenPress1 = "no_answer_then_press1"
	// PersonaSilence answers and presses nothing.
	PersonaSilence = "silence"
	// PersonaInvalid is a number Twilio rejects at create time (21211).
	PersonaInvalid = "invalid"
	// PersonaNeverAnswers rings out on every call, like no_answer, but is
	// meant for people who are simply unreachable by phone.
	PersonaNeverAnswers = "never_answers"
	// PersonaSMSUndelivered: SMS to this number end undelivered (30003);
	// calls ring out.
	PersonaSMSUndelivered = "sms_undelivered"
)

var (
	emailPersonas = []string{PersonaClick, PersonaClickLater, PersonaScanner, PersonaIgnore, PersonaBounce, PersonaDrop}
	phonePersonas = []string{PersonaPress1, PersonaPress2, PersonaNoAnswer, PersonaBusy, PersonaNoAnswerThenPress1,
		PersonaSilence, PersonaInvalid, PersonaNeverAnswers, PersonaSMSUndelivered}
)

// Scenario decides how simulated recipients behave and who the Slack users
// are. The zero Scenario is valid: every address clicks at once, every number
// presses 1 at once, and Slack has no users.
type Scenario struct {
	// TimeScale divides persona delays (see Config.TimeScale); 0 = unset.
	TimeScale float64 `yaml:"time_scale" json:"time_scale,omitempty"`
	// Email chooses e-mail personas by recipient address.
	Email PersonaTable `yaml:"email" json:"email"`
	// Phone chooses phone personas by E.164 number.
	Phone PersonaTable `yaml:"phone" json:"phone"`
	// Slack lists the workspace's users, user groups and channels.
	Slack SlackWorkspace `yaml:"slack" json:"slack"`
	// SendGridEvents is what the SendGrid event webhook posts, as an
	// account's webhook settings choose: SendGridEventsAll (or empty) every
	// event; SendGridEventsBounces only bounce and dropped events (all a
	// broadcast needs); SendGridEventsNone nothing (no event webhook).
	// Outcomes are counted either way. Load and fault tests of broadcasts
	// use the last two: a hundred thousand event posts from the same cores
	// would be most of their work.
	SendGridEvents string `yaml:"sendgrid_events" json:"sendgrid_events,omitempty"`
}

// Values of Scenario.SendGridEvents.
const (
	SendGridEventsAll     = "all"
	SendGridEventsBounces = "bounces"
	SendGridEventsNone    = "none"
)

// PersonaTable maps recipients to personas: the first rule whose Match fits
// wins (exact matches are tried before patterns), else Default.
type PersonaTable struct {
	Default    PersonaSpec   `yaml:"default" json:"default"`
	Recipients []PersonaRule `yaml:"recipients" json:"recipients,omitempty"`
}

// PersonaSpec is a persona with its parameters.
type PersonaSpec struct {
	// Persona is one of the Persona* constants for the table's channel.
	Persona string `yaml:"persona" json:"persona"`
	// Delay is the simulated time before the persona acts (answers, clicks).
	Delay Duration `yaml:"delay" json:"delay,omitempty"`
	// Count is the number of unanswered calls of no_answer_then_press1
	// (default 1).
	Count int `yaml:"count" json:"count,omitempty"`
}

// PersonaRule assigns a persona to recipients matching Match: an exact
// address or number, or a path.Match glob such as "*@bounce.example.jp".
// E-mail matching ignores case.
type PersonaRule struct {
	Match   string   `yaml:"match" json:"match"`
	Persona string   `yaml:"persona" json:"persona"`
	Delay   Duration `yaml:"delay" json:"delay,omitempty"`
	Count   int      `yaml:"count" json:"count,omitempty"`
}

// SlackWorkspace is the simulated Slack workspace.
type SlackWorkspace struct {
	Users    []SlackUser    `yaml:"users" json:"users,omitempty"`
	Groups   []SlackGroup   `yaml:"groups" json:"groups,omitempty"`
	Channels []SlackChannel `yaml:"channels" json:"channels,omitempty"`
}

// SlackUser is a simulated Slack user.
type SlackUser struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// SlackGroup is a user group (subteam) and its members.
type SlackGroup struct {
	ID     string   `yaml:"id" json:"id"`
	Handle string   `yaml:"handle" json:"handle"`
	Users  []string `yaml:"users" json:"users"`
}

// SlackChannel is a channel and its members.
type SlackChannel struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Members []string `yaml:"members" json:"members"`
}

// Duration is a time.Duration written as "90s", "5m" or "1h30m" in YAML and JSON.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("expected a duration such as 30s, 5m or 1h")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("expected a duration such as 30s, 5m or 1h, got %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string such as "1m30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

//go:embed scenarios/*.yaml
var builtinScenarios embed.FS

// BuiltinScenario returns a scenario shipped in scenarios/, by name without
// extension (e.g. "demo").
func BuiltinScenario(name string) (Scenario, error) {
	file := "scenarios/" + name + ".yaml"
	data, err := builtinScenarios.ReadFile(file)
	if err != nil {
		return Scenario{}, fmt.Errorf("built-in scenario %q: %w", name, err)
	}
	return ParseScenario(file, data)
}

// LoadScenario reads a scenario from a YAML file, or a built-in scenario when
// ref has no ".yaml"/".yml" suffix and no path separator (e.g. "demo").
func LoadScenario(ref string) (Scenario, error) {
	if !strings.ContainsAny(ref, `/\`) && !strings.HasSuffix(ref, ".yaml") && !strings.HasSuffix(ref, ".yml") {
		return BuiltinScenario(ref)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(ref, data)
}

// ParseScenario strictly decodes and validates a scenario. Unknown keys,
// unknown personas, bad patterns and dangling Slack references are all
// reported, each as file:line:col.
func ParseScenario(file string, data []byte) (Scenario, error) {
	var sc Scenario
	doc, diags := yamldoc.Decode(file, data, &sc)
	if len(diags) > 0 {
		diags.Sort()
		return Scenario{}, diags
	}
	problems := validateScenario(sc)
	if len(problems) == 0 {
		return sc, nil
	}
	var ds yamldoc.Diagnostics
	for _, p := range problems {
		ds = append(ds, doc.Errorf(p.path, p.hint, "%s", p.msg))
	}
	ds.Sort()
	return Scenario{}, ds
}

type problem struct{ path, msg, hint string }

// ScenarioError lists the problems of a scenario built in Go.
type ScenarioError []string

// Error implements error.
func (e ScenarioError) Error() string { return strings.Join(e, "; ") }

func validateScenario(sc Scenario) []problem {
	var ps []problem
	add := func(path, hint, format string, args ...any) {
		ps = append(ps, problem{path: path, msg: fmt.Sprintf(format, args...), hint: hint})
	}
	if sc.TimeScale < 0 {
		add("time_scale", "use 1 for real time, 60 for a simulated minute per second", "must not be negative")
	}
	if e := sc.SendGridEvents; e != "" && e != SendGridEventsAll && e != SendGridEventsBounces && e != SendGridEventsNone {
		add("sendgrid_events", "one of all, bounces, none", "unknown value %q", e)
	}
	checkTable := func(name string, t PersonaTable, known []string) {
		hint := "one of " + strings.Join(known, ", ")
		if t.Default.Persona != "" && !contains(known, t.Default.Persona) {
			add(name+".default.persona", hint, "unknown %s persona %q", name, t.Default.Persona)
		}
		if t.Default.Delay < 0 {
			add(name+".default.delay", "", "must not be negative")
		}
		if t.Default.Count < 0 {
			add(name+".default.count", "", "must not be negative")
		}
		seen := map[string]int{}
		for i, r := range t.Recipients {
			p := fmt.Sprintf("%s.recipients[%d]", name, i)
			m := r.Match
			if name == "email" {
				m = strings.ToLower(m)
			}
			switch {
			case m == "":
				add(p+".match", "an exact address or number, or a glob such as *@bounce.example.jp", "is required")
			default:
				if _, err := path.Match(m, ""); err != nil {
					add(p+".match", "globs use *, ? and [...]", "bad pattern %q", r.Match)
				}
				if j, dup := seen[m]; dup {
					add(p+".match", fmt.Sprintf("it is already used by %s.recipients[%d]", name, j), "%q appears twice", r.Match)
				}
				seen[m] = i
			}
			if r.Persona == "" {
				add(p+".persona", hint, "is required")
			} else if !contains(known, r.Persona) {
				add(p+".persona", hint, "unknown %s persona %q", name, r.Persona)
			}
			if r.Delay < 0 {
				add(p+".delay", "", "must not be negative")
			}
			if r.Count < 0 {
				add(p+".count", "", "must not be negative")
			}
		}
	}
	checkTable("email", sc.Email, emailPersonas)
	checkTable("phone", sc.Phone, phonePersonas)

	users := map[string]bool{}
	for i, u := range sc.Slack.Users {
		p := fmt.Sprintf("slack.users[%d]", i)
		if u.ID == "" {
			add(p+".id", "Slack user IDs look like U0123ABCD", "is required")
		} else if users[u.ID] {
			add(p+".id", "", "user %q appears twice", u.ID)
		}
		users[u.ID] = true
	}
	checkMembers := func(p string, ids []string) {
		for j, id := range ids {
			if !users[id] {
				add(fmt.Sprintf("%s[%d]", p, j), "list the user under slack.users first", "unknown user %q", id)
			}
		}
	}
	groups := map[string]bool{}
	for i, g := range sc.Slack.Groups {
		p := fmt.Sprintf("slack.groups[%d]", i)
		if g.ID == "" {
			add(p+".id", "Slack user group IDs look like S0123ABCD", "is required")
		} else if groups[g.ID] {
			add(p+".id", "", "group %q appears twice", g.ID)
		}
		groups[g.ID] = true
		checkMembers(p+".users", g.Users)
	}
	chans := map[string]bool{}
	for i, c := range sc.Slack.Channels {
		p := fmt.Sprintf("slack.channels[%d]", i)
		if c.ID == "" {
			add(p+".id", "Slack channel IDs look like C0123ABCD", "is required")
		} else if chans[c.ID] {
			add(p+".id", "", "channel %q appears twice", c.ID)
		}
		chans[c.ID] = true
		checkMembers(p+".members", c.Members)
	}
	return ps
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// persona is a resolved persona for one recipient.
type persona struct {
	Name  string
	Delay time.Duration
	Count int
}

type compiledTable struct {
	def      persona
	exact    map[string]persona
	patterns []PersonaRule
	fold     bool
}

func (t *compiledTable) lookup(key string) persona {
	if t.fold {
		key = strings.ToLower(key)
	}
	if p, ok := t.exact[key]; ok {
		return p
	}
	for _, r := range t.patterns {
		if ok, _ := path.Match(r.Match, key); ok {
			return persona{Name: r.Persona, Delay: time.Duration(r.Delay), Count: r.Count}
		}
	}
	return t.def
}

type compiledScenario struct {
	email, phone compiledTable
	// sgEvents is Scenario.SendGridEvents, never empty.
	sgEvents string
}

// postsEvents reports whether the event webhook posts the events of a
// message to a persona.
func (c *compiledScenario) postsEvents(p persona) bool {
	switch c.sgEvents {
	case SendGridEventsNone:
		return false
	case SendGridEventsBounces:
		return p.Name == PersonaBounce || p.Name == PersonaDrop
	}
	return true
}

func compileScenario(sc Scenario) (*compiledScenario, error) {
	if ps := validateScenario(sc); len(ps) > 0 {
		var e ScenarioError
		for _, p := range ps {
			e = append(e, p.path+": "+p.msg)
		}
		return nil, e
	}
	build := func(t PersonaTable, def string, fold bool) compiledTable {
		ct := compiledTable{exact: map[string]persona{}, fold: fold}
		ct.def = persona{Name: t.Default.Persona, Delay: time.Duration(t.Default.Delay), Count: t.Default.Count}
		if ct.def.Name == "" {
			ct.def.Name = def
		}
		for _, r := range t.Recipients {
			m := r.Match
			if fold {
				m = strings.ToLower(m)
			}
			if strings.ContainsAny(m, "*?[\\") {
				r.Match = m
				ct.patterns = append(ct.patterns, r)
				continue
			}
			ct.exact[m] = persona{Name: r.Persona, Delay: time.Duration(r.Delay), Count: r.Count}
		}
		return ct
	}
	events := sc.SendGridEvents
	if events == "" {
		events = SendGridEventsAll
	}
	return &compiledScenario{
		email:    build(sc.Email, PersonaClick, true),
		phone:    build(sc.Phone, PersonaPress1, false),
		sgEvents: events,
	}, nil
}

func (c *compiledScenario) emailPersona(addr string) persona {
	p := c.email.lookup(addr)
	if p.Name == PersonaClickLater && p.Delay == 0 {
		p.Delay = time.Hour
	}
	return p
}

func (c *compiledScenario) phonePersona(number string) persona {
	p := c.phone.lookup(number)
	if p.Name == PersonaNoAnswerThenPress1 && p.Count == 0 {
		p.Count = 1
	}
	return p
}
