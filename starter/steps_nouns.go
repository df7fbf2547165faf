package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/workflows"
)

// stepNouns are the human steps, by what they act on. Their usage is
// generated from this table (`starter help`, `starter NOUN`).
var stepNouns = []noun{taskNoun, obligationNoun, preventionNoun, factsNoun, recipientNoun, broadcastNoun, brokerNoun}

const (
	argIncident   = "INCIDENT_ID"
	argObligation = "OBLIGATION_ID"
	argRecipient  = "RECIPIENT_ID"
	argBroadcast  = "N"
	argDemand     = "DEMAND_ID"
)

var taskNoun = noun{name: "task", about: "containment checklist (task IDs: `starter status INCIDENT_ID`)", verbs: []verb{{
	name: "done", args: []string{argIncident, "TASK_ID"}, flags: "[--note TEXT]", update: true,
	about: "record a checklist task as done (complete_task on the Incident)",
	define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
		note := fs.String("note", "", "what was done")
		return func(s *session, a []string) (step, error) {
			return func(ctx context.Context, s *session) error {
				return update(ctx, s, workflows.IncidentWorkflowID(a[0]), workflows.UpdateCompleteTask,
					workflows.CompleteTask{TaskID: a[1], By: s.by, Note: *note},
					func(w io.Writer, t workflows.TaskStatus) {
						fmt.Fprintf(w, "task %s done by %s at %s: %s\n", t.ID, t.DoneBy, at(t.DoneAt), t.Title.En)
					})
			}, nil
		}
	},
}}}

var obligationNoun = noun{name: "obligation", about: "legal obligations (IDs such as JP-APPI/final: `starter status INCIDENT_ID`)", verbs: []verb{
	{
		name: "status", args: []string{argIncident, argObligation},
		about: "show an obligation: state, deadline, draft, filing, decisions, timeline",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error {
					return query(ctx, s, workflows.ObligationWorkflowID(a[0], a[1]), workflows.QueryStatus, printObligation)
				}, nil
			}
		},
	},
	{
		name: "draft", args: []string{argIncident, argObligation},
		about: "print the latest draft of the report, to copy into the regulator's form",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error {
					var o workflows.ObligationStatus
					if err := incidents.Query(ctx, s.c, workflows.ObligationWorkflowID(a[0], a[1]), workflows.QueryStatus, &o); err != nil {
						return err
					}
					if o.Draft == nil {
						return &incidents.Refused{Reason: a[1] + " has no draft yet"}
					}
					return s.print(o.Draft, func(w io.Writer) {
						fmt.Fprintf(w, "%s draft v%d (%s, %d item(s) to fill)\n\n%s\n", o.ObligationID, o.Draft.Version, at(o.Draft.At), o.Draft.ToFill, o.Draft.Text)
					})
				}, nil
			}
		},
	},
	{
		name: "file", args: []string{argIncident, argObligation}, update: true,
		flags: "--reference RECEIPT --channel HOW --filed-at TIME|now",
		about: "record that the report was filed (record_filing on the Obligation)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			ref := fs.String("reference", "", "the receipt number the regulator gave back")
			channel := fs.String("channel", "", "how it was filed, e.g. \"PPC web form\"")
			filedAt := fs.String("filed-at", "", "when it was filed, RFC 3339 or now")
			return func(_ *session, a []string) (step, error) {
				if err := required("reference", *ref, "channel", *channel, "filed-at", *filedAt); err != nil {
					return nil, err
				}
				t, err := parseTime("filed-at", *filedAt)
				if err != nil {
					return nil, err
				}
				return func(ctx context.Context, s *session) error {
					return update(ctx, s, workflows.ObligationWorkflowID(a[0], a[1]), workflows.UpdateRecordFiling,
						workflows.RecordFiling{FiledAt: t, Reference: *ref, Channel: *channel, By: s.by}, printObligationBrief)
				}, nil
			}
		},
	},
	{
		name: "not-required", args: []string{"propose|approve|reject", argIncident, argObligation}, update: true,
		flags: "[--rationale WHY] [--note TEXT]",
		about: "propose that an obligation is not required (--rationale), or, as another person, approve or reject the proposal (--note, required to reject)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			rationale := fs.String("rationale", "", "why the obligation is not required (propose)")
			note := fs.String("note", "", "the reviewer's note (approve; required to reject)")
			return func(_ *session, a []string) (step, error) {
				wid := workflows.ObligationWorkflowID(a[1], a[2])
				var name string
				var arg any
				switch a[0] {
				case "propose":
					if err := required("rationale", *rationale); err != nil {
						return nil, err
					}
					name = workflows.UpdateProposeNotRequired
				case "approve", "reject":
					if a[0] == "reject" {
						if err := required("note", *note); err != nil {
							return nil, err
						}
					}
					name = workflows.UpdateReviewNotRequired
				default:
					return nil, fmt.Errorf("%q: want propose, approve or reject", a[0])
				}
				return func(ctx context.Context, s *session) error {
					switch a[0] {
					case "propose":
						arg = workflows.NotRequiredProposal{By: s.by, Rationale: *rationale}
					default:
						arg = workflows.NotRequiredReview{By: s.by, Approve: a[0] == "approve", Note: *note}
					}
					return update(ctx, s, wid, name, arg, printObligationBrief)
				}, nil
			}
		},
	},
}}

