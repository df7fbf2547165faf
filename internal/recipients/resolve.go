package recipients

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// RefString is how a stored list is named to people (Slack's declare form,
// `starter recipients put`): "sha256:" and the fingerprint.
func (r ListRef) RefString() string { return "sha256:" + r.SHA256 }

// Resolve turns a reference written by a person ("sha256:<hex>", the bare
// hex, or the store file name) into a ListRef, after checking that the
// stored list exists and still matches its fingerprint.
func (s Store) Resolve(ctx context.Context, ref string) (ListRef, error) {
	h := strings.ToLower(strings.TrimSpace(ref))
	h = strings.TrimPrefix(h, "sha256:")
	h = strings.TrimSuffix(h, ".jsonl")
	if _, err := hex.DecodeString(h); err != nil || len(h) != sha256.Size*2 {
		return ListRef{}, fmt.Errorf("%w: %q is not a list reference (sha256:<64 hex digits>)", ErrBadRef, ref)
	}
	lr := ListRef{Location: h + ".jsonl", SHA256: h}
	path, err := s.path(lr)
	if err != nil {
		return ListRef{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return ListRef{}, fmt.Errorf("resolve %s: %w", lr.RefString(), err)
	}
	defer f.Close()
	sum := sha256.New()
	n := 0
	br := bufio.NewReaderSize(io.TeeReader(f, sum), 1<<16)
	for {
		if err := ctx.Err(); err != nil {
			return ListRef{}, err
		}
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			return ListRef{}, fmt.Errorf("resolve %s: %w", lr.RefString(), err)
		}
	}
	if hex.EncodeToString(sum.Sum(nil)) != h {
		return ListRef{}, fmt.Errorf("resolve %s: %w", lr.RefString(), ErrFingerprint)
	}
	lr.Count = n
	return lr, nil
}
