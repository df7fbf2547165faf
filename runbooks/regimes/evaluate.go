package regimes

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Facts are what is known about a breach, as far as the law cares. Call
// Evaluate again whenever they change (the count passes 1,000, malice is
// found on day 20): the result is recomputed from the same rules.
type Facts struct {
	// AwareAt is when the organisation became aware of the breach (any
	// department). It starts most clocks. Required.
	AwareAt time.Time `json:"aware_at"`
	// Persons is the number of people whose data is affected (best estimate).
	Persons int `json:"persons"`
	// ResidentsByJurisdiction counts affected people by region (ISO 3166
	// code: "US-CA", "US-TX", "JP"), each region once. A trigger on a region
	// missing here counts every person as its resident (and says so). A
	// list, not a map, so that evaluation never iterates a map (workflow
	// code replays it).
	ResidentsByJurisdiction []Residents `json:"residents_by_jurisdiction,omitempty"`
	// Sensitive: special-category / 要配慮 / sensitive data, not protected by
	// strong encryption.
	Sensitive bool `json:"sensitive,omitempty"`
	// UniqueID: unique identifiers (e.g. Korean resident registration or
	// passport numbers).
	UniqueID bool `json:"unique_id,omitempty"`
	// FinancialHarm: misuse of the data could cause financial loss (card
	// numbers, bank log-ins).
	FinancialHarm bool `json:"financial_harm,omitempty"`
	// UnauthorizedPurpose: the breach may have been done with an unauthorized
	// (malicious) purpose: hacking, insider theft, skimming.
	UnauthorizedPurpose bool `json:"unauthorized_purpose,omitempty"`
	// UnauthorizedPurposeFoundAt is when that became known, if later than
	// AwareAt. Nil means known at AwareAt.
	UnauthorizedPurposeFoundAt *time.Time `json:"unauthorized_purpose_found_at,omitempty"`
	// ExternalAccess: unauthorized access from outside (hacking).
	ExternalAccess bool `json:"external_access,omitempty"`
	// HighRisk: likely high risk / serious / significant harm to the people
	// affected (GDPR Art. 34, AU NDB, SG significant harm).
	HighRisk bool `json:"high_risk,omitempty"`
	// RiskUnlikely: counsel concluded the breach is unlikely to result in a
	// risk to people (the GDPR Art. 33(1) exception).
	RiskUnlikely bool `json:"risk_unlikely,omitempty"`
	// AssessmentConcludedAt is when the organisation concluded its
	// assessment of the breach (SG, AU). Nil while it is running.
	AssessmentConcludedAt *time.Time `json:"assessment_concluded_at,omitempty"`
	// IndividualsNotifiedAt is when the affected people were notified. Nil
	// while they are not; clocks that count from it then use the latest
	// permitted notice time, where the regime says so.
	IndividualsNotifiedAt *time.Time `json:"individuals_notified_at,omitempty"`
	// Jurisdictions are the regime IDs to consider ("JP-APPI", "EU-GDPR").
	// An ID no regime has yields a review obligation, never silence.
	Jurisdictions []string `json:"jurisdictions"`
}

// Residents is the number of affected people living in one region.
type Residents struct {
	// Region is an ISO 3166 code: a country ("JP") or subdivision ("US-CA").
	Region string `json:"region"`
	Count  int    `json:"count"`
}

// Validate reports facts that cannot be evaluated.
func (f Facts) Validate() error {
	var errs []error
	if f.AwareAt.IsZero() {
		errs = append(errs, errors.New("awareness time (AwareAt) is not set"))
	}
	if f.Persons < 0 {
		errs = append(errs, fmt.Errorf("persons is negative (%d)", f.Persons))
	}
	for i, r := range f.ResidentsByJurisdiction {
		region := normalizeID(r.Region)
		switch {
		case region == "":
			errs = append(errs, fmt.Errorf("residents entry %d has no region", i))
		case r.Count < 0:
			errs = append(errs, fmt.Errorf("residents of %s is negative (%d)", region, r.Count))
		}
		for _, prev := range f.ResidentsByJurisdiction[:i] {
			if normalizeID(prev.Region) == region && region != "" {
				errs = append(errs, fmt.Errorf("residents of %s are listed twice", region))
			}
		}
	}
	for _, t := range []struct {
		name string
		at   *time.Time
	}{
		{"unauthorized purpose found", f.UnauthorizedPurposeFoundAt},
		{"assessment concluded", f.AssessmentConcludedAt},
		{"individuals notified", f.IndividualsNotifiedAt},
	} {
		if t.at != nil && !f.AwareAt.IsZero() && t.at.Before(f.AwareAt) {
			errs = append(errs, fmt.Errorf("%s at %s is before awareness at %s", t.name, t.at.Format(time.RFC3339), f.AwareAt.Format(time.RFC3339)))
		}
	}
	return errors.Join(errs...)
}

