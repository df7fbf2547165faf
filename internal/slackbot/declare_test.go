package slackbot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

// validDeclaration fills the declaration modal for the missend runbook; the
// harness clock says 2026-11-21 12:00 JST.
func validDeclaration() map[string]map[string]string {
	v := map[string]string{
		slackbot.InputRunbook:       "missend",
		slackbot.InputTitle:         "Order confirmation sent to the wrong customers",
		slackbot.InputWhatLeaked:    "names and order numbers in an attachment",
		slackbot.InputPersons:       "53",
		slackbot.InputAwareDate:     "2026-11-21",
		slackbot.InputAwareTime:     "09:30",
		slackbot.InputUnauthorized:  slackbot.No,
		slackbot.InputSensitive:     slackbot.Yes,
		slackbot.InputJurisdictions: "JP-APPI,EU-GDPR",
		slackbot.InputList:          knownList,
	}
	out := map[string]map[string]string{}
	for k, x := range v {
		out[k] = map[string]string{k: x}
	}
	return out
}

// openDeclare runs /breach declare as user and returns the modal's ID.
func (h *harness) openDeclare(user, arg string) string {
	h.t.Helper()
	if got := ackText(h.t, h.slash(user, strings.TrimSpace("declare "+arg))); got != "" {
		h.t.Fatalf("declare answered %q, want the modal to open", got)
	}
	return h.lastView().ID
}

func TestDeclareOpensTheModalAtOnceWithoutTouchingTemporal(t *testing.T) {
	h := newHarness(t, defaultOptions())
	resp := h.slash(alice, "declare missend")

	if got := ackText(t, resp); got != "" {
		t.Fatalf("answer %q, want an empty acknowledgement", got)
	}
	views := h.sb.SlackViews()
	if len(views) != 1 {
		t.Fatalf("%d modals opened, want 1 (the sandbox refuses expired triggers)", len(views))
	}
	v := views[0]
	if v.CallbackID != slackui.CallbackDeclare || v.User != alice {
		t.Errorf("modal %q for %q, want %q for %q", v.CallbackID, v.User, slackui.CallbackDeclare, alice)
	}
	var meta struct {
		Channel string `json:"c"`
	}
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &meta); err != nil || meta.Channel != incidentChannel {
		t.Errorf("private_metadata %q: want the channel %s (%v)", v.PrivateMetadata, incidentChannel, err)
	}
	var view slack.View
	if err := json.Unmarshal(v.View, &view); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]bool{}
	for _, b := range view.Blocks.BlockSet {
		if ib, ok := b.(*slack.InputBlock); ok {
			inputs[ib.BlockID] = true
			if ib.BlockID == slackbot.InputRunbook {
				sel, _ := ib.Element.(*slack.SelectBlockElement)
				if sel == nil || sel.InitialOption == nil || sel.InitialOption.Value != "missend" {
					t.Errorf("runbook select does not preselect the runbook named in the command")
				}
			}
		}
	}
	for _, id := range []string{slackbot.InputRunbook, slackbot.InputTitle, slackbot.InputWhatLeaked, slackbot.InputPersons,
		slackbot.InputAwareDate, slackbot.InputAwareTime, slackbot.InputUnauthorized, slackbot.InputSensitive,
		slackbot.InputJurisdictions, slackbot.InputList, slackbot.InputSentSubject, slackbot.InputSentDate, slackbot.InputSentTime} {
		if !inputs[id] {
			t.Errorf("modal has no input %q", id)
		}
	}
	if calls := h.temporal.Calls(); len(calls) != 0 {
		t.Errorf("Temporal was called before (or while) the modal opened: %+v", calls)
	}
}

func TestDeclareReportsAnUnusableTrigger(t *testing.T) {
	h := newHarness(t, defaultOptions())
	ack := h.bot.HandleSlashCommand(context.Background(), slack.SlashCommand{
		Command: "/breach", Text: "declare", UserID: alice, ChannelID: incidentChannel, TriggerID: "expired.trigger",
	})
	msg, _ := ack.Payload.(slackbot.Message)
	if !strings.Contains(msg.Text, "expired_trigger_id") || !strings.Contains(msg.Text, "again") {
		t.Errorf("answer %q: want the Slack error and a hint to run the command again", msg.Text)
	}
	if len(h.temporal.Calls()) != 0 {
		t.Error("Temporal was called")
	}
}

func TestDeclareRefusesAnUnknownRunbookBeforeOpening(t *testing.T) {
	h := newHarness(t, defaultOptions())
	got := ackText(t, h.slash(alice, "declare no-such-runbook"))
	if !strings.Contains(got, "missend") {
		t.Errorf("answer %q: want the list of built-in runbooks", got)
	}
	if n := len(h.sb.SlackViews()); n != 0 {
		t.Errorf("%d modals opened", n)
	}
}

