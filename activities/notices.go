package activities

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"unicode/utf8"

	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"

	"github.com/breachflow/breachflow/internal/approvals"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
)

// Notices sends the notice of a Broadcast to everyone affected: it renders
// and fingerprints the notice, sends the test to the approvers, and sends
// the approved notice in batches. It is registered on the e-mail task
// queue (workflows.MailTaskQueue), whose worker rate-limits it.
//
// Nothing it sends can carry another person's data: the content is
// scanned (internal/contentscan) when it is rendered and again before
// every chunk, every message has exactly one recipient, and the list and
// content must still match the fingerprint the approvers approved.
type Notices struct {
	Mail Mailer
	// Lists pages through stored lists (a recipients.Store), verifying
	// every page against the list's SHA-256.
	Lists  RecipientPages
	Sender FromAddress
	Config NoticeConfig
	// Heartbeats records send progress synchronously (the worker's
	// client.Client). Without it, progress is recorded with
	// activity.RecordHeartbeat, which the SDK batches: a worker that dies
	// without stopping may then re-send what it sent since the last batch.
	Heartbeats HeartbeatRecorder
	// Limiter bounds mail-send requests per second across this worker
	// (nil: no bound beyond the task queue's).
	Limiter *rate.Limiter
	Logger  *slog.Logger
}

// RecipientPages reads a stored list page by page; recipients.Store
// implements it, and fails with recipients.ErrFingerprint when the list no
// longer matches its ListRef.
type RecipientPages interface {
	Page(ctx context.Context, ref recipients.ListRef, offset, limit int) ([]recipients.Recipient, error)
}

var _ RecipientPages = recipients.Store{}

// HeartbeatRecorder records an activity's heartbeat and returns once the
// server has it; client.Client implements it.
type HeartbeatRecorder interface {
	RecordActivityHeartbeat(ctx context.Context, taskToken []byte, details ...any) error
}

// Application error types of the notice activities.
const (
	// ErrTypeFingerprintMismatch: the content or list to send is not the
	// one approved.
	ErrTypeFingerprintMismatch = "FingerprintMismatch"
	// ErrTypeContentRefused: the content scan refused the notice.
	ErrTypeContentRefused = "ContentRefused"
	// ErrTypeNoticeIncomplete: the notice lacks an item APPI Rule 10 requires.
	ErrTypeNoticeIncomplete = "NoticeIncomplete"
	// ErrTypeNoApprovers: no approver address is configured for the roles.
	ErrTypeNoApprovers = "NoApprovers"
	// ErrTypeSendCanceled: the send was paused or stopped; the details
	// hold the progress (ChunkProgress).
	ErrTypeSendCanceled = "SendCanceled"
)

// Custom args of broadcast e-mails; SendGrid echoes them in event
// webhooks, which is how a bounce finds its Broadcast. Opaque IDs only.
const (
	ArgBroadcastID = "breachflow_broadcast"
	ArgBatch       = "breachflow_batch"
	ArgRecipientID = "breachflow_recipient"
	// ArgTest marks the test send to the approvers ("1").
	ArgTest = "breachflow_test"
)

// HeaderFingerprint is a header of every notice and test send: the
// fingerprint the approvers approve.
const HeaderFingerprint = "X-Breachflow-Fingerprint"

// NoticeItems are the items APPI Enforcement Rule 10 requires in the
// notice to the people affected (Rule 8(1) items i, ii, iv, v and ix).
type NoticeItems struct {
	// Summary (概要) of what happened.
	Summary string `json:"summary"`
	// DataItems (個人データの項目) that leaked or may have leaked.
	DataItems []string `json:"data_items"`
	// Cause (原因).
	Cause string `json:"cause"`
	// SecondaryHarm (二次被害又はそのおそれの有無及びその内容).
	SecondaryHarm string `json:"secondary_harm"`
	// Other (その他参考となる事項); optional.
	Other string `json:"other,omitempty"`
}

// Missing lists the required items that are empty.
func (n NoticeItems) Missing() []string {
	var out []string
	if strings.TrimSpace(n.Summary) == "" {
		out = append(out, "summary")
	}
	if len(n.DataItems) == 0 {
		out = append(out, "data_items")
	}
	if strings.TrimSpace(n.Cause) == "" {
		out = append(out, "cause")
	}
	if strings.TrimSpace(n.SecondaryHarm) == "" {
		out = append(out, "secondary_harm")
	}
	return out
}

