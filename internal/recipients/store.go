package recipients

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Store is the content-addressed store of normalised recipient lists: a
// directory (BREACHFLOW_LIST_DIR) shared by the starter, which puts lists,
// and the worker, which pages through them. A list is one JSON Lines file,
// <sha256>.jsonl, holding one Recipient per line in ID order; the SHA-256 of
// its bytes is its name and its fingerprint. Files are written to a
// temporary file and renamed into place, with mode 0600 in a 0700
// directory: they hold personal data.
//
// A Store is a plain value; its methods are safe for concurrent use.
type Store struct {
	Dir string
}

// Errors of the Store, returned wrapped; a list that no longer matches its
// ListRef (SHA-256 or count) fails with ErrFingerprint.
var (
	// ErrEmptyList means a list accepted no recipient.
	ErrEmptyList = errors.New("no recipient accepted")
	// ErrNotFound means a recipient ID is not in the list.
	ErrNotFound = errors.New("recipient not in list")
	// ErrBadRef means a ListRef or recipient ID is malformed.
	ErrBadRef = errors.New("malformed list reference")
)

// indexEvery is the number of records in a block of the in-memory page
// index: a page reads whole blocks, so it reads at most 2*(indexEvery-1)
// records it does not return.
const indexEvery = 256

// Put checks a list like Check and stores its accepted recipients,
// normalised and with duplicates merged. The Report says what became of
// every row; rows it rejected are not stored, and it is for the caller to
// decide whether the list may be used with them missing. A list that
// accepts nobody is not stored (ErrEmptyList). Putting the same list twice
// yields the same ListRef.
//
// Put streams: it keeps in memory what duplicate detection needs plus, for
// each duplicate that brings a field its recipient lacked, that field until
// the list is written (a second pass over the file applies them).
func (s Store) Put(ctx context.Context, src io.Reader, opts Options) (ListRef, Report, error) {
	if s.Dir == "" {
		return ListRef{}, Report{}, errors.New("store list: no list directory configured")
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return ListRef{}, Report{}, fmt.Errorf("store list: %w", err)
	}
	w, err := newListWriter(s.Dir)
	if err != nil {
		return ListRef{}, Report{}, fmt.Errorf("store list: %w", err)
	}
	defer w.discard()
	rep, err := check(ctx, src, opts, w)
	if err != nil {
		return ListRef{}, rep, fmt.Errorf("store list: %w", err)
	}
	if rep.Accepted == 0 {
		return ListRef{}, rep, fmt.Errorf("store list: %w", ErrEmptyList)
	}
	sum, err := w.finish(ctx)
	if err != nil {
		return ListRef{}, rep, fmt.Errorf("store list: %w", err)
	}
	ref := ListRef{Location: sum + ".jsonl", SHA256: sum, Count: rep.Accepted}
	if err := w.commit(filepath.Join(s.Dir, ref.Location)); err != nil {
		return ListRef{}, rep, fmt.Errorf("store %s: %w", ref, err)
	}
	return ref, rep, nil
}

// listWriter writes accepted recipients to a temporary file, hashing as it
// goes, and remembers the fields duplicates add to them.
type listWriter struct {
	dir     string
	f       *os.File
	bw      *bufio.Writer
	h       hash.Hash
	enc     *json.Encoder
	patches map[int]*Recipient
	temps   []string
}

func newListWriter(dir string) (*listWriter, error) {
	f, err := os.CreateTemp(dir, ".put-*.tmp")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, err
	}
	w := &listWriter{dir: dir, f: f, h: sha256.New(), patches: map[int]*Recipient{}, temps: []string{f.Name()}}
	w.bw = bufio.NewWriterSize(io.MultiWriter(f, w.h), 64<<10)
	w.enc = json.NewEncoder(w.bw)
	w.enc.SetEscapeHTML(false)
	return w, nil
}

func (w *listWriter) accepted(r *Recipient) error {
	if err := w.enc.Encode(r); err != nil {
		return fmt.Errorf("write list: %w", err)
	}
	return nil
}

func (w *listWriter) merged(idx int, dup *Recipient, added []string) error {
	p := w.patches[idx]
	if p == nil {
		p = &Recipient{}
		w.patches[idx] = p
	}
	for _, name := range added {
		*recipientField(p, name) = *recipientField(dup, name)
	}
	return nil
}

// recipientField returns the field of r with the given JSON name.
func recipientField(r *Recipient, name string) *string {
	switch name {
	case "name":
		return &r.Name
	case "kana":
		return &r.Kana
	case "email":
		return &r.Email
	case "phone":
		return &r.Phone
	case "postal_code":
		return &r.PostalCode
	case "address":
		return &r.Address
	case "time_zone":
		return &r.TimeZone
	}
	panic("recipients: no field " + name)
}

// finish flushes the list and, when duplicates added fields, rewrites it
// with them. It returns the hex SHA-256 of the final file.
func (w *listWriter) finish(ctx context.Context) (string, error) {
	if err := w.bw.Flush(); err != nil {
		return "", fmt.Errorf("write list: %w", err)
	}
	if len(w.patches) > 0 {
		if err := w.applyPatches(ctx); err != nil {
			return "", err
		}
	}
	if err := w.f.Sync(); err != nil {
		return "", fmt.Errorf("write list: %w", err)
	}
	return hex.EncodeToString(w.h.Sum(nil)), nil
}