var preventionNoun = noun{name: "prevention", about: "the root-cause and prevention report", verbs: []verb{{
	name: "record", args: []string{argIncident}, update: true,
	flags: "--reference DOC [--submitted-at TIME] [--note TEXT]",
	about: "record that the prevention report was submitted (record_prevention_report on the Incident)",
	define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
		ref := fs.String("reference", "", "the report's document ID or URL")
		submitted := fs.String("submitted-at", "", "when it was submitted, RFC 3339 (default: now)")
		note := fs.String("note", "", "a note")
		return func(_ *session, a []string) (step, error) {
			if err := required("reference", *ref); err != nil {
				return nil, err
			}
			t, err := optionalTime("submitted-at", *submitted)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, s *session) error {
				return update(ctx, s, workflows.IncidentWorkflowID(a[0]), workflows.UpdateRecordPreventionReport,
					workflows.PreventionReport{By: s.by, Reference: *ref, SubmittedAt: t, Note: *note},
					func(w io.Writer, p workflows.PreventionStatus) {
						fmt.Fprintf(w, "prevention report recorded: %s, submitted %s (due %s)\n", p.Report.Reference, at(p.Report.SubmittedAt), at(p.Due))
					})
			}, nil
		}
	},
}}}

var factsNoun = noun{name: "facts", about: "the facts that start the legal clocks", verbs: []verb{
	{
		name: "show", args: []string{argIncident},
		about: "show the incident's current facts",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error {
					st, err := incidents.Status(ctx, s.c, a[0])
					if err != nil {
						return err
					}
					return s.print(st.Facts, func(w io.Writer) { printFacts(w, st.Facts) })
				}, nil
			}
		},
	},
	{
		name: "change", args: []string{argIncident}, update: true,
		flags: "--reason WHY [--persons N] [--unauthorized[=false]] [--found-at TIME] [--sensitive[=false]] [--aware-at TIME] [--what TEXT] [--title TEXT] [--jurisdictions A,B]",
		about: "change some facts (the others stay) and re-evaluate the obligations (update_facts on the Incident); --found-at is when the unauthorized purpose was found (default: now), and may correct it later",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			reason := fs.String("reason", "", "why the facts changed")
			persons := fs.Int("persons", 0, "number of people whose data leaked")
			unauthorized := fs.Bool("unauthorized", false, "the leak may have been done with an unauthorized purpose")
			foundAt := fs.String("found-at", "", "when the unauthorized purpose was found, RFC 3339 (default: now)")
			sensitive := fs.Bool("sensitive", false, "sensitive data, or data whose misuse may cause financial harm")
			aware := fs.String("aware-at", "", "when the organisation became aware, RFC 3339")
			what := fs.String("what", "", "what leaked (no personal data)")
			title := fs.String("title", "", "incident title (no personal data)")
			juris := fs.String("jurisdictions", "", "comma-separated regimes, e.g. JP-APPI,EU-GDPR")
			return func(_ *session, a []string) (step, error) {
				set := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
				if err := required("reason", *reason); err != nil {
					return nil, err
				}
				changes := 0
				for _, f := range []string{"persons", "unauthorized", "found-at", "sensitive", "aware-at", "what", "title", "jurisdictions"} {
					if set[f] {
						changes++
					}
				}
				if changes == 0 {
					return nil, fmt.Errorf("nothing to change: give at least one of --persons, --unauthorized, --found-at, --sensitive, --aware-at, --what, --title, --jurisdictions")
				}
				if set["found-at"] && set["unauthorized"] && !*unauthorized {
					return nil, fmt.Errorf("--found-at is when the unauthorized purpose was found: it cannot go with --unauthorized=false")
				}
				if set["persons"] && *persons < 0 {
					return nil, fmt.Errorf("--persons %d: cannot be negative", *persons)
				}
				found, err := optionalTime("found-at", *foundAt)
				if err != nil {
					return nil, err
				}
				awareAt, err := optionalTime("aware-at", *aware)
				if err != nil {
					return nil, err
				}
				jurisdictions, err := parseJurisdictions(*juris)
				if err != nil {
					return nil, err
				}
				if set["jurisdictions"] && len(jurisdictions) == 0 {
					return nil, fmt.Errorf("--jurisdictions: name at least one regime, e.g. JP-APPI")
				}
				return func(ctx context.Context, s *session) error {
					st, err := incidents.Status(ctx, s.c, a[0])
					if err != nil {
						return err
					}
					f := st.Facts
					if set["persons"] {
						f.Persons = *persons
					}
					if set["unauthorized"] {
						f.Unauthorized = *unauthorized
					}
					if set["sensitive"] {
						f.SensitiveOrFinancial = *sensitive
					}
					if set["aware-at"] {
						f.AwareAt = awareAt
					}
					if set["what"] {
						f.WhatLeaked = *what
					}
					if set["title"] {
						f.Title = *title
					}
					if set["jurisdictions"] {
						f.Jurisdictions = jurisdictions
					}
					// Without --found-at, an unauthorized purpose found now.
					ch := workflows.FactsChange{Facts: f, Reason: *reason, By: s.by, UnauthorizedPurposeFoundAt: found}
					return update(ctx, s, workflows.IncidentWorkflowID(a[0]), workflows.UpdateFacts, ch,
						func(w io.Writer, obs []workflows.ObligationSummary) {
							fmt.Fprintln(w, "facts changed; obligations now:")
							printObligationList(w, obs)
						})
				}, nil
			}
		},
	},
}}

