package runbooks_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

// seedFacts is what a built-in runbook must say, in words a reader can
// check against the seed notice.
type seedFacts struct {
	phases        []string // YAML keys of the phases that run
	regimes       []string
	taskIDs       []string // containment checklist, in order
	request       []runbooks.Channel
	confirm       []runbooks.Confirmation
	callingHours  string // "09:00-20:00 Asia/Tokyo", "" without calls
	quorum        int    // broadcast approvals, 0 without broadcast
	dailyReport   string // "18:00 Asia/Tokyo to [...]: daily for 7d and until 98% confirmed, then on change"
	brokerWindow  string // broker answer window, "" without broker demands
	preventionDue string
}

func summarize(rb runbooks.Runbook) seedFacts {
	var f seedFacts
	pv := reflect.ValueOf(rb.Phases)
	for i := range pv.NumField() {
		if !pv.Field(i).IsNil() {
			key, _, _ := strings.Cut(pv.Type().Field(i).Tag.Get("yaml"), ",")
			f.phases = append(f.phases, key)
		}
	}
	f.regimes = rb.Regimes
	p := rb.Phases
	if p.Contain != nil {
		for _, t := range p.Contain.Tasks {
			f.taskIDs = append(f.taskIDs, t.ID)
		}
	}
	if r := p.Recall; r != nil {
		f.request, f.confirm = r.Request, r.Confirm
		if r.NeedsCallingHours() {
			h := r.CallingHours
			f.callingHours = fmt.Sprintf("%s-%s %s", h.Start, h.End, h.TimeZone)
		}
	}
	if b := p.Broadcast; b != nil {
		f.quorum = b.Quorum
	}
	if d := p.DailyReport; d != nil {
		then := "then stop"
		if d.Stop.ThenOnChangeOnly {
			then = "then on change"
		}
		f.dailyReport = fmt.Sprintf("%s %s to %v: daily for %dd and until %.0f%% confirmed, %s",
			d.At, d.TimeZone, d.Audiences, d.Stop.MinDays, d.Stop.ConfirmedRatio*100, then)
	}
	if b := p.BrokerDemands; b != nil {
		f.brokerWindow = b.ResponseWindow.String()
	}
	if c := p.Close; c != nil {
		f.preventionDue = c.PreventionReportDue.String()
	}
	return f
}

func TestBuiltinsEncodeTheirSeeds(t *testing.T) {
	tests := []struct {
		id   string
		seed string
		want seedFacts
	}{
		{
			id:   "missend",
			seed: "000: a file mailed to 53 wrong members; asked by e-mail and phone, confirmed by phone and e-mail until all done",
			want: seedFacts{
				phases:        []string{"contain", "obligations", "recall", "broadcast", "daily_report", "close"},
				regimes:       []string{"JP-APPI"},
				taskIDs:       []string{"stop-sending", "engage-counsel", "open-contact-desk", "monitor-secondary-harm"},
				request:       []runbooks.Channel{runbooks.ChannelEmail, runbooks.ChannelVoice},
				confirm:       []runbooks.Confirmation{runbooks.ConfirmPhone, runbooks.ConfirmEmail},
				callingHours:  "09:00-20:00 Asia/Tokyo",
				quorum:        2,
				dailyReport:   "18:00 Asia/Tokyo to [affected management slack]: daily for 7d and until 98% confirmed, then on change",
				preventionDue: "8w4d", // 60 days: "by December"
			},
		},
		{
			id:   "insider-exfiltration",
			seed: "001: a former employee put 185,637 records on a rented server; containment checklist, letters to all",
			want: seedFacts{
				phases:  []string{"contain", "obligations", "broadcast", "daily_report", "close"},
				regimes: []string{"JP-APPI"},
				taskIDs: []string{
					"visit-ex-employee", "cut-server-access", "take-server-offline", "remove-search-results",
					"take-custody-of-media", "rescan-internal-networks", "block-online-storage", "purge-old-files",
					"outside-forensics", "check-other-employees", "verify-counts",
				},
				quorum:        2,
				dailyReport:   "18:00 Asia/Tokyo to [management slack]: daily for 14d and until 0% confirmed, then on change",
				preventionDue: "17w",
			},
		},
		{
			id:   "list-broker-resale",
			seed: "002: an insider sold millions of records to list brokers; DB shut down, police and regulator, demands to brokers, call centre",
			want: seedFacts{
				phases:  []string{"contain", "obligations", "broadcast", "daily_report", "broker_demands", "close"},
				regimes: []string{"JP-APPI"},
				taskIDs: []string{
					"set-up-task-force", "shut-down-database", "consult-police", "consult-regulator",
					"match-broker-list", "identify-brokers-and-users", "open-call-centre", "pause-new-sales",
					"tighten-database-access", "outside-audit",
				},
				quorum:        2,
				dailyReport:   "18:00 Asia/Tokyo to [management slack]: daily for 14d and until 0% confirmed, then on change",
				brokerWindow:  "2w",
				preventionDue: "8w4d",
			},
		},
		{
			id:   "visible-recipients",
			seed: "003: 29 addresses visible to each other; deletion request by e-mail, bounces need a person, explanation to all subscribers, two-person check",
			want: seedFacts{
				phases:        []string{"contain", "obligations", "recall", "broadcast", "close"},
				regimes:       []string{"JP-APPI"},
				taskIDs:       []string{"stop-mailing", "two-person-check", "adopt-mailing-software", "publish-web-apology"},
				request:       []runbooks.Channel{runbooks.ChannelEmail},
				confirm:       []runbooks.Confirmation{runbooks.ConfirmEmail},
				quorum:        2,
				preventionDue: "4w",
			},
		},
		{
			id:   "addresses-in-body",
			seed: "004: 13,011 addresses in the body, 1,016 received it; deletion request to them, apology to all with three approvals",
			want: seedFacts{
				phases:        []string{"contain", "obligations", "recall", "broadcast", "close"},
				regimes:       []string{"JP-APPI"},
				taskIDs:       []string{"stop-sending", "convene-privacy-committee", "pause-mailings", "rebuild-sending-system", "staff-training"},
				request:       []runbooks.Channel{runbooks.ChannelEmail},
				confirm:       []runbooks.Confirmation{runbooks.ConfirmEmail},
				quorum:        3,
				preventionDue: "4w2d",
			},
		},
	}
	var ids []string
	for _, tt := range tests {
		ids = append(ids, tt.id)
		t.Run(tt.id, func(t *testing.T) {
			snap, err := runbooks.Builtin(tt.id)
			if err != nil {
				t.Fatalf("Builtin(%q): %v", tt.id, err)
			}
			if got := summarize(snap.Runbook); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("seed %s\n got %+v\nwant %+v", tt.seed, got, tt.want)
			}
		})
	}
	slices.Sort(ids)
	if got := runbooks.BuiltinIDs(); !slices.Equal(got, ids) {
		t.Errorf("BuiltinIDs() = %v; every built-in needs a row here, want %v", got, ids)
	}
}

