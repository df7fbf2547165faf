package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/runbooks"
)

// DailyReportCarry is the daily report's state handed over by
// continue-as-new.
type DailyReportCarry struct {
	// Last is the state at the last report sent; Yesterday the state at
	// the previous report time, sent or not (for day-over-day deltas).
	Last      *DailySnapshot `json:"last,omitempty"`
	Yesterday *DailySnapshot `json:"yesterday,omitempty"`
	Sent      int            `json:"sent"`
	// Stopped: the stop condition held with then_on_change_only false.
	Stopped bool `json:"stopped,omitempty"`
}

// DailySnapshot is what a daily report shows, at one instant.
type DailySnapshot struct {
	At          time.Time           `json:"at"`
	Recall      *RecallCounts       `json:"recall,omitempty"`
	Obligations []ObligationSummary `json:"obligations,omitempty"`
	Tasks       []TaskStatus        `json:"tasks,omitempty"`
	// Facts fingerprints the facts (a change is reported).
	Facts      string `json:"facts"`
	Prevention string `json:"prevention,omitempty"`
	// PreventionDue and PreventionSubmitted are the prevention report's
	// times, for the reader's language (Prevention is their English key).
	PreventionDue       time.Time `json:"prevention_due,omitzero"`
	PreventionSubmitted time.Time `json:"prevention_submitted,omitzero"`
}

// dailyReport sends the runbook's status report at its hour and zone (seed
// 000: 18:00 JST) in Japanese and English: counts with day-over-day
// deltas, obligations and deadlines, tasks open and done, and what changed
// since the last report; to the incident channel and by e-mail to the
// management role. To the affected audience (everyone whose data leaked)
// it goes as a Broadcast of its public version (no task titles or
// owners), through the approval gate of every notice (see
// noticeSet.dailyReport). It follows the stop condition: daily for
// MinDays days and until ConfirmedRatio of the wrong recipients are
// confirmed, then only on days something changed (or not at all).
type dailyReport struct {
	phase      runbooks.DailyReportPhase
	declaredAt time.Time
	title      func() string
	source     func() DailySnapshot
	// before runs just before each report (the obligations' drafts are
	// refreshed with the day's counts).
	before func(ctx workflow.Context)
	// affected sends the public report to everyone affected and returns
	// the outcome for the record.
	affected func(ctx workflow.Context, pub publicReport) string
	sh       *crew
	carry    *DailyReportCarry
	// lists are the incident's lists, which the staff report may quote
	// nobody on (nil: only the patterns are checked).
	lists func() []recipients.ListRef
}

func newDailyReport(phase runbooks.DailyReportPhase, declaredAt time.Time, carry *DailyReportCarry, sh *crew,
	title func() string, source func() DailySnapshot, before func(workflow.Context),
	affected func(workflow.Context, publicReport) string) *dailyReport {
	return &dailyReport{phase: phase, declaredAt: declaredAt, title: title, source: source, before: before, affected: affected, sh: sh, carry: carry}
}

// run reports at every report time until the stop condition ends the
// reports. Run it as a workflow.Go coroutine.
func (d *dailyReport) run(ctx workflow.Context) {
	for !d.carry.Stopped {
		now := workflow.Now(ctx)
		next, err := nextDaily(now, d.phase.At, d.phase.TimeZone)
		if err != nil {
			workflow.GetLogger(ctx).Error("daily report: no report time", "error", err)
			return
		}
		if err := workflow.NewTimerWithOptions(ctx, next.Sub(now), workflow.TimerOptions{
			Summary: fmt.Sprintf("daily report day %d at %s", d.day(next), fmtAt(next, d.sh.loc)),
		}).Get(ctx, nil); err != nil {
			return
		}
		d.tick(ctx, workflow.Now(ctx))
	}
}

// day is the report's day number: the declaration's day (in the report's
// zone) is day 1.
func (d *dailyReport) day(t time.Time) int {
	loc := displayZone(d.phase.TimeZone)
	y1, m1, d1 := d.declaredAt.In(loc).Date()
	y2, m2, d2 := t.In(loc).Date()
	a := time.Date(y1, m1, d1, 12, 0, 0, 0, time.UTC)
	b := time.Date(y2, m2, d2, 12, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours()/24) + 1
}

