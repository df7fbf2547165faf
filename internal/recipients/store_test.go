package recipients

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// genList writes a list of n distinct people with e-mail and phone.
func genList(n int) string {
	var b strings.Builder
	b.WriteString("氏名,メールアドレス,電話番号\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "架空 %d,user%d@example.jp,090-%04d-%04d\n", i, i, 1000+i/10000, i%10000)
	}
	return b.String()
}

func putList(t *testing.T, s Store, in string) (ListRef, Report) {
	t.Helper()
	ref, rep, err := s.Put(context.Background(), strings.NewReader(in), Options{})
	require.NoError(t, err)
	return ref, rep
}

func TestStorePutWritesTheNormalisedList(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "lists")}
	data, err := os.ReadFile("testdata/shift_jis_bad_rows.csv")
	require.NoError(t, err)
	ref, rep, err := s.Put(context.Background(), bytes.NewReader(data), Options{})
	require.NoError(t, err)

	_, want := checkCapture(t, string(data), Options{})
	assert.Equal(t, 6, ref.Count)
	assert.Equal(t, rep.Accepted, ref.Count)
	assert.Equal(t, 5, rep.RejectedCount, "the Report comes back with the ref")
	assert.Equal(t, ref.SHA256+".jsonl", ref.Location)

	stored, err := os.ReadFile(filepath.Join(s.Dir, ref.Location))
	require.NoError(t, err)
	sum := sha256.Sum256(stored)
	assert.Equal(t, hex.EncodeToString(sum[:]), ref.SHA256, "the fingerprint is the SHA-256 of the stored bytes")
	assert.Equal(t, 6, bytes.Count(stored, []byte("\n")), "JSON Lines, one recipient per line")
	assert.Contains(t, string(stored), `"email":"hanako@example.jp"`)

	fi, err := os.Stat(filepath.Join(s.Dir, ref.Location))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "personal data: owner only")
	di, err := os.Stat(s.Dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	entries, err := os.ReadDir(s.Dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files left behind")

	got, err := s.Page(context.Background(), ref, 0, 100)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	again, _, err := s.Put(context.Background(), bytes.NewReader(data), Options{})
	require.NoError(t, err)
	assert.Equal(t, ref, again, "the same list, the same ref")
}

func TestStorePutAppliesMerges(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	in := "name,email,phone,address\n" +
		"Taro,taro@example.jp,,\n" +
		"Hanako,hanako@example.jp,03-1234-5678,\n" +
		"Taro,TARO@example.jp,090-1234-5678,\n" + // gives Taro a phone
		",,03-1234-5678,Tokyo\n" // gives Hanako an address
	ref, rep := putList(t, s, in)
	assert.Equal(t, 2, ref.Count)
	assert.Equal(t, 2, rep.DuplicateCount)
	got, err := s.Page(context.Background(), ref, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, []Recipient{
		{ID: "R00001", Line: 2, Name: "Taro", Email: "taro@example.jp", Phone: "+819012345678"},
		{ID: "R00002", Line: 3, Name: "Hanako", Email: "hanako@example.jp", Phone: "+81312345678", Address: "Tokyo"},
	}, got)
	stored, err := os.ReadFile(filepath.Join(s.Dir, ref.Location))
	require.NoError(t, err)
	sum := sha256.Sum256(stored)
	assert.Equal(t, hex.EncodeToString(sum[:]), ref.SHA256, "the fingerprint covers the merged file")
	entries, err := os.ReadDir(s.Dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "both temporary files removed")
}

func TestStorePutFailures(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ctx  func() context.Context
		want error
	}{
		{"nobody accepted", "name,email\nA,bad\n", context.Background, ErrEmptyList},
		{"no header", "taro@example.jp\n", context.Background, ErrNoHeader},
		{"cancelled", genList(10), func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Store{Dir: t.TempDir()}
			_, _, err := s.Put(tt.ctx(), strings.NewReader(tt.in), Options{})
			require.ErrorIs(t, err, tt.want)
			entries, err := os.ReadDir(s.Dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing stored, no temporary file left")
		})
	}
	_, _, err := Store{}.Put(context.Background(), strings.NewReader(genList(1)), Options{})
	assert.Error(t, err, "a Store needs a directory")
}

func TestStorePaging(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	const n = 1000
	ref, _ := putList(t, s, genList(n))
	require.Equal(t, n, ref.Count)
	ctx := context.Background()

	all, err := s.Page(ctx, ref, 0, n)
	require.NoError(t, err)
	require.Len(t, all, n)
	for i, r := range all {
		require.Equal(t, RecipientID(i+1), r.ID)
		require.Equal(t, i+2, r.Line)
	}
	for _, size := range []int{1, 7, indexEvery - 1, indexEvery, indexEvery + 1, 999, 5000} {
		t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
			var got []Recipient
			for off := 0; ; off += size {
				page, err := s.Page(ctx, ref, off, size)
				require.NoError(t, err)
				if len(page) == 0 {
					break
				}
				require.LessOrEqual(t, len(page), size)
				got = append(got, page...)
			}
			assert.Equal(t, all, got)
		})
	}

	tests := []struct {
		name          string
		offset, limit int
		want          []Recipient
		err           error
	}{
		{"first", 0, 1, all[:1], nil},
		{"across a block boundary", indexEvery - 2, 4, all[indexEvery-2 : indexEvery+2], nil},
		{"the last one", n - 1, 10, all[n-1:], nil},
		{"past the end", n, 10, []Recipient{}, nil},
		{"far past the end", 10 * n, 1, []Recipient{}, nil},
		{"negative offset", -1, 1, nil, ErrBadRef},
		{"zero limit", 0, 0, nil, ErrBadRef},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Page(ctx, ref, tt.offset, tt.limit)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStoreGet(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	ref, _ := putList(t, s, genList(300))
	ctx := context.Background()
	tests := []struct {
		id        string
		wantEmail string
		err       error
	}{
		{"R00001", "user1@example.jp", nil},
		{"R00257", "user257@example.jp", nil},
		{"R00300", "user300@example.jp", nil},
		{"R00301", "", ErrNotFound},
		{"R1", "", ErrBadRef},
		{"R000001", "", ErrBadRef},
		{"R00000", "", ErrBadRef},
		{"X00001", "", ErrBadRef},
		{"R0000a", "", ErrBadRef},
		{"", "", ErrBadRef},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r, err := s.Get(ctx, ref, tt.id)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.id, r.ID)
			assert.Equal(t, tt.wantEmail, r.Email)
		})
	}
}

