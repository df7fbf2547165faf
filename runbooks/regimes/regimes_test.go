package regimes_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/runbooks/regimes"
)

func TestGDPRSeventyTwoRealHoursAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		name         string
		regime       string
		zone         string
		aware        string
		wantDeadline string // wall clock in the same zone
	}{
		{"EU, before the last Sunday of March (clocks go forward)", "EU-GDPR", "Europe/Berlin", "2026-03-28 12:00", "2026-03-31 13:00"},
		{"EU, before the last Sunday of October (clocks go back)", "EU-GDPR", "Europe/Berlin", "2026-10-24 12:00", "2026-10-27 11:00"},
		{"EU, no change in between", "EU-GDPR", "Europe/Paris", "2026-06-10 09:15", "2026-06-13 09:15"},
		{"UK, across the March change", "UK-GDPR", "Europe/London", "2026-03-28 12:00", "2026-03-31 13:00"},
		{"UK, across the October change", "UK-GDPR", "Europe/London", "2026-10-24 12:00", "2026-10-27 11:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aware := at(t, tt.zone, tt.aware)
			r := evaluate(t, regimes.Facts{AwareAt: aware, Persons: 10, Jurisdictions: []string{tt.regime}}, aware)
			o := owed(t, r, tt.regime+"/regulator_notice")
			if got := o.Deadline.Sub(aware); got != 72*time.Hour {
				t.Errorf("deadline is %s after awareness, want 72h", got)
			}
			sameInstant(t, "deadline", o.Deadline, at(t, tt.zone, tt.wantDeadline))
			wantRem := []time.Time{aware.Add(24 * time.Hour), aware.Add(48 * time.Hour), aware.Add(60 * time.Hour)}
			wantEsc := []time.Time{aware.Add(66 * time.Hour), aware.Add(72 * time.Hour)}
			loc := zone(t, tt.zone)
			if got, want := instants(o.Reminders, loc), instants(wantRem, loc); !slices.Equal(got, want) {
				t.Errorf("reminders = %v, want %v", got, want)
			}
			if got, want := instants(o.Escalations, loc), instants(wantEsc, loc); !slices.Equal(got, want) {
				t.Errorf("escalations = %v, want %v", got, want)
			}
			if !strings.Contains(o.Note, "phases") {
				t.Errorf("note %q should say reports may be phased", o.Note)
			}
		})
	}
}

func TestGDPRTriggers(t *testing.T) {
	aware := at(t, "Europe/Berlin", "2026-06-01 10:00")
	tests := []struct {
		name           string
		facts          regimes.Facts
		wantRegulator  bool
		wantIndividual bool
	}{
		{"any breach is notified unless a risk is unlikely", regimes.Facts{Persons: 1}, true, false},
		{"counsel concluded a risk is unlikely", regimes.Facts{Persons: 1, RiskUnlikely: true}, false, false},
		{"high risk: individuals too", regimes.Facts{Persons: 1, HighRisk: true}, true, true},
	}
	for _, tt := range tests {
		for _, reg := range []string{"EU-GDPR", "UK-GDPR"} {
			t.Run(reg+"/"+tt.name, func(t *testing.T) {
				f := tt.facts
				f.AwareAt, f.Jurisdictions = aware, []string{reg}
				r := evaluate(t, f, aware)
				for _, c := range []struct {
					id   string
					want bool
				}{{reg + "/regulator_notice", tt.wantRegulator}, {reg + "/individual_notice", tt.wantIndividual}} {
					if c.want {
						owed(t, r, c.id)
					} else {
						notOwed(t, r, c.id)
					}
				}
				if tt.wantIndividual {
					o := owed(t, r, reg+"/individual_notice")
					if !o.Soft || !o.Deadline.IsZero() {
						t.Errorf("Art. 34 is 'without undue delay': want soft, got %+v", o)
					}
				}
			})
		}
	}
	r := evaluate(t, regimes.Facts{AwareAt: aware, Persons: 1, Jurisdictions: []string{"UK-GDPR"}}, aware)
	if got := owed(t, r, "UK-GDPR/regulator_notice").Audience.Name; !strings.Contains(got, "ICO") {
		t.Errorf("UK audience = %q, want the ICO", got)
	}
}

