// Package roles maps the roles a runbook names (privacy-officer, legal,
// management, ...) to the e-mail addresses of the people holding them.
//
// The mapping is configuration, not workflow data: workflows name roles
// only, and the activity that e-mails a role resolves its addresses when it
// sends, so no address ever enters a workflow's history, a log line or a
// Slack message. The environment variable is
//
//	BREACHFLOW_ROLES="privacy-officer=dpo@example.com;legal=a@example.com,b@example.com"
//
// roles separated by ";", each "role=address,address". Role names follow
// the runbook rules (lower-case words joined by hyphens); addresses are bare
// (no display names), each at most once per role.
package roles

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// EnvVar is the environment variable that holds the directory.
const EnvVar = "BREACHFLOW_ROLES"

// Directory is who holds each role. The zero value is an empty directory.
type Directory struct {
	roles []Role // sorted by name
}

// Role is one role and the addresses of its holders.
type Role struct {
	Name      string
	Addresses []string
}

// roleName is the runbook's role syntax (runbooks/validate.go: slug).
var roleName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// FromEnv reads EnvVar through getenv (os.Getenv in production).
func FromEnv(getenv func(string) string) (Directory, error) {
	d, err := Parse(getenv(EnvVar))
	if err != nil {
		return Directory{}, fmt.Errorf("%s: %w", EnvVar, err)
	}
	return d, nil
}

// Parse reads "role=addr,addr;role2=addr". Blanks around separators and
// empty entries are ignored; every problem is reported at once, by role
// name and address position, never echoing an address (the error may be
// logged).
func Parse(s string) (Directory, error) {
	var d Directory
	var errs []error
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, list, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			// Never quote the entry: it may be an address.
			errs = append(errs, fmt.Errorf("entry %d: want role=address[,address...]", i+1))
			continue
		}
		where := "role " + strconv.Quote(name)
		switch {
		case !roleName.MatchString(name):
			errs = append(errs, fmt.Errorf("%s: a role is lower-case words joined by hyphens, e.g. privacy-officer", where))
			continue
		case d.index(name) >= 0:
			errs = append(errs, fmt.Errorf("%s is listed twice", where))
			continue
		}
		r := Role{Name: name}
		given := 0
		for k, a := range strings.Split(list, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			given++
			addr, err := mail.ParseAddress(a)
			if err != nil || addr.Name != "" || addr.Address != a {
				errs = append(errs, fmt.Errorf("%s: address %d is not a bare e-mail address (name@domain, no display name)", where, k+1))
				continue
			}
			if slices.Contains(r.Addresses, addr.Address) {
				errs = append(errs, fmt.Errorf("%s: address %d is listed twice", where, k+1))
				continue
			}
			r.Addresses = append(r.Addresses, addr.Address)
		}
		if given == 0 {
			errs = append(errs, fmt.Errorf("%s has no address", where))
			continue
		}
		d.roles = append(d.roles, r)
	}
	if err := errors.Join(errs...); err != nil {
		return Directory{}, err
	}
	slices.SortFunc(d.roles, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
	return d, nil
}

func (d Directory) index(name string) int {
	return slices.IndexFunc(d.roles, func(r Role) bool { return r.Name == name })
}

// Addresses returns the addresses of a role's holders (a copy), or nil
// when nobody holds it.
func (d Directory) Addresses(role string) []string {
	if i := d.index(role); i >= 0 {
		return slices.Clone(d.roles[i].Addresses)
	}
	return nil
}

// Names returns the roles that have holders, sorted.
func (d Directory) Names() []string {
	names := make([]string, len(d.roles))
	for i, r := range d.roles {
		names[i] = r.Name
	}
	return names
}

// Missing returns the roles among want that nobody holds, in the order
// given and without repeats: check a runbook's roles at start-up.
func (d Directory) Missing(want ...string) []string {
	var out []string
	for _, r := range want {
		if d.index(r) < 0 && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// String summarises the directory for logs without any address:
// "legal (2), privacy-officer (1)".
func (d Directory) String() string {
	if len(d.roles) == 0 {
		return "no roles"
	}
	parts := make([]string, len(d.roles))
	for i, r := range d.roles {
		parts[i] = fmt.Sprintf("%s (%d)", r.Name, len(r.Addresses))
	}
	return strings.Join(parts, ", ")
}
