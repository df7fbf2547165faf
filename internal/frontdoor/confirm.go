package frontdoor

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"

	"go.temporal.io/api/serviceerror"

	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// The confirmation page. GET only shows it: mail scanners and link
// previewers follow links, so only the POST from this page confirms.
var confirmTmpl = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.6}button{font-size:1.2em;padding:.5em 1.5em}</style>
</head><body>
<h1>{{.Title}}</h1>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Form}}<form method="post">
<input type="hidden" name="confirm" value="deleted">
<button type="submit">削除しました / I have deleted it</button>
</form>{{end}}
</body></html>
`))

type page struct {
	Title      string
	Paragraphs []string
	Form       bool
}

func (s *Server) render(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = confirmTmpl.Execute(w, p)
}

var (
	pageAsk = page{
		Title: "削除完了のご連絡 / Confirm deletion",
		Paragraphs: []string{
			"弊社からのお願いに記載のとおり、誤ってお送りしたメール（添付ファイルがある場合はそれも）をごみ箱からも削除されましたら、下のボタンを押してください。",
			"When you have deleted what our request asked you to (the e-mail sent to you by mistake, with any attachment, also from the trash), please press the button below.",
		},
		Form: true,
	}
	pageThanks = page{
		Title:      "ありがとうございました / Thank you",
		Paragraphs: []string{"削除のご連絡を承りました。ご協力に感謝いたします。", "We have recorded that you deleted it. Thank you for your help."},
	}
	pageInvalid = page{
		Title:      "無効なリンクです / Invalid link",
		Paragraphs: []string{"このリンクは無効です。お手数ですが、メールに記載の窓口までご連絡ください。", "This link is not valid. Please contact us at the address given in our e-mail."},
	}
	pageExpired = page{
		Title:      "有効期限切れのリンクです / Expired link",
		Paragraphs: []string{"このリンクは有効期限が切れています。メールに記載の窓口までご連絡ください。", "This link has expired. Please contact us at the address given in our e-mail."},
	}
	pageClosed = page{
		Title:      "受付を終了しました / Already closed",
		Paragraphs: []string{"このご依頼はすでに完了しています。これ以上の操作は不要です。", "This request is already closed. Nothing more is needed."},
	}
	pageRetry = page{
		Title:      "ただいま混み合っています / Please try again",
		Paragraphs: []string{"少し時間をおいて、もう一度お試しください。", "Please try again in a few minutes."},
		Form:       true,
	}
)

func (s *Server) verifyLink(w http.ResponseWriter, r *http.Request) (linktoken.Claims, bool) {
	c, err := s.cfg.Links.Verify(r.PathValue("token"), linktoken.PurposeEmailConfirm, s.cfg.Now())
	if errors.Is(err, linktoken.ErrPurpose) {
		c, err = s.cfg.Links.Verify(r.PathValue("token"), linktoken.PurposeSMSConfirm, s.cfg.Now())
	}
	switch {
	case err == nil:
		return c, true
	case errors.Is(err, linktoken.ErrExpired):
		s.render(w, http.StatusGone, pageExpired)
	default:
		s.cfg.Logger.Warn("confirmation link refused", "reason", err.Error(), "remote", r.RemoteAddr)
		s.render(w, http.StatusForbidden, pageInvalid)
	}
	return c, false
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.verifyLink(w, r); ok {
		s.render(w, http.StatusOK, pageAsk)
	}
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	c, ok := s.verifyLink(w, r)
	if !ok {
		return
	}
	err := r.ParseForm()
	if tooLarge(err) {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil || r.PostForm.Get("confirm") != "deleted" {
		s.render(w, http.StatusBadRequest, pageAsk)
		return
	}
	channel := "link"
	if c.Purpose == linktoken.PurposeSMSConfirm {
		channel = "sms-link"
	}
	// A link confirms once: a replay of the same POST (a double click, a
	// captured request sent again and again) costs no signal, here or
	// after a restart (the Recall already holds the confirmation).
	sum := sha256.Sum256([]byte(r.PathValue("token")))
	done, first, err := s.links.Claim(r.Context(), "confirm|"+hex.EncodeToString(sum[:16]))
	if err != nil {
		s.render(w, http.StatusServiceUnavailable, pageRetry)
		return
	}
	if !first {
		s.render(w, http.StatusOK, pageThanks)
		return
	}
	if s.confirmedBy(r.Context(), c.WorkflowID, runbooks.ConfirmEmail) {
		done(true)
		s.render(w, http.StatusOK, pageThanks)
		return
	}
	err = s.cfg.Temporal.SignalWorkflow(r.Context(), c.WorkflowID, "", workflows.SignalConfirmation, workflows.Confirmation{
		Channel:  runbooks.ConfirmEmail,
		Evidence: workflows.Evidence{Source: channel, ReceivedAt: s.cfg.Now().UTC()},
	})
	var notFound *serviceerror.NotFound
	done(err == nil || errors.As(err, &notFound))
	switch {
	case err == nil:
		s.cfg.Logger.Info("deletion confirmed by link", "workflow_id", c.WorkflowID)
		s.render(w, http.StatusOK, pageThanks)
	case errors.As(err, &notFound):
		s.render(w, http.StatusGone, pageClosed)
	default:
		s.cfg.Logger.Error("signal confirmation", "workflow_id", c.WorkflowID, "error", err)
		s.render(w, http.StatusServiceUnavailable, pageRetry)
	}
}
