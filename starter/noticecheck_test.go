package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
)

// noticeList is an incident's people (fictitious).
const noticeList = "name,kana,email,phone,postal_code,address\n" +
	"佐藤 美咲,サトウ ミサキ,misaki.sato@example.jp,090-1234-5678,160-0023,東京都新宿区西新宿2-8-1\n" +
	"鈴木 健太,スズキ ケンタ,kenta.suzuki@example.jp,080-2222-3333,530-0001,大阪府大阪市北区梅田1-1-1\n" +
	"高橋 陽子,タカハシ ヨウコ,yoko-t@example.ne.jp,03-5555-0101,060-0001,北海道札幌市中央区北1条西2丁目\n"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// starter notices check, as specified: exit 0 when the text may be sent,
// 1 with one LINE:COL: rule line per finding (never the data), 2 for a
// usage or input error.
func TestNoticesCheck(t *testing.T) {
	t.Setenv("BREACHFLOW_PUBLISHED_CONTACTS", "privacy@example.co.jp,0120-123-456")
	list := writeFile(t, "people.csv", noticeList)
	clean := "お客様各位\n\n2026年11月12日、弊社が送信したメールにおいて、13,011名様のメールアドレスが表示される状態となっておりました。\n深くお詫び申し上げます。\nお問い合わせ: privacy@example.co.jp / 0120-123-456（平日10:00〜17:00）\n"
	tests := []struct {
		name      string
		text      string
		args      []string
		code      int
		want      []string // lines of standard output
		forbidden []string // never printed
	}{
		{name: "a clean notice may be sent", text: clean, code: 0, want: []string{"ok: it may be sent (checked against 3 people)"}},
		{name: "the walkthrough's ☆ address", text: clean + "ご不明点は kenta.suzuki☆example.jp まで\n", code: 1,
			want: []string{"6:7: person-email"}, forbidden: []string{"kenta", "suzuki"}},
		{name: "three names with 様 on one line", text: "佐藤美咲様、鈴木健太様、高橋陽子様\n", code: 1,
			want: []string{"1:1: list", "1:1: person-name", "1:7: person-name", "1:13: person-name"}, forbidden: []string{"佐藤", "鈴木", "高橋"}},
		{name: "a kana reading in hiragana", text: "たかはし ようこ\n", code: 1, want: []string{"1:1: person-kana"}},
		{name: "an address over two lines", text: "送付先\n大阪府大阪市北区\n梅田1-1-1\n", code: 1, want: []string{"2:1: person-address"}, forbidden: []string{"梅田"}},
		{name: "the recipient's own data", text: "佐藤 美咲 様\nご登録の住所 東京都新宿区西新宿2-8-1\n", args: []string{"--recipient", "misaki.sato@example.jp"}, code: 0},
		{name: "someone else's data in the recipient's message", text: "佐藤 美咲 様\n鈴木健太様の件\n", args: []string{"--recipient", "misaki.sato@example.jp"}, code: 1,
			want: []string{"2:1: person-name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := writeFile(t, "notice.txt", tt.text)
			code, out := runCLI(t, append([]string{"notices", "check", msg, "--list", list}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, f := range tt.forbidden {
				if strings.Contains(out, f) {
					t.Errorf("output quotes %q:\n%s", f, out)
				}
			}
		})
	}
}

func TestNoticesCheck_JSON(t *testing.T) {
	list := writeFile(t, "people.csv", noticeList)
	msg := writeFile(t, "notice.txt", "連絡先 090-1234-5678\n")
	code, out := runCLI(t, "notices", "check", msg, "--list", list, "--json")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var res noticeCheckResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if res.OK || res.People != 3 || len(res.Findings) == 0 || strings.Contains(out, "1234") {
		t.Errorf("result %+v", res)
	}
}

func TestNoticesCheck_UsageAndInputErrors(t *testing.T) {
	list := writeFile(t, "people.csv", noticeList)
	msg := writeFile(t, "notice.txt", "お知らせ\n")
	sjis := writeFile(t, "sjis.txt", "\x82\xa8\x92m\x82\xe7\x82\xb9\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no list", []string{"notices", "check", msg}, "usage: starter notices check"},
		{"no message", []string{"notices", "check", "--list", list}, "usage: starter notices check"},
		{"a missing message file", []string{"notices", "check", filepath.Join(t.TempDir(), "none.txt"), "--list", list}, "no such file"},
		{"a message not in UTF-8", []string{"notices", "check", sjis, "--list", list}, "is not UTF-8 text"},
		{"a missing list", []string{"notices", "check", msg, "--list", filepath.Join(t.TempDir(), "none.csv")}, "no such file"},
		{"a recipient not on the list", []string{"notices", "check", msg, "--list", list, "--recipient", "nobody@example.jp"}, "nobody on the list has that address"},
		{"another verb", []string{"notices", "send", msg}, "usage: starter notices check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCLIErr(t, tt.args...)
			if code != 2 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, out, tt.want)
			}
		})
	}
}

// What a responder types at declaration reaches every recipient (the
// title in notices, --what and --sent-subject in every deletion request):
// it is refused if it quotes anyone on the incident's lists, naming the
// flag and the place, never the data.
func TestCheckTyped(t *testing.T) {
	cfg := config.Config{ListDir: t.TempDir()}
	ref, rep, err := (&recipients.Store{Dir: cfg.ListDir}).Put(context.Background(), strings.NewReader(noticeList), recipients.Options{})
	require.NoError(t, err)
	require.Zero(t, rep.RejectedCount)
	parts := func(title, what, subject string) []contentscan.Part {
		return []contentscan.Part{{Name: "--title", Text: title}, {Name: "--what", Text: what}, {Name: "--sent-subject", Text: subject}}
	}
	require.NoError(t, checkTyped(context.Background(), cfg, parts("会員情報の誤送信", "会員の氏名・電話番号", "会員様向けイベントのご案内"), &ref, nil))

	err = checkTyped(context.Background(), cfg, parts("会員情報の誤送信", "鈴木健太様ほかの氏名", ""), &ref)
	var ee exitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 1, ee.code)
	require.Contains(t, ee.msg, "--what:1:1: person-name")
	require.NotContains(t, ee.msg, "鈴木")

	err = checkTyped(context.Background(), cfg, parts("kenta.suzuki@example.jp への誤送信", "", ""), &ref)
	require.ErrorAs(t, err, &ee)
	require.Contains(t, ee.msg, "--title:1:1: email")
	require.NotContains(t, ee.msg, "kenta")
}
