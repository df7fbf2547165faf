package runbooks

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// builtinFS holds the built-in runbooks, one file per runbook named after
// its ID, and the JSON Schema of the format.
//
//go:embed *.yaml runbook.schema.json
var builtinFS embed.FS

// SchemaFile is the file name of the runbook JSON Schema beside the
// built-in runbooks; editors point at it with
// "# yaml-language-server: $schema=runbook.schema.json".
const SchemaFile = "runbook.schema.json"

// BuiltinIDs returns the IDs of the built-in runbooks, sorted.
func BuiltinIDs() []string {
	names, err := fs.Glob(builtinFS, "*.yaml")
	if err != nil {
		// The pattern is a constant and valid.
		panic(fmt.Sprintf("runbooks: glob built-ins: %v", err))
	}
	ids := make([]string, len(names))
	for i, n := range names {
		ids[i] = strings.TrimSuffix(n, ".yaml")
	}
	slices.Sort(ids)
	return ids
}

// Builtin loads a built-in runbook by ID. Its Source is "builtin:<id>" and
// its SHA256 that of the embedded file, so a snapshot names exactly the
// text it came from.
func Builtin(id string) (Snapshot, error) {
	if !slices.Contains(BuiltinIDs(), id) {
		return Snapshot{}, fmt.Errorf("no built-in runbook %q (built-ins: %s)", id, strings.Join(BuiltinIDs(), ", "))
	}
	file := id + ".yaml"
	data, err := builtinFS.ReadFile(file)
	if err != nil {
		return Snapshot{}, fmt.Errorf("read built-in runbook %q: %w", id, err)
	}
	snap, diags := Load(file, data)
	if len(diags) > 0 {
		return Snapshot{}, fmt.Errorf("built-in runbook %q is invalid:\n%w", id, diags)
	}
	if snap.Runbook.ID != id {
		return Snapshot{}, fmt.Errorf("built-in runbook file %s says id %q; the file must be named after the id", file, snap.Runbook.ID)
	}
	snap.Source = "builtin:" + id
	return snap, nil
}

// Schema returns the JSON Schema (draft 2020-12) of the runbook format.
func Schema() []byte {
	data, err := builtinFS.ReadFile(SchemaFile)
	if err != nil {
		// Embedded at build time; absent only if the build is broken.
		panic(fmt.Sprintf("runbooks: read embedded schema: %v", err))
	}
	return data
}
