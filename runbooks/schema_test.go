package runbooks_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/breachflow/breachflow/runbooks"
)

// schemaDoc is the parsed JSON Schema, for walking.
type schemaDoc struct {
	root map[string]any
	defs map[string]any
}

func loadSchemaDoc(t testing.TB) schemaDoc {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(runbooks.Schema(), &root); err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	defs, _ := root["$defs"].(map[string]any)
	return schemaDoc{root: root, defs: defs}
}

// resolve follows $ref to the definition a node stands for.
func (s schemaDoc) resolve(t testing.TB, n map[string]any) map[string]any {
	t.Helper()
	for range 10 {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		name, found := strings.CutPrefix(ref, "#/$defs/")
		def, ok := s.defs[name].(map[string]any)
		if !found || !ok {
			t.Fatalf("$ref %q points nowhere", ref)
		}
		n = def
	}
	t.Fatal("$ref chain too long")
	return nil
}

// schemaField is a property of the schema, addressed like the loader's
// field paths with "[]" for list items: "phases.contain.tasks[].due".
type schemaField struct {
	node     map[string]any
	required bool
}

func (s schemaDoc) fields(t testing.TB, n map[string]any, prefix string, out map[string]schemaField) {
	t.Helper()
	r := s.resolve(t, n)
	if r["type"] == "array" {
		if items, ok := r["items"].(map[string]any); ok {
			s.fields(t, items, prefix+"[]", out)
		}
		return
	}
	props, _ := r["properties"].(map[string]any)
	var required []string
	if req, ok := r["required"].([]any); ok {
		for _, k := range req {
			required = append(required, k.(string))
		}
	}
	for k := range props {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		node := props[k].(map[string]any)
		out[p] = schemaField{node: node, required: slices.Contains(required, k)}
		s.fields(t, node, p, out)
	}
}

// goField is a YAML key of the Go types.
type goField struct {
	typ      reflect.Type
	required bool // no omitempty: the loader requires it
}

func goFields(t reflect.Type, prefix string, out map[string]goField) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		goFields(t.Elem(), prefix+"[]", out)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			out[p] = goField{typ: f.Type, required: !strings.Contains(opts, "omitempty")}
			goFields(f.Type, p, out)
		}
	}
}

// jsonType is the JSON type a schema node admits.
func (s schemaDoc) jsonType(t testing.TB, n map[string]any) string {
	r := s.resolve(t, n)
	if typ, ok := r["type"].(string); ok {
		return typ
	}
	vals, _ := r["enum"].([]any)
	if c, ok := r["const"]; ok {
		vals = append(vals, c)
	}
	if len(vals) > 0 {
		for _, v := range vals {
			if _, ok := v.(string); !ok {
				return "mixed"
			}
		}
		return "string"
	}
	return "any"
}