var recipientNoun = noun{name: "recipient", about: "one wrong recipient's recall (IDs such as R00007: `starter status INCIDENT_ID` lists the unreachable)", verbs: []verb{
	{
		name: "status", args: []string{argIncident, argRecipient}, flags: "[--contact]",
		about: "show a recipient's recall: state, attempts, confirmations (--contact adds the person's contact details)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			contact := fs.Bool("contact", false, "show the person's contact details (personal data)")
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error {
					var r workflows.RecallStatus
					if err := incidents.Query(ctx, s.c, workflows.RecallWorkflowID(a[0], a[1]), workflows.QueryStatus, &r); err != nil {
						return err
					}
					if !*contact {
						r.Contact = nil
					}
					return s.print(r, func(w io.Writer) { printRecall(w, r) })
				}, nil
			}
		},
	},
	{
		name: "confirm", args: []string{argIncident, argRecipient}, update: true, flags: "[--note TEXT]",
		about: "record that you phoned the person and they confirmed deletion (record_phone_confirmation on the Recall)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			note := fs.String("note", "", "what the person said")
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error {
					return updateRecall(ctx, s, workflows.RecallWorkflowID(a[0], a[1]), workflows.UpdateRecordPhoneConfirmation,
						workflows.OperatorConfirmation{By: s.by, Note: *note})
				}, nil
			}
		},
	},
	{
		name: "close", args: []string{argIncident, argRecipient}, update: true, flags: "--reason WHY",
		about: "close a recipient by decision, e.g. \"confirmed by post\" (close_recipient on the Recall)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			reason := fs.String("reason", "", "why the recipient is closed")
			return func(_ *session, a []string) (step, error) {
				if err := required("reason", *reason); err != nil {
					return nil, err
				}
				return func(ctx context.Context, s *session) error {
					return updateRecall(ctx, s, workflows.RecallWorkflowID(a[0], a[1]), workflows.UpdateCloseRecipient,
						workflows.CloseRecipient{By: s.by, Reason: *reason})
				}, nil
			}
		},
	},
	{
		name: "reconcile", args: []string{argIncident}, update: true,
		about: "check every open recipient against its Recall now and correct any count whose report never arrived (reconcile_recall on the Incident; it also runs hourly and before reports, drafts and close)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error {
					var r workflows.RecallReconciliation
					if err := incidents.Update(ctx, s.c, workflows.IncidentWorkflowID(a[0]), workflows.UpdateReconcileRecall,
						workflows.ReconcileRecall{By: s.by}, &r); err != nil {
						return err
					}
					return s.print(r, func(w io.Writer) { printReconciliation(w, r) })
				}, nil
			}
		},
	},
}}

