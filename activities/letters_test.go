package activities_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/letters"
)

func brokerLetter() activities.BrokerLetterRequest {
	return activities.BrokerLetterRequest{
		IncidentID: "INC-20260626-BRK002", DemandID: "B003", Date: time.Date(2026, 7, 8, 1, 0, 0, 0, time.UTC),
		Broker:          letters.Party{Name: "株式会社名簿センター", PostalCode: "160-0022", Address: "東京都新宿区新宿9-9-9"},
		Data:            "当社の顧客情報（氏名、住所、電話番号、生年月日）を含む名簿",
		Evidence:        "貴社が販売する名簿に当社の顧客情報が含まれていることを確認いたしました",
		ReplyWithinDays: 14,
	}
}

func lettersActs(t *testing.T) *activities.Letters {
	return &activities.Letters{
		Dir:    t.TempDir(),
		Sender: letters.Party{Name: "株式会社サンプル教育", PostalCode: "700-0000", Address: "岡山県岡山市北区1-1-1", Department: "お客様本部", Phone: "0120-000-000"},
	}
}

// Both files are stored, each named by its hash: the Word file to upload
// to e内容証明 and the PDF for the records and for printing.
func TestRenderBrokerLetter_StoresTheWordFileAndThePDFAndReturnsTheirPathsAndHashes(t *testing.T) {
	l := lettersActs(t)
	env := activityEnv()
	env.RegisterActivity(l)
	v, err := env.ExecuteActivity(l.RenderBrokerLetter, brokerLetter())
	require.NoError(t, err)
	var got activities.BrokerLetter
	require.NoError(t, v.Get(&got))
	require.Equal(t, filepath.Join(l.Dir, "INC-20260626-BRK002", "B003-"+got.SHA256[:12]+".pdf"), got.Path)
	b, err := os.ReadFile(got.Path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	require.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)
	require.Equal(t, len(b), got.Bytes)
	require.True(t, strings.HasPrefix(string(b), "%PDF-"))

	require.Equal(t, filepath.Join(l.Dir, "INC-20260626-BRK002", "B003-"+got.DocxSHA256[:12]+".docx"), got.DocxPath)
	d, err := os.ReadFile(got.DocxPath)
	require.NoError(t, err)
	sum = sha256.Sum256(d)
	require.Equal(t, hex.EncodeToString(sum[:]), got.DocxSHA256)
	require.Equal(t, len(d), got.DocxBytes)
	require.True(t, strings.HasPrefix(string(d), "PK\x03\x04"), "a .docx is a zip")
	require.Equal(t, 2, got.DocxPages, "the letter fits two pages of e内容証明 (priced by the page)")
	require.Positive(t, got.Pages)

	for _, p := range []string{got.Path, got.DocxPath} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a letter names a company and its address: owner only")
	}
	entries, err := os.ReadDir(filepath.Join(l.Dir, "INC-20260626-BRK002"))
	require.NoError(t, err)
	require.Len(t, entries, 2, "the two letters and no temporary file")

	// The same request gives the same file.
	v, err = env.ExecuteActivity(l.RenderBrokerLetter, brokerLetter())
	require.NoError(t, err)
	var again activities.BrokerLetter
	require.NoError(t, v.Get(&again))
	require.Equal(t, got, again)
}

func TestRenderBrokerLetter_RefusesWhatMustNotBeSent(t *testing.T) {
	tests := []struct {
		name   string
		change func(*activities.BrokerLetterRequest)
		want   string
	}{
		{"an affected person's number in the evidence", func(r *activities.BrokerLetterRequest) {
			r.Evidence = "お客様（090-1234-5678）から苦情がありました"
		}, activities.ErrTypeContentRefused},
		{"an address in the data description", func(r *activities.BrokerLetterRequest) { r.Data = "taro@example.jp を含む名簿" }, activities.ErrTypeContentRefused},
		{"no addressee", func(r *activities.BrokerLetterRequest) { r.Broker.Name = "" }, activities.ErrTypeLetterIncomplete},
		{"a path in the demand ID", func(r *activities.BrokerLetterRequest) { r.DemandID = "../B003" }, activities.ErrTypeLetterIncomplete},
		{"a kanji e内容証明 cannot print in the broker's name", func(r *activities.BrokerLetterRequest) { r.Broker.Name = "髙橋名簿株式会社" }, activities.ErrTypeLetterIncomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lettersActs(t)
			env := activityEnv()
			env.RegisterActivity(l)
			req := brokerLetter()
			tt.change(&req)
			_, err := env.ExecuteActivity(l.RenderBrokerLetter, req)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "got %v", err)
			require.Equal(t, tt.want, appErr.Type())
			require.True(t, appErr.NonRetryable())
			entries, _ := os.ReadDir(l.Dir)
			require.Empty(t, entries, "nothing is stored")
		})
	}
}

func TestLoadNoticeConfig(t *testing.T) {
	env := map[string]string{
		"BREACHFLOW_ROLES":              "privacy-officer=dpo@example.co.jp;legal=a@example.co.jp,b@example.co.jp",
		"BREACHFLOW_PUBLISHED_CONTACTS": "privacy@example.co.jp, 0120-123-456",
		"BREACHFLOW_ORG_NAME":           "株式会社サンプル",
		"BREACHFLOW_CONTACT_PHONE":      "0120-123-456",
		"BREACHFLOW_LETTER_DIR":         "/var/lib/breachflow/letters/",
		"BREACHFLOW_SENDGRID_RPS":       "25",
	}
	c, err := activities.LoadNoticeConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, []string{"a@example.co.jp", "b@example.co.jp"}, c.Roles.Addresses("legal"))
	require.Equal(t, []string{"privacy@example.co.jp"}, c.Published.Emails)
	require.Equal(t, []string{"0120-123-456"}, c.Published.Phones)
	require.Equal(t, "株式会社サンプル", c.Org.Organization)
	require.Equal(t, "株式会社サンプル", c.Sender.Name)
	require.Equal(t, "0120-123-456", c.Sender.Phone)
	require.Equal(t, "/var/lib/breachflow/letters", c.LetterDir)
	require.Equal(t, 25.0, c.SendGridRPS)

	for k, v := range map[string]string{
		"BREACHFLOW_PUBLISHED_CONTACTS": "privacy@example.co.jp, not a contact",
		"BREACHFLOW_SENDGRID_RPS":       "fast",
		"BREACHFLOW_ROLES":              "legal",
	} {
		bad := map[string]string{k: v}
		_, err := activities.LoadNoticeConfig(func(k string) string { return bad[k] })
		require.Error(t, err, k)
		require.NotContains(t, err.Error(), "privacy@", "errors never echo an address")
	}
}
