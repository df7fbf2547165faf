// Package regimes holds breach-notification law as data and turns the facts
// of a breach into obligations.
//
// A regime (JP-APPI, EU-GDPR, US-HIPAA, ...) is one YAML file beginning with
// "kind: regime", embedded in this package. It names the audiences (the
// regulator, the individuals, the media), the triggers (facts that make a
// report due, e.g. "more than 1,000 persons") and the obligations. Each
// obligation has one or more rules, each citing its source (citation and
// URL) and the dates it is in force, so a change in the law is a new rule,
// and the rule in force at the clock's anchor is the one applied. Clock
// lengths, units, day-counting conventions, anchors, grace dates, reminders
// and escalations are all data, interpreted by the generic code of
// Evaluate; there is no Go code per regime. docs/regimes.md describes the
// file format for reviewers.
//
// Evaluate (and its shorthand Obligations) is a pure function: no Temporal,
// no clock of its own, no map iteration, no I/O beyond time.LoadLocation for
// the regimes' zones; the same facts, regimes and "now" always give the same
// result, in the same order, so workflow code may call it.
package regimes

// KindRegime is the value of the top-level "kind" key of every regime file.
const KindRegime = "regime"

// Regime is one legal regime: a law's breach-notification duties.
type Regime struct {
	// Kind is always KindRegime.
	Kind string `yaml:"kind" json:"kind"`
	// ID is the regime's identifier, e.g. JP-APPI, and what
	// Facts.Jurisdictions names.
	ID string `yaml:"id" json:"id"`
	// Name is the law's name for people, e.g. "個人情報の保護に関する法律 (APPI)".
	Name string `yaml:"name" json:"name"`
	// TimeZone is the IANA zone in which calendar days are counted and the
	// dates of this file are read.
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// Note is free text for reviewers: scope, what is not encoded.
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	// Calendar lists the days the authority is closed; needed only for grace
	// dates.
	Calendar *Calendar `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	// Audiences are the receivers of notices and reports.
	Audiences []Audience `yaml:"audiences" json:"audiences"`
	// Triggers are the tests on the facts that rules refer to by ID.
	Triggers []Trigger `yaml:"triggers,omitempty" json:"triggers,omitempty"`
	// Obligations are the duties the regime can impose.
	Obligations []ObligationSpec `yaml:"obligations" json:"obligations"`
}

// Source is where a rule comes from.
type Source struct {
	// Citation names the provision, e.g. "個人情報保護法施行規則 第8条第2項".
	Citation string `yaml:"citation" json:"citation"`
	// URL is where the text can be read.
	URL string `yaml:"url" json:"url"`
}

// Calendar is a regime's table of non-business days, used for grace dates.
type Calendar struct {
	// Name says whose days these are, e.g. "行政機関の休日".
	Name string `yaml:"name" json:"name"`
	// Source is where the holidays and closures come from.
	Source Source `yaml:"source" json:"source"`
	// Note is free text for reviewers (e.g. provisional dates).
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	// Weekends are the weekly closed days.
	Weekends []Weekday `yaml:"weekends,omitempty" json:"weekends,omitempty"`
	// Closures are closed spans repeated every year, e.g. 12-29 to 01-03.
	Closures []Closure `yaml:"closures,omitempty" json:"closures,omitempty"`
	// HolidaysFrom and HolidaysUntil bound the years the holiday table
	// covers (both inclusive). Outside them no grace date is computed.
	HolidaysFrom  Date `yaml:"holidays_from" json:"holidays_from"`
	HolidaysUntil Date `yaml:"holidays_until" json:"holidays_until"`
	// Holidays are the single closed days (national holidays, substitutes).
	Holidays []Holiday `yaml:"holidays,omitempty" json:"holidays,omitempty"`
}

// Closure is a span of closed days repeated every year; To may be in the
// next year (12-29 to 01-03).
type Closure struct {
	From MonthDay `yaml:"from" json:"from"`
	To   MonthDay `yaml:"to" json:"to"`
	Name string   `yaml:"name" json:"name"`
}

// Holiday is one closed day.
type Holiday struct {
	Date Date   `yaml:"date" json:"date"`
	Name string `yaml:"name" json:"name"`
}

// Audience is who receives a notice or report.
type Audience struct {
	// ID is how obligations refer to the audience, e.g. "ppc".
	ID string `yaml:"id" json:"id"`
	// Kind classifies the audience.
	Kind AudienceKind `yaml:"kind" json:"kind"`
	// Name is the human name, e.g. "個人情報保護委員会 (PPC)".
	Name string `yaml:"name" json:"name"`
}

// Trigger is one test on the facts, e.g. "more than 1,000 persons".
type Trigger struct {
	// ID is how rules refer to the trigger, e.g. "over_1000".
	ID string `yaml:"id" json:"id"`
	// Label is the legal wording for the record.
	Label string `yaml:"label" json:"label"`
	// Fact is the field of Facts tested.
	Fact Fact `yaml:"fact" json:"fact"`
	// Equals is the value a boolean fact must have (default true).
	Equals *bool `yaml:"equals,omitempty" json:"equals,omitempty"`
	// Exactly one comparison for a count fact: the count is more than,
	// at least, or less than the number.
	MoreThan *int `yaml:"more_than,omitempty" json:"more_than,omitempty"`
	AtLeast  *int `yaml:"at_least,omitempty" json:"at_least,omitempty"`
	LessThan *int `yaml:"less_than,omitempty" json:"less_than,omitempty"`
	// Region selects the residents count: a region of
	// Facts.ResidentsByJurisdiction ("US-CA"), or a prefix pattern ("US-*")
	// for "residents of any one state" (the largest matching count).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// EffectiveFrom and EffectiveUntil (exclusive, optional) bound when the
	// trigger is law; it is tested on the day its fact became known.
	EffectiveFrom  Date   `yaml:"effective_from" json:"effective_from"`
	EffectiveUntil Date   `yaml:"effective_until,omitempty" json:"effective_until,omitzero"`
	Source         Source `yaml:"source" json:"source"`
}

// ObligationSpec is one duty a regime can impose, e.g. the APPI 確報.
type ObligationSpec struct {
	// ID is unique within the regime; the obligation's ID is
	// "<regime>/<id>", e.g. "JP-APPI/final".
	ID string `yaml:"id" json:"id"`
	// Kind classifies the duty.
	Kind Kind `yaml:"kind" json:"kind"`
	// Audience is the ID of one of the regime's audiences.
	Audience string `yaml:"audience" json:"audience"`
	// Title names the duty for people, e.g. "確報 (final report)".
	Title string `yaml:"title" json:"title"`
	// Rules are the versions of the duty over time. Their effective periods
	// must not overlap; the rule in force on the day of the anchor applies.
	Rules []Rule `yaml:"rules" json:"rules"`
}

// Rule is one version of an obligation: when it applies, what starts its
// clock, how long the clock runs, and when to remind and escalate.
type Rule struct {
	// EffectiveFrom (inclusive) and EffectiveUntil (exclusive, optional) are
	// the days, in the regime's time zone, the rule is in force.
	EffectiveFrom  Date   `yaml:"effective_from" json:"effective_from"`
	EffectiveUntil Date   `yaml:"effective_until,omitempty" json:"effective_until,omitzero"`
	Source         Source `yaml:"source" json:"source"`
	// When says which triggers make the obligation due.
	When Condition `yaml:"when" json:"when"`
	// Anchor is the instant the clock starts from.
	Anchor AnchorRef `yaml:"anchor" json:"anchor"`
	// IfUnknown is the anchor used while Anchor's event has not happened
	// (e.g. individuals not yet notified: count from the latest permitted
	// notice). Without it such an obligation is pending.
	IfUnknown *AnchorRef `yaml:"if_unknown,omitempty" json:"if_unknown,omitempty"`
	// Deadline says when the duty falls due.
	Deadline DeadlineSpec `yaml:"deadline" json:"deadline"`
	// Reminders and Escalations are offsets from the anchor, the deadline or
	// the target. Escalations never count from a grace date.
	Reminders   []Offset `yaml:"reminders,omitempty" json:"reminders,omitempty"`
	Escalations []Offset `yaml:"escalations,omitempty" json:"escalations,omitempty"`
	// Note is shown with the obligation (e.g. "phased reports allowed").
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Condition lists the triggers that make a rule apply. Exactly one of Any,
// All or Always is set.
type Condition struct {
	// Any: at least one of these trigger IDs is met.
	Any []string `yaml:"any,omitempty" json:"any,omitempty"`
	// All: every one of these trigger IDs is met.
	All []string `yaml:"all,omitempty" json:"all,omitempty"`
	// Always: the rule applies to every breach under the regime; the text
	// says why, for the record.
	Always string `yaml:"always,omitempty" json:"always,omitempty"`
}

// DeadlineSpec is either "promptly" (with an optional soft target) or a
// fixed length counted by a convention.
type DeadlineSpec struct {
	// Promptly: the law fixes no day ("速やかに", "without undue delay").
	Promptly bool `yaml:"promptly,omitempty" json:"promptly,omitempty"`
	// Target is guidance for a prompt duty (APPI 速報: about 3 days).
	Target *Period `yaml:"target,omitempty" json:"target,omitempty"`
	// Within is the fixed length of the clock.
	Within *Length `yaml:"within,omitempty" json:"within,omitempty"`
	// Counting is how Within becomes an instant.
	Counting Counting `yaml:"counting,omitempty" json:"counting,omitempty"`
	// Cases lengthen or shorten the clock when a trigger is met; the first
	// matching case wins. Counting and anchor stay the same.
	Cases []DeadlineCase `yaml:"cases,omitempty" json:"cases,omitempty"`
	// Grace asks for a grace date (shown only, never used for escalation).
	// Needs the regime's calendar and a calendar-day counting.
	Grace Grace `yaml:"grace,omitempty" json:"grace,omitempty"`
}

// DeadlineCase replaces the clock length when a trigger is met.
type DeadlineCase struct {
	IfTriggered string `yaml:"if_triggered" json:"if_triggered"`
	Within      Length `yaml:"within" json:"within"`
}

// Period is a length counted by a convention (used for soft targets).
type Period struct {
	Within   Length   `yaml:"within" json:"within"`
	Counting Counting `yaml:"counting" json:"counting"`
}

// Audience returns the audience with the given ID.
func (r *Regime) Audience(id string) (Audience, bool) {
	for _, a := range r.Audiences {
		if a.ID == id {
			return a, true
		}
	}
	return Audience{}, false
}

// Trigger returns the trigger with the given ID.
func (r *Regime) Trigger(id string) (Trigger, bool) {
	for _, t := range r.Triggers {
		if t.ID == id {
			return t, true
		}
	}
	return Trigger{}, false
}

// Obligation returns the obligation spec with the given ID.
func (r *Regime) Obligation(id string) (ObligationSpec, bool) {
	for _, o := range r.Obligations {
		if o.ID == id {
			return o, true
		}
	}
	return ObligationSpec{}, false
}