// NoticeRequest asks for a broadcast's notice to be rendered and checked.
type NoticeRequest struct {
	BroadcastID string                   `json:"broadcast_id"`
	Template    runbooks.Template        `json:"template"`
	Lang        string                   `json:"lang"` // "ja" (default) or "en"
	Notice      runbooks.NoticeData      `json:"notice"`
	Items       NoticeItems              `json:"items"`
	Attachments []contentscan.Attachment `json:"attachments,omitempty"`
	List        recipients.ListRef       `json:"list"`
	// OtherLists are the incident's other lists (the wrong recipients, the
	// affected): nobody on them, nor on List, may appear in the notice.
	OtherLists []recipients.ListRef `json:"other_lists,omitempty"`
}

// NoticeContent is a rendered notice bound to its recipient list: exactly
// what goes out, and its fingerprint.
type NoticeContent struct {
	From        string                   `json:"from"`
	Subject     string                   `json:"subject"`
	Text        string                   `json:"text"`
	HTML        string                   `json:"html"`
	Attachments []contentscan.Attachment `json:"attachments,omitempty"`
	List        recipients.ListRef       `json:"list"`
	// Allowlist is what the content may contain (the organisation's
	// published contacts), as it was when the notice was rendered.
	Allowlist contentscan.Allowlist `json:"allowlist"`
	// Fingerprint is the SHA-256 of everything above but the allowlist.
	Fingerprint string `json:"fingerprint"`
}

// ComputeFingerprint returns the SHA-256 (hex) of the sender, subject,
// text, HTML, every attachment (name, type, content) and the list's
// SHA-256 and count, each length-prefixed so no two contents collide.
func (c NoticeContent) ComputeFingerprint() string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("breachflow-notice-v1")
	field(c.From)
	field(c.Subject)
	field(c.Text)
	field(c.HTML)
	field(fmt.Sprint(len(c.Attachments)))
	for _, a := range c.Attachments {
		sum := sha256.Sum256(a.Content)
		field(a.Filename)
		field(a.ContentType)
		field(hex.EncodeToString(sum[:]))
	}
	field(c.List.SHA256)
	field(fmt.Sprint(c.List.Count))
	return hex.EncodeToString(h.Sum(nil))
}

// PreparedNotice is the outcome of PrepareNotice: the content, or why the
// content scan refused it (then Content has no fingerprint).
type PreparedNotice struct {
	Content  NoticeContent         `json:"content"`
	Findings []contentscan.Finding `json:"findings,omitempty"`
}

// PrepareNotice renders the notice from the runbook's template and the
// Rule 10 items, checks that the list still matches its SHA-256, scans
// the content, and fingerprints content and list together. A refused scan
// is a result (Findings), not an error.
func (n *Notices) PrepareNotice(ctx context.Context, in NoticeRequest) (PreparedNotice, error) {
	if missing := in.Items.Missing(); len(missing) > 0 {
		return PreparedNotice{}, temporal.NewNonRetryableApplicationError(
			"the notice lacks items APPI Rule 10 requires: "+strings.Join(missing, ", "), ErrTypeNoticeIncomplete, nil)
	}
	data := n.Config.fillNotice(in.Notice)
	lang := in.Lang
	if lang == "" {
		lang = "ja"
	}
	subject, body, err := in.Template.Render(lang, data)
	if err != nil {
		return PreparedNotice{}, temporal.NewNonRetryableApplicationError("render the notice: "+err.Error(), ErrTypeNoticeIncomplete, nil)
	}
	text := strings.TrimRight(body, "\n") + "\n\n" + rule10Section(lang, in.Items)
	c := NoticeContent{
		From: n.Sender.Email, Subject: subject, Text: text, HTML: textToHTML(text),
		Attachments: in.Attachments, List: in.List, Allowlist: n.Config.allowlist(n.Sender.Email),
	}
	// The list must be the one named: reading its first record checks its
	// whole SHA-256 and count.
	if err := n.checkList(ctx, in.List); err != nil {
		return PreparedNotice{}, err
	}
	if r := contentscan.ScanContent(c.Subject, c.Text, c.HTML, c.Attachments, c.Allowlist); !r.OK() {
		n.logger().Info("notice refused by the content scan", "broadcast", in.BroadcastID, "findings", len(r.Findings))
		return PreparedNotice{Content: c, Findings: r.Findings}, nil
	}
	found, err := n.checkPeople(ctx, c, append([]recipients.ListRef{in.List}, in.OtherLists...))
	if err != nil {
		return PreparedNotice{}, err
	}
	if len(found) > 0 {
		n.logger().Info("notice refused: it quotes people on the incident's lists", "broadcast", in.BroadcastID, "findings", len(found))
		return PreparedNotice{Content: c, Findings: found}, nil
	}
	c.Fingerprint = c.ComputeFingerprint()
	return PreparedNotice{Content: c}, nil
}

