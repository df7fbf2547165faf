package record_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/record"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func at(day, hour int) time.Time { return time.Date(2026, 11, 11+day, hour, 0, 0, 0, tokyo) }

func sample() record.Record {
	return record.Record{
		Version: record.Version, IncidentID: "INC-20261112-SEED00", Title: "誤送信 | file", Runbook: "missend", RunbookSHA256: "0123456789abcdef",
		DeclaredAt: at(1, 10), DeclaredBy: "U0LEAD", ClosedAt: at(60, 10), ClosedBy: "U0LEAD", CloseReason: "all done", ExportedAt: at(60, 10),
		TimeZone: "Asia/Tokyo",
		Facts:    record.Facts{Title: "誤送信", WhatLeaked: "口座情報", Persons: 53, AwareAt: at(1, 9), SensitiveOrFinancial: true, Jurisdictions: []string{"JP-APPI"}},
		Obligations: []record.Obligation{
			{ID: "JP-APPI/final", Title: "確報", Audience: "PPC", State: "filed", Deadline: at(30, 23),
				Filing: &record.Filing{FiledAt: at(31, 12), Reference: "PPC-2", Channel: "PPC web form", By: "U0DPO", Late: true, LatenessSeconds: 46800}},
			{ID: "BR/review", Title: "legal review", Audience: "counsel", State: "not_required",
				NotRequired: &record.NotRequired{ProposedBy: "U0LEGAL", Rationale: "no Brazilian residents", ApprovedBy: "U0DPO", ProposedAt: at(2, 10), ApprovedAt: at(2, 11)}},
		},
		Tasks:      []record.Task{{ID: "stop-sending", Title: "送信を止める", TitleEn: "Stop", Owner: "incident-lead", Due: at(1, 12), Done: true, DoneAt: at(1, 11), DoneBy: "U0OPS", Note: "line1\nline2"}},
		Prevention: &record.Prevention{Due: at(61, 10), SubmittedAt: at(55, 10), By: "U0DPO", Reference: "DOC-7", RecordedAt: at(55, 11)},
		Timeline: []record.Entry{
			{At: at(1, 10), Kind: record.KindDeclared, Actor: "U0LEAD", Summary: "declared"},
			{At: at(1, 11), Kind: record.KindTaskCompleted, Actor: "U0OPS", Subject: "stop-sending", Summary: "done"},
		},
		Recall: &record.Recall{
			Counts: record.Counts{Total: 2, Requested: 2, PhoneConfirmed: 1, Confirmed: 1, ClosedByOperator: 1},
			Recipients: []record.Recipient{
				{RecipientID: "R00001", State: "confirmed",
					Attempts:      []record.Attempt{{Channel: "voice", N: 1, At: at(1, 10).Add(30 * time.Minute), MessageID: "CA1", Outcome: "completed"}},
					Confirmations: []record.Confirmation{{Channel: "phone", At: at(1, 10).Add(31 * time.Minute), Evidence: record.Evidence{Source: "voice", CallSID: "CA1"}}}},
				{RecipientID: "R00002", State: "closed_by_operator", ClosedBy: "U0OPS", Reason: "confirmed by post",
					Confirmations: []record.Confirmation{{Channel: "phone", At: at(3, 15), Evidence: record.Evidence{Source: "operator", Operator: "U0OPS", Note: "called back"}}},
					Events:        []record.Event{{Channel: "email", Kind: "bounced", Evidence: record.Evidence{Source: "sendgrid", EventID: "ev9", ReceivedAt: at(1, 10).Add(40 * time.Minute)}}, {Channel: "email", Kind: "delivered"}}},
			},
		},
	}
}

func TestMergeRecall_AddsRequestsConfirmationsAndEventsInTimeOrder(t *testing.T) {
	r := sample()
	r.MergeRecall()
	type row struct {
		kind             record.Kind
		actor, subject   string
		summary, details string
	}
	var got []row
	for _, e := range r.Timeline {
		got = append(got, row{e.Kind, e.Actor, e.Subject, e.Summary, e.Reference + e.Reason})
	}
	require.Equal(t, []row{
		{record.KindDeclared, "U0LEAD", "", "declared", ""},
		{record.KindRecallRequest, record.System, "R00001", "voice deletion request #1", "CA1"},
		{record.KindRecallConfirmation, "recipient", "R00001", "deletion confirmed by phone (voice)", "CA1"},
		{record.KindRecallDelivery, "sendgrid", "R00002", "email bounced", "ev9"},
		{record.KindTaskCompleted, "U0OPS", "stop-sending", "done", ""},
		{record.KindRecallConfirmation, "U0OPS", "R00002", "deletion confirmed by phone (operator)", "called back"},
	}, got, "an event without a time stays out of the timeline")
}

func TestRecord_JSONRoundTrip(t *testing.T) {
	r := sample()
	b, err := r.JSON()
	require.NoError(t, err)
	var back record.Record
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, r.IncidentID, back.IncidentID)
	require.True(t, r.Obligations[0].Filing.FiledAt.Equal(back.Obligations[0].Filing.FiledAt))
	require.Equal(t, r.Obligations[1].NotRequired.ApprovedBy, back.Obligations[1].NotRequired.ApprovedBy)
	require.Len(t, back.Recall.Recipients, 2)
	require.Contains(t, string(b), `"lateness_seconds": 46800`)
}

func TestRecord_Markdown(t *testing.T) {
	r := sample()
	r.MergeRecall()
	md := r.Markdown()
	for _, want := range []string{
		"# Incident record INC-20261112-SEED00 — 誤送信 \\| file\n",
		"| Declared | 2026-11-12 10:00 JST by U0LEAD |",
		"| Closed | 2027-01-10 10:00 JST by U0LEAD: all done |",
		"| JP-APPI/final 確報 | PPC | 2026-12-11 23:00 JST | filed | 2026-12-12 12:00 JST via PPC web form | PPC-2 | U0DPO | yes, by 13h0m0s |",
		"- **BR/review not required**: proposed by U0LEGAL on 2026-11-13 10:00 JST (no Brazilian residents); approved by U0DPO on 2026-11-13 11:00 JST.",
		"| 送信を止める (Stop) | incident-lead | 2026-11-12 12:00 JST | 2026-11-12 11:00 JST | U0OPS | line1<br>line2 |",
		"Due 2027-01-11 10:00 JST; submitted 2027-01-05 10:00 JST by U0DPO, reference DOC-7.",
		"| 2 | 2 | 1 | 0 | 1 | 0 | 1 | 0 |",
		"| R00002 | closed_by_operator | — | phone 2026-11-14 15:00 JST (operator U0OPS) | U0OPS | confirmed by post |",
		"| 2026-11-12 11:00 JST | U0OPS | task_completed: done | stop-sending | — |",
	} {
		require.Contains(t, md, want)
	}
	require.Equal(t, 1, strings.Count(md, "## Timeline"))
}

func TestRecord_MarkdownWithoutRecallOrObligations(t *testing.T) {
	r := record.Record{IncidentID: "INC-X", TimeZone: "Nowhere/Zone"}
	md := r.Markdown()
	require.Contains(t, md, "None were owed.")
	require.Contains(t, md, "Not part of this runbook.")
	require.NotContains(t, md, "## Recall")
}