// TriggerMatch records one trigger's test against the facts.
type TriggerMatch struct {
	// ID is the trigger's ID ("always" for a rule that always applies).
	ID string `json:"id"`
	// Label is the trigger's legal wording.
	Label string `json:"label"`
	// Detail is the test as applied: "1001 persons, more than 1000".
	Detail string `json:"detail,omitempty"`
}

// Anchor is the instant a clock starts from, and its name.
type Anchor struct {
	// Name is the anchor as written in the rule ("aware", "reportable",
	// "deadline of individual_notice").
	Name string `json:"name"`
	// At is the instant; zero when the obligation is pending.
	At time.Time `json:"at,omitzero"`
}

// Obligation is one duty owed: to whom, by when, with reminders and
// escalation, and the rule it comes from.
type Obligation struct {
	// ID is "<regime>/<obligation>", e.g. "JP-APPI/final"; stable across
	// re-evaluation with new facts. Review obligations end in "/review".
	ID       string   `json:"id"`
	Regime   string   `json:"regime"`
	Kind     Kind     `json:"kind"`
	Title    string   `json:"title"`
	Audience Audience `json:"audience"`
	// Triggers are the triggers that were met, for the record.
	Triggers []TriggerMatch `json:"triggers,omitempty"`
	Anchor   Anchor         `json:"anchor"`
	// Clock is the length and counting applied, e.g. "60 days,
	// anchor_day_is_day_1"; empty for a promptly duty.
	Clock string `json:"clock,omitempty"`
	// Deadline is when the duty falls due; zero when Soft or Pending.
	Deadline time.Time `json:"deadline,omitzero"`
	// Soft: the law says "promptly" and fixes no day.
	Soft bool `json:"soft,omitempty"`
	// Hard: the law fixes the day (Deadline, once the anchor is known).
	// Exactly one of Soft and Hard is true.
	Hard bool `json:"hard,omitempty"`
	// Target is the soft target of a prompt duty (APPI 速報: 3 days); zero
	// when there is none.
	Target time.Time `json:"target,omitzero"`
	// Grace is the informational rollover of a deadline falling on a closed
	// day; never used to time reminders or escalation.
	Grace *time.Time `json:"grace,omitempty"`
	// Reminders and Escalations are ascending instants, past ones included
	// (the caller skips those before its own clock), none before AwareAt.
	Reminders   []time.Time `json:"reminders,omitempty"`
	Escalations []time.Time `json:"escalations,omitempty"`
	// Pending: the anchor event has not happened yet (assessment still
	// running, individuals not yet notified); no deadline can be computed.
	Pending bool `json:"pending,omitempty"`
	// Overdue: at "now" the deadline (or, for a soft duty, the target) has
	// passed.
	Overdue bool `json:"overdue,omitempty"`
	// Source and EffectiveFrom identify the rule applied.
	Source        Source `json:"source"`
	EffectiveFrom Date   `json:"effective_from,omitzero"`
	// Note explains what a person should know: assumptions, grace, phases.
	Note string `json:"note,omitempty"`
}

// NotOwed is an obligation a regime does not impose on these facts, and why.
type NotOwed struct {
	ID       string   `json:"id"`
	Regime   string   `json:"regime"`
	Kind     Kind     `json:"kind"`
	Title    string   `json:"title"`
	Audience Audience `json:"audience"`
	// Reason summarises why: "none of the triggers is met".
	Reason string `json:"reason"`
	// Unmet are the triggers tested and not met, with the facts used.
	Unmet         []TriggerMatch `json:"unmet"`
	Source        Source         `json:"source"`
	EffectiveFrom Date           `json:"effective_from,omitzero"`
}

// Result is the outcome of Evaluate: what is owed and what is not, each in
// a deterministic order (regimes by ID, obligations in file order).
type Result struct {
	Owed    []Obligation `json:"owed"`
	NotOwed []NotOwed    `json:"not_owed"`
}

// Obligations returns the obligations owed; see Evaluate.
func Obligations(f Facts, regs []Regime, now time.Time) []Obligation {
	return Evaluate(f, regs, now).Owed
}

