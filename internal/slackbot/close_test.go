package slackbot_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/internal/slackbot"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

// midRecall is an incident with 3 of its 10 recipients still being asked
// and the APPI final report still open.
func midRecall() workflows.IncidentStatus {
	return workflows.IncidentStatus{IncidentID: incidentID, Phase: workflows.PhaseRecall,
		Recall: workflows.RecallCounts{Total: 10, Pending: 3, Requested: 9, Confirmed: 6, Unreachable: 1},
		Obligations: []workflows.ObligationSummary{
			{ObligationID: "JP-APPI/prompt", Title: "速報 (prompt report)", Audience: "PPC", State: workflows.ObligationFiled},
			{ObligationID: "JP-APPI/final", Title: "確報 (final report)", Audience: "PPC", State: workflows.ObligationPending,
				Due: time.Date(2026, 12, 21, 0, 0, 0, 0, jst)},
		}}
}

// stillAsked is the Incident's refusal of a close while recipients are
// being asked, as its validator words it.
var stillAsked = temporal.NewApplicationError("3 recipient(s) are still being asked to delete the data (R00002, R00005, R00009): "+
	"close each with a reason (starter recipient close), or close the incident with --stop-recalls (stop_recalls), "+
	"which stops asking them and records them as closed by this close", "")

func closeForm(reason string, stop bool) map[string]string {
	kv := map[string]string{slackbot.InputReason: reason}
	if stop {
		kv[slackbot.InputStopRecalls] = slackbot.StopRecalls
	}
	return kv
}

// An approver closes an incident mid-recall: the modal says what closing
// does, names the obligation still open and offers to stop asking the 3
// recipients still being asked. Submitted without that box, the
// Incident's refusal is shown on the box and the modal stays open;
// ticked, the close goes through as theirs, under the modal's Update ID.
func TestCloseIncidentMidRecallNeedsTheStopBoxTicked(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.temporal.status = midRecall()

	h.click(bob, its, slackui.ActionCloseIncident)
	v := h.lastView()
	if v.CallbackID != slackui.CallbackCloseIncident || !strings.Contains(v.PrivateMetadata, incidentID) {
		t.Fatalf("modal %q (%s), want the close form of the incident", v.CallbackID, v.PrivateMetadata)
	}
	view := string(v.View)
	for _, want := range []string{
		"closing record",    // what closing does
		"JP-APPI/final",     // the obligation still open…
		"確報 (final report)", // …by its title
		"Stop asking the 3 recipient(s) still in progress", // the box
		"Each is recorded as closed by this close",         // what ticking it records
		`"block_id":"` + slackbot.InputStopRecalls + `"`,   // an input the Incident's refusal can point at
	} {
		if !strings.Contains(view, want) {
			t.Errorf("the modal does not say %q: %s", want, view)
		}
	}
	if strings.Contains(view, "JP-APPI/prompt") {
		t.Errorf("the modal lists a filed obligation as open: %s", view)
	}
	h.invalid(bob, v.ID, []badForm{{"no reason", closeForm("  ", true), slackbot.InputReason}})

	// Without the box: the Incident refuses, in the modal.
	h.temporal.updateErr = stillAsked
	errs := h.submit(bob, v.ID, closeForm("every reachable recipient deleted it; the rest cannot be reached", false))
	if msg := errs[slackbot.InputStopRecalls]; !strings.Contains(msg, "3 recipient(s) are still being asked") ||
		!strings.Contains(msg, "Tick the box") || strings.Contains(msg, "--stop-recalls") {
		t.Fatalf("errors %v: want the refusal on the box, in Slack's words", errs)
	}
	if got := h.ephemeralsTo(bob); containsAny(got, "is closed") {
		t.Errorf("ephemerals %q: a refused close was told as done", got)
	}

	// With it: closed, as bob's.
	h.temporal.updateErr = nil
	if errs := h.submit(bob, v.ID, closeForm("every reachable recipient deleted it; the rest cannot be reached", true)); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	h.bot.Wait()
	ups := h.callsOf("UpdateWorkflow")
	if len(ups) != 2 {
		t.Fatalf("%d updates, want the refused one and the accepted one", len(ups))
	}
	wantUpdate(t, ups[1], incidentID, workflows.UpdateCloseIncident, workflows.CloseIncident{By: bob,
		Reason: "every reachable recipient deleted it; the rest cannot be reached", StopRecalls: true})
	for _, u := range ups {
		if u.UpdateID != "slack:"+bob+":"+v.ID {
			t.Errorf("update ID %q, want the modal's (slack:%s:%s)", u.UpdateID, bob, v.ID)
		}
	}
	if got := h.ephemeralsTo(bob); !containsAny(got, incidentID+" is closed, as yours") || !containsAny(got, "no longer asked") {
		t.Errorf("ephemerals %q", got)
	}
}

