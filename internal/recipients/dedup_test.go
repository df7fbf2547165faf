package recipients

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captureSink keeps what a check accepts, with merges applied, as Store
// would write it.
type captureSink struct{ recs []Recipient }

func (c *captureSink) accepted(r *Recipient) error {
	c.recs = append(c.recs, *r)
	return nil
}

func (c *captureSink) merged(idx int, dup *Recipient, added []string) error {
	for _, name := range added {
		f := recipientField(&c.recs[idx], name)
		if *f != "" {
			return fmt.Errorf("merge overwrote %s of %s", name, c.recs[idx].ID)
		}
		*f = *recipientField(dup, name)
	}
	return nil
}

func checkCapture(t *testing.T, in string, opts Options) (Report, []Recipient) {
	t.Helper()
	var sink captureSink
	rep, err := check(context.Background(), strings.NewReader(in), opts, &sink)
	require.NoError(t, err)
	return rep, sink.recs
}

// TestDuplicateRule is the specification of when two rows are one person.
// Every case is a list with the header "name,email,phone" followed by rows.
func TestDuplicateRule(t *testing.T) {
	tests := []struct {
		name     string
		rows     []string
		accepted []int       // lines
		dups     []Duplicate // ID omitted: derived from the line merged into
		merged   []Recipient // the accepted recipients after merging (ID and Line omitted)
	}{
		{
			name:     "the same e-mail address, in another case, is the same person",
			rows:     []string{"Taro,taro@example.jp,", "Taro,TARO@EXAMPLE.JP,"},
			accepted: []int{2},
			dups:     []Duplicate{{Line: 3, MergedInto: 2, Matched: "email"}},
		},
		{
			name:     "the same e-mail address, full-width, is the same person",
			rows:     []string{"Taro,taro@example.jp,", "Taro,ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ,"},
			accepted: []int{2},
			dups:     []Duplicate{{Line: 3, MergedInto: 2, Matched: "email"}},
		},
		{
			name:     "the same e-mail address is the same person even under another name (one mailbox, one request)",
			rows:     []string{"山田 太郎,family@example.jp,", "山田 花子,family@example.jp,"},
			accepted: []int{2},
			dups:     []Duplicate{{Line: 3, MergedInto: 2, Matched: "email"}},
		},
		{
			name:     "a duplicate brings the phone the first row lacked",
			rows:     []string{"Taro,taro@example.jp,", "Taro,taro@example.jp,090-1234-5678"},
			accepted: []int{2},
			dups:     []Duplicate{{Line: 3, MergedInto: 2, Matched: "email", Added: []string{"phone"}}},
			merged:   []Recipient{{Name: "Taro", Email: "taro@example.jp", Phone: "+819012345678"}},
		},
		{
			name:     "a duplicate fills the name, e-mail and address the first row lacked",
			rows:     []string{",,090-1234-5678", "山田 太郎,taro@example.jp,090-1234-5678"},
			accepted: []int{2},
			dups:     []Duplicate{{Line: 3, MergedInto: 2, Matched: "phone", Added: []string{"name", "email"}}},
			merged:   []Recipient{{Name: "山田 太郎", Email: "taro@example.jp", Phone: "+819012345678"}},
		},
		{
			name:     "the same e-mail with different phones is kept twice: merging would lose a phone",
			rows:     []string{"Taro,taro@example.jp,090-1234-5678", "Taro,taro@example.jp,03-1234-5678"},
			accepted: []int{2, 3},
		},
		{
			name:     "the same phone and the same name is the same person",
			rows:     []string{"山田 太郎,,090-1234-5678", "山田太郎,taro@example.jp,09012345678"},
			accepted: []int{2},
			dups:     []Duplicate{{Line: 3, MergedInto: 2, Matched: "phone", Added: []string{"email"}}},
		},
		{
			name:     "the same phone with a name on one row only is the same person",
			rows:     []string{",,03-1234-5678", "山田 太郎,,03-1234-5678"},
			accepted: []int{2},
			dups:     []Duplicate{{Line: 3, MergedInto: 2, Matched: "phone", Added: []string{"name"}}},
		},
		{
			name:     "the same phone under another name is another person (family members share a landline)",
			rows:     []string{"山田 太郎,,03-1234-5678", "山田 花子,,03-1234-5678"},
			accepted: []int{2, 3},
		},
		{
			name:     "the same phone with different e-mail addresses is another person",
			rows:     []string{"山田 太郎,taro@example.jp,03-1234-5678", "山田 太郎,jiro@example.jp,03-1234-5678"},
			accepted: []int{2, 3},
		},
		{
			name:     "rows that share no contact are different people, whatever their names",
			rows:     []string{"山田 太郎,taro@example.jp,", "山田 太郎,,090-1234-5678"},
			accepted: []int{2, 3},
		},
		{
			name: "a contact merged in matches later rows",
			rows: []string{
				"Taro,taro@example.jp,",
				"Taro,taro@example.jp,090-1234-5678",
				"Taro,,090-1234-5678",
			},
			accepted: []int{2},
			dups: []Duplicate{
				{Line: 3, MergedInto: 2, Matched: "email", Added: []string{"phone"}},
				{Line: 4, MergedInto: 2, Matched: "phone"},
			},
		},
		{
			name: "the earliest recipient holding the e-mail is the candidate, then the earliest holding the phone",
			rows: []string{
				"A,a@example.jp,090-1111-1111",
				"A,a@example.jp,090-2222-2222", // conflicts with line 2: kept
				"A,a@example.jp,090-2222-2222", // e-mail candidate line 2 conflicts; phone candidate line 3 fits
			},
			accepted: []int{2, 3},
			dups:     []Duplicate{{Line: 4, MergedInto: 3, Matched: "phone"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "name,email,phone\n" + strings.Join(tt.rows, "\n") + "\n"
			rep, recs := checkCapture(t, in, Options{})
			var lines []int
			for _, r := range recs {
				lines = append(lines, r.Line)
			}
			assert.Equal(t, tt.accepted, lines, "accepted lines")
			want := tt.dups
			if want == nil {
				want = []Duplicate{}
			}
			for i := range want {
				for j, r := range recs {
					if r.Line == want[i].MergedInto {
						want[i].ID = RecipientID(j + 1)
					}
				}
			}
			assert.Equal(t, want, rep.Duplicates)
			assert.Zero(t, rep.RejectedCount, "rejected: %v", rep.Rejected)
			for i, m := range tt.merged {
				m.ID, m.Line = recs[i].ID, recs[i].Line
				assert.Equal(t, m, recs[i])
			}
		})
	}
}

// TestKeyTable checks the open-addressing table through several growths:
// every key finds the first recipient that holds it.
func TestKeyTable(t *testing.T) {
	d := newDedup()
	const n = 50_000
	for i := range n {
		k := keys{email: hash64(fmt.Sprintf("user%d@example.jp", i))}
		if i%3 == 0 {
			k.phone = hash64(fmt.Sprintf("+8190%08d", i/3))
		}
		got := d.add(k, i+2)
		require.Equal(t, i, got)
	}
	for i := range n {
		idx, ok := d.email.find(hash64(fmt.Sprintf("user%d@example.jp", i)), &d.rows)
		require.True(t, ok, "email %d", i)
		require.Equal(t, i, idx)
		require.Equal(t, i+2, d.line(idx))
	}
	for i := 0; i < n; i += 3 {
		idx, ok := d.phone.find(hash64(fmt.Sprintf("+8190%08d", i/3)), &d.rows)
		require.True(t, ok, "phone %d", i)
		require.Equal(t, i, idx)
	}
	_, ok := d.email.find(hash64("nobody@example.jp"), &d.rows)
	assert.False(t, ok)
	assert.LessOrEqual(t, d.email.used*4, len(d.email.slots)*3, "load factor at most 3/4")
}