// updateRecall sends an Update to a Recall and prints its answer without
// the person's contact details (personal data).
func updateRecall(ctx context.Context, s *session, workflowID, name string, arg any) error {
	var r workflows.RecallStatus
	if err := incidents.Update(ctx, s.c, workflowID, name, arg, &r); err != nil {
		return err
	}
	r.Contact = nil
	return s.print(r, func(w io.Writer) { printRecallBrief(w, r) })
}

// broadcastN reads a broadcast's number.
func broadcastN(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("broadcast number %q: want 1, 2, ... (`starter status INCIDENT_ID` lists them)", s)
	}
	return n, nil
}

// broadcastControl is pause, resume or stop.
func broadcastControl(name, updateName, about string) verb {
	return verb{
		name: name, args: []string{argIncident, argBroadcast}, update: true, flags: "[--reason WHY]", about: about,
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			reason := fs.String("reason", "", "why")
			return func(_ *session, a []string) (step, error) {
				n, err := broadcastN(a[1])
				if err != nil {
					return nil, err
				}
				return func(ctx context.Context, s *session) error {
					return update(ctx, s, workflows.BroadcastWorkflowID(a[0], n), updateName,
						workflows.BroadcastControl{By: s.by, Reason: *reason}, printBroadcastBrief)
				}, nil
			}
		},
	}
}

// fingerprintPrefix is how much of the notice's fingerprint an approver
// must quote, at least.
const fingerprintPrefix = 12

var hexRE = regexp.MustCompile(`^[0-9a-f]+$`)

