// Package reports drafts the reports and notices a breach obligation owes
// (the APPI 速報/確報 to the PPC, the GDPR Art. 33 notification, ...) from
// what the incident knows: its facts and live counts, never personal data.
//
// Each report is a template held as data: a list of sections and items,
// each item with its legal label and a filler that takes its value from the
// situation. An item nobody can fill from the facts says so ("要記入" /
// "TO FILL") and counts in Draft.ToFill, so a reviewer sees at a glance what
// a person must still complete before filing. Filing itself is a human
// step: breachflow never submits a report.
//
// Build is pure and deterministic (no clock, no I/O beyond
// time.LoadLocation), so it runs the same in an activity or a test.
package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

// Situation is what an incident knows when a report is drafted.
type Situation struct {
	IncidentID string    `json:"incident_id"`
	AsOf       time.Time `json:"as_of"`
	Facts      Facts     `json:"facts"`
	// Recall is the deletion-request progress; nil when nothing is recalled.
	Recall *Counts `json:"recall,omitempty"`
	// Done and Open are the containment tasks done (At: when) and still
	// open (At: when due).
	Done []Measure `json:"done,omitempty"`
	Open []Measure `json:"open,omitempty"`
	// PreventionDue is when the root-cause and prevention report is due;
	// zero when the runbook sets none.
	PreventionDue time.Time `json:"prevention_due,omitzero"`
	// Filings are the reports already filed for this incident.
	Filings []Filing `json:"filings,omitempty"`
}

// Facts are the incident's facts as a report uses them.
type Facts struct {
	Title                string    `json:"title"`
	WhatLeaked           string    `json:"what_leaked"`
	Persons              int       `json:"persons"`
	AwareAt              time.Time `json:"aware_at"`
	UnauthorizedPurpose  bool      `json:"unauthorized_purpose,omitempty"`
	SensitiveOrFinancial bool      `json:"sensitive_or_financial,omitempty"`
	Jurisdictions        []string  `json:"jurisdictions,omitempty"`
}

// Counts are the recall counts (the JSON of workflows.RecallCounts).
type Counts struct {
	Total            int `json:"total"`
	Pending          int `json:"pending"`
	Requested        int `json:"requested"`
	EmailConfirmed   int `json:"email_confirmed"`
	PhoneConfirmed   int `json:"phone_confirmed"`
	Confirmed        int `json:"confirmed"`
	Unreachable      int `json:"unreachable"`
	ClosedByOperator int `json:"closed_by_operator"`
}

// Measure is a containment task, done or planned.
type Measure struct {
	ID    string             `json:"id"`
	Title runbooks.Localized `json:"title"`
	At    time.Time          `json:"at,omitzero"`
}

// Filing is a report already filed.
type Filing struct {
	ObligationID string    `json:"obligation_id"`
	Title        string    `json:"title"`
	FiledAt      time.Time `json:"filed_at"`
	Reference    string    `json:"reference"`
	Channel      string    `json:"channel"`
}

// Request asks for the draft of one obligation's report.
type Request struct {
	Obligation regimes.Obligation `json:"obligation"`
	Situation  Situation          `json:"situation"`
	// Zone is the IANA zone times are shown in; Asia/Tokyo when empty.
	Zone string `json:"zone,omitempty"`
}

// Draft is a report ready for review.
type Draft struct {
	// Template names the template used, e.g. "jp-appi-ppc".
	Template string    `json:"template"`
	Lang     string    `json:"lang"`
	Title    string    `json:"title"`
	AsOf     time.Time `json:"as_of"`
	Sections []Section `json:"sections"`
	// ToFill counts the items a person must still complete.
	ToFill int `json:"to_fill"`
	// Text is the whole draft as plain text (Slack, e-mail).
	Text string `json:"text"`
}

// Section is a titled group of items.
type Section struct {
	Heading string `json:"heading"`
	Items   []Item `json:"items"`
}

// Item is one field of the report.
type Item struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Value  string `json:"value"`
	ToFill bool   `json:"to_fill,omitempty"`
}

