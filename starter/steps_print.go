package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachflow/breachflow/internal/timefmt"
	"github.com/breachflow/breachflow/workflows"
)

// The text forms of the workflows' statuses. --json prints the structs
// themselves (their field names are the workflows' stable JSON).

func printFacts(w io.Writer, f workflows.Facts) {
	fmt.Fprintf(w, "title: %s\nwhat leaked: %s\npersons: %d\naware at: %s\nunauthorized purpose: %t\nsensitive or financial: %t\njurisdictions: %s\n",
		f.Title, f.WhatLeaked, f.Persons, at(f.AwareAt), f.Unauthorized, f.SensitiveOrFinancial, strings.Join(f.Jurisdictions, ", "))
}

func printObligationList(out io.Writer, obs []workflows.ObligationSummary) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	defer w.Flush()
	for _, o := range obs {
		due := "no deadline"
		if !o.Due.IsZero() {
			due = "due " + at(o.Due)
			if o.Hard {
				due += " (hard)"
			}
		}
		extra := ""
		if !o.FiledAt.IsZero() {
			extra = ", filed " + at(o.FiledAt)
		}
		if o.NoLongerOwed != "" {
			extra += ", no longer listed: " + o.NoLongerOwed
		}
		fmt.Fprintf(w, "  %s\t%s\t%s%s\t%s\n", o.ObligationID, o.State, due, extra, o.Title)
	}
}

// printObligationBrief is the answer to a step on an obligation.
func printObligationBrief(w io.Writer, o workflows.ObligationStatus) {
	fmt.Fprintf(w, "%s: %s", o.ObligationID, o.State)
	switch {
	case o.Filing != nil:
		fmt.Fprintf(w, ", filed %s via %s, reference %s, recorded by %s", at(o.Filing.FiledAt), o.Filing.Channel, o.Filing.Reference, o.Filing.By)
		if o.Filing.Late {
			fmt.Fprintf(w, " (%s)", timefmt.Late(o.Filing.Lateness, timefmt.English))
		}
	case o.NotRequired != nil:
		fmt.Fprintf(w, ": not required, proposed by %s, approved by %s", o.NotRequired.ProposedBy, o.NotRequired.ApprovedBy)
	case o.Proposal != nil:
		fmt.Fprintf(w, "; %s proposes it is not required (%s): another person must approve or reject; the deadline stands until then", o.Proposal.ProposedBy, o.Proposal.Rationale)
	default:
		if !o.Due.IsZero() {
			fmt.Fprintf(w, ", due %s", at(o.Due))
		}
	}
	fmt.Fprintln(w)
}

func printObligation(w io.Writer, o workflows.ObligationStatus) {
	fmt.Fprintf(w, "%s  %s\n  state %s, audience %s\n", o.ObligationID, o.Title, o.State, o.Audience)
	if !o.Deadline.IsZero() {
		fmt.Fprintf(w, "  deadline %s", at(o.Deadline))
		if o.Hard {
			fmt.Fprint(w, " (hard)")
		}
		fmt.Fprintln(w)
	}
	if !o.Target.IsZero() {
		fmt.Fprintf(w, "  target %s (promptly)\n", at(o.Target))
	}
	if o.ClockPending {
		fmt.Fprintf(w, "  clock not started yet: %s\n", o.Clock)
	}
	if o.Source.Citation != "" {
		fmt.Fprintf(w, "  source %s %s\n", o.Source.Citation, o.Source.URL)
	}
	if o.Draft != nil {
		fmt.Fprintf(w, "  draft v%d of %s, %d item(s) to fill (`starter obligation draft %s %s`)\n", o.Draft.Version, at(o.Draft.At), o.Draft.ToFill, o.IncidentID, o.ObligationID)
	}
	if f := o.Filing; f != nil {
		fmt.Fprintf(w, "  filed %s via %s, reference %s, by %s", at(f.FiledAt), f.Channel, f.Reference, f.By)
		if f.Late {
			fmt.Fprintf(w, ", %s", timefmt.Late(f.Lateness, timefmt.English))
		}
		fmt.Fprintln(w)
	}
	if p := o.Proposal; p != nil {
		fmt.Fprintf(w, "  proposed not required by %s at %s: %s (awaiting another person's review)\n", p.ProposedBy, at(p.ProposedAt), p.Rationale)
	}
	if d := o.NotRequired; d != nil {
		fmt.Fprintf(w, "  not required: proposed by %s (%s), approved by %s at %s\n", d.ProposedBy, d.Rationale, d.ApprovedBy, at(d.ApprovedAt))
	}
	for _, m := range o.Missed {
		fmt.Fprintf(w, "  missed deadline %s (noticed %s)\n", at(m.Due), at(m.At))
	}
	if o.NoLongerOwed != "" {
		fmt.Fprintf(w, "  no longer listed by the rules: %s (still open until filed or decided not required)\n", o.NoLongerOwed)
	}
	if len(o.Timeline) > 0 {
		fmt.Fprintln(w, "  timeline:")
		for _, e := range o.Timeline {
			fmt.Fprintf(w, "    %s  %-10s %s", at(e.At), e.Actor, e.Summary)
			if e.Reason != "" {
				fmt.Fprintf(w, " (%s)", e.Reason)
			}
			fmt.Fprintln(w)
		}
	}
}