var broadcastNoun = noun{name: "broadcast", about: "the notice to everyone affected (N numbers the incident's broadcasts from 1)", verbs: []verb{
	{
		name: "start", args: []string{argIncident}, update: true,
		flags: "[--list FILE|sha256:REF] [--lang ja|en] [--reason WHY] [--summary TEXT] [--data-items A,B] [--cause TEXT] [--secondary-harm TEXT] [--other TEXT]",
		about: "start the incident's next broadcast: render, scan, test-send to the approvers, then wait for approval (start_broadcast on the Incident); empty items take defaults from the facts",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			list := fs.String("list", "", "the people to notify: a CSV/XLSX file, or a stored list's sha256:REF (default: the incident's affected list)")
			lang := fs.String("lang", "", "the notice's language, ja (default) or en")
			reason := fs.String("reason", "", "why it is sent")
			items := noticeItemFlags(fs)
			return func(_ *session, a []string) (step, error) {
				if *lang != "" && *lang != "ja" && *lang != "en" {
					return nil, fmt.Errorf("--lang %q: want ja or en", *lang)
				}
				return func(ctx context.Context, s *session) error {
					in := workflows.StartBroadcast{By: s.by, Lang: *lang, Reason: *reason}
					if given, ok := items.given(); ok {
						in.Items = &given
					}
					if *list != "" {
						ref, err := listRef(ctx, *list)
						if err != nil {
							return err
						}
						in.List = &ref
					}
					return update(ctx, s, workflows.IncidentWorkflowID(a[0]), workflows.UpdateStartBroadcast, in,
						func(w io.Writer, b workflows.BroadcastStarted) {
							fmt.Fprintf(w, "broadcast %d started (%s): %d recipient(s) from the %s list\n", b.N, b.WorkflowID, b.Recipients, strings.ReplaceAll(b.List, "_", " "))
							if len(b.Defaulted) > 0 {
								fmt.Fprintf(w, "items filled in by default: %s: check them in the test send (revise before approving if needed)\n", strings.Join(b.Defaulted, ", "))
							}
							fmt.Fprintf(w, "next: the test send goes to the approvers; each approves with `starter broadcast approve %s %d --fingerprint FP`\n", a[0], b.N)
						})
				}, nil
			}
		},
	},
	{
		name: "status", args: []string{argIncident, argBroadcast},
		about: "show a broadcast: state, fingerprint, approvals, progress",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			return func(_ *session, a []string) (step, error) {
				n, err := broadcastN(a[1])
				if err != nil {
					return nil, err
				}
				return func(ctx context.Context, s *session) error {
					return query(ctx, s, workflows.BroadcastWorkflowID(a[0], n), workflows.QueryStatus, printBroadcast)
				}, nil
			}
		},
	},
	{
		name: "approve", args: []string{argIncident, argBroadcast}, update: true, flags: "--fingerprint FP [--key FILE]",
		about: "approve the notice you checked in the test send: FP is its X-Breachflow-Fingerprint (at least 12 characters); a changed notice or list voids approvals; with registered approver keys, sign with your own (--key, or $BREACHFLOW_APPROVER_KEY_FILE): it names you (approve_broadcast)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			fp := fs.String("fingerprint", "", "the fingerprint of the notice you checked (the test send's X-Breachflow-Fingerprint header)")
			keyFile := fs.String("key", os.Getenv("BREACHFLOW_APPROVER_KEY_FILE"), "your approver key file (starter approver-key); the approval is signed with it and recorded under its ID")
			return func(s *session, a []string) (step, error) {
				n, err := broadcastN(a[1])
				if err != nil {
					return nil, err
				}
				want := strings.ToLower(strings.TrimSpace(*fp))
				if want == "" {
					return nil, fmt.Errorf("--fingerprint is required: approve the notice you checked, by the X-Breachflow-Fingerprint of its test send (`starter broadcast status %s %d` shows the current one)", a[0], n)
				}
				if len(want) < fingerprintPrefix || !hexRE.MatchString(want) {
					return nil, fmt.Errorf("--fingerprint %q: want at least %d hexadecimal characters of the test send's X-Breachflow-Fingerprint", *fp, fingerprintPrefix)
				}
				var key *approvals.Key
				if *keyFile != "" {
					b, err := os.ReadFile(*keyFile)
					if err != nil {
						return nil, fmt.Errorf("--key: %w", err)
					}
					k, err := approvals.ParseKey(string(b))
					if err != nil {
						return nil, fmt.Errorf("--key %s: %w", *keyFile, err)
					}
					if s.by != defaultBy() && s.by != k.ID {
						return nil, fmt.Errorf("--by %s: the approval is signed with the key of %s and recorded as theirs; leave --by out", s.by, k.ID)
					}
					s.by, key = k.ID, &k
				}
				return func(ctx context.Context, s *session) error {
					wid := workflows.BroadcastWorkflowID(a[0], n)
					var st workflows.BroadcastStatus
					if err := incidents.Query(ctx, s.c, wid, workflows.QueryStatus, &st); err != nil {
						return err
					}
					// The approver quotes what they checked; the workflow
					// compares the whole fingerprint. A state with nothing
					// to approve is left to its validator to explain.
					full := want
					switch {
					case st.Fingerprint != "" && strings.HasPrefix(st.Fingerprint, want):
						full = st.Fingerprint
					case st.State == workflows.BroadcastAwaitingApproval && len(want) < len(st.Fingerprint):
						return &incidents.Refused{Reason: fmt.Sprintf("the notice is now %s, not %s: check the latest test send and approve that", shortFP(st.Fingerprint), want)}
					}
					ab := workflows.ApproveBroadcast{Fingerprint: full, By: s.by}
					if key != nil {
						ab.KeyID, ab.Signature = key.ID, key.Sign(wid, full, key.ID)
					}
					return update(ctx, s, wid, workflows.UpdateApproveBroadcast, ab, printBroadcastBrief)
				}, nil
			}
		},
	},
	{
		name: "revise", args: []string{argIncident, argBroadcast}, update: true,
		flags: "--reason WHY [--list FILE|sha256:REF] [--summary TEXT] [--data-items A,B] [--cause TEXT] [--secondary-harm TEXT] [--other TEXT]",
		about: "revise a notice before it is sent, a refused one above all, under the same number: the items given replace those items (the others stay), " +
			"the list replaces the list; it is rendered, checked and test-sent again, and every approval is voided (revise_broadcast)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			reason := fs.String("reason", "", "why it is revised (for example: the leak check refused the summary)")
			list := fs.String("list", "", "the people to notify instead: a CSV/XLSX file, or a stored list's sha256:REF")
			items := noticeItemFlags(fs)
			return func(_ *session, a []string) (step, error) {
				n, err := broadcastN(a[1])
				if err != nil {
					return nil, err
				}
				if err := required("reason", *reason); err != nil {
					return nil, err
				}
				given, changed := items.given()
				if !changed && *list == "" {
					return nil, fmt.Errorf("nothing to revise: give the items to change (--summary, --data-items, --cause, --secondary-harm, --other) or --list")
				}
				return func(ctx context.Context, s *session) error {
					wid := workflows.BroadcastWorkflowID(a[0], n)
					in := workflows.ReviseBroadcast{By: s.by, Reason: *reason}
					if changed {
						var st workflows.BroadcastStatus
						if err := incidents.Query(ctx, s.c, wid, workflows.QueryStatus, &st); err != nil {
							return err
						}
						merged := mergeItems(st.Items, given)
						in.Items = &merged
					}
					if *list != "" {
						ref, err := listRef(ctx, *list)
						if err != nil {
							return err
						}
						in.List = &ref
					}
					return update(ctx, s, wid, workflows.UpdateReviseBroadcast, in, func(w io.Writer, b workflows.BroadcastStatus) {
						printBroadcastBrief(w, b)
						fmt.Fprintf(w, "next: the new test send goes to the approvers; each approves it again with `starter broadcast approve %s %d --fingerprint FP`\n", a[0], n)
					})
				}, nil
			}
		},
	},
	broadcastControl("pause", workflows.UpdatePauseBroadcast, "pause sending (pause_broadcast); batches in flight stop within seconds"),
	broadcastControl("resume", workflows.UpdateResumeBroadcast, "resume a paused broadcast (resume_broadcast)"),
	broadcastControl("stop", workflows.UpdateStopBroadcast, "stop a broadcast for good (stop_broadcast); returns once sending has halted"),
	{
		name: "substitute", args: []string{argIncident, argBroadcast}, update: true,
		flags: "--published-url URL --inquiry-desk TEXT [--note TEXT]",
		about: "record the substitute measure for the people the notice could not reach: publication and an inquiry desk (record_substitute_measure)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			url := fs.String("published-url", "", "where the notice is published")
			desk := fs.String("inquiry-desk", "", "how people reach the inquiry desk, and when")
			note := fs.String("note", "", "a note")
			return func(_ *session, a []string) (step, error) {
				n, err := broadcastN(a[1])
				if err != nil {
					return nil, err
				}
				if err := required("published-url", *url, "inquiry-desk", *desk); err != nil {
					return nil, err
				}
				return func(ctx context.Context, s *session) error {
					return update(ctx, s, workflows.BroadcastWorkflowID(a[0], n), workflows.UpdateRecordSubstitute,
						workflows.SubstituteMeasure{By: s.by, PublishedURL: *url, InquiryDesk: *desk, Note: *note}, printBroadcastBrief)
				}, nil
			}
		},
	},
}}

