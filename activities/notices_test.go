package activities_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/roles"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/runbooks"
)

// world is a list store and the sandbox's SendGrid, reached through the
// real sendgrid-go client.
type world struct {
	store *recipients.Store
	sb    *sandbox.Sandbox
	mail  *activities.SendGridMailer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(engine.Close)
	sb, err := sandbox.New(sandbox.Config{EngineURL: engine.URL, TimeScale: 1000, Logger: slog.New(slog.DiscardHandler),
		Scenario: sandbox.Scenario{Email: sandbox.PersonaTable{Default: sandbox.PersonaSpec{Persona: sandbox.PersonaIgnore}}}})
	require.NoError(t, err)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return &world{
		store: &recipients.Store{Dir: t.TempDir()},
		sb:    sb,
		mail:  &activities.SendGridMailer{APIKey: "SG.test", Host: srv.URL + "/sendgrid", HTTP: srv.Client()},
	}
}

// list stores n fictitious customers; every tenth has no e-mail address.
func (w *world) list(t *testing.T, n int) recipients.ListRef {
	t.Helper()
	var b strings.Builder
	b.WriteString("name,email,phone\n")
	for k := 1; k <= n; k++ {
		if k%10 == 0 {
			fmt.Fprintf(&b, "顧客 %d,,090-%04d-%04d\n", k, k/10000, k%10000)
			continue
		}
		fmt.Fprintf(&b, "顧客 %d,customer%05d@example.jp,\n", k, k)
	}
	ref, rep, err := w.store.Put(context.Background(), strings.NewReader(b.String()), recipients.Options{})
	require.NoError(t, err)
	require.Zero(t, rep.RejectedCount)
	return ref
}

func (w *world) notices(t *testing.T) *activities.Notices {
	t.Helper()
	dir, err := roles.Parse("privacy-officer=dpo@example.co.jp;legal=counsel@example.co.jp,counsel2@example.co.jp;management=ceo@example.co.jp")
	require.NoError(t, err)
	return &activities.Notices{
		Mail: w.mail, Lists: w.store, Sender: activities.FromAddress{Name: "株式会社サンプル", Email: "security@example.co.jp"},
		Config: activities.NoticeConfig{Roles: dir, Published: contentscan.Allowlist{Emails: []string{"privacy@example.co.jp"}, Phones: []string{"0120-123-456"}}},
	}
}

func seed004Request(t *testing.T, list recipients.ListRef) activities.NoticeRequest {
	t.Helper()
	snap, err := runbooks.Builtin("addresses-in-body")
	require.NoError(t, err)
	return activities.NoticeRequest{
		BroadcastID: "INC-20261116-SEED04/broadcast/1", Template: snap.Runbook.Phases.Broadcast.Template, Lang: "ja",
		Notice: runbooks.NoticeData{IncidentID: "INC-20261116-SEED04", Organization: "株式会社サンプル",
			ContactEmail: "privacy@example.co.jp", ContactPhone: "0120-123-456", ContactHours: "平日10:00〜17:00"},
		Items: activities.NoticeItems{
			Summary:       "2026年11月14日、プロダクトニュースの本文にお客様のメールアドレスの一覧が記載されたまま配信されました。",
			DataItems:     []string{"メールアドレス"},
			Cause:         "テスト配信から本番配信に切り替える際、担当者が本文にもアドレスのファイルを紐付けたため",
			SecondaryHarm: "現時点で二次被害は確認されておりません",
		},
		List: list,
	}
}

func activityEnv() *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	return s.NewTestActivityEnvironment()
}

func prepare(t *testing.T, n *activities.Notices, req activities.NoticeRequest) activities.PreparedNotice {
	t.Helper()
	env := activityEnv()
	env.RegisterActivity(n)
	v, err := env.ExecuteActivity(n.PrepareNotice, req)
	require.NoError(t, err)
	var p activities.PreparedNotice
	require.NoError(t, v.Get(&p))
	return p
}