func TestKRPIPA(t *testing.T) {
	const seoul = "Asia/Seoul"
	aware := at(t, seoul, "2026-10-01 18:00")
	tests := []struct {
		name         string
		facts        regimes.Facts
		wantReport   bool
		wantTriggers []string
	}{
		{"999 persons, nothing else", regimes.Facts{Persons: 999}, false, nil},
		{"1,000 persons", regimes.Facts{Persons: 1000}, true, []string{"at_least_1000"}},
		{"one person, sensitive data", regimes.Facts{Persons: 1, Sensitive: true}, true, []string{"sensitive"}},
		{"one person, unique identifiers", regimes.Facts{Persons: 1, UniqueID: true}, true, []string{"unique_id"}},
		{"one person, hacked from outside", regimes.Facts{Persons: 1, ExternalAccess: true}, true, []string{"external_access"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.AwareAt, f.Jurisdictions = aware, []string{"KR-PIPA"}
			r := evaluate(t, f, aware)
			if tt.wantReport {
				o := owed(t, r, "KR-PIPA/regulator_notice")
				sameInstant(t, "report deadline", o.Deadline, aware.Add(72*time.Hour))
				if got := triggerIDs(o.Triggers); !slices.Equal(got, tt.wantTriggers) {
					t.Errorf("triggers = %v, want %v", got, tt.wantTriggers)
				}
			} else {
				notOwed(t, r, "KR-PIPA/regulator_notice")
			}
			// Every leak is notified to the data subjects within 72 hours.
			ind := owed(t, r, "KR-PIPA/individual_notice")
			sameInstant(t, "individual deadline", ind.Deadline, aware.Add(72*time.Hour))
		})
	}
}

func TestSGPDPAThreeCalendarDaysAfterTheAssessmentDay(t *testing.T) {
	const sg = "Asia/Singapore"
	aware := at(t, sg, "2026-06-01 09:00")
	tests := []struct {
		name         string
		concluded    *time.Time
		wantPending  bool
		wantDeadline string
	}{
		{"assessment concluded mid-afternoon: the day itself is not counted", ptr(at(t, sg, "2026-06-10 15:00")), false, "2026-06-13 23:59:59"},
		{"assessment concluded a minute before midnight", ptr(at(t, sg, "2026-06-10 23:59")), false, "2026-06-13 23:59:59"},
		{"assessment concluded just after midnight", ptr(at(t, sg, "2026-06-11 00:01")), false, "2026-06-14 23:59:59"},
		{"assessment still running: pending, no deadline yet", nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := regimes.Facts{AwareAt: aware, Persons: 600, AssessmentConcludedAt: tt.concluded, Jurisdictions: []string{"SG-PDPA"}}
			o := owed(t, evaluate(t, f, aware), "SG-PDPA/regulator_notice")
			if o.Pending != tt.wantPending {
				t.Fatalf("pending = %v, want %v", o.Pending, tt.wantPending)
			}
			if tt.wantPending {
				if !o.Deadline.IsZero() || len(o.Reminders) != 0 || !o.Hard || !strings.Contains(o.Note, "assessment_concluded") {
					t.Errorf("pending obligation = %+v, want no clock yet and a note naming the anchor", o)
				}
				return
			}
			sameInstant(t, "deadline", o.Deadline, at(t, sg, tt.wantDeadline))
			want := []string{
				tt.concluded.Add(60 * time.Hour).Format(time.RFC3339),
				at(t, sg, tt.wantDeadline).Format(time.RFC3339),
			}
			if got := instants(o.Escalations, zone(t, sg)); !slices.Equal(got, want) {
				t.Errorf("escalations = %v, want %v", got, want)
			}
		})
	}
}

