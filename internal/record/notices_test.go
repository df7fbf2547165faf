package record_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachflow/breachflow/internal/record"
)

// The record's JSON is a stable export format: a record written before
// broadcasts and broker demands existed (testdata/record-v1.json) reads
// back and writes out byte for byte, in JSON and in Markdown, and a record
// without notices gains no field.
func TestRecord_FormatOneStaysCompatible(t *testing.T) {
	golden, err := os.ReadFile("testdata/record-v1.json")
	require.NoError(t, err)
	var back record.Record
	require.NoError(t, json.Unmarshal(golden, &back))
	again, err := back.JSON()
	require.NoError(t, err)
	require.Equal(t, string(golden), string(again))

	r := sample()
	r.MergeRecall()
	js, err := r.JSON()
	require.NoError(t, err)
	require.Equal(t, string(golden), string(js), "a record without notices is written as before")
	md, err := os.ReadFile("testdata/record-v1.md")
	require.NoError(t, err)
	require.Equal(t, string(md), r.Markdown())
	require.Equal(t, 1, record.Version)
}

// withNotices is seed 004's notice (three approvals, one voided by a
// revision, a stop and a resume, a substitute measure) and seed 002's
// letter (mailed, answered "complied").
func withNotices() record.Record {
	r := sample()
	fp1, fp2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	d := record.BroadcastDetails{State: "done", Subject: "お詫び", Fingerprint: fp2, Quorum: 3,
		Approvals: []record.Approval{{Fingerprint: fp2, By: "U0DPO", At: at(2, 11)}, {Fingerprint: fp2, By: "U0LEGAL", At: at(2, 12)}, {Fingerprint: fp2, By: "U0MGMT", At: at(2, 13)}},
		Voided:    []record.Approval{{Fingerprint: fp1, By: "U0DPO", At: at(2, 9), VoidedAt: at(2, 10), VoidedBy: "U0LEAD"}},
		TestSends: []record.TestSend{{Fingerprint: fp2, At: at(2, 10), Approvers: 3, Roles: []string{"legal"}, MessageID: "test-2"}},
		Revisions: []record.Revision{{By: "U0LEAD", Reason: "wording", At: at(2, 10), From: fp1, To: fp2}},
		Controls:  []record.Control{{Action: "pause", By: "U0OPS", Reason: "check", At: at(2, 14), Offset: 500}},
		Progress:  record.BroadcastProgress{Total: 13011, Done: 13011, Sent: 13000, NoAddress: 11, Bounced: 4},
		Substitute: &record.SubstituteTask{OpenedAt: at(5, 14), Unreachable: 15,
			Done: &record.SubstituteMeasure{By: "U0DPO", PublishedURL: "https://example.jp/notice", InquiryDesk: "0120-000-000 weekdays", At: at(6, 10)}},
		SentAt: at(2, 15),
	}
	bc := record.Broadcast{N: 1, WorkflowID: "INC-20261112-SEED00/broadcast/1", Purpose: "notice", StartedAt: at(2, 8), StartedBy: "U0LEAD", List: "affected", State: "sending"}
	bc.SetDetails(d)
	dm := record.BrokerDemand{DemandID: "B001", WorkflowID: "INC-20261112-SEED00/broker/B001", StartedAt: at(3, 9), StartedBy: "U0LEGAL", State: "awaiting_mailing"}
	dm.SetDetails(record.BrokerDemandDetails{State: "complied", Letter: record.Letter{Path: "/l/B001.pdf", SHA256: "0123456789abcdef0123"},
		Mailings: []record.Mailing{{TrackingNumber: "1234-5678-9012", MailedAt: at(3, 15), By: "U0LEGAL"}},
		Answers:  []record.Answer{{Outcome: "complied", ReceivedAt: at(15, 10), Note: "deleted", By: "U0LEGAL"}}})
	r.Broadcasts = []record.Broadcast{bc, {N: 2, WorkflowID: "INC-20261112-SEED00/broadcast/2", Purpose: "daily_report", Day: 3, StartedAt: at(3, 18),
		StartedBy: record.System, List: "notice 1", State: "not_started", StartError: "timed out"}}
	r.BrokerDemands = []record.BrokerDemand{dm}
	return r
}

