package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/letters"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/workflows"
)

var letterActs *activities.Letters

// seed002Demand is the demand of seed 002 to one broker (7/8: 内容証明 to
// every broker selling the list and every company using it; two weeks to
// answer).
func seed002Demand() workflows.BrokerDemandInput {
	return workflows.BrokerDemandInput{
		IncidentID: "INC-20260626-BRK002", DemandID: "B003",
		Broker:         letters.Party{Name: "株式会社名簿センター", Address: "東京都新宿区新宿9-9-9"},
		Data:           "当社の顧客情報を含む名簿",
		ResponseWindow: 14 * 24 * time.Hour,
		SlackChannel:   "C0INCIDENT",
	}
}

// brokerHarness mocks the letter and the Slack notices and records them.
type brokerHarness struct {
	env     *testsuite.TestWorkflowEnvironment
	start   time.Time
	mu      sync.Mutex
	notices []string
	demands []*slackui.DemandView // the Slack buttons of each notice
	at      []time.Duration
	request activities.BrokerLetterRequest
}

func newBrokerHarness() *brokerHarness {
	h := &brokerHarness{env: newEnv()}
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.BrokerDemandWorkflowID("INC-20260626-BRK002", "B003")})
	h.start = h.env.Now()
	h.env.OnActivity(letterActs.RenderBrokerLetter, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BrokerLetterRequest) (activities.BrokerLetter, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.request = in
			return activities.BrokerLetter{
				Path: "/letters/INC-20260626-BRK002/B003-0123456789ab.pdf", SHA256: "0123456789ab", Pages: 3,
				DocxPath: "/letters/INC-20260626-BRK002/B003-ba9876543210.docx", DocxSHA256: "ba9876543210", DocxPages: 2,
			}, nil
		})
	h.env.OnActivity(a.PostTaskNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.TaskNotice) (activities.SlackMessageRef, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.notices = append(h.notices, n.Text)
			h.demands = append(h.demands, n.Demand)
			h.at = append(h.at, h.env.Now().Sub(h.start))
			return activities.SlackMessageRef{}, nil
		})
	return h
}

func (h *brokerHarness) after(d time.Duration, f func()) { h.env.RegisterDelayedCallback(f, d) }

func (h *brokerHarness) result(t *testing.T) workflows.BrokerDemandStatus {
	t.Helper()
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var st workflows.BrokerDemandStatus
	require.NoError(t, h.env.GetWorkflowResult(&st))
	return st
}

// noticeAt returns the notice posted at d after the start, or "".
func (h *brokerHarness) noticeAt(d time.Duration) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, at := range h.at {
		if at == d {
			return h.notices[k]
		}
	}
	return ""
}

const day = 24 * time.Hour

// Seed 002: the letter is rendered, the owner is reminded daily to send it
// by content-certified mail until the tracking number is recorded, told
// two days before the answer is due, and the broker's compliance ends the
// demand.
func TestBrokerDemand_LetterMailedThenComplied(t *testing.T) {
	h := newBrokerHarness()
	var badNumber, early, mailed, answered *outcome
	h.after(time.Hour, func() {
		early = update(h.env, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerComplied, By: "U_LEGAL"})
	})
	h.after(2*time.Hour, func() {
		badNumber = update(h.env, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "12345", By: "U_LEGAL"})
	})
	h.after(2*day+time.Hour, func() {
		mailed = update(h.env, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "1234-5678-9012", By: "U_LEGAL"})
	})
	h.after(2*day+time.Hour+16*day, func() {
		answered = update(h.env, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerComplied, Note: "deleted, written report received", By: "U_LEGAL"})
	})

	h.env.ExecuteWorkflow(workflows.BrokerDemand, seed002Demand())

	st := h.result(t)
	require.ErrorContains(t, early.rejected, "no answer is awaited")
	require.ErrorContains(t, badNumber.rejected, "11 to 13 digits")
	mailed.ok(t)
	answered.ok(t)
	require.Equal(t, workflows.DemandComplied, st.State)
	require.Equal(t, "/letters/INC-20260626-BRK002/B003-0123456789ab.pdf", st.Letter.Path)
	require.Equal(t, 14, h.request.ReplyWithinDays, "the letter sets the runbook's window")
	require.Len(t, st.Mailings, 1)
	require.Equal(t, "1234-5678-9012", st.Mailings[0].TrackingNumber)
	mailedAt := h.start.Add(2*day + time.Hour)
	require.Equal(t, mailedAt.Add(17*day).UTC(), st.AnswerDue.UTC(), "mailing + 3 days to arrive + 14 days to answer")
	require.Contains(t, h.noticeAt(0), "content-certified mail")
	require.Contains(t, h.noticeAt(0), "upload the Word file "+st.Letter.DocxPath+" to e内容証明", "the .docx is the file to upload")
	require.Contains(t, h.noticeAt(0), "print the PDF "+st.Letter.Path, "the PDF is named too")
	require.Equal(t, "/letters/INC-20260626-BRK002/B003-ba9876543210.docx", st.Letter.DocxPath)
	require.Contains(t, h.noticeAt(day), "Reminder", "reminded daily until mailed")
	require.Contains(t, h.noticeAt(2*day), "Reminder")
	require.Contains(t, h.noticeAt(2*day+time.Hour+15*day), "due on", "told two days before the answer is due")
	require.Equal(t, 2, st.Reminders)
}

