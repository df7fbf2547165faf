package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/workflows"
)

// replayKeys decrypts the recorded histories: they were recorded by the
// e2e suite, which encrypts with this public test key (internal/e2e).
const replayKeys = "e2e:q0zuxAJpUUzEA3ptcJ7YG8fOk2Jb8c6Lx8BPC9tPSJE="

// TestReplayRecordedHistories replays completed histories of the main
// workflows against the current code: a change that would break running
// incidents (a different command sequence for the same history) fails
// here. Re-record deliberately with internal/e2e's TestRecordHistories, and
// version the change (workflow.GetVersion or Worker Versioning) when
// incidents may be running; keep a history from before a versioned change
// (named *-before-CHANGE.json) so that its old branch stays replayed.
func TestReplayRecordedHistories(t *testing.T) {
	keys, err := codec.LoadKeys(func(k string) string {
		if k == codec.EnvKeys {
			return replayKeys
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := codec.DataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("recorded histories: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
			if err != nil {
				t.Fatal(err)
			}
			workflows.Register(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
