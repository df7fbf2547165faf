package regimes

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file holds the small value types of a regime file: dates, clock
// lengths, offsets, anchors and the closed vocabularies (kinds, facts, day
// counting conventions). Each parses from one YAML scalar and prints back to
// the same text, so a regime survives a JSON round trip (workflow payloads).

// scalarYAML decodes a YAML scalar node through UnmarshalText. yamldoc treats
// struct types as mappings unless they implement yaml.Unmarshaler, so the
// struct-valued scalar types below route through here.
func scalarYAML(n *yaml.Node, what string, u interface{ UnmarshalText([]byte) error }) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a single %s value", what)
	}
	return u.UnmarshalText([]byte(n.Value))
}

// Date is a calendar date without a time of day, written 2022-04-01. A date
// in a regime file is read in the regime's time zone: effective_from
// 2022-04-01 in JP-APPI means 2022-04-01 00:00 JST.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("date %q: write YYYY-MM-DD, e.g. 2022-04-01", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Start returns 00:00 of the date in loc.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// End returns 23:59:59 of the date in loc, the instant a day-counted
// deadline falls due.
func (d Date) End(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, loc)
}

// AddDays returns the date n calendar days later (earlier when n < 0).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// String formats as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Date) UnmarshalYAML(n *yaml.Node) error { return scalarYAML(n, "date", d) }

// MonthDay is a day of every year, written MM-DD (12-29).
type MonthDay struct {
	Month time.Month
	Day   int
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *MonthDay) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	t, err := time.Parse("01-02", s)
	if err != nil || len(s) != 5 {
		return fmt.Errorf("day of the year %q: write MM-DD, e.g. 12-29", s)
	}
	*m = MonthDay{t.Month(), t.Day()}
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *MonthDay) UnmarshalYAML(n *yaml.Node) error { return scalarYAML(n, "MM-DD", m) }

// MarshalText implements encoding.TextMarshaler.
func (m MonthDay) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// String formats as MM-DD.
func (m MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(m.Month), m.Day) }

// ord orders month-days within a year.
func (m MonthDay) ord() int { return int(m.Month)*100 + m.Day }

// Unit is the unit of a clock length.
type Unit string

// Units of a Length.
const (
	Hours Unit = "hours"
	Days  Unit = "days"
)

// Length is a clock length as the law states it: "72 hours", "30 days",
// "0 days" (at the same time as the anchor). Whether days are calendar days
// or 24-hour periods is decided by the Counting next to it.
type Length struct {
	N    int
	Unit Unit
}

// ParseLength parses "72 hours", "1 day", "30 days".
func ParseLength(s string) (Length, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return Length{}, fmt.Errorf("length %q: write a number and a unit, e.g. 72 hours or 30 days", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 0 || n > 3660 {
		return Length{}, fmt.Errorf("length %q: the number must be a whole number from 0 to 3660", s)
	}
	switch f[1] {
	case "hour", "hours":
		return Length{n, Hours}, nil
	case "day", "days":
		return Length{n, Days}, nil
	}
	return Length{}, fmt.Errorf("length %q: unit must be hours or days", s)
}

// Duration returns the length as elapsed time (a day is 24 hours).
func (l Length) Duration() time.Duration {
	if l.Unit == Days {
		return time.Duration(l.N) * 24 * time.Hour
	}
	return time.Duration(l.N) * time.Hour
}

// String formats as "72 hours" or "30 days".
func (l Length) String() string {
	u := string(l.Unit)
	if l.N == 1 {
		u = strings.TrimSuffix(u, "s")
	}
	return fmt.Sprintf("%d %s", l.N, u)
}

// MarshalText implements encoding.TextMarshaler.
func (l Length) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *Length) UnmarshalText(b []byte) error {
	v, err := ParseLength(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *Length) UnmarshalYAML(n *yaml.Node) error { return scalarYAML(n, "length", l) }

// Counting is a day-counting convention: how a Length becomes an instant.
type Counting string

// Day-counting conventions.
const (
	// Elapsed counts real elapsed time from the anchor instant: 72 hours is
	// exactly 72 hours later, whatever daylight-saving changes lie between.
	Elapsed Counting = "elapsed"
	// AnchorDayIsDay1 counts calendar days in the regime's time zone with the
	// anchor's own day as day 1; the deadline is 23:59:59 of day N (APPI 確報:
	// 「知った日から三十日以内」).
	AnchorDayIsDay1 Counting = "anchor_day_is_day_1"
	// DaysAfterAnchorDay counts calendar days in the regime's time zone after
	// the anchor's day, which is not counted; the deadline is 23:59:59 of the
	// Nth day after it ("3 calendar days after the day", "within 60 calendar
	// days after discovery").
	DaysAfterAnchorDay Counting = "days_after_anchor_day"
)

var countings = []Counting{Elapsed, AnchorDayIsDay1, DaysAfterAnchorDay}

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Counting) UnmarshalText(b []byte) error {
	return oneOf(string(b), countings, "day counting", c)
}

// Kind is what an obligation is.
type Kind string

