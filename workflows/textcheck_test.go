package workflows

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/runbooks"
)

// updateResult sends an Update to the host and returns where its outcome
// will be: the validator's rejection or the handler's error.
func (h *respHarness) updateResult(name string, arg any) *error {
	outcome := new(error)
	cb := &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { *outcome = err },
		OnComplete: func(_ any, err error) { *outcome = err }}
	h.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, respUpdates.Add(1)), cb, arg)
	return outcome
}

// A changed fact goes into messages to people (the title into notices,
// what leaked and the subject into every deletion request): it passes the
// same leak check as at the declaration, in the workflow, whoever sends
// the change. Nothing changes when it fails, and the refusal never quotes
// what it found.
func TestFactsChange_TypedFactsQuotingPeopleAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Facts)
		refused string // "" when the change applies
	}{
		{"a listed name in the title", func(f *Facts) { f.Title = "鈴木健太様ほかへの会員情報の誤送信" }, "title 1:1 person-name"},
		{"a listed kana reading in what leaked", func(f *Facts) { f.WhatLeaked = "氏名（サトウ ミサキ 等）、住所" }, "what leaked 1:4 person-kana"},
		{"a disguised listed address in the subject", func(f *Facts) { f.SentSubject = "yoko.takahashi★example.jp 様へのご案内" }, "sent subject 1:1 person-email"},
		{"a listed postal address broken over two lines", func(f *Facts) { f.WhatLeaked = "住所（北海道札幌市中央区\n北1条西2丁目3-4）" }, "person-address"},
		{"anyone's phone number", func(f *Facts) { f.WhatLeaked = "折り返し先 03-1234-5678" }, "what leaked"},
		{"a clean title", func(f *Facts) { f.Title = "会員情報ファイルの誤送信（第2報）" }, ""},
		{"counts only", func(f *Facts) { f.Persons = 60 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRespHarness(t, nil)
			in := respInput(t, "JP-APPI")
			next := in.Facts
			tt.change(&next)
			var outcome *error
			var after hostView
			h.at(day(1, 12, 0), func() {
				outcome = h.updateResult(UpdateFacts, FactsChange{Facts: next, Reason: "第2報", By: "U0LEAD"})
			})
			h.at(day(1, 12, 5), func() {
				v, err := h.env.QueryWorkflow(hostViews)
				require.NoError(t, err)
				require.NoError(t, v.Get(&after))
			})
			h.close(t, day(2, 12, 0))
			h.env.ExecuteWorkflow(hostIncident, hostInput{In: in})
			if tt.refused == "" {
				require.NoError(t, *outcome)
				require.Equal(t, next.Title, after.Facts.Title)
				require.Equal(t, next.Persons, after.Facts.Persons)
				return
			}
			require.Error(t, *outcome, "the change must be refused")
			msg := (*outcome).Error()
			require.Contains(t, msg, tt.refused)
			require.Contains(t, msg, "Nothing changed")
			for _, leaked := range []string{"鈴木", "健太", "サトウ", "misaki", "yoko", "takahashi", "札幌", "1234"} {
				require.NotContains(t, msg, leaked, "the refusal quotes what it found")
			}
			for _, f := range []struct{ got, want string }{{after.Facts.Title, in.Facts.Title}, {after.Facts.WhatLeaked, in.Facts.WhatLeaked}, {after.Facts.SentSubject, in.Facts.SentSubject}} {
				require.Equal(t, f.want, f.got, "a refused change leaves the facts as they were")
			}
			for _, e := range h.record.Record.Timeline {
				require.NotEqual(t, record.KindFactsChanged, e.Kind, "a refused change is not recorded as made")
			}
		})
	}
}

// The staff daily report passes the leak check before it goes to the
// channel and by e-mail: a line that quotes someone on the incident's
// lists (here a runbook's task title naming a person) is withheld, the
// rest goes, and the record says how many lines were withheld.
func TestDailyReport_ALineQuotingAListedPersonIsWithheld(t *testing.T) {
	h := newRespHarness(t, nil)
	in := respInput(t, "JP-APPI")
	snap := in.Runbook
	tasks := snap.Runbook.Phases.Contain.Tasks
	tasks[0].Title = runbooks.Localized{Ja: "鈴木 健太様へ個別にお電話", En: "Call 鈴木 健太 in person"}
	snap.Runbook.Phases.Contain.Tasks = tasks
	in.Runbook = snap
	h.close(t, day(1, 19, 0))
	h.env.ExecuteWorkflow(hostIncident, hostInput{In: in})
	h.done(t)

	for _, to := range []string{"slack", "management"} {
		got := h.messages(to, "第1日")
		require.Len(t, got, 1, to)
		text := got[0].text
		require.Contains(t, text, withheldLine, to)
		for _, leaked := range []string{"鈴木", "健太"} {
			require.NotContains(t, text, leaked, "%s: the report quotes a listed person", to)
		}
		require.Contains(t, text, "【日次報告】INC-20261112-SEED00 会員情報ファイルの誤送信 — 第1日", "%s: the rest of the report goes", to)
	}
	var outcome string
	for _, e := range h.record.Record.Timeline {
		if e.Kind == record.KindDailyReport {
			outcome = e.Outcome
		}
	}
	require.True(t, strings.Contains(outcome, "lines withheld by the leak check"), "record: %q", outcome)
}