// When nobody is still being asked, the modal has no box and the close
// does not stop anything.
func TestCloseIncidentWithNobodyBeingAskedHasNoStopBox(t *testing.T) {
	h := newHarness(t, defaultOptions())
	its, _ := h.postIncidentMessage()
	h.temporal.status = workflows.IncidentStatus{IncidentID: incidentID, Phase: workflows.PhaseMonitoring,
		Recall: workflows.RecallCounts{Total: 10, Requested: 10, Confirmed: 9, ClosedByOperator: 1}}
	h.click(bob, its, slackui.ActionCloseIncident)
	v := h.lastView()
	if strings.Contains(string(v.View), slackbot.InputStopRecalls) || strings.Contains(string(v.View), "Stop asking") {
		t.Fatalf("the modal offers to stop asking nobody: %s", v.View)
	}
	if errs := h.submit(bob, v.ID, closeForm("all recipients confirmed; filings done", false)); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	wantUpdate(t, h.onlyUpdate(), incidentID, workflows.UpdateCloseIncident,
		workflows.CloseIncident{By: bob, Reason: "all recipients confirmed; filings done"})
}

// The Incident's other refusals are shown on the reason: closed already
// by someone else, or its workflow ended.
func TestARefusedCloseIsShownInTheModal(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"closed meanwhile", temporal.NewApplicationError("incident "+incidentID+" is already closed", ""), "already closed"},
		{"workflow ended", serviceerror.NewNotFound("workflow execution already completed"), incidentID + " is already closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, defaultOptions())
			its, _ := h.postIncidentMessage()
			h.click(bob, its, slackui.ActionCloseIncident)
			h.temporal.updateErr = tt.err
			errs := h.submit(bob, h.lastView().ID, closeForm("done", false))
			if !strings.Contains(errs[slackbot.InputReason], tt.want) {
				t.Errorf("errors %v, want %q on the reason", errs, tt.want)
			}
		})
	}
}

// Closing is an approver's decision: anyone else is refused ephemerally,
// gets no modal and changes nothing, by button or by command; so is a
// submission by someone not (or no longer) allowed.
func TestCloseIncidentIsAnApproversDecision(t *testing.T) {
	for _, user := range []string{alice, mallory} {
		for _, how := range []string{"button", "command"} {
			t.Run(user+"/"+how, func(t *testing.T) {
				h := newHarness(t, defaultOptions())
				its, _ := h.postIncidentMessage()
				h.temporal.status = midRecall()
				if how == "button" {
					h.click(user, its, slackui.ActionCloseIncident)
				} else {
					ackText(t, h.slash(user, "close "+incidentID))
				}
				got := h.ephemeralsTo(user)
				if !containsAny(got, "needs an approver") || !containsAny(got, "othing was changed") {
					t.Errorf("ephemerals %q", got)
				}
				if n := len(h.sb.SlackViews()); n != 0 {
					t.Errorf("%d modals opened", n)
				}
				if n := len(h.callsOf("UpdateWorkflow")); n != 0 {
					t.Errorf("%d updates", n)
				}
			})
		}
	}
	t.Run("submission", func(t *testing.T) {
		h := newHarness(t, defaultOptions())
		its, _ := h.postIncidentMessage()
		h.click(bob, its, slackui.ActionCloseIncident)
		if errs := h.submit(mallory, h.lastView().ID, closeForm("done", false)); errs != nil {
			t.Fatalf("errors %v", errs)
		}
		if got := h.ephemeralsTo(mallory); !containsAny(got, "needs an approver") {
			t.Errorf("ephemerals %q", got)
		}
		if n := len(h.callsOf("UpdateWorkflow")); n != 0 {
			t.Errorf("%d updates", n)
		}
	})
}

func TestAClosedIncidentOffersNoCloseForm(t *testing.T) {
	h := newHarness(t, defaultOptions())
	h.temporal.status = workflows.IncidentStatus{IncidentID: incidentID, Phase: workflows.PhaseClosed}
	ackText(t, h.slash(bob, "close "+incidentID))
	if got := h.ephemeralsTo(bob); !containsAny(got, incidentID+" is already closed") {
		t.Errorf("ephemerals %q", got)
	}
	if n := len(h.sb.SlackViews()); n != 0 {
		t.Errorf("%d modals opened", n)
	}
}

