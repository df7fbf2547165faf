package recipients

import (
	"strings"
	"unicode"
)

// Duplicate detection keeps, per accepted recipient, 8-byte hashes of its
// e-mail and phone keys, a 4-byte hash of its name key and its line (24
// bytes, in chunks that never move), plus one 4-byte slot per key in each of
// two open-addressing hash tables kept between 3/8 and 3/4 full: 36 to 47
// bytes per accepted recipient with both contacts, counting the checker's
// byte of field flags -- about 385 MB for 10 million. Nothing else of a row
// is kept. Hashes are FNV-1a, so the outcome is the same on every run; two
// different keys share a 64-bit hash with probability below 10^-5 in a list
// of 10 million, and the 32-bit name hash is only compared between rows that
// already share a phone number.

// rowState is what duplicate detection remembers of an accepted recipient.
type rowState struct {
	email uint64 // hash of the e-mail key; 0 = none
	phone uint64 // hash of the phone key; 0 = none
	name  uint32 // hash of the name key; 0 = none
	line  uint32
}

// keys are the duplicate-detection keys of one row.
type keys struct {
	email, phone uint64
	name         uint32
}

func rowKeys(r *Recipient) keys {
	k := keys{}
	if r.Email != "" {
		k.email = hash64Lower(r.Email)
	}
	if r.Phone != "" {
		k.phone = hash64(r.Phone)
	}
	n := r.Name
	if n == "" {
		n = r.Kana
	}
	if n != "" {
		k.name = uint32(hash64(nameKey(n)))
		if k.name == 0 {
			k.name = 1
		}
	}
	return k
}

// nameKey compares names without spaces and without case.
func nameKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// hash64 is FNV-1a; never 0 (0 means "no key").
func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

// hash64Lower is hash64(strings.ToLower(s)) for ASCII s (e-mail addresses
// are ASCII by the time they are hashed), without the allocation.
func hash64Lower(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

// mix spreads a hash over the bits a table index uses (splitmix64 finaliser).
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// keyTable maps a key hash to the first accepted recipient holding it. Its
// slots hold recipient index+1 (0 = empty); the key itself is read from the
// recipient's rowState, so a slot costs 4 bytes.
type keyTable struct {
	slots []uint32
	used  int
	keyOf func(*rowState) uint64
}

// rowChunk holds the states of chunkLen consecutive recipients. Chunks
// never move, so growing a list of millions copies nothing.
type rowChunk [chunkLen]rowState

const chunkLen = 4096

// rowStates is an append-only sequence of rowState in chunks.
type rowStates struct {
	chunks []*rowChunk
	n      int
}

func (rs *rowStates) at(i int) *rowState { return &rs.chunks[i/chunkLen][i%chunkLen] }

func (rs *rowStates) append(r rowState) int {
	if rs.n%chunkLen == 0 {
		rs.chunks = append(rs.chunks, new(rowChunk))
	}
	*rs.at(rs.n) = r
	rs.n++
	return rs.n - 1
}

func (t *keyTable) find(h uint64, rows *rowStates) (int, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := mix(h) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if t.keyOf(rows.at(int(s-1))) == h {
			return int(s - 1), true
		}
	}
}

// insert records that rows[idx] holds key h, unless an earlier row does.
func (t *keyTable) insert(h uint64, idx int, rows *rowStates) {
	if (t.used+1)*4 > len(t.slots)*3 {
		t.grow(rows)
	}
	mask := uint64(len(t.slots) - 1)
	for i := mix(h) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = uint32(idx + 1)
			t.used++
			return
		}
		if t.keyOf(rows.at(int(s-1))) == h {
			return
		}
	}
}

func (t *keyTable) grow(rows *rowStates) {
	n := 2 * len(t.slots)
	if n < 1024 {
		n = 1024
	}
	old := t.slots
	t.slots = make([]uint32, n)
	mask := uint64(n - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		for i := mix(t.keyOf(rows.at(int(s-1)))) & mask; ; i = (i + 1) & mask {
			if t.slots[i] == 0 {
				t.slots[i] = s
				break
			}
		}
	}
}

// dedup decides, for each valid row, whether it repeats an accepted one.
//
// The rule (docs/recipients.md): a row is a duplicate of an earlier accepted
// recipient when they share a contact -- the same e-mail address (compared
// without case) or the same phone number (E.164) -- and nothing conflicts:
// neither row has an e-mail address or phone number the other has a
// different one of; and, when only the phone is shared, the names agree
// (equal without spaces and case, or one row has none), because family
// members share a landline. Candidates are the earliest accepted recipient
// with the row's e-mail, then the earliest with its phone.
type dedup struct {
	rows  rowStates
	email keyTable
	phone keyTable
}

// maxRecipients bounds a list so that indexes fit the tables' uint32 slots.
const maxRecipients = 1<<32 - 2

func newDedup() *dedup {
	return &dedup{
		email: keyTable{keyOf: func(r *rowState) uint64 { return r.email }},
		phone: keyTable{keyOf: func(r *rowState) uint64 { return r.phone }},
	}
}

// match returns the index of the accepted recipient k duplicates, and which
// contact matched ("email" or "phone").
func (d *dedup) match(k keys) (int, string, bool) {
	if k.email != 0 {
		if i, ok := d.email.find(k.email, &d.rows); ok && d.compatible(d.rows.at(i), k, false) {
			return i, "email", true
		}
	}
	if k.phone != 0 {
		if i, ok := d.phone.find(k.phone, &d.rows); ok && d.compatible(d.rows.at(i), k, true) {
			return i, "phone", true
		}
	}
	return 0, "", false
}

func (d *dedup) compatible(a *rowState, k keys, byPhone bool) bool {
	if a.email != 0 && k.email != 0 && a.email != k.email {
		return false
	}
	if a.phone != 0 && k.phone != 0 && a.phone != k.phone {
		return false
	}
	sharedEmail := a.email != 0 && a.email == k.email
	if byPhone && !sharedEmail && a.name != 0 && k.name != 0 && a.name != k.name {
		return false
	}
	return true
}

// add records a new accepted recipient and returns its index.
func (d *dedup) add(k keys, line int) int {
	idx := d.rows.append(rowState{email: k.email, phone: k.phone, name: k.name, line: uint32(line)})
	if k.email != 0 {
		d.email.insert(k.email, idx, &d.rows)
	}
	if k.phone != 0 {
		d.phone.insert(k.phone, idx, &d.rows)
	}
	return idx
}

// merge fills in what recipient idx lacked from a duplicate's keys.
func (d *dedup) merge(idx int, k keys) {
	a := d.rows.at(idx)
	if a.email == 0 && k.email != 0 {
		a.email = k.email
		d.email.insert(k.email, idx, &d.rows)
	}
	if a.phone == 0 && k.phone != 0 {
		a.phone = k.phone
		d.phone.insert(k.phone, idx, &d.rows)
	}
	if a.name == 0 && k.name != 0 {
		a.name = k.name
	}
}

func (d *dedup) line(idx int) int { return int(d.rows.at(idx).line) }

// len is the number of accepted recipients.
func (d *dedup) len() int { return d.rows.n }