func TestSGPDPANotifiable(t *testing.T) {
	const sg = "Asia/Singapore"
	aware := at(t, sg, "2026-06-01 09:00")
	concluded := at(t, sg, "2026-06-05 12:00")
	tests := []struct {
		name           string
		facts          regimes.Facts
		wantPDPC       bool
		wantIndividual bool
	}{
		{"499 persons, no significant harm", regimes.Facts{Persons: 499}, false, false},
		{"500 persons: significant scale", regimes.Facts{Persons: 500}, true, false},
		{"one person, significant harm", regimes.Facts{Persons: 1, HighRisk: true}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.AwareAt, f.AssessmentConcludedAt, f.Jurisdictions = aware, &concluded, []string{"SG-PDPA"}
			r := evaluate(t, f, aware)
			for _, c := range []struct {
				id   string
				want bool
			}{{"SG-PDPA/regulator_notice", tt.wantPDPC}, {"SG-PDPA/individual_notice", tt.wantIndividual}} {
				if c.want {
					owed(t, r, c.id)
				} else {
					notOwed(t, r, c.id)
				}
			}
			// The assessment is always owed: normally within 30 days of awareness.
			a := owed(t, r, "SG-PDPA/assessment")
			sameInstant(t, "assessment target", a.Target, at(t, sg, "2026-07-01 23:59:59"))
		})
	}
}

func TestAUNDB(t *testing.T) {
	const syd = "Australia/Sydney"
	// Daylight saving ends in Sydney on 2026-04-05: counted in calendar days.
	aware := at(t, syd, "2026-04-01 10:00")
	tests := []struct {
		name          string
		highRisk      bool
		wantStatement bool
	}{
		{"suspected breach, serious harm not likely", false, false},
		{"eligible data breach: serious harm likely", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evaluate(t, regimes.Facts{AwareAt: aware, Persons: 20, HighRisk: tt.highRisk, Jurisdictions: []string{"AU-NDB"}}, aware)
			a := owed(t, r, "AU-NDB/assessment")
			sameInstant(t, "assessment deadline", a.Deadline, at(t, syd, "2026-05-01 23:59:59"))
			if !a.Hard {
				t.Error("the 30-day assessment is statutory (s 26WH(2))")
			}
			for _, id := range []string{"AU-NDB/regulator_notice", "AU-NDB/individual_notice"} {
				if !tt.wantStatement {
					notOwed(t, r, id)
					continue
				}
				if o := owed(t, r, id); !o.Soft {
					t.Errorf("%s: 'as soon as practicable' is soft, got %+v", id, o)
				}
			}
		})
	}
}

