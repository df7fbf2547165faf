package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/workflows"
)

// Every mistake on the command line is caught before anything is sent
// (no Temporal server here): exit status 2, the problem and the usage.
func TestHumanSteps_CommandLineMistakesExit2BeforeAnythingIsSent(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1") // nothing listens: a dial would fail with 1
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"a noun without a step lists its steps", []string{"task"}, []string{"starter task done INCIDENT_ID TASK_ID [--note TEXT]"}},
		{"an unknown step", []string{"broker", "sue", "INC-1", "B001"}, []string{`unknown step "sue"`, "starter broker mailed"}},
		{"a missing ID", []string{"task", "done", "INC-1"}, []string{"want INCIDENT_ID TASK_ID, got 1 argument(s)", "usage: starter task done"}},
		{"an extra ID", []string{"recipient", "confirm", "INC-1", "R00001", "R00002"}, []string{"got 3 argument(s)"}},
		{"an empty ID", []string{"task", "done", "INC-1", " "}, []string{"TASK_ID is empty"}},
		{"an unknown flag", []string{"task", "done", "INC-1", "T1", "--bogus"}, []string{"flag provided but not defined: -bogus"}},
		{"no one to record as the actor", []string{"task", "done", "INC-1", "T1", "--by", ""}, []string{"--by is required"}},
		{"a filing without its facts", []string{"obligation", "file", "INC-1", "JP-APPI/final"}, []string{"--reference, --channel, --filed-at are required"}},
		{"a filing time that is not RFC 3339", []string{"obligation", "file", "INC-1", "JP-APPI/final", "--reference", "R1", "--channel", "PPC web form", "--filed-at", "yesterday 3pm"},
			[]string{`--filed-at "yesterday 3pm": want RFC 3339`}},
		{"not-required: an unknown decision", []string{"obligation", "not-required", "maybe", "INC-1", "JP-APPI/final"}, []string{`"maybe": want propose, approve or reject`}},
		{"not-required: a proposal without a rationale", []string{"obligation", "not-required", "propose", "INC-1", "JP-APPI/final"}, []string{"--rationale is required"}},
		{"not-required: a rejection without a note", []string{"obligation", "not-required", "reject", "INC-1", "JP-APPI/final"}, []string{"--note is required"}},
		{"a prevention report without its reference", []string{"prevention", "record", "INC-1"}, []string{"--reference is required"}},
		{"a facts change without a reason", []string{"facts", "change", "INC-1", "--persons", "60"}, []string{"--reason is required"}},
		{"a facts change that changes nothing", []string{"facts", "change", "INC-1", "--reason", "checked"}, []string{"nothing to change"}},
		{"found-at with the unauthorized purpose unset", []string{"facts", "change", "INC-1", "--reason", "r", "--unauthorized=false", "--found-at", "2026-11-21T09:30:00+09:00"},
			[]string{"cannot go with --unauthorized=false"}},
		{"found-at that is not a time", []string{"facts", "change", "INC-1", "--reason", "r", "--unauthorized", "--found-at", "this morning"}, []string{`--found-at "this morning": want RFC 3339`}},
		{"negative persons", []string{"facts", "change", "INC-1", "--reason", "r", "--persons", "-1"}, []string{"cannot be negative"}},
		{"closing a recipient without a reason", []string{"recipient", "close", "INC-1", "R00001"}, []string{"--reason is required"}},
		{"a broadcast number that is not a number", []string{"broadcast", "pause", "INC-1", "first"}, []string{`broadcast number "first"`}},
		{"an approval without the fingerprint checked", []string{"broadcast", "approve", "INC-1", "1"}, []string{"--fingerprint is required", "starter broadcast status INC-1 1"}},
		{"an approval quoting too little of the fingerprint", []string{"broadcast", "approve", "INC-1", "1", "--fingerprint", "abc123"}, []string{"at least 12 hexadecimal characters"}},
		{"a notice language we do not write", []string{"broadcast", "start", "INC-1", "--lang", "fr"}, []string{`--lang "fr": want ja or en`}},
		{"a substitute measure without the published URL", []string{"broadcast", "substitute", "INC-1", "1", "--inquiry-desk", "0120-000-000 9-17"}, []string{"--published-url is required"}},
		{"a broker without an address", []string{"broker", "add", "INC-1", "--name", "Meibo Co."}, []string{"--address is required"}},
		{"a mailing without the tracking number", []string{"broker", "mailed", "INC-1", "B001"}, []string{"--tracking is required"}},
		{"an answer we do not know", []string{"broker", "answer", "INC-1", "B001", "maybe"}, []string{`answer "maybe": want complied, refused, no_answer or returned`}},
		{"an escalation to nobody we know", []string{"broker", "escalated", "INC-1", "B001", "--to", "press"}, []string{`--to "press": want regulator or police`}},
		{"close without a reason", []string{"close", "INC-1"}, []string{"starter close: --reason is required", "usage: starter close INCIDENT_ID --reason WHY"}},
		{"a jurisdiction no regime has", []string{"facts", "change", "INC-1", "--reason", "r", "--jurisdictions", "JP-APPI,GDPR"}, []string{`no regime "GDPR"`, "EU-GDPR"}},
		{"no jurisdiction at all", []string{"facts", "change", "INC-1", "--reason", "r", "--jurisdictions", ","}, []string{"name at least one regime"}},
		{"start under a jurisdiction no regime has", []string{"start", "--runbook", "missend", "--title", "t", "--jurisdictions", "APPI"}, []string{`starter start: --jurisdictions: no regime "APPI"`, "JP-APPI"}},
		{"start without a title", []string{"start", "--runbook", "missend"}, []string{"starter start: --title is required"}},
		{"start aware a year from now", []string{"start", "--runbook", "missend", "--title", "t", "--aware-at", time.Now().AddDate(1, 0, 0).Format(time.RFC3339)},
			[]string{"is in the future (it is now"}},
		{"status without an incident", []string{"status"}, []string{"want INCIDENT_ID, got 0 argument(s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, errOut := runCLIErr(t, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// Flags may come before, between or after the IDs; --by defaults to
// cli:$USER.
func TestHumanSteps_ArgumentsInAnyOrderAndTheDefaultActor(t *testing.T) {
	t.Setenv("USER", "aiko")
	tests := []struct {
		name   string
		n      noun
		args   []string
		wantBy string
	}{
		{"flags after the IDs", taskNoun, []string{"done", "INC-1", "T1", "--note", "visited"}, "cli:aiko"},
		{"flags before the IDs", taskNoun, []string{"done", "--note", "visited", "INC-1", "T1"}, "cli:aiko"},
		{"flags between the IDs", recipientNoun, []string{"close", "INC-1", "--reason", "confirmed by post", "R00007"}, "cli:aiko"},
		{"--by names someone else", obligationNoun, []string{"not-required", "approve", "INC-1", "JP-APPI/final", "--by", "U0LEGAL"}, "U0LEGAL"},
		{"a filing at now", obligationNoun, []string{"file", "INC-1", "JP-APPI/final", "--reference", "R1", "--channel", "PPC web form", "--filed-at", "now"}, "cli:aiko"},
		{"the unauthorized purpose's time corrected", factsNoun, []string{"change", "INC-1", "--found-at", "2026-11-21T09:30:00+09:00", "--reason", "the log shows it earlier"}, "cli:aiko"},
		{"the unauthorized purpose found at a time", factsNoun, []string{"change", "INC-1", "--unauthorized", "--found-at", "2026-11-21T09:30:00+09:00", "--reason", "found resold"}, "cli:aiko"},
		{"a full fingerprint", broadcastNoun, []string{"approve", "INC-1", "2", "--fingerprint", strings.Repeat("ab", 32)}, "cli:aiko"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, s, err := tt.n.parse(tt.args)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if st == nil || s.by != tt.wantBy {
				t.Errorf("step %v, by %q, want %q", st != nil, s.by, tt.wantBy)
			}
		})
	}
}

// Recipient and broker-demand IDs typed in a hurry find the workflow the
// IDs name; anything else is sent as typed (and refused by Temporal).
func TestHumanSteps_RecipientAndDemandIDsAreWrittenAsTheWorkflowsNameThem(t *testing.T) {
	tests := []struct {
		arg, in, want string
	}{
		{argRecipient, "R00007", "R00007"},
		{argRecipient, "r00007", "R00007"},
		{argRecipient, "R0007", "R00007"},
		{argRecipient, "7", "R00007"},
		{argRecipient, " r7 ", "R00007"},
		{argRecipient, "R123456", "R123456"},
		{argRecipient, "R0", "R0"},
		{argRecipient, "R-7", "R-7"},
		{argRecipient, "X7", "X7"},
		{argDemand, "b1", "B001"},
		{argDemand, "B0001", "B001"},
		{argDemand, "B001", "B001"},
		{argIncident, "inc-20261122-bc6nd6", "inc-20261122-bc6nd6"},
		{argObligation, "JP-APPI/final", "JP-APPI/final"},
	}
	for _, tt := range tests {
		if got := normalizeID(tt.arg, tt.in); got != tt.want {
			t.Errorf("normalizeID(%s, %q) = %q, want %q", tt.arg, tt.in, got, tt.want)
		}
	}
}

func TestHumanSteps_HelpListsEveryStepAndExits0(t *testing.T) {
	code, out := runCLI(t, "help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, n := range stepNouns {
		for _, v := range n.verbs {
			if !strings.Contains(out, n.name+" "+v.name+" ") {
				t.Errorf("help lacks %s %s", n.name, v.name)
			}
		}
	}
	if code, out := runCLI(t, "broker", "help"); code != 0 || !strings.Contains(out, "record_broker_answer") {
		t.Errorf("broker help: exit %d\n%s", code, out)
	}
}

// The recall line accounts for every recipient: those asked and not yet
// settled are "in progress" (seed 000's demo: 49 confirmed, 3 confirmed one
// way of two, 1 unreachable); a close says so and shows the closed phase.
func TestStatus_RecallLineAddsUpAndCloseSaysClosed(t *testing.T) {
	st := workflows.IncidentStatus{IncidentID: "INC-20261122-BC6ND6", Title: "demo", Runbook: "missend-demo", Phase: workflows.PhaseRecall,
		Recall: workflows.RecallCounts{Total: 53, Requested: 53, PhoneConfirmed: 52, EmailConfirmed: 50, Confirmed: 49, Unreachable: 1}}
	tests := []struct {
		name  string
		print func(io.Writer)
		want  []string
	}{
		{"status", func(w io.Writer) { printStatus(w, st) }, []string{
			"phase recall\n",
			"recall: asked 53/53, confirmed by phone 52, by e-mail 50; confirmed 49, in progress 3, unreachable 1, closed by operator 0, pending 0\n"}},
		{"close", func(w io.Writer) { printClosed(w, st, "cli:aiko", "prevention report filed") }, []string{
			"INC-20261122-BC6ND6 closed by cli:aiko (prevention report filed); the worker writes its record to $BREACHFLOW_RECORD_DIR/INC-20261122-BC6ND6/",
			"phase closed\n", "in progress 3,"}},
		{"reconcile, nothing wrong", func(w io.Writer) {
			printReconciliation(w, workflows.RecallReconciliation{Checked: 4, Counts: st.Recall})
		}, []string{"checked 4 open recipient(s) against their Recall: every count was right\n",
			"now: 53 asked of 53, 49 confirmed, 1 unreachable, 0 closed, 0 pending\n"}},
		{"reconcile, one lost report", func(w io.Writer) {
			printReconciliation(w, workflows.RecallReconciliation{Checked: 4, Counts: st.Recall, Corrections: []workflows.CountCorrection{
				{RecipientID: "R01009", From: workflows.StatePending, To: workflows.StateConfirmed}}})
		}, []string{"1 corrected (their progress report never reached the incident)\n", "  R01009: confirmed, not pending\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tt.print(&b)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// incidentOnly answers the status query of one incident and knows no
// other workflow.
type incidentOnly struct{ st workflows.IncidentStatus }

func (f incidentOnly) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, errors.New("no updates here")
}

func (f incidentOnly) QueryWorkflow(_ context.Context, workflowID, _, _ string, _ ...any) (converter.EncodedValue, error) {
	if workflowID != workflows.IncidentWorkflowID(f.st.IncidentID) {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(f.st)
	if err != nil {
		return nil, err
	}
	return client.NewValue(p), nil
}

// A wrong obligation, broadcast, broker demand or recipient ID is answered
// with the IDs the incident has.
func TestHumanSteps_AWrongIDIsAnsweredWithTheIncidentsIDs(t *testing.T) {
	const id = "INC-20261122-684EEV"
	c := incidentOnly{workflows.IncidentStatus{IncidentID: id,
		Recall:      workflows.RecallCounts{Total: 53},
		Obligations: []workflows.ObligationSummary{{ObligationID: "JP-APPI/preliminary"}, {ObligationID: "JP-APPI/final"}},
		Broadcasts:  []workflows.BroadcastRef{{N: 1}, {N: 2}}}}
	tests := []struct {
		workflowID, want string
	}{
		{id + "/obligation/preliminary", "incident INC-20261122-684EEV's obligations: JP-APPI/preliminary, JP-APPI/final"},
		{id + "/broadcast/3", "incident INC-20261122-684EEV's broadcasts: 1, 2"},
		{id + "/broker/B001", "incident INC-20261122-684EEV has no broker demands yet"},
		{id + "/recall/R00099", "incident INC-20261122-684EEV's recipients are R00001 to R00053"},
		{"INC-20261122-NOSUCH/obligation/JP-APPI/final", ""},
		{id, ""},
	}
	for _, tt := range tests {
		if got := knownIDs(context.Background(), c, tt.workflowID); got != tt.want {
			t.Errorf("knownIDs(%s) = %q, want %q", tt.workflowID, got, tt.want)
		}
	}
}

// The help lists every top-level command, `sandbox declare` (which the demo
// uses) included.
func TestHelp_ListsEveryTopLevelCommand(t *testing.T) {
	code, out := runCLI(t, "help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"start --runbook", "status INCIDENT_ID", "close INCIDENT_ID", "validate FILE",
		"recipients check FILE", "recipients put FILE", "serve", "sandbox [--scenario", "sandbox declare",
		"search-attributes", "codec-server", "codec-key"} {
		if !strings.Contains(out, "\n  "+want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// closeCapture answers close_incident: it keeps what was sent and refuses
// it with refuse when set, as the Incident's validator would.
type closeCapture struct {
	client.Client // nothing else is called
	sent          []workflows.CloseIncident
	refuse        string
	st            workflows.IncidentStatus
}

func (f *closeCapture) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.sent = append(f.sent, o.Args[0].(workflows.CloseIncident))
	if f.refuse != "" {
		return nil, temporal.NewApplicationError(f.refuse, "")
	}
	return closedHandle{f.st}, nil
}

func (f *closeCapture) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, errors.New("no queries here")
}

type closedHandle struct{ st workflows.IncidentStatus }

func (closedHandle) WorkflowID() string { return "INC-1" }
func (closedHandle) RunID() string      { return "" }
func (closedHandle) UpdateID() string   { return "u" }
func (h closedHandle) Get(_ context.Context, v any) error {
	*(v.(*workflows.IncidentStatus)) = h.st
	return nil
}

// `starter close` sends stop_recalls only with --stop-recalls; the
// Incident's refusal (recipients still being asked) is printed as every
// refusal is, "refused: …", exit status 1; with --stop-recalls it says
// how many recipients it stops.
func TestClose_StopRecallsFlagAndTheRefusal(t *testing.T) {
	const refusal = "2 recipient(s) are still being asked to delete the data (R00002, R00003): close each with a reason (starter recipient close), or close the incident with --stop-recalls"
	st := workflows.IncidentStatus{IncidentID: "INC-1", Phase: workflows.PhaseRecall,
		Recall: workflows.RecallCounts{Total: 4, Requested: 3, Pending: 1, Confirmed: 1, Unreachable: 1}}
	tests := []struct {
		name     string
		args     []string
		refuse   string
		wantStop bool
		wantErr  string   // the exit error; empty: success
		wantOut  []string // on success
	}{
		{name: "refused while recipients are still being asked", args: []string{"close", "INC-1", "--reason", "done"}, refuse: refusal,
			wantErr: "refused: " + refusal},
		{name: "--stop-recalls stops asking them", args: []string{"close", "INC-1", "--reason", "done", "--stop-recalls"}, wantStop: true,
			wantOut: []string{"INC-1 closed by cli:aiko (done)",
				`stopping 3 recipient(s) still open (unreachable ones included): each ends closed_by_operator ("incident closed by cli:aiko: done"), and the record lists them`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("USER", "aiko")
			step, s, err := noun{verbs: []verb{closeVerb}}.parse(tt.args)
			require.NoError(t, err)
			fake := &closeCapture{refuse: tt.refuse, st: st}
			var out strings.Builder
			s.c, s.out = fake, &out

			err = explain(step(context.Background(), s))

			require.Len(t, fake.sent, 1)
			require.Equal(t, workflows.CloseIncident{By: "cli:aiko", Reason: "done", StopRecalls: tt.wantStop}, fake.sent[0])
			if tt.wantErr != "" {
				var ee exitError
				require.ErrorAs(t, err, &ee)
				require.Equal(t, 1, ee.code)
				require.Equal(t, tt.wantErr, ee.msg)
				return
			}
			require.NoError(t, err)
			for _, w := range tt.wantOut {
				require.Contains(t, out.String(), w)
			}
		})
	}
}

// `recipient status` tells a recipient's story in the order it happened:
// requests, provider reports and confirmations interleaved by time.
func TestRecipientStatus_HistoryIsOneTimelineOldestFirst(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)
	r := workflows.RecallStatus{
		RecipientID: "R00007", State: workflows.StateConfirmed,
		Attempts: []workflows.Attempt{
			{Channel: "email", N: 1, At: t0, Outcome: "sent"},
			{Channel: "voice", N: 1, At: t0.Add(2 * time.Hour), Outcome: "answered"},
		},
		Events: []workflows.DeliveryEvent{
			{Channel: "email", Kind: workflows.DeliveryBounced, Evidence: workflows.Evidence{ReceivedAt: t0.Add(time.Hour)}},
		},
		Confirmations: []workflows.ConfirmationRecord{
			{Channel: "phone", At: t0.Add(3 * time.Hour), Evidence: workflows.Evidence{Source: "voice"}},
		},
	}
	var b strings.Builder
	printRecall(&b, r)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 5)
	for k, want := range []string{"email #1: sent", "email: bounced", "voice #1: answered", "confirmed by phone (voice)"} {
		require.True(t, strings.HasSuffix(lines[k+1], want), "line %d is %q, want it to end with %q", k+1, lines[k+1], want)
	}
}

// The CLI writes times in the organisation's zone (Asia/Tokyo unless
// BREACHFLOW_TIMEZONE says otherwise), never the machine's, and lateness in
// words, never as a Go duration.
func TestObligationBrief_TimesAndLatenessForPeople(t *testing.T) {
	due := time.Date(2026, 11, 15, 14, 59, 0, 0, time.UTC) // 23:59 JST
	var b strings.Builder
	printObligationBrief(&b, workflows.ObligationStatus{ObligationID: "JP-APPI/preliminary", State: "filed",
		Filing: &workflows.FilingRecord{RecordFiling: workflows.RecordFiling{FiledAt: due.Add(409 * time.Hour), Channel: "portal", Reference: "R-1", By: "cli:dpo"}, Late: true, Lateness: 409 * time.Hour}})
	printObligationBrief(&b, workflows.ObligationStatus{ObligationID: "JP-APPI/final", State: "pending", Due: due})
	out := b.String()
	for _, want := range []string{"filed 2026-12-03 00:59 JST", "(17 days 1 hour late)", "due 2026-11-15 23:59 JST"} {
		require.Contains(t, out, want)
	}
	for _, never := range []string{"409h", "UTC", "late by"} {
		require.NotContains(t, out, never)
	}
}

// --json gives every time the same way: RFC 3339 to the second, with the
// CLI zone's offset, whatever the workflow stored (UTC with nanoseconds,
// +09:00); a time never set is null.
func TestJSONTimesAreOneForm(t *testing.T) {
	var out strings.Builder
	s := &session{out: &out, asJSON: true}
	v := struct {
		Task     time.Time `json:"task"`
		Due      time.Time `json:"due"`
		Reported time.Time `json:"reported"`
	}{
		Task: time.Date(2026, 12, 7, 2, 16, 5, 123456789, time.UTC),
		Due:  time.Date(2026, 12, 11, 23, 59, 0, 0, time.FixedZone("", 9*3600)),
	}
	require.NoError(t, s.print(v, nil))
	require.JSONEq(t, `{"task":"2026-12-07T11:16:05+09:00","due":"2026-12-11T23:59:00+09:00","reported":null}`, out.String())
}

// statuses answers the status query of the workflows it holds, by ID.
type statuses struct {
	client.Client // nothing else is called
	byID          map[string]any
}

func (f statuses) QueryWorkflow(_ context.Context, workflowID, _, _ string, _ ...any) (converter.EncodedValue, error) {
	v, ok := f.byID[workflowID]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(v)
	if err != nil {
		return nil, err
	}
	return client.NewValue(p), nil
}

// `starter status` takes any ID the Temporal UI shows and shows that item;
// an ID that names nothing is "not found", exit status 3, not a refusal.
func TestStatus_AnyIDTheUIShows(t *testing.T) {
	const id = "INC-20261122-684EEV"
	c := statuses{byID: map[string]any{
		id:                    workflows.IncidentStatus{IncidentID: id, Title: "会員情報ファイルの誤送信", Recall: workflows.RecallCounts{Total: 53}},
		id + "/recall/R00001": workflows.RecallStatus{RecipientID: "R00001", State: workflows.StateConfirmed},
		id + "/obligation/JP-APPI/final": workflows.ObligationStatus{ObligationID: "JP-APPI/final", State: "drafted",
			Due: time.Date(2026, 12, 11, 14, 59, 0, 0, time.UTC)},
	}}
	tests := []struct {
		id       string
		code     int // exit status; 0 for success
		wantOut  string
		wantFail string
	}{
		{id, 0, "会員情報ファイルの誤送信", ""},
		{id + "/recall/R00001", 0, "R00001", ""},
		{id + "/obligation/JP-APPI/final", 0, "JP-APPI/final", ""},
		{id + "/recall/R00099", exitNotFound, "", "not found: no incident, recipient, obligation, notice or letter has the ID " + id + "/recall/R00099"},
		{"INC-20261122-NOSUCH", exitNotFound, "", "not found: "},
		{id + "/frobnicate/1", 2, "", "is not an ID breachflow gives"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			step, s, err := noun{verbs: []verb{statusVerb}}.parse([]string{"status", tt.id})
			require.NoError(t, err)
			var out strings.Builder
			s.c, s.out = c, &out
			err = explain(step(context.Background(), s))
			if tt.code == 0 {
				require.NoError(t, err)
				require.Contains(t, out.String(), tt.wantOut)
				require.NotContains(t, out.String(), "0001-01-01")
				return
			}
			var ee exitError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, tt.code, ee.code)
			require.Contains(t, ee.msg, tt.wantFail)
			require.NotContains(t, ee.msg, "refused")
		})
	}
}

// `broker status` says why a letter failed, without --json.
func TestDemandStatus_SaysWhyTheLetterFailed(t *testing.T) {
	var b strings.Builder
	printDemand(&b, workflows.BrokerDemandStatus{DemandID: "B001", State: workflows.DemandLetterFailed,
		Failure: "the letter cannot be set in the PDF font:\n「髙」 (U+9AD9) in the addressee's name"})
	out := b.String()
	require.Contains(t, out, "B001: letter_failed: the letter cannot be set in the PDF font: 「髙」 (U+9AD9) in the addressee's name")
}

// reviseCapture answers a broadcast's status query and keeps the revision
// it is sent.
type reviseCapture struct {
	client.Client // nothing else is called
	st            workflows.BroadcastStatus
	sent          []workflows.ReviseBroadcast
}

func (f *reviseCapture) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	p, err := converter.GetDefaultDataConverter().ToPayloads(f.st)
	if err != nil {
		return nil, err
	}
	return client.NewValue(p), nil
}

func (f *reviseCapture) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.sent = append(f.sent, o.Args[0].(workflows.ReviseBroadcast))
	return broadcastHandle{f.st}, nil
}

