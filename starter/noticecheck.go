package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/incidents"
	"github.com/breachflow/breachflow/internal/recipients"
)

const noticesUsage = "usage: starter notices check MESSAGE_FILE --list FILE|sha256:REF [--recipient EMAIL] [--json]"

// cmdNotices is `starter notices check`: the check every notice passes
// before it can be approved, run on a text a responder is drafting.
func cmdNotices(ctx context.Context, _ *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return exitError{2, noticesUsage}
	}
	return noticesCheck(ctx, os.Getenv, os.Stdout, args[1:])
}

// noticeCheckResult is what --json prints.
type noticeCheckResult struct {
	OK       bool                  `json:"ok"`
	People   int                   `json:"people_checked"`
	Findings []contentscan.Finding `json:"findings"`
}

// noticesCheck checks MESSAGE_FILE (UTF-8 text) against the pattern rules
// (addresses, numbers, lists of people) and against every person on the
// list, allowing the message's own recipient (--recipient) and the
// organisation's published contacts and address (BREACHFLOW_PUBLISHED_CONTACTS,
// BREACHFLOW_CONTACT_*, BREACHFLOW_ORG_*). Exit 0: it may be sent; 1:
// refused, a line per finding (LINE:COL: rule), never the data; 2: usage
// or input error.
func noticesCheck(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("notices check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	list := fs.String("list", "", "the incident's people: a CSV/XLSX list, or a stored list's sha256:REF")
	self := fs.String("recipient", "", "the e-mail address of the message's own recipient, whose data it may hold")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	path, rest := firstArg(args)
	if err := fs.Parse(rest); err != nil {
		return exitError{2, fmt.Sprintf("starter notices check: %v\n%s", err, noticesUsage)}
	}
	if path == "" {
		path = fs.Arg(0)
	}
	if path == "" || *list == "" {
		return exitError{2, noticesUsage}
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return exitError{2, fmt.Sprintf("starter notices check: %v", err)}
	}
	if !utf8.Valid(body) {
		return exitError{2, fmt.Sprintf("starter notices check: %s is not UTF-8 text: save it as UTF-8", path)}
	}
	nc, err := activities.LoadNoticeConfig(getenv)
	if err != nil {
		return exitError{2, fmt.Sprintf("starter notices check: %v", err)}
	}
	text := string(body)
	allow := nc.Published
	if e := nc.Org.ContactEmail; e != "" {
		allow.Emails = append(allow.Emails, e)
	}
	if p := nc.Org.ContactPhone; p != "" {
		allow.Phones = append(allow.Phones, p)
	}
	msg := contentscan.Message{To: []string{"recipient@invalid.invalid"}, Text: text}
	if *self != "" {
		msg.To = []string{*self}
	}
	findings := contentscan.Scan(msg, allow).Findings

	people, err := openPeople(ctx, getenv, *list)
	if err != nil {
		return exitError{2, fmt.Sprintf("starter notices check: --list %s: %v", *list, err)}
	}
	idx := contentscan.IndexText(contentscan.Part{Name: "text", Text: text})
	idx.Allow(allow.Emails...)
	idx.Allow(allow.Phones...)
	idx.Allow(nc.Sender.Address, nc.Sender.PostalCode+nc.Sender.Address)
	isSelf := func(r recipients.Recipient) bool {
		return *self != "" && strings.EqualFold(strings.TrimSpace(r.Email), strings.TrimSpace(*self))
	}
	if *self != "" {
		// The recipient's own data, whoever else shares a value of it.
		found := false
		if err := people(func(r recipients.Recipient) error {
			if isSelf(r) {
				found = true
				idx.Allow(r.Name, r.Kana, r.Email, r.Phone, r.Address, r.PostalCode+" "+r.Address)
			}
			return nil
		}); err != nil {
			return exitError{2, fmt.Sprintf("starter notices check: --list %s: %v", *list, err)}
		}
		if !found {
			return exitError{2, "starter notices check: --recipient: nobody on the list has that address"}
		}
	}
	col := contentscan.NewCollector()
	n := 0
	if err := people(func(r recipients.Recipient) error {
		n++
		if !isSelf(r) {
			col.Add(idx.Find(r.Person()))
		}
		return nil
	}); err != nil {
		return exitError{2, fmt.Sprintf("starter notices check: --list %s: %v", *list, err)}
	}
	findings = append(findings, col.Findings()...)

	res := noticeCheckResult{OK: len(findings) == 0, People: n, Findings: findings}
	if res.Findings == nil {
		res.Findings = []contentscan.Finding{}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else if res.OK {
		fmt.Fprintf(stdout, "ok: it may be sent (checked against %d people)\n", n)
	} else {
		for _, f := range findings {
			fmt.Fprintf(stdout, "%d:%d: %s\n", max(f.Line, 1), max(f.Col, 1), f.Rule)
		}
	}
	if !res.OK {
		return exitError{code: 1}
	}
	return nil
}

// openPeople returns a function that gives every person of a list (a
// file, read afresh each time, or a stored sha256:REF) to fn.
func openPeople(ctx context.Context, getenv func(string) string, v string) (func(fn func(recipients.Recipient) error) error, error) {
	if strings.HasPrefix(v, "sha256:") {
		cfg, err := config.FromEnv()
		if err != nil {
			return nil, err
		}
		dir := cfg.ListDir
		if d := getenv("BREACHFLOW_LIST_DIR"); d != "" {
			dir = d
		}
		store := &recipients.Store{Dir: dir}
		ref, err := store.Resolve(ctx, v)
		if err != nil {
			return nil, err
		}
		return func(fn func(recipients.Recipient) error) error {
			for off := 0; off < ref.Count; off += 1000 {
				rs, err := store.Page(ctx, ref, off, 1000)
				if err != nil {
					return err
				}
				for _, r := range rs {
					if err := fn(r); err != nil {
						return err
					}
				}
			}
			return nil
		}, nil
	}
	if _, err := os.Stat(v); err != nil {
		return nil, err
	}
	return func(fn func(recipients.Recipient) error) error {
		f, err := os.Open(v)
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := recipients.Each(ctx, f, recipients.Options{}, fn)
		if err != nil {
			return err
		}
		if rep.RejectedCount > 0 {
			return errors.New("the list has rejected rows: fix them first (starter recipients check)")
		}
		return nil
	}, nil
}

// checkTyped refuses free text a person typed (a title, what leaked, the
// subject of the mis-sent mail) that breaks the notice rules or quotes
// anyone on the given stored lists: it would reach every recipient. The
// refusal names the flag, the line and column and the rule, never the data.
func checkTyped(ctx context.Context, cfg config.Config, parts []contentscan.Part, lists ...*recipients.ListRef) error {
	findings, err := incidents.CheckTyped(ctx, recipients.Store{Dir: cfg.ListDir}, parts, lists...)
	if err != nil {
		return err
	}
	if len(findings) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("refused: what you typed would reach every recipient, and it holds personal data (rewrite it without names, addresses or numbers):")
	for _, f := range findings {
		fmt.Fprintf(&b, "\n  %s:%d:%d: %s", f.Part, max(f.Line, 1), max(f.Col, 1), f.Rule)
	}
	return exitError{1, b.String()}
}
