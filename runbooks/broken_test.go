package runbooks_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

// TestBrokenRunbooks is the specification of the loader's diagnostics: each
// file under testdata/broken is loaded and must produce exactly these
// problems, in this order, in one pass.
func TestBrokenRunbooks(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{
			file: "bad-broadcast.yaml",
			want: []string{
				"bad-broadcast.yaml:7:13: phases.broadcast.quorum: must be 1 or more, not 0 (hint: require at least 1 approval; 2 or more keeps a second pair of eyes on a mass mailing)",
				"bad-broadcast.yaml:8:24: phases.broadcast.approvers[1]: \"legal\" is listed twice (hint: remove the duplicate)",
				"bad-broadcast.yaml:9:17: phases.broadcast.batch_size: 5000 is out of range (hint: use 1 to 1000, or leave it out for 100)",
				"bad-broadcast.yaml:12:13: phases.broadcast.template.subject.ja: a subject must not contain a line break (hint: keep the subject on one line)",
				"bad-broadcast.yaml:13:13: phases.broadcast.template.subject.en: template: subject.en: unknown field .Organisation; a notice knows ContactEmail, ContactHours, ContactPhone, IncidentID, Organization (hint: write Go text/template; see Templates in docs/runbooks.md)",
				"bad-broadcast.yaml:15:13: phases.broadcast.template.body.ja: template: body.ja:2: unexpected EOF (hint: write Go text/template; see Templates in docs/runbooks.md)",
				"bad-broadcast.yaml:17:13: phases.broadcast.template.body.en: template: body.en: {{range}} is not supported: a notice has no lists (hint: write Go text/template; see Templates in docs/runbooks.md)",
			},
		},
		{
			file: "bad-contain.yaml",
			want: []string{
				"bad-contain.yaml:8:9: phases.contain.tasks[0].escalate_to: missing: escalate_at needs someone to escalate to (hint: name the role to escalate to, e.g. management)",
				"bad-contain.yaml:10:16: phases.contain.tasks[0].owner: \"Security Lead\" is not a role name (hint: roles are lower-case slugs such as security-lead or legal)",
				"bad-contain.yaml:12:25: phases.contain.tasks[0].reminders[1]: reminder at 1h does not come after 2h (hint: list reminders from the earliest to the latest)",
				"bad-contain.yaml:12:29: phases.contain.tasks[0].reminders[2]: reminder at 1d is not before the due time 1d (hint: remind before the task is due; use escalate_at for later)",
				"bad-contain.yaml:12:33: phases.contain.tasks[0].reminders[3]: must be longer than 0 (hint: reminders are offsets from the declaration, e.g. 4h)",
				"bad-contain.yaml:14:9: phases.contain.tasks[1].escalate_at: missing: escalate_to needs a time to escalate at (hint: add escalate_at, e.g. the due time)",
				"bad-contain.yaml:14:13: phases.contain.tasks[1].id: task id \"cut-access\" is already used on line 8 (hint: give each task its own id)",
				"bad-contain.yaml:15:29: phases.contain.tasks[1].title.en: must not be empty (hint: write the English text)",
				"bad-contain.yaml:17:14: phases.contain.tasks[1].due: must be longer than 0 (hint: write how long after the declaration the task is due, e.g. 1d)",
				"bad-contain.yaml:23:22: phases.contain.tasks[2].escalate_at: must be longer than 0 (hint: write when to escalate after the declaration, e.g. the due time)",
				"bad-contain.yaml:24:22: phases.contain.tasks[2].escalate_to: \"Management\" is not a role name (hint: roles are lower-case slugs such as security-lead or legal)",
			},
		},
		{
			file: "bad-daily-report.yaml",
			want: []string{
				"bad-daily-report.yaml:7:9: phases.daily_report.at: 24:00 is not a time of day (hint: use 00:00 for midnight)",
				"bad-daily-report.yaml:8:16: phases.daily_report.time_zone: \"Local\" is not allowed (hint: name the zone, e.g. Asia/Tokyo: 'Local' differs from machine to machine)",
				"bad-daily-report.yaml:9:17: phases.daily_report.audiences[0]: unknown audience \"everyone\" (hint: use affected, management, slack)",
				"bad-daily-report.yaml:9:34: phases.daily_report.audiences[2]: audience \"slack\" is listed twice (hint: remove the duplicate)",
				"bad-daily-report.yaml:11:17: phases.daily_report.stop.min_days: must be 0 or more, not -1 (hint: write 0 or more days)",
				"bad-daily-report.yaml:12:24: phases.daily_report.stop.confirmed_ratio: must be between 0 and 1, not 1.5 (hint: write a share between 0 and 1, e.g. 0.98 for 98% of wrong recipients confirmed)",
			},
		},
		{
			file: "bad-identity.yaml",
			want: []string{
				"bad-identity.yaml:2:5: id: \"Missend_v2\" is not a lower-case slug (hint: use lower-case letters, digits and single hyphens, starting with a letter, at most 64 characters, e.g. missend)",
				"bad-identity.yaml:3:10: version: must be 1 or more, not 0 (hint: start at 1 and raise it with every change)",
				"bad-identity.yaml:5:7: title.ja: must not be empty (hint: write the Japanese text)",
				"bad-identity.yaml:8:3: description.ja: missing (hint: add 'ja:' to this block)",
				"bad-identity.yaml:9:11: regimes[0]: \"jp-appi\" is not a regime ID (hint: regime IDs are upper-case words joined by hyphens, e.g. JP-APPI)",
				"bad-identity.yaml:9:29: regimes[2]: \"JP-APPI\" is listed twice (hint: remove the duplicate)",
				"bad-identity.yaml:10:9: phases: no phase: the runbook would do nothing (hint: add at least one of contain, obligations, recall, broadcast, daily_report, broker_demands, close)",
			},
		},
		{
			file: "bad-recall.yaml",
			want: []string{
				"bad-recall.yaml:7:22: phases.recall.request[1]: unknown channel \"fax\" (hint: use email, voice or sms)",
				"bad-recall.yaml:7:27: phases.recall.request[2]: channel \"voice\" is listed twice (hint: remove the duplicate)",
				"bad-recall.yaml:8:15: phases.recall.confirm[0]: email confirmation needs a channel that carries the confirmation link (hint: add email (or sms) to request, or remove email from confirm)",
				"bad-recall.yaml:8:29: phases.recall.confirm[2]: confirmation \"phone\" is listed twice (hint: remove the duplicate)",
				"bad-recall.yaml:8:36: phases.recall.confirm[3]: unknown confirmation \"letter\" (hint: use email or phone)",
				"bad-recall.yaml:10:7: phases.recall.retry.voice: no retry schedule for channel \"voice\" (hint: add retry.voice with intervals and max_attempts)",
				"bad-recall.yaml:11:9: phases.recall.retry.sms: retry schedule for \"sms\", which is not a request channel (hint: remove it, or add sms to request)",
				"bad-recall.yaml:15:12: phases.recall.calling_hours.end: calling hours end at 09:00, not after they start at 20:00 (hint: end after start on the same day, e.g. 09:00 to 20:00)",
				"bad-recall.yaml:16:18: phases.recall.calling_hours.time_zone: unknown time zone \"Asia/Tokio\" (hint: write an IANA time zone, e.g. Asia/Tokyo, Europe/Berlin or UTC)",
				"bad-recall.yaml:17:18: phases.recall.concurrency: 5000 is out of range (hint: use 1 to 2000, or leave it out for 200)",
				"bad-recall.yaml:20:14: phases.recall.unreachable.owner: must not be empty (hint: name a role, e.g. security-lead)",
				"bad-recall.yaml:21:17: phases.recall.unreachable.reminder: must be longer than 0 (hint: write how often the owner is reminded, e.g. 1d)",
			},
		},
		{
			file: "bad-retry.yaml",
			want: []string{
				"bad-retry.yaml:7:5: phases.recall.calling_hours: missing: voice and sms need calling hours (hint: add calling_hours: {start: \"09:00\", end: \"20:00\", time_zone: Asia/Tokyo})",
				"bad-retry.yaml:11:20: phases.recall.retry.email.intervals: no interval (hint: list the waits between attempts, e.g. [2h, 1d]; the last one repeats)",
				"bad-retry.yaml:12:23: phases.recall.retry.email.max_attempts: must be 1 or more, not 0 (hint: allow at least 1 attempt)",
				"bad-retry.yaml:14:9: phases.recall.retry.sms.max_attempts: missing (hint: add 'max_attempts:' to this block)",
				"bad-retry.yaml:14:21: phases.recall.retry.sms.intervals[0]: must be longer than 0 (hint: write a wait such as 2h)",
				"bad-retry.yaml:15:18: phases.recall.concurrency: -1 is out of range (hint: use 1 to 2000, or leave it out for 200)",
			},
		},
		{
			file: "decode-errors.yaml",
			want: []string{
				"decode-errors.yaml:5:10: version: expected a whole number, got \"one\"",
				"decode-errors.yaml:6:1: owner: unknown key \"owner\" (hint: known keys here: description, id, kind, phases, regimes, title, version)",
				"decode-errors.yaml:11:3: phases.recal: unknown key \"recal\" (hint: known keys here: broadcast, broker_demands, close, contain, daily_report, obligations, recall)",
				"decode-errors.yaml:18:14: phases.contain.tasks[0].due: duration \"soon\": expected a number at \"soon\" (hint: write numbers with units s, m, h, d or w, e.g. 30m, 2h, 3d, 1w2d)",
				"decode-errors.yaml:19:20: phases.contain.tasks[0].reminders: expected a list, got \"1h\" (hint: write a YAML list: one '- item' per line, or [a, b])",
				"decode-errors.yaml:21:28: phases.close.prevention_report_due: duration \"2 weeks\": unknown unit \" weeks\" (hint: use s, m, h, d or w after each number, e.g. 2w or 1d12h)",
			},
		},
		{
			file: "empty-phases.yaml",
			want: []string{
				"empty-phases.yaml:7:10: phases.recall: empty (hint: fill it in, or remove the key)",
				"empty-phases.yaml:9:5: phases.obligations: no regime to follow (hint: list regimes at the top (regimes: [JP-APPI]) or in phases.obligations.regimes)",
				"empty-phases.yaml:9:13: phases.obligations.notify: no role (hint: list at least one role, e.g. [security-lead])",
				"empty-phases.yaml:11:28: phases.close.prevention_report_due: must be longer than 0 (hint: write when the prevention report is due after the declaration, e.g. 60d)",
			},
		},
		{
			file: "empty.yaml",
			want: []string{
				"empty.yaml:1:1: the file is empty (hint: a runbook or regime file starts with 'kind:')",
			},
		},
		{
			file: "missing-keys.yaml",
			want: []string{
				"missing-keys.yaml:2:1: kind: missing (hint: start the file with 'kind: runbook')",
				"missing-keys.yaml:2:1: version: missing (hint: add 'version: 1')",
				"missing-keys.yaml:2:1: phases: missing (hint: add 'phases:' with at least one phase; see docs/runbooks.md)",
				"missing-keys.yaml:4:3: title.en: missing (hint: add 'en:' to this block)",
			},
		},
		{
			file: "not-a-mapping.yaml",
			want: []string{
				"not-a-mapping.yaml:1:1: expected a mapping of keys, got a list",
			},
		},
		{
			file: "ratio-without-recall.yaml",
			want: []string{
				"ratio-without-recall.yaml:12:24: phases.daily_report.stop.confirmed_ratio: counts confirmed wrong recipients, but the runbook has no recall phase (hint: set it to 0, or add a recall phase)",
			},
		},
		{
			file: "regime-file.yaml",
			want: []string{
				"regime-file.yaml:2:7: kind: this is a regime file, not a runbook (hint: load it as a regime, or start a runbook with 'kind: runbook')",
			},
		},
		{
			file: "report-never-sent.yaml",
			want: []string{
				"report-never-sent.yaml:8:9: phases.daily_report.at: time of day \"9:00\" is not HH:MM (hint: write two digits for hours and minutes, quoted, e.g. \"09:00\")",
				"report-never-sent.yaml:9:16: phases.daily_report.time_zone: must not be empty (hint: write an IANA time zone, e.g. Asia/Tokyo)",
				"report-never-sent.yaml:10:16: phases.daily_report.audiences: no audience (hint: list audiences, e.g. [affected, management, slack])",
				"report-never-sent.yaml:12:7: phases.daily_report.stop: holds from the start: no report would ever be sent (hint: set min_days (e.g. 7), confirmed_ratio (e.g. 0.98) or then_on_change_only: true)",
				"report-never-sent.yaml:16:22: phases.broker_demands.response_window: must be longer than 0 (hint: write how long brokers have to answer, e.g. 2w)",
			},
		},
		{
			file: "syntax-error.yaml",
			want: []string{
				"syntax-error.yaml:3:1: YAML syntax: did not find expected ',' or '}' (hint: check indentation (spaces, not tabs) and quoting)",
			},
		},
		{
			file: "two-documents.yaml",
			want: []string{
				"two-documents.yaml:3:1: more than one YAML document in the file (hint: remove the '---' separator; one file holds one runbook or regime)",
			},
		},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "broken", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			snap, diags := runbooks.Load(tt.file, data)
			got := make([]string, len(diags))
			for i, d := range diags {
				got[i] = d.String()
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("diagnostics differ\n got:\n%s\nwant:\n%s", lines(got), lines(tt.want))
			}
			if snap.SHA256 != "" || snap.Runbook.ID != "" {
				t.Errorf("a runbook with problems must give the zero Snapshot, got %+v", snap)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no expected diagnostics in this table", f)
		}
	}
}

func lines(ss []string) string {
	var out string
	for _, s := range ss {
		out += "\t" + s + "\n"
	}
	return out
}

func TestLoadFileReportsAnUnreadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, diags := runbooks.LoadFile(path)
	want := path + ":1:1: cannot read the file: no such file or directory (hint: check the path and that the file is readable)"
	if len(diags) != 1 || diags[0].String() != want {
		t.Errorf("LoadFile(absent) = %v, want [%s]", diags, want)
	}
}

func TestLoadFileUsesThePathAsFileAndSource(t *testing.T) {
	path := filepath.Join("testdata", "broken", "regime-file.yaml")
	_, diags := runbooks.LoadFile(path)
	if len(diags) != 1 || diags[0].File != path {
		t.Fatalf("LoadFile(%s) = %v, want one diagnostic naming the path", path, diags)
	}
	snap, diags := runbooks.LoadFile("missend.yaml")
	if len(diags) != 0 || snap.Source != "missend.yaml" {
		t.Errorf("LoadFile(missend.yaml) source %q, diagnostics %v", snap.Source, diags)
	}
}