func TestUSHIPAA(t *testing.T) {
	const ny = "America/New_York"
	// Daylight saving starts on 2026-03-08: day 60 is in EDT.
	aware := at(t, ny, "2026-01-20 10:00")
	individualDeadline := at(t, ny, "2026-03-21 23:59:59")
	tests := []struct {
		name          string
		persons       int
		residents     []regimes.Residents
		wantHHSNow    bool // 164.408(b), with the individual notice
		wantMedia     bool // 164.406, more than 500 residents of a State
		wantAnnualLog bool // 164.408(c), fewer than 500
		wantMediaNote string
	}{
		{"499 individuals: annual log only", 499, nil, false, false, true, ""},
		{"500 individuals: HHS with the notices, no media", 500, nil, true, false, false, ""},
		{"501 individuals, states unknown: media assumed", 501, nil, true, true, false, "all 501 persons were counted"},
		{"501 individuals, no state above 500: no media", 501, []regimes.Residents{{Region: "US-CA", Count: 300}, {Region: "US-NV", Count: 201}}, true, false, false, ""},
		{"600 individuals, 501 in Texas: media", 600, []regimes.Residents{{Region: "US-TX", Count: 501}, {Region: "US-OK", Count: 99}}, true, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := regimes.Facts{AwareAt: aware, Persons: tt.persons, ResidentsByJurisdiction: tt.residents, Jurisdictions: []string{"US-HIPAA"}}
			r := evaluate(t, f, aware)
			ind := owed(t, r, "US-HIPAA/individual_notice")
			sameInstant(t, "individual deadline", ind.Deadline, individualDeadline)
			if got := ind.Deadline.Sub(aware); got == 60*24*time.Hour {
				t.Errorf("deadline is exactly 60×24h after awareness: calendar days were not used")
			}
			check := func(id string, want bool) {
				if want {
					owed(t, r, id)
				} else {
					notOwed(t, r, id)
				}
			}
			check("US-HIPAA/regulator_notice", tt.wantHHSNow)
			check("US-HIPAA/media_notice", tt.wantMedia)
			check("US-HIPAA/annual_log", tt.wantAnnualLog)
			if tt.wantHHSNow {
				sameInstant(t, "HHS deadline (same as the notices)", owed(t, r, "US-HIPAA/regulator_notice").Deadline, individualDeadline)
			}
			if tt.wantMedia {
				m := owed(t, r, "US-HIPAA/media_notice")
				sameInstant(t, "media deadline", m.Deadline, individualDeadline)
				if !strings.Contains(m.Note, tt.wantMediaNote) {
					t.Errorf("media note %q, want %q", m.Note, tt.wantMediaNote)
				}
			}
		})
	}
}

func TestUSHIPAAClocksThatCountFromOtherEvents(t *testing.T) {
	const ny = "America/New_York"
	tests := []struct {
		name         string
		facts        regimes.Facts
		id           string
		wantAnchor   string
		wantDeadline string
	}{
		{"HHS: the same day as the notices, once they are sent",
			regimes.Facts{AwareAt: at(t, ny, "2026-01-20 10:00"), Persons: 700, IndividualsNotifiedAt: ptr(at(t, ny, "2026-01-30 16:00"))},
			"US-HIPAA/regulator_notice", "individuals_notified", "2026-01-30 23:59:59"},
		{"annual log: 60 days after the end of the year of discovery",
			regimes.Facts{AwareAt: at(t, ny, "2026-05-01 10:00"), Persons: 20},
			"US-HIPAA/annual_log", "year_end", "2027-03-01 23:59:59"},
		{"annual log, leap year: 29 February",
			regimes.Facts{AwareAt: at(t, ny, "2027-06-01 10:00"), Persons: 20},
			"US-HIPAA/annual_log", "year_end", "2028-02-29 23:59:59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.Jurisdictions = []string{"US-HIPAA"}
			o := owed(t, evaluate(t, f, f.AwareAt), tt.id)
			if o.Anchor.Name != tt.wantAnchor {
				t.Errorf("anchor = %q, want %q", o.Anchor.Name, tt.wantAnchor)
			}
			sameInstant(t, "deadline", o.Deadline, at(t, ny, tt.wantDeadline))
		})
	}
}