func (s schemaDoc) enum(t testing.TB, n map[string]any) []string {
	r := s.resolve(t, n)
	var out []string
	if vals, ok := r["enum"].([]any); ok {
		for _, v := range vals {
			out = append(out, v.(string))
		}
	}
	if c, ok := r["const"].(string); ok {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func sorted[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	sort.Strings(out)
	return out
}

// TestSchemaMatchesGoTypes keeps runbook.schema.json and the Go types from
// drifting apart: the same keys, the same required keys, compatible types,
// the same enumerations, and no object open to unknown keys.
func TestSchemaMatchesGoTypes(t *testing.T) {
	s := loadSchemaDoc(t)
	if s.root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", s.root["$schema"])
	}
	inSchema := map[string]schemaField{}
	s.fields(t, s.root, "", inSchema)
	inGo := map[string]goField{}
	goFields(reflect.TypeFor[runbooks.Runbook](), "", inGo)

	for p := range inGo {
		if _, ok := inSchema[p]; !ok {
			t.Errorf("YAML key %s of the Go types is missing from the schema", p)
		}
	}
	for p := range inSchema {
		if _, ok := inGo[p]; !ok {
			t.Errorf("schema property %s is not a YAML key of the Go types", p)
		}
	}

	var (
		durationT  = reflect.TypeFor[runbooks.Duration]()
		clockT     = reflect.TypeFor[runbooks.ClockTime]()
		channelT   = reflect.TypeFor[runbooks.Channel]()
		confirmT   = reflect.TypeFor[runbooks.Confirmation]()
		audiencesP = "phases.daily_report.audiences"
	)
	for p, g := range inGo {
		sf, ok := inSchema[p]
		if !ok {
			continue
		}
		if sf.required != g.required {
			t.Errorf("%s: required in schema = %v, but the Go field says required = %v (omitempty means optional)", p, sf.required, g.required)
		}
		typ := g.typ
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch {
		case typ == durationT:
			if sf.node["$ref"] != "#/$defs/PositiveDuration" {
				t.Errorf("%s: a Duration must use #/$defs/PositiveDuration, has %v", p, sf.node)
			}
		case typ == clockT:
			if sf.node["$ref"] != "#/$defs/ClockTime" {
				t.Errorf("%s: a ClockTime must use #/$defs/ClockTime, has %v", p, sf.node)
			}
		default:
			want := map[reflect.Kind]string{
				reflect.String: "string", reflect.Int: "integer", reflect.Float64: "number",
				reflect.Bool: "boolean", reflect.Slice: "array", reflect.Struct: "object",
			}[typ.Kind()]
			if got := s.jsonType(t, sf.node); got != want {
				t.Errorf("%s: schema type %s, Go type %s wants %s", p, got, typ, want)
			}
		}
		if typ.Kind() == reflect.Slice {
			items, _ := s.resolve(t, sf.node)["items"].(map[string]any)
			var want []string
			switch {
			case typ.Elem() == channelT:
				want = sorted(runbooks.Channels())
			case typ.Elem() == confirmT:
				want = sorted(runbooks.Confirmations())
			case p == audiencesP:
				want = sorted(runbooks.Audiences())
			}
			if want != nil && !slices.Equal(s.enum(t, items), want) {
				t.Errorf("%s: schema enum %v, Go constants %v", p, s.enum(t, items), want)
			}
		}
	}
	if got := s.enum(t, inSchema["kind"].node); !slices.Equal(got, []string{runbooks.KindRunbook}) {
		t.Errorf("kind: schema allows %v, want only %q", got, runbooks.KindRunbook)
	}

	for name, d := range s.defs {
		def := d.(map[string]any)
		if _, isObject := def["properties"]; isObject && def["additionalProperties"] != false {
			t.Errorf("$defs/%s: additionalProperties must be false, so typos are caught in the editor", name)
		}
	}
}

// compileSchema compiles the embedded schema with a real validator.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(runbooks.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(runbooks.SchemaFile, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(runbooks.SchemaFile)
	if err != nil {
		t.Fatalf("compile the schema: %v", err)
	}
	return sch
}

// yamlInstance turns YAML into the JSON value a schema validates.
func yamlInstance(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(j))
}

func TestSchemaAcceptsBuiltins(t *testing.T) {
	sch := compileSchema(t)
	for _, id := range runbooks.BuiltinIDs() {
		data, err := os.ReadFile(id + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		inst, err := yamlInstance(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if !bytes.HasPrefix(data, []byte("# yaml-language-server: $schema="+runbooks.SchemaFile+"\n")) {
			t.Errorf("%s.yaml should start with the yaml-language-server schema line", id)
		}
	}
}

// TestSchemaRejectsBrokenRunbooks: an editor flags what the loader rejects,
// except rules the schema cannot express.
func TestSchemaRejectsBrokenRunbooks(t *testing.T) {
	loaderOnly := map[string]string{
		"ratio-without-recall.yaml": "a confirmed ratio needs a recall phase: a rule across phases",
		"syntax-error.yaml":         "not YAML, nothing to validate",
	}
	sch := compileSchema(t)
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := yamlInstance(data)
			if err != nil {
				if _, ok := loaderOnly[name]; !ok {
					t.Fatalf("cannot read as YAML: %v", err)
				}
				return
			}
			err = sch.Validate(inst)
			if why, ok := loaderOnly[name]; ok {
				if err != nil {
					t.Errorf("the schema now rejects it (%v); remove it from loaderOnly (%s)", err, why)
				}
				return
			}
			if err == nil {
				t.Errorf("the schema accepts a runbook the loader rejects")
			}
		})
	}
}
