package slackui

import (
	"strings"

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
	blocks = append(blocks, slack.NewSectionBlock(md, nil, nil))
	if btn := demandStep(v, false); btn != nil {
		blocks = append(blocks, slack.NewActionBlock("demand_"+v.DemandID, btn))
	}
	return text, blocks
}

// demandStep is the button of the step a demand's state awaits, nil when
// none; named, the label says which demand (the incident message lists
// several).
func demandStep(v DemandView, named bool) *slack.ButtonBlockElement {
	if v.DemandID == "" || v.WorkflowID == "" {
		return nil
	}
	pt := func(s string) *slack.TextBlockObject {
		if named {
			s = v.DemandID + ": " + s
		}
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	val := ButtonValue{WorkflowID: v.WorkflowID, Item: v.DemandID}.Encode()
	switch v.State {
	case "awaiting_mailing":
		if named {
			return slack.NewButtonBlockElement(ActionRecordMailing, val, pt("Mailed…"))
		}
		return slack.NewButtonBlockElement(ActionRecordMailing, val, pt("Mailed: enter the tracking number…")).WithStyle(slack.StylePrimary)
	case "awaiting_answer":
		return slack.NewButtonBlockElement(ActionBrokerAnswer, val, pt("Record the answer…"))
	case "escalation_pending":
		return slack.NewButtonBlockElement(ActionRecordEscalation, val, pt("Record an escalation…"))
	}
	return nil
}

// demandID is the demand ID of a BrokerDemand workflow ID
// ("INC-…/broker/B001" -> "B001"); "" for another workflow.
func demandID(workflowID string) string {
	_, id, ok := strings.Cut(workflowID, "/broker/")
	if !ok || strings.Contains(id, "/") {
		return ""
	}
	return id
}