// Silence: when the answer period ends, the owner is told to record the
// answer (escalation) and reminded daily; "no answer" makes the demand a
// task to escalate to the regulator and the police, done when both are
// recorded.
func TestBrokerDemand_SilenceEscalatesToTheRegulatorAndThePolice(t *testing.T) {
	h := newBrokerHarness()
	var noAnswer, regulator, again, police *outcome
	h.after(time.Hour, func() {
		update(h.env, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "123456789012", By: "U_LEGAL"})
	})
	h.after(time.Hour+19*day+time.Minute, func() {
		noAnswer = update(h.env, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerNone, By: "U_LEGAL"})
	})
	h.after(time.Hour+20*day, func() {
		regulator = update(h.env, workflows.UpdateRecordEscalation, workflows.Escalation{To: workflows.EscalateRegulator, Reference: "PPC-2026-0042", By: "U_PRIVACY"})
	})
	h.after(time.Hour+20*day+time.Minute, func() {
		again = update(h.env, workflows.UpdateRecordEscalation, workflows.Escalation{To: workflows.EscalateRegulator, By: "U_PRIVACY"})
	})
	h.after(time.Hour+22*day, func() {
		police = update(h.env, workflows.UpdateRecordEscalation, workflows.Escalation{To: workflows.EscalatePolice, Reference: "Shinjuku PS consultation", By: "U_LEGAL"})
	})

	h.env.ExecuteWorkflow(workflows.BrokerDemand, seed002Demand())

	st := h.result(t)
	noAnswer.ok(t)
	regulator.ok(t)
	police.ok(t)
	require.ErrorContains(t, again.rejected, "already recorded")
	require.Equal(t, workflows.DemandEscalated, st.State)
	require.Len(t, st.Escalations, 2)
	due := time.Hour + 17*day
	require.Contains(t, h.noticeAt(due), "ESCALATION", "the end of the answer period escalates")
	require.Contains(t, h.noticeAt(due+day), "Reminder: answer to the letter")
	require.Contains(t, h.noticeAt(time.Hour+19*day+time.Minute), "regulator (PPC) and consult the police")
	require.Contains(t, h.noticeAt(time.Hour+20*day+time.Minute), "Reminder: escalation")
}

// A letter that comes back undelivered is mailed again; a refusal needs
// escalation too.
func TestBrokerDemand_ReturnedLetterIsMailedAgain(t *testing.T) {
	h := newBrokerHarness()
	var bogus *outcome
	h.after(time.Hour, func() {
		update(h.env, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "11111111111", By: "U_LEGAL"})
	})
	h.after(5*day, func() {
		bogus = update(h.env, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: "ignored", By: "U_LEGAL"})
		update(h.env, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerReturned, Note: "宛所尋ねあたりません", By: "U_LEGAL"})
	})
	h.after(6*day, func() {
		update(h.env, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "22222222222", By: "U_LEGAL"})
	})
	h.after(8*day, func() {
		update(h.env, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerRefused, By: "U_LEGAL"})
	})
	h.after(9*day, func() {
		update(h.env, workflows.UpdateRecordEscalation, workflows.Escalation{To: workflows.EscalatePolice, By: "U_LEGAL"})
		update(h.env, workflows.UpdateRecordEscalation, workflows.Escalation{To: workflows.EscalateRegulator, By: "U_LEGAL"})
	})

	h.env.ExecuteWorkflow(workflows.BrokerDemand, seed002Demand())

	st := h.result(t)
	require.ErrorContains(t, bogus.rejected, "want complied, refused, no_answer or returned")
	require.Equal(t, workflows.DemandEscalated, st.State)
	require.Len(t, st.Mailings, 2)
	require.Equal(t, []string{workflows.AnswerReturned, workflows.AnswerRefused}, []string{st.Answers[0].Outcome, st.Answers[1].Outcome})
	require.Equal(t, h.start.Add(6*day+17*day).UTC(), st.AnswerDue.UTC(), "the answer period runs from the second mailing")
}

