//go:build integration && linux

package e2e_test

import "syscall"

// childProcAttr makes a child process die with the test binary, even when
// the test binary is killed (a timeout panic runs no cleanups).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