// itemFlags are a notice's Rule 10 items as flags, shared by `broadcast
// start` and `broadcast revise`.
type itemFlags struct {
	items     activities.NoticeItems
	dataItems *string
}

func noticeItemFlags(fs *flag.FlagSet) *itemFlags {
	f := &itemFlags{}
	fs.StringVar(&f.items.Summary, "summary", "", "what happened (概要)")
	f.dataItems = fs.String("data-items", "", "comma-separated data items that leaked (個人データの項目)")
	fs.StringVar(&f.items.Cause, "cause", "", "the cause (原因)")
	fs.StringVar(&f.items.SecondaryHarm, "secondary-harm", "", "secondary harm, or its risk (二次被害)")
	fs.StringVar(&f.items.Other, "other", "", "other useful information (その他)")
	return f
}

// given returns the items given on the command line; ok is false when
// none was.
func (f *itemFlags) given() (activities.NoticeItems, bool) {
	it := f.items
	it.DataItems = splitList(*f.dataItems)
	return it, it.Summary != "" || len(it.DataItems) > 0 || it.Cause != "" || it.SecondaryHarm != "" || it.Other != ""
}

// mergeItems is cur with the items given in change replacing theirs.
func mergeItems(cur, change activities.NoticeItems) activities.NoticeItems {
	if change.Summary != "" {
		cur.Summary = change.Summary
	}
	if len(change.DataItems) > 0 {
		cur.DataItems = change.DataItems
	}
	if change.Cause != "" {
		cur.Cause = change.Cause
	}
	if change.SecondaryHarm != "" {
		cur.SecondaryHarm = change.SecondaryHarm
	}
	if change.Other != "" {
		cur.Other = change.Other
	}
	return cur
}

