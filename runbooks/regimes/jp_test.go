package regimes_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/runbooks/regimes"
)

const tokyo = "Asia/Tokyo"

func TestJPTriggersDecideWhetherAnythingIsOwed(t *testing.T) {
	aware := at(t, tokyo, "2026-06-01 10:00")
	tests := []struct {
		name         string
		facts        regimes.Facts
		wantOwed     bool
		wantTriggers []string
		wantReason   string // for not owed: part of the unmet detail
	}{
		{"1,000 persons is not more than 1,000", regimes.Facts{Persons: 1000}, false, nil, "1000 persons, not more than 1000"},
		{"1,001 persons is more than 1,000", regimes.Facts{Persons: 1001}, true, []string{"over_1000"}, ""},
		{"one person with sensitive data", regimes.Facts{Persons: 1, Sensitive: true}, true, []string{"sensitive"}, ""},
		{"one person exposed to financial harm", regimes.Facts{Persons: 1, FinancialHarm: true}, true, []string{"financial_harm"}, ""},
		{"one person, unauthorized purpose", regimes.Facts{Persons: 1, UnauthorizedPurpose: true}, true, []string{"unauthorized_purpose"}, ""},
		{"every trigger at once", regimes.Facts{Persons: 5000, Sensitive: true, FinancialHarm: true, UnauthorizedPurpose: true}, true,
			[]string{"sensitive", "financial_harm", "unauthorized_purpose", "over_1000"}, ""},
		{"53 persons, accidental, nothing sensitive", regimes.Facts{Persons: 53}, false, nil, "sensitive: no"},
		{"other regimes' facts do not count", regimes.Facts{Persons: 10, HighRisk: true, ExternalAccess: true, UniqueID: true}, false, nil, "unauthorized_purpose: no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.AwareAt, f.Jurisdictions = aware, []string{"JP-APPI"}
			r := evaluate(t, f, aware)
			for _, id := range []string{"JP-APPI/preliminary", "JP-APPI/final", "JP-APPI/individual_notice"} {
				if tt.wantOwed {
					o := owed(t, r, id)
					if got := triggerIDs(o.Triggers); !slices.Equal(got, tt.wantTriggers) {
						t.Errorf("%s triggers = %v, want %v", id, got, tt.wantTriggers)
					}
					continue
				}
				n := notOwed(t, r, id)
				if n.Reason != "none of the triggers is met" || len(n.Unmet) != 4 {
					t.Errorf("%s: reason %q with %d unmet triggers, want all 4 unmet", id, n.Reason, len(n.Unmet))
				}
				var details []string
				for _, u := range n.Unmet {
					details = append(details, u.Detail)
				}
				if !strings.Contains(strings.Join(details, "; "), tt.wantReason) {
					t.Errorf("%s: unmet details %q do not say %q", id, details, tt.wantReason)
				}
			}
		})
	}
}

func TestJPFinalReportDayCounting(t *testing.T) {
	jst := zone(t, tokyo)
	tests := []struct {
		name         string
		aware        time.Time
		facts        regimes.Facts
		wantDeadline time.Time
		wantClock    string
	}{
		{"awareness at 23:30 JST: that day is day 1, due 23:59:59 JST on day 30",
			at(t, tokyo, "2026-06-01 23:30"), regimes.Facts{Persons: 1001},
			time.Date(2026, 6, 30, 23, 59, 59, 0, jst), "30 days, anchor_day_is_day_1"},
		{"awareness given in UTC on the previous UTC day counts by the JST day",
			time.Date(2026, 5, 31, 23, 0, 0, 0, time.UTC), regimes.Facts{Persons: 1001}, // 2026-06-01 08:00 JST
			time.Date(2026, 6, 30, 23, 59, 59, 0, jst), "30 days, anchor_day_is_day_1"},
		{"awareness just after midnight JST",
			at(t, tokyo, "2026-06-01 00:00:01"), regimes.Facts{Persons: 1001},
			time.Date(2026, 6, 30, 23, 59, 59, 0, jst), "30 days, anchor_day_is_day_1"},
		{"unauthorized purpose: 60 days, day of awareness is day 1",
			at(t, tokyo, "2026-06-01 23:30"), regimes.Facts{Persons: 1, UnauthorizedPurpose: true},
			time.Date(2026, 7, 30, 23, 59, 59, 0, jst), "60 days, anchor_day_is_day_1"},
		{"unauthorized purpose together with another trigger: still 60 days",
			at(t, tokyo, "2026-06-01 09:00"), regimes.Facts{Persons: 185637, UnauthorizedPurpose: true},
			time.Date(2026, 7, 30, 23, 59, 59, 0, jst), "60 days, anchor_day_is_day_1"},
		{"across a month end and no weekend relief: day 30 is a Sunday",
			at(t, tokyo, "2026-07-04 12:00"), regimes.Facts{Persons: 1, Sensitive: true},
			time.Date(2026, 8, 2, 23, 59, 59, 0, jst), "30 days, anchor_day_is_day_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.AwareAt, f.Jurisdictions = tt.aware, []string{"JP-APPI"}
			o := owed(t, evaluate(t, f, tt.aware), "JP-APPI/final")
			sameInstant(t, "deadline", o.Deadline, tt.wantDeadline)
			if o.Deadline.Location().String() != tokyo {
				t.Errorf("deadline shown in %s, want %s", o.Deadline.Location(), tokyo)
			}
			if o.Clock != tt.wantClock || !o.Hard || o.Soft || o.Pending {
				t.Errorf("clock %q hard=%v soft=%v pending=%v, want %q hard", o.Clock, o.Hard, o.Soft, o.Pending, tt.wantClock)
			}
			sameInstant(t, "anchor", o.Anchor.At, tt.aware)
			if o.Source.URL == "" || o.EffectiveFrom.String() != "2022-04-01" {
				t.Errorf("source %+v effective %s, want the 2022-04-01 rule with a URL", o.Source, o.EffectiveFrom)
			}
		})
	}
}

