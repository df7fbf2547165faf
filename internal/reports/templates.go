package reports

import (
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/runbooks/regimes"
)

// Placeholders for what a person must complete.
const (
	fillJa = "要記入"
	fillEn = "TO FILL"
)

// templates are tried in order; genericTemplate is the fallback.
var templates = []template{
	ppcTemplate,
	appiIndividualTemplate,
	gdprArt33Template,
	gdprArt34Template,
}

// ppcTemplate is the APPI report to the PPC (速報 and 確報): the fields of
// the PPC's 漏えい等報告 form and the nine items of Rule 8(1).
// Research: ../shared/research/regulatory.md §2.4 and §4.1.
var ppcTemplate = template{
	id: "jp-appi-ppc", lang: "ja",
	regimes: []string{"JP-APPI"},
	kinds:   []regimes.Kind{regimes.KindPreliminary, regimes.KindFinal},
	title: func(c *fillCtx) string {
		return fmt.Sprintf("【下書き】漏えい等報告（%s）— %s %s", appiPhase(c.ob.Kind), c.s.IncidentID, c.ob.Audience.Name)
	},
	preamble: func(c *fillCtx) string {
		return fmt.Sprintf("breachflow が %s 時点の事実と件数から作成した下書きです。「%s」「要確認」の項目は担当者が記入・確認してください。"+
			"報告は個人情報保護委員会の報告フォーム（又は権限委任先）から人が行い、提出後に breachflow に提出日時と受付番号を記録してください。",
			c.at(c.s.AsOf), fillJa)
	},
	sections: []sectionSpec{
		{heading: "報告者・報告の種別（漏えい等報告フォーム）", items: []itemSpec{
			{"reporter_name", "報告者の氏名又は名称", toFill(fillJa + "（事業者の名称。担当者個人の氏名ではありません）")},
			{"corporate_number", "法人番号", toFill(fillJa + "（13桁）")},
			{"reporter_address", "住所・代表者の氏名", toFill(fillJa)},
			{"contact", "担当部署・担当者・連絡先", toFill(fillJa)},
			{"industry", "業種", toFill(fillJa)},
			{"phase", "報告種別", func(c *fillCtx) (string, bool) {
				if c.ob.Kind == regimes.KindPreliminary {
					return "速報（施行規則第8条第1項: 報告時点で把握している事項に限る）", false
				}
				return "確報（施行規則第8条第2項）", false
			}},
			{"previous_report", "前回報告", func(c *fillCtx) (string, bool) {
				if c.ob.Kind == regimes.KindPreliminary {
					return "なし（新規報告）", false
				}
				if f, ok := c.filing(c.ob.Regime + "/preliminary"); ok {
					return fmt.Sprintf("速報 %s 提出（受付番号 %s、%s）", c.at(f.FiledAt), f.Reference, f.Channel), false
				}
				return "要確認（速報の提出が breachflow に記録されていません）", true
			}},
			{"channel", "報告先", func(c *fillCtx) (string, bool) {
				return c.ob.Audience.Name + "（権限が委任されている業種の場合は事業所管大臣: 要確認）", false
			}},
			{"my_number", "マイナンバー（個人番号）を含むか", toFill("要確認（不明の場合は「含む」と回答）")},
			{"rule7", "報告対象事態（施行規則第7条）", func(c *fillCtx) (string, bool) {
				var lines []string
				for _, t := range c.ob.Triggers {
					lines = append(lines, "・"+t.Label)
				}
				if c.s.Facts.SensitiveOrFinancial {
					lines = append(lines, "（breachflow は要配慮個人情報と財産的被害のおそれを一つの事実として記録しています。第1号・第2号のどちらに当たるか要確認）")
				}
				if len(lines) == 0 {
					return "要確認", true
				}
				return strings.Join(lines, "\n"), false
			}},
			{"entrustment", "委託元・委託先の関係（連名での報告）", toFill("要確認")},
			{"occurred_at", "発生日", toFill(fillJa + "（不明の場合は「不明」）")},
			{"discovered_at", "発覚日（当該事態を知った日時）", func(c *fillCtx) (string, bool) { return c.at(c.s.Facts.AwareAt), false }},
			{"reportable_since", "報告対象事態に該当すると知った日時", func(c *fillCtx) (string, bool) {
				if c.ob.Anchor.At.IsZero() {
					return "要確認", true
				}
				return c.at(c.ob.Anchor.At), false
			}},
			{"discovery_circumstances", "発覚の経緯", toFill(fillJa)},
			{"deadline", "報告期限", func(c *fillCtx) (string, bool) {
				switch {
				case c.ob.Hard && !c.ob.Deadline.IsZero():
					v := fmt.Sprintf("%s（%s）", c.at(c.ob.Deadline), clockJa.Replace(c.ob.Clock))
					if c.ob.Grace != nil {
						v += fmt.Sprintf("\n参考: 末日が閉庁日のため翌開庁日 %s（ガイドライン上の取扱い、未確認。期限管理には使いません）", c.at(*c.ob.Grace))
					}
					return v, false
				case !c.ob.Target.IsZero():
					return fmt.Sprintf("速やかに（目安 %s、ガイドライン上概ね3〜5日以内）", c.at(c.ob.Target)), false
				}
				return "速やかに", false
			}},
		}},
		{heading: "報告事項（施行規則第8条第1項各号）", items: []itemSpec{
			{"summary", "(1) 概要", func(c *fillCtx) (string, bool) {
				f := c.s.Facts
				v := fmt.Sprintf("%s。%s に把握。", strings.TrimSuffix(orJa(f.Title), "。"), c.at(f.AwareAt))
				if f.WhatLeaked != "" {
					v += fmt.Sprintf("%sを含む個人データについて、", f.WhatLeaked)
				}
				v += fmt.Sprintf("本人%d人分の漏えい等が発生し、又は発生したおそれがある。", f.Persons)
				if f.UnauthorizedPurpose {
					v += "不正の目的をもって行われたおそれがある。"
				}
				return v + "\n経緯の詳細: " + fillJa, false
			}},
			{"data_items", "(2) 漏えい等が発生し、又は発生したおそれがある個人データの項目", func(c *fillCtx) (string, bool) {
				if c.s.Facts.WhatLeaked == "" {
					return fillJa, true
				}
				return c.s.Facts.WhatLeaked + "\n媒体（電子・紙）・本人の区分（顧客・従業員等）: 要確認", false
			}},
			{"persons", "(3) 漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数", func(c *fillCtx) (string, bool) {
				return fmt.Sprintf("%d人（%s 時点で把握している数）", c.s.Facts.Persons, c.at(c.s.AsOf)), false
			}},
			{"cause", "(4) 原因", func(c *fillCtx) (string, bool) {
				if c.s.Facts.UnauthorizedPurpose {
					return "不正の目的をもって行われたおそれがある行為による（施行規則第7条第3号）。詳細: " + fillJa, false
				}
				return fillJa + "（調査中の場合はその旨）", true
			}},
			{"secondary_harm", "(5) 二次被害又はそのおそれの有無及びその内容", toFill(fillJa + "（有・無・不明、及びその内容）")},
			{"individuals", "(6) 本人への対応の実施状況", func(c *fillCtx) (string, bool) {
				notice := "本人への通知（実施日・方法）: " + fillJa
				r := c.s.Recall
				if r == nil || r.Total == 0 {
					return notice, true
				}
				return fmt.Sprintf("誤って受け取った方 %d名に削除を依頼（依頼済み %d名、電話で削除確認 %d名、メールで削除確認 %d名、確認完了 %d名、連絡がつかない方 %d名、個別対応で完了 %d名。%s 時点）。\n%s",
					r.Total, r.Requested, r.PhoneConfirmed, r.EmailConfirmed, r.Confirmed, r.Unreachable, r.ClosedByOperator, c.at(c.s.AsOf), notice), false
			}},
			{"publication", "(7) 公表の実施状況", toFill(fillJa + "（公表の有無、実施日、方法: ホームページ掲載・記者発表等）")},
			{"prevention", "(8) 再発防止のための措置", func(c *fillCtx) (string, bool) {
				var lines []string
				if len(c.s.Done) > 0 {
					lines = append(lines, "実施済みの措置:")
					for _, m := range c.s.Done {
						lines = append(lines, fmt.Sprintf("・%s（%s）", m.Title.Ja, c.day(m.At)))
					}
				}
				if len(c.s.Open) > 0 {
					lines = append(lines, "実施予定の措置:")
					for _, m := range c.s.Open {
						lines = append(lines, fmt.Sprintf("・%s（期限 %s）", m.Title.Ja, c.day(m.At)))
					}
				}
				if !c.s.PreventionDue.IsZero() {
					lines = append(lines, fmt.Sprintf("原因分析と再発防止策: %s までに取りまとめ予定", c.day(c.s.PreventionDue)))
				}
				lines = append(lines, "再発防止策の内容: "+fillJa)
				return strings.Join(lines, "\n"), len(lines) == 1
			}},
			{"other", "(9) その他参考となる事項", func(c *fillCtx) (string, bool) {
				var lines []string
				for _, f := range c.s.Filings {
					if f.ObligationID == c.ob.ID {
						continue
					}
					lines = append(lines, fmt.Sprintf("・%s（%s）: %s 提出、受付番号 %s", f.Title, f.ObligationID, c.at(f.FiledAt), f.Reference))
				}
				if len(lines) > 0 {
					lines = append([]string{"breachflow に記録された他の報告:"}, lines...)
				}
				lines = append(lines, "警察への相談、他の行政機関・外国の監督機関への報告等: "+fillJa)
				return strings.Join(lines, "\n"), false
			}},
		}},
	},
}