// The review policy: what the engine owes when no rule can be applied (an
// unknown jurisdiction, no rule in force, unusable facts). Counsel must
// assess promptly: the target is 24 hours, well inside the shortest
// built-in clock (72 hours, GDPR Art. 33(1)); a reminder at 12 hours,
// escalation at 24 and 48 hours.
var (
	reviewTarget      = 24 * time.Hour
	reviewReminders   = []time.Duration{12 * time.Hour}
	reviewEscalations = []time.Duration{24 * time.Hour, 48 * time.Hour}
	reviewAudience    = Audience{ID: "counsel", Kind: AudienceCounsel, Name: "法務・顧問弁護士 (counsel)"}
	reviewSource      = Source{Citation: "breachflow review policy (docs/regimes.md, \"Review obligations\")"}
)

// Evaluate applies the regimes named by f.Jurisdictions to the facts and
// returns every obligation owed and every obligation not owed with the
// reason. now only decides Overdue (and anchors a review of facts without an
// awareness time); it never moves a deadline.
//
// Nothing is dropped silently: an unknown jurisdiction, an empty list of
// jurisdictions, facts that fail Validate, an unusable regime or an
// obligation with no rule in force on its anchor day each give a review
// obligation (Kind review, audience counsel, due promptly, escalated).
func Evaluate(f Facts, regs []Regime, now time.Time) Result {
	var res Result
	if err := f.Validate(); err != nil {
		at := f.AwareAt
		if at.IsZero() {
			at = now
		}
		res.Owed = append(res.Owed, review("facts/review", "facts", at, now,
			fmt.Sprintf("The facts cannot be evaluated (%v): counsel must assess, and the facts must be corrected.", err)))
		return res
	}
	ids := normalizedJurisdictions(f.Jurisdictions)
	if len(ids) == 0 {
		res.Owed = append(res.Owed, review("jurisdictions/review", "jurisdictions", f.AwareAt, now,
			"No jurisdiction was given: counsel must determine which laws apply."))
		return res
	}
	for _, id := range ids {
		reg, ok := ByID(regs, id)
		if !ok {
			res.Owed = append(res.Owed, review(id+"/review", id, f.AwareAt, now,
				fmt.Sprintf("Unknown jurisdiction %s: counsel must assess.", id)))
			continue
		}
		loc, err := time.LoadLocation(reg.TimeZone)
		if err != nil {
			res.Owed = append(res.Owed, review(reg.ID+"/review", reg.ID, f.AwareAt, now,
				fmt.Sprintf("Regime %s cannot be applied (time zone %q: %v): counsel must assess.", reg.ID, reg.TimeZone, err)))
			continue
		}
		e := &evaluator{f: f, reg: &reg, loc: loc, now: now, results: map[string]*specResult{}}
		for i := range reg.Obligations {
			r := e.spec(&reg.Obligations[i])
			switch {
			case r.owed != nil:
				res.Owed = append(res.Owed, *r.owed)
			case r.notOwed != nil:
				res.NotOwed = append(res.NotOwed, *r.notOwed)
			}
		}
	}
	return res
}

// normalizedJurisdictions upper-cases, trims, drops duplicates and sorts.
func normalizedJurisdictions(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, j := range in {
		j = normalizeID(j)
		if j == "" || seen[j] {
			continue
		}
		seen[j] = true
		out = append(out, j)
	}
	sort.Strings(out)
	return out
}

// review builds a review obligation anchored at "at".
func review(id, regime string, at, now time.Time, why string) Obligation {
	o := Obligation{
		ID:       id,
		Regime:   regime,
		Kind:     KindReview,
		Title:    "法的評価 (legal review)",
		Audience: reviewAudience,
		Anchor:   Anchor{Name: string(EventAware), At: at},
		Soft:     true,
		Target:   at.Add(reviewTarget),
		Source:   reviewSource,
		Note:     why,
	}
	for _, d := range reviewReminders {
		o.Reminders = append(o.Reminders, at.Add(d))
	}
	for _, d := range reviewEscalations {
		o.Escalations = append(o.Escalations, at.Add(d))
	}
	o.Overdue = now.After(o.Target)
	return o
}

type specResult struct {
	inProgress bool
	owed       *Obligation
	notOwed    *NotOwed
}

type evaluator struct {
	f       Facts
	reg     *Regime
	loc     *time.Location
	now     time.Time
	results map[string]*specResult // memo by obligation ID; lookup only
}