// hot reports whether reports are still daily: fewer than MinDays days
// since the declaration, or fewer than ConfirmedRatio of the wrong
// recipients confirmed.
func (d *dailyReport) hot(now time.Time, rc *RecallCounts) bool {
	if now.Sub(d.declaredAt) < time.Duration(d.phase.Stop.MinDays)*24*time.Hour {
		return true
	}
	if r := d.phase.Stop.ConfirmedRatio; r > 0 && rc != nil && rc.Total > 0 {
		return float64(rc.Confirmed) < r*float64(rc.Total)
	}
	return false
}

// tick is one report time: send the report, or record why not.
func (d *dailyReport) tick(ctx workflow.Context, now time.Time) {
	if d.before != nil {
		d.before(ctx)
	}
	snap := d.source()
	snap.At = now
	day := d.day(now)
	yesterday := d.carry.Yesterday
	d.carry.Yesterday = &snap
	changes := changesSince(d.carry.Last, snap)
	hot := d.hot(now, snap.Recall)
	switch {
	case hot:
	case !d.phase.Stop.ThenOnChangeOnly:
		d.carry.Stopped = true
		d.sh.log(record.Entry{At: now, Kind: record.KindDailyReportsEnded,
			Summary: fmt.Sprintf("day %d: the stop condition holds (%d days, %s); daily reports end", day, d.phase.Stop.MinDays, d.ratioText(snap.Recall))})
		return
	case len(changes) == 0:
		d.sh.log(record.Entry{At: now, Kind: record.KindDailyReportSkipped,
			Summary: fmt.Sprintf("day %d: nothing changed since the last report; reports now go out only when something changes", day)})
		return
	}
	ja, en := d.compose(day, snap, yesterday, changes)
	nt := staffNotice{summary: fmt.Sprintf("daily report day %d", day),
		subject: fmt.Sprintf("[%s] 日次報告 第%d日 / Daily report, day %d (%s)", d.sh.incidentID, day, day, fmtAt(now, d.sh.loc)),
		text:    ja + "\n\n" + en}
	toAffected := false
	for _, aud := range d.phase.Audiences {
		switch aud {
		case runbooks.AudienceSlack:
			nt.slack = true
		case runbooks.AudienceManagement:
			nt.roles = append(nt.roles, runbooks.AudienceManagement)
		case runbooks.AudienceAffected:
			toAffected = true
		}
	}
	withheld := ""
	if workflow.GetVersion(ctx, versionDailyReportChecked, workflow.DefaultVersion, 1) >= 1 {
		var lists []recipients.ListRef
		if d.lists != nil {
			lists = d.lists()
		}
		nt.text, withheld = checkedStaffText(ctx, d.sh.incidentID, "leak check of the daily report", nt.text, lists)
	}
	to, outcome := d.sh.n.send(ctx, nt)
	if withheld != "" {
		outcome += "; " + withheld
	}
	if toAffected {
		to = append(to, runbooks.AudienceAffected)
		out := "affected: not sent — no broadcast"
		if d.affected != nil {
			out = d.affected(ctx, d.composePublic(day, snap, yesterday, changes))
		}
		outcome = strings.TrimPrefix(outcome+"; "+out, "; ")
	}
	d.carry.Last = &snap
	d.carry.Sent++
	why := "daily"
	if !hot {
		why = "something changed"
	}
	d.sh.log(record.Entry{At: now, Kind: record.KindDailyReport, To: to, Outcome: outcome,
		Summary: fmt.Sprintf("day %d report #%d (%s): %d changes since the last report", day, d.carry.Sent, why, len(changes))})
}

func (d *dailyReport) ratioText(rc *RecallCounts) string {
	if rc == nil || rc.Total == 0 {
		return "no recall"
	}
	return fmt.Sprintf("%d of %d confirmed", rc.Confirmed, rc.Total)
}

// change is one difference since the last report, in both languages.
// The report to the affected lists public ones, counts done tasks, and
// leaves the others (obligation workflow states) to the staff.
type reportChange struct {
	ja, en string
	kind   changeKind
}

type changeKind int

const (
	changePublic changeKind = iota
	changeTask              // a containment task done: its title is internal
	changeStaff             // an obligation's internal state
)