func TestPrepareNotice_RendersTheRule10ItemsAndFingerprintsContentWithList(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 30)
	p := prepare(t, n, seed004Request(t, list))
	require.Empty(t, p.Findings)
	c := p.Content
	for _, want := range []string{
		"個人情報(メールアドレス)流出のお詫びとご報告(株式会社サンプル)",
	} {
		require.Contains(t, c.Subject, want)
	}
	for _, want := range []string{
		"【個人情報保護法施行規則第10条に基づくご通知事項】",
		"1. 概要\n2026年11月14日",
		"2. 漏えい等が発生し、又は発生したおそれがある個人データの項目\nメールアドレス",
		"3. 原因\nテスト配信から本番配信",
		"4. 二次被害又はそのおそれの有無及びその内容\n現時点で",
		"5. その他参考となる事項",
		"メール: privacy@example.co.jp",
	} {
		require.Contains(t, c.Text, want)
	}
	require.Equal(t, c.ComputeFingerprint(), c.Fingerprint)
	require.Len(t, c.Fingerprint, 64)

	// The fingerprint binds the list: the same notice to another list, or
	// a different notice to the same list, has another fingerprint.
	other := w.list(t, 31)
	require.NotEqual(t, c.Fingerprint, prepare(t, n, seed004Request(t, other)).Content.Fingerprint)
	req := seed004Request(t, list)
	req.Items.Cause += "。"
	require.NotEqual(t, c.Fingerprint, prepare(t, n, req).Content.Fingerprint)
	require.Equal(t, c.Fingerprint, prepare(t, n, seed004Request(t, list)).Content.Fingerprint, "the same notice and list, the same fingerprint")
}

// Seed 004's mistake, made through breachflow: the address file bound to
// the notice. The scan refuses it, whatever the way in.
func TestPrepareNotice_Seed004AddressFileBoundToTheNoticeIsRefused(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 30)
	var addrs []string
	for k := 1; k <= 13011; k++ {
		addrs = append(addrs, fmt.Sprintf("customer%05d@example.jp", k))
	}
	tests := []struct {
		name   string
		change func(*activities.NoticeRequest)
	}{
		{"in a notice item", func(r *activities.NoticeRequest) { r.Items.Other = strings.Join(addrs, "\n") }},
		{"as an attachment", func(r *activities.NoticeRequest) {
			r.Attachments = []contentscan.Attachment{{Filename: "addresses.csv", ContentType: "text/csv", Content: []byte(strings.Join(addrs, "\n"))}}
		}},
		{"in the notice data", func(r *activities.NoticeRequest) { r.Notice.ContactEmail = addrs[0] + ", " + addrs[1] }},
		// The desk a broadcast names must be a configured published contact.
		{"as the contact desk", func(r *activities.NoticeRequest) { r.Notice.ContactEmail = addrs[7] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := seed004Request(t, list)
			tt.change(&req)
			p := prepare(t, n, req)
			require.NotEmpty(t, p.Findings)
			require.Empty(t, p.Content.Fingerprint, "a refused notice has no fingerprint to approve")
		})
	}
}

func TestPrepareNotice_MissingRule10ItemsAreRefused(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	req := seed004Request(t, w.list(t, 3))
	req.Items.Cause, req.Items.DataItems = "", nil
	env := activityEnv()
	env.RegisterActivity(n)
	_, err := env.ExecuteActivity(n.PrepareNotice, req)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, activities.ErrTypeNoticeIncomplete, appErr.Type())
	require.Contains(t, appErr.Message(), "data_items, cause")
}