// Every notice of a demand names it (workflow and opaque demand ID) and
// its state, so Slack shows the button of the step it awaits: mailed,
// then, refused, the escalations.
func TestBrokerDemand_NoticesCarryTheAwaitedStep(t *testing.T) {
	h := newBrokerHarness()
	var steps []*outcome
	h.after(time.Hour, func() {
		steps = append(steps, update(h.env, workflows.UpdateRecordMailing, workflows.LetterMailed{TrackingNumber: "1234-5678-9012", By: "U_LEGAL"}))
	})
	h.after(2*time.Hour, func() {
		steps = append(steps, update(h.env, workflows.UpdateRecordBrokerAnswer, workflows.BrokerAnswer{Outcome: workflows.AnswerRefused, By: "U_LEGAL"}))
	})
	h.after(3*time.Hour, func() {
		steps = append(steps, update(h.env, workflows.UpdateRecordEscalation, workflows.Escalation{To: workflows.EscalateRegulator, By: "U_DPO"}))
	})
	h.after(4*time.Hour, func() {
		steps = append(steps, update(h.env, workflows.UpdateRecordEscalation, workflows.Escalation{To: workflows.EscalatePolice, By: "U_DPO"}))
	})
	h.env.ExecuteWorkflow(workflows.BrokerDemand, seed002Demand())
	require.Equal(t, workflows.DemandEscalated, h.result(t).State)
	for _, o := range steps {
		o.ok(t)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	wf := workflows.BrokerDemandWorkflowID("INC-20260626-BRK002", "B003")
	want := map[time.Duration]string{0: string(workflows.DemandAwaitingMailing), 2 * time.Hour: string(workflows.DemandEscalationNeeded)}
	for k, dv := range h.demands {
		require.NotNil(t, dv, "notice %q carries no demand", h.notices[k])
		require.Equal(t, slackui.DemandView{IncidentID: "INC-20260626-BRK002", DemandID: "B003", WorkflowID: wf, State: dv.State}, *dv)
		if st, ok := want[h.at[k]]; ok {
			require.Equal(t, st, dv.State, "notice at %s", h.at[k])
			delete(want, h.at[k])
		}
	}
	require.Empty(t, want, "notices not posted")
}

// A letter that cannot be written (here: a character e内容証明 cannot
// print) mails nothing: the demand says why in Slack and ends in the named
// state letter_failed, so nobody waits for a mailing that cannot happen.
func TestBrokerDemand_ALetterThatCannotBeWrittenEndsAsLetterFailed(t *testing.T) {
	env := newEnv()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.BrokerDemandWorkflowID("INC-20260626-BRK002", "B003")})
	env.OnActivity(letterActs.RenderBrokerLetter, mock.Anything, mock.Anything).Return(activities.BrokerLetter{},
		temporal.NewNonRetryableApplicationError("broker letter: 髙 cannot be printed by e内容証明: write 高", activities.ErrTypeLetterIncomplete, nil))
	var notices []string
	env.OnActivity(a.PostTaskNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.TaskNotice) (activities.SlackMessageRef, error) {
			notices = append(notices, n.Text)
			if n.Demand != nil && n.Demand.State != string(workflows.DemandLetterFailed) {
				t.Errorf("the notice offers the step of %q", n.Demand.State)
			}
			return activities.SlackMessageRef{}, nil
		})
	env.ExecuteWorkflow(workflows.BrokerDemand, seed002Demand())

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.BrokerDemandStatus
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, workflows.DemandLetterFailed, st.State)
	require.True(t, st.State.Ended())
	require.Contains(t, st.Failure, "write 高")
	require.Empty(t, st.Mailings)
	require.Len(t, notices, 1)
	require.Contains(t, notices[0], "nothing was mailed")
	require.Contains(t, notices[0], workflows.UpdateAddBrokerDemand)
}