// appiIndividualTemplate is the APPI notice to individuals (Rule 10:
// items 1, 2, 4, 5 and 9 of Rule 8(1)).
var appiIndividualTemplate = template{
	id: "jp-appi-individual", lang: "ja",
	regimes: []string{"JP-APPI"},
	kinds:   []regimes.Kind{regimes.KindIndividualNotice},
	title: func(c *fillCtx) string {
		return fmt.Sprintf("【下書き】本人への通知（個人情報保護法第26条第2項、施行規則第10条）— %s", c.s.IncidentID)
	},
	preamble: func(c *fillCtx) string {
		return fmt.Sprintf("breachflow が %s 時点の事実から作成した下書きです。通知は一人一通、他の方の情報を含めずに送ります（ブロードキャストの承認手順を経てください）。", c.at(c.s.AsOf))
	},
	sections: []sectionSpec{
		{heading: "通知事項（施行規則第10条: 第8条第1項第1号・第2号・第4号・第5号・第9号）", items: []itemSpec{
			{"summary", "(1) 概要", func(c *fillCtx) (string, bool) {
				f := c.s.Facts
				return fmt.Sprintf("%s。%s に把握しました。", strings.TrimSuffix(orJa(f.Title), "。"), c.day(f.AwareAt)), false
			}},
			{"data_items", "(2) 漏えい等が発生し、又は発生したおそれがある個人データの項目", func(c *fillCtx) (string, bool) {
				if c.s.Facts.WhatLeaked == "" {
					return fillJa, true
				}
				return c.s.Facts.WhatLeaked, false
			}},
			{"cause", "(4) 原因", toFill(fillJa)},
			{"secondary_harm", "(5) 二次被害又はそのおそれの有無及びその内容", toFill(fillJa + "（不審な連絡への注意喚起を含む）")},
			{"other", "(9) その他参考となる事項", toFill(fillJa + "（お問い合わせ窓口、受付時間）")},
			{"substitute", "通知が困難な場合の代替措置（第26条第2項ただし書）", given("公表及び問い合わせ窓口の設置（必要な場合）")},
		}},
	},
}