// changesSince lists what differs between the last report and now; with
// no last report, everything is new (one change).
func changesSince(last *DailySnapshot, now DailySnapshot) []reportChange {
	if last == nil {
		return []reportChange{{ja: "初回の報告", en: "first report"}}
	}
	var out []reportChange
	if last.Facts != now.Facts {
		out = append(out, reportChange{ja: "事実関係が更新されました", en: "the facts were updated"})
	}
	if now.Recall != nil {
		var prev RecallCounts
		if last.Recall != nil {
			prev = *last.Recall
		}
		for _, c := range recallLines(*now.Recall, prev) {
			if c.delta != 0 {
				out = append(out, reportChange{ja: fmt.Sprintf("%s %s", c.ja, signedDelta(c.delta)), en: fmt.Sprintf("%s %s", c.en, signedDelta(c.delta))})
			}
		}
	}
	for _, ob := range now.Obligations {
		i := slices.IndexFunc(last.Obligations, func(p ObligationSummary) bool { return p.ObligationID == ob.ObligationID })
		switch {
		case i < 0:
			out = append(out, reportChange{ja: fmt.Sprintf("%s: 新たな法的義務", ob.ObligationID), en: fmt.Sprintf("%s: new legal obligation", ob.ObligationID), kind: changeStaff})
		case last.Obligations[i].State != ob.State:
			c := reportChange{ja: fmt.Sprintf("%s: %s → %s", ob.ObligationID, stateJa(last.Obligations[i].State), stateJa(ob.State)),
				en: fmt.Sprintf("%s: %s → %s", ob.ObligationID, last.Obligations[i].State, ob.State), kind: changeStaff}
			if ob.State == ObligationFiled {
				c.kind = changePublic
			}
			out = append(out, c)
		case !last.Obligations[i].Due.Equal(ob.Due):
			out = append(out, reportChange{ja: fmt.Sprintf("%s: 期限変更", ob.ObligationID), en: fmt.Sprintf("%s: deadline moved", ob.ObligationID), kind: changeStaff})
		}
	}
	for _, t := range now.Tasks {
		i := slices.IndexFunc(last.Tasks, func(p TaskStatus) bool { return p.ID == t.ID })
		if t.Done && (i < 0 || !last.Tasks[i].Done) {
			out = append(out, reportChange{"タスク完了: " + t.Title.Ja, "task done: " + t.Title.En, changeTask})
		}
	}
	if last.Prevention != now.Prevention {
		out = append(out, reportChange{ja: "再発防止策の報告: " + now.Prevention, en: "prevention report: " + now.Prevention})
	}
	return out
}

// recallLine is one recall count and its change.
type recallLine struct {
	ja, en string
	n      int
	delta  int
}

func recallLines(c, prev RecallCounts) []recallLine {
	return []recallLine{
		{"依頼済み", "asked", c.Requested, c.Requested - prev.Requested},
		{"電話で削除確認", "confirmed by phone", c.PhoneConfirmed, c.PhoneConfirmed - prev.PhoneConfirmed},
		{"メールで削除確認", "confirmed by e-mail", c.EmailConfirmed, c.EmailConfirmed - prev.EmailConfirmed},
		{"確認完了", "confirmed", c.Confirmed, c.Confirmed - prev.Confirmed},
		{"連絡がつかない方", "unreachable", c.Unreachable, c.Unreachable - prev.Unreachable},
		{"個別対応で完了", "closed by an operator", c.ClosedByOperator, c.ClosedByOperator - prev.ClosedByOperator},
	}
}

func signedDelta(n int) string {
	if n >= 0 {
		return fmt.Sprintf("+%d", n)
	}
	return fmt.Sprintf("%d", n)
}

func stateJa(s ObligationState) string {
	switch s {
	case ObligationPending:
		return "未着手"
	case ObligationDrafted:
		return "下書き済み"
	case ObligationOverdue:
		return "期限超過"
	case ObligationFiled:
		return "提出済み"
	case ObligationNotRequired:
		return "不要と決定"
	}
	return string(s)
}

