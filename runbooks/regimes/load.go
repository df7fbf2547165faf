package regimes

import (
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // regimes name IANA zones; do not depend on the host's zoneinfo

	"github.com/breachflow/breachflow/internal/yamldoc"
)

//go:embed *.yaml
var builtinFS embed.FS

var (
	// regimeIDRe matches regime IDs such as JP-APPI or US-HIPAA (the same
	// form runbooks accept).
	regimeIDRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)
	// localIDRe matches audience, trigger and obligation IDs.
	localIDRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// regionRe matches a residents region: "US-CA", "JP" or "US-*".
	regionRe = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3}|-\*)?$`)
)

// Load decodes and validates one regime file. Every problem is reported with
// its position; a non-empty Diagnostics means the regime must not be used.
func Load(file string, data []byte) (Regime, yamldoc.Diagnostics) {
	var r Regime
	doc, diags := yamldoc.Decode(file, data, &r)
	v := &validator{doc: doc, decoded: diags, diags: diags}
	v.regime(&r)
	v.diags.Sort()
	return r, v.diags
}

// LoadFile reads and loads one regime file.
func LoadFile(name string) (Regime, yamldoc.Diagnostics) {
	data, err := yamldoc.ReadFile(name)
	if err != nil {
		return Regime{}, yamldoc.Diagnostics{{File: name, Line: 1, Col: 1, Problem: fmt.Sprintf("cannot read the file: %v", err)}}
	}
	return Load(name, data)
}

// Builtin loads every regime embedded in this package, sorted by ID. An
// error means a built-in file is invalid, which the package's tests rule
// out.
func Builtin() ([]Regime, error) {
	names, err := fs.Glob(builtinFS, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing built-in regimes: %w", err)
	}
	var (
		out  []Regime
		errs yamldoc.Diagnostics
		seen = map[string]string{}
	)
	for _, name := range names {
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading built-in regime %s: %w", name, err)
		}
		r, diags := Load(path.Join("runbooks/regimes", name), data)
		if len(diags) > 0 {
			errs = append(errs, diags...)
			continue
		}
		if prev, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("built-in regimes %s and %s both have id %s", prev, name, r.ID)
		}
		seen[r.ID] = name
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid built-in regime:\n%w", errs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ByID returns the regime with the given ID from regs. The match ignores
// case and surrounding spaces ("jp-appi" finds JP-APPI).
func ByID(regs []Regime, id string) (Regime, bool) {
	id = normalizeID(id)
	for _, r := range regs {
		if r.ID == id {
			return r, true
		}
	}
	return Regime{}, false
}

func normalizeID(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

type validator struct {
	doc     *yamldoc.Doc
	decoded yamldoc.Diagnostics // problems found while decoding
	diags   yamldoc.Diagnostics // all problems
}

// errorf records a problem at path unless decoding already reported one at
// or below it (a value that failed to decode is zero, and "missing" would
// only repeat the first complaint).
func (v *validator) errorf(p, hint, format string, args ...any) {
	for _, d := range v.decoded {
		if d.Field == p || strings.HasPrefix(d.Field, p+".") || strings.HasPrefix(d.Field, p+"[") {
			return
		}
	}
	v.diags = append(v.diags, v.doc.Errorf(p, hint, format, args...))
}

func (v *validator) nonEmpty(p, s, hint string) {
	if strings.TrimSpace(s) == "" {
		v.errorf(p, hint, "must not be empty")
	}
}

func (v *validator) source(p string, s Source) {
	v.nonEmpty(p+".citation", s.Citation, "name the provision, e.g. GDPR Art. 33(1)")
	if s.URL == "" {
		v.errorf(p+".url", "give the address where the text can be read", "must not be empty")
		return
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.errorf(p+".url", "write a full http(s) address", "%q is not a web address", s.URL)
	}
}

func (v *validator) period(p string, from, until Date) {
	if from.IsZero() {
		v.errorf(p+".effective_from", "write the day the provision took effect, e.g. 2022-04-01", "is required")
	}
	if !until.IsZero() && !from.IsZero() && !from.Before(until) {
		v.errorf(p+".effective_until", "effective_until is the first day the rule no longer applies", "must be after effective_from (%s)", from)
	}
}

func (v *validator) regime(r *Regime) {
	if r.Kind != KindRegime {
		v.errorf("kind", "the first line of a regime file is 'kind: regime'", "must be %q, got %q", KindRegime, r.Kind)
	}
	if !regimeIDRe.MatchString(r.ID) {
		v.errorf("id", "regime IDs are upper-case words joined by hyphens, e.g. JP-APPI", "%q is not a regime ID", r.ID)
	}
	v.nonEmpty("name", r.Name, "the law's name, e.g. General Data Protection Regulation")
	if r.TimeZone == "" {
		v.errorf("time_zone", "write an IANA time zone, e.g. Asia/Tokyo", "must not be empty")
	} else if _, err := time.LoadLocation(r.TimeZone); err != nil {
		v.errorf("time_zone", "write an IANA time zone, e.g. Asia/Tokyo", "unknown time zone %q", r.TimeZone)
	}
	if r.Calendar != nil {
		v.calendar("calendar", r.Calendar)
	}

	if len(r.Audiences) == 0 {
		v.errorf("audiences", "list who is notified, e.g. the regulator and the individuals", "no audience")
	}
	seen := map[string]bool{}
	for i, a := range r.Audiences {
		p := fmt.Sprintf("audiences[%d]", i)
		v.localID(p+".id", a.ID, seen)
		if a.Kind == "" {
			v.errorf(p+".kind", "one of "+names(audienceKinds), "is required")
		}
		v.nonEmpty(p+".name", a.Name, "the receiver's name, e.g. 個人情報保護委員会 (PPC)")
	}

	seen = map[string]bool{}
	for i, t := range r.Triggers {
		v.trigger(fmt.Sprintf("triggers[%d]", i), t, seen)
	}

	if len(r.Obligations) == 0 {
		v.errorf("obligations", "list the duties the regime imposes", "no obligation")
	}
	seen = map[string]bool{}
	for i := range r.Obligations {
		v.obligation(fmt.Sprintf("obligations[%d]", i), r, &r.Obligations[i], seen)
	}
	v.cycles(r)
}

func (v *validator) localID(p, id string, seen map[string]bool) {
	switch {
	case !localIDRe.MatchString(id):
		v.errorf(p, "lower-case letters, digits and _, e.g. final or over_1000", "%q is not a valid id", id)
	case seen[id]:
		v.errorf(p, "ids must be unique within their list", "%q is used twice", id)
	}
	seen[id] = true
}

func (v *validator) calendar(p string, c *Calendar) {
	v.nonEmpty(p+".name", c.Name, "whose closed days these are")
	v.source(p+".source", c.Source)
	seenDay := map[Weekday]bool{}
	for i, w := range c.Weekends {
		if seenDay[w] {
			v.errorf(fmt.Sprintf("%s.weekends[%d]", p, i), "remove the duplicate", "%s is listed twice", w)
		}
		seenDay[w] = true
	}
	for i, cl := range c.Closures {
		q := fmt.Sprintf("%s.closures[%d]", p, i)
		if cl.From == (MonthDay{}) {
			v.errorf(q+".from", "write MM-DD", "is required")
		}
		if cl.To == (MonthDay{}) {
			v.errorf(q+".to", "write MM-DD", "is required")
		}
		v.nonEmpty(q+".name", cl.Name, "e.g. 年末年始")
	}
	if c.HolidaysFrom.IsZero() || c.HolidaysUntil.IsZero() {
		v.errorf(p+".holidays_from", "write the first and last day the holiday table covers", "holidays_from and holidays_until are required")
		return
	}
	if c.HolidaysUntil.Before(c.HolidaysFrom) {
		v.errorf(p+".holidays_until", "", "must not be before holidays_from (%s)", c.HolidaysFrom)
	}
	for i, h := range c.Holidays {
		q := fmt.Sprintf("%s.holidays[%d]", p, i)
		switch {
		case h.Date.Before(c.HolidaysFrom) || c.HolidaysUntil.Before(h.Date):
			v.errorf(q+".date", "extend holidays_from/holidays_until or remove the day", "%s is outside the table's span %s..%s", h.Date, c.HolidaysFrom, c.HolidaysUntil)
		case i > 0 && !c.Holidays[i-1].Date.Before(h.Date):
			v.errorf(q+".date", "list holidays once each, in date order", "%s does not come after %s", h.Date, c.Holidays[i-1].Date)
		}
		v.nonEmpty(q+".name", h.Name, "the holiday's name, e.g. 元日")
	}
}

func (v *validator) trigger(p string, t Trigger, seen map[string]bool) {
	v.localID(p+".id", t.ID, seen)
	v.nonEmpty(p+".label", t.Label, "the legal wording, for the record")
	if t.Fact == "" {
		v.errorf(p+".fact", "one of "+names(facts), "is required")
	}
	comparisons := 0
	for _, c := range []struct {
		key string
		n   *int
	}{{"more_than", t.MoreThan}, {"at_least", t.AtLeast}, {"less_than", t.LessThan}} {
		if c.n == nil {
			continue
		}
		comparisons++
		if *c.n < 0 {
			v.errorf(p+"."+c.key, "", "must not be negative")
		}
		if t.Fact != "" && !t.Fact.isCount() {
			v.errorf(p+"."+c.key, "use equals: true|false for a yes/no fact", "%s is not a count", t.Fact)
		}
	}
	if t.Fact.isCount() {
		if comparisons != 1 {
			v.errorf(p, "write exactly one of more_than, at_least, less_than", "a count trigger needs one comparison, got %d", comparisons)
		}
		if t.Equals != nil {
			v.errorf(p+".equals", "compare counts with more_than, at_least or less_than", "%s is a count", t.Fact)
		}
	}
	switch {
	case t.Fact == FactResidents && !regionRe.MatchString(t.Region):
		v.errorf(p+".region", "an ISO 3166 code such as US-CA, or a pattern such as US-* for any one state", "%q is not a region", t.Region)
	case t.Fact != FactResidents && t.Region != "":
		v.errorf(p+".region", "region applies only to fact: residents", "unexpected for fact %s", t.Fact)
	}
	v.period(p, t.EffectiveFrom, t.EffectiveUntil)
	v.source(p+".source", t.Source)
}

func (v *validator) obligation(p string, r *Regime, o *ObligationSpec, seen map[string]bool) {
	v.localID(p+".id", o.ID, seen)
	switch o.Kind {
	case "":
		v.errorf(p+".kind", "one of "+names(kinds), "is required")
	case KindReview:
		v.errorf(p+".kind", "review obligations are made by the engine when no rule applies", "a regime cannot declare kind review")
	}
	if _, ok := r.Audience(o.Audience); !ok {
		v.errorf(p+".audience", "name one of the regime's audiences by id", "unknown audience %q", o.Audience)
	}
	v.nonEmpty(p+".title", o.Title, "e.g. 確報 (final report)")
	if len(o.Rules) == 0 {
		v.errorf(p+".rules", "give at least one rule with its source and effective_from", "no rule")
	}
	for i := range o.Rules {
		v.rule(fmt.Sprintf("%s.rules[%d]", p, i), r, o, &o.Rules[i])
	}
	// Periods must not overlap, so exactly one rule is in force on any day.
	for i := range o.Rules {
		for j := range i {
			a, b := o.Rules[j], o.Rules[i]
			if a.EffectiveFrom.IsZero() || b.EffectiveFrom.IsZero() {
				continue
			}
			if overlaps(a.EffectiveFrom, a.EffectiveUntil, b.EffectiveFrom, b.EffectiveUntil) {
				v.errorf(fmt.Sprintf("%s.rules[%d].effective_from", p, i), "end the earlier rule with effective_until on the day the later one starts",
					"in force at the same time as rules[%d]", j)
			}
		}
	}
}

// overlaps reports whether [af, au) and [bf, bu) share a day; a zero until is
// open-ended.
func overlaps(af, au, bf, bu Date) bool {
	aEndsFirst := !au.IsZero() && !bf.Before(au)
	bEndsFirst := !bu.IsZero() && !af.Before(bu)
	return !aEndsFirst && !bEndsFirst
}

func (v *validator) rule(p string, r *Regime, o *ObligationSpec, ru *Rule) {
	v.period(p, ru.EffectiveFrom, ru.EffectiveUntil)
	v.source(p+".source", ru.Source)

	// when
	w := ru.When
	set := 0
	for _, b := range []bool{len(w.Any) > 0, len(w.All) > 0, w.Always != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		v.errorf(p+".when", "write exactly one of any: [...], all: [...] or always: <why>", "needs exactly one of any, all, always")
	}
	for _, list := range []struct {
		key string
		ids []string
	}{{"any", w.Any}, {"all", w.All}} {
		seen := map[string]bool{}
		for i, id := range list.ids {
			q := fmt.Sprintf("%s.when.%s[%d]", p, list.key, i)
			if _, ok := r.Trigger(id); !ok {
				v.errorf(q, "name one of the regime's triggers by id", "unknown trigger %q", id)
			}
			if seen[id] {
				v.errorf(q, "remove the duplicate", "%q is listed twice", id)
			}
			seen[id] = true
		}
	}

	// anchor
	v.anchor(p+".anchor", r, o, ru.Anchor, true)
	if ru.IfUnknown != nil {
		v.anchor(p+".if_unknown", r, o, *ru.IfUnknown, false)
		switch ru.Anchor.Event {
		case EventAssessmentConcluded, EventIndividualsNotified, EventDeadline:
		default:
			if !ru.Anchor.IsZero() {
				v.errorf(p+".if_unknown", "only an anchor that may not have happened yet needs a fallback", "anchor %s is always known", ru.Anchor)
			}
		}
	}

	// deadline
	d := ru.Deadline
	dp := p + ".deadline"
	switch {
	case d.Promptly && d.Within != nil:
		v.errorf(dp, "a duty is either promptly (with an optional target) or within a length", "promptly and within are both set")
	case !d.Promptly && d.Within == nil:
		v.errorf(dp, "write promptly: true, or within: <length> with counting: <convention>", "needs promptly or within")
	case d.Promptly:
		if d.Counting != "" || len(d.Cases) > 0 || d.Grace != GraceNone {
			v.errorf(dp, "counting, cases and grace belong to a fixed deadline (within)", "promptly takes only a target")
		}
	default:
		if d.Target != nil {
			v.errorf(dp+".target", "a target is guidance for a promptly duty", "a fixed deadline takes no target")
		}
		v.length(dp+".within", *d.Within, d.Counting)
		if d.Counting == "" {
			v.errorf(dp+".counting", "one of "+names(countings), "is required")
		}
		for i, c := range d.Cases {
			q := fmt.Sprintf("%s.cases[%d]", dp, i)
			if !contains(w.Any, c.IfTriggered) && !contains(w.All, c.IfTriggered) {
				v.errorf(q+".if_triggered", "a case can only test a trigger listed in the rule's when", "%q is not in this rule's when", c.IfTriggered)
			}
			v.length(q+".within", c.Within, d.Counting)
		}
		if d.Grace != GraceNone {
			if r.Calendar == nil {
				v.errorf(dp+".grace", "add a calendar of closed days to the regime", "a grace date needs the regime's calendar")
			}
			if d.Counting == Elapsed {
				v.errorf(dp+".grace", "grace dates move a last day; elapsed clocks have none", "grace needs calendar-day counting")
			}
		}
	}
	if d.Target != nil {
		if d.Target.Counting == "" {
			v.errorf(dp+".target.counting", "one of "+names(countings), "is required")
		}
		v.length(dp+".target.within", d.Target.Within, d.Target.Counting)
	}

	for _, list := range []struct {
		key  string
		offs []Offset
	}{{"reminders", ru.Reminders}, {"escalations", ru.Escalations}} {
		for i, off := range list.offs {
			q := fmt.Sprintf("%s.%s[%d]", p, list.key, i)
			switch {
			case off.Base == BaseDeadline && d.Within == nil:
				v.errorf(q, "count from the anchor or the target of a promptly duty", "there is no fixed deadline to count from")
			case off.Base == BaseTarget && d.Target == nil:
				v.errorf(q, "add a target, or count from the anchor", "there is no target to count from")
			}
		}
	}
	if ru.Deadline.Within != nil && len(ru.Escalations) == 0 {
		v.errorf(p+".escalations", "escalate at least when the deadline is missed: escalations: [deadline]", "a fixed deadline needs an escalation")
	}
}

func (v *validator) anchor(p string, r *Regime, o *ObligationSpec, a AnchorRef, required bool) {
	if a.IsZero() {
		if required {
			v.errorf(p, "e.g. aware, reportable, assessment_concluded or 'deadline of <obligation id>'", "is required")
		}
		return
	}
	if a.Event != EventDeadline {
		return
	}
	switch other, ok := r.Obligation(a.Of); {
	case !ok:
		v.errorf(p, "name another obligation of this regime by id", "unknown obligation %q", a.Of)
	case other.ID == o.ID:
		v.errorf(p, "an obligation cannot count from its own deadline", "refers to itself")
	}
}

func (v *validator) length(p string, l Length, c Counting) {
	switch {
	case c != Elapsed && c != "" && l.Unit != Days:
		v.errorf(p, "calendar-day counting needs a length in days", "%s is not in days", l)
	case c == AnchorDayIsDay1 && l.N < 1:
		v.errorf(p, "with anchor_day_is_day_1 the anchor day is day 1", "must be at least 1 day")
	}
}

// cycles reports obligations whose anchors ("deadline of ...", in any rule
// or fallback) refer to each other in a loop, which Evaluate could not order.
func (v *validator) cycles(r *Regime) {
	edges := func(o ObligationSpec) []string {
		var out []string
		for _, ru := range o.Rules {
			for _, a := range []*AnchorRef{&ru.Anchor, ru.IfUnknown} {
				if a != nil && a.Event == EventDeadline && a.Of != o.ID { // self-reference is reported by anchor
					out = append(out, a.Of)
				}
			}
		}
		return out
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case visiting:
			return true
		case done:
			return false
		}
		state[id] = visiting
		o, ok := r.Obligation(id)
		if ok {
			for _, next := range edges(o) {
				if visit(next) {
					return true
				}
			}
		}
		state[id] = done
		return false
	}
	for i, o := range r.Obligations {
		if state[o.ID] == unvisited && visit(o.ID) {
			v.errorf(fmt.Sprintf("obligations[%d].rules", i), "break the loop: one obligation must count from an event", "anchors refer to each other in a loop through %q", o.ID)
			return
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func names[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, x := range list {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
