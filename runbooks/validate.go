package runbooks

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/yamldoc"
)

var (
	// slugRe matches runbook IDs, task IDs and role names: lower-case
	// words joined by hyphens ("missend", "security-lead").
	slugRe = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	// regimeRe matches regime IDs such as JP-APPI or EU-GDPR.
	regimeRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)
)

// maxSlug bounds IDs and role names; they end up in workflow IDs and
// search attributes.
const maxSlug = 64

// validator collects semantic problems of a decoded runbook.
type validator struct {
	doc   *yamldoc.Doc
	diags yamldoc.Diagnostics
	// reported holds field paths that already have a problem (a decoding
	// error or a missing key); checks on them or below them are skipped so
	// each mistake is reported once.
	reported []string
}

// validate checks a runbook decoded from doc. decoded are the decoder's own
// diagnostics; when the document could not be read as a mapping at all
// there is nothing to check.
func validate(doc *yamldoc.Doc, rb *Runbook, decoded yamldoc.Diagnostics) yamldoc.Diagnostics {
	if !doc.Has("") {
		return nil
	}
	v := &validator{doc: doc}
	for _, d := range decoded {
		if d.Field == "" {
			return nil
		}
		v.reported = append(v.reported, d.Field)
	}
	v.required(reflect.ValueOf(rb).Elem(), "")
	v.runbook(rb)
	return v.diags
}

func (v *validator) suppressed(path string) bool {
	for _, r := range v.reported {
		if path == r || strings.HasPrefix(path, r+".") || strings.HasPrefix(path, r+"[") {
			return true
		}
	}
	return false
}

// errorf reports a problem at a field path unless that field already has one.
func (v *validator) errorf(path, hint, format string, args ...any) {
	if v.suppressed(path) {
		return
	}
	v.diags = append(v.diags, v.doc.Errorf(path, hint, format, args...))
}

// report is errorf that also marks the path as reported, so checks of the
// field's value do not pile up on the same mistake.
func (v *validator) report(path, hint, format string, args ...any) {
	v.errorf(path, hint, format, args...)
	v.reported = append(v.reported, path)
}

