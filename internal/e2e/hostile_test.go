//go:build integration

package e2e_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/recipients/recipientstest"
)

// rssLimit is the peak resident memory any list file may cost
// `starter recipients check` (SECURITY.md, "Input limits").
const rssLimit = 256 << 20

// Every hostile list file is refused by the real CLI with an error that
// says what was refused, and the largest lists accepted are read whole,
// each within rssLimit as /usr/bin/time -v measures it.
func TestHostileFiles_BoundedMemory(t *testing.T) {
	starter := binary(t, "starter")
	dir := t.TempDir()
	type file struct {
		name    string
		write   func(*os.File) error
		refusal string // empty: accepted
	}
	var files []file
	for _, h := range recipientstest.Files() {
		files = append(files, file{h.Name, func(f *os.File) error { return h.Write(f) }, h.Refusal})
	}
	files = append(files,
		file{"largest.xlsx", func(f *os.File) error { return recipientstest.Largest(f) }, ""},
		file{"largest.csv", func(f *os.File) error { return largestCSV(f) }, ""},
		file{"rows-beyond-limit.csv", func(f *os.File) error {
			w := bufio.NewWriter(f)
			w.WriteString("email\n")
			for i := range recipients.MaxRows {
				fmt.Fprintf(w, "m%d@example.jp\n", i%10)
			}
			return w.Flush()
		}, fmt.Sprintf("more than %d rows", recipients.MaxRows)},
	)
	for _, fl := range files {
		t.Run(fl.name, func(t *testing.T) {
			path := filepath.Join(dir, fl.name)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := fl.write(f); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			out, rss, err := measure(t, starter, "recipients", "check", path)
			defer os.Remove(path)
			t.Logf("peak RSS %d MiB", rss>>20)
			if rss >= rssLimit {
				t.Errorf("peak RSS %d MiB, want < %d MiB", rss>>20, rssLimit>>20)
			}
			switch {
			case fl.refusal == "" && err != nil:
				t.Errorf("refused: %v\n%s", err, tail(out))
			case fl.refusal != "" && err == nil:
				t.Errorf("accepted, want %q", fl.refusal)
			case fl.refusal != "" && !strings.Contains(out, fl.refusal):
				t.Errorf("the refusal does not say %q:\n%s", fl.refusal, tail(out))
			}
		})
	}
}

// largestCSV writes the longest list accepted: MaxRows lines, a header and
// distinct recipients with a name and a phone.
func largestCSV(f *os.File) error {
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("email,name,phone\n")
	for i := range recipients.MaxRows - 1 {
		fmt.Fprintf(w, "member%07d@example%d.co.jp,会員 %d,090%08d\n", i, i%97, i, i)
	}
	return w.Flush()
}

var maxRSS = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// measure runs a command under /usr/bin/time -v (the kernel's rusage of
// the child when it is not installed) and returns its output and peak RSS
// in bytes.
func measure(t *testing.T, name string, args ...string) (string, int64, error) {
	t.Helper()
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOMEMLIMIT=") && !strings.HasPrefix(e, "GOGC=") {
			env = append(env, e)
		}
	}
	var out bytes.Buffer
	timeFile := filepath.Join(t.TempDir(), "time")
	var cmd *exec.Cmd
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		cmd = exec.Command("/usr/bin/time", append([]string{"-v", "-o", timeFile, name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	var rss int64
	if b, rerr := os.ReadFile(timeFile); rerr == nil {
		m := maxRSS.FindSubmatch(b)
		if m == nil {
			t.Fatalf("no peak RSS in /usr/bin/time's report:\n%s", b)
		}
		kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
		rss = kb << 10
	} else {
		rss = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	}
	return out.String(), rss, err
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