// checkPeople refuses content that quotes anyone on the lists: each list
// is streamed past the indexed content (contentscan.Text), a page at a
// time, so the cost is one pass over the list and the memory the
// content's. Every message of a broadcast carries this same content (the
// fingerprint binds it), so checking it once checks them all. The
// organisation's published contacts and desk may appear.
func (n *Notices) checkPeople(ctx context.Context, c NoticeContent, lists []recipients.ListRef) ([]contentscan.Finding, error) {
	parts := []contentscan.Part{{Name: "subject", Text: c.Subject}, {Name: "text", Text: c.Text}}
	for _, a := range c.Attachments {
		if strings.HasPrefix(strings.ToLower(a.ContentType), "text/") {
			parts = append(parts, contentscan.Part{Name: "attachment " + a.Filename, Text: string(a.Content)})
		}
	}
	t := contentscan.IndexText(parts...)
	t.Allow(c.Allowlist.Emails...)
	t.Allow(c.Allowlist.Phones...)
	t.Allow(n.Config.Sender.Address, n.Config.Sender.PostalCode+n.Config.Sender.Address)
	found, err := recipients.FindPeople(ctx, n.Lists, t, lists, func(done int) {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, done)
		}
	})
	if errors.Is(err, recipients.ErrFingerprint) || errors.Is(err, recipients.ErrBadRef) {
		return nil, temporal.NewNonRetryableApplicationError("recipient list does not match its fingerprint", ErrTypeListTampered, err)
	}
	if err != nil {
		return nil, fmt.Errorf("check the notice: %w", err)
	}
	return found, nil
}
func (n *Notices) checkList(ctx context.Context, ref recipients.ListRef) error {
	if ref.Count <= 0 {
		return temporal.NewNonRetryableApplicationError("the recipient list is empty", ErrTypeListTampered, nil)
	}
	if _, err := n.Lists.Page(ctx, ref, 0, 1); err != nil {
		if errors.Is(err, recipients.ErrFingerprint) || errors.Is(err, recipients.ErrBadRef) {
			return temporal.NewNonRetryableApplicationError("recipient list does not match its fingerprint", ErrTypeListTampered, err)
		}
		return fmt.Errorf("check %s: %w", ref, err)
	}
	return nil
}

// rule10Section is the itemised notice APPI Rule 10 requires.
func rule10Section(lang string, it NoticeItems) string {
	other := strings.TrimSpace(it.Other)
	var b strings.Builder
	if lang == "en" {
		if other == "" {
			other = "Please contact the desk above with any question."
		}
		b.WriteString("[What we are required to tell you (APPI Enforcement Rule 10)]\n")
		fmt.Fprintf(&b, "1. Summary\n%s\n", strings.TrimSpace(it.Summary))
		fmt.Fprintf(&b, "2. Personal data that leaked or may have leaked\n%s\n", strings.Join(it.DataItems, ", "))
		fmt.Fprintf(&b, "3. Cause\n%s\n", strings.TrimSpace(it.Cause))
		fmt.Fprintf(&b, "4. Secondary harm (whether any occurred or may occur, and what)\n%s\n", strings.TrimSpace(it.SecondaryHarm))
		fmt.Fprintf(&b, "5. Other information\n%s\n", other)
		return b.String()
	}
	if other == "" {
		other = "ご不明な点は、上記のお問い合わせ窓口までご連絡ください。"
	}
	b.WriteString("【個人情報保護法施行規則第10条に基づくご通知事項】\n")
	fmt.Fprintf(&b, "1. 概要\n%s\n", strings.TrimSpace(it.Summary))
	fmt.Fprintf(&b, "2. 漏えい等が発生し、又は発生したおそれがある個人データの項目\n%s\n", strings.Join(it.DataItems, "、"))
	fmt.Fprintf(&b, "3. 原因\n%s\n", strings.TrimSpace(it.Cause))
	fmt.Fprintf(&b, "4. 二次被害又はそのおそれの有無及びその内容\n%s\n", strings.TrimSpace(it.SecondaryHarm))
	fmt.Fprintf(&b, "5. その他参考となる事項\n%s\n", other)
	return b.String()
}

