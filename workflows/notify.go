package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/timefmt"
)

// Activities on their own structs (see activities.RoleMailer and
// activities.Recorder), referred to by method value like a.
var (
	roleMail *activities.RoleMailer
	recorder *activities.Recorder
	reader   *activities.WorkflowReader
)

// audienceSlack names the incident channel among the audiences a notice
// went to (the others are roles).
const audienceSlack = "slack"

// staffNotifier tells people about an incident: a reply in the incident
// message's thread, and an e-mail to every holder of the roles named (one
// recipient per message; addresses are resolved by the activity, never
// seen here).
type staffNotifier struct {
	incidentID string
	// thread returns the incident message, or nil when there is none
	// (declared without a Slack channel, or not posted yet).
	thread func() *activities.SlackMessageRef
	// inflight counts notices being sent; continue-as-new waits for them.
	inflight int
}

// notice is one message to the incident channel and to roles. Subject and
// text hold no personal data.
type staffNotice struct {
	summary string // what the activities show in the UI
	subject string
	text    string
	slack   bool
	roles   []string
}

// send delivers a notice and says to whom it went and how, for the record:
// ("slack: posted; legal: 2 sent; management: failed (NoRoleAddress)").
// It never fails: a delivery that cannot be made is recorded, not hidden.
func (n *staffNotifier) send(ctx workflow.Context, nt staffNotice) (to []string, outcome string) {
	n.inflight++
	defer func() { n.inflight-- }()
	type pending struct {
		name string
		fut  workflow.Future
	}
	var parts []string
	var waits []pending
	if nt.slack {
		to = append(to, audienceSlack)
		if ref := n.thread(); ref == nil {
			parts = append(parts, "slack: no incident message")
		} else {
			actx := workflow.WithActivityOptions(ctx, noticeOptions("Slack: "+nt.summary, 0))
			waits = append(waits, pending{audienceSlack, workflow.ExecuteActivity(actx, a.PostThreadReply,
				activities.ThreadReply{Ref: *ref, Text: nt.text})})
		}
	}
	var roles []string
	for _, r := range nt.roles {
		if r != "" && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	for _, r := range roles {
		to = append(to, r)
		actx := workflow.WithActivityOptions(ctx, noticeOptions("e-mail "+r+": "+nt.summary, time.Minute))
		waits = append(waits, pending{r, workflow.ExecuteActivity(actx, roleMail.EmailRole, activities.RoleMessage{
			IncidentID: n.incidentID, Role: r, Subject: nt.subject, Text: nt.text})})
	}
	for _, w := range waits {
		if w.name == audienceSlack {
			if err := w.fut.Get(ctx, nil); err != nil {
				parts = append(parts, "slack: failed ("+errorType(err)+")")
			} else {
				parts = append(parts, "slack: posted")
			}
			continue
		}
		var res activities.RoleMailResult
		switch err := w.fut.Get(ctx, &res); {
		case err != nil:
			parts = append(parts, w.name+": failed ("+errorType(err)+")")
		case res.Refused > 0:
			parts = append(parts, fmt.Sprintf("%s: %d sent, %d refused", w.name, res.Sent, res.Refused))
		default:
			parts = append(parts, fmt.Sprintf("%s: %d sent", w.name, res.Sent))
		}
	}
	return to, strings.Join(parts, "; ")
}

// noticeOptions retries a notice for up to half an hour, then gives up and
// lets the caller record the failure. heartbeat is 0 for activities that
// do not heartbeat.
func noticeOptions(summary string, heartbeat time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:       heartbeat,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
		},
	}
}

// crew is what the components of an incident (checklist, daily report,
// close) share: who to tell, the record, and how to show times.
type crew struct {
	incidentID string
	n          *staffNotifier
	loc        *time.Location
	// log adds an entry to the incident's timeline.
	log func(record.Entry)
	// changed tells the Incident that what it shows has changed.
	changed func()
}

func (sh *crew) touch() {
	if sh.changed != nil {
		sh.changed()
	}
}

// bilingual joins a Japanese and an English text.
func bilingual(ja, en string) string { return ja + "\n" + en }

// displayZone loads the zone messages show times in; Asia/Tokyo when the
// name is empty or unknown (a bad zone was refused when the runbook loaded).
func displayZone(name string) *time.Location {
	return timefmt.Zone(name)
}

// fmtAt formats an instant for people, in loc.
func fmtAt(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// fmtAtJa formats an instant for a Japanese sentence, in loc:
// 「2026年12月11日(金) 23:59」.
func fmtAtJa(t time.Time, loc *time.Location) string {
	if s := timefmt.At(t, loc, timefmt.Japanese); s != "" {
		return s
	}
	return "-"
}

// leftNote says how long until t, or how late, in words and in brackets
// (「（残り4日3時間）」, " (4 days 3 hours left)"); nothing for a deadline
// without a date.
func leftNote(now, t time.Time) (ja, en string) {
	l := timefmt.Left(now, t, timefmt.Japanese)
	if l == "" {
		return "", ""
	}
	return "（" + l + "）", " (" + timefmt.Left(now, t, timefmt.English) + ")"
}
