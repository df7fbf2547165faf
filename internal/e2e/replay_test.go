//go:build integration

package e2e_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/linktoken"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// replayRunbook has a containment task (a "Done" button) and asks by
// e-mail and phone and needs both confirmations, so a Recall stays open
// after the first; its retries are an hour apart, so
// nothing of its own happens while the replays run.
const replayRunbook = `kind: runbook
id: replay-recall
version: 1
title: {ja: 再送要求の検査, en: Replay check}
phases:
  contain:
    tasks:
      - id: stop-sending
        title: {ja: 送信を止める, en: Stop the sending}
        owner: incident-lead
        due: 2h
  recall:
    request: [email, voice]
    confirm: [phone, email]
    retry:
      email: {intervals: [1h], max_attempts: 2}
      voice: {intervals: [1h], max_attempts: 2}
    calling_hours: {start: "00:00", end: "24:00", time_zone: Asia/Tokyo}
    unreachable:
      title: {ja: 別の連絡手段を探す, en: Find another way to reach this person}
      owner: support
      reminder: 1d
`

// replays is how often each captured request is sent again.
const replays = 1000

// TestReplays_EachValidRequestAppliesOnce captures one valid request of
// every kind the front door takes (the real `starter serve` binary) and
// sends it again 1,000 times, from 8 connections at once, against a
// running incident: the Slack declaration (view submission) and a button
// press, the confirmation link's POST, Twilio's call status, SMS status and
// key presses (without I-Twilio-Idempotency-Token, which is not signed),
// and a SendGrid event batch. Each distinct event adds one signal or
// update to the workflows' histories, however often it comes; a replayed
// declaration is told it was already declared; the counts stay exact.
func TestReplays_EachValidRequestAppliesOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// The front door offers the organisation's runbooks in Slack.
	own := t.TempDir()
	if err := os.WriteFile(filepath.Join(own, "replay-recall.yaml"), []byte(replayRunbook), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackOptions{frontdoorProcess: true, quiet: true, env: map[string]string{"BREACHFLOW_RUNBOOKS_DIR": own}, scenario: `
email:
  default: {persona: ignore}
phone:
  default: {persona: never_answers}
`})
	ref, _, err := s.store.Put(ctx, strings.NewReader("氏名,メールアドレス,電話番号\nテスト 太郎,member01@example.jp,090-0000-0001\n"), recipients.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// The declaration, from Slack.
	if resp, err := s.sandbox.SlashCommand(ctx, lead, channel, "/breach declare replay-recall"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("slash command: %v %+v", err, resp)
	}
	views := s.sandbox.SlackViews()
	if len(views) != 1 || views[0].CallbackID != slackui.CallbackDeclare {
		t.Fatalf("views = %+v, want the declare modal", views)
	}
	aware := time.Now().In(tokyo).Add(-time.Hour)
	form := map[string]map[string]string{}
	for k, v := range map[string]string{
		slackbot.InputRunbook: "replay-recall", slackbot.InputTitle: "再送要求の検査",
		slackbot.InputWhatLeaked: "会員の氏名と電話番号", slackbot.InputPersons: "1",
		slackbot.InputAwareDate: aware.Format("2006-01-02"), slackbot.InputAwareTime: aware.Format("15:04"),
		slackbot.InputUnauthorized: slackbot.No, slackbot.InputSensitive: slackbot.No,
		slackbot.InputJurisdictions: "JP-APPI", slackbot.InputList: ref.RefString(),
	} {
		form[k] = map[string]string{k: v}
	}
	declared, err := s.sandbox.SubmitView(ctx, lead, views[0].ID, form)
	if err != nil || declared.ViewResponse != nil {
		t.Fatalf("submit: %v %s", err, declared.Body)
	}
	id := s.waitIncident(ctx, "replay-recall")
	wid := workflows.RecallWorkflowID(id, "R00001")
	waitFor(ctx, t, "the request mailed and the first call rung out", func() bool {
		st, err := recallStatus(ctx, s, wid)
		return err == nil && st.Requested && len(st.Events) > 0
	})
	linkURL := linkFor(t, s, "member01@example.jp")
	before := historyCounts(ctx, t, s.client, wid)

	replay := func(what string, send func() (int, error), ok func(code int) bool) {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		var firstErr error
		next := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range next {
					code, err := send()
					mu.Lock()
					codes[code]++
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
		for i := range replays {
			next <- i
		}
		close(next)
		wg.Wait()
		if firstErr != nil {
			t.Fatalf("%s: %v", what, firstErr)
		}
		for code, n := range codes {
			if !ok(code) {
				t.Fatalf("%s: %d answers %d (all: %v)", what, n, code, codes)
			}
		}
	}
	is2xx := func(code int) bool { return code/100 == 2 }

	// The Slack declaration, replayed: nothing new starts, and the
	// answer says so.
	replay("the declaration", func() (int, error) { return postRaw(ctx, s.cfg.PublicURL, declared.Sent) }, is2xx)
	waitFor(ctx, t, "every replayed declaration answered", func() bool {
		return countEphemerals(s.sandbox, "was already declared from this form") == replays
	})
	if n := countEphemerals(s.sandbox, "declared with runbook"); n != 1 {
		t.Errorf("%d answers say the incident was declared, want 1 (the first)", n)
	}
	if n := countIncidents(ctx, t, s.client, "replay-recall"); n != 1 {
		t.Errorf("%d incidents of runbook replay-recall, want 1", n)
	}

	// The confirmation link's POST.
	replay("the confirmation link", func() (int, error) {
		resp, err := http.PostForm(linkURL, url.Values{"confirm": {"deleted"}})
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}, func(code int) bool { return code == http.StatusOK })

	// Twilio's callbacks for this Recall, signed as Twilio signs them,
	// without the (unsigned) idempotency header.
	links, err := linktoken.NewSigner(s.cfg.LinkSecret)
	if err != nil {
		t.Fatal(err)
	}
	voice, err := links.Sign(linktoken.Claims{WorkflowID: wid, Purpose: linktoken.PurposeVoice, Attempt: 1, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	twilioCallback := func(path string, f url.Values) func() (int, error) {
		full := s.cfg.PublicURL + path + "t=" + url.QueryEscape(voice)
		sig := twilioSign(config.SandboxTwilioAuthToken, full, f)
		body := f.Encode()
		return func() (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, full, strings.NewReader(body))
			if err != nil {
				return 0, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", sig)
			return do(req)
		}
	}
	replay("a call's status", twilioCallback("/webhooks/twilio/voice/status?", url.Values{"CallSid": {"CAreplay0001"}, "CallStatus": {"busy"}}), is2xx)
	replay("an SMS's status", twilioCallback("/webhooks/twilio/sms/status?", url.Values{"MessageSid": {"SMreplay0001"}, "MessageStatus": {"undelivered"}}), is2xx)
	replay("key 2 pressed", twilioCallback("/webhooks/twilio/voice/gather?r=0&", url.Values{"CallSid": {"CAreplay0002"}, "Digits": {"2"}}), is2xx)

	// A SendGrid event batch, signed once and delivered again and again.
	events := []byte(`[{"event":"bounce","sg_event_id":"sg-replay-0001","timestamp":` + strconv.FormatInt(time.Now().Unix(), 10) +
		`,"breachflow_recall":"` + wid + `","breachflow_attempt":"1"}]`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sgSig := sendgridSign(t, ts, events)
	replay("a SendGrid event batch", func() (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.PublicURL+"/webhooks/sendgrid/events", bytes.NewReader(events))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(eventwebhook.VerificationHTTPHeader, sgSig)
		req.Header.Set(eventwebhook.TimestampHTTPHeader, ts)
		return do(req)
	}, is2xx)

	// The Recall's history: one signal per distinct event.
	after := historyCounts(ctx, t, s.client, wid)
	if got := after.signals[workflows.SignalConfirmation] - before.signals[workflows.SignalConfirmation]; got != 1 {
		t.Errorf("%d confirmation signals from %d replays of one link, want 1", got, replays)
	}
	// busy, undelivered, the callback request, the bounce.
	if got := after.signals[workflows.SignalDelivery] - before.signals[workflows.SignalDelivery]; got != 4 {
		t.Errorf("%d delivery signals from %d replays of each of 4 provider events, want 4", got, replays)
	}
	st, err := recallStatus(ctx, s, wid)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Confirmations); n != 1 || st.Confirmations[0].Channel != runbooks.ConfirmEmail {
		t.Errorf("confirmations %+v, want the e-mail one once", st.Confirmations)
	}

	// A button press, replayed: one update. The incident message's first
	// containment task's "Done".
	msg := s.waitMessage(ctx, "the incident message", func(m sandbox.SlackMessage) bool {
		return strings.Contains(string(m.Blocks), slackui.ActionCompleteTask)
	})
	incBefore := historyCounts(ctx, t, s.client, workflows.IncidentWorkflowID(id))
	click, err := s.sandbox.ClickButton(ctx, lead, channel, msg.TS, slackui.ActionCompleteTask, "")
	if err != nil || click.StatusCode != 200 {
		t.Fatalf("click: %v %+v", err, click)
	}
	replay("a button press", func() (int, error) { return postRaw(ctx, s.cfg.PublicURL, click.Sent) }, is2xx)
	waitFor(ctx, t, "the task done", func() bool {
		c := historyCounts(ctx, t, s.client, workflows.IncidentWorkflowID(id))
		return c.updates[workflows.UpdateCompleteTask] > incBefore.updates[workflows.UpdateCompleteTask]
	})
	time.Sleep(time.Second) // a second update would have landed by now
	incAfter := historyCounts(ctx, t, s.client, workflows.IncidentWorkflowID(id))
	if got := incAfter.updates[workflows.UpdateCompleteTask] - incBefore.updates[workflows.UpdateCompleteTask]; got != 1 {
		t.Errorf("%d complete_task updates from %d replays of one press, want 1", got, replays+1)
	}

	// Counts stay exact.
	inc := s.waitStatus(ctx, id, "the counts", func(st workflows.IncidentStatus) bool { return st.Recall.EmailConfirmed == 1 })
	if inc.Recall.Total != 1 || inc.Recall.EmailConfirmed != 1 || inc.Recall.Confirmed != 0 {
		t.Errorf("counts %+v", inc.Recall)
	}
}

// postRaw sends a captured Slack request again, byte for byte.
func postRaw(ctx context.Context, base string, sent sandbox.SlackRequest) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+sent.Path, bytes.NewReader(sent.Body))
	if err != nil {
		return 0, err
	}
	req.Header = sent.Header.Clone()
	return do(req)
}

