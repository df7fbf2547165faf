package regimes_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/runbooks/regimes"
)

func TestBuiltinRegimes(t *testing.T) {
	regs := builtin(t)
	var ids []string
	for _, r := range regs {
		ids = append(ids, r.ID)
	}
	want := []string{"AU-NDB", "EU-GDPR", "JP-APPI", "KR-PIPA", "SG-PDPA", "UK-GDPR", "US-CA", "US-HIPAA", "US-NY"}
	if !slices.Equal(ids, want) {
		t.Fatalf("built-in regimes = %v, want %v (sorted by ID)", ids, want)
	}
	for _, r := range regs {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.Obligations) == 0 {
				t.Fatal("no obligation")
			}
			for _, o := range r.Obligations {
				for i, ru := range o.Rules {
					if ru.Source.Citation == "" || !strings.HasPrefix(ru.Source.URL, "https://") || ru.EffectiveFrom.IsZero() {
						t.Errorf("%s rule %d: source %+v from %s, want a citation, an https URL and effective_from", o.ID, i, ru.Source, ru.EffectiveFrom)
					}
				}
			}
			for _, tr := range r.Triggers {
				if tr.Source.URL == "" || tr.EffectiveFrom.IsZero() {
					t.Errorf("trigger %s has no source URL or effective_from", tr.ID)
				}
			}
		})
	}
}

func TestBuiltinFilesAreNamedAfterTheirRegimeAndStartWithKind(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob: %v, %d files", err, len(files))
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var first string
		for _, line := range strings.Split(string(data), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				first = line
				break
			}
		}
		if first != "kind: regime" {
			t.Errorf("%s: first line %q, want 'kind: regime'", name, first)
		}
		r, diags := regimes.LoadFile(name)
		if len(diags) > 0 {
			t.Fatalf("%s: %v", name, diags)
		}
		if want := strings.ToLower(r.ID) + ".yaml"; name != want {
			t.Errorf("%s holds %s; name it %s", name, r.ID, want)
		}
	}
}

