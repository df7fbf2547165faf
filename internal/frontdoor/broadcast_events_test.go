package frontdoor_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"go.temporal.io/api/serviceerror"

	"github.com/breachflow/breachflow/internal/frontdoor"
	"github.com/breachflow/breachflow/workflows"
)

func TestBroadcastEvents_BouncesAndDropsReachTheirBroadcastOnce(t *testing.T) {
	const wf = "INC-20261116-SEED04/broadcast/1"
	ev := func(event, id, recipient, test string) frontdoor.BroadcastEvent {
		return frontdoor.BroadcastEvent{Event: event, EventID: id, BroadcastID: wf, RecipientID: recipient, Batch: "0", Test: test}
	}
	tests := []struct {
		name   string
		events []frontdoor.BroadcastEvent
		want   []signal
	}{
		{"a bounce", []frontdoor.BroadcastEvent{ev("bounce", "e1", "R00007", "")},
			[]signal{{wf, workflows.SignalBroadcastDelivery, workflows.BroadcastDelivery{RecipientID: "R00007", Kind: workflows.DeliveryBounced, EventID: "e1"}}}},
		{"a drop", []frontdoor.BroadcastEvent{ev("dropped", "e2", "R00008", "")},
			[]signal{{wf, workflows.SignalBroadcastDelivery, workflows.BroadcastDelivery{RecipientID: "R00008", Kind: workflows.DeliveryDropped, EventID: "e2"}}}},
		{"SendGrid's retry of the same event", []frontdoor.BroadcastEvent{ev("bounce", "e1", "R00007", ""), ev("bounce", "e1", "R00007", "")},
			[]signal{{wf, workflows.SignalBroadcastDelivery, workflows.BroadcastDelivery{RecipientID: "R00007", Kind: workflows.DeliveryBounced, EventID: "e1"}}}},
		{"a delivery is not signalled", []frontdoor.BroadcastEvent{ev("delivered", "e3", "R00007", "")}, nil},
		{"the approvers' test send is not counted", []frontdoor.BroadcastEvent{ev("bounce", "e4", "R00007", "1")}, nil},
		{"a recall mail is not a broadcast", []frontdoor.BroadcastEvent{{Event: "bounce", EventID: "e5", RecipientID: "R00007"}}, nil},
		{"a malformed recipient ID", []frontdoor.BroadcastEvent{ev("bounce", "e6", "taro@example.jp", "")}, nil},
		{"a workflow that is no broadcast", []frontdoor.BroadcastEvent{{Event: "bounce", EventID: "e7", BroadcastID: "INC-1/recall/R00007", RecipientID: "R00007"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, _ := newServer(t)
			for _, e := range tt.events {
				if err := s.ApplyBroadcastEvent(context.Background(), e); err != nil {
					t.Fatal(err)
				}
			}
			if got := rec.all(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("signals %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBroadcastEvents_FailuresAreRetriedEndedBroadcastsIgnored(t *testing.T) {
	s, rec, _ := newServer(t)
	e := frontdoor.BroadcastEvent{Event: "bounce", EventID: "e1", BroadcastID: "INC-20261116-SEED04/broadcast/1", RecipientID: "R00007"}

	rec.fail = serviceerror.NewNotFound("workflow completed")
	if err := s.ApplyBroadcastEvent(context.Background(), e); err != nil {
		t.Fatalf("an ended broadcast: %v, want nil", err)
	}

	e.EventID = "e2"
	rec.fail = errors.New("frontend unavailable")
	if err := s.ApplyBroadcastEvent(context.Background(), e); err == nil {
		t.Fatal("a failed signal must fail the webhook so SendGrid retries")
	}
	rec.fail = nil
	if err := s.ApplyBroadcastEvent(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.all()); n != 1 {
		t.Fatalf("%d signals after the retry, want 1", n)
	}
}