// spec evaluates one obligation (memoised: "deadline of" anchors evaluate
// the obligation they refer to first).
func (e *evaluator) spec(s *ObligationSpec) *specResult {
	if r, ok := e.results[s.ID]; ok {
		return r
	}
	r := &specResult{inProgress: true}
	e.results[s.ID] = r
	defer func() { r.inProgress = false }()

	id := e.reg.ID + "/" + s.ID
	aud, ok := e.reg.Audience(s.Audience)
	if !ok {
		aud = Audience{ID: s.Audience, Name: s.Audience}
	}
	for i := range s.Rules {
		ru := &s.Rules[i]
		cond := e.condition(ru.When)
		anchor, known, anchorNote := e.ruleAnchor(ru, cond)
		day := e.f.AwareAt
		if known {
			day = anchor.At
		}
		if !inForce(DateOf(day.In(e.loc)), ru.EffectiveFrom, ru.EffectiveUntil) {
			continue
		}
		if !cond.met {
			r.notOwed = &NotOwed{
				ID: id, Regime: e.reg.ID, Kind: s.Kind, Title: s.Title, Audience: aud,
				Reason: cond.reason, Unmet: cond.unmet, Source: ru.Source, EffectiveFrom: ru.EffectiveFrom,
			}
			return r
		}
		o := e.obligation(id, s, aud, ru, cond, anchor, known, anchorNote)
		r.owed = &o
		return r
	}
	o := review(id+"/review", e.reg.ID, e.f.AwareAt, e.now,
		fmt.Sprintf("No rule of %s for %s (%s) is in force on the anchor day (rules: %s): counsel must assess.",
			e.reg.ID, s.ID, s.Title, rulePeriods(s.Rules)))
	r.owed = &o
	return r
}

func rulePeriods(rules []Rule) string {
	var parts []string
	for _, ru := range rules {
		until := "open"
		if !ru.EffectiveUntil.IsZero() {
			until = ru.EffectiveUntil.String()
		}
		parts = append(parts, ru.EffectiveFrom.String()+" to "+until)
	}
	return strings.Join(parts, "; ")
}

func inForce(day, from, until Date) bool {
	return !day.Before(from) && (until.IsZero() || day.Before(until))
}

// obligation computes the clock of an owed obligation.
func (e *evaluator) obligation(id string, s *ObligationSpec, aud Audience, ru *Rule, cond condResult, anchor Anchor, known bool, anchorNote string) Obligation {
	d := ru.Deadline
	anchor.At = anchor.At.In(e.loc) // every instant of the result is shown in the regime's zone
	o := Obligation{
		ID: id, Regime: e.reg.ID, Kind: s.Kind, Title: s.Title, Audience: aud,
		Triggers: cond.matches, Anchor: anchor,
		Soft: d.Promptly, Hard: !d.Promptly,
		Source: ru.Source, EffectiveFrom: ru.EffectiveFrom,
	}
	notes := []string{ru.Note}
	notes = append(notes, cond.notes...)
	notes = append(notes, anchorNote)
	if !known {
		o.Pending = true
		notes = append(notes, fmt.Sprintf("Pending: the clock starts at %s, which has not happened yet; evaluate again when it has.", ru.Anchor))
		o.Note = joinNotes(notes)
		return o
	}
	if d.Within != nil {
		length := *d.Within
		for _, c := range d.Cases {
			if cond.metIDs[c.IfTriggered] {
				length = c.Within
				break
			}
		}
		o.Clock = fmt.Sprintf("%s, %s", length, d.Counting)
		o.Deadline = count(anchor.At, length, d.Counting, e.loc)
		if d.Grace == GraceNextBusinessDay && e.reg.Calendar != nil {
			g, note := graceDate(e.reg.Calendar, o.Deadline, e.loc)
			o.Grace = g
			notes = append(notes, note)
		}
	}
	if d.Target != nil {
		o.Target = count(anchor.At, d.Target.Within, d.Target.Counting, e.loc)
	}
	o.Reminders = e.offsets(ru.Reminders, o)
	o.Escalations = e.offsets(ru.Escalations, o)
	switch {
	case o.Hard:
		o.Overdue = e.now.After(o.Deadline)
	case !o.Target.IsZero():
		o.Overdue = e.now.After(o.Target)
	}
	o.Note = joinNotes(notes)
	return o
}