func textToHTML(text string) string {
	return "<p>" + strings.ReplaceAll(htmlEscape(text), "\n", "<br>\n") + "</p>"
}

// TestSendRequest asks for the test send of a prepared notice.
type TestSendRequest struct {
	BroadcastID string        `json:"broadcast_id"`
	Content     NoticeContent `json:"content"`
	// Roles are the runbook's approver roles; their addresses come from
	// the configuration (BREACHFLOW_ROLES), never from the workflow.
	Roles []string `json:"roles"`
}

// TestSendResult says who got the test send, by role (never by address).
type TestSendResult struct {
	Approvers int      `json:"approvers"`
	Roles     []string `json:"roles"`
	Missing   []string `json:"missing_roles,omitempty"`
	MessageID string   `json:"message_id"`
}

// SendTestNotice sends the prepared notice as it will go out (same
// subject, body, attachments, headers and fingerprint, the live list
// bound) to every approver, one message each, below a preface that tells
// them what they approve: how many people will receive it, a masked
// sample of them, the list's fingerprint and the content fingerprint they
// quote (approverPreface). With no approver address
// configured for any role it fails non-retryably: a notice is never sent
// live without a test send.
func (n *Notices) SendTestNotice(ctx context.Context, in TestSendRequest) (TestSendResult, error) {
	if err := n.checkContent(in.Content, in.Content.Fingerprint); err != nil {
		return TestSendResult{}, err
	}
	var res TestSendResult
	seen := map[string]bool{}
	var rs []recipients.Recipient
	for _, role := range in.Roles {
		addrs := n.Config.Roles.Addresses(role)
		if len(addrs) == 0 {
			res.Missing = append(res.Missing, role)
			continue
		}
		res.Roles = append(res.Roles, role)
		for _, addr := range addrs {
			if k := strings.ToLower(addr); !seen[k] {
				seen[k] = true
				rs = append(rs, recipients.Recipient{ID: fmt.Sprintf("approver-%d", len(rs)+1), Email: addr})
			}
		}
	}
	if len(rs) == 0 {
		return res, temporal.NewNonRetryableApplicationError(
			"no approver address is configured for the roles "+strings.Join(in.Roles, ", ")+" (BREACHFLOW_ROLES)", ErrTypeNoApprovers, nil)
	}
	reach, err := n.reach(ctx, in.Content.List)
	if err != nil {
		return res, err
	}
	shown := in.Content
	preface := approverPreface(in.BroadcastID, in.Content, reach)
	shown.Text = preface + in.Content.Text
	shown.HTML = textToHTML(preface) + "\n" + in.Content.HTML
	m := noticeMail(shown, n.fromOf(in.Content), in.BroadcastID, -1, rs)
	if err := checkEnvelopes(m); err != nil {
		return res, err
	}
	id, err := n.Mail.Send(ctx, m)
	if err != nil {
		return res, topLevel(fmt.Sprintf("test send of broadcast %s", in.BroadcastID), err, nil)
	}
	res.Approvers, res.MessageID = len(rs), id
	n.logger().Info("notice test-sent to the approvers", "broadcast", in.BroadcastID, "approvers", len(rs), "message_id", id)
	return res, nil
}

// listReach is who a list's notice reaches, for the approvers: how many
// have an address the notice goes to, and a masked sample of them.
type listReach struct {
	total, sendable int
	sample          []string
}