func TestByID(t *testing.T) {
	regs := builtin(t)
	tests := []struct {
		id     string
		want   string
		wantOK bool
	}{
		{"JP-APPI", "JP-APPI", true},
		{" jp-appi ", "JP-APPI", true},
		{"US-HIPAA", "US-HIPAA", true},
		{"JP", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		r, ok := regimes.ByID(regs, tt.id)
		if ok != tt.wantOK || r.ID != tt.want {
			t.Errorf("ByID(%q) = %q, %v; want %q, %v", tt.id, r.ID, ok, tt.want, tt.wantOK)
		}
	}
}

// minimal is a valid regime that the cases below break one way each.
const minimal = `kind: regime
id: TEST-X
name: Test regime
time_zone: Asia/Tokyo
calendar:
  name: closed days
  source: {citation: Cal Act, url: https://example.org/cal}
  weekends: [saturday, sunday]
  holidays_from: 2026-01-01
  holidays_until: 2026-12-31
  holidays:
    - {date: 2026-01-01, name: New Year}
audiences:
  - {id: regulator, kind: regulator, name: The Regulator}
triggers:
  - id: big
    label: more than 10 persons
    fact: persons
    more_than: 10
    effective_from: 2020-01-01
    source: {citation: Act s 1, url: https://example.org/act}
obligations:
  - id: report
    kind: regulator_notice
    audience: regulator
    title: Report
    rules:
      - effective_from: 2020-01-01
        source: {citation: Act s 2, url: https://example.org/act}
        when: {any: [big]}
        anchor: aware
        deadline:
          within: 10 days
          counting: anchor_day_is_day_1
          grace: next_business_day
        reminders: [deadline - 2d]
        escalations: [deadline]
`

func TestLoadReportsProblemsWithPositions(t *testing.T) {
	tests := []struct {
		name string
		old  string // replaced in minimal
		new  string
		want []string // diagnostic prefixes, in order
	}{
		{"valid", "", "", nil},
		{"not a regime", "kind: regime", "kind: runbook",
			[]string{`x.yaml:1:7: kind: must be "regime", got "runbook"`}},
		{"unknown key", "name: Test regime", "name: Test regime\ntitle: oops",
			[]string{`x.yaml:4:1: title: unknown key "title"`}},
		{"bad regime id", "id: TEST-X", "id: test x",
			[]string{`x.yaml:2:5: id: "test x" is not a regime ID`}},
		{"unknown time zone", "time_zone: Asia/Tokyo", "time_zone: Mars/Olympus",
			[]string{`x.yaml:4:12: time_zone: unknown time zone "Mars/Olympus"`}},
		{"bad length", "within: 10 days", "within: 10 fortnights",
			[]string{`x.yaml:33:19: obligations[0].rules[0].deadline.within: length "10 fortnights": unit must be hours or days`}},
		{"hours with calendar counting", "within: 10 days", "within: 10 hours",
			[]string{`x.yaml:33:19: obligations[0].rules[0].deadline.within: 10 hours is not in days`}},
		{"unknown counting", "counting: anchor_day_is_day_1", "counting: business_days",
			[]string{`x.yaml:34:21: obligations[0].rules[0].deadline.counting: unknown day counting "business_days"`}},
		{"bad date", "effective_from: 2020-01-01\n        source", "effective_from: 2020-13-01\n        source",
			[]string{`x.yaml:28:25: obligations[0].rules[0].effective_from: date "2020-13-01"`}},
		{"unknown trigger", "when: {any: [big]}", "when: {any: [huge]}",
			[]string{`x.yaml:30:22: obligations[0].rules[0].when.any[0]: unknown trigger "huge"`}},
		{"no condition", "when: {any: [big]}", "when: {}",
			[]string{`x.yaml:30:15: obligations[0].rules[0].when: needs exactly one of any, all, always`}},
		{"unknown anchor", "anchor: aware", "anchor: noticed",
			[]string{`x.yaml:31:17: obligations[0].rules[0].anchor: unknown anchor "noticed"`}},
		{"anchor on a missing obligation", "anchor: aware", "anchor: deadline of notice",
			[]string{`x.yaml:31:17: obligations[0].rules[0].anchor: unknown obligation "notice"`}},
		{"anchor on itself", "anchor: aware", "anchor: deadline of report",
			[]string{`x.yaml:31:17: obligations[0].rules[0].anchor: refers to itself`}},
		{"missing URL", "source: {citation: Act s 2, url: https://example.org/act}", "source: {citation: Act s 2}",
			[]string{`x.yaml:29:17: obligations[0].rules[0].source.url: must not be empty`}},
		{"URL that is not a web address", "url: https://example.org/act}\n        when", "url: example.org/act}\n        when",
			[]string{`x.yaml:29:42: obligations[0].rules[0].source.url: "example.org/act" is not a web address`}},
		{"unknown fact", "fact: persons", "fact: victims",
			[]string{`x.yaml:18:11: triggers[0].fact: unknown fact "victims"`}},
		{"count without comparison", "    more_than: 10\n", "",
			[]string{`x.yaml:16:5: triggers[0]: a count trigger needs one comparison, got 0`}},
		{"unknown audience", "audience: regulator", "audience: press",
			[]string{`x.yaml:25:15: obligations[0].audience: unknown audience "press"`}},
		{"offset from a missing target", "reminders: [deadline - 2d]", "reminders: [target - 2d]",
			[]string{`x.yaml:36:21: obligations[0].rules[0].reminders[0]: there is no target to count from`}},
		{"bad offset", "reminders: [deadline - 2d]", "reminders: [deadline minus 2d]",
			[]string{`x.yaml:36:21: obligations[0].rules[0].reminders[0]: offset "deadline minus 2d"`}},
		{"fixed deadline without escalation", "escalations: [deadline]", "escalations: []",
			[]string{`x.yaml:37:22: obligations[0].rules[0].escalations: a fixed deadline needs an escalation`}},
		{"promptly and within", "deadline:\n", "deadline:\n          promptly: true\n",
			[]string{`x.yaml:33:11: obligations[0].rules[0].deadline: promptly and within are both set`}},
		{"overlapping rules", "        escalations: [deadline]\n", `        escalations: [deadline]
      - effective_from: 2025-01-01
        source: {citation: Act s 2 (2025), url: https://example.org/act}
        when: {any: [big]}
        anchor: aware
        deadline: {promptly: true}
`, []string{`x.yaml:38:25: obligations[0].rules[1].effective_from: in force at the same time as rules[0]`}},
		{"holidays out of order", "    - {date: 2026-01-01, name: New Year}\n", "    - {date: 2026-05-05, name: A}\n    - {date: 2026-05-04, name: B}\n",
			[]string{`x.yaml:13:14: calendar.holidays[1].date: 2026-05-04 does not come after 2026-05-05`}},
		{"grace without a calendar", "calendar:\n  name: closed days\n  source: {citation: Cal Act, url: https://example.org/cal}\n  weekends: [saturday, sunday]\n  holidays_from: 2026-01-01\n  holidays_until: 2026-12-31\n  holidays:\n    - {date: 2026-01-01, name: New Year}\n", "",
			[]string{`x.yaml:27:18: obligations[0].rules[0].deadline.grace: a grace date needs the regime's calendar`}},
		{"two problems at once", "fact: persons", "fact: victims\n    color: red",
			[]string{`x.yaml:18:11: triggers[0].fact: unknown fact`, `x.yaml:19:5: triggers[0].color: unknown key "color"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := minimal
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("test bug: %q not in the minimal regime", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			_, diags := regimes.Load("x.yaml", []byte(src))
			if len(diags) != len(tt.want) {
				t.Fatalf("got %d diagnostics, want %d:\n%v", len(diags), len(tt.want), diags)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(diags[i].String(), w) {
					t.Errorf("diagnostic %d =\n  %s\nwant prefix\n  %s", i, diags[i], w)
				}
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "test-x.yaml")
	if err := os.WriteFile(good, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	r, diags := regimes.LoadFile(good)
	if len(diags) > 0 || r.ID != "TEST-X" {
		t.Fatalf("LoadFile = %q, %v", r.ID, diags)
	}
	_, diags = regimes.LoadFile(filepath.Join(dir, "missing.yaml"))
	if len(diags) != 1 || !strings.Contains(diags[0].String(), "missing.yaml:1:1: cannot read the file") {
		t.Fatalf("missing file: %v", diags)
	}
}

// A regime made of rules that change over time, evaluated at both sides of
// each change: the rule (and trigger) in force on the anchor day applies.
const versioned = `kind: regime
id: TEST-V
name: Versioned test regime
time_zone: Asia/Tokyo
audiences:
  - {id: regulator, kind: regulator, name: The Regulator}
triggers:
  - id: any_person
    label: at least one person
    fact: persons
    at_least: 1
    effective_from: 2020-01-01
    source: {citation: Act s 1, url: https://example.org/act}
  - id: hacked
    label: external access (from 2027)
    fact: external_access
    effective_from: 2027-01-01
    source: {citation: Act s 1A, url: https://example.org/act}
obligations:
  - id: report
    kind: regulator_notice
    audience: regulator
    title: Report
    rules:
      - effective_from: 2020-01-01
        effective_until: 2026-01-01
        source: {citation: Act s 2 (old), url: https://example.org/act}
        when: {any: [any_person]}
        anchor: aware
        deadline: {within: 10 days, counting: anchor_day_is_day_1}
        escalations: [deadline]
      - effective_from: 2026-01-01
        source: {citation: Act s 2 (new), url: https://example.org/act}
        when: {any: [any_person]}
        anchor: aware
        deadline: {within: 20 days, counting: anchor_day_is_day_1}
        escalations: [deadline]
  - id: future
    kind: final
    audience: regulator
    title: A duty not yet in force
    rules:
      - effective_from: 2030-01-01
        source: {citation: Act s 3 (not yet in force), url: https://example.org/act}
        when: {any: [any_person]}
        anchor: aware
        deadline: {promptly: true}
  - id: hack_report
    kind: regulator_notice
    audience: regulator
    title: Hacking report
    rules:
      - effective_from: 2020-01-01
        source: {citation: Act s 4, url: https://example.org/act}
        when: {any: [hacked]}
        anchor: aware
        deadline: {promptly: true}
`

func TestEffectiveDates(t *testing.T) {
	reg, diags := regimes.Load("versioned.yaml", []byte(versioned))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	jst := zone(t, tokyo)
	tests := []struct {
		name         string
		aware        time.Time
		wantCitation string
		wantDeadline time.Time
		wantHack     bool
	}{
		{"last minute of the old rule", at(t, tokyo, "2025-12-31 23:59"), "Act s 2 (old)", time.Date(2026, 1, 9, 23, 59, 59, 0, jst), false},
		{"first minute of the new rule", at(t, tokyo, "2026-01-01 00:00"), "Act s 2 (new)", time.Date(2026, 1, 20, 23, 59, 59, 0, jst), false},
		{"new trigger in force", at(t, tokyo, "2027-01-01 00:00"), "Act s 2 (new)", time.Date(2027, 1, 20, 23, 59, 59, 0, jst), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := regimes.Facts{AwareAt: tt.aware, Persons: 3, ExternalAccess: true, Jurisdictions: []string{"TEST-V"}}
			r := regimes.Evaluate(f, []regimes.Regime{reg}, tt.aware)
			o := owed(t, r, "TEST-V/report")
			if o.Source.Citation != tt.wantCitation {
				t.Errorf("citation = %q, want %q", o.Source.Citation, tt.wantCitation)
			}
			sameInstant(t, "deadline", o.Deadline, tt.wantDeadline)
			// A duty whose only rule starts in 2030 is not applied: counsel reviews.
			if rv := owed(t, r, "TEST-V/future/review"); !strings.Contains(rv.Note, "2030-01-01 to open") {
				t.Errorf("review note %q should list the rule periods", rv.Note)
			}
			if tt.wantHack {
				owed(t, r, "TEST-V/hack_report")
				return
			}
			n := notOwed(t, r, "TEST-V/hack_report")
			if len(n.Unmet) != 1 || !strings.Contains(n.Unmet[0].Detail, "not in force") {
				t.Errorf("unmet = %+v, want the trigger reported as not in force", n.Unmet)
			}
		})
	}
}

func TestRegimesSurviveAJSONRoundTrip(t *testing.T) {
	regs := builtin(t)
	data, err := json.Marshal(regs)
	if err != nil {
		t.Fatal(err)
	}
	var back []regimes.Regime
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	aware := at(t, tokyo, "2026-11-30 10:00")
	f := regimes.Facts{
		AwareAt: aware, Persons: 1001, UnauthorizedPurpose: true, HighRisk: true,
		AssessmentConcludedAt: ptr(aware.Add(48 * time.Hour)),
		Jurisdictions:         []string{"JP-APPI", "EU-GDPR", "UK-GDPR", "KR-PIPA", "SG-PDPA", "AU-NDB", "US-HIPAA", "US-CA", "US-NY", "BR-LGPD"},
	}
	want, err := json.Marshal(regimes.Evaluate(f, regs, aware))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(regimes.Evaluate(f, back, aware))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("results differ after a JSON round trip of the regimes:\n got %s\nwant %s", got, want)
	}
	again, _ := json.Marshal(regimes.Evaluate(f, regs, aware))
	if !bytes.Equal(again, want) {
		t.Error("Evaluate is not deterministic")
	}
}

func TestLoadRejectsAnchorsInALoop(t *testing.T) {
	src := strings.Replace(minimal, "anchor: aware", "anchor: deadline of other", 1) + `  - id: other
    kind: final
    audience: regulator
    title: Other
    rules:
      - effective_from: 2020-01-01
        source: {citation: Act s 3, url: https://example.org/act}
        when: {any: [big]}
        anchor: individuals_notified
        if_unknown: deadline of report
        deadline: {promptly: true}
`
	_, diags := regimes.Load("x.yaml", []byte(src))
	want := `x.yaml:28:7: obligations[0].rules: anchors refer to each other in a loop through "report"`
	if len(diags) != 1 || !strings.HasPrefix(diags[0].String(), want) {
		t.Fatalf("diagnostics = %v, want one: %s", diags, want)
	}
}

func TestLoadReportsIndependentProblemsOfOneTrigger(t *testing.T) {
	src := strings.Replace(strings.Replace(minimal, "  - id: big", "  - id: Big", 1), "    more_than: 10\n", "", 1)
	_, diags := regimes.Load("x.yaml", []byte(src))
	want := []string{
		`x.yaml:16:5: triggers[0]: a count trigger needs one comparison, got 0`,
		`x.yaml:16:9: triggers[0].id: "Big" is not a valid id`,
		`x.yaml:29:22: obligations[0].rules[0].when.any[0]: unknown trigger "big"`,
	}
	if len(diags) != len(want) {
		t.Fatalf("got %v, want %d diagnostics", diags, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(diags[i].String(), w) {
			t.Errorf("diagnostic %d = %s, want prefix %s", i, diags[i], w)
		}
	}
}
