package workflows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/workflows"
)

// Every query, update and signal the workflows declare has a description
// the Temporal UI shows, and every timer a summary: no bare "Sleep".
func TestHandlersDescribedAndTimersSummarised(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	names := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if !strings.HasPrefix(id.Name, "Query") && !strings.HasPrefix(id.Name, "Update") && !strings.HasPrefix(id.Name, "Signal") {
						continue
					}
					if i >= len(n.Values) {
						continue
					}
					lit, ok := n.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					names++
					if workflows.HandlerDescriptions[v] == "" {
						t.Errorf("%s (%q, %s) has no description in handlerDescriptions", id.Name, v, file)
					}
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "workflow" && (n.Sel.Name == "Sleep" || n.Sel.Name == "NewTimer") {
					t.Errorf("%s: workflow.%s has no summary: use sleep(ctx, d, summary) or NewTimerWithOptions", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	if names < 30 {
		t.Fatalf("found only %d handler names: the scan is broken", names)
	}
}