func TestBuiltinSnapshotNamesItsBytes(t *testing.T) {
	for _, id := range runbooks.BuiltinIDs() {
		t.Run(id, func(t *testing.T) {
			data, err := os.ReadFile(id + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)

			snap, err := runbooks.Builtin(id)
			if err != nil {
				t.Fatal(err)
			}
			if want := hex.EncodeToString(sum[:]); snap.SHA256 != want {
				t.Errorf("SHA256 = %s, want %s", snap.SHA256, want)
			}
			if want := "builtin:" + id; snap.Source != want {
				t.Errorf("Source = %q, want %q", snap.Source, want)
			}
			if snap.Runbook.ID != id || snap.Runbook.Kind != runbooks.KindRunbook || snap.Runbook.Version < 1 {
				t.Errorf("runbook kind/id/version = %q/%q/%d", snap.Runbook.Kind, snap.Runbook.ID, snap.Runbook.Version)
			}

			// The same bytes loaded from disk give the same runbook.
			fromFile, diags := runbooks.LoadFile(id + ".yaml")
			if len(diags) != 0 {
				t.Fatalf("LoadFile: %v", diags)
			}
			if fromFile.Source != id+".yaml" || fromFile.SHA256 != snap.SHA256 || !reflect.DeepEqual(fromFile.Runbook, snap.Runbook) {
				t.Errorf("LoadFile differs from Builtin: source %q", fromFile.Source)
			}
			if kind := runbooks.DetectKind(data); kind != runbooks.KindRunbook {
				t.Errorf("DetectKind = %q", kind)
			}
		})
	}
}

func TestBuiltinTemplatesRender(t *testing.T) {
	data := runbooks.NoticeData{
		IncidentID:   "INC-20241112-7QK2ZP",
		Organization: "Example K.K.",
		ContactEmail: "desk@example.com",
		ContactPhone: "050-0000-0000",
		ContactHours: "weekdays 11:00-17:00",
	}
	for _, id := range runbooks.BuiltinIDs() {
		snap, err := runbooks.Builtin(id)
		if err != nil {
			t.Fatal(err)
		}
		b := snap.Runbook.Phases.Broadcast
		if b == nil {
			continue
		}
		for _, lang := range []string{"ja", "en"} {
			t.Run(id+"/"+lang, func(t *testing.T) {
				subject, body, err := b.Template.Render(lang, data)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(subject, data.Organization) || strings.ContainsAny(subject, "\r\n") {
					t.Errorf("subject %q: want one line naming the organisation", subject)
				}
				for _, v := range []string{data.IncidentID, data.ContactEmail, data.ContactPhone} {
					if !strings.Contains(body, v) {
						t.Errorf("body does not contain %q:\n%s", v, body)
					}
				}
				if strings.Contains(body, "{{") || strings.Contains(body, "<no value>") {
					t.Errorf("body has an unfilled placeholder:\n%s", body)
				}
			})
		}
	}
}

func TestBuiltinUnknownID(t *testing.T) {
	_, err := runbooks.Builtin("../missend")
	if err == nil || !strings.Contains(err.Error(), "no built-in runbook") || !strings.Contains(err.Error(), "missend") {
		t.Errorf("Builtin(../missend) error = %v, want one listing the built-ins", err)
	}
}
