package slackui

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// BroadcastView is what a broadcast's message shows: its state, what is
// approved (the fingerprint, the list's size and hash), who approved,
// and the progress. Counts and opaque IDs only.
type BroadcastView struct {
	IncidentID  string
	WorkflowID  string
	State       string // the workflows.BroadcastState
	Reason      string // why refused or paused, if so
	Subject     string // the notice's subject (scanned: no personal data)
	Fingerprint string
	ListSHA256  string
	Total       int
	Quorum      int
	// Approvers are the Slack user IDs who approved the current fingerprint.
	Approvers []string
	// TestSentTo is how many approvers got the test send.
	TestSentTo  int
	Sent        int
	Undelivered int // no address, invalid, bounced or dropped
	// Counts says how the sends stand, each outcome apart ("accepted
	// 7/7, bounced 2").
	Counts string
}

// BroadcastBlocks renders a broadcast's message, updated in place, with
// the buttons its state allows: approve (the exact fingerprint), pause,
// resume, stop.
func BroadcastBlocks(v BroadcastView) (fallback string, blocks []slack.Block) {
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	pt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	fallback = fmt.Sprintf("%s notice to %d people — %s", v.IncidentID, v.Total, v.State)
	blocks = append(blocks,
		slack.NewHeaderBlock(pt(truncate(v.IncidentID+" — notice to everyone affected", 150))),
		slack.NewSectionBlock(md(fmt.Sprintf("*State:* %s%s\n*Subject:* %s", v.State, reason(v.Reason), truncate(v.Subject, 200))), nil, nil),
	)
	if v.Fingerprint != "" {
		blocks = append(blocks, slack.NewSectionBlock(md(fmt.Sprintf(
			"*Fingerprint:* `%s`\n*List:* %d recipients, SHA-256 `%s`\n*Test send:* to %d approvers, with this content and list bound\n*Approvals:* %d of %d%s",
			short(v.Fingerprint, 16), v.Total, short(v.ListSHA256, 12), v.TestSentTo, len(v.Approvers), v.Quorum, who(v.Approvers))), nil, nil))
	}
	if v.State == "sending" || v.State == "paused" || v.Sent > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(fmt.Sprintf("*Recipients:* %s", v.Counts)), nil, nil))
	}
	var buttons []slack.BlockElement
	val := func(item string) string { return ButtonValue{WorkflowID: v.WorkflowID, Item: item}.Encode() }
	switch v.State {
	case "awaiting_approval":
		buttons = append(buttons, slack.NewButtonBlockElement(ActionApproveBroadcast, val(v.Fingerprint), pt("Approve this exact notice")).WithStyle(slack.StylePrimary))
	case "sending":
		buttons = append(buttons, slack.NewButtonBlockElement(ActionPauseBroadcast, val(""), pt("Pause")))
	case "paused":
		buttons = append(buttons, slack.NewButtonBlockElement(ActionResumeBroadcast, val(""), pt("Resume")).WithStyle(slack.StylePrimary))
	}
	switch v.State {
	case "awaiting_approval", "sending", "paused", "refused":
		buttons = append(buttons, slack.NewButtonBlockElement(ActionStopBroadcast, val(""), pt("Stop")).WithStyle(slack.StyleDanger))
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("broadcast", buttons...))
	}
	return fallback, blocks
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return " — " + truncate(r, 300)
}

func who(users []string) string {
	if len(users) == 0 {
		return ""
	}
	s := make([]string, len(users))
	for i, u := range users {
		s[i] = "<@" + u + ">"
	}
	return " (" + strings.Join(s, ", ") + ")"
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