// Item returns the item with the given key.
func (d Draft) Item(key string) (Item, bool) {
	for _, s := range d.Sections {
		for _, it := range s.Items {
			if it.Key == key {
				return it, true
			}
		}
	}
	return Item{}, false
}

// Build drafts the report of req.Obligation with the first template that
// matches its regime and kind, or the generic one.
func Build(req Request) (Draft, error) {
	zone := req.Zone
	if zone == "" {
		zone = "Asia/Tokyo"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return Draft{}, fmt.Errorf("draft report: time zone %q: %w", zone, err)
	}
	c := &fillCtx{req: req, ob: req.Obligation, s: req.Situation, loc: loc}
	t := templateFor(req.Obligation)
	d := Draft{Template: t.id, Lang: t.lang, Title: t.title(c), AsOf: req.Situation.AsOf}
	for _, ss := range t.sections {
		sec := Section{Heading: ss.heading}
		for _, is := range ss.items {
			v, toFill := is.fill(c)
			sec.Items = append(sec.Items, Item{Key: is.key, Label: is.label, Value: v, ToFill: toFill})
			if toFill {
				d.ToFill++
			}
		}
		d.Sections = append(d.Sections, sec)
	}
	d.Text = render(d, t.preamble(c))
	return d, nil
}

// render writes a draft as plain text; multi-line values are indented.
func render(d Draft, preamble string) string {
	var b strings.Builder
	b.WriteString(d.Title + "\n")
	b.WriteString(preamble + "\n")
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "\n■ %s\n", s.Heading)
		for _, it := range s.Items {
			v := strings.ReplaceAll(strings.TrimRight(it.Value, "\n"), "\n", "\n    ")
			fmt.Fprintf(&b, "%s: %s\n", it.Label, v)
		}
	}
	return b.String()
}

// template is a report held as data.
type template struct {
	id       string
	lang     string
	regimes  []string       // regime IDs; empty = any
	kinds    []regimes.Kind // kinds; empty = any
	title    func(*fillCtx) string
	preamble func(*fillCtx) string
	sections []sectionSpec
}

type sectionSpec struct {
	heading string
	items   []itemSpec
}

// itemSpec is one item: its key, its legal label, and where its value
// comes from. A filler returns the value and whether a person must still
// complete it.
type itemSpec struct {
	key   string
	label string
	fill  func(*fillCtx) (string, bool)
}

func (t template) matches(ob regimes.Obligation) bool {
	okRegime := len(t.regimes) == 0
	for _, r := range t.regimes {
		okRegime = okRegime || r == ob.Regime
	}
	okKind := len(t.kinds) == 0
	for _, k := range t.kinds {
		okKind = okKind || k == ob.Kind
	}
	return okRegime && okKind
}

func templateFor(ob regimes.Obligation) template {
	for _, t := range templates {
		if t.matches(ob) {
			return t
		}
	}
	return genericTemplate
}

// fillCtx is what fillers read.
type fillCtx struct {
	req Request
	ob  regimes.Obligation
	s   Situation
	loc *time.Location
}

// at formats an instant in the request's zone.
func (c *fillCtx) at(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.loc).Format("2006-01-02 15:04 MST")
}

// day formats the day of an instant in the request's zone.
func (c *fillCtx) day(t time.Time) string { return t.In(c.loc).Format("2006-01-02") }

// filing returns the filing of another obligation of the incident.
func (c *fillCtx) filing(obligationID string) (Filing, bool) {
	for _, f := range c.s.Filings {
		if f.ObligationID == obligationID {
			return f, true
		}
	}
	return Filing{}, false
}

// toFill is a filler with a constant text a person must complete.
func toFill(text string) func(*fillCtx) (string, bool) {
	return func(*fillCtx) (string, bool) { return text, true }
}

// given is a filler with a constant text that needs nothing more.
func given(text string) func(*fillCtx) (string, bool) {
	return func(*fillCtx) (string, bool) { return text, false }
}