func TestUSCalifornia(t *testing.T) {
	const la = "America/Los_Angeles"
	// Daylight saving starts on 2026-03-08; day 30 is in PDT.
	aware := at(t, la, "2026-02-25 10:00")
	tests := []struct {
		name         string
		facts        regimes.Facts
		wantAG       bool
		wantAGAnchor string
		wantAGDue    string
	}{
		{"500 California residents: no AG notice",
			regimes.Facts{Persons: 900, ResidentsByJurisdiction: []regimes.Residents{{Region: "US-CA", Count: 500}, {Region: "US-OR", Count: 400}}}, false, "", ""},
		{"501 California residents: AG 15 days after the latest notice day",
			regimes.Facts{Persons: 900, ResidentsByJurisdiction: []regimes.Residents{{Region: "US-CA", Count: 501}, {Region: "US-OR", Count: 399}}}, true, "deadline of individual_notice", "2026-04-11 23:59:59"},
		{"501 California residents notified on 5 March: AG by 20 March",
			regimes.Facts{Persons: 501, ResidentsByJurisdiction: []regimes.Residents{{Region: "us-ca", Count: 501}}, IndividualsNotifiedAt: ptr(at(t, la, "2026-03-05 11:00"))}, true, "individuals_notified", "2026-03-20 23:59:59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.AwareAt, f.Jurisdictions = aware, []string{"US-CA"}
			r := evaluate(t, f, aware)
			ind := owed(t, r, "US-CA/individual_notice")
			sameInstant(t, "individual deadline", ind.Deadline, time.Date(2026, 3, 27, 23, 59, 59, 0, zone(t, la)))
			sameInstant(t, "individual deadline in UTC", ind.Deadline, time.Date(2026, 3, 28, 6, 59, 59, 0, time.UTC))
			if !tt.wantAG {
				n := notOwed(t, r, "US-CA/attorney_general")
				if len(n.Unmet) != 1 || !strings.Contains(n.Unmet[0].Detail, "500 residents of US-CA, not more than 500") {
					t.Errorf("unmet = %+v, want the 500-resident test", n.Unmet)
				}
				return
			}
			ag := owed(t, r, "US-CA/attorney_general")
			if ag.Anchor.Name != tt.wantAGAnchor {
				t.Errorf("AG anchor = %q, want %q", ag.Anchor.Name, tt.wantAGAnchor)
			}
			sameInstant(t, "AG deadline", ag.Deadline, at(t, la, tt.wantAGDue))
		})
	}
}

func TestRuleInForceAtTheAnchorIsUsed(t *testing.T) {
	tests := []struct {
		name         string
		facts        regimes.Facts
		id           string
		wantSoft     bool
		wantDeadline string // in the regime's zone; "" for none
		wantFrom     string
		wantCitation string
	}{
		{"CA breach discovered before SB 446: 'most expedient time possible'",
			regimes.Facts{AwareAt: at(t, "America/Los_Angeles", "2025-12-20 10:00"), Persons: 10, Jurisdictions: []string{"US-CA"}},
			"US-CA/individual_notice", true, "", "2003-07-01", "before SB 446"},
		{"CA breach discovered on the day SB 446 applies: 30 days",
			regimes.Facts{AwareAt: at(t, "America/Los_Angeles", "2026-01-01 00:30"), Persons: 10, Jurisdictions: []string{"US-CA"}},
			"US-CA/individual_notice", false, "2026-01-31 23:59:59", "2026-01-01", "SB 446"},
		{"the date is read in the regime's zone: 2026-01-01 07:00 UTC is still 2025 in California",
			regimes.Facts{AwareAt: time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC), Persons: 10, Jurisdictions: []string{"US-CA"}},
			"US-CA/individual_notice", true, "", "2003-07-01", "before SB 446"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := owed(t, evaluate(t, tt.facts, tt.facts.AwareAt), tt.id)
			if o.Soft != tt.wantSoft {
				t.Errorf("soft = %v, want %v", o.Soft, tt.wantSoft)
			}
			if tt.wantDeadline != "" {
				sameInstant(t, "deadline", o.Deadline, at(t, "America/Los_Angeles", tt.wantDeadline))
			} else if !o.Deadline.IsZero() {
				t.Errorf("deadline = %s, want none", o.Deadline)
			}
			if o.EffectiveFrom.String() != tt.wantFrom || !strings.Contains(o.Source.Citation, tt.wantCitation) {
				t.Errorf("rule from %s citing %q, want from %s citing %q", o.EffectiveFrom, o.Source.Citation, tt.wantFrom, tt.wantCitation)
			}
		})
	}
}