// gdprArt33Template is the notification to the supervisory authority,
// GDPR Art. 33(3) (also UK GDPR).
var gdprArt33Template = template{
	id: "gdpr-art33", lang: "en",
	regimes: []string{"EU-GDPR", "UK-GDPR"},
	kinds:   []regimes.Kind{regimes.KindRegulatorNotice},
	title: func(c *fillCtx) string {
		return fmt.Sprintf("DRAFT: notification of a personal data breach (Art. 33 %s) — %s, to %s", c.ob.Regime, c.s.IncidentID, c.ob.Audience.Name)
	},
	preamble: func(c *fillCtx) string {
		return fmt.Sprintf("Drafted by breachflow from the facts and counts as of %s. Complete every %q item before filing; a person files it and records the filing in breachflow.", c.at(c.s.AsOf), fillEn)
	},
	sections: []sectionSpec{
		{heading: "Notification", items: []itemSpec{
			{"controller", "Controller (name and contact details)", toFill(fillEn)},
			{"aware_at", "Became aware", func(c *fillCtx) (string, bool) {
				return fmt.Sprintf("%s (%s UTC)", c.at(c.s.Facts.AwareAt), c.s.Facts.AwareAt.UTC().Format("2006-01-02 15:04")), false
			}},
			{"deadline", "Deadline (Art. 33(1))", func(c *fillCtx) (string, bool) {
				return fmt.Sprintf("%s (%s after becoming aware)", c.at(c.ob.Deadline), c.ob.Clock), false
			}},
			{"delay_reason", "Reasons for delay (Art. 33(1))", func(c *fillCtx) (string, bool) {
				if !c.ob.Deadline.IsZero() && c.s.AsOf.After(c.ob.Deadline) {
					return fillEn + ": the notification is made after 72 hours; the reasons for the delay are required.", true
				}
				return fmt.Sprintf("Not needed if notified by %s.", c.at(c.ob.Deadline)), false
			}},
			{"phases", "Phased notification (Art. 33(4))", given("Information not yet available may be provided in phases without undue further delay.")},
		}},
		{heading: "Art. 33(3)", items: []itemSpec{
			{"nature", "(a) Nature of the breach, categories and approximate number of data subjects and of records", func(c *fillCtx) (string, bool) {
				f := c.s.Facts
				v := fmt.Sprintf("%s.\nCategories of personal data: %s.\nApproximate number of data subjects concerned: %d (as of %s).",
					strings.TrimSuffix(orEn(f.Title), "."), orEn(f.WhatLeaked), f.Persons, c.at(c.s.AsOf))
				if f.UnauthorizedPurpose {
					v += "\nThe breach may have been done with an unauthorized (malicious) purpose."
				}
				return v + "\nCategories of data subjects and approximate number of records: " + fillEn, false
			}},
			{"dpo", "(b) Name and contact details of the data protection officer or other contact point", toFill(fillEn)},
			{"consequences", "(c) Likely consequences of the breach", toFill(fillEn)},
			{"measures", "(d) Measures taken or proposed, including to mitigate possible adverse effects", func(c *fillCtx) (string, bool) {
				return measuresEn(c), false
			}},
		}},
	},
}