// The test send goes to every approver of the runbook's roles, one message
// each, with exactly the content that will go out below a preface telling
// them what they approve: how many people receive it (the list's 30, of
// whom every tenth has no address: 27), a masked sample, the list's and
// the content's fingerprints.
func TestSendTestNotice_EveryApproverGetsTheLiveContent(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 30)
	c := prepare(t, n, seed004Request(t, list)).Content
	env := activityEnv()
	env.RegisterActivity(n)
	v, err := env.ExecuteActivity(n.SendTestNotice, activities.TestSendRequest{
		BroadcastID: "INC-20261116-SEED04/broadcast/1", Content: c, Roles: []string{"privacy-officer", "legal", "management", "communications"},
	})
	require.NoError(t, err)
	var res activities.TestSendResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, 4, res.Approvers)
	require.Equal(t, []string{"communications"}, res.Missing)
	out := w.sb.Outbox()
	require.Len(t, out, 4)
	for _, m := range out {
		require.Len(t, m.Recipients(), 1)
		require.Equal(t, c.Subject, m.Subject)
		preface, live, ok := strings.Cut(m.Text, "――――――――――――――――――――――――――――――\n\n")
		require.True(t, ok, "a line parts the preface from the notice")
		require.Equal(t, c.Text, live, "below the line, the approvers see exactly what will go out")
		for _, want := range []string{
			"【承認用のテスト送信です】/ Test send for your approval\n",
			"そのまま 27 名様に送信されます（1通につき宛先はお一人です）。リストの 30 名様のうち 3 名様はメールアドレスがないため、代替措置の対象となります。\n",
			"The text below the line goes out unchanged to 27 people, one person per message. 3 of the 30 on the list have no usable e-mail address",
			"送信先の一部（伏せ字）/ Some recipients (masked): c***@example.jp, c***@example.jp, c***@example.jp, c***@example.jp, c***@example.jp\n",
			"送信先リストの指紋 / List fingerprint: sha256:" + list.SHA256 + "（30 件 / rows）\n",
			"本文の指紋 / Content fingerprint: " + c.Fingerprint + "\n",
			"--fingerprint " + c.Fingerprint[:16],
		} {
			require.Contains(t, preface, want)
		}
		require.NotContains(t, preface, "customer0", "the sample is masked")
		require.Contains(t, m.HTML, c.HTML, "the HTML part holds the live HTML too")
		require.Equal(t, "1", m.CustomArgs[activities.ArgTest])
	}

	_, err = env.ExecuteActivity(n.SendTestNotice, activities.TestSendRequest{Content: c, Roles: []string{"communications"}})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, activities.ErrTypeNoApprovers, appErr.Type(), "no test send, no live send")
}

// sendChunk runs SendNotices in a fresh activity environment.
func sendChunk(t *testing.T, n *activities.Notices, in activities.SendChunk, setup func(*testsuite.TestActivityEnvironment)) (activities.ChunkProgress, error) {
	t.Helper()
	env := activityEnv()
	env.RegisterActivity(n)
	if setup != nil {
		setup(env)
	}
	v, err := env.ExecuteActivity(n.SendNotices, in)
	var p activities.ChunkProgress
	if err == nil {
		require.NoError(t, v.Get(&p))
	}
	return p, err
}

func chunkOf(c activities.NoticeContent, start, end int) activities.SendChunk {
	return activities.SendChunk{BroadcastID: "INC-20261116-SEED04/broadcast/1", Start: start, End: end, BatchSize: 500, Content: c, Approved: c.Fingerprint}
}

// perRecipient counts the notices each recipient ID received.
func perRecipient(out []sandbox.OutboxMessage) map[string]int {
	m := map[string]int{}
	for _, msg := range out {
		m[msg.CustomArgs[activities.ArgRecipientID]]++
	}
	return m
}

func TestSendNotices_OneRecipientPerMessageEachOnce(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 1300)
	c := prepare(t, n, seed004Request(t, list)).Content
	hb := &heartbeats{}
	n.Heartbeats = hb
	p, err := sendChunk(t, n, chunkOf(c, 0, 1300), nil)
	require.NoError(t, err)
	require.Equal(t, activities.ChunkProgress{Next: 1300, Sent: 1170, NoAddress: 130, Requests: 3}, p)
	out := w.sb.Outbox()
	require.Len(t, out, 1170)
	for _, m := range out {
		require.Len(t, m.Recipients(), 1, "one recipient per message (seed 003)")
		require.NotContains(t, m.Text, "customer0", "nobody's address in the body (seed 004)")
	}
	counts := perRecipient(out)
	require.Len(t, counts, 1170)
	for id, k := range counts {
		require.Equal(t, 1, k, "%s received %d notices", id, k)
	}
	require.Zero(t, w.sb.Stats().EmailTotals.Duplicates)
	// Progress is recorded before each request, with the request in
	// flight, and the server has each record before the request goes out;
	// the outcome of one request is recorded with the start of the next.
	require.Equal(t, []activities.ChunkProgress{
		{Next: 0, InFlight: []int{0}},
		{Next: 500, Sent: 450, NoAddress: 50, Requests: 1, InFlight: []int{500}},
		{Next: 1000, Sent: 900, NoAddress: 100, Requests: 2, InFlight: []int{1000}},
		{Next: 1300, Sent: 1170, NoAddress: 130, Requests: 3},
	}, slices.CompactFunc(hb.recorded, func(a, b activities.ChunkProgress) bool { return reflect.DeepEqual(a, b) }))
}