func TestDeclareValidationErrorsGoBackIntoTheModal(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string // input -> value; "" removes the input
		block  string
		want   string
	}{
		{"zero people", map[string]string{slackbot.InputPersons: "0"}, slackbot.InputPersons, "1 or more"},
		{"negative people", map[string]string{slackbot.InputPersons: "-3"}, slackbot.InputPersons, "whole number"},
		{"people not a number", map[string]string{slackbot.InputPersons: "many"}, slackbot.InputPersons, "whole number"},
		{"fractional people", map[string]string{slackbot.InputPersons: "2.5"}, slackbot.InputPersons, "whole number"},
		{"aware tomorrow", map[string]string{slackbot.InputAwareDate: "2026-11-22"}, slackbot.InputAwareDate, "in the future"},
		{"aware later today", map[string]string{slackbot.InputAwareTime: "13:30"}, slackbot.InputAwareTime, "in the future"},
		{"recall runbook without a list", map[string]string{slackbot.InputList: ""}, slackbot.InputList, "starter recipients put"},
		{"unknown list reference", map[string]string{slackbot.InputList: "sha256:nope"}, slackbot.InputList, "No stored recipient list"},
		{"list for a runbook that recalls nothing", map[string]string{slackbot.InputRunbook: "insider-exfiltration"}, slackbot.InputList, "recalls nothing"},
		{"runbook not offered", map[string]string{slackbot.InputRunbook: "rm-rf"}, slackbot.InputRunbook, "offered runbooks"},
		{"no title", map[string]string{slackbot.InputTitle: ""}, slackbot.InputTitle, "required"},
		{"blank title", map[string]string{slackbot.InputTitle: "   "}, slackbot.InputTitle, "required"},
		{"unauthorized purpose unanswered", map[string]string{slackbot.InputUnauthorized: ""}, slackbot.InputUnauthorized, "yes or no"},
		{"unknown regime", map[string]string{slackbot.InputJurisdictions: "JP-APPI,XX-LAW"}, slackbot.InputJurisdictions, "XX-LAW"},
		{"no regime", map[string]string{slackbot.InputJurisdictions: ""}, slackbot.InputJurisdictions, "at least one"},
		{"sent time without a date", map[string]string{slackbot.InputSentTime: "10:00"}, slackbot.InputSentDate, "Pick the date"},
		{"sent tomorrow", map[string]string{slackbot.InputSentDate: "2026-11-22"}, slackbot.InputSentDate, "in the future"},
		// What is typed goes into every deletion request and notice: it
		// may quote nobody on the list (the first is 鈴木 健太).
		{"title names a listed person", map[string]string{slackbot.InputTitle: "鈴木健太様ほかへの誤送信"}, slackbot.InputTitle, "line 1, column 1: person-name"},
		{"what leaked spells a listed person in kana", map[string]string{slackbot.InputWhatLeaked: "会員情報（すずき けんた 等）"}, slackbot.InputWhatLeaked, "person-kana"},
		{"subject holds a disguised listed address", map[string]string{slackbot.InputSentSubject: "kenta.suzuki☆example.jp 様 ご案内"}, slackbot.InputSentSubject, "personal data"},
		{"subject holds a listed phone number", map[string]string{slackbot.InputSentSubject: "ご連絡先 090 1234 5678 の件"}, slackbot.InputSentSubject, "personal data"},
		{"subject holds anyone's address", map[string]string{slackbot.InputSentSubject: "to someone@example.org"}, slackbot.InputSentSubject, "personal data"},
	}
	h := newHarness(t, defaultOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			viewID := h.openDeclare(alice, "")
			values := validDeclaration()
			for k, v := range tt.change {
				if v == "" {
					delete(values, k)
				} else {
					values[k] = map[string]string{k: v}
				}
			}
			resp, err := h.sb.SubmitView(context.Background(), alice, viewID, values)
			if err != nil {
				t.Fatal(err)
			}
			vr := resp.ViewResponse
			if vr == nil || vr.ResponseAction != slack.RAErrors {
				t.Fatalf("answer %q: want response_action errors", resp.Body)
			}
			if got := slices.Sorted(maps.Keys(vr.Errors)); !slices.Equal(got, []string{tt.block}) {
				t.Errorf("errors on %v (%v), want on %q only", got, vr.Errors, tt.block)
			}
			if !strings.Contains(vr.Errors[tt.block], tt.want) {
				t.Errorf("error %q, want it to say %q", vr.Errors[tt.block], tt.want)
			}
			for _, leaked := range []string{"鈴木", "健太", "すずき", "kenta", "1234"} {
				if strings.Contains(vr.Errors[tt.block], leaked) {
					t.Errorf("error %q quotes what was typed (%q)", vr.Errors[tt.block], leaked)
				}
			}
			h.bot.Wait()
			if calls := h.temporal.Calls(); len(calls) != 0 {
				t.Errorf("an invalid form reached Temporal: %+v", calls)
			}
		})
	}
}