// offsets resolves reminder or escalation offsets, ascending, without
// repeats, and drops any before awareness (a "deadline - 14d" of a clock
// that runs only days).
func (e *evaluator) offsets(offs []Offset, o Obligation) []time.Time {
	var out []time.Time
	for _, off := range offs {
		var base time.Time
		switch off.Base {
		case BaseAnchor:
			base = o.Anchor.At
		case BaseDeadline:
			base = o.Deadline
		case BaseTarget:
			base = o.Target
		}
		if base.IsZero() {
			continue // invalid regime (validation rejects it); nothing to count from
		}
		if t := off.apply(base, e.loc); !t.Before(e.f.AwareAt) {
			out = append(out, t) // nothing is due before the organisation knew
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	uniq := out[:0]
	for i, t := range out {
		if i == 0 || !t.Equal(out[i-1]) {
			uniq = append(uniq, t)
		}
	}
	if len(uniq) == 0 {
		return nil
	}
	return uniq
}

func joinNotes(notes []string) string {
	var parts []string
	for _, n := range notes {
		if n = strings.TrimSpace(n); n != "" {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, " ")
}

// ruleAnchor resolves a rule's anchor, falling back to IfUnknown. known is
// false when neither has happened.
func (e *evaluator) ruleAnchor(ru *Rule, cond condResult) (a Anchor, known bool, note string) {
	if at, ok := e.anchorAt(ru.Anchor, cond); ok {
		return Anchor{Name: ru.Anchor.String(), At: at}, true, ""
	}
	if ru.IfUnknown != nil {
		if at, ok := e.anchorAt(*ru.IfUnknown, cond); ok {
			return Anchor{Name: ru.IfUnknown.String(), At: at}, true,
				fmt.Sprintf("%s has not happened yet: counted from %s instead; evaluate again when it has.", ru.Anchor, ru.IfUnknown)
		}
	}
	return Anchor{Name: ru.Anchor.String()}, false, ""
}

func (e *evaluator) anchorAt(ref AnchorRef, cond condResult) (time.Time, bool) {
	f := e.f
	switch ref.Event {
	case EventAware:
		return f.AwareAt, true
	case EventReportable:
		if cond.met {
			return cond.knownAt, true
		}
		return f.AwareAt, true
	case EventAssessmentConcluded:
		if f.AssessmentConcludedAt != nil {
			return *f.AssessmentConcludedAt, true
		}
	case EventIndividualsNotified:
		if f.IndividualsNotifiedAt != nil {
			return *f.IndividualsNotifiedAt, true
		}
	case EventYearEnd:
		return Date{f.AwareAt.In(e.loc).Year(), time.December, 31}.End(e.loc), true
	case EventDeadline:
		s, ok := e.reg.Obligation(ref.Of)
		if !ok {
			return time.Time{}, false
		}
		if r := e.spec(&s); !r.inProgress && r.owed != nil && r.owed.Kind != KindReview && !r.owed.Deadline.IsZero() {
			return r.owed.Deadline, true
		}
	}
	return time.Time{}, false
}

// condResult is a rule's condition tested against the facts.
type condResult struct {
	met     bool
	matches []TriggerMatch  // triggers met
	metIDs  map[string]bool // lookup only
	unmet   []TriggerMatch  // triggers not met
	reason  string          // why not met
	knownAt time.Time       // when the condition became true
	notes   []string        // assumptions made
}

func (e *evaluator) condition(w Condition) condResult {
	if w.Always != "" {
		return condResult{met: true, knownAt: e.f.AwareAt, metIDs: map[string]bool{},
			matches: []TriggerMatch{{ID: "always", Label: w.Always}}}
	}
	ids, all := w.Any, false
	if len(w.All) > 0 {
		ids, all = w.All, true
	}
	c := condResult{metIDs: map[string]bool{}}
	for _, id := range ids {
		t, ok := e.reg.Trigger(id)
		if !ok {
			c.unmet = append(c.unmet, TriggerMatch{ID: id, Label: id, Detail: "unknown trigger"})
			continue
		}
		ev := e.trigger(t)
		if ev.note != "" {
			c.notes = append(c.notes, ev.note)
		}
		if !ev.met {
			c.unmet = append(c.unmet, ev.match)
			continue
		}
		c.matches = append(c.matches, ev.match)
		c.metIDs[id] = true
		switch {
		case c.knownAt.IsZero():
			c.knownAt = ev.knownAt
		case all && ev.knownAt.After(c.knownAt):
			c.knownAt = ev.knownAt
		case !all && ev.knownAt.Before(c.knownAt):
			c.knownAt = ev.knownAt
		}
	}
	if all {
		c.met = len(ids) > 0 && len(c.unmet) == 0
		c.reason = "not every required trigger is met"
	} else {
		c.met = len(c.matches) > 0
		c.reason = "none of the triggers is met"
	}
	if !c.met {
		c.matches, c.notes = nil, nil
	}
	return c
}

type triggerResult struct {
	met     bool
	match   TriggerMatch
	knownAt time.Time
	note    string
}

// trigger tests one trigger. A trigger is law only on the days it is in
// force; it is tested on the day its fact became known.
func (e *evaluator) trigger(t Trigger) triggerResult {
	f := e.f
	r := triggerResult{knownAt: f.AwareAt, match: TriggerMatch{ID: t.ID, Label: t.Label}}
	switch t.Fact {
	case FactPersons:
		r.met, r.match.Detail = compare(t, f.Persons, "persons")
	case FactResidents:
		n, region, given := residents(f, t.Region)
		r.met, r.match.Detail = compare(t, n, "residents of "+region)
		if !given {
			r.match.Detail = fmt.Sprintf("residents of %s not given, all %d persons counted: %s", t.Region, f.Persons, r.match.Detail)
			if r.met {
				r.note = fmt.Sprintf("Residents of %s were not given: all %d persons were counted as residents; give ResidentsByJurisdiction to be exact.", t.Region, f.Persons)
			}
		}
	default:
		want := true
		if t.Equals != nil {
			want = *t.Equals
		}
		got := boolFact(f, t.Fact)
		r.met = got == want
		r.match.Detail = fmt.Sprintf("%s: %s", t.Fact, yesNo(got))
	}
	if t.Fact == FactUnauthorizedPurpose && f.UnauthorizedPurposeFoundAt != nil && f.UnauthorizedPurposeFoundAt.After(f.AwareAt) {
		r.knownAt = *f.UnauthorizedPurposeFoundAt
		r.match.Detail += fmt.Sprintf(" (known since %s)", r.knownAt.In(e.loc).Format(time.RFC3339))
	}
	if day := DateOf(r.knownAt.In(e.loc)); r.met && !inForce(day, t.EffectiveFrom, t.EffectiveUntil) {
		r.met = false
		r.match.Detail += fmt.Sprintf("; but the trigger is not in force on %s (in force from %s)", day, t.EffectiveFrom)
	}
	return r
}

func compare(t Trigger, n int, what string) (bool, string) {
	switch {
	case t.MoreThan != nil:
		if n > *t.MoreThan {
			return true, fmt.Sprintf("%d %s, more than %d", n, what, *t.MoreThan)
		}
		return false, fmt.Sprintf("%d %s, not more than %d", n, what, *t.MoreThan)
	case t.AtLeast != nil:
		if n >= *t.AtLeast {
			return true, fmt.Sprintf("%d %s, at least %d", n, what, *t.AtLeast)
		}
		return false, fmt.Sprintf("%d %s, fewer than %d", n, what, *t.AtLeast)
	case t.LessThan != nil:
		if n < *t.LessThan {
			return true, fmt.Sprintf("%d %s, fewer than %d", n, what, *t.LessThan)
		}
		return false, fmt.Sprintf("%d %s, not fewer than %d", n, what, *t.LessThan)
	}
	return false, "no comparison"
}

// residents returns the count for a region ("US-CA") or the largest count
// matching a pattern ("US-*", the first listed on a tie), the region it
// belongs to, and whether any count was given; without one it returns
// Persons.
func residents(f Facts, region string) (n int, which string, given bool) {
	prefix, pattern := strings.CutSuffix(region, "*")
	for _, r := range f.ResidentsByJurisdiction {
		key := normalizeID(r.Region)
		if (pattern && strings.HasPrefix(key, prefix)) || (!pattern && key == region) {
			if !given || r.Count > n {
				n, which, given = r.Count, key, true
			}
		}
	}
	if !given {
		return f.Persons, region, false
	}
	return n, which, true
}

func boolFact(f Facts, fact Fact) bool {
	switch fact {
	case FactSensitive:
		return f.Sensitive
	case FactUniqueID:
		return f.UniqueID
	case FactFinancialHarm:
		return f.FinancialHarm
	case FactUnauthorizedPurpose:
		return f.UnauthorizedPurpose
	case FactExternalAccess:
		return f.ExternalAccess
	case FactHighRisk:
		return f.HighRisk
	case FactRiskUnlikely:
		return f.RiskUnlikely
	}
	return false
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
