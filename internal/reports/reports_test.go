package reports_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/runbooks/regimes"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// owed evaluates the built-in regimes and returns the obligation id.
func owed(t *testing.T, f regimes.Facts, id string) regimes.Obligation {
	t.Helper()
	regs, err := regimes.Builtin()
	require.NoError(t, err)
	for _, o := range regimes.Obligations(f, regs, f.AwareAt) {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("%s is not owed", id)
	return regimes.Obligation{}
}

var aware = time.Date(2026, 11, 12, 10, 0, 0, 0, tokyo)

// seed000 is the situation of seed 000 on day 7: 53 wrong recipients, all
// confirmed by phone, 52 also by e-mail; the preliminary report filed the
// day after discovery.
func seed000() reports.Situation {
	return reports.Situation{
		IncidentID: "INC-20261112-SEED00",
		AsOf:       time.Date(2026, 11, 18, 18, 0, 0, 0, tokyo),
		Facts: reports.Facts{
			Title: "会員情報ファイルの誤送信", WhatLeaked: "氏名、住所、口座情報",
			Persons: 53, AwareAt: aware, SensitiveOrFinancial: true, Jurisdictions: []string{"JP-APPI"},
		},
		Recall: &reports.Counts{Total: 53, Requested: 53, PhoneConfirmed: 53, EmailConfirmed: 52, Confirmed: 52},
		Done: []reports.Measure{{ID: "stop-sending", Title: runbooks.Localized{Ja: "送信を止める", En: "Stop the sending"},
			At: time.Date(2026, 11, 12, 11, 0, 0, 0, tokyo)}},
		Open: []reports.Measure{{ID: "monitor", Title: runbooks.Localized{Ja: "二次被害の監視", En: "Monitor secondary harm"},
			At: time.Date(2026, 11, 19, 10, 0, 0, 0, tokyo)}},
		PreventionDue: time.Date(2027, 1, 11, 10, 0, 0, 0, tokyo),
		Filings: []reports.Filing{{ObligationID: "JP-APPI/preliminary", Title: "速報 (preliminary report)",
			FiledAt: time.Date(2026, 11, 13, 15, 0, 0, 0, tokyo), Reference: "PPC-2026-0001", Channel: "PPC web form"}},
	}
}

func jpFacts() regimes.Facts {
	return regimes.Facts{AwareAt: aware, Persons: 53, Sensitive: true, FinancialHarm: true, Jurisdictions: []string{"JP-APPI"}}
}

func TestBuild_APPIFinalReportHasThePPCFormAndTheNineItemsOfRule8(t *testing.T) {
	d, err := reports.Build(reports.Request{Obligation: owed(t, jpFacts(), "JP-APPI/final"), Situation: seed000()})
	require.NoError(t, err)
	require.Equal(t, "jp-appi-ppc", d.Template)
	require.Equal(t, "ja", d.Lang)
	require.Contains(t, d.Title, "確報")

	var rule8 []string
	for _, it := range d.Sections[1].Items {
		rule8 = append(rule8, it.Label[:3])
	}
	require.Equal(t, []string{"(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)"}, rule8, "Rule 8(1) items 1-9, in order")

	tests := []struct {
		key, contains string
		toFill        bool
	}{
		{"reporter_name", "事業者の名称", true},
		{"phase", "確報（施行規則第8条第2項）", false},
		{"previous_report", "受付番号 PPC-2026-0001", false},
		{"channel", "個人情報保護委員会 (PPC)", false},
		{"my_number", "不明の場合は「含む」", true},
		{"rule7", "規則7条2号", false},
		{"discovered_at", "2026-11-12 10:00 JST", false},
		{"deadline", "2026-12-11 23:59 JST（30日、知った日を1日目として計算）", false},
		{"summary", "本人53人分の漏えい等", false},
		{"data_items", "氏名、住所、口座情報", false},
		{"persons", "53人（2026-11-18 18:00 JST 時点", false},
		{"cause", "要記入", true},
		{"secondary_harm", "有・無・不明", true},
		{"individuals", "誤って受け取った方 53名", false},
		{"individuals", "確認完了 52名", false},
		{"publication", "ホームページ掲載", true},
		{"prevention", "・送信を止める（2026-11-12）", false},
		{"prevention", "2027-01-11 までに取りまとめ予定", false},
		{"other", "速報 (preliminary report)（JP-APPI/preliminary）", false},
	}
	for _, tt := range tests {
		it, ok := d.Item(tt.key)
		require.True(t, ok, tt.key)
		require.Contains(t, it.Value, tt.contains, tt.key)
		require.Equal(t, tt.toFill, it.ToFill, tt.key)
		require.Contains(t, d.Text, it.Label, "the text shows every item")
	}
	require.Equal(t, 12, d.ToFill, "9 form fields and items 4, 5 and 7 need a person")
}

func TestBuild_APPIPreliminaryIsANewReportOfWhatIsKnown(t *testing.T) {
	s := seed000()
	s.Filings = nil
	d, err := reports.Build(reports.Request{Obligation: owed(t, jpFacts(), "JP-APPI/preliminary"), Situation: s})
	require.NoError(t, err)
	tests := []struct{ key, want string }{
		{"phase", "速報（施行規則第8条第1項: 報告時点で把握している事項に限る）"},
		{"previous_report", "なし（新規報告）"},
		{"deadline", "速やかに（目安 2026-11-15 10:00 JST、ガイドライン上概ね3〜5日以内）"},
	}
	for _, tt := range tests {
		it, _ := d.Item(tt.key)
		require.Equal(t, tt.want, it.Value, tt.key)
	}
}

func TestBuild_APPIFinalWithoutARecordedPreliminaryAsksToCheck(t *testing.T) {
	s := seed000()
	s.Filings = nil
	d, err := reports.Build(reports.Request{Obligation: owed(t, jpFacts(), "JP-APPI/final"), Situation: s})
	require.NoError(t, err)
	it, _ := d.Item("previous_report")
	require.True(t, it.ToFill)
	require.Contains(t, it.Value, "速報の提出が breachflow に記録されていません")
}

func TestBuild_GDPRArt33(t *testing.T) {
	f := regimes.Facts{AwareAt: aware, Persons: 53, Jurisdictions: []string{"EU-GDPR"}}
	ob := owed(t, f, "EU-GDPR/regulator_notice")
	tests := []struct {
		name        string
		asOf        time.Time
		delayToFill bool
		delay       string
	}{
		{"within 72 hours", aware.Add(24 * time.Hour), false, "Not needed if notified by 2026-11-15 10:00 JST."},
		{"late: reasons required", aware.Add(73 * time.Hour), true, "the reasons for the delay are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seed000()
			s.AsOf = tt.asOf
			d, err := reports.Build(reports.Request{Obligation: ob, Situation: s})
			require.NoError(t, err)
			require.Equal(t, "gdpr-art33", d.Template)
			require.Equal(t, "Art. 33(3)", d.Sections[1].Heading)
			var keys []string
			for _, it := range d.Sections[1].Items {
				keys = append(keys, it.Label[:3])
			}
			require.Equal(t, []string{"(a)", "(b)", "(c)", "(d)"}, keys)
			it, _ := d.Item("delay_reason")
			require.Equal(t, tt.delayToFill, it.ToFill)
			require.Contains(t, it.Value, tt.delay)
			it, _ = d.Item("nature")
			require.Contains(t, it.Value, "Approximate number of data subjects concerned: 53")
			it, _ = d.Item("measures")
			require.Contains(t, it.Value, "53 asked, 52 confirmed deletion (53 by phone, 52 by e-mail)")
		})
	}
}

