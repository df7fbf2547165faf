package slackui_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/breachflow/breachflow/internal/slackui"
)

// buttons returns the action IDs of a message's buttons and their values.
func buttons(blocks []slack.Block) (ids []string, values []slackui.ButtonValue) {
	for _, b := range blocks {
		ab, ok := b.(*slack.ActionBlock)
		if !ok {
			continue
		}
		for _, e := range ab.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok {
				ids = append(ids, btn.ActionID)
				v, _ := slackui.DecodeButtonValue(btn.Value)
				values = append(values, v)
			}
		}
	}
	return ids, values
}

// A broadcast's message offers exactly the buttons its state allows; the
// approve button carries the exact fingerprint shown.
func TestBroadcastBlocksOfferTheButtonsTheStateAllows(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	tests := []struct {
		state string
		want  []string
	}{
		{"preparing", nil},
		{"refused", []string{slackui.ActionStopBroadcast}},
		{"awaiting_approval", []string{slackui.ActionApproveBroadcast, slackui.ActionStopBroadcast}},
		{"sending", []string{slackui.ActionPauseBroadcast, slackui.ActionStopBroadcast}},
		{"paused", []string{slackui.ActionResumeBroadcast, slackui.ActionStopBroadcast}},
		{"stopped", nil},
		{"sent", nil},
		{"done", nil},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			_, blocks := slackui.BroadcastBlocks(slackui.BroadcastView{
				IncidentID: "INC-20261116-SEED04", WorkflowID: "INC-20261116-SEED04/broadcast/1", State: tt.state,
				Fingerprint: fp, ListSHA256: strings.Repeat("cd", 32), Total: 13011, Quorum: 3, Approvers: []string{"U0A"}, TestSentTo: 3,
			})
			ids, values := buttons(blocks)
			if !slices.Equal(ids, tt.want) {
				t.Fatalf("buttons %v, want %v", ids, tt.want)
			}
			for k, id := range ids {
				if values[k].WorkflowID != "INC-20261116-SEED04/broadcast/1" {
					t.Errorf("%s acts on %q", id, values[k].WorkflowID)
				}
				if id == slackui.ActionApproveBroadcast && values[k].Item != fp {
					t.Errorf("approve carries %q, want the full fingerprint", values[k].Item)
				}
			}
		})
	}
}