// Obligation kinds.
const (
	KindPreliminary      Kind = "preliminary"       // first, partial report to a regulator (APPI 速報)
	KindFinal            Kind = "final"             // complete report to a regulator (APPI 確報)
	KindIndividualNotice Kind = "individual_notice" // notice to the affected people
	KindRegulatorNotice  Kind = "regulator_notice"  // a single report to a regulator or authority
	KindMediaNotice      Kind = "media_notice"      // notice to the media
	KindAssessment       Kind = "assessment"        // the organisation's own assessment of the breach
	KindAnnualLog        Kind = "annual_log"        // entry in a yearly report (HIPAA < 500)
	KindReview           Kind = "review"            // counsel must assess: no rule could be applied
)

var kinds = []Kind{KindPreliminary, KindFinal, KindIndividualNotice, KindRegulatorNotice, KindMediaNotice, KindAssessment, KindAnnualLog, KindReview}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error { return oneOf(string(b), kinds, "obligation kind", k) }

// AudienceKind says who receives a notice or report.
type AudienceKind string

// Audience kinds.
const (
	AudienceRegulator       AudienceKind = "regulator"
	AudienceAttorneyGeneral AudienceKind = "attorney_general"
	AudienceIndividuals     AudienceKind = "individuals"
	AudienceMedia           AudienceKind = "media"
	AudienceInternal        AudienceKind = "internal" // the organisation itself (assessments)
	AudienceCounsel         AudienceKind = "counsel"
)

var audienceKinds = []AudienceKind{AudienceRegulator, AudienceAttorneyGeneral, AudienceIndividuals, AudienceMedia, AudienceInternal, AudienceCounsel}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *AudienceKind) UnmarshalText(b []byte) error {
	return oneOf(string(b), audienceKinds, "audience kind", a)
}

// Fact names a field of Facts that a trigger tests.
type Fact string

// Facts a trigger can test. Booleans are met when the fact equals the
// trigger's "equals" (default true); counts need a comparison.
const (
	FactPersons             Fact = "persons"              // Facts.Persons (count)
	FactResidents           Fact = "residents"            // Facts.ResidentsByJurisdiction, one region or the largest of a pattern (count)
	FactSensitive           Fact = "sensitive"            // Facts.Sensitive
	FactUniqueID            Fact = "unique_id"            // Facts.UniqueID
	FactFinancialHarm       Fact = "financial_harm"       // Facts.FinancialHarm
	FactUnauthorizedPurpose Fact = "unauthorized_purpose" // Facts.UnauthorizedPurpose
	FactExternalAccess      Fact = "external_access"      // Facts.ExternalAccess
	FactHighRisk            Fact = "high_risk"            // Facts.HighRisk
	FactRiskUnlikely        Fact = "risk_unlikely"        // Facts.RiskUnlikely
)

var facts = []Fact{FactPersons, FactResidents, FactSensitive, FactUniqueID, FactFinancialHarm, FactUnauthorizedPurpose, FactExternalAccess, FactHighRisk, FactRiskUnlikely}

// isCount reports whether the fact is a number of people.
func (f Fact) isCount() bool { return f == FactPersons || f == FactResidents }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *Fact) UnmarshalText(b []byte) error { return oneOf(string(b), facts, "fact", f) }

// Grace names how a grace date is derived from a day-counted deadline.
type Grace string

// Grace rules.
const (
	// GraceNone computes no grace date.
	GraceNone Grace = ""
	// GraceNextBusinessDay: when the last day is not a business day of the
	// regime's calendar, the next business day, 23:59:59.
	GraceNextBusinessDay Grace = "next_business_day"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (g *Grace) UnmarshalText(b []byte) error {
	return oneOf(string(b), []Grace{GraceNextBusinessDay}, "grace rule", g)
}

// Weekday is a day of the week written in English, lower case ("saturday").
type Weekday string

var weekdays = []Weekday{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// UnmarshalText implements encoding.TextUnmarshaler.
func (w *Weekday) UnmarshalText(b []byte) error { return oneOf(string(b), weekdays, "weekday", w) }

// time returns the weekday as a time.Weekday.
func (w Weekday) time() time.Weekday {
	for i, x := range weekdays {
		if x == w {
			return time.Weekday(i)
		}
	}
	return -1
}

func oneOf[T ~string](s string, allowed []T, what string, dst *T) error {
	s = strings.TrimSpace(s)
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if string(a) == s {
			*dst = a
			return nil
		}
		names[i] = string(a)
	}
	return fmt.Errorf("unknown %s %q (known: %s)", what, s, strings.Join(names, ", "))
}

// Event names an instant an anchor can start a clock from.
type Event string

// Anchor events.
const (
	// EventAware is Facts.AwareAt: when the organisation became aware.
	EventAware Event = "aware"
	// EventReportable is when the facts that make the rule apply were known:
	// the earliest known time of the triggers met for "any", the latest for
	// "all", AwareAt for "always". Facts.UnauthorizedPurposeFoundAt is the
	// known time of the unauthorized_purpose fact; every other fact counts
	// as known at AwareAt.
	EventReportable Event = "reportable"
	// EventAssessmentConcluded is Facts.AssessmentConcludedAt.
	EventAssessmentConcluded Event = "assessment_concluded"
	// EventIndividualsNotified is Facts.IndividualsNotifiedAt.
	EventIndividualsNotified Event = "individuals_notified"
	// EventYearEnd is 23:59:59 on 31 December (regime time zone) of the year
	// of AwareAt: the end of the calendar year the breach was discovered in.
	EventYearEnd Event = "year_end"
	// EventDeadline is the deadline of another obligation of the same regime,
	// written "deadline of individual_notice".
	EventDeadline Event = "deadline"
)

var events = []Event{EventAware, EventReportable, EventAssessmentConcluded, EventIndividualsNotified, EventYearEnd}

// AnchorRef says which instant starts a clock: an event ("aware") or the
// deadline of another obligation ("deadline of individual_notice").
type AnchorRef struct {
	Event Event
	// Of is the obligation ID when Event is EventDeadline.
	Of string
}

// ParseAnchorRef parses "aware", "reportable", ... or "deadline of <id>".
func ParseAnchorRef(s string) (AnchorRef, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "deadline of "); ok {
		rest = strings.TrimSpace(rest)
		if rest == "" || strings.ContainsAny(rest, " \t") {
			return AnchorRef{}, fmt.Errorf("anchor %q: write 'deadline of <obligation id>'", s)
		}
		return AnchorRef{Event: EventDeadline, Of: rest}, nil
	}
	var e Event
	if err := oneOf(s, events, "anchor", &e); err != nil {
		return AnchorRef{}, fmt.Errorf("%w, or 'deadline of <obligation id>'", err)
	}
	return AnchorRef{Event: e}, nil
}

