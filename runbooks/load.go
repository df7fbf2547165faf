package runbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"

	// Time zones of calling hours and daily reports must resolve on
	// machines without a tzdata package (containers, CI).
	_ "time/tzdata"

	"gopkg.in/yaml.v3"

	"github.com/breachflow/breachflow/internal/yamldoc"
)

// Load decodes a runbook strictly (unknown keys, duplicate keys and wrong
// types are errors) and validates it. Every problem is reported in one pass,
// each as file:line:col: field: problem (hint: what to do), sorted by
// position. file names the source in diagnostics and becomes
// Snapshot.Source.
//
// When the diagnostics are not empty the returned Snapshot is the zero value
// and must not be used.
func Load(file string, data []byte) (Snapshot, yamldoc.Diagnostics) {
	var rb Runbook
	doc, diags := yamldoc.Decode(file, data, &rb)
	diags = append(diags, validate(doc, &rb, diags)...)
	if len(diags) > 0 {
		diags.Sort()
		return Snapshot{}, diags
	}
	normalize(reflect.ValueOf(&rb).Elem())
	sum := sha256.Sum256(data)
	return Snapshot{Runbook: rb, SHA256: hex.EncodeToString(sum[:]), Source: file}, nil
}

// LoadFile reads and loads a runbook file. A file that cannot be read is
// reported as a diagnostic at line 1 like any other problem.
func LoadFile(path string) (Snapshot, yamldoc.Diagnostics) {
	data, err := yamldoc.ReadFile(path)
	if err != nil {
		return Snapshot{}, yamldoc.Diagnostics{{
			File: path, Line: 1, Col: 1,
			Problem: "cannot read the file: " + err.Error(),
			Hint:    "check the path and that the file is readable",
		}}
	}
	return Load(path, data)
}

// DetectKind returns the value of the top-level "kind" key of a YAML
// document ("runbook", "regime", ...), or "" when the data is not YAML,
// not a mapping, or has no textual kind.
func DetectKind(data []byte) string {
	if len(data) > yamldoc.MaxFileBytes {
		return ""
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return ""
	}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "kind" && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			return v.Value
		}
	}
	return ""
}

// normalize replaces empty slices by nil, so a runbook that says
// "reminders: []" and one that leaves reminders out are the same value.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if !v.IsNil() {
				v.SetZero()
			}
			return
		}
		for i := range v.Len() {
			normalize(v.Index(i))
		}
	}
}