func TestNoRuleInForceGivesAReview(t *testing.T) {
	tests := []struct {
		name   string
		facts  regimes.Facts
		wantID []string
	}{
		{"KR before the amended decree (2026-09-11)",
			regimes.Facts{AwareAt: at(t, "Asia/Seoul", "2026-09-10 23:00"), Persons: 5000, Jurisdictions: []string{"KR-PIPA"}},
			[]string{"KR-PIPA/regulator_notice/review", "KR-PIPA/individual_notice/review"}},
		{"NY before the 2024-12-21 amendment",
			regimes.Facts{AwareAt: at(t, "America/New_York", "2024-12-01 10:00"), Persons: 5, Jurisdictions: []string{"US-NY"}},
			[]string{"US-NY/individual_notice/review", "US-NY/state_agencies/review"}},
		{"UK before UK GDPR (EU GDPR applied)",
			regimes.Facts{AwareAt: at(t, "Europe/London", "2020-12-15 10:00"), Persons: 5, Jurisdictions: []string{"UK-GDPR"}},
			[]string{"UK-GDPR/regulator_notice/review", "UK-GDPR/individual_notice/review"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evaluate(t, tt.facts, tt.facts.AwareAt)
			if got := owedIDs(r); !slices.Equal(got, tt.wantID) {
				t.Fatalf("owed = %v, want %v", got, tt.wantID)
			}
			for _, o := range r.Owed {
				if o.Kind != regimes.KindReview || !strings.Contains(o.Note, "in force") || len(o.Escalations) == 0 {
					t.Errorf("%s = %+v, want a review naming the missing rule, with escalation", o.ID, o)
				}
			}
		})
	}
}

func TestUSNewYork(t *testing.T) {
	const ny = "America/New_York"
	aware := at(t, ny, "2026-03-01 09:00") // before the DST change of 2026-03-08
	r := evaluate(t, regimes.Facts{AwareAt: aware, Persons: 3, Jurisdictions: []string{"US-NY"}}, aware)
	tests := []struct {
		id           string
		wantDeadline string
		wantAudience string
	}{
		{"US-NY/individual_notice", "2026-03-31 23:59:59", "New York residents"},
		{"US-NY/state_agencies", "2026-03-31 23:59:59", "Attorney General"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			o := owed(t, r, tt.id)
			sameInstant(t, "deadline", o.Deadline, at(t, ny, tt.wantDeadline))
			if _, off := o.Deadline.Zone(); off != -4*3600 {
				t.Errorf("deadline offset %d s, want EDT (-4h)", off)
			}
			if !strings.Contains(o.Audience.Name, tt.wantAudience) {
				t.Errorf("audience %q, want %q", o.Audience.Name, tt.wantAudience)
			}
		})
	}
}