func TestValidDeclarationStartsExactlyOneIncidentDeclaredByTheSlackUser(t *testing.T) {
	h := newHarness(t, defaultOptions())
	viewID := h.openDeclare(alice, "")
	values := validDeclaration()
	values[slackbot.InputSentSubject] = map[string]string{slackbot.InputSentSubject: "【ご注文確認】ご注文ありがとうございます"}
	values[slackbot.InputSentDate] = map[string]string{slackbot.InputSentDate: "2026-11-20"}
	values[slackbot.InputSentTime] = map[string]string{slackbot.InputSentTime: "18:05"}
	resp, err := h.sb.SubmitView(context.Background(), alice, viewID, values)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ViewResponse != nil || resp.StatusCode != 200 {
		t.Fatalf("answer %d %q: want an empty 200 that closes the modal", resp.StatusCode, resp.Body)
	}
	h.bot.Wait()
	starts := h.callsOf("ExecuteWorkflow")
	if len(starts) != 1 {
		t.Fatalf("%d workflow starts, want exactly 1", len(starts))
	}
	in, ok := starts[0].Arg.(workflows.IncidentInput)
	if !ok {
		t.Fatalf("started with %T, want workflows.IncidentInput", starts[0].Arg)
	}
	if in.DeclaredBy != alice {
		t.Errorf("DeclaredBy = %q, want the Slack user ID %q", in.DeclaredBy, alice)
	}
	if in.SlackChannel != incidentChannel {
		t.Errorf("SlackChannel = %q, want %q", in.SlackChannel, incidentChannel)
	}
	if starts[0].WorkflowID != in.IncidentID || !strings.HasPrefix(in.IncidentID, "INC-20261121-") {
		t.Errorf("workflow ID %q, incident ID %q: want INC-20261121-… for both", starts[0].WorkflowID, in.IncidentID)
	}
	if starts[0].Start.TaskQueue != "breachflow-test" {
		t.Errorf("task queue %q", starts[0].Start.TaskQueue)
	}
	want := workflows.Facts{
		Title: "Order confirmation sent to the wrong customers", WhatLeaked: "names and order numbers in an attachment",
		Persons: 53, AwareAt: time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC), Unauthorized: false, SensitiveOrFinancial: true,
		Jurisdictions: []string{"JP-APPI", "EU-GDPR"},
		SentSubject:   "【ご注文確認】ご注文ありがとうございます", SentAt: time.Date(2026, 11, 20, 9, 5, 0, 0, time.UTC),
	}
	if got := in.Facts; got.SentSubject != want.SentSubject || !got.SentAt.Equal(want.SentAt) {
		t.Errorf("sent subject %q at %v, want %q at %v", got.SentSubject, got.SentAt, want.SentSubject, want.SentAt)
	}
	if got := in.Facts; got.Title != want.Title || got.WhatLeaked != want.WhatLeaked || got.Persons != want.Persons ||
		!got.AwareAt.Equal(want.AwareAt) || got.Unauthorized != want.Unauthorized ||
		got.SensitiveOrFinancial != want.SensitiveOrFinancial || !slices.Equal(got.Jurisdictions, want.Jurisdictions) {
		t.Errorf("facts\n got %+v\nwant %+v", got, want)
	}
	if in.WrongRecipients == nil || *in.WrongRecipients != knownRef {
		t.Errorf("wrong recipients %+v, want %+v", in.WrongRecipients, knownRef)
	}
	if in.Runbook.Runbook.ID != "missend" {
		t.Errorf("runbook %q", in.Runbook.Runbook.ID)
	}
	if got := h.ephemeralsTo(alice); !containsAny(got, in.IncidentID) {
		t.Errorf("ephemerals to alice %q: want the incident ID", got)
	}
}

func TestDeclareFailureIsToldToTheUser(t *testing.T) {
	h := newHarness(t, defaultOptions())
	h.temporal.startErr = errors.New("namespace default not found")
	viewID := h.openDeclare(alice, "")
	if _, err := h.sb.SubmitView(context.Background(), alice, viewID, validDeclaration()); err != nil {
		t.Fatal(err)
	}
	got := h.ephemeralsTo(alice)
	if !containsAny(got, "Could not declare the incident") || !containsAny(got, "namespace default not found") {
		t.Errorf("ephemerals %q: want the failure and its cause", got)
	}
}