// String formats the anchor as written in a regime file.
func (a AnchorRef) String() string {
	if a.Event == EventDeadline {
		return "deadline of " + a.Of
	}
	return string(a.Event)
}

// IsZero reports whether the anchor is unset.
func (a AnchorRef) IsZero() bool { return a == AnchorRef{} }

// MarshalText implements encoding.TextMarshaler.
func (a AnchorRef) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *AnchorRef) UnmarshalText(b []byte) error {
	v, err := ParseAnchorRef(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *AnchorRef) UnmarshalYAML(n *yaml.Node) error { return scalarYAML(n, "anchor", a) }

// Base is what a reminder or escalation offset counts from.
type Base string

// Offset bases.
const (
	BaseAnchor   Base = "anchor"
	BaseDeadline Base = "deadline"
	BaseTarget   Base = "target"
)

// Offset is a reminder or escalation time relative to the anchor, the
// deadline or the target: "anchor + 24h", "deadline - 10d", "deadline".
// Days are calendar days in the regime's time zone (the clock time is kept
// across daylight-saving changes); hours are elapsed hours.
type Offset struct {
	Base  Base
	Days  int // signed
	Hours int // signed
}

// ParseOffset parses "<base>", "<base> + <n>d<m>h" or "<base> - ...".
func ParseOffset(s string) (Offset, error) {
	bad := func() (Offset, error) {
		return Offset{}, fmt.Errorf("offset %q: write e.g. 'anchor + 24h', 'deadline - 10d', 'target + 2d' or 'deadline'", s)
	}
	f := strings.Fields(s)
	if len(f) != 1 && len(f) != 3 {
		return bad()
	}
	o := Offset{Base: Base(f[0])}
	switch o.Base {
	case BaseAnchor, BaseDeadline, BaseTarget:
	default:
		return bad()
	}
	if len(f) == 1 {
		return o, nil
	}
	sign := 1
	switch f[1] {
	case "+":
	case "-":
		sign = -1
	default:
		return bad()
	}
	rest := f[2]
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return bad()
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 10000 {
			return bad()
		}
		switch rest[i] {
		case 'd':
			o.Days += sign * n
		case 'h':
			o.Hours += sign * n
		default:
			return bad()
		}
		rest = rest[i+1:]
	}
	return o, nil
}

// String formats the offset as written in a regime file.
func (o Offset) String() string {
	if o.Days == 0 && o.Hours == 0 {
		return string(o.Base)
	}
	sign, d, h := "+", o.Days, o.Hours
	if d < 0 || (d == 0 && h < 0) {
		sign, d, h = "-", -d, -h
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s ", o.Base, sign)
	if d != 0 {
		fmt.Fprintf(&b, "%dd", d)
	}
	if h != 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	return b.String()
}

// apply returns base moved by the offset: days in loc's calendar, then hours.
func (o Offset) apply(base time.Time, loc *time.Location) time.Time {
	t := base
	if o.Days != 0 {
		t = t.In(loc).AddDate(0, 0, o.Days)
	}
	return t.Add(time.Duration(o.Hours) * time.Hour)
}

// MarshalText implements encoding.TextMarshaler.
func (o Offset) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Offset) UnmarshalText(b []byte) error {
	v, err := ParseOffset(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (o *Offset) UnmarshalYAML(n *yaml.Node) error { return scalarYAML(n, "offset", o) }
