//go:build tools

// Package tools pins the development tools breachflow builds from source:
// the Temporal CLI (dev server), staticcheck and workflowcheck. They live in
// their own module so their dependencies never leak into the product's go.mod.
package tools

import (
	_ "github.com/temporalio/cli/cmd/temporal"
	_ "go.temporal.io/sdk/contrib/tools/workflowcheck"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
