package runbooks_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

// recallRunbook is a small valid runbook whose recall phase the cases below
// replace.
const recallRunbook = `kind: runbook
id: case
version: 1
title: {ja: 事例, en: Case}
regimes: [JP-APPI]
phases:
  recall:
%s
`

const unreachable = `    unreachable:
      title: {ja: 連絡不能, en: Unreachable}
      owner: support
      reminder: 1d`

func TestRecallRules(t *testing.T) {
	tests := []struct {
		name   string
		recall string
		want   []string // exact diagnostics; nil means the runbook is valid
	}{
		{
			name: "email only needs no calling hours",
			recall: `    request: [email]
    confirm: [email]
    retry: {email: {intervals: [1d], max_attempts: 3}}
` + unreachable,
		},
		{
			name: "the confirmation link may travel by SMS",
			recall: `    request: [sms]
    confirm: [email]
    retry: {sms: {intervals: [4h], max_attempts: 3}}
    calling_hours: {start: "09:00", end: "20:00", time_zone: Asia/Tokyo}
` + unreachable,
		},
		{
			name: "phone confirmation without voice is done by operators' calls",
			recall: `    request: [email]
    confirm: [phone, email]
    retry: {email: {intervals: [1d], max_attempts: 3}}
` + unreachable,
		},
		{
			name: "calling hours may end at 24:00 and use any IANA zone",
			recall: `    request: [voice]
    confirm: [phone]
    retry: {voice: {intervals: [2h], max_attempts: 5}}
    calling_hours: {start: "08:00", end: "24:00", time_zone: Europe/Berlin}
    concurrency: 2000
` + unreachable,
		},
		{
			name: "calling hours of zero length",
			recall: `    request: [voice]
    confirm: [phone]
    retry: {voice: {intervals: [2h], max_attempts: 5}}
    calling_hours: {start: "09:00", end: "09:00", time_zone: UTC}
` + unreachable,
			want: []string{`case.yaml:11:42: phases.recall.calling_hours.end: calling hours end at 09:00, not after they start at 09:00 (hint: end after start on the same day, e.g. 09:00 to 20:00)`},
		},
		{
			name: "a missing unreachable task and retry",
			recall: `    request: [email]
    confirm: [email]`,
			want: []string{
				`case.yaml:8:5: phases.recall.retry: missing (hint: add 'retry:' to this block)`,
				`case.yaml:8:5: phases.recall.unreachable: missing (hint: add 'unreachable:' to this block)`,
			},
		},
		{
			name: "no channel and no confirmation",
			recall: `    request: []
    confirm: []
    retry: {}
` + unreachable,
			want: []string{
				`case.yaml:8:14: phases.recall.request: no channel (hint: list channels, e.g. [email, voice])`,
				`case.yaml:9:14: phases.recall.confirm: no confirmation (hint: list confirmations, e.g. [phone, email])`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(recallRunbook, "%s", tt.recall, 1)
			_, diags := runbooks.Load("case.yaml", []byte(src))
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q\nsource:\n%s", got, tt.want, src)
			}
		})
	}
}

func TestLoadNormalizesEmptyLists(t *testing.T) {
	src := `kind: runbook
id: case
version: 1
title: {ja: 事例, en: Case}
regimes: []
phases:
  contain:
    tasks:
      - id: stop
        title: {ja: 停止, en: Stop}
        owner: security
        due: 1h
        reminders: []
  obligations:
    regimes: [EU-GDPR]
    notify: [privacy-officer]
    escalate: []
`
	snap, diags := runbooks.Load("case.yaml", []byte(src))
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	rb := snap.Runbook
	if rb.Regimes != nil || rb.Phases.Contain.Tasks[0].Reminders != nil || rb.Phases.Obligations.Escalate != nil {
		t.Errorf("empty lists must load as nil: regimes %#v, reminders %#v, escalate %#v",
			rb.Regimes, rb.Phases.Contain.Tasks[0].Reminders, rb.Phases.Obligations.Escalate)
	}
}

func TestDetectKind(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"runbook", "# comment\nkind: runbook\nid: x\n", "runbook"},
		{"regime", "id: JP-APPI\nkind: regime\n", "regime"},
		{"no kind", "id: x\n", ""},
		{"kind is not text", "kind: [runbook]\n", ""},
		{"kind is a number", "kind: 1\n", ""},
		{"not a mapping", "- kind: runbook\n", ""},
		{"not YAML", "kind: [\n", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runbooks.DetectKind([]byte(tt.src)); got != tt.want {
				t.Errorf("DetectKind(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestEffectiveDefaults(t *testing.T) {
	tests := []struct {
		name      string
		got, want int
	}{
		{"concurrency left out", runbooks.RecallPhase{}.EffectiveConcurrency(), runbooks.DefaultConcurrency},
		{"concurrency set", runbooks.RecallPhase{Concurrency: 7}.EffectiveConcurrency(), 7},
		{"batch size left out", runbooks.BroadcastPhase{}.EffectiveBatchSize(), runbooks.DefaultBatchSize},
		{"batch size set", runbooks.BroadcastPhase{BatchSize: 500}.EffectiveBatchSize(), 500},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}