func do(req *http.Request) (int, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// countEphemerals counts the answers to one person (ephemeral messages and
// response_url posts) that say needle.
func countEphemerals(sb *sandbox.Sandbox, needle string) int {
	n := 0
	for _, e := range sb.SlackEphemerals() {
		if strings.Contains(e.Text, needle) {
			n++
		}
	}
	for _, p := range sb.SlackResponseURLPosts() {
		if strings.Contains(string(p.Body), needle) {
			n++
		}
	}
	return n
}

func countIncidents(ctx context.Context, t *testing.T, c client.Client, runbook string) int {
	t.Helper()
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf(`WorkflowType = "Incident" AND BreachRunbook = %q`, runbook)})
	if err != nil {
		t.Fatal(err)
	}
	return int(resp.Count)
}

type eventCounts struct {
	signals map[string]int // by signal name
	updates map[string]int // accepted, by update name
}

// historyCounts counts the signals and accepted updates in a workflow's
// history (every run).
func historyCounts(ctx context.Context, t *testing.T, c client.Client, wid string) eventCounts {
	t.Helper()
	out := eventCounts{signals: map[string]int{}, updates: map[string]int{}}
	it := c.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", wid, err)
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			out.signals[e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName()]++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			out.updates[e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName()]++
		}
	}
	return out
}

// twilioSign is X-Twilio-Signature: base64(HMAC-SHA1(token, URL + the
// sorted parameters, each name then value)).
func twilioSign(token, fullURL string, f url.Values) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range f[k] {
			b.WriteString(k + v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sendgridSign signs an event batch as SendGrid does, with the sandbox's
// key: base64(ECDSA-P256(SHA-256(timestamp + body))).
func sendgridSign(t *testing.T, ts string, body []byte) string {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(config.SandboxSendGridWebhookPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.(*ecdsa.PrivateKey), h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