func TestMergeNotices_AddsApprovalsSendsAndLettersToTheTimeline(t *testing.T) {
	r := withNotices()
	r.MergeNotices()
	type row struct {
		kind           record.Kind
		actor, subject string
		summary        string
	}
	var got []row
	for _, e := range r.Timeline {
		if strings.HasPrefix(string(e.Kind), "broadcast") || strings.HasPrefix(string(e.Kind), "letter") || strings.HasPrefix(string(e.Kind), "broker") {
			got = append(got, row{e.Kind, e.Actor, e.Subject, e.Summary})
		}
	}
	b1 := "INC-20261112-SEED00/broadcast/1"
	require.Equal(t, []row{
		{record.KindBroadcastApproval, "U0DPO", b1, "approved notice aaaaaaaaaaaaaaaa (voided later by U0LEAD)"},
		{record.KindBroadcastTestSend, record.System, b1, "test send of notice bbbbbbbbbbbbbbbb to 3 approvers"},
		{record.KindBroadcastRevision, "U0LEAD", b1, "revised: aaaaaaaaaaaaaaaa → bbbbbbbbbbbbbbbb; approvals voided"},
		{record.KindBroadcastApproval, "U0DPO", b1, "approved notice bbbbbbbbbbbbbbbb"},
		{record.KindBroadcastApproval, "U0LEGAL", b1, "approved notice bbbbbbbbbbbbbbbb"},
		{record.KindBroadcastApproval, "U0MGMT", b1, "approved notice bbbbbbbbbbbbbbbb"},
		{record.KindBroadcastControl, "U0OPS", b1, "pause after 500 of 13011 people"},
		{record.KindBroadcastSent, record.System, b1, "sent 13000 of 13011 (no address 11, invalid 0, bounced 4, dropped 0)"},
		{record.KindLetterMailed, "U0LEGAL", "B001", "letter sent by content-certified mail with proof of delivery"},
		{record.KindBroadcastSubstitute, "U0DPO", b1, "substitute measure for 15 people: published, inquiry desk 0120-000-000 weekdays"},
		{record.KindBrokerAnswer, "U0LEGAL", "B001", "answer: complied"},
	}, got)
}

func TestRecord_NoticesInJSONAndMarkdown(t *testing.T) {
	r := withNotices()
	r.MergeNotices()
	js, err := r.JSON()
	require.NoError(t, err)
	var back record.Record
	require.NoError(t, json.Unmarshal(js, &back))
	require.Len(t, back.Broadcasts[0].Details.Approvals, 3)
	require.True(t, r.Broadcasts[0].Details.Approvals[2].At.Equal(back.Broadcasts[0].Details.Approvals[2].At))
	require.Equal(t, "U0MGMT", back.Broadcasts[0].Details.Approvals[2].By)
	require.Equal(t, "done", back.Broadcasts[0].State, "the state is the workflow's own at export")
	require.Equal(t, "1234-5678-9012", back.BrokerDemands[0].Details.Mailings[0].TrackingNumber)

	md := r.Markdown()
	for _, want := range []string{
		"## Notices to everyone affected",
		"| INC-20261112-SEED00/broadcast/1 | notice | 2026-11-13 08:00 JST | U0LEAD | affected | done | 13000 / 13011 | U0DPO, U0LEGAL, U0MGMT (bbbbbbbbbbbbbbbb) | 2026-11-13 15:00 JST |",
		"| INC-20261112-SEED00/broadcast/2 | daily_report day 3 | 2026-11-14 18:00 JST | breachflow | notice 1 | not started: timed out | 0 / 0 | — | — |",
		"- **INC-20261112-SEED00/broadcast/1**: 15 people could not be reached; substitute measure recorded 2026-11-17 10:00 JST by U0DPO: published at https://example.jp/notice, inquiry desk 0120-000-000 weekdays.",
		"## Letters to list brokers",
		"| B001 | 2026-11-14 09:00 JST | U0LEGAL | complied | 0123456789ab | 2026-11-14 15:00 JST (1234-5678-9012) by U0LEGAL | complied 2026-11-26 10:00 JST by U0LEGAL | — |",
	} {
		require.Contains(t, md, want)
	}
	require.Less(t, strings.Index(md, "## Letters to list brokers"), strings.Index(md, "## Timeline"))
}

// A Broadcast's status query answer decodes into BroadcastDetails (the
// Recorder reads it that way): the fields the record keeps have the JSON
// names of workflows.BroadcastStatus, checked there (package workflows).
func TestBroadcastDetails_DecodesAStatus(t *testing.T) {
	var d record.BroadcastDetails
	require.NoError(t, json.Unmarshal([]byte(`{"broadcast_id":"x","state":"sent","list":{"location":"k.jsonl","sha256":"s","count":3},
		"approvals":[{"fingerprint":"f","by":"U1","at":"2026-11-12T10:00:00Z"}],"progress":{"total":3,"sent":3},"sent_at":"2026-11-12T11:00:00Z"}`), &d))
	require.Equal(t, "sent", d.State)
	require.Equal(t, 3, d.List.Count)
	require.Equal(t, time.Date(2026, 11, 12, 11, 0, 0, 0, time.UTC), d.SentAt)
	js, err := json.Marshal(d)
	require.NoError(t, err)
	require.NotContains(t, string(js), "k.jsonl", "the list's storage key is not kept")
}