// peoplePage is how many recipients reach reads at a time.
const peoplePage = 1000

// sampleSize is how many masked addresses the approvers see.
const sampleSize = 5

// reach reads the whole list (verified against its fingerprint as it is
// paged) and counts who the notice can go to; the sample is spread over
// the list, not its first rows.
func (n *Notices) reach(ctx context.Context, ref recipients.ListRef) (listReach, error) {
	r := listReach{total: ref.Count}
	every := max(1, ref.Count/sampleSize)
	for off := 0; off < ref.Count; off += peoplePage {
		rs, err := n.Lists.Page(ctx, ref, off, peoplePage)
		if err != nil {
			if errors.Is(err, recipients.ErrFingerprint) || errors.Is(err, recipients.ErrBadRef) {
				return r, temporal.NewNonRetryableApplicationError("recipient list does not match its fingerprint", ErrTypeListTampered, err)
			}
			return r, fmt.Errorf("count the recipients of %s: %w", ref, err)
		}
		for k, p := range rs {
			if !sendable(p.Email) {
				continue
			}
			r.sendable++
			if (off+k)%every == 0 && len(r.sample) < sampleSize {
				r.sample = append(r.sample, maskEmail(p.Email))
			}
		}
		activity.RecordHeartbeat(ctx, off)
	}
	return r, nil
}

// maskEmail shows an address as approvers may see it: m***@example.jp.
func maskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(local)
	return string(first) + "***@" + domain
}

// approverPreface is what the approvers read above the notice in its test
// send, in Japanese and English.
func approverPreface(broadcastID string, c NoticeContent, r listReach) string {
	var b strings.Builder
	b.WriteString("【承認用のテスト送信です】/ Test send for your approval\n\n")
	fmt.Fprintf(&b, "下の線から先の本文が、そのまま %d 名様に送信されます（1通につき宛先はお一人です）。", r.sendable)
	if n := r.total - r.sendable; n > 0 {
		fmt.Fprintf(&b, "リストの %d 名様のうち %d 名様はメールアドレスがないため、代替措置の対象となります。", r.total, n)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "The text below the line goes out unchanged to %d people, one person per message.", r.sendable)
	if n := r.total - r.sendable; n > 0 {
		fmt.Fprintf(&b, " %d of the %d on the list have no usable e-mail address: they are for the substitute measure.", n, r.total)
	}
	b.WriteString("\n\n")
	if len(r.sample) > 0 {
		fmt.Fprintf(&b, "送信先の一部（伏せ字）/ Some recipients (masked): %s\n", strings.Join(r.sample, ", "))
	}
	fmt.Fprintf(&b, "送信先リストの指紋 / List fingerprint: sha256:%s（%d 件 / rows）\n", c.List.SHA256, c.List.Count)
	fmt.Fprintf(&b, "本文の指紋 / Content fingerprint: %s\n", c.Fingerprint)
	fmt.Fprintf(&b, "承認するときは、この本文の指紋を入力してください / Quote it to approve (the Slack button, or: starter broadcast approve … --fingerprint %s)\n", c.Fingerprint[:min(16, len(c.Fingerprint))])
	fmt.Fprintf(&b, "お知らせ番号 / Notice: %s\n", broadcastID)
	b.WriteString("――――――――――――――――――――――――――――――\n\n")
	return b.String()
}

// ApproverKeys returns the approver registry (BREACHFLOW_APPROVER_KEYS),
// which the Broadcast records when it prepares a notice: with it, only
// signed approvals of registered people count towards the quorum.
func (n *Notices) ApproverKeys(_ context.Context) (approvals.Registry, error) {
	return n.Config.Approvers, nil
}

// checkContent re-checks, before anything is sent, that the content is
// the approved one and passes the scan.
func (n *Notices) checkContent(c NoticeContent, approved string) error {
	if approved == "" || c.ComputeFingerprint() != approved || c.Fingerprint != approved {
		return temporal.NewNonRetryableApplicationError("the notice or its list is not the approved one", ErrTypeFingerprintMismatch, nil)
	}
	if r := contentscan.ScanContent(c.Subject, c.Text, c.HTML, c.Attachments, c.Allowlist); !r.OK() {
		return temporal.NewNonRetryableApplicationError("content scan: "+r.Err().Error(), ErrTypeContentRefused, nil)
	}
	return nil
}

