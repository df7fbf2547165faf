//go:build integration && !linux

package e2e_test

import "syscall"

// childProcAttr: without Pdeathsig, children are stopped by the tests'
// cleanups only.
func childProcAttr() *syscall.SysProcAttr { return nil }
