package record

import (
	"fmt"
	"strings"
	"time"
)

// Markdown is the record as a report for people: a summary, the facts,
// the obligations and their filings, the containment tasks, the prevention
// report, the recall, the notices and letters, and the whole timeline, with times in TimeZone (UTC
// when it cannot be loaded).
func (r Record) Markdown() string {
	at := r.timeFormat()
	var b strings.Builder
	fmt.Fprintf(&b, "# Incident record %s — %s\n\n", r.IncidentID, cell(r.Title))
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Runbook | `%s` (SHA-256 `%s`) |\n", cell(r.Runbook), short(r.RunbookSHA256))
	fmt.Fprintf(&b, "| Declared | %s by %s |\n", at(r.DeclaredAt), cell(r.DeclaredBy))
	fmt.Fprintf(&b, "| Closed | %s by %s: %s |\n", at(r.ClosedAt), cell(r.ClosedBy), cell(r.CloseReason))
	fmt.Fprintf(&b, "| Exported | %s (record format %d) |\n\n", at(r.ExportedAt), r.Version)

	f := r.Facts
	b.WriteString("## Facts\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| What happened | %s |\n| What leaked | %s |\n| Persons | %d |\n| Aware since | %s |\n",
		cell(f.Title), cell(f.WhatLeaked), f.Persons, at(f.AwareAt))
	fmt.Fprintf(&b, "| Unauthorized purpose | %s |\n| Sensitive or financial data | %s |\n| Jurisdictions | %s |\n\n",
		yesNo(f.UnauthorizedPurpose), yesNo(f.SensitiveOrFinancial), cell(strings.Join(f.Jurisdictions, ", ")))

	b.WriteString("## Legal obligations\n\n")
	if len(r.Obligations) == 0 {
		b.WriteString("None were owed.\n\n")
	} else {
		b.WriteString("| obligation | to | due | state | filed | reference | by | late |\n|---|---|---|---|---|---|---|---|\n")
		for _, o := range r.Obligations {
			due := at(o.Deadline)
			if o.Deadline.IsZero() && !o.Target.IsZero() {
				due = "promptly (target " + at(o.Target) + ")"
			}
			filed, ref, by, late := "—", "—", "—", "—"
			if fl := o.Filing; fl != nil {
				filed, ref, by = at(fl.FiledAt)+" via "+cell(fl.Channel), cell(fl.Reference), cell(fl.By)
				late = "no"
				if fl.Late {
					late = "yes, by " + (time.Duration(fl.LatenessSeconds) * time.Second).String()
				}
			}
			fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s | %s | %s | %s |\n",
				cell(o.ID), cell(o.Title), cell(o.Audience), due, cell(o.State), filed, ref, by, late)
		}
		b.WriteString("\n")
		for _, o := range r.Obligations {
			if d := o.NotRequired; d != nil {
				fmt.Fprintf(&b, "- **%s not required**: proposed by %s on %s (%s); approved by %s on %s%s.\n",
					cell(o.ID), cell(d.ProposedBy), at(d.ProposedAt), cell(d.Rationale), cell(d.ApprovedBy), at(d.ApprovedAt), noteSuffix(d.Note))
			}
			for _, m := range o.Missed {
				fmt.Fprintf(&b, "- **%s missed its deadline** %s (noticed %s).\n", cell(o.ID), at(m.Due), at(m.At))
			}
			if o.NoLongerOwed != "" {
				fmt.Fprintf(&b, "- **%s** is no longer listed by the rules (%s); it was kept open until decided.\n", cell(o.ID), cell(o.NoLongerOwed))
			}
		}
		b.WriteString("\n")
	}

	b.WriteString("## Containment tasks\n\n")
	if len(r.Tasks) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| task | owner | due | done | by | note |\n|---|---|---|---|---|---|\n")
		for _, t := range r.Tasks {
			done, by := "open", "—"
			if t.Done {
				done, by = at(t.DoneAt), cell(t.DoneBy)
			}
			fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %s | %s |\n", cell(t.Title), cell(t.TitleEn), cell(t.Owner), at(t.Due), done, by, cell(t.Note))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Root-cause and prevention report\n\n")
	switch p := r.Prevention; {
	case p == nil:
		b.WriteString("Not part of this runbook.\n\n")
	case p.RecordedAt.IsZero():
		fmt.Fprintf(&b, "Due %s; **not submitted** at close.\n\n", at(p.Due))
	default:
		fmt.Fprintf(&b, "Due %s; submitted %s by %s, reference %s%s.\n\n", at(p.Due), at(p.SubmittedAt), cell(p.By), cell(p.Reference), noteSuffix(p.Note))
	}

	if rc := r.Recall; rc != nil {
		c := rc.Counts
		b.WriteString("## Recall from wrong recipients\n\n")
		fmt.Fprintf(&b, "| total | asked | confirmed by phone | confirmed by e-mail | confirmed | unreachable | closed by operator | pending |\n|---|---|---|---|---|---|---|---|\n| %d | %d | %d | %d | %d | %d | %d | %d |\n\n",
			c.Total, c.Requested, c.PhoneConfirmed, c.EmailConfirmed, c.Confirmed, c.Unreachable, c.ClosedByOperator, c.Pending)
		if len(rc.Recipients) > 0 {
			b.WriteString("| " + strings.Join(recipientColumns, " | ") + " |\n|---|---|---|---|---|---|\n")
			for _, p := range rc.Recipients {
				row := recipientRow(p, at)
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(row[0]), cell(row[1]),
					cell(row[2]), cell(row[3]), cell(row[4]), cell(row[5]))
			}
			b.WriteString("\n")
		}
	}

	r.noticesMarkdown(&b, at)

	b.WriteString("## Timeline\n\n| time | who | what | subject | details |\n|---|---|---|---|---|\n")
	for _, e := range r.Timeline {
		var det []string
		for _, d := range []struct{ k, v string }{{"reason", e.Reason}, {"ref", e.Reference}, {"to", strings.Join(e.To, ", ")}, {"outcome", e.Outcome}} {
			if d.v != "" {
				det = append(det, d.k+": "+d.v)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s: %s | %s | %s |\n", at(e.At), cell(e.Actor), e.Kind, cell(e.Summary), cell(e.Subject), cell(strings.Join(det, "; ")))
	}
	return b.String()
}

// timeFormat formats times in TimeZone (UTC when it cannot be loaded).
func (r Record) timeFormat() func(time.Time) string {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil || r.TimeZone == "" {
		loc = time.UTC
	}
	return func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	if s == "" {
		return "—"
	}
	return strings.NewReplacer("|", `\|`, "\r\n", "<br>", "\n", "<br>").Replace(s)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return cell(sha)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return ": " + cell(n)
}