func TestWhoMayDeclare(t *testing.T) {
	tests := []struct {
		name      string
		declarers []string
		sandbox   bool
		user      string
		allowed   bool
		refusal   string
	}{
		{"member of a listed user group", []string{respondersGroup}, false, alice, true, ""},
		{"listed user", []string{carol}, false, carol, true, ""},
		{"member of a listed channel", []string{approversChannel}, false, bob, true, ""},
		{"not listed anywhere", []string{respondersGroup, carol}, false, mallory, false, "not allowed"},
		{"empty list outside the sandbox allows nobody", nil, false, alice, false, "BREACHFLOW_SLACK_DECLARERS is empty"},
		{"empty list in the sandbox allows everyone", nil, true, mallory, true, ""},
		{"a list in the sandbox still applies", []string{carol}, true, mallory, false, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultOptions()
			o.declarers, o.sandboxMode = tt.declarers, tt.sandbox
			h := newHarness(t, o)
			got := ackText(t, h.slash(tt.user, "declare"))
			opened := len(h.sb.SlackViews()) == 1
			if opened != tt.allowed {
				t.Fatalf("modal opened = %v, want %v (answer %q)", opened, tt.allowed, got)
			}
			if !tt.allowed && !strings.Contains(got, tt.refusal) {
				t.Errorf("refusal %q, want it to say %q", got, tt.refusal)
			}
			if len(h.temporal.Calls()) != 0 {
				t.Error("Temporal was called")
			}
		})
	}
}

func TestSubmissionIsAuthorizedAgain(t *testing.T) {
	// The submission is a request of its own: whoever submits is checked,
	// not whoever opened the modal.
	h := newHarness(t, defaultOptions())
	viewID := h.openDeclare(alice, "")
	resp, err := h.sb.SubmitView(context.Background(), mallory, viewID, validDeclaration())
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := h.ephemeralsTo(mallory); !containsAny(got, "No incident was declared") {
		t.Errorf("ephemerals to mallory %q: want a refusal", got)
	}
	if n := len(h.temporal.Calls()); n != 0 {
		t.Errorf("%d Temporal calls, want none", n)
	}
}

// declarationSubmission is a signed-ready declaration form submission of
// view viewID, opened at openedAt.
func declarationSubmission(viewID string, openedAt time.Time) []byte {
	values := inputs(map[string]slack.BlockAction{
		slackbot.InputRunbook:       {SelectedOption: slack.OptionBlockObject{Value: "missend"}},
		slackbot.InputTitle:         {Value: "Order confirmation sent to the wrong customers"},
		slackbot.InputWhatLeaked:    {Value: "names and order numbers"},
		slackbot.InputPersons:       {Value: "53"},
		slackbot.InputAwareDate:     {SelectedDate: "2026-11-21"},
		slackbot.InputAwareTime:     {SelectedTime: "09:30"},
		slackbot.InputUnauthorized:  {SelectedOption: slack.OptionBlockObject{Value: slackbot.No}},
		slackbot.InputSensitive:     {SelectedOption: slack.OptionBlockObject{Value: slackbot.Yes}},
		slackbot.InputJurisdictions: {SelectedOptions: []slack.OptionBlockObject{{Value: "JP-APPI"}}},
		slackbot.InputList:          {Value: knownList},
	})
	meta := fmt.Sprintf(`{"c":%q,"t":%d}`, incidentChannel, openedAt.Unix())
	payload := interaction(slack.InteractionCallback{
		Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: alice}, Team: slack.Team{ID: "T0TEAM"},
		View: slack.View{ID: viewID, CallbackID: slackui.CallbackDeclare, PrivateMetadata: meta, State: &slack.ViewState{Values: values}},
	})
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

// A declaration form is the one request whose effect is not an Update: the
// incident's ID comes from the form itself, so the same signed submission
// delivered twice (a replay inside Slack's 5-minute window) names the same
// incident, Temporal refuses to start it twice, and the user is told.
func TestADeclarationSubmittedTwiceDeclaresOneIncident(t *testing.T) {
	h := newHarness(t, defaultOptions())
	openedAt := time.Now().Add(-time.Minute)
	body := declarationSubmission("V0DECLARE1", openedAt)
	signedAt := time.Now()
	for i := range 2 {
		if got := h.postSigned("/slack/interactions", body, signedAt); got != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i+1, got)
		}
	}
	starts := h.callsOf("ExecuteWorkflow")
	if len(starts) != 2 || starts[0].WorkflowID != starts[1].WorkflowID {
		t.Fatalf("starts %+v: want both deliveries to name the same incident", starts)
	}
	if got := h.ephemeralsTo(alice); !containsAny(got, "already declared from this form") {
		t.Errorf("ephemerals %q: want the second delivery told that nothing new was started", got)
	}

	// Another form (another view) is another incident, even with the same answers.
	h.postSigned("/slack/interactions", declarationSubmission("V0DECLARE2", openedAt), time.Now())
	if starts := h.callsOf("ExecuteWorkflow"); len(starts) != 3 || starts[2].WorkflowID == starts[0].WorkflowID {
		t.Errorf("starts %+v: want a second form to declare a new incident", starts)
	}
}