// `/breach close INC-…` opens the same form as the button.
func TestCloseIncidentBySlashCommand(t *testing.T) {
	h := newHarness(t, defaultOptions())
	h.temporal.status = midRecall()
	if got := ackText(t, h.slash(bob, "close "+incidentID)); got != "" {
		t.Errorf("answer %q, want the modal", got)
	}
	v := h.lastView()
	if v.CallbackID != slackui.CallbackCloseIncident || !strings.Contains(string(v.View), "Stop asking the 3 recipient(s)") {
		t.Fatalf("modal %q: %s", v.CallbackID, v.View)
	}
	if errs := h.submit(bob, v.ID, closeForm("closed from the command", true)); errs != nil {
		t.Fatalf("errors %v", errs)
	}
	wantUpdate(t, h.onlyUpdate(), incidentID, workflows.UpdateCloseIncident,
		workflows.CloseIncident{By: bob, Reason: "closed from the command", StopRecalls: true})
	if got := ackText(t, h.slash(bob, "close")); !strings.Contains(got, "Usage") {
		t.Errorf("answer %q", got)
	}
}

// When Temporal is slower than Slack lets the modal wait, the modal
// closes and the outcome is told when it comes.
func TestASlowCloseIsToldLater(t *testing.T) {
	h := newHarness(t, options{declarers: defaultOptions().declarers, approvers: defaultOptions().approvers, syncWait: 50 * time.Millisecond})
	its, _ := h.postIncidentMessage()
	h.click(bob, its, slackui.ActionCloseIncident)
	v := h.lastView()
	h.temporal.mu.Lock()
	h.temporal.delay = 500 * time.Millisecond
	h.temporal.mu.Unlock()
	if errs := h.submit(bob, v.ID, closeForm("done", false)); errs != nil {
		t.Fatalf("errors %v: want the modal closed", errs)
	}
	if got := h.ephemeralsTo(bob); !containsAny(got, incidentID+" is closed, as yours") {
		t.Errorf("ephemerals %q", got)
	}
}

// closeIncidentSubmission is user's close form, submitted (bob's
// modal, view V0CLOSE).
func closeIncidentSubmission(user string) []byte {
	meta := `{"w":"` + incidentID + `","c":"` + incidentChannel + `","n":3}`
	payload := interaction(slack.InteractionCallback{
		Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: user},
		View: slack.View{ID: "V0CLOSE", CallbackID: slackui.CallbackCloseIncident, PrivateMetadata: meta,
			State: &slack.ViewState{Values: inputs(map[string]slack.BlockAction{
				slackbot.InputReason:      {Value: "every recipient deleted it"},
				slackbot.InputStopRecalls: {SelectedOptions: []slack.OptionBlockObject{{Value: slackbot.StopRecalls}}},
			})}},
	})
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// A close submission that is not Slack's (unsigned, or mallory's rewritten
// to be an approver's) is refused before it is read: nothing reaches
// Temporal or Slack.
func TestAForgedCloseIsRefusedUnread(t *testing.T) {
	h := newHarness(t, defaultOptions())
	body := closeIncidentSubmission(mallory)
	now := time.Now()
	forged := []struct {
		name string
		req  func() *http.Request
	}{
		{"unsigned", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, h.engine.URL+"/slack/interactions", strings.NewReader(string(body)))
			r.Header.Set("X-Slack-Request-Timestamp", unix(now))
			return r
		}},
		{"rewritten to be bob's", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, h.engine.URL+"/slack/interactions",
				strings.NewReader(strings.Replace(string(body), mallory, bob, 1)))
			r.Header.Set("X-Slack-Request-Timestamp", unix(now))
			r.Header.Set("X-Slack-Signature", sign(sandbox.SlackSigningSecret, unix(now), body))
			return r
		}},
	}
	for _, f := range forged {
		r := f.req()
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", f.name, resp.StatusCode)
		}
	}
	h.bot.Wait()
	if calls := h.temporal.Calls(); len(calls) != 0 {
		t.Errorf("a forged close reached Temporal: %+v", calls)
	}
	if calls := h.sb.SlackCalls(); len(calls) != 0 {
		t.Errorf("a forged close made %d Slack API calls", len(calls))
	}
}
