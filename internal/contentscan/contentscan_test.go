package contentscan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/runbooks"
)

// org is the organisation's published contacts, as configured.
var org = contentscan.Allowlist{
	Emails: []string{"privacy@example.co.jp", "security@example.com"},
	Phones: []string{"0120-123-456"},
}

var notice = runbooks.NoticeData{
	IncidentID: "INC-20261116-7QK2ZP", Organization: "株式会社サンプル",
	ContactEmail: "privacy@example.co.jp", ContactPhone: "0120-123-456", ContactHours: "平日10:00〜17:00",
}

func to(addr string) []string { return []string{addr} }

// rules returns the rules of a report's findings, in order.
func rules(r contentscan.Report) []contentscan.Rule {
	var out []contentscan.Rule
	for _, f := range r.Findings {
		out = append(out, f.Rule)
	}
	return out
}

func has(r contentscan.Report, rule contentscan.Rule) bool {
	for _, f := range r.Findings {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// customers returns n fictitious customer addresses.
func customers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("customer%05d@mail%d.example.jp", i+1, i%7)
	}
	return out
}

// Seed 004: the operator bound the customer address file to the body when
// switching from the test send to the live send, so the product news went
// out with all 13,011 addresses in it. Every way the file can end up in a
// message is refused.
func TestSeed004_AddressFileBoundIntoTheMessageIsRefused(t *testing.T) {
	news := "お客様各位\n\n弊社プロダクトニュース 2016年11月号をお届けします。\n新機能のご案内です。\n\n"
	addrs := customers(13011)
	csv := "email\n" + strings.Join(addrs, "\n") + "\n"
	tests := []struct {
		name string
		msg  contentscan.Message
		want contentscan.Rule
	}{
		{"one address per line after the news", contentscan.Message{To: to(addrs[0]), Subject: "プロダクトニュース", Text: news + strings.Join(addrs, "\n")}, contentscan.RuleEmail},
		{"comma-separated on one line", contentscan.Message{To: to(addrs[0]), Subject: "プロダクトニュース", Text: news + strings.Join(addrs, ", ")}, contentscan.RuleEmail},
		{"in the HTML part only", contentscan.Message{To: to(addrs[0]), Subject: "プロダクトニュース", Text: news,
			HTML: "<p>" + strings.Join(addrs, "<br>") + "</p>"}, contentscan.RuleEmail},
		{"as HTML entities", contentscan.Message{To: to(addrs[0]), Subject: "プロダクトニュース", Text: news,
			HTML: "<p>" + strings.ReplaceAll(strings.Join(addrs[:50], "<br>"), "@", "&#64;") + "</p>"}, contentscan.RuleEmail},
		{"attached as the CSV it came from", contentscan.Message{To: to(addrs[0]), Subject: "プロダクトニュース", Text: news,
			Attachments: []contentscan.Attachment{{Filename: "list.csv", ContentType: "text/csv", Content: []byte(csv)}}}, contentscan.RuleAttachment},
		{"attached as text", contentscan.Message{To: to(addrs[0]), Subject: "プロダクトニュース", Text: news,
			Attachments: []contentscan.Attachment{{Filename: "news.txt", ContentType: "text/plain", Content: []byte(csv)}}}, contentscan.RuleEmail},
		{"the recipient's own address is allowed, the second is not", contentscan.Message{To: to(addrs[0]), Subject: "プロダクトニュース",
			Text: news + addrs[0] + "\n" + addrs[1]}, contentscan.RuleEmail},
		{"in the subject", contentscan.Message{To: to(addrs[0]), Subject: "ニュース " + addrs[1], Text: news}, contentscan.RuleEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := contentscan.Scan(tt.msg, org)
			if r.OK() || !has(r, tt.want) {
				t.Fatalf("rules %v, want a %q finding", rules(r), tt.want)
			}
			if err := r.Err(); err == nil || strings.Contains(err.Error(), "@") {
				t.Fatalf("error %v: want a refusal that quotes no address", err)
			}
		})
	}
}

