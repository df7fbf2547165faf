package slackbot

import (
	"slices"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/runbooks"
)

func TestCatalogOffersBuiltinsAndTheOrganisationsOwnRunbooks(t *testing.T) {
	own, err := runbooks.Builtin("missend")
	if err != nil {
		t.Fatal(err)
	}
	own.Runbook.ID, own.Source = "our-missend", "runbooks/our-missend.yaml"
	c, err := newCatalog([]runbooks.Snapshot{own})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range append(runbooks.BuiltinIDs(), "our-missend") {
		if _, ok := c.snaps[id]; !ok {
			t.Errorf("%s not offered", id)
		}
	}
	if !slices.IsSorted(c.ids) || !slices.Contains(c.recall, "our-missend") {
		t.Errorf("ids %v, recall %v", c.ids, c.recall)
	}

	clash := own
	clash.Runbook.ID = "missend"
	if _, err := newCatalog([]runbooks.Snapshot{clash}); err == nil || !strings.Contains(err.Error(), "own id") {
		t.Fatalf("a runbook reusing a built-in's ID: err = %v", err)
	}
}