func TestJPUnauthorizedPurposeFoundLaterMovesTheFinalDeadline(t *testing.T) {
	jst := zone(t, tokyo)
	aware := at(t, tokyo, "2026-06-01 10:00")
	day20 := at(t, tokyo, "2026-06-20 15:00")
	tests := []struct {
		name         string
		facts        regimes.Facts
		wantAnchor   time.Time
		wantDeadline time.Time
	}{
		{"day 1: 1,001 persons, accidental as far as known",
			regimes.Facts{Persons: 1001},
			aware, time.Date(2026, 6, 30, 23, 59, 59, 0, jst)},
		{"day 20: malice found; 60 days from the original day of awareness",
			regimes.Facts{Persons: 1001, UnauthorizedPurpose: true, UnauthorizedPurposeFoundAt: &day20},
			aware, time.Date(2026, 7, 30, 23, 59, 59, 0, jst)},
		{"day 20: malice makes a 500-person leak reportable only from day 20",
			regimes.Facts{Persons: 500, UnauthorizedPurpose: true, UnauthorizedPurposeFoundAt: &day20},
			day20, time.Date(2026, 8, 18, 23, 59, 59, 0, jst)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.AwareAt, f.Jurisdictions = aware, []string{"JP-APPI"}
			r := evaluate(t, f, day20)
			final := owed(t, r, "JP-APPI/final")
			sameInstant(t, "anchor", final.Anchor.At, tt.wantAnchor)
			sameInstant(t, "deadline", final.Deadline, tt.wantDeadline)
			// The preliminary report counts from the same anchor.
			sameInstant(t, "preliminary anchor", owed(t, r, "JP-APPI/preliminary").Anchor.At, tt.wantAnchor)
		})
	}
}

func TestJPGraceDateIsShownButNeverTimesEscalation(t *testing.T) {
	jst := zone(t, tokyo)
	tests := []struct {
		name         string
		aware        string
		facts        regimes.Facts
		wantDeadline time.Time
		wantGrace    *time.Time // nil: no grace date
		wantNote     string
	}{
		{"day 30 on 29 Dec: year-end closure until 3 Jan, grace on Mon 4 Jan",
			"2026-11-30 10:00", regimes.Facts{Persons: 1001},
			time.Date(2026, 12, 29, 23, 59, 59, 0, jst), ptr(time.Date(2027, 1, 4, 23, 59, 59, 0, jst)), "年末年始"},
		{"day 30 on 3 Jan (a Sunday in 2027): grace on Mon 4 Jan",
			"2026-12-05 10:00", regimes.Facts{Persons: 1001},
			time.Date(2027, 1, 3, 23, 59, 59, 0, jst), ptr(time.Date(2027, 1, 4, 23, 59, 59, 0, jst)), "sunday"},
		{"day 30 on Saturday before Golden Week: grace after 振替休日 6 May",
			"2026-04-03 10:00", regimes.Facts{Persons: 1001},
			time.Date(2026, 5, 2, 23, 59, 59, 0, jst), ptr(time.Date(2026, 5, 7, 23, 59, 59, 0, jst)), "saturday"},
		{"day 30 on a national holiday (スポーツの日, Monday)",
			"2026-09-13 10:00", regimes.Facts{Persons: 1001},
			time.Date(2026, 10, 12, 23, 59, 59, 0, jst), ptr(time.Date(2026, 10, 13, 23, 59, 59, 0, jst)), "スポーツの日"},
		{"day 60 on the 国民の休日 of Silver Week",
			"2026-07-25 10:00", regimes.Facts{Persons: 1, UnauthorizedPurpose: true},
			time.Date(2026, 9, 22, 23, 59, 59, 0, jst), ptr(time.Date(2026, 9, 24, 23, 59, 59, 0, jst)), "国民の休日"},
		{"day 30 on a business day: no grace date",
			"2026-06-01 10:00", regimes.Facts{Persons: 1001},
			time.Date(2026, 6, 30, 23, 59, 59, 0, jst), nil, ""},
		{"beyond the holiday table: no grace date, and the note says why",
			"2028-12-15 10:00", regimes.Facts{Persons: 1001},
			time.Date(2029, 1, 13, 23, 59, 59, 0, jst), nil, "covers 2025-01-01 to 2028-12-31 only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.AwareAt, f.Jurisdictions = at(t, tokyo, tt.aware), []string{"JP-APPI"}
			o := owed(t, evaluate(t, f, f.AwareAt), "JP-APPI/final")
			sameInstant(t, "deadline", o.Deadline, tt.wantDeadline)
			switch {
			case tt.wantGrace == nil && o.Grace != nil:
				t.Errorf("grace = %s, want none", o.Grace)
			case tt.wantGrace != nil && o.Grace == nil:
				t.Errorf("no grace date, want %s", tt.wantGrace)
			case tt.wantGrace != nil:
				sameInstant(t, "grace", *o.Grace, *tt.wantGrace)
			}
			if !strings.Contains(o.Note, tt.wantNote) {
				t.Errorf("note %q does not mention %q", o.Note, tt.wantNote)
			}
			// Escalation is timed by the deadline, never by the grace date:
			// D-3 and the deadline itself.
			want := []string{
				tt.wantDeadline.AddDate(0, 0, -3).Format(time.RFC3339),
				tt.wantDeadline.Format(time.RFC3339),
			}
			if got := instants(o.Escalations, jst); !slices.Equal(got, want) {
				t.Errorf("escalations = %v, want %v", got, want)
			}
			wantRem := []string{}
			for _, d := range []int{-10, -5, -2, -1} {
				wantRem = append(wantRem, tt.wantDeadline.AddDate(0, 0, d).Format(time.RFC3339))
			}
			if got := instants(o.Reminders, jst); !slices.Equal(got, wantRem) {
				t.Errorf("reminders = %v, want %v", got, wantRem)
			}
		})
	}
}

