package runbooks

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
)

// NoticeData is everything a broadcast template may refer to, as
// {{.IncidentID}}, {{.Organization}} and so on. It deliberately holds no
// address and no list of people: a notice goes to one recipient and names
// nobody else (the lesson of seeds 003 and 004).
type NoticeData struct {
	// IncidentID is the incident's ID, e.g. INC-20241112-7QK2ZP.
	IncidentID string
	// Organization is the name of the organisation writing.
	Organization string
	// ContactEmail is the dedicated contact address for questions.
	ContactEmail string
	// ContactPhone is the dedicated contact phone number.
	ContactPhone string
	// ContactHours says when ContactPhone is answered, e.g. "weekdays 11:00-17:00".
	ContactHours string
}

// noticeFields returns the field names of NoticeData, sorted.
func noticeFields() []string {
	t := reflect.TypeFor[NoticeData]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, t.Field(i).Name)
	}
	sort.Strings(names)
	return names
}

// Render fills the subject and body of a language ("ja" or "en") with data.
func (t Template) Render(lang string, data NoticeData) (subject, body string, err error) {
	subject, err = render("subject."+lang, t.Subject.In(lang), data)
	if err != nil {
		return "", "", err
	}
	body, err = render("body."+lang, t.Body.In(lang), data)
	if err != nil {
		return "", "", err
	}
	return subject, body, nil
}

func render(name, text string, data NoticeData) (string, error) {
	tmpl, err := checkTemplate(name, text)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// checkTemplate parses a notice template and checks that it only refers
// to fields of NoticeData, so a typo is caught when the runbook is loaded
// rather than when thousands of notices are being sent.
func checkTemplate(name, text string) (*template.Template, error) {
	tmpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	c := checker{known: map[string]bool{}}
	for _, f := range noticeFields() {
		c.known[f] = true
	}
	for _, t := range tmpl.Templates() {
		if t.Tree == nil || t.Root == nil {
			continue
		}
		if err := c.check(t.Root); err != nil {
			return nil, fmt.Errorf("template: %s: %w", t.Name(), err)
		}
	}
	for _, called := range c.called {
		if t := tmpl.Lookup(called); t == nil || t.Tree == nil {
			return nil, fmt.Errorf("template: %s: {{template %q}} names no {{define}}d template", name, called)
		}
	}
	return tmpl, nil
}

// checker walks template parse trees.
type checker struct {
	known  map[string]bool // fields of NoticeData
	called []string        // names of {{template}} calls
}

// check walks a template parse tree and rejects references to anything
// but the fields of NoticeData.
func (c *checker) check(n parse.Node) error {
	switch n := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, child := range n.Nodes {
			if err := c.check(child); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return c.check(n.Pipe)
	case *parse.IfNode:
		return c.checkBranch(&n.BranchNode)
	case *parse.RangeNode:
		// A notice has no lists, and {{range 1000000000}} would only burn time.
		return fmt.Errorf("{{range}} is not supported: a notice has no lists")
	case *parse.WithNode:
		return c.checkBranch(&n.BranchNode)
	case *parse.TemplateNode:
		c.called = append(c.called, n.Name)
		return c.check(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, cmd := range n.Cmds {
			if err := c.check(cmd); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if err := c.check(a); err != nil {
				return err
			}
		}
	case *parse.FieldNode:
		return c.checkIdent(n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return c.checkIdent(n.Ident[1:])
		}
	case *parse.ChainNode:
		if err := c.check(n.Node); err != nil {
			return err
		}
		return fmt.Errorf("%s: field access on an expression is not supported; use {{.Name}} with a field of the notice (%s)", n, strings.Join(noticeFields(), ", "))
	}
	return nil
}

func (c *checker) checkBranch(b *parse.BranchNode) error {
	if err := c.check(b.Pipe); err != nil {
		return err
	}
	if err := c.check(b.List); err != nil {
		return err
	}
	return c.check(b.ElseList)
}

func (c *checker) checkIdent(ident []string) error {
	if len(ident) == 0 {
		return nil
	}
	if !c.known[ident[0]] {
		return fmt.Errorf("unknown field .%s; a notice knows %s", ident[0], strings.Join(noticeFields(), ", "))
	}
	if len(ident) > 1 {
		return fmt.Errorf(".%s is text and has no field .%s", ident[0], ident[1])
	}
	return nil
}
