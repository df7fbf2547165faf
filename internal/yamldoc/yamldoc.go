// Package yamldoc decodes YAML strictly into Go structs and reports every
// problem with its position: file:line:col: field: problem (hint).
//
// Unknown keys, duplicate keys and type mismatches are all reported in one
// pass, so a responder fixing a runbook sees every mistake at once. Semantic
// validators use Doc.At to point at the field they complain about.
package yamldoc

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Diagnostic is one positioned problem in a file.
type Diagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Field   string `json:"field"`
	Problem string `json:"problem"`
	Hint    string `json:"hint,omitempty"`
}

// String formats the diagnostic as file:line:col: field: problem (hint: ...).
func (d Diagnostic) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", d.File, d.Line, d.Col)
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Problem)
	if d.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(d.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Diagnostics is a list of problems; as an error it prints one per line.
type Diagnostics []Diagnostic

// Error implements error.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders diagnostics by position.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Line != ds[j].Line {
			return ds[i].Line < ds[j].Line
		}
		return ds[i].Col < ds[j].Col
	})
}

// HintedError is an error of a value's UnmarshalText (or UnmarshalYAML)
// that keeps the problem apart from what to write instead. Decode reports
// them as the diagnostic's Problem and Hint.
type HintedError interface {
	error
	Problem() string
	Hint() string
}

// Doc is a decoded document that remembers where every field was.
type Doc struct {
	File  string
	nodes map[string]*yaml.Node
	root  *yaml.Node
}

// At returns the position of a field path such as
// "phases.recall.retry.email.intervals[1]". When the field is absent it
// returns the position of its nearest present parent, so "missing" errors
// point at the block that should hold the field.
func (d *Doc) At(path string) (line, col int) {
	for p := path; ; {
		if n, ok := d.nodes[p]; ok {
			return n.Line, n.Column
		}
		if p == "" {
			break
		}
		p = parent(p)
	}
	return 1, 1
}

// Has reports whether the field path was present in the file.
func (d *Doc) Has(path string) bool { _, ok := d.nodes[path]; return ok }

// Errorf builds a diagnostic for a field path.
func (d *Doc) Errorf(path, hint, format string, args ...any) Diagnostic {
	line, col := d.At(path)
	return Diagnostic{File: d.File, Line: line, Col: col, Field: path, Problem: fmt.Sprintf(format, args...), Hint: hint}
}

func parent(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Decode strictly decodes one YAML document into v (a pointer to a struct).
// It returns the Doc for positioned semantic checks and every problem found.
// A non-empty Diagnostics means v may be partially filled.
func Decode(file string, data []byte, v any) (*Doc, Diagnostics) {
	doc := &Doc{File: file, nodes: map[string]*yaml.Node{}}
	if d := sizeDiagnostic(file, data); d != nil {
		return doc, d
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return doc, Diagnostics{{File: file, Line: 1, Col: 1, Problem: "the file is empty", Hint: "a runbook or regime file starts with 'kind:'"}}
		}
		return doc, Diagnostics{syntaxDiagnostic(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return doc, Diagnostics{{File: file, Line: extra.Line, Col: extra.Column, Problem: "more than one YAML document in the file", Hint: "remove the '---' separator; one file holds one runbook or regime"}}
	}
	doc.root = &root
	node := &root
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("yamldoc.Decode: v must be a non-nil pointer")
	}
	d := &decoder{doc: doc}
	d.decode(node, rv.Elem(), "")
	d.diags.Sort()
	return doc, d.diags
}

func syntaxDiagnostic(file string, err error) Diagnostic {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 1
	if strings.HasPrefix(msg, "line ") {
		rest := msg[len("line "):]
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
				if isParserError(msg) {
					// yaml.v3 prints the parser's 0-based mark for
					// these (its scanner errors are already 1-based).
					line++
				}
			}
		}
	}
	return Diagnostic{File: file, Line: line, Col: 1, Problem: "YAML syntax: " + msg, Hint: "check indentation (spaces, not tabs) and quoting"}
}

// parserErrors are the yaml.v3 parser (not scanner) messages, whose line
// numbers yaml.v3 reports 0-based.
var parserErrors = []string{
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
}

func isParserError(msg string) bool {
	for _, p := range parserErrors {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

type decoder struct {
	doc   *Doc
	diags Diagnostics
}

func (d *decoder) errorf(n *yaml.Node, path, hint, format string, args ...any) {
	d.diags = append(d.diags, Diagnostic{File: d.doc.File, Line: n.Line, Col: n.Column, Field: path, Problem: fmt.Sprintf(format, args...), Hint: hint})
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.doc.nodes[path] = n
	if v.CanAddr() {
		pt := v.Addr().Type()
		if pt.Implements(yamlUnmarshaler) || (pt.Implements(textUnmarshaler) && v.Kind() != reflect.Struct) {
			if n.Kind != yaml.ScalarNode && pt.Implements(textUnmarshaler) && !pt.Implements(yamlUnmarshaler) {
				d.errorf(n, path, "", "expected a single value, got %s", kindName(n))
				return
			}
			if err := n.Decode(v.Addr().Interface()); err != nil {
				var he HintedError
				if errors.As(err, &he) {
					d.errorf(n, path, he.Hint(), "%s", he.Problem())
				} else {
					d.errorf(n, path, "", "%s", cleanErr(err))
				}
			}
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "", "expected a mapping of keys, got %s", kindName(n))
			return
		}
		fields := structFields(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := k.Value
			fp := join(path, key)
			if seen[key] {
				d.errorf(k, fp, "remove one of the two", "key %q appears twice", key)
				continue
			}
			seen[key] = true
			idx, ok := fields[key]
			if !ok {
				d.errorf(k, fp, "known keys here: "+strings.Join(sortedKeys(fields), ", "), "unknown key %q", key)
				continue
			}
			d.decode(val, v.Field(idx), fp)
		}
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "write a YAML list: one '- item' per line, or [a, b]", "expected a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "", "expected a mapping of keys, got %s", kindName(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			kv := reflect.New(v.Type().Key()).Elem()
			if err := k.Decode(kv.Addr().Interface()); err != nil {
				d.errorf(k, join(path, k.Value), "", "bad key: %s", cleanErr(err))
				continue
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, ev, join(path, k.Value))
			v.SetMapIndex(kv, ev)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "", "expected a single %s value, got %s", v.Kind(), kindName(n))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(n, path, "", "expected %s, got %q", typeWord(v.Kind()), n.Value)
		}
	}
}

func typeWord(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	}
	return k.String()
}

func cleanErr(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if strings.HasPrefix(msg, "unmarshal errors:\n") {
		msg = strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:\n"))
	}
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
		msg = msg[i+2:]
	}
	return msg
}

func structFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
	}
	return m
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
