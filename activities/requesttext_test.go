package activities_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/runbooks"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite activities/testdata/golden from the catalogue")

// golden compares got with testdata/golden/name, or rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "golden file missing: go test ./activities -run TestDeletionRequest -update-golden")
	require.Equal(t, string(want), got, "%s changed: review it, then go test ./activities -run TestDeletionRequest -update-golden", p)
}

// The deletion request of each built-in runbook with a recall, as its
// wrong recipients receive it: it names the organisation and its desk,
// what was sent and when, in the runbook's words for the incident, exactly
// what to delete, how to confirm, and how to check it is genuine. Golden
// files pin the whole text (reviewed in testdata/golden).
func TestDeletionRequest_EachRunbooksWords(t *testing.T) {
	org := runbooks.NoticeData{Organization: "株式会社サンプル", ContactPhone: "0120-123-456", ContactHours: "平日10:00〜17:00", ContactEmail: "privacy@example.co.jp"}
	sentAt := time.Date(2026, 11, 12, 1, 30, 0, 0, time.UTC) // 10:30 JST
	seeds := []struct {
		runbook, subject, what string
		received, deleted      string // the runbook's words that must appear
	}{
		{"missend", "会員様向けイベントのご案内", "会員の皆様の氏名・電話番号", "会員の皆様の個人情報を含むファイルを添付したメール", "そのメールと添付ファイル"},
		{"visible-recipients", "メールマガジン 2026年11月号", "", "ほかのお客様のメールアドレスが宛先に表示された状態のメールマガジン", "表示されたメールアドレスへの返信・転送やご利用は"},
		{"addresses-in-body", "プロダクトニュース 2026年11月号", "", "本文にほかのお客様のメールアドレスの一覧が記載された状態のプロダクトニュース", "記載されたメールアドレスの転送やご利用は"},
	}
	for _, sd := range seeds {
		t.Run(sd.runbook, func(t *testing.T) {
			snap, err := runbooks.Builtin(sd.runbook)
			require.NoError(t, err)
			rc := snap.Runbook.Phases.Recall
			require.NotNil(t, rc)
			in := activities.DeletionRequest{IncidentID: "INC-20261112-7QK2ZP", RecipientID: "R00007", Attempt: 1,
				Message: rc.EffectiveMessage(), Sent: activities.SentMessage{Subject: sd.subject, At: sentAt, What: sd.what, TimeZone: "Asia/Tokyo"}}
			const link = "https://breach.example.co.jp/confirm/TOKEN"
			subject, text, sms := activities.DeletionRequestTexts(org, in, "山田 太郎", link)
			for _, want := range []string{
				"山田 太郎 様", "株式会社サンプルでございます。", "2026年11月12日、弊社より「" + sd.subject + "」という件名の" + sd.received,
				sd.deleted, "「削除しました」のボタン", link, "0120-123-456（平日10:00〜17:00）", "パスワードや口座番号",
				"受付番号: R00007", "Dear 山田 太郎,", "On 12 November 2026", "never ask for your password",
			} {
				require.Contains(t, text, want)
			}
			require.NotContains(t, text, "お客様宛てではない情報", "the runbook's words, not a generic phrase")
			require.Contains(t, subject, "株式会社サンプルより")
			require.Contains(t, sms, "【株式会社サンプル】2026年11月12日")
			require.Contains(t, sms, "0120-123-456")
			golden(t, sd.runbook+".email.txt", "Subject: "+subject+"\n\n"+text)
			golden(t, sd.runbook+".sms.txt", sms+"\n")

			// The call: a short spoken form naming the organisation and
			// its desk; 1 confirms exactly the deletion it asked for.
			v := activities.NewVoiceScript(org, activities.RequestContext{Message: in.Message, Sent: in.Sent})
			require.Contains(t, v.Ask, "こちらは、株式会社サンプルでございます。2026年11月12日、弊社から"+sd.received+"を、誤ってお客様にお送りしてしまいました。")
			require.Contains(t, v.Ask, "弊社の窓口、0120-123-456、")
			require.NotContains(t, v.Ask, "（", "asides are not read out")
			require.Contains(t, v.Thanks, "株式会社サンプル")
			golden(t, sd.runbook+".voice.txt", strings.Join([]string{"ask: " + v.Ask, "1: " + v.Thanks, "2: " + v.Callback, "silence: " + v.Goodbye}, "\n")+"\n")

			if sd.runbook == "missend" {
				// Seed 000's staff asked that both the mail and the file
				// were deleted; 1 confirms exactly that.
				require.Contains(t, v.Ask, "そのメールと添付ファイルを削除されましたら、1を押してください。")
			}

			in.Attempt = 2
			subject, text, _ = activities.DeletionRequestTexts(org, in, "", link)
			require.True(t, strings.HasPrefix(subject, "【再送】"))
			require.Contains(t, text, "お客様\n")
			require.Contains(t, text, "改めてお送りいたします")
			golden(t, sd.runbook+".reminder.email.txt", "Subject: "+subject+"\n\n"+text)
		})
	}
}

// The first notice of each built-in runbook, as everyone affected receives
// it: the runbook's template with the organisation and its desk, and the
// items APPI Rule 10 requires. Golden files pin the whole text.
func TestFirstNotice_EachRunbook(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 12)
	items := activities.NoticeItems{
		Summary:       "2026年11月12日、弊社の業務において、お客様の個人情報が外部に漏えいしたおそれがあることが判明いたしました。",
		DataItems:     []string{"氏名", "メールアドレス"},
		Cause:         "現在調査中です。判明次第ご報告いたします。",
		SecondaryHarm: "現時点で、二次被害は確認されておりません。",
	}
	for _, id := range runbooks.BuiltinIDs() {
		t.Run(id, func(t *testing.T) {
			snap, err := runbooks.Builtin(id)
			require.NoError(t, err)
			bp := snap.Runbook.Phases.Broadcast
			if bp == nil {
				t.Skip("no notice in this runbook")
			}
			p := prepare(t, n, activities.NoticeRequest{
				BroadcastID: "INC-20261112-7QK2ZP/broadcast/1", Template: bp.Template, Lang: "ja",
				Notice: runbooks.NoticeData{IncidentID: "INC-20261112-7QK2ZP", Organization: "株式会社サンプル",
					ContactEmail: "privacy@example.co.jp", ContactPhone: "0120-123-456", ContactHours: "平日10:00〜17:00"},
				Items: items, List: list,
			})
			require.Empty(t, p.Findings)
			c := p.Content
			for _, want := range []string{"株式会社サンプル", "0120-123-456", "【個人情報保護法施行規則第10条に基づくご通知事項】", "氏名、メールアドレス"} {
				require.Contains(t, c.Subject+c.Text, want)
			}
			golden(t, id+".notice.txt", "Subject: "+c.Subject+"\n\n"+c.Text)
		})
	}
}
