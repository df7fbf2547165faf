package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/yamldoc"
	"github.com/breachflow/breachflow/runbooks"
	"github.com/breachflow/breachflow/runbooks/regimes"
	"github.com/breachflow/breachflow/workflows"
)

// cmdValidate checks runbook and regime files: every problem as
// file:line:col: field: problem (hint), exit 1 on any.
func cmdValidate(_ context.Context, _ *slog.Logger, args []string) error {
	if len(args) == 0 {
		return exitError{2, "usage: starter validate FILE..."}
	}
	var all yamldoc.Diagnostics
	for _, path := range args {
		all = append(all, validateFile(path)...)
	}
	for _, d := range all {
		fmt.Println(d.String())
	}
	if len(all) > 0 {
		return exitError{1, fmt.Sprintf("%d problem(s) in %d file(s)", len(all), len(args))}
	}
	fmt.Printf("%d file(s) valid\n", len(args))
	return nil
}

func validateFile(path string) yamldoc.Diagnostics {
	data, err := yamldoc.ReadFile(path)
	if err != nil {
		return yamldoc.Diagnostics{{File: path, Line: 1, Col: 1, Problem: "cannot read the file: " + err.Error()}}
	}
	switch kind := runbooks.DetectKind(data); kind {
	case "runbook":
		snap, diags := runbooks.Load(path, data)
		if len(diags) > 0 {
			return diags
		}
		return unknownRegimes(path, data, snap.Runbook)
	case "regime":
		_, diags := regimes.Load(path, data)
		return diags
	case "":
		// A file that is not YAML at all says where it breaks, not that
		// it lacks a kind.
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			_, diags := yamldoc.Decode(path, data, &struct{}{})
			return diags
		}
		return yamldoc.Diagnostics{{File: path, Line: 1, Col: 1, Field: "kind", Problem: "missing", Hint: "start the file with 'kind: runbook' or 'kind: regime'"}}
	default:
		return yamldoc.Diagnostics{{File: path, Line: 1, Col: 1, Field: "kind", Problem: fmt.Sprintf("unknown kind %q", kind), Hint: "use 'kind: runbook' or 'kind: regime'"}}
	}
}

// unknownRegimes reports the regime IDs of a runbook that no built-in
// regime has: the obligations would then be a legal review only, without
// the regime's clocks (a typo such as JP-APPII would go unnoticed).
func unknownRegimes(path string, data []byte, rb runbooks.Runbook) yamldoc.Diagnostics {
	known, err := builtinRegimeIDs()
	if err != nil {
		return yamldoc.Diagnostics{{File: path, Line: 1, Col: 1, Problem: err.Error()}}
	}
	var diags yamldoc.Diagnostics
	doc, _ := yamldoc.Decode(path, data, &runbooks.Runbook{})
	check := func(field string, ids []string) {
		for i, id := range ids {
			if !slices.Contains(known, id) {
				diags = append(diags, doc.Errorf(fmt.Sprintf("%s[%d]", field, i),
					"use one of "+strings.Join(known, ", "),
					"no built-in regime %q: its obligations would be a legal review only, without deadlines", id))
			}
		}
	}
	check("regimes", rb.Regimes)
	if o := rb.Phases.Obligations; o != nil {
		check("phases.obligations.regimes", o.Regimes)
	}
	return diags
}

// builtinRegimeIDs lists the regimes the workflows evaluate.
func builtinRegimeIDs() ([]string, error) {
	regs, err := regimes.Builtin()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(regs))
	for _, r := range regs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids, nil
}

// cmdRecipients checks a recipient list: counts, every duplicate and every
// reject; exit 1 when any row was rejected.
func cmdRecipients(ctx context.Context, logger *slog.Logger, args []string) error {
	if len(args) > 0 && args[0] == "put" {
		return cmdRecipientsPut(ctx, args[1:])
	}
	if len(args) > 0 && args[0] != "check" && args[0] != "help" {
		// starter recipients status|confirm|close: one recipient's recall.
		return stepCommand(recipientNoun)(ctx, logger, args)
	}
	if len(args) == 0 || args[0] != "check" {
		return exitError{2, "usage: starter recipients check FILE [--json] [--encoding auto|utf8|sjis]\n       starter recipients put FILE"}
	}
	fs := flag.NewFlagSet("recipients check", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the report as JSON (stable, see docs/recipients.md)")
	encoding := fs.String("encoding", "auto", "auto, utf8 or sjis")
	path, rest := firstArg(args[1:])
	if err := fs.Parse(rest); err != nil {
		return exitError{code: 2}
	}
	if path == "" {
		if path = fs.Arg(0); path == "" {
			return exitError{2, "usage: starter recipients check FILE [--json] [--encoding auto|utf8|sjis]"}
		}
	}
	enc, err := recipients.ParseEncoding(*encoding)
	if err != nil {
		return exitError{2, "starter recipients check: --encoding: " + err.Error()}
	}
	opts := recipients.Options{Encoding: enc}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := recipients.Check(f, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(os.Stdout); err != nil {
		return err
	}
	if rep.RejectedCount > 0 {
		return exitError{code: 1}
	}
	return nil
}

// cmdSearchAttributes prints `--search-attribute Name=Type` flags for
// `temporal server start-dev`, one per line.
func cmdSearchAttributes(_ context.Context, _ *slog.Logger, _ []string) error {
	for _, sa := range workflows.SearchAttributes() {
		fmt.Printf("--search-attribute %s=%s\n", sa.Name, sa.CLIType())
	}
	return nil
}

// cmdRecipientsPut stores a list in the list store and prints its
// reference, for the Slack declare form.
func cmdRecipientsPut(ctx context.Context, args []string) error {
	path, _ := firstArg(args)
	if path == "" {
		return exitError{2, "usage: starter recipients put FILE"}
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	ref, err := storeList(ctx, cfg, path)
	if err != nil {
		return err
	}
	fmt.Printf("%s\t%d recipients\n", ref.RefString(), ref.Count)
	return nil
}
