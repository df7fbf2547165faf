package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/breachflow/breachflow/internal/approvals"
)

const approverKeyUsage = "usage: starter approver-key ID [--out FILE]"

// cmdApproverKey makes an approver's key: the private key goes to a file
// only its holder keeps (mode 0600, never overwritten), the public entry
// for BREACHFLOW_APPROVER_KEYS is printed. ID "slack" is the front door's
// key (BREACHFLOW_SLACK_APPROVAL_KEY_FILE).
func cmdApproverKey(_ context.Context, _ *slog.Logger, args []string) error {
	return approverKey(os.Stdout, args)
}

func approverKey(stdout io.Writer, args []string) error {
	fl := flag.NewFlagSet("approver-key", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	out := fl.String("out", "", "where to write the private key (default ID.approver-key)")
	id, rest := firstArg(args)
	if err := fl.Parse(rest); err != nil || id == "" {
		return exitError{2, approverKeyUsage}
	}
	file, entry, err := approvals.GenerateKey(id)
	if err != nil {
		return exitError{2, "starter approver-key: " + err.Error()}
	}
	path := *out
	if path == "" {
		path = id + ".approver-key"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return exitError{2, fmt.Sprintf("starter approver-key: %s exists: a key is never overwritten; choose another --out", path)}
	}
	if err != nil {
		return fmt.Errorf("approver key: %w", err)
	}
	if _, err := f.WriteString(file); err != nil {
		f.Close()
		return fmt.Errorf("approver key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("approver key: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s's private key to %s (keep it to yourself: it signs your approvals)\n", id, path)
	fmt.Fprintf(stdout, "add to BREACHFLOW_APPROVER_KEYS on the workers (entries separated by ;):\n%s\n", entry)
	return nil
}