// A worker that died mid-chunk: the retry starts from the last progress
// recorded, and nobody before it is sent the notice again.
func TestSendNotices_ResumesFromTheHeartbeatWithoutResending(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 1300)
	c := prepare(t, n, seed004Request(t, list)).Content
	p, err := sendChunk(t, n, chunkOf(c, 0, 1300), func(env *testsuite.TestActivityEnvironment) {
		env.SetHeartbeatDetails(activities.ChunkProgress{Next: 500, Sent: 450, NoAddress: 50, Requests: 1})
	})
	require.NoError(t, err)
	require.Equal(t, activities.ChunkProgress{Next: 1300, Sent: 1170, NoAddress: 130, Requests: 3}, p)
	counts := perRecipient(w.sb.Outbox())
	require.Len(t, counts, 720, "only recipients 501-1300 (less those without an address) are sent")
	require.Zero(t, counts["R00001"])
	require.Equal(t, 1, counts["R00501"])
}

// Lanes: several requests in flight at once, handed out in order. No
// request goes out before the server's latest record lists it as in
// flight, everyone gets the notice once, and there is at most one record
// per request plus one per lane (its first request; records wanted at
// the same time are shared).
func TestSendNotices_LanesRecordEveryRequestBeforeItGoesOut(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 5000)
	c := prepare(t, n, seed004Request(t, list)).Content
	hb := &heartbeats{}
	n.Heartbeats = hb
	checked := &inFlightChecked{Mailer: n.Mail, hb: hb, batch: 500}
	n.Mail = checked
	in := chunkOf(c, 0, 5000)
	in.Lanes = 4
	p, err := sendChunk(t, n, in, nil)
	require.NoError(t, err)
	require.Equal(t, activities.ChunkProgress{Next: 5000, Sent: 4500, NoAddress: 500, Requests: 10}, p)
	require.Empty(t, checked.unrecorded, "requests sent before the server had them in flight")
	counts := perRecipient(w.sb.Outbox())
	require.Len(t, counts, 4500)
	for id, k := range counts {
		require.Equal(t, 1, k, "%s received %d notices", id, k)
	}
	require.LessOrEqual(t, len(hb.recorded), 10+4)
	require.Equal(t, p, hb.recorded[len(hb.recorded)-1], "the last record has every request done, none in flight")
}

// inFlightChecked checks, for every request, that the latest progress
// recorded lists the request as in flight.
type inFlightChecked struct {
	activities.Mailer
	hb         *heartbeats
	batch      int
	mu         sync.Mutex
	unrecorded []int
}

func (m *inFlightChecked) Send(ctx context.Context, mail *sgmail.SGMailV3) (string, error) {
	n, err := recipients.ParseRecipientID(mail.Personalizations[0].CustomArgs[activities.ArgRecipientID])
	if err != nil {
		return "", err
	}
	at := (n - 1) / m.batch * m.batch
	m.hb.mu.Lock()
	last := m.hb.recorded[len(m.hb.recorded)-1]
	m.hb.mu.Unlock()
	if !slices.Contains(last.InFlight, at) {
		m.mu.Lock()
		m.unrecorded = append(m.unrecorded, at)
		m.mu.Unlock()
	}
	return m.Mailer.Send(ctx, mail)
}

// A retry after requests finished out of order: the requests done are
// skipped, the one in flight is sent again (and counted), the one never
// started is sent.
func TestSendNotices_ResumesAroundRequestsDoneOutOfOrder(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 1500)
	c := prepare(t, n, seed004Request(t, list)).Content
	in := chunkOf(c, 0, 1500)
	in.Lanes = 2
	p, err := sendChunk(t, n, in, func(env *testsuite.TestActivityEnvironment) {
		env.SetHeartbeatDetails(activities.ChunkProgress{Next: 0, Sent: 450, NoAddress: 50, Requests: 1, Ahead: []int{1000}, InFlight: []int{500}})
	})
	require.NoError(t, err)
	require.Equal(t, activities.ChunkProgress{Next: 1500, Sent: 1350, NoAddress: 150, Requests: 3, Resent: 500}, p)
	counts := perRecipient(w.sb.Outbox())
	require.Len(t, counts, 900, "recipients 1-1000 (less those without an address), not 1001-1500")
	require.Equal(t, 1, counts["R00001"])
	require.Equal(t, 1, counts["R00501"])
	require.Zero(t, counts["R01001"])
}