// Seed 003: a newsletter went out with 29 addresses in To/CC instead of
// BCC. A message to more than one person is refused, however the others
// are named.
func TestSeed003_SeveralRecipientsOnOneMessageAreRefused(t *testing.T) {
	addrs := customers(29)
	tests := []struct {
		name        string
		to, cc, bcc []string
	}{
		{"29 in To", addrs, nil, nil},
		{"1 in To, 28 in CC", addrs[:1], addrs[1:], nil},
		{"1 in To, 28 in BCC", addrs[:1], nil, addrs[1:]},
		{"2 in To", addrs[:2], nil, nil},
		{"nobody in To, one in BCC", nil, nil, addrs[:1]},
		{"nobody at all", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := contentscan.Scan(contentscan.Message{To: tt.to, CC: tt.cc, BCC: tt.bcc, Subject: "NEST NEWS LETTER", Text: "8月号をお届けします。"}, org)
			if !has(r, contentscan.RuleRecipients) {
				t.Fatalf("rules %v: want a %q finding", rules(r), contentscan.RuleRecipients)
			}
		})
	}
}

// Every built-in runbook's notice, rendered with the organisation's
// contacts, passes: the scan does not stop the notices it exists to
// protect.
func TestBuiltinNoticesPass(t *testing.T) {
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
				subject, body, err := b.Template.Render(lang, notice)
				if err != nil {
					t.Fatal(err)
				}
				r := contentscan.Scan(contentscan.Message{To: to("taro@example.jp"), Subject: subject, Text: body}, org)
				if err := r.Err(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// A notice modelled on the seeds' own wording (dates, times, counts with
// digit-group commas, numbered sections, a contact block) passes.
func TestNoticeProsePasses(t *testing.T) {
	text := `2016年11月16日

お客様各位

個人情報（メールアドレス）流出のお詫びとご報告

1. 発生日時
2016年11月14日（月）9時16分～9時41分

2. 誤配信された情報の内容
配信件数: 1,016件
対象件数: 13,011件
流出した項目: メールアドレス

3. 今後の対応
・今回の事象における詳細の原因分析
・現在の情報管理体制と業務フローの課題整理
・抜本的な改善方針

Dear customer,
We sincerely apologise, and we will report again by December, once the analysis is done,
as promised. If anything is unclear, please contact us, in Japanese or English,
at the desk below, on weekdays.

お問い合わせ先(専用窓口)
電話番号: 0120-123-456(受付時間: 平日11:00~17:00)
メールアドレス: privacy@example.co.jp
〒100-0001 東京都千代田区千代田1-1
株式会社サンプル
(受付番号: INC-20261116-7QK2ZP)
`
	r := contentscan.Scan(contentscan.Message{To: to("taro@example.jp"), Subject: "お詫びとご報告", Text: text,
		HTML: "<p>" + strings.ReplaceAll(text, "\n", "<br>\n") + `<a href="mailto:privacy@example.co.jp">privacy@example.co.jp</a></p>`}, org)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestListsOfPeopleAreRefused(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"a CSV block of names and cities", "参考:\n山田太郎,東京都,男性\n佐藤花子,大阪府,女性\n鈴木一郎,愛知県,男性\n"},
		{"a tab-separated block", "id\tname\n1\tTaro Yamada\n2\tHanako Sato\n"},
		{"names with honorifics", "以下の方にお送りしました。\n山田 太郎 様\n佐藤 花子 様\n鈴木 一郎 様\n"},
		{"enumerated names without honorifics", "1. 山田 太郎\n2. 佐藤 花子\n3. 鈴木 一郎\n"},
		{"Latin names", "Recipients:\nTaro Yamada\nHanako Sato\nIchiro Suzuki\n"},
		{"titled Latin names", "Ms. Hanako Sato\nMr. Taro Yamada\nDr. Ichiro Suzuki\n"},
		{"postal addresses", "〒100-0001 東京都千代田区\n〒530-0001 大阪市北区\n〒460-0001 名古屋市中区\n"},
		{"many at signs, even malformed", strings.Repeat("taro@example ", 11)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := contentscan.Scan(contentscan.Message{To: to("taro@example.jp"), Subject: "お知らせ", Text: tt.text}, org)
			if !has(r, contentscan.RuleList) {
				t.Fatalf("rules %v: want a %q finding", rules(r), contentscan.RuleList)
			}
		})
	}
}

func TestContactsOutsideTheAllowlistAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		phone string // the recipient's own number
		want  contentscan.Rule
	}{
		{"another person's mobile", "ご連絡先: 090-1234-5678", "", contentscan.RulePhone},
		{"the recipient's own mobile is allowed", "ご登録の番号: 090-1234-5678", "+81 90-1234-5678", ""},
		{"the desk's number written internationally is allowed", "Phone: +81 120-123-456", "", ""},
		{"full-width digits", "電話: ０９０−１２３４−５６７８", "", contentscan.RulePhone},
		{"full-width address", "メール: ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "", contentscan.RuleEmail},
		{"the desk's address in capitals is allowed", "PRIVACY@EXAMPLE.CO.JP", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := contentscan.Scan(contentscan.Message{To: to("hanako@example.jp"), RecipientPhone: tt.phone, Subject: "お知らせ", Text: tt.text}, org)
			switch {
			case tt.want == "" && !r.OK():
				t.Fatalf("refused: %v", r.Err())
			case tt.want != "" && !has(r, tt.want):
				t.Fatalf("rules %v: want a %q finding", rules(r), tt.want)
			}
		})
	}
}

func TestAttachmentsMustBeCheckableText(t *testing.T) {
	tests := []struct {
		name string
		att  contentscan.Attachment
		ok   bool
	}{
		{"a plain-text explanation", contentscan.Attachment{Filename: "説明.txt", ContentType: "text/plain; charset=utf-8", Content: []byte("経緯のご説明です。")}, true},
		{"a spreadsheet", contentscan.Attachment{Filename: "対象者.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Content: []byte("PK\x03\x04")}, false},
		{"a CSV disguised as text", contentscan.Attachment{Filename: "list.csv", ContentType: "text/plain", Content: []byte("a\n")}, false},
		{"a PDF cannot be checked", contentscan.Attachment{Filename: "notice.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.7")}, false},
		{"Shift_JIS text cannot be checked", contentscan.Attachment{Filename: "sjis.txt", ContentType: "text/plain", Content: []byte{0x83, 0x65, 0x83, 0x58}}, false},
		{"a name holding an address is not quoted", contentscan.Attachment{Filename: "taro@example.jp.zip", ContentType: "application/zip"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := contentscan.Scan(contentscan.Message{To: to("hanako@example.jp"), Subject: "お知らせ", Text: "本文", Attachments: []contentscan.Attachment{tt.att}}, org)
			if r.OK() != tt.ok {
				t.Fatalf("OK = %v, want %v (%v)", r.OK(), tt.ok, r.Err())
			}
			if err := r.Err(); err != nil && strings.Contains(err.Error(), "@") {
				t.Fatalf("the refusal quotes an address: %v", err)
			}
		})
	}
}

func TestManyFindingsAreSummarised(t *testing.T) {
	r := contentscan.Scan(contentscan.Message{To: to("hanako@example.jp"), Subject: "s", Text: strings.Join(customers(500), "\n")}, org)
	emails := 0
	for _, f := range r.Findings {
		if f.Rule == contentscan.RuleEmail {
			emails++
		}
	}
	if emails != 4 {
		t.Fatalf("%d e-mail findings, want 3 and a summary", emails)
	}
	if !strings.Contains(r.Err().Error(), "500 addresses") {
		t.Fatalf("error %q does not say how many", r.Err())
	}
}