// gdprArt34Template is the communication to data subjects, GDPR Art. 34(2).
var gdprArt34Template = template{
	id: "gdpr-art34", lang: "en",
	regimes: []string{"EU-GDPR", "UK-GDPR"},
	kinds:   []regimes.Kind{regimes.KindIndividualNotice},
	title: func(c *fillCtx) string {
		return fmt.Sprintf("DRAFT: communication of a personal data breach to the data subjects (Art. 34 %s) — %s", c.ob.Regime, c.s.IncidentID)
	},
	preamble: func(c *fillCtx) string {
		return fmt.Sprintf("Drafted by breachflow as of %s. In clear and plain language; one recipient per message, nobody else named (send it through the approved broadcast).", c.at(c.s.AsOf))
	},
	sections: []sectionSpec{
		{heading: "Art. 34(2)", items: []itemSpec{
			{"nature", "Nature of the breach", func(c *fillCtx) (string, bool) {
				f := c.s.Facts
				return fmt.Sprintf("%s. Data concerned: %s.", strings.TrimSuffix(orEn(f.Title), "."), orEn(f.WhatLeaked)), false
			}},
			{"dpo", "Art. 33(3)(b): contact point", toFill(fillEn)},
			{"consequences", "Art. 33(3)(c): likely consequences", toFill(fillEn)},
			{"measures", "Art. 33(3)(d): measures taken or proposed", func(c *fillCtx) (string, bool) { return measuresEn(c), false }},
		}},
	},
}