func printRecallBrief(w io.Writer, r workflows.RecallStatus) {
	fmt.Fprintf(w, "%s: %s", r.RecipientID, r.State)
	if r.Reason != "" {
		fmt.Fprintf(w, " (%s)", r.Reason)
	}
	fmt.Fprintln(w)
}

// printRecall prints a recipient's state, then its requests, provider
// reports and confirmations as one timeline, oldest first.
func printRecall(w io.Writer, r workflows.RecallStatus) {
	printRecallBrief(w, r)
	type entry struct {
		at   time.Time
		text string
	}
	var timeline []entry
	for _, a := range r.Attempts {
		timeline = append(timeline, entry{a.At, fmt.Sprintf("%s #%d: %s", a.Channel, a.N, a.Outcome)})
	}
	for _, e := range r.Events {
		timeline = append(timeline, entry{e.Evidence.ReceivedAt, fmt.Sprintf("%s: %s", e.Channel, e.Kind)})
	}
	for _, c := range r.Confirmations {
		timeline = append(timeline, entry{c.At, fmt.Sprintf("confirmed by %s (%s%s)", c.Channel, c.Evidence.Source, prefixed(", ", c.Evidence.Operator))})
	}
	slices.SortStableFunc(timeline, func(x, y entry) int { return x.at.Compare(y.at) })
	for _, e := range timeline {
		fmt.Fprintf(w, "  %s %s\n", at(e.at), e.text)
	}
	if c := r.Contact; c != nil {
		fmt.Fprintf(w, "  contact: %s %s %s\n", c.Name, c.Email, c.Phone)
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// shortFP is the part of a fingerprint people compare.
func shortFP(fp string) string {
	if fp == "" {
		return "(none yet)"
	}
	if len(fp) > 16 {
		return fp[:16]
	}
	return fp
}

func printBroadcastBrief(w io.Writer, b workflows.BroadcastStatus) {
	fmt.Fprintf(w, "%s: %s", b.BroadcastID, b.State)
	if b.Reason != "" {
		fmt.Fprintf(w, " (%s)", b.Reason)
	}
	fmt.Fprintf(w, "; approvals %d of %d; %s\n", len(b.Approvals), b.Quorum, b.Progress.CountsText())
}

func printBroadcast(w io.Writer, b workflows.BroadcastStatus) {
	printBroadcastBrief(w, b)
	if b.Subject != "" {
		fmt.Fprintf(w, "  subject: %s\n", b.Subject)
	}
	fmt.Fprintf(w, "  fingerprint: %s\n", b.Fingerprint)
	for _, f := range b.Findings {
		fmt.Fprintf(w, "  refused by the content scan: %+v\n", f)
	}
	for _, t := range b.TestSends {
		fmt.Fprintf(w, "  test send %s of %s to %d approver(s)\n", at(t.At), shortFP(t.Fingerprint), t.Approvers)
	}
	for _, a := range b.Approvals {
		fmt.Fprintf(w, "  approved by %s at %s\n", a.By, at(a.At))
	}
	for _, c := range b.Controls {
		fmt.Fprintf(w, "  %s by %s at %s after %d%s\n", c.Action, c.By, at(c.At), c.Offset, prefixed(": ", c.Reason))
	}
	p := b.Progress
	fmt.Fprintf(w, "  progress: done %d of %d, sent %d, no address %d, invalid %d, duplicates %d, bounced %d, dropped %d\n",
		p.Done, p.Total, p.Sent, p.NoAddress, p.Invalid, p.Duplicates, p.Bounced, p.Dropped)
	if s := b.Substitute; s != nil {
		if s.Done != nil {
			fmt.Fprintf(w, "  substitute measure recorded by %s: %s, desk %s\n", s.Done.By, s.Done.PublishedURL, s.Done.InquiryDesk)
		} else {
			fmt.Fprintf(w, "  substitute measure pending for %d unreachable (`starter broadcast substitute %s %s`)\n", s.Unreachable, b.IncidentID, lastPart(b.BroadcastID))
		}
	}
}

// lastPart is what follows the last "/" of a workflow ID.
func lastPart(id string) string { return id[strings.LastIndex(id, "/")+1:] }

func printDemandBrief(w io.Writer, d workflows.BrokerDemandStatus) {
	fmt.Fprintf(w, "%s: %s", d.DemandID, d.State)
	if !d.AnswerDue.IsZero() && d.State == workflows.DemandAwaitingAnswer {
		fmt.Fprintf(w, ", answer due %s", at(d.AnswerDue))
	}
	if n := len(d.Escalations); n > 0 {
		var to []string
		for _, e := range d.Escalations {
			to = append(to, e.To)
		}
		fmt.Fprintf(w, ", escalated to %s", strings.Join(to, " and "))
	}
	if d.State == workflows.DemandLetterFailed && d.Failure != "" {
		// Why nothing was mailed, and so what to fix.
		fmt.Fprintf(w, ": %s", oneLine(d.Failure))
	}
	fmt.Fprintln(w)
}

func printDemand(w io.Writer, d workflows.BrokerDemandStatus) {
	printDemandBrief(w, d)
	if d.Letter.DocxPath != "" {
		fmt.Fprintf(w, "  letter to upload to e内容証明: %s\n", d.Letter.DocxPath)
	}
	if d.Letter.Path != "" {
		fmt.Fprintf(w, "  letter for the records: %s\n", d.Letter.Path)
	}
	for _, m := range d.Mailings {
		fmt.Fprintf(w, "  mailed %s, tracking %s, by %s\n", at(m.MailedAt), m.TrackingNumber, m.By)
	}
	for _, a := range d.Answers {
		fmt.Fprintf(w, "  answer %s at %s, by %s%s\n", a.Outcome, at(a.ReceivedAt), a.By, prefixed(": ", a.Note))
	}
	for _, e := range d.Escalations {
		fmt.Fprintf(w, "  escalated to the %s at %s, by %s%s\n", e.To, at(e.At), e.By, prefixed(", reference ", e.Reference))
	}
}

// printReconciliation tells what a reconciliation checked and corrected.
func printReconciliation(w io.Writer, r workflows.RecallReconciliation) {
	fmt.Fprintf(w, "checked %d open recipient(s) against their Recall: ", r.Checked)
	if len(r.Corrections) == 0 {
		fmt.Fprintln(w, "every count was right")
	} else {
		fmt.Fprintf(w, "%d corrected (their progress report never reached the incident)\n", len(r.Corrections))
		for _, c := range r.Corrections {
			fmt.Fprintf(w, "  %s: %s, not %s\n", c.RecipientID, c.To, c.From)
		}
	}
	c := r.Counts
	fmt.Fprintf(w, "now: %d asked of %d, %d confirmed, %d unreachable, %d closed, %d pending\n",
		c.Requested, c.Total, c.Confirmed, c.Unreachable, c.ClosedByOperator, c.Pending)
}