type broadcastHandle struct{ st workflows.BroadcastStatus }

func (broadcastHandle) WorkflowID() string { return "INC-1/broadcast/1" }
func (broadcastHandle) RunID() string      { return "" }
func (broadcastHandle) UpdateID() string   { return "u" }
func (h broadcastHandle) Get(_ context.Context, v any) error {
	*(v.(*workflows.BroadcastStatus)) = h.st
	return nil
}

// `broadcast revise` replaces the items given and keeps the others, under
// the same number; it needs a reason and something to revise.
func TestBroadcastRevise_ChangesOnlyWhatIsGiven(t *testing.T) {
	cur := activities.NoticeItems{Summary: "会員情報を含むファイルを誤って送信しました。", DataItems: []string{"氏名", "メールアドレス"},
		Cause: "宛先の確認漏れ", SecondaryHarm: "現時点で確認されていません"}
	fake := &reviseCapture{st: workflows.BroadcastStatus{BroadcastID: "INC-1/broadcast/1", State: workflows.BroadcastRefused, Items: cur}}
	step, s, err := broadcastNoun.parse([]string{"revise", "INC-1", "1", "--reason", "the summary quoted a name", "--summary", "会員情報を含むファイルを誤って送信しました（詳細は個別にご連絡します）。"})
	require.NoError(t, err)
	var out strings.Builder
	s.c, s.out = fake, &out
	require.NoError(t, explain(step(context.Background(), s)))
	require.Len(t, fake.sent, 1)
	got := fake.sent[0]
	require.Equal(t, "the summary quoted a name", got.Reason)
	require.NotNil(t, got.Items)
	want := cur
	want.Summary = "会員情報を含むファイルを誤って送信しました（詳細は個別にご連絡します）。"
	require.Equal(t, want, *got.Items)
	require.Nil(t, got.List)

	for _, args := range [][]string{
		{"revise", "INC-1", "1", "--summary", "x"},                 // no reason
		{"revise", "INC-1", "1", "--reason", "nothing else given"}, // nothing to revise
	} {
		_, _, err := broadcastNoun.parse(args)
		require.Error(t, err, "%v", args)
	}
}