// preventionJa says where the prevention report stands, in Japanese.
func (d *dailyReport) preventionJa(s DailySnapshot) string {
	switch {
	case !s.PreventionSubmitted.IsZero():
		return "提出済み（" + fmtAtJa(s.PreventionSubmitted, d.sh.loc) + "）"
	case !s.PreventionDue.IsZero():
		return "期限 " + fmtAtJa(s.PreventionDue, d.sh.loc)
	}
	return s.Prevention // carried from before the times were kept
}

// compose writes the report in Japanese and in English.
func (d *dailyReport) compose(day int, s DailySnapshot, yesterday *DailySnapshot, changes []reportChange) (ja, en string) {
	var j, e strings.Builder
	at := fmtAt(s.At, d.sh.loc)
	fmt.Fprintf(&j, "【日次報告】%s %s — 第%d日（%s 時点）\n", d.sh.incidentID, d.title(), day, fmtAtJa(s.At, d.sh.loc))
	fmt.Fprintf(&e, "[Daily report] %s %s — day %d (as of %s)\n", d.sh.incidentID, d.title(), day, at)
	writeRecallSection(&j, &e, s, yesterday, "\n■ 誤送信先への削除依頼（%d名、前日比）\n")
	if len(s.Obligations) > 0 {
		j.WriteString("\n■ 法定報告・通知\n")
		e.WriteString("\nLegal reports and notices\n")
		for _, ob := range s.Obligations {
			due, dueEn := "速やかに", "promptly"
			if !ob.Due.IsZero() {
				leftJa, leftEn := leftNote(s.At, ob.Due)
				due = fmt.Sprintf("期限 %s%s", fmtAtJa(ob.Due, d.sh.loc), leftJa)
				dueEn = fmt.Sprintf("due %s%s", fmtAt(ob.Due, d.sh.loc), leftEn)
			}
			if !ob.FiledAt.IsZero() {
				due, dueEn = "提出 "+fmtAtJa(ob.FiledAt, d.sh.loc), "filed "+fmtAt(ob.FiledAt, d.sh.loc)
			}
			fmt.Fprintf(&j, "・%s %s → %s: %s、%s\n", ob.ObligationID, ob.Title, ob.Audience, stateJa(ob.State), due)
			fmt.Fprintf(&e, "- %s %s → %s: %s, %s\n", ob.ObligationID, ob.Title, ob.Audience, ob.State, dueEn)
		}
	}
	if len(s.Tasks) > 0 {
		done := 0
		for _, t := range s.Tasks {
			if t.Done {
				done++
			}
		}
		fmt.Fprintf(&j, "\n■ 初動対応タスク: 完了 %d / %d\n", done, len(s.Tasks))
		fmt.Fprintf(&e, "\nContainment tasks: %d of %d done\n", done, len(s.Tasks))
		for _, t := range s.Tasks {
			if !t.Done {
				fmt.Fprintf(&j, "・未完了: %s（担当 %s、期限 %s）\n", t.Title.Ja, t.Owner, fmtAtJa(t.Due, d.sh.loc))
				fmt.Fprintf(&e, "- open: %s (owner %s, due %s)\n", t.Title.En, t.Owner, fmtAt(t.Due, d.sh.loc))
			}
		}
	}
	if s.Prevention != "" {
		fmt.Fprintf(&j, "\n■ 原因分析・再発防止策の報告: %s\n", d.preventionJa(s))
		fmt.Fprintf(&e, "\nRoot-cause and prevention report: %s\n", s.Prevention)
	}
	j.WriteString("\n■ 前回の報告からの変化\n")
	e.WriteString("\nChanges since the last report\n")
	if len(changes) == 0 {
		j.WriteString("・変化なし\n")
		e.WriteString("- none\n")
	}
	for _, c := range changes {
		fmt.Fprintf(&j, "・%s\n", c.ja)
		fmt.Fprintf(&e, "- %s\n", c.en)
	}
	return j.String(), e.String()
}

