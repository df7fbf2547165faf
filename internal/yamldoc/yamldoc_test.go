package yamldoc_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/yamldoc"
)

// level is a TextUnmarshaler whose errors carry a hint.
type level int

type levelError string

func (e levelError) Error() string   { return e.Problem() + " (" + e.Hint() + ")" }
func (e levelError) Problem() string { return fmt.Sprintf("level %q is unknown", string(e)) }
func (e levelError) Hint() string    { return "use low or high" }

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return levelError(b)
	}
	return nil
}

type inner struct {
	Name  string   `yaml:"name"`
	Count int      `yaml:"count"`
	Tags  []string `yaml:"tags"`
}

type outer struct {
	ID    string        `yaml:"id"`
	Wait  time.Duration `yaml:"wait"`
	Inner *inner        `yaml:"inner"`
	Level level         `yaml:"level"`
	List  []inner       `yaml:"list"`
}

func TestDecodeReportsEveryProblemWithPosition(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"valid", "id: a\ninner:\n  name: x\n  count: 2\n", nil},
		{"unknown key", "id: a\nbogus: 1\n", []string{"f.yaml:2:1: bogus: unknown key \"bogus\" (hint: known keys here: id, inner, level, list, wait)"}},
		{"nested type error", "id: a\nlist:\n  - name: x\n    count: many\n", []string{"f.yaml:4:12: list[0].count: expected a whole number, got \"many\""}},
		{"duplicate", "id: a\nid: b\n", []string{"f.yaml:2:1: id: key \"id\" appears twice (hint: remove one of the two)"}},
		{"scalar for list", "inner:\n  tags: abc\n", []string{"f.yaml:2:9: inner.tags: expected a list, got \"abc\" (hint: write a YAML list: one '- item' per line, or [a, b])"}},
		{"two problems", "id: a\nx: 1\ninner:\n  y: 2\n", []string{"f.yaml:2:1: x: unknown key", "f.yaml:4:3: inner.y: unknown key"}},
		{"syntax", "id: [a\n", []string{"f.yaml:"}},
		{"hinted unmarshal error", "id: a\nlevel: mid\n", []string{"f.yaml:2:8: level: level \"mid\" is unknown (hint: use low or high)"}},
		{"parser error line is 1-based", "id: a\ninner:\n  tags: [a, b\ncount: 1\n", []string{"f.yaml:3:1: YAML syntax: did not find expected ',' or ']'"}},
		{"scanner error line is 1-based", "id: a\ninner:\n\t- x\n", []string{"f.yaml:3:1: YAML syntax: found character that cannot start any token"}},
		{"block literal parser error", "id: a\n\nlist: |\n  x\n y\n", []string{"f.yaml:5:1: YAML syntax: did not find expected key"}},
		{"empty", "", []string{"f.yaml:1:1: the file is empty"}},
		{"two docs", "id: a\n---\nid: b\n", []string{"f.yaml:2:1: more than one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v outer
			_, diags := yamldoc.Decode("f.yaml", []byte(tt.src), &v)
			if len(diags) != len(tt.want) {
				t.Fatalf("got %d diagnostics %v, want %d", len(diags), diags, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(diags[i].String(), w) {
					t.Errorf("diagnostic %d = %q, want prefix %q", i, diags[i].String(), w)
				}
			}
		})
	}
}

func TestDocAtFallsBackToParent(t *testing.T) {
	var v outer
	doc, diags := yamldoc.Decode("f.yaml", []byte("id: a\ninner:\n  name: x\n"), &v)
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	if line, _ := doc.At("inner.count"); line != 3 && line != 2 {
		t.Errorf("At(inner.count) line = %d, want the inner block", line)
	}
	d := doc.Errorf("inner.count", "set it to 1 or more", "missing")
	if !strings.HasPrefix(d.String(), "f.yaml:") || !strings.Contains(d.String(), "inner.count: missing (hint: set it to 1 or more)") {
		t.Errorf("Errorf = %q", d.String())
	}
}