func (w *listWriter) applyPatches(ctx context.Context) error {
	in := w.f
	defer in.Close() // the first pass; discard removes it
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewrite list: %w", err)
	}
	out, err := os.CreateTemp(w.dir, ".put-*.tmp")
	if err != nil {
		return fmt.Errorf("rewrite list: %w", err)
	}
	w.temps = append(w.temps, out.Name())
	w.f = out
	w.h = sha256.New()
	if err := out.Chmod(0o600); err != nil {
		return fmt.Errorf("rewrite list: %w", err)
	}
	bw := bufio.NewWriterSize(io.MultiWriter(out, w.h), 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	br := bufio.NewReaderSize(in, 64<<10)
	for idx := 0; ; idx++ {
		if idx%4096 == 0 && ctx.Err() != nil {
			return fmt.Errorf("rewrite list: %w", ctx.Err())
		}
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			break
		}
		if err != nil {
			return fmt.Errorf("rewrite list: %w", err)
		}
		p, ok := w.patches[idx]
		if !ok {
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("rewrite list: %w", err)
			}
			continue
		}
		var r Recipient
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("rewrite list: record %d: %w", idx+1, err)
		}
		for _, name := range fieldNames(fieldsOf(p)) {
			if f := recipientField(&r, name); *f == "" {
				*f = *recipientField(p, name)
			}
		}
		if err := enc.Encode(&r); err != nil {
			return fmt.Errorf("rewrite list: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("rewrite list: %w", err)
	}
	return nil
}