func TestJPPreliminaryAndIndividualNoticeArePrompt(t *testing.T) {
	jst := zone(t, tokyo)
	aware := at(t, tokyo, "2026-06-01 10:00")
	f := regimes.Facts{AwareAt: aware, Persons: 13011, Jurisdictions: []string{"JP-APPI"}}
	tests := []struct {
		id              string
		wantTarget      time.Time // zero: none
		wantReminders   []time.Time
		wantEscalations []time.Time
	}{
		{"JP-APPI/preliminary", aware.Add(72 * time.Hour),
			[]time.Time{aware.Add(24 * time.Hour), aware.Add(48 * time.Hour)},
			[]time.Time{aware.AddDate(0, 0, 3), aware.AddDate(0, 0, 5)}},
		{"JP-APPI/individual_notice", time.Time{},
			[]time.Time{aware.AddDate(0, 0, 3), aware.AddDate(0, 0, 7)},
			[]time.Time{aware.AddDate(0, 0, 14)}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			o := owed(t, evaluate(t, f, aware), tt.id)
			if !o.Soft || o.Hard || !o.Deadline.IsZero() {
				t.Errorf("soft=%v hard=%v deadline=%s, want a soft duty without deadline", o.Soft, o.Hard, o.Deadline)
			}
			if !o.Target.Equal(tt.wantTarget) {
				t.Errorf("target = %s, want %s", o.Target, tt.wantTarget)
			}
			if got, want := instants(o.Reminders, jst), instants(tt.wantReminders, jst); !slices.Equal(got, want) {
				t.Errorf("reminders = %v, want %v", got, want)
			}
			if got, want := instants(o.Escalations, jst), instants(tt.wantEscalations, jst); !slices.Equal(got, want) {
				t.Errorf("escalations = %v, want %v", got, want)
			}
		})
	}
}

func TestOverdueDependsOnNowOnly(t *testing.T) {
	aware := at(t, tokyo, "2026-06-01 10:00")
	f := regimes.Facts{AwareAt: aware, Persons: 1001, Jurisdictions: []string{"JP-APPI"}}
	tests := []struct {
		name           string
		now            time.Time
		wantPrelimLate bool // past the 3-day target
		wantFinalLate  bool // past 2026-06-30 23:59:59 JST
	}{
		{"at awareness", aware, false, false},
		{"day 4, one minute past the 3-day target", at(t, tokyo, "2026-06-04 10:01"), true, false},
		{"last second of day 30", at(t, tokyo, "2026-06-30 23:59:59"), true, false},
		{"day 31", at(t, tokyo, "2026-07-01 00:00"), true, true},
	}
	base := evaluate(t, f, aware)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evaluate(t, f, tt.now)
			if got := owed(t, r, "JP-APPI/preliminary").Overdue; got != tt.wantPrelimLate {
				t.Errorf("preliminary overdue = %v, want %v", got, tt.wantPrelimLate)
			}
			final := owed(t, r, "JP-APPI/final")
			if final.Overdue != tt.wantFinalLate {
				t.Errorf("final overdue = %v, want %v", final.Overdue, tt.wantFinalLate)
			}
			if !final.Deadline.Equal(owed(t, base, "JP-APPI/final").Deadline) {
				t.Errorf("now moved the deadline: %s", final.Deadline)
			}
			if got := owed(t, r, "JP-APPI/individual_notice").Overdue; got {
				t.Error("a prompt duty without target is never overdue by the clock alone")
			}
		})
	}
}
