package deploy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/version"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A Dockerfile, reduced to what the tests need: the global ARG defaults and
// the stages with their instructions.
type dockerfile struct {
	args   map[string]string // ARG defaults before the first FROM
	stages []*stage
}

type stage struct {
	name, base string
	instrs     []instruction
}

type instruction struct {
	line int    // of the first physical line
	cmd  string // upper case: RUN, COPY, ...
	args string
}

// parseDockerfile joins continuation lines, drops comments (including the
// ones inside a continued instruction, as docker does) and splits stages.
func parseDockerfile(text string) (*dockerfile, error) {
	df := &dockerfile{args: map[string]string{}}
	var (
		cur     strings.Builder
		curLine int
	)
	flush := func() error {
		logical := strings.TrimSpace(cur.String())
		cur.Reset()
		if logical == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(logical, " ")
		in := instruction{line: curLine, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			var words []string
			for _, w := range f {
				if !strings.HasPrefix(w, "--") {
					words = append(words, w)
				}
			}
			st := &stage{}
			switch {
			case len(words) == 1:
			case len(words) == 3 && strings.EqualFold(words[1], "AS"):
				st.name = words[2]
			default:
				return fmt.Errorf("line %d: FROM %s: want FROM image [AS name]", in.line, in.args)
			}
			st.base = words[0]
			df.stages = append(df.stages, st)
		case len(df.stages) == 0:
			if in.cmd == "ARG" {
				name, def, _ := strings.Cut(in.args, "=")
				df.args[name] = def
			}
		default:
			st := df.stages[len(df.stages)-1]
			st.instrs = append(st.instrs, in)
		}
		return nil
	}

	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if cur.Len() == 0 {
			curLine = n
		}
		trimmed := strings.TrimRight(line, " \t")
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation at the end of the file", curLine)
	}
	return df, nil
}

func (df *dockerfile) stage(name string) *stage {
	for _, st := range df.stages {
		if st.name != "" && st.name == name {
			return st
		}
	}
	return nil
}

// chain is the stage and every stage it is built FROM, nearest first.
func (df *dockerfile) chain(st *stage) []*stage {
	var c []*stage
	for st != nil && !slices.Contains(c, st) {
		c = append(c, st)
		st = df.stage(st.base)
	}
	return c
}

var argRef = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// expand substitutes the global ARG defaults, as docker does in FROM.
func (df *dockerfile) expand(s string) string {
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		return df.args[sub[1]+sub[2]]
	})
}

// splitWords splits a shell command line into words, honouring quotes and
// backslashes; enough for the RUN lines of a Dockerfile.
func splitWords(s string) []string {
	var (
		words []string
		w     strings.Builder
		in    bool // inside a word
		quote rune
	)
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// goBuild is one `go build` in a RUN instruction.
type goBuild struct {
	output   string
	packages []string
	env      []string // VAR=value words before the command
	mounts   []string // --mount= options of the RUN
}

// goBuilds finds the `go build` commands of a RUN instruction.
func goBuilds(run string) []goBuild {
	var (
		builds []goBuild
		mounts []string
		words  = splitWords(run)
	)
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		if m, ok := strings.CutPrefix(words[0], "--mount="); ok {
			mounts = append(mounts, m)
		}
		words = words[1:]
	}
	// Split into simple commands at && ; ||.
	var cmds [][]string
	start := 0
	for i, w := range words {
		if w == "&&" || w == ";" || w == "||" {
			cmds = append(cmds, words[start:i])
			start = i + 1
		}
	}
	cmds = append(cmds, words[start:])

	for _, cmd := range cmds {
		var envs []string
		for len(cmd) > 0 && strings.Contains(cmd[0], "=") && !strings.HasPrefix(cmd[0], "-") {
			envs = append(envs, cmd[0])
			cmd = cmd[1:]
		}
		if len(cmd) < 2 || cmd[0] != "go" || cmd[1] != "build" {
			continue
		}
		b := goBuild{env: envs, mounts: mounts}
		for i := 2; i < len(cmd); i++ {
			switch w := cmd[i]; {
			case w == "-o" && i+1 < len(cmd):
				b.output = cmd[i+1]
				i++
			case strings.HasPrefix(w, "-o="):
				b.output = strings.TrimPrefix(w, "-o=")
			case strings.HasPrefix(w, "-"):
				// other flags, all in the -flag=value form
			default:
				b.packages = append(b.packages, w)
			}
		}
		builds = append(builds, b)
	}
	return builds
}

// shippedBinary is a file COPY'd into a target from the output of a
// `go build` in another stage.
type shippedBinary struct {
	path  string // in the target image
	build goBuild
	env   []string // ENV of the build stages, as KEY=value
}

func (df *dockerfile) shippedBinaries(target *stage) []shippedBinary {
	var bins []shippedBinary
	for _, in := range target.instrs {
		if in.cmd != "COPY" {
			continue
		}
		words := strings.Fields(in.args)
		var from string
		var paths []string
		for _, w := range words {
			if f, ok := strings.CutPrefix(w, "--from="); ok {
				from = f
			} else if !strings.HasPrefix(w, "--") {
				paths = append(paths, w)
			}
		}
		if from == "" || len(paths) != 2 {
			continue
		}
		src, dst := paths[0], paths[1]
		chain := df.chain(df.stage(from))
		var env []string
		for _, st := range chain {
			for _, i := range st.instrs {
				if i.cmd == "ENV" {
					env = append(env, splitWords(i.args)...)
				}
			}
		}
		for _, st := range chain {
			for _, i := range st.instrs {
				if i.cmd != "RUN" {
					continue
				}
				for _, b := range goBuilds(i.args) {
					if b.output == src {
						bins = append(bins, shippedBinary{path: dst, build: b, env: env})
					}
				}
			}
		}
	}
	return bins
}

func readDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := parseDockerfile(string(b))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return df
}

func TestDockerfileTargets(t *testing.T) {
	df := readDockerfile(t)
	tests := []struct {
		target, pkg string
	}{
		{"worker", "./worker"},
		{"starter", "./starter"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			st := df.stage(tt.target)
			if st == nil {
				t.Fatalf("no stage %q (docker-compose.yml builds it)", tt.target)
			}
			if df.stage(st.base) != nil {
				t.Errorf("FROM %s: want a runtime base image, not a build stage", st.base)
			}

			var entrypoint []string
			user := ""
			for _, in := range st.instrs {
				switch in.cmd {
				case "ENTRYPOINT":
					entrypoint = nil
					if err := json.Unmarshal([]byte(in.args), &entrypoint); err != nil {
						t.Errorf("line %d: ENTRYPOINT %s: want the exec form: %v", in.line, in.args, err)
					}
				case "USER":
					user = in.args
				}
			}
			if name, _, _ := strings.Cut(user, ":"); user == "" || name == "root" || name == "0" {
				t.Errorf("USER = %q, want a non-root user", user)
			}
			if len(entrypoint) == 0 {
				t.Fatal("no ENTRYPOINT")
			}

			bins := df.shippedBinaries(st)
			i := slices.IndexFunc(bins, func(b shippedBinary) bool { return b.path == entrypoint[0] })
			if i < 0 {
				t.Fatalf("ENTRYPOINT %s is not a binary built by go build and copied in (found %+v)", entrypoint[0], bins)
			}
			b := bins[i]
			if !slices.Equal(b.build.packages, []string{tt.pkg}) {
				t.Errorf("ENTRYPOINT %s is built from %q, want %s", b.path, b.build.packages, tt.pkg)
			}
			if !slices.Contains(b.build.env, "CGO_ENABLED=0") && !slices.Contains(b.env, "CGO_ENABLED=0") {
				t.Errorf("go build -o %s: CGO_ENABLED=0 not set; the base image has no libc", b.build.output)
			}
			if !slices.ContainsFunc(b.build.mounts, func(m string) bool {
				return strings.Contains(m, "type=cache") && strings.Contains(m, "target=/go/pkg/mod")
			}) {
				t.Errorf("go build -o %s: no cache mount on the module cache /go/pkg/mod", b.build.output)
			}
		})
	}
}

func TestDockerfileBaseImagesPinned(t *testing.T) {
	df := readDockerfile(t)
	if len(df.stages) == 0 {
		t.Fatal("no FROM")
	}
	for _, st := range df.stages {
		if df.stage(st.base) != nil {
			continue
		}
		if img := df.expand(st.base); !imagePinned(img) {
			t.Errorf("FROM %s (%s): not pinned to a version", st.base, img)
		}
	}
}

// TestDockerfileGoVersion checks that the builder's Go is at least the go
// directive of go.mod, which the toolchain would otherwise try to download.
func TestDockerfileGoVersion(t *testing.T) {
	df := readDockerfile(t)
	mod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)\s*$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod: no go directive")
	}
	want := "go" + string(m[1])

	found := false
	for _, st := range df.stages {
		img := df.expand(st.base)
		tag, ok := strings.CutPrefix(img, "golang:")
		if !ok {
			continue
		}
		found = true
		tag, _, _ = strings.Cut(tag, "-") // 1.26-bookworm
		got := "go" + tag
		if !version.IsValid(got) || version.Compare(version.Lang(got), version.Lang(want)) < 0 {
			t.Errorf("FROM %s: Go %s, but go.mod says go %s", st.base, tag, m[1])
		}
	}
	if !found {
		t.Error("no golang:<version> build stage")
	}
}

func TestParseDockerfile(t *testing.T) {
	const text = `# syntax=docker/dockerfile:1
ARG V=1.2
FROM --platform=$BUILDPLATFORM golang:${V} AS b
RUN --mount=type=cache,target=/go/pkg/mod \
    # a comment inside a continuation
    CGO_ENABLED=0 go build -ldflags="-s -w" -o /out/x ./cmd/x && echo done
FROM b AS b2
RUN go build -o=/out/y ./y
FROM scratch AS final
COPY --from=b2 /out/x /x
COPY --from=b2 /out/y /y
ENTRYPOINT ["/x"]
`
	df, err := parseDockerfile(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := df.expand(df.stages[0].base); got != "golang:1.2" {
		t.Errorf("expanded base = %q, want golang:1.2", got)
	}
	bins := df.shippedBinaries(df.stage("final"))
	var got []string
	for _, b := range bins {
		got = append(got, fmt.Sprintf("%s<-%s %q %q", b.path, b.build.output, b.build.packages, b.build.env))
	}
	want := []string{
		`/x<-/out/x ["./cmd/x"] ["CGO_ENABLED=0"]`,
		`/y<-/out/y ["./y"] []`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("shipped binaries:\n got %q\nwant %q", got, want)
	}
	if m := bins[0].build.mounts; !slices.Equal(m, []string{"type=cache,target=/go/pkg/mod"}) {
		t.Errorf("mounts = %q", m)
	}

	for _, bad := range []string{
		"FROM a b c d\n",
		"FROM a AS b\nRUN x \\\n",
	} {
		if _, err := parseDockerfile(bad); err == nil {
			t.Errorf("parseDockerfile(%q) succeeded, want an error", bad)
		}
	}
}