// commit renames the finished file into place and makes the rename durable.
func (w *listWriter) commit(path string) error {
	if err := w.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(w.f.Name(), path); err != nil {
		return err
	}
	w.f = nil
	// Best effort: some file systems cannot sync a directory. A list lost
	// in a crash fails loudly later (not found), never silently.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// discard removes whatever temporary files are left.
func (w *listWriter) discard() {
	if w.f != nil {
		_ = w.f.Close()
	}
	for _, name := range w.temps {
		_ = os.Remove(name) // already renamed or removed: nothing to do
	}
}

// Page returns up to limit recipients of the list from index offset
// (0-based; the recipient at offset has ID RecipientID(offset+1)). Past the
// end it returns an empty page.
//
// The first use of a list in a process reads it whole to check its SHA-256
// and count against ref (ErrFingerprint if they differ: a changed
// list is never used) and keeps, per block of 256 records, its byte offset
// and SHA-256. A page then seeks to its first block and checks every block
// it reads against that index, so whatever Page returns is verified, while
// sequential paging through a list of any length costs constant memory and
// time per page. A file replaced or changed in size or modification time is
// verified whole again.
func (s Store) Page(ctx context.Context, ref ListRef, offset, limit int) ([]Recipient, error) {
	if offset < 0 || limit <= 0 {
		return nil, fmt.Errorf("page %s: %w: offset %d, limit %d", ref, ErrBadRef, offset, limit)
	}
	path, err := s.path(ref)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", ref, err)
	}
	defer f.Close()
	v, key, err := verify(ctx, f, path, ref)
	if err != nil {
		return nil, err
	}
	if offset >= ref.Count {
		return []Recipient{}, nil
	}
	end := min(ref.Count, offset+limit)
	first, last := offset/indexEvery, (end-1)/indexEvery
	if _, err := f.Seek(v.blocks[first].off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("page %s: %w", ref, err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	out := make([]Recipient, 0, end-offset)
	h := sha256.New()
	var sum [sha256.Size]byte
	for b := first; b <= last; b++ {
		h.Reset()
		for i := b * indexEvery; i < min(ref.Count, (b+1)*indexEvery); i++ {
			line, err := br.ReadBytes('\n')
			if err != nil {
				return nil, fmt.Errorf("page %s: record %d: %w", ref, i+1, err)
			}
			h.Write(line)
			if i < offset || i >= end {
				continue
			}
			var r Recipient
			if err := json.Unmarshal(line, &r); err != nil {
				return nil, fmt.Errorf("page %s: record %d: %w", ref, i+1, err)
			}
			out = append(out, r)
		}
		if !bytes.Equal(h.Sum(sum[:0]), v.blocks[b].sum[:]) {
			forget(key)
			return nil, fmt.Errorf("page %s: records %d-%d changed since the list was checked: %w; refusing to use it",
				ref, b*indexEvery+1, min(ref.Count, (b+1)*indexEvery), ErrFingerprint)
		}
	}
	for i, r := range out {
		if want := RecipientID(offset + i + 1); r.ID != want {
			return nil, fmt.Errorf("page %s: record %d has the wrong ID: %w", ref, offset+i+1, ErrFingerprint)
		}
	}
	return out, nil
}

// Get returns the recipient with the given ID ("R00007").
func (s Store) Get(ctx context.Context, ref ListRef, id string) (Recipient, error) {
	n, err := ParseRecipientID(id)
	if err != nil {
		return Recipient{}, fmt.Errorf("get from %s: %w", ref, err)
	}
	page, err := s.Page(ctx, ref, n-1, 1)
	if err != nil {
		return Recipient{}, err
	}
	if len(page) == 0 {
		return Recipient{}, fmt.Errorf("get %s from %s: %w", id, ref, ErrNotFound)
	}
	return page[0], nil
}

// ParseRecipientID returns n for the ID RecipientID(n) ("R00007" -> 7).
func ParseRecipientID(id string) (int, error) {
	if len(id) < 6 || id[0] != 'R' || !allDigits(id[1:]) {
		return 0, fmt.Errorf("%w: recipient ID %q is not R followed by digits", ErrBadRef, id)
	}
	n, err := strconv.Atoi(id[1:])
	if err != nil || n < 1 || RecipientID(n) != id {
		return 0, fmt.Errorf("%w: recipient ID %q is not canonical", ErrBadRef, id)
	}
	return n, nil
}

// path checks ref and returns its file. A ref names its file only by its
// fingerprint, so it cannot point outside the store.
func (s Store) path(ref ListRef) (string, error) {
	if len(ref.SHA256) != sha256.Size*2 || strings.ToLower(ref.SHA256) != ref.SHA256 {
		return "", fmt.Errorf("%w: sha256 is not 64 lower-case hex digits", ErrBadRef)
	}
	if _, err := hex.DecodeString(ref.SHA256); err != nil {
		return "", fmt.Errorf("%w: sha256 is not hex", ErrBadRef)
	}
	if ref.Location != ref.SHA256+".jsonl" {
		return "", fmt.Errorf("%w: location of %s is not its fingerprint", ErrBadRef, ref)
	}
	if ref.Count < 0 {
		return "", fmt.Errorf("%w: negative count", ErrBadRef)
	}
	if s.Dir == "" {
		return "", errors.New("no list directory configured")
	}
	abs, err := filepath.Abs(filepath.Join(s.Dir, ref.Location))
	if err != nil {
		return "", fmt.Errorf("list %s: %w", ref, err)
	}
	return abs, nil
}

// verifiedList is what a process knows of a list it has checked.
type verifiedList struct {
	fi     os.FileInfo
	blocks []block
}

// block is indexEvery consecutive records (fewer at the end).
type block struct {
	off int64
	sum [sha256.Size]byte
}

var verified = struct {
	sync.Mutex
	m map[string]*verifiedList // path + " " + sha256
}{m: map[string]*verifiedList{}}

func forget(key string) {
	verified.Lock()
	delete(verified.m, key)
	verified.Unlock()
}

// verify returns the index of the open list f, checking its fingerprint
// unless this process already did for this very file.
func verify(ctx context.Context, f *os.File, path string, ref ListRef) (*verifiedList, string, error) {
	key := path + " " + ref.SHA256
	fi, err := f.Stat()
	if err != nil {
		return nil, key, fmt.Errorf("check %s: %w", ref, err)
	}
	verified.Lock()
	v := verified.m[key]
	verified.Unlock()
	if v != nil && os.SameFile(v.fi, fi) && v.fi.Size() == fi.Size() && v.fi.ModTime().Equal(fi.ModTime()) &&
		len(v.blocks) == (ref.Count+indexEvery-1)/indexEvery {
		return v, key, nil
	}
	v, err = index(ctx, f, ref)
	if err != nil {
		forget(key)
		return nil, key, err
	}
	v.fi = fi
	verified.Lock()
	verified.m[key] = v
	verified.Unlock()
	return v, key, nil
}

// index reads the whole list, checks its SHA-256 and count, and records the
// offset and SHA-256 of every block of indexEvery records.
func index(ctx context.Context, f *os.File, ref ListRef) (*verifiedList, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("check %s: %w", ref, err)
	}
	whole, part := sha256.New(), sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, whole), 64<<10)
	v := &verifiedList{}
	var off int64
	n := 0
	last := byte('\n')
	endBlock := func() {
		if len(v.blocks) > 0 {
			part.Sum(v.blocks[len(v.blocks)-1].sum[:0])
			part.Reset()
		}
	}
	for {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("check %s: %w", ref, ctx.Err())
		}
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if last == '\n' {
				if n%indexEvery == 0 {
					endBlock()
					v.blocks = append(v.blocks, block{off: off})
				}
				n++
			}
			part.Write(line)
			last = line[len(line)-1]
			off += int64(len(line))
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", ref, err)
		}
	}
	endBlock()
	sum := hex.EncodeToString(whole.Sum(nil))
	switch {
	case sum != ref.SHA256:
		return nil, fmt.Errorf("check %s: %w: its SHA-256 is now %s; refusing to use it", ref, ErrFingerprint, sum)
	case n != ref.Count || last != '\n':
		return nil, fmt.Errorf("check %s: %w: it holds %d records", ref, ErrFingerprint, n)
	}
	return v, nil
}
