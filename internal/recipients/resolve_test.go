package recipients_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/recipients"
)

func TestStoreResolve(t *testing.T) {
	ctx := context.Background()
	store := recipients.Store{Dir: t.TempDir()}
	ref, _, err := store.Put(ctx, strings.NewReader("name,email\nA,a@example.jp\nB,b@example.jp\nC,c@example.jp\n"), recipients.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{ref.RefString(), ref.SHA256, "  SHA256:" + strings.ToUpper(ref.SHA256) + " ", ref.Location} {
		got, err := store.Resolve(ctx, in)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", in, err)
		}
		if got != ref {
			t.Fatalf("Resolve(%q) = %+v, want %+v", in, got, ref)
		}
	}
	for _, bad := range []string{"", "sha256:xyz", "../../etc/passwd", strings.Repeat("0", 64)} {
		if _, err := store.Resolve(ctx, bad); err == nil {
			t.Errorf("Resolve(%q) accepted", bad)
		}
	}
	// A list changed on disk is refused.
	p := filepath.Join(store.Dir, ref.Location)
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, append(b, []byte("{}\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Resolve(ctx, ref.RefString()); !errors.Is(err, recipients.ErrFingerprint) {
		t.Fatalf("tampered list: err = %v, want ErrFingerprint", err)
	}
}