func TestNothingIsDroppedSilently(t *testing.T) {
	aware := at(t, tokyo, "2026-06-01 10:00")
	tests := []struct {
		name       string
		facts      regimes.Facts
		now        time.Time
		wantOwed   []string
		wantNote   string
		wantAnchor time.Time
	}{
		{"unknown jurisdiction next to a known one",
			regimes.Facts{AwareAt: aware, Persons: 1001, Jurisdictions: []string{"JP-APPI", "XX-DPA"}}, aware,
			[]string{"JP-APPI/preliminary", "JP-APPI/final", "JP-APPI/individual_notice", "XX-DPA/review"},
			"Unknown jurisdiction XX-DPA: counsel must assess.", aware},
		{"no jurisdiction at all",
			regimes.Facts{AwareAt: aware, Persons: 1001}, aware,
			[]string{"jurisdictions/review"}, "No jurisdiction was given", aware},
		{"facts without an awareness time: reviewed from now",
			regimes.Facts{Persons: 1001, Jurisdictions: []string{"JP-APPI"}}, aware.Add(time.Hour),
			[]string{"facts/review"}, "AwareAt", aware.Add(time.Hour)},
		{"impossible facts: the assessment ended before awareness",
			regimes.Facts{AwareAt: aware, AssessmentConcludedAt: ptr(aware.Add(-time.Hour)), Jurisdictions: []string{"SG-PDPA"}}, aware,
			[]string{"facts/review"}, "assessment concluded", aware},
		{"ambiguous facts: one region counted twice",
			regimes.Facts{AwareAt: aware, Persons: 900, ResidentsByJurisdiction: []regimes.Residents{{Region: "US-CA", Count: 400}, {Region: "us-ca", Count: 500}}, Jurisdictions: []string{"US-CA"}}, aware,
			[]string{"facts/review"}, "residents of US-CA are listed twice", aware},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evaluate(t, tt.facts, tt.now)
			if got := owedIDs(r); !slices.Equal(got, tt.wantOwed) {
				t.Fatalf("owed = %v, want %v", got, tt.wantOwed)
			}
			rv := r.Owed[len(r.Owed)-1]
			if rv.Kind != regimes.KindReview || rv.Audience.Kind != regimes.AudienceCounsel || !rv.Soft {
				t.Errorf("review = %+v, want a soft review for counsel", rv)
			}
			if !strings.Contains(rv.Note, tt.wantNote) {
				t.Errorf("note %q, want %q", rv.Note, tt.wantNote)
			}
			sameInstant(t, "review anchor", rv.Anchor.At, tt.wantAnchor)
			sameInstant(t, "review target", rv.Target, tt.wantAnchor.Add(24*time.Hour))
			want := []string{tt.wantAnchor.Add(24 * time.Hour).Format(time.RFC3339), tt.wantAnchor.Add(48 * time.Hour).Format(time.RFC3339)}
			if got := instants(rv.Escalations, tt.wantAnchor.Location()); !slices.Equal(got, want) {
				t.Errorf("escalations = %v, want %v", got, want)
			}
		})
	}
}

func TestJurisdictionsAreMatchedLooselyAndOrderedStrictly(t *testing.T) {
	aware := at(t, tokyo, "2026-06-01 10:00")
	a := evaluate(t, regimes.Facts{AwareAt: aware, Persons: 1001, Jurisdictions: []string{" us-ny", "JP-APPI", "eu-gdpr", "JP-APPI"}}, aware)
	b := evaluate(t, regimes.Facts{AwareAt: aware, Persons: 1001, Jurisdictions: []string{"EU-GDPR", "US-NY", "jp-appi"}}, aware)
	want := []string{
		"EU-GDPR/regulator_notice",
		"JP-APPI/preliminary", "JP-APPI/final", "JP-APPI/individual_notice",
		"US-NY/individual_notice", "US-NY/state_agencies",
	}
	for _, r := range []regimes.Result{a, b} {
		if got := owedIDs(r); !slices.Equal(got, want) {
			t.Errorf("owed = %v, want %v", got, want)
		}
	}
	if got := notOwedIDs(a); !slices.Equal(got, []string{"EU-GDPR/individual_notice"}) {
		t.Errorf("not owed = %v", got)
	}
}

func TestNoReminderBeforeAwareness(t *testing.T) {
	const ny = "America/New_York"
	aware := at(t, ny, "2026-01-20 10:00")
	notified := at(t, ny, "2026-01-23 12:00") // HHS due the same day: D-14 and D-7 would precede awareness
	r := evaluate(t, regimes.Facts{AwareAt: aware, Persons: 800, IndividualsNotifiedAt: &notified, Jurisdictions: []string{"US-HIPAA"}}, aware)
	o := owed(t, r, "US-HIPAA/regulator_notice")
	want := []string{at(t, ny, "2026-01-23 23:59:59").Format(time.RFC3339)}
	if got := instants(o.Escalations, zone(t, ny)); !slices.Equal(got, want) {
		t.Errorf("escalations = %v, want only the deadline %v", got, want)
	}
	if len(o.Reminders) != 0 {
		t.Errorf("reminders = %v, want none (all would precede awareness)", o.Reminders)
	}
}
