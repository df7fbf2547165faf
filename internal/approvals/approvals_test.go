package approvals_test

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/approvals"
)

func mustKey(t *testing.T, id string) (approvals.Key, string) {
	t.Helper()
	file, entry, err := approvals.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := approvals.ParseKey(file)
	if err != nil {
		t.Fatal(err)
	}
	return k, entry
}

// What an approval's signature proves, and what it does not.
func TestVerify(t *testing.T) {
	alice, ea := mustKey(t, "alice")
	bob, eb := mustKey(t, "bob")
	door, ed := mustKey(t, "slack")
	stranger, _ := mustKey(t, "mallory")
	reg, err := approvals.ParseRegistry(ea + "; " + eb + ";" + ed)
	if err != nil {
		t.Fatal(err)
	}
	const bid, fp = "INC-1/broadcast/1", "3f9a1c00aa"
	tests := []struct {
		name                 string
		keyID, identity, sig string
		bid, fp              string
		wantErr              string
	}{
		{"alice approves with her key", "alice", "alice", alice.Sign(bid, fp, "alice"), bid, fp, ""},
		{"Slack, attested by the front door", "slack", "slack:U0PRIVACY", door.Sign(bid, fp, "slack:U0PRIVACY"), bid, fp, ""},
		{"alice's key under bob's name", "alice", "bob", alice.Sign(bid, fp, "bob"), bid, fp, "signs only its own approvals"},
		{"bob's name on alice's signature", "bob", "bob", alice.Sign(bid, fp, "bob"), bid, fp, "does not match"},
		{"another fingerprint (a revision)", "alice", "alice", alice.Sign(bid, "other", "alice"), bid, fp, "does not match"},
		{"another notice", "alice", "alice", alice.Sign("INC-1/broadcast/2", fp, "alice"), bid, fp, "does not match"},
		{"a key not registered", "mallory", "mallory", stranger.Sign(bid, fp, "mallory"), bid, fp, "not in the approver registry"},
		{"the front door signing a CLI name", "slack", "alice", door.Sign(bid, fp, "alice"), bid, fp, "only approvals made in Slack"},
		{"no signature", "alice", "alice", "", bid, fp, "does not match"},
		{"garbage", "alice", "alice", "!!", bid, fp, "does not match"},
		{"bob approves too", "bob", "bob", bob.Sign(bid, fp, "bob"), bid, fp, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reg.Verify(tt.keyID, tt.bid, tt.fp, tt.identity, tt.sig)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseRegistry(t *testing.T) {
	_, ea := mustKey(t, "alice")
	tests := []struct {
		in, wantErr string
		ids         []string
	}{
		{in: "", ids: []string{}},
		{in: ea, ids: []string{"alice"}},
		{in: ea + ";" + strings.Replace(ea, "alice", "bob", 1), ids: []string{"alice", "bob"}},
		{in: ea + ";" + ea, wantErr: "listed twice"},
		{in: "Alice=" + strings.SplitN(ea, "=", 2)[1], wantErr: "lower-case id"},
		{in: "alice=notakey", wantErr: "not an approver public key"},
		{in: "alice", wantErr: "want id=PUBLIC_KEY"},
	}
	for _, tt := range tests {
		r, err := approvals.ParseRegistry(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(r.IDs(), ",") != strings.Join(tt.ids, ",") {
			t.Errorf("%q: %v %v", tt.in, r.IDs(), err)
		}
		if strings.Contains(err2s(err), "=") {
			t.Errorf("an error quotes a key")
		}
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestParseKey(t *testing.T) {
	if _, err := approvals.ParseKey("nonsense"); err == nil {
		t.Error("nonsense parsed")
	}
	if _, _, err := approvals.GenerateKey("Bad ID"); err == nil {
		t.Error("a bad ID made a key")
	}
	k, _ := mustKey(t, "sato.misaki")
	if k.ID != "sato.misaki" {
		t.Errorf("id %q", k.ID)
	}
}