// A worker that died during a request: its outcome is unknown, so the
// request is sent again and counted as possibly received twice.
func TestSendNotices_RequestOfUnknownOutcomeIsResentAndCounted(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 1000)
	c := prepare(t, n, seed004Request(t, list)).Content
	p, err := sendChunk(t, n, chunkOf(c, 0, 1000), func(env *testsuite.TestActivityEnvironment) {
		env.SetHeartbeatDetails(activities.ChunkProgress{Next: 500, Sent: 450, NoAddress: 50, Requests: 1, InFlight: []int{500}})
	})
	require.NoError(t, err)
	require.Equal(t, activities.ChunkProgress{Next: 1000, Sent: 900, NoAddress: 100, Requests: 2, Resent: 500}, p)
}

// heartbeats is a HeartbeatRecorder that records every progress the
// server would hold, and can ask the activity to stop (as a pause or stop
// of the broadcast does) or run a hook.
type heartbeats struct {
	mu       sync.Mutex
	recorded []activities.ChunkProgress
	cancelAt int // cancel requested from this heartbeat on (0: never)
	hook     func(p activities.ChunkProgress)
}

func (h *heartbeats) RecordActivityHeartbeat(_ context.Context, _ []byte, details ...any) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := details[0].(activities.ChunkProgress)
	h.recorded = append(h.recorded, p)
	if h.hook != nil {
		h.hook(p)
	}
	if h.cancelAt > 0 && len(h.recorded) >= h.cancelAt {
		return temporal.NewCanceledError()
	}
	return nil
}

// Stop mid-send: the heartbeat after the first request says the workflow
// asked to stop; the chunk stops before its next request and reports how
// far it got.
func TestSendNotices_StopHaltsBetweenRequests(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	hb := &heartbeats{cancelAt: 2} // before request 1, after it
	n.Heartbeats = hb
	list := w.list(t, 2000)
	c := prepare(t, n, seed004Request(t, list)).Content
	_, err := sendChunk(t, n, chunkOf(c, 0, 2000), nil)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "got %v", err)
	require.Equal(t, activities.ErrTypeSendCanceled, appErr.Type())
	require.True(t, appErr.NonRetryable())
	var p activities.ChunkProgress
	require.NoError(t, appErr.Details(&p))
	require.Equal(t, activities.ChunkProgress{Next: 500, Sent: 450, NoAddress: 50, Requests: 1}, p)
	require.Len(t, w.sb.Outbox(), 450, "nothing was sent after the stop")
	require.Equal(t, activities.ChunkProgress{Next: 0, InFlight: []int{0}}, hb.recorded[0], "the request is recorded before it goes out")
	require.Equal(t, p, hb.recorded[len(hb.recorded)-1], "stopped between requests: nothing in flight")
}

// A list changed after approval is refused at the next read: the list
// must still hash to the approved SHA-256. (The request read and verified
// before the change, prepared while the first was in flight, goes out:
// its recipients are the approved list's.)
func TestSendNotices_AListChangedMidSendIsRefused(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 1500)
	path := filepath.Join(w.store.Dir, list.Location)
	hb := &heartbeats{hook: func(p activities.ChunkProgress) {
		if p.Requests == 1 {
			// After the first request, someone edits the file in place.
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b = []byte(strings.Replace(string(b), "customer01201@example.jp", "attacker@evil.example", 1))
			require.NoError(t, os.WriteFile(path, b, 0o600))
		}
	}}
	n.Heartbeats = hb
	c := prepare(t, n, seed004Request(t, list)).Content
	_, err := sendChunk(t, n, chunkOf(c, 0, 1500), nil)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "got %v", err)
	require.Equal(t, activities.ErrTypeListTampered, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Len(t, w.sb.Outbox(), 900, "only the requests read before the change went out")
	require.Zero(t, w.sb.Stats().Email["attacker@evil.example"].Messages)
}

func TestSendNotices_ContentOrListOtherThanApprovedSendsNothing(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 100)
	c := prepare(t, n, seed004Request(t, list)).Content
	tests := []struct {
		name   string
		change func(*activities.SendChunk)
	}{
		{"not approved", func(s *activities.SendChunk) { s.Approved = "" }},
		{"another body", func(s *activities.SendChunk) { s.Content.Text += "\ncustomer00001@example.jp" }},
		{"another list", func(s *activities.SendChunk) { s.Content.List = w.list(t, 101) }},
		{"an approval of another notice", func(s *activities.SendChunk) { s.Approved = strings.Repeat("a", 64) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := chunkOf(c, 0, 100)
			tt.change(&in)
			_, err := sendChunk(t, n, in, nil)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "got %v", err)
			require.Equal(t, activities.ErrTypeFingerprintMismatch, appErr.Type())
			require.Empty(t, w.sb.Outbox())
		})
	}
}