// genericTemplate drafts a memo for any other obligation: what is owed, to
// whom, by when, under which rule, and the facts and counts.
var genericTemplate = template{
	id: "generic", lang: "en",
	title: func(c *fillCtx) string {
		return fmt.Sprintf("DRAFT: %s (%s) — %s, to %s", c.ob.Title, c.ob.ID, c.s.IncidentID, c.ob.Audience.Name)
	},
	preamble: func(c *fillCtx) string {
		return fmt.Sprintf("breachflow has no template for %s; this memo gathers the facts as of %s for counsel, who drafts the notice from the source cited.", c.ob.ID, c.at(c.s.AsOf))
	},
	sections: []sectionSpec{
		{heading: "Obligation", items: []itemSpec{
			{"obligation", "Obligation", func(c *fillCtx) (string, bool) { return fmt.Sprintf("%s: %s", c.ob.ID, c.ob.Title), false }},
			{"audience", "To", func(c *fillCtx) (string, bool) { return c.ob.Audience.Name, false }},
			{"due", "Due", func(c *fillCtx) (string, bool) {
				switch {
				case c.ob.Pending:
					return "not yet known: the clock has not started (" + c.ob.Anchor.Name + ")", false
				case c.ob.Hard:
					return fmt.Sprintf("%s (%s)", c.at(c.ob.Deadline), c.ob.Clock), false
				case !c.ob.Target.IsZero():
					return fmt.Sprintf("promptly (target %s)", c.at(c.ob.Target)), false
				}
				return "promptly", false
			}},
			{"source", "Rule", func(c *fillCtx) (string, bool) {
				return strings.TrimSpace(c.ob.Source.Citation + " " + c.ob.Source.URL), false
			}},
			{"note", "Note", func(c *fillCtx) (string, bool) { return orEn(c.ob.Note), c.ob.Note == "" }},
		}},
		{heading: "Facts", items: []itemSpec{
			{"summary", "What happened", func(c *fillCtx) (string, bool) {
				f := c.s.Facts
				return fmt.Sprintf("%s. Aware since %s. Data: %s. Persons: %d.", strings.TrimSuffix(orEn(f.Title), "."), c.at(f.AwareAt), orEn(f.WhatLeaked), f.Persons), false
			}},
			{"measures", "Measures", func(c *fillCtx) (string, bool) { return measuresEn(c), false }},
		}},
	},
}

// measuresEn lists the containment done and planned, and the recall.
func measuresEn(c *fillCtx) string {
	var lines []string
	for _, m := range c.s.Done {
		lines = append(lines, fmt.Sprintf("- done %s: %s", c.day(m.At), m.Title.En))
	}
	for _, m := range c.s.Open {
		lines = append(lines, fmt.Sprintf("- planned by %s: %s", c.day(m.At), m.Title.En))
	}
	if r := c.s.Recall; r != nil && r.Total > 0 {
		lines = append(lines, fmt.Sprintf("- deletion requested from the %d people who received the data by mistake: %d asked, %d confirmed deletion (%d by phone, %d by e-mail), %d unreachable, %d closed individually (as of %s)",
			r.Total, r.Requested, r.Confirmed, r.PhoneConfirmed, r.EmailConfirmed, r.Unreachable, r.ClosedByOperator, c.at(c.s.AsOf)))
	}
	if !c.s.PreventionDue.IsZero() {
		lines = append(lines, fmt.Sprintf("- root-cause and prevention report due %s", c.day(c.s.PreventionDue)))
	}
	lines = append(lines, "- further measures to mitigate possible adverse effects: "+fillEn)
	return strings.Join(lines, "\n")
}

// clockJa puts a regime clock ("30 days, anchor_day_is_day_1") in Japanese.
var clockJa = strings.NewReplacer(
	" days", "日", " hours", "時間", ", ", "、",
	"anchor_day_is_day_1", "知った日を1日目として計算",
	"days_after_anchor_day", "起算日の翌日から計算",
	"elapsed", "経過時間",
)

func appiPhase(k regimes.Kind) string {
	if k == regimes.KindPreliminary {
		return "速報"
	}
	return "確報"
}

func orJa(s string) string {
	if strings.TrimSpace(s) == "" {
		return fillJa
	}
	return s
}

func orEn(s string) string {
	if strings.TrimSpace(s) == "" {
		return fillEn
	}
	return s
}
