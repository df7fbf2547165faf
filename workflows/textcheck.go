package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
)

// versionFactsChecked: a facts change whose title, what leaked or subject
// quotes personal data (a pattern, or anyone on the incident's lists) is
// refused, as it is at the declaration. Before it, a change was applied
// unchecked.
const versionFactsChecked = "facts-typed-checked"

// versionDailyReportChecked: the staff daily report passes the leak check
// before it goes to the channel and by e-mail; a line that fails is
// withheld. Before it, the report went unchecked (its public version to
// the affected always went through a Broadcast's check).
const versionDailyReportChecked = "daily-report-checked"

// checkText runs the leak check (activities.Notices.CheckText) on texts
// that go to people, against the incident's lists, on the e-mail task
// queue where the lists are.
func checkText(ctx workflow.Context, incidentID, summary string, parts []contentscan.Part, lists []recipients.ListRef) ([]contentscan.Finding, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           MailTaskQueue(workflow.GetInfo(ctx).TaskQueueName),
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: time.Minute, Summary: summary,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var res activities.TextCheckResult
	err := workflow.ExecuteActivity(actx, noticeActs.CheckText, activities.TextCheck{IncidentID: incidentID, Parts: parts, Lists: lists}).Get(ctx, &res)
	return res.Findings, err
}

// typedFacts are the facts a person types that go into messages to
// people, as the parts the check names.
func typedFacts(f Facts) []contentscan.Part {
	return []contentscan.Part{{Name: "title", Text: f.Title}, {Name: "what leaked", Text: f.WhatLeaked}, {Name: "sent subject", Text: f.SentSubject}}
}

// checkFactsChange refuses a change whose new typed facts quote personal
// data; the unchanged ones were checked before.
func (r *response) checkFactsChange(ctx workflow.Context, old, next Facts) error {
	var changed []contentscan.Part
	before := typedFacts(old)
	for k, p := range typedFacts(next) {
		if strings.TrimSpace(p.Text) != "" && p.Text != before[k].Text {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	found, err := checkText(ctx, r.in.IncidentID, "leak check of the changed facts", changed, r.notices.otherLists())
	if err != nil {
		// Fail closed: what could not be checked is not applied.
		return fmt.Errorf("the changed facts could not be checked for personal data, so nothing changed; try again: %w", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("refused: the new facts go into messages to people and hold personal data (%s); rewrite them without names, addresses or numbers. Nothing changed", describeFindings(found))
	}
	return nil
}

// describeFindings lists findings as "title 1:5 person-name", never what
// was found.
func describeFindings(fs []contentscan.Finding) string {
	var out []string
	for _, f := range fs {
		s := fmt.Sprintf("%s %d:%d %s", f.Part, max(f.Line, 1), max(f.Col, 1), f.Rule)
		if f.Line == 0 {
			s = fmt.Sprintf("%s: %s", f.Part, f.Detail)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}

// withheldLine replaces a line of a staff text that failed the leak check.
const withheldLine = "（この行は個人情報を含むおそれがあるため、送信を控えました / This line was withheld: it may hold personal data.）"

// withholdLines replaces the lines of text that findings in part point at;
// it reports how many it replaced (0: the findings name no line of it).
func withholdLines(text, part string, fs []contentscan.Finding) (string, int) {
	lines := strings.Split(text, "\n")
	n := 0
	for _, f := range fs {
		if f.Part != part || f.Line < 1 || f.Line > len(lines) || lines[f.Line-1] == withheldLine {
			continue
		}
		lines[f.Line-1] = withheldLine
		n++
	}
	return strings.Join(lines, "\n"), n
}

// checkedStaffText passes a staff text through the leak check, withholding
// the lines that fail until it passes (a value found twice is reported at
// its first place, so a second pass finds the next). A text that cannot
// be checked, or whose findings name no line, is withheld whole. It says
// what was withheld, for the record ("" when nothing was).
func checkedStaffText(ctx workflow.Context, incidentID, summary, text string, lists []recipients.ListRef) (string, string) {
	withheld := 0
	for range 5 {
		found, err := checkText(ctx, incidentID, summary, []contentscan.Part{{Name: "text", Text: text}}, lists)
		if err != nil {
			return withheldLine, "withheld whole: the leak check failed"
		}
		if len(found) == 0 {
			if withheld == 0 {
				return text, ""
			}
			return text, fmt.Sprintf("%d lines withheld by the leak check", withheld)
		}
		var n int
		text, n = withholdLines(text, "text", found)
		if n == 0 {
			return withheldLine, "withheld whole: " + describeFindings(found)
		}
		withheld += n
	}
	return withheldLine, "withheld whole: the leak check kept finding personal data"
}