// mailer fails every request with err, or (failFirst) the first try of
// every request, and sends the others through next.
type mailer struct {
	err       error
	failFirst bool
	next      activities.Mailer
	mu        sync.Mutex
	tries     map[string]int // by the request's first recipient ID
}

func (m *mailer) Send(ctx context.Context, mail *sgmail.SGMailV3) (string, error) {
	m.mu.Lock()
	if m.tries == nil {
		m.tries = map[string]int{}
	}
	first := mail.Personalizations[0].CustomArgs[activities.ArgRecipientID]
	m.tries[first]++
	try := m.tries[first]
	m.mu.Unlock()
	if m.failFirst && try > 1 {
		return m.next.Send(ctx, mail)
	}
	return "", m.err
}

var (
	errRateLimited = temporal.NewApplicationErrorWithOptions("sendgrid rate limited (429)", "RateLimited",
		temporal.ApplicationErrorOptions{NextRetryDelay: 5 * time.Millisecond})
	errServer   = errors.New("sendgrid mail send: server error 503")
	errNoAnswer = fmt.Errorf("sendgrid mail send: %w", &url.Error{Op: "Post", URL: "https://api.sendgrid.com/v3/mail/send", Err: errors.New("connection reset")})
)

// A 429, a 5xx or no answer is retried by the lane, the request still
// recorded in flight (after SendGrid's reset time for a 429): the chunk
// goes on. A request that got no answer may have been taken, so sending
// it again is counted as possibly received twice.
func TestSendNotices_TransientFailuresAreRetriedByTheLane(t *testing.T) {
	defer activities.SetSendBackoff(time.Millisecond)()
	tests := []struct {
		name   string
		err    error
		resent int
	}{
		{"429", errRateLimited, 0},
		{"5xx", errServer, 0},
		{"no answer", errNoAnswer, 900},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			n := w.notices(t)
			list := w.list(t, 1000)
			c := prepare(t, n, seed004Request(t, list)).Content
			m := &mailer{err: tt.err, failFirst: true, next: n.Mail}
			n.Mail = m
			hb := &heartbeats{}
			n.Heartbeats = hb
			in := chunkOf(c, 0, 1000)
			in.Lanes = 2
			p, err := sendChunk(t, n, in, nil)
			require.NoError(t, err)
			require.Equal(t, activities.ChunkProgress{Next: 1000, Sent: 900, NoAddress: 100, Requests: 2, Resent: tt.resent}, p)
			require.Equal(t, map[string]int{"R00001": 2, "R00501": 2}, m.tries)
			require.Len(t, perRecipient(w.sb.Outbox()), 900)
		})
	}
}

// A pause or stop reaches lanes that are all waiting to try again: a
// record made because none was made for a while brings it, and the chunk
// stops with nothing in flight.
func TestSendNotices_StopReachesLanesWaitingToRetry(t *testing.T) {
	defer activities.SetSendBackoff(time.Hour)()
	w := newWorld(t)
	n := w.notices(t)
	list := w.list(t, 1000)
	c := prepare(t, n, seed004Request(t, list)).Content
	m := &mailer{err: errServer}
	n.Mail = m
	hb := &heartbeats{cancelAt: 2} // the first request's record, then the idle one
	n.Heartbeats = hb
	p, err := sendChunk(t, n, chunkOf(c, 0, 1000), nil)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "got %v", err)
	require.Equal(t, activities.ErrTypeSendCanceled, appErr.Type())
	require.NoError(t, appErr.Details(&p))
	require.Equal(t, activities.ChunkProgress{}, p)
	require.Equal(t, map[string]int{"R00001": 1}, m.tries)
}