// listRef stores a list file, or resolves a stored list's sha256:REF.
func listRef(ctx context.Context, v string) (recipients.ListRef, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return recipients.ListRef{}, err
	}
	if strings.HasPrefix(v, "sha256:") {
		ref, err := (&recipients.Store{Dir: cfg.ListDir}).Resolve(ctx, v)
		if err != nil {
			return recipients.ListRef{}, fmt.Errorf("list %s: %w", v, err)
		}
		return ref, nil
	}
	return storeList(ctx, cfg, v)
}

// demandStep is a BrokerDemand update.
func demandStep(a []string, name string, arg func(by string) any) step {
	return func(ctx context.Context, s *session) error {
		return update(ctx, s, workflows.BrokerDemandWorkflowID(a[0], a[1]), name, arg(s.by), printDemandBrief)
	}
}

var brokerNoun = noun{name: "broker", about: "cease-and-desist letters to list brokers (demand IDs B001, B002, ...)", verbs: []verb{
	{
		name: "add", args: []string{argIncident}, update: true,
		flags: "--name NAME --address ADDRESS [--postal-code CODE] [--representative TEXT] [--data TEXT] [--evidence TEXT]",
		about: "start a demand to one broker: the letter is written for e内容証明 and a mailing task opens (add_broker_demand on the Incident)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			var p letters.Party
			fs.StringVar(&p.Name, "name", "", "the company's (or person's) name")
			fs.StringVar(&p.Address, "address", "", "its postal address")
			fs.StringVar(&p.PostalCode, "postal-code", "", "its postal code, e.g. 100-0001")
			fs.StringVar(&p.Representative, "representative", "", "e.g. 代表取締役 山田太郎")
			data := fs.String("data", "", "the data it holds (default: what leaked, from the facts)")
			evidence := fs.String("evidence", "", "how we know it uses the data")
			return func(_ *session, a []string) (step, error) {
				if err := required("name", p.Name, "address", p.Address); err != nil {
					return nil, err
				}
				return func(ctx context.Context, s *session) error {
					return update(ctx, s, workflows.IncidentWorkflowID(a[0]), workflows.UpdateAddBrokerDemand,
						workflows.AddBrokerDemand{By: s.by, Broker: p, Data: *data, Evidence: *evidence},
						func(w io.Writer, d workflows.BrokerDemandAdded) {
							fmt.Fprintf(w, "demand %s started (%s); next: mail the letter by e内容証明, then `starter broker mailed %s %s --tracking NUMBER`\n", d.DemandID, d.WorkflowID, a[0], d.DemandID)
						})
				}, nil
			}
		},
	},
	{
		name: "status", args: []string{argIncident, argDemand},
		about: "show a demand: state, letter files, mailings, answers, escalations",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			return func(_ *session, a []string) (step, error) {
				return func(ctx context.Context, s *session) error {
					return query(ctx, s, workflows.BrokerDemandWorkflowID(a[0], a[1]), workflows.QueryStatus, printDemand)
				}, nil
			}
		},
	},
	{
		name: "mailed", args: []string{argIncident, argDemand}, update: true, flags: "--tracking NUMBER [--mailed-at TIME]",
		about: "record that the letter went by content-certified mail, with Japan Post's tracking number (record_mailing)",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			tracking := fs.String("tracking", "", "the tracking number (お問い合わせ番号)")
			mailed := fs.String("mailed-at", "", "when it was mailed, RFC 3339 (default: now)")
			return func(_ *session, a []string) (step, error) {
				if err := required("tracking", *tracking); err != nil {
					return nil, err
				}
				t, err := optionalTime("mailed-at", *mailed)
				if err != nil {
					return nil, err
				}
				return demandStep(a, workflows.UpdateRecordMailing, func(by string) any {
					return workflows.LetterMailed{TrackingNumber: *tracking, MailedAt: t, By: by}
				}), nil
			}
		},
	},
	{
		name: "answer", args: []string{argIncident, argDemand, "complied|refused|no_answer|returned"}, update: true,
		flags: "[--note TEXT] [--received-at TIME]",
		about: "record the broker's answer, or that none came (record_broker_answer); refused or no_answer opens the escalation task",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			note := fs.String("note", "", "what the answer said")
			received := fs.String("received-at", "", "when it came, RFC 3339 (default: now)")
			return func(_ *session, a []string) (step, error) {
				switch a[2] {
				case workflows.AnswerComplied, workflows.AnswerRefused, workflows.AnswerNone, workflows.AnswerReturned:
				default:
					return nil, fmt.Errorf("answer %q: want complied, refused, no_answer or returned", a[2])
				}
				t, err := optionalTime("received-at", *received)
				if err != nil {
					return nil, err
				}
				return demandStep(a, workflows.UpdateRecordBrokerAnswer, func(by string) any {
					return workflows.BrokerAnswer{Outcome: a[2], ReceivedAt: t, Note: *note, By: by}
				}), nil
			}
		},
	},
	{
		name: "escalated", args: []string{argIncident, argDemand}, update: true, flags: "--to regulator|police [--reference REF] [--at TIME]",
		about: "record the escalation to the regulator or the police (record_escalation); the task is done once both are recorded",
		define: func(fs *flag.FlagSet) func(*session, []string) (step, error) {
			to := fs.String("to", "", "regulator or police")
			ref := fs.String("reference", "", "their case or receipt number")
			when := fs.String("at", "", "when, RFC 3339 (default: now)")
			return func(_ *session, a []string) (step, error) {
				if *to != workflows.EscalateRegulator && *to != workflows.EscalatePolice {
					return nil, fmt.Errorf("--to %q: want regulator or police", *to)
				}
				t, err := optionalTime("at", *when)
				if err != nil {
					return nil, err
				}
				return demandStep(a, workflows.UpdateRecordEscalation, func(by string) any {
					return workflows.Escalation{To: *to, Reference: *ref, At: t, By: by}
				}), nil
			}
		},
	},
}}
