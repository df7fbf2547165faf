package yamldoc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxFileBytes is the largest runbook or regime file (SECURITY.md, "Input
// limits"): the largest shipped runbook is under 20 KiB.
const MaxFileBytes = 1 << 20

// ErrTooLarge is returned (wrapped) by ReadFile for a file beyond
// MaxFileBytes.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads a runbook or regime file, refusing one larger than
// MaxFileBytes without reading it whole.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, tooLarge()
	}
	return data, nil
}

func tooLarge() error {
	return fmt.Errorf("%w: more than %d KiB; a runbook or regime file is at most %d KiB", ErrTooLarge, MaxFileBytes>>10, MaxFileBytes>>10)
}

// sizeDiagnostic reports data beyond MaxFileBytes.
func sizeDiagnostic(file string, data []byte) Diagnostics {
	if len(data) <= MaxFileBytes {
		return nil
	}
	return Diagnostics{{File: file, Line: 1, Col: 1, Problem: "the file is too large: " + tooLarge().Error(),
		Hint: "split it, or remove what is not a runbook or regime"}}
}