// noticeMail builds one SendGrid request: the notice to each recipient,
// one personalization (one message, one address) per recipient. batch < 0
// marks the approvers' test send.
func noticeMail(c NoticeContent, from *sgmail.Email, broadcastID string, batch int, rs []recipients.Recipient) *sgmail.SGMailV3 {
	m := sgmail.NewV3Mail()
	m.SetFrom(from)
	m.Subject = c.Subject
	m.AddContent(sgmail.NewContent("text/plain", c.Text), sgmail.NewContent("text/html", c.HTML))
	for _, a := range c.Attachments {
		m.AddAttachment(sgmail.NewAttachment().SetFilename(a.Filename).SetType(a.ContentType).
			SetDisposition("attachment").SetContent(base64.StdEncoding.EncodeToString(a.Content)))
	}
	m.SetHeader(HeaderFingerprint, c.Fingerprint)
	m.SetCustomArg(ArgBroadcastID, broadcastID)
	key := broadcastID + "#"
	if batch < 0 {
		m.SetCustomArg(ArgTest, "1")
		m.AddCategories("breachflow-broadcast-test")
		key += "test#" + c.Fingerprint[:16] + "#"
	} else {
		m.SetCustomArg(ArgBatch, fmt.Sprint(batch))
		m.AddCategories("breachflow-broadcast")
	}
	// No tracking: a notice about a leak does not watch its readers.
	m.SetTrackingSettings(sgmail.NewTrackingSettings().
		SetClickTracking(sgmail.NewClickTrackingSetting().SetEnable(false)).
		SetOpenTracking(sgmail.NewOpenTrackingSetting().SetEnable(false)))
	for _, r := range rs {
		p := sgmail.NewPersonalization()
		p.AddTos(sgmail.NewEmail(r.Name, r.Email))
		p.SetCustomArg(ArgRecipientID, r.ID)
		p.SetCustomArg(ArgRequestKey, key+r.ID)
		m.AddPersonalizations(p)
	}
	return m
}

// checkEnvelopes refuses a request in which any message would go to more
// or fewer than one person (seed 003).
func checkEnvelopes(m *sgmail.SGMailV3) error {
	for i, p := range m.Personalizations {
		if f := contentscan.Envelope(len(p.To), len(p.CC), len(p.BCC)); len(f) > 0 {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("message %d of the request: %s", i, f[0]), ErrTypeContentRefused, nil)
		}
	}
	return nil
}

// sendable reports whether SendGrid will take the address: one plain
// ASCII address with a dotted domain.
func sendable(addr string) bool {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		return false
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] >= 0x80 || addr[i] <= ' ' {
			return false
		}
	}
	_, domain, ok := strings.Cut(addr, "@")
	return ok && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// fromOf is the sender of a prepared notice: the address it was prepared
// (fingerprinted, test-sent and approved) with, even if the worker's
// sender setting changed since; the configured name goes with it only if
// it is still that address's.
func (n *Notices) fromOf(c NoticeContent) *sgmail.Email {
	if n.Sender.Email == c.From {
		return sgmail.NewEmail(n.Sender.Name, c.From)
	}
	return sgmail.NewEmail("", c.From)
}

func (n *Notices) logger() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.Default()
}

// topLevel returns err as a top-level Temporal error: an application
// error anywhere in the chain keeps its type, retryability and retry
// delay (wrapping it with fmt.Errorf would make it retryable), and
// details are attached.
func topLevel(what string, err error, details any) error {
	var appErr *temporal.ApplicationError
	opts := temporal.ApplicationErrorOptions{Cause: err}
	if details != nil {
		opts.Details = []any{details}
	}
	if !errors.As(err, &appErr) {
		return temporal.NewApplicationErrorWithOptions(what, "", opts)
	}
	opts.NonRetryable = appErr.NonRetryable()
	opts.NextRetryDelay = appErr.NextRetryDelay()
	opts.Cause = appErr.Unwrap()
	return temporal.NewApplicationErrorWithOptions(what+": "+appErr.Message(), appErr.Type(), opts)
}