// composePublic writes the report for everyone affected: the recall's
// counts, the reports to the authorities, how many containment measures
// are done, the prevention report and what changed, in Japanese and in
// English. No task titles or owners, no names: counts and states only.
// The desk's contacts are added by the broadcast's template.
func (d *dailyReport) composePublic(day int, s DailySnapshot, yesterday *DailySnapshot, changes []reportChange) publicReport {
	at := fmtAt(s.At, d.sh.loc)
	title := d.title()
	var j, e strings.Builder
	fmt.Fprintf(&j, "%s について、%s 時点の対応状況をご報告いたします（第%d日）。\n", title, fmtAtJa(s.At, d.sh.loc), day)
	fmt.Fprintf(&e, "This is where our response to %s stands as of %s (day %d).\n", title, at, day)
	writeRecallSection(&j, &e, s, yesterday, "\n■ 誤って送付した先（%d件）への削除のお願い（前日比）\n")
	if len(s.Obligations) > 0 {
		j.WriteString("\n■ 監督官庁等への報告\n")
		e.WriteString("\nReports to the authorities\n")
		for _, ob := range s.Obligations {
			state, stateEn := "準備中", "in preparation"
			switch {
			case !ob.FiledAt.IsZero():
				state, stateEn = "提出済み（"+fmtAtJa(ob.FiledAt, d.sh.loc)+"）", "filed "+fmtAt(ob.FiledAt, d.sh.loc)
			case ob.State == ObligationNotRequired:
				state, stateEn = "不要と判断", "decided not required"
			}
			fmt.Fprintf(&j, "・%s（%s）: %s\n", ob.Title, ob.Audience, state)
			fmt.Fprintf(&e, "- %s (%s): %s\n", ob.Title, ob.Audience, stateEn)
		}
	}
	if len(s.Tasks) > 0 {
		done := 0
		for _, t := range s.Tasks {
			if t.Done {
				done++
			}
		}
		fmt.Fprintf(&j, "\n■ 被害拡大防止の措置: %d 件中 %d 件完了\n", len(s.Tasks), done)
		fmt.Fprintf(&e, "\nMeasures to stop the harm spreading: %d of %d done\n", done, len(s.Tasks))
	}
	if s.Prevention != "" {
		fmt.Fprintf(&j, "\n■ 原因分析・再発防止策の報告: %s\n", d.preventionJa(s))
		fmt.Fprintf(&e, "\nRoot-cause and prevention report: %s\n", s.Prevention)
	}
	j.WriteString("\n■ 前回のご報告からの変化\n")
	e.WriteString("\nChanges since our last report\n")
	tasksDone, listed := 0, 0
	for _, c := range changes {
		switch c.kind {
		case changeTask:
			tasksDone++
			continue
		case changeStaff:
			continue
		}
		fmt.Fprintf(&j, "・%s\n", c.ja)
		fmt.Fprintf(&e, "- %s\n", c.en)
		listed++
	}
	if tasksDone > 0 {
		fmt.Fprintf(&j, "・措置の完了 +%d\n", tasksDone)
		fmt.Fprintf(&e, "- measures done +%d\n", tasksDone)
		listed++
	}
	if listed == 0 {
		j.WriteString("・変化なし\n")
		e.WriteString("- none\n")
	}
	return publicReport{Day: day,
		SubjectJa: fmt.Sprintf("%s に関するご報告（第%d日）", title, day),
		SubjectEn: fmt.Sprintf("Status report: %s (day %d)", title, day),
		Ja:        j.String(), En: e.String()}
}

// writeRecallSection writes the recall's counts with their day-over-day
// deltas, in Japanese under headingJa (a format taking the total) and in
// English; nothing when the incident has no recall.
func writeRecallSection(j, e *strings.Builder, s DailySnapshot, yesterday *DailySnapshot, headingJa string) {
	if s.Recall == nil || s.Recall.Total == 0 {
		return
	}
	var prev RecallCounts
	if yesterday != nil && yesterday.Recall != nil {
		prev = *yesterday.Recall
	}
	fmt.Fprintf(j, headingJa, s.Recall.Total)
	fmt.Fprintf(e, "\nDeletion requests to the %d wrong recipients (vs yesterday)\n", s.Recall.Total)
	for _, l := range recallLines(*s.Recall, prev) {
		fmt.Fprintf(j, "・%s %d（%s）\n", l.ja, l.n, signedDelta(l.delta))
		fmt.Fprintf(e, "- %s %d (%s)\n", l.en, l.n, signedDelta(l.delta))
	}
}
