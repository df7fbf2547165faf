package runbooks_test

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/breachflow/breachflow/runbooks"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzLoad from the built-ins and testdata/broken")

// FuzzLoad: whatever the bytes, Load does not panic and every diagnostic
// is positioned and says something. What Load accepts is named by its
// SHA-256, survives being written back out and loaded again unchanged, and
// is accepted by the JSON Schema too.
func FuzzLoad(f *testing.F) {
	sch := compileSchema(f)
	// Small valid runbooks mutate into valid variants more often than the
	// built-ins do, which exercises the round trip below.
	f.Add([]byte("kind: runbook\nid: a\nversion: 1\ntitle: {ja: あ, en: A}\nphases:\n  close: {prevention_report_due: 1d}\n"))
	f.Add([]byte("kind: runbook\nid: r\nversion: 2\ntitle: {ja: 回収, en: Recall}\nphases:\n" +
		"  recall:\n    request: [sms, voice]\n    confirm: [email, phone]\n" +
		"    retry: {sms: {intervals: [1h], max_attempts: 2}, voice: {intervals: [2h, 1d], max_attempts: 3}}\n" +
		"    calling_hours: {start: \"09:00\", end: \"24:00\", time_zone: UTC}\n" +
		"    unreachable: {title: {ja: 不達, en: Unreachable}, owner: support, reminder: 1d}\n" +
		"  daily_report: {at: \"00:00\", time_zone: Asia/Tokyo, audiences: [slack], stop: {min_days: 0, confirmed_ratio: 1, then_on_change_only: false}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kind := runbooks.DetectKind(data)
		snap, diags := runbooks.Load("fuzz.yaml", data)
		for _, d := range diags {
			if d.File != "fuzz.yaml" || d.Line < 1 || d.Col < 1 || strings.TrimSpace(d.Problem) == "" {
				t.Fatalf("malformed diagnostic %#v", d)
			}
		}
		if len(diags) > 0 {
			return
		}
		if kind != runbooks.KindRunbook {
			t.Errorf("Load accepted a file whose DetectKind is %q", kind)
		}
		sum := sha256.Sum256(data)
		if snap.SHA256 != hex.EncodeToString(sum[:]) || snap.Source != "fuzz.yaml" {
			t.Errorf("snapshot sha %s source %q", snap.SHA256, snap.Source)
		}

		out, err := yaml.Marshal(snap.Runbook)
		if err != nil {
			t.Fatalf("marshal an accepted runbook: %v", err)
		}
		again, diags := runbooks.Load("again.yaml", out)
		if len(diags) != 0 {
			t.Fatalf("an accepted runbook, written out, is rejected:\n%v\n%s", diags, out)
		}
		if !reflect.DeepEqual(again.Runbook, snap.Runbook) {
			t.Fatalf("round trip changed the runbook:\n got %#v\nwant %#v", again.Runbook, snap.Runbook)
		}
		inst, err := yamlInstance(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("the loader accepts what the schema rejects: %v\n%s", err, out)
		}
	})
}

// TestFuzzCorpusIsCurrent keeps the committed seed corpus in step with the
// built-ins and the broken runbooks; run with -update-corpus to rewrite it.
func TestFuzzCorpusIsCurrent(t *testing.T) {
	want := map[string][]byte{}
	for _, id := range runbooks.BuiltinIDs() {
		data, err := os.ReadFile(id + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		want["builtin-"+id] = data
	}
	broken, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range broken {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want["broken-"+strings.TrimSuffix(filepath.Base(f), ".yaml")] = data
	}

	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	for name, data := range want {
		entry := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		path := filepath.Join(dir, name)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(entry), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != entry {
			t.Errorf("seed corpus entry %s is missing or stale; run go test ./runbooks -run TestFuzzCorpusIsCurrent -update-corpus", path)
		}
	}
}