func TestBuild_TemplateChoice(t *testing.T) {
	tests := []struct {
		name     string
		facts    regimes.Facts
		id       string
		template string
	}{
		{"APPI individual notice: Rule 10", jpFacts(), "JP-APPI/individual_notice", "jp-appi-individual"},
		{"GDPR Art. 34", regimes.Facts{AwareAt: aware, Persons: 5, HighRisk: true, Jurisdictions: []string{"EU-GDPR"}}, "EU-GDPR/individual_notice", "gdpr-art34"},
		{"UK GDPR uses Art. 33", regimes.Facts{AwareAt: aware, Persons: 5, Jurisdictions: []string{"UK-GDPR"}}, "UK-GDPR/regulator_notice", "gdpr-art33"},
		{"no template: a memo for counsel", regimes.Facts{AwareAt: aware, Persons: 5, Jurisdictions: []string{"US-NY"}}, "US-NY/individual_notice", "generic"},
		{"unknown jurisdiction: a memo for counsel", regimes.Facts{AwareAt: aware, Persons: 5, Jurisdictions: []string{"BR"}}, "BR/review", "generic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := reports.Build(reports.Request{Obligation: owed(t, tt.facts, tt.id), Situation: seed000()})
			require.NoError(t, err)
			require.Equal(t, tt.template, d.Template)
			require.NotEmpty(t, d.Sections)
			require.True(t, strings.HasPrefix(d.Text, d.Title+"\n"))
		})
	}
}

func TestBuild_BadZone(t *testing.T) {
	_, err := reports.Build(reports.Request{Obligation: owed(t, jpFacts(), "JP-APPI/final"), Situation: seed000(), Zone: "Mars/Olympus"})
	require.ErrorContains(t, err, `time zone "Mars/Olympus"`)
}