// A request that keeps failing stops the chunk after the lane's tries: a
// 429 keeps SendGrid's reset time as the retry delay and records that
// nothing is in flight, as does a 5xx; a request that never got an answer
// stays in flight, so the retry sends it again and counts it. A request
// refused for good (4xx) is not tried again.
func TestSendNotices_ProviderFailuresAreClassified(t *testing.T) {
	defer activities.SetSendBackoff(time.Millisecond)()
	tests := []struct {
		name         string
		err          error
		retryDelay   time.Duration
		nonRetryable bool
		tries        int
		inFlight     []int
	}{
		{"429", errRateLimited, 5 * time.Millisecond, false, 8, nil},
		{"refused (4xx)", temporal.NewNonRetryableApplicationError("sendgrid refused the mail: HTTP 400", activities.ErrTypeRejected, nil), 0, true, 1, nil},
		{"5xx", errServer, 0, false, 8, nil},
		{"no answer", errNoAnswer, 0, false, 8, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			n := w.notices(t)
			list := w.list(t, 1000)
			c := prepare(t, n, seed004Request(t, list)).Content
			m := &mailer{err: tt.err}
			n.Mail = m
			hb := &heartbeats{}
			n.Heartbeats = hb
			_, err := sendChunk(t, n, chunkOf(c, 0, 1000), nil)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "got %v", err)
			require.Equal(t, tt.retryDelay, appErr.NextRetryDelay())
			require.Equal(t, tt.nonRetryable, appErr.NonRetryable())
			require.Equal(t, map[string]int{"R00001": tt.tries}, m.tries)
			last := hb.recorded[len(hb.recorded)-1]
			require.Equal(t, tt.inFlight, last.InFlight)
			require.Zero(t, last.Next)
		})
	}
}

// Every exported method of *Notices and *Letters is registered as an
// activity on the e-mail and main workers, so each must have an
// activity's shape.
func TestNoticesAndLettersRegister(t *testing.T) {
	env := activityEnv()
	env.RegisterActivity(&activities.Notices{})
	env.RegisterActivity(&activities.Letters{})
}

// A notice quoting anyone on the incident's lists is refused before it can
// be approved: a person on the notice's own list or on another of the
// incident's lists (the wrong recipients), however the value is written;
// the findings say where, never what.
func TestPrepareNotice_QuotingAnyoneOnTheIncidentsListsIsRefused(t *testing.T) {
	w := newWorld(t)
	n := w.notices(t)
	affected := w.list(t, 30)
	wrong, rep, err := w.store.Put(context.Background(), strings.NewReader(
		"name,kana,email,phone,postal_code,address\n"+
			"佐藤 美咲,サトウ ミサキ,misaki.sato@example.jp,090-1234-5678,160-0023,東京都新宿区西新宿2-8-1\n"+
			"鈴木 健太,スズキ ケンタ,kenta.suzuki@example.jp,080-2222-3333,530-0001,大阪府大阪市北区梅田1-1-1\n"), recipients.Options{})
	require.NoError(t, err)
	require.Zero(t, rep.RejectedCount)
	tests := []struct {
		name  string
		other string
		rule  contentscan.Rule
	}{
		{"a wrong recipient's name in the summary's other items", "佐藤美咲様には個別にご連絡済みです", contentscan.RulePersonName},
		{"an address with ☆ for @ (the walkthrough)", "ご不明点は kenta.suzuki☆example.jp まで", contentscan.RulePersonEmail},
		{"a kana reading in hiragana", "すずき けんた", contentscan.RulePersonKana},
		// Any number that is not a published contact is refused by the
		// pattern scan, before the lists are read.
		{"a number without its hyphens", "折り返し先 08022223333", contentscan.RulePhone},
		{"a postal address over two lines", "大阪府大阪市北区\n梅田1-1-1", contentscan.RulePersonAddress},
		{"a name from the notice's own list", "顧客 17 様の件", contentscan.RulePersonName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := seed004Request(t, affected)
			req.OtherLists = []recipients.ListRef{wrong}
			req.Items.Other = tt.other
			p := prepare(t, n, req)
			require.NotEmpty(t, p.Findings, "refused")
			require.Equal(t, tt.rule, p.Findings[0].Rule)
			require.Empty(t, p.Content.Fingerprint, "a refused notice has no fingerprint to approve")
			for _, f := range p.Findings {
				for _, v := range []string{"佐藤", "美咲", "kenta", "08022223333", "梅田", "顧客 17"} {
					require.NotContains(t, f.String(), v, "a finding never quotes what it found")
				}
			}
		})
	}
	// The same notice without them goes through.
	req := seed004Request(t, affected)
	req.OtherLists = []recipients.ListRef{wrong}
	require.Empty(t, prepare(t, n, req).Findings)
}
