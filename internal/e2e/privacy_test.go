//go:build integration

package e2e_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/workflows"
)

// piiOf lists every way a list's personal data could appear in text: each
// accepted recipient's e-mail address, phone number (E.164, national with
// and without hyphens) and name.
func piiOf(t *testing.T, s *stack, ref recipients.ListRef) []string {
	t.Helper()
	rs, err := s.store.Page(context.Background(), ref, 0, ref.Count)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Email, r.Name)
		if p := r.Phone; strings.HasPrefix(p, "+81") {
			national := "0" + p[3:]
			out = append(out, p, national, national[:3]+"-"+national[3:7]+"-"+national[7:])
		}
	}
	return out
}

// The acceptance test of issue #8: a full demo-sized incident (seed 000, 53
// wrong recipients, the demo scenario) with every payload encrypted; then
// every workflow history of the incident, read as JSON, contains none of
// the recipients' addresses, numbers or names; decoded with the codec key
// they are there; and no log line of the run carries them.
func TestPrivacy_HistoriesAreEncryptedAndLogsCarryNoPersonalData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newStack(t, stackOptions{builtinScenario: "demo"})
	snap, diags := runbooks.LoadFile("../../runbooks/examples/missend-demo.yaml")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	list, err := os.ReadFile("../../runbooks/examples/missend-53.csv")
	if err != nil {
		t.Fatal(err)
	}
	id := s.declare(ctx, incidents.Declaration{Runbook: snap, Facts: workflows.Facts{Title: "privacy e2e"}}, string(list))
	st := s.waitStatus(ctx, id, "most recipients confirmed by phone and e-mail", func(st workflows.IncidentStatus) bool {
		return st.Recall.PhoneConfirmed >= 50 && st.Recall.EmailConfirmed >= 49
	})
	t.Logf("recall: %+v", st.Recall)
	ref := s.lists[id]
	pii := piiOf(t, s, ref)
	if len(pii) < 53*3 {
		t.Fatalf("only %d personal strings from the list", len(pii))
	}

	// Every workflow of the incident: the Incident and its 53 Recalls.
	ids := []string{id}
	resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: `BreachIncidentID = "` + id + `" AND WorkflowType = "Recall"`, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range resp.Executions {
		ids = append(ids, e.Execution.WorkflowId)
	}
	if len(ids) != 54 {
		t.Fatalf("found %d workflows, want the incident and 53 recalls", len(ids))
	}
	c, err := codec.NewCodec(s.keys)
	if err != nil {
		t.Fatal(err)
	}
	var raw, decoded strings.Builder
	for _, wid := range ids {
		it := s.client.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			b, err := protojson.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			// The JSON shows payload bytes in base64: look at those bytes
			// as stored too, or plaintext would go unnoticed.
			raw.Write(b)
			raw.WriteByte('\n')
			forEachPayload(ev.ProtoReflect(), func(p *commonpb.Payload) {
				raw.Write(p.GetData())
				raw.WriteByte('\n')
				out, err := c.Decode([]*commonpb.Payload{p})
				if err != nil {
					t.Fatalf("decode a payload of %s: %v", wid, err)
				}
				decoded.Write(out[0].GetData())
				decoded.WriteByte('\n')
			})
		}
	}
	history := raw.String()
	for _, p := range pii {
		if p != "" && strings.Contains(history, p) {
			t.Errorf("history contains personal data in plaintext: %q", p)
		}
	}
	plain := decoded.String()
	found := 0
	for _, p := range pii {
		if p != "" && strings.Contains(plain, p) {
			found++
		}
	}
	if found < 53 {
		t.Errorf("decoded with the codec key, only %d personal strings are in the histories; want every recipient's", found)
	}

	// Logs: what the processes wrote, and what the code produced before
	// redaction (discipline at call sites).
	for name, logs := range map[string]string{"written": s.logs.String(), "raw": s.rawLogs.String()} {
		if len(logs) < 1000 {
			t.Fatalf("%s logs suspiciously short: %d bytes", name, len(logs))
		}
		for _, p := range pii {
			if p != "" && strings.Contains(logs, p) {
				t.Errorf("%s logs contain personal data: %q", name, p)
			}
		}
		if m := regexp.MustCompile(`[a-z0-9._-]+@example\.jp`).FindString(logs); m != "" {
			t.Errorf("%s logs contain an address: %q", name, m)
		}
	}
}

// forEachPayload calls fn for every Payload message inside m.
func forEachPayload(m protoreflect.Message, fn func(*commonpb.Payload)) {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		fn(p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				forEachPayload(l.Get(i).Message(), fn)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				forEachPayload(mv.Message(), fn)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			forEachPayload(v.Message(), fn)
		}
		return true
	})
}