func TestParseRecipientID(t *testing.T) {
	for _, n := range []int{1, 7, 99999, 100000, 1234567} {
		got, err := ParseRecipientID(RecipientID(n))
		require.NoError(t, err)
		assert.Equal(t, n, got)
	}
}

// TestStoreRefusesTamperedLists: a list that no longer matches its
// fingerprint is never used, whether changed before its first use in this
// process or after.
func TestStoreRefusesTamperedLists(t *testing.T) {
	ctx := context.Background()
	tamper := func(t *testing.T, path string, keepTimes bool) {
		t.Helper()
		fi, err := os.Stat(path)
		require.NoError(t, err)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		i := bytes.Index(data, []byte("user299@"))
		require.GreaterOrEqual(t, i, 0)
		data[i+4] = '8' // same length: user289@ -- a mail to someone else
		require.NoError(t, os.WriteFile(path, data, 0o600))
		if keepTimes {
			require.NoError(t, os.Chtimes(path, fi.ModTime(), fi.ModTime()))
		} else {
			later := fi.ModTime().Add(time.Second)
			require.NoError(t, os.Chtimes(path, later, later))
		}
	}
	tests := []struct {
		name      string
		warm      bool // paged once before the change
		keepTimes bool // the change restores size and modification time
	}{
		{"changed before first use", false, false},
		{"changed after use", true, false},
		{"changed after use, times restored", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Store{Dir: t.TempDir()}
			ref, _ := putList(t, s, genList(300))
			if tt.warm {
				_, err := s.Page(ctx, ref, 0, 10)
				require.NoError(t, err)
			}
			tamper(t, filepath.Join(s.Dir, ref.Location), tt.keepTimes)
			_, err := s.Page(ctx, ref, 290, 10)
			require.ErrorIs(t, err, ErrFingerprint)
			_, err = s.Get(ctx, ref, "R00299")
			require.ErrorIs(t, err, ErrFingerprint)
			assert.NotContains(t, err.Error(), "user2", "errors never echo the data")
		})
	}

	t.Run("a ref with another count", func(t *testing.T) {
		s := Store{Dir: t.TempDir()}
		ref, _ := putList(t, s, genList(10))
		ref.Count = 11
		_, err := s.Page(ctx, ref, 0, 1)
		assert.ErrorIs(t, err, ErrFingerprint)
	})
	t.Run("a file replaced by another", func(t *testing.T) {
		s := Store{Dir: t.TempDir()}
		ref, _ := putList(t, s, genList(10))
		other, _ := putList(t, s, genList(11))
		_, err := s.Page(ctx, ref, 0, 1)
		require.NoError(t, err)
		require.NoError(t, os.Rename(filepath.Join(s.Dir, other.Location), filepath.Join(s.Dir, ref.Location)))
		_, err = s.Page(ctx, ref, 0, 1)
		assert.ErrorIs(t, err, ErrFingerprint)
	})
}

func TestStoreRejectsMalformedRefs(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	ref, _ := putList(t, s, genList(3))
	ctx := context.Background()
	tests := []struct {
		name string
		mod  func(r ListRef) ListRef
		want error
	}{
		{"location outside the store", func(r ListRef) ListRef { r.Location = "../" + r.Location; return r }, ErrBadRef},
		{"location not the fingerprint", func(r ListRef) ListRef { r.Location = "other.jsonl"; return r }, ErrBadRef},
		{"upper-case fingerprint", func(r ListRef) ListRef {
			r.SHA256 = strings.ToUpper(r.SHA256)
			r.Location = r.SHA256 + ".jsonl"
			return r
		}, ErrBadRef},
		{"short fingerprint", func(r ListRef) ListRef { r.SHA256 = r.SHA256[:10]; return r }, ErrBadRef},
		{"negative count", func(r ListRef) ListRef { r.Count = -1; return r }, ErrBadRef},
		{"not in the store", func(r ListRef) ListRef {
			r.SHA256 = strings.Repeat("0", 64)
			r.Location = r.SHA256 + ".jsonl"
			return r
		}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Page(ctx, tt.mod(ref), 0, 1)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestStorePagesConcurrently(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	const n = 2000
	ref, _ := putList(t, s, genList(n))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for off := w * 100; off < n; off += 800 {
				page, err := s.Page(context.Background(), ref, off, 100)
				if err != nil {
					errs <- err
					return
				}
				if page[0].ID != RecipientID(off+1) {
					errs <- fmt.Errorf("page at %d starts with %s", off, page[0].ID)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
