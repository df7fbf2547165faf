package slackui

import (
	"github.com/slack-go/slack"
)

// DemandView is a broker demand as its task notices show it: the opaque
// demand ID and its state, never the company's name.
type DemandView struct {
	IncidentID string `json:"incident_id"`
	DemandID   string `json:"demand_id"` // B001
	WorkflowID string `json:"workflow_id"`
	State      string `json:"state"` // the workflows.BrokerDemandState
}

// DemandNoticeBlocks renders one of a broker demand's task notices (the
// mailing task, a reminder, the escalation) with the button of the step
// its state awaits: "Mailed…" (awaiting_mailing), "Record the answer…"
// (awaiting_answer), "Record an escalation…" (escalation_pending).
func DemandNoticeBlocks(text string, v DemandView) (fallback string, blocks []slack.Block) {
	md := slack.NewTextBlockObject(slack.MarkdownType, truncate(text, 3000), false, false)
	pt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	blocks = append(blocks, slack.NewSectionBlock(md, nil, nil))
	val := ButtonValue{WorkflowID: v.WorkflowID, Item: v.DemandID}.Encode()
	var btn *slack.ButtonBlockElement
	switch v.State {
	case "awaiting_mailing":
		btn = slack.NewButtonBlockElement(ActionRecordMailing, val, pt("Mailed: enter the tracking number…")).WithStyle(slack.StylePrimary)
	case "awaiting_answer":
		btn = slack.NewButtonBlockElement(ActionBrokerAnswer, val, pt("Record the answer…"))
	case "escalation_pending":
		btn = slack.NewButtonBlockElement(ActionRecordEscalation, val, pt("Record an escalation…"))
	}
	if btn != nil {
		blocks = append(blocks, slack.NewActionBlock("demand_"+v.DemandID, btn))
	}
	return text, blocks
}