// yamlKey returns a struct field's YAML key and whether it is optional
// (tagged omitempty). Fields without omitempty are required.
func yamlKey(f reflect.StructField) (name string, optional bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, slices.Contains(strings.Split(opts, ","), "omitempty")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// required reports every required key missing from a block that is
// present, and every block written but left empty ("recall:" with
// nothing under it).
func (v *validator) required(val reflect.Value, path string) {
	switch val.Kind() {
	case reflect.Pointer:
		if !val.IsNil() {
			v.required(val.Elem(), path)
		}
	case reflect.Struct:
		t := val.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, optional := yamlKey(f)
			fp := join(path, name)
			if !v.doc.Has(fp) {
				if !optional {
					v.report(fp, missingHint(path, name), "missing")
				}
				continue
			}
			fv := val.Field(i)
			if fv.Kind() == reflect.Pointer && fv.IsNil() {
				v.report(fp, "fill it in, or remove the key", "empty")
				continue
			}
			v.required(fv, fp)
		}
	case reflect.Slice:
		for i := range val.Len() {
			v.required(val.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func missingHint(parent, key string) string {
	switch key {
	case "kind":
		return "start the file with 'kind: runbook'"
	case "id":
		if parent == "" {
			return "add 'id:' with a lower-case slug, e.g. id: missend"
		}
	case "version":
		return "add 'version: 1'"
	case "phases":
		return "add 'phases:' with at least one phase; see docs/runbooks.md"
	}
	if parent == "" {
		return fmt.Sprintf("add '%s:' at the top level", key)
	}
	return fmt.Sprintf("add '%s:' to this block", key)
}

func (v *validator) runbook(rb *Runbook) {
	switch rb.Kind {
	case KindRunbook:
	case "regime":
		v.errorf("kind", "load it as a regime, or start a runbook with 'kind: runbook'", "this is a regime file, not a runbook")
	default:
		v.errorf("kind", "runbook files start with 'kind: runbook'", "must be %q, not %q", KindRunbook, rb.Kind)
	}
	v.slug("id", rb.ID, "missend")
	if rb.Version < 1 {
		v.errorf("version", "start at 1 and raise it with every change", "must be 1 or more, not %d", rb.Version)
	}
	v.text("title", rb.Title)
	if v.doc.Has("description") {
		v.text("description", rb.Description)
	}
	v.regimes("regimes", rb.Regimes)

	ph := &rb.Phases
	present := 0
	for _, key := range phaseKeys() {
		if v.doc.Has("phases." + key) {
			present++
		}
	}
	if present == 0 {
		v.errorf("phases", "add at least one of "+strings.Join(phaseKeys(), ", "), "no phase: the runbook would do nothing")
	}
	if ph.Contain != nil {
		v.contain("phases.contain", ph.Contain)
	}
	if ph.Obligations != nil {
		v.obligations("phases.obligations", ph.Obligations, rb.Regimes)
	}
	if ph.Recall != nil {
		v.recall("phases.recall", ph.Recall)
	}
	if ph.Broadcast != nil {
		v.broadcast("phases.broadcast", ph.Broadcast)
	}
	if ph.DailyReport != nil {
		v.dailyReport("phases.daily_report", ph.DailyReport, ph.Recall != nil)
	}
	if ph.BrokerDemands != nil {
		v.positive("phases.broker_demands.response_window", ph.BrokerDemands.ResponseWindow, "how long brokers have to answer, e.g. 2w")
	}
	if ph.Close != nil {
		v.positive("phases.close.prevention_report_due", ph.Close.PreventionReportDue, "when the prevention report is due after the declaration, e.g. 60d")
	}
}

// phaseKeys returns the YAML keys of Phases in declaration order.
func phaseKeys() []string {
	t := reflect.TypeFor[Phases]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _ := yamlKey(t.Field(i))
		keys = append(keys, name)
	}
	return keys
}

// slug checks a lower-case slug such as a runbook or task ID.
func (v *validator) slug(path, s, example string) {
	switch {
	case s == "":
		v.errorf(path, "write a lower-case slug, e.g. "+example, "must not be empty")
	case len(s) > maxSlug || !slugRe.MatchString(s):
		v.errorf(path, "use lower-case letters, digits and single hyphens, starting with a letter, at most 64 characters, e.g. "+example, "%q is not a lower-case slug", s)
	}
}

// text checks that both languages of a text are written.
func (v *validator) text(path string, l Localized) {
	if strings.TrimSpace(l.Ja) == "" {
		v.errorf(path+".ja", "write the Japanese text", "must not be empty")
	}
	if strings.TrimSpace(l.En) == "" {
		v.errorf(path+".en", "write the English text", "must not be empty")
	}
}

// role checks one role name.
func (v *validator) role(path, role string) {
	switch {
	case role == "":
		v.errorf(path, "name a role, e.g. security-lead", "must not be empty")
	case len(role) > maxSlug || !slugRe.MatchString(role):
		v.errorf(path, "roles are lower-case slugs such as security-lead or legal", "%q is not a role name", role)
	}
}

// roles checks a list of role names: at least min, each valid, no repeats.
func (v *validator) roles(path string, roles []string, min int) {
	if len(roles) < min {
		v.errorf(path, "list at least one role, e.g. [security-lead]", "no role")
	}
	seen := map[string]bool{}
	for i, r := range roles {
		p := fmt.Sprintf("%s[%d]", path, i)
		v.role(p, r)
		if seen[r] {
			v.errorf(p, "remove the duplicate", "%q is listed twice", r)
		}
		seen[r] = true
	}
}

func (v *validator) regimes(path string, ids []string) {
	seen := map[string]bool{}
	for i, id := range ids {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !regimeRe.MatchString(id):
			v.errorf(p, "regime IDs are upper-case words joined by hyphens, e.g. JP-APPI", "%q is not a regime ID", id)
		case seen[id]:
			v.errorf(p, "remove the duplicate", "%q is listed twice", id)
		}
		seen[id] = true
	}
}

// positive checks that a duration is longer than 0.
func (v *validator) positive(path string, d Duration, what string) {
	if d <= 0 {
		v.errorf(path, "write "+what, "must be longer than 0")
	}
}

// zone checks an IANA time zone name.
func (v *validator) zone(path, name string) {
	if name == "" {
		v.errorf(path, "write an IANA time zone, e.g. Asia/Tokyo", "must not be empty")
		return
	}
	if name == "Local" {
		v.errorf(path, "name the zone, e.g. Asia/Tokyo: 'Local' differs from machine to machine", "%q is not allowed", name)
		return
	}
	if _, err := time.LoadLocation(name); err != nil {
		v.errorf(path, "write an IANA time zone, e.g. Asia/Tokyo, Europe/Berlin or UTC", "unknown time zone %q", name)
	}
}

func (v *validator) contain(p string, c *ContainPhase) {
	if len(c.Tasks) == 0 {
		v.errorf(p+".tasks", "add at least one task with id, title, owner and due", "no task")
	}
	first := map[string]int{}
	for i, t := range c.Tasks {
		tp := fmt.Sprintf("%s.tasks[%d]", p, i)
		v.task(tp, t)
		if t.ID == "" {
			continue
		}
		if j, dup := first[t.ID]; dup {
			line, _ := v.doc.At(fmt.Sprintf("%s.tasks[%d].id", p, j))
			v.errorf(tp+".id", "give each task its own id", "task id %q is already used on line %d", t.ID, line)
			continue
		}
		first[t.ID] = i
	}
}

func (v *validator) task(tp string, t Task) {
	v.slug(tp+".id", t.ID, "cut-server-access")
	v.text(tp+".title", t.Title)
	v.role(tp+".owner", t.Owner)
	v.positive(tp+".due", t.Due, "how long after the declaration the task is due, e.g. 1d")
	for j, r := range t.Reminders {
		rp := fmt.Sprintf("%s.reminders[%d]", tp, j)
		switch {
		case r <= 0:
			v.errorf(rp, "reminders are offsets from the declaration, e.g. 4h", "must be longer than 0")
		case t.Due > 0 && r >= t.Due:
			v.errorf(rp, "remind before the task is due; use escalate_at for later", "reminder at %s is not before the due time %s", r, t.Due)
		case j > 0 && r <= t.Reminders[j-1]:
			v.errorf(rp, "list reminders from the earliest to the latest", "reminder at %s does not come after %s", r, t.Reminders[j-1])
		}
	}
	hasAt, hasTo := v.doc.Has(tp+".escalate_at"), v.doc.Has(tp+".escalate_to")
	if hasAt {
		v.positive(tp+".escalate_at", t.EscalateAt, "when to escalate after the declaration, e.g. the due time")
		if !hasTo {
			v.errorf(tp+".escalate_to", "name the role to escalate to, e.g. management", "missing: escalate_at needs someone to escalate to")
		}
	}
	if hasTo {
		v.role(tp+".escalate_to", t.EscalateTo)
		if !hasAt {
			v.errorf(tp+".escalate_at", "add escalate_at, e.g. the due time", "missing: escalate_to needs a time to escalate at")
		}
	}
}

func (v *validator) obligations(p string, o *ObligationsPhase, runbookRegimes []string) {
	v.roles(p+".notify", o.Notify, 1)
	v.roles(p+".escalate", o.Escalate, 0)
	v.regimes(p+".regimes", o.Regimes)
	if len(o.Regimes) == 0 && len(runbookRegimes) == 0 {
		v.errorf(p, "list regimes at the top (regimes: [JP-APPI]) or in phases.obligations.regimes", "no regime to follow")
	}
}

func (v *validator) recall(p string, r *RecallPhase) {
	if len(r.Request) == 0 {
		v.errorf(p+".request", "list channels, e.g. [email, voice]", "no channel")
	}
	requested := map[Channel]bool{}
	for i, c := range r.Request {
		cp := fmt.Sprintf("%s.request[%d]", p, i)
		switch {
		case !slices.Contains(Channels(), c):
			v.errorf(cp, "use email, voice or sms", "unknown channel %q", c)
		case requested[c]:
			v.errorf(cp, "remove the duplicate", "channel %q is listed twice", c)
		}
		requested[c] = true
	}

	if len(r.Confirm) == 0 {
		v.errorf(p+".confirm", "list confirmations, e.g. [phone, email]", "no confirmation")
	}
	confirmed := map[Confirmation]bool{}
	for i, c := range r.Confirm {
		cp := fmt.Sprintf("%s.confirm[%d]", p, i)
		switch {
		case !slices.Contains(Confirmations(), c):
			v.errorf(cp, "use email or phone", "unknown confirmation %q", c)
		case confirmed[c]:
			v.errorf(cp, "remove the duplicate", "confirmation %q is listed twice", c)
		case c == ConfirmEmail && !requested[ChannelEmail] && !requested[ChannelSMS]:
			// The confirmation link travels by e-mail or SMS. A phone
			// confirmation needs no channel: without voice, operators
			// call and record the answer.
			v.errorf(cp, "add email (or sms) to request, or remove email from confirm", "email confirmation needs a channel that carries the confirmation link")
		}
		confirmed[c] = true
	}

	for _, c := range Channels() {
		sp := join(p+".retry", string(c))
		s := r.Retry.For(c)
		switch {
		case s == nil && requested[c]:
			v.errorf(sp, fmt.Sprintf("add retry.%s with intervals and max_attempts", c), "no retry schedule for channel %q", c)
		case s != nil && !requested[c]:
			v.errorf(sp, fmt.Sprintf("remove it, or add %s to request", c), "retry schedule for %q, which is not a request channel", c)
		case s != nil:
			v.retry(sp, s)
		}
	}

	if v.doc.Has(p + ".calling_hours") {
		v.callingHours(p+".calling_hours", r.CallingHours)
	} else if r.NeedsCallingHours() {
		v.errorf(p+".calling_hours", `add calling_hours: {start: "09:00", end: "20:00", time_zone: Asia/Tokyo}`, "missing: voice and sms need calling hours")
	}

	if r.Concurrency < 0 || r.Concurrency > MaxConcurrency {
		v.errorf(p+".concurrency", fmt.Sprintf("use 1 to %d, or leave it out for %d", MaxConcurrency, DefaultConcurrency), "%d is out of range", r.Concurrency)
	}

	if r.Message != nil {
		v.text(p+".message.received", r.Message.Received)
		v.text(p+".message.delete", r.Message.Delete)
	}

	up := p + ".unreachable"
	v.text(up+".title", r.Unreachable.Title)
	v.role(up+".owner", r.Unreachable.Owner)
	v.positive(up+".reminder", r.Unreachable.Reminder, "how often the owner is reminded, e.g. 1d")
}

func (v *validator) retry(p string, s *RetrySchedule) {
	if len(s.Intervals) == 0 {
		v.errorf(p+".intervals", "list the waits between attempts, e.g. [2h, 1d]; the last one repeats", "no interval")
	}
	for i, d := range s.Intervals {
		v.positive(fmt.Sprintf("%s.intervals[%d]", p, i), d, "a wait such as 2h")
	}
	if s.MaxAttempts < 1 {
		v.errorf(p+".max_attempts", "allow at least 1 attempt", "must be 1 or more, not %d", s.MaxAttempts)
	}
}

func (v *validator) callingHours(p string, h CallingHours) {
	if h.Start >= h.End {
		v.errorf(p+".end", "end after start on the same day, e.g. 09:00 to 20:00", "calling hours end at %s, not after they start at %s", h.End, h.Start)
	}
	v.zone(p+".time_zone", h.TimeZone)
}

func (v *validator) dailyReport(p string, d *DailyReportPhase, hasRecall bool) {
	if d.At >= 24*60 {
		v.errorf(p+".at", "use 00:00 for midnight", "%s is not a time of day", d.At)
	}
	v.zone(p+".time_zone", d.TimeZone)
	if len(d.Audiences) == 0 {
		v.errorf(p+".audiences", "list audiences, e.g. [affected, management, slack]", "no audience")
	}
	seen := map[string]bool{}
	for i, a := range d.Audiences {
		ap := fmt.Sprintf("%s.audiences[%d]", p, i)
		switch {
		case !slices.Contains(Audiences(), a):
			v.errorf(ap, "use "+strings.Join(Audiences(), ", "), "unknown audience %q", a)
		case seen[a]:
			v.errorf(ap, "remove the duplicate", "audience %q is listed twice", a)
		}
		seen[a] = true
	}
	sp := p + ".stop"
	s := d.Stop
	if s.MinDays < 0 {
		v.errorf(sp+".min_days", "write 0 or more days", "must be 0 or more, not %d", s.MinDays)
	}
	switch r := s.ConfirmedRatio; {
	case math.IsNaN(r) || r < 0 || r > 1:
		v.errorf(sp+".confirmed_ratio", "write a share between 0 and 1, e.g. 0.98 for 98% of wrong recipients confirmed", "must be between 0 and 1, not %v", r)
	case r > 0 && !hasRecall:
		v.errorf(sp+".confirmed_ratio", "set it to 0, or add a recall phase", "counts confirmed wrong recipients, but the runbook has no recall phase")
	}
	if s.MinDays == 0 && s.ConfirmedRatio == 0 && !s.ThenOnChangeOnly {
		v.errorf(sp, "set min_days (e.g. 7), confirmed_ratio (e.g. 0.98) or then_on_change_only: true", "holds from the start: no report would ever be sent")
	}
}

func (v *validator) broadcast(p string, b *BroadcastPhase) {
	if b.Quorum < 1 {
		v.errorf(p+".quorum", "require at least 1 approval; 2 or more keeps a second pair of eyes on a mass mailing", "must be 1 or more, not %d", b.Quorum)
	}
	v.roles(p+".approvers", b.Approvers, 0)
	if b.BatchSize < 0 || b.BatchSize > MaxBatchSize {
		v.errorf(p+".batch_size", fmt.Sprintf("use 1 to %d, or leave it out for %d", MaxBatchSize, DefaultBatchSize), "%d is out of range", b.BatchSize)
	}
	tp := p + ".template"
	for _, part := range []struct {
		key     string
		text    Localized
		oneLine bool
	}{{"subject", b.Template.Subject, true}, {"body", b.Template.Body, false}} {
		for _, lang := range []string{"ja", "en"} {
			path := tp + "." + part.key + "." + lang
			text := part.text.In(lang)
			if strings.TrimSpace(text) == "" {
				v.errorf(path, "write the "+map[string]string{"ja": "Japanese", "en": "English"}[lang]+" text", "must not be empty")
				continue
			}
			if part.oneLine && strings.ContainsAny(text, "\r\n") {
				v.errorf(path, "keep the subject on one line", "a subject must not contain a line break")
			}
			if _, err := checkTemplate(part.key+"."+lang, text); err != nil {
				v.errorf(path, "write Go text/template; see Templates in docs/runbooks.md", "%v", err)
			}
		}
	}
}
