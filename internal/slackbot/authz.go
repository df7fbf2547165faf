package slackbot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/sync/singleflight"

	"github.com/breachflow/breachflow/internal/approvals"
)

// role is what a user needs to be allowed an action.
type role int

// Roles.
const (
	// roleResponder may declare incidents, look them up, complete tasks,
	// record phone confirmations and close recipients, change the facts,
	// start the notices and broker demands, record a letter's mailing and
	// answer, and propose that an obligation is not required
	// (BREACHFLOW_SLACK_DECLARERS).
	roleResponder role = iota
	// roleApprover may approve and resume broadcasts, review not-required
	// proposals, record regulator filings, the prevention report and
	// escalations, and close incidents (BREACHFLOW_SLACK_APPROVERS).
	roleApprover
)

func (r role) String() string {
	if r == roleApprover {
		return "approver"
	}
	return "responder"
}

// withArticle is the role's name after "a" or "an".
func (r role) withArticle() string {
	if r == roleApprover {
		return "an approver"
	}
	return "a responder"
}

func (r role) envVar() string {
	if r == roleApprover {
		return "BREACHFLOW_SLACK_APPROVERS"
	}
	return "BREACHFLOW_SLACK_DECLARERS"
}

// ConfigFromEnv reads the allowlists through getenv (os.Getenv in
// production): BREACHFLOW_SLACK_DECLARERS and BREACHFLOW_SLACK_APPROVERS.
// The caller fills in the clients, secrets and Sandbox.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	var err error
	if c.Declarers, err = ParseAllowlist(getenv("BREACHFLOW_SLACK_DECLARERS")); err != nil {
		return Config{}, fmt.Errorf("BREACHFLOW_SLACK_DECLARERS: %w", err)
	}
	if c.Approvers, err = ParseAllowlist(getenv("BREACHFLOW_SLACK_APPROVERS")); err != nil {
		return Config{}, fmt.Errorf("BREACHFLOW_SLACK_APPROVERS: %w", err)
	}
	if path := strings.TrimSpace(getenv("BREACHFLOW_SLACK_APPROVAL_KEY_FILE")); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("BREACHFLOW_SLACK_APPROVAL_KEY_FILE: %w", err)
		}
		k, err := approvals.ParseKey(string(b))
		if err != nil {
			return Config{}, fmt.Errorf("BREACHFLOW_SLACK_APPROVAL_KEY_FILE: %w", err)
		}
		if k.ID != approvals.SlackKeyID {
			return Config{}, fmt.Errorf("BREACHFLOW_SLACK_APPROVAL_KEY_FILE: the front door's key must have the ID %q (starter approver-key %s), not %q", approvals.SlackKeyID, approvals.SlackKeyID, k.ID)
		}
		c.ApprovalKey = &k
	}
	return c, nil
}

// ParseAllowlist parses a comma-separated list of Slack IDs: users (U…,
// W…), user groups (S…) and channels (C…, G…). Blanks are ignored.
func ParseAllowlist(s string) ([]string, error) {
	var ids []string
	for f := range strings.SplitSeq(s, ",") {
		id := strings.TrimSpace(f)
		if id == "" {
			continue
		}
		if _, err := kindOf(id); err != nil {
			return nil, err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

type idKind int

const (
	kindUser idKind = iota
	kindGroup
	kindChannel
)

var slackID = regexp.MustCompile(`^[CGSUW][A-Z0-9]{2,}$`)

func kindOf(id string) (idKind, error) {
	if !slackID.MatchString(id) {
		return 0, fmt.Errorf("%q is not a Slack ID: want users (U…, W…), user groups (S…) or channels (C…, G…), e.g. S0123ABCD", id)
	}
	switch id[0] {
	case 'U', 'W':
		return kindUser, nil
	case 'S':
		return kindGroup, nil
	}
	return kindChannel, nil
}

// maxMemberPages bounds conversations.members paging (1,000 per page).
const maxMemberPages = 200

// fetchTimeout bounds one membership lookup; it runs on after an impatient
// caller gives up, so the next request finds it cached.
const fetchTimeout = 10 * time.Second

// authorizer decides who may do what, from allowlists of users, groups and
// channels; memberships are cached for a short TTL.
type authorizer struct {
	api   *slack.Client
	lists map[role][]string
	open  bool // sandbox: an empty list allows everyone
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]membership
	sf    singleflight.Group
}

type membership struct {
	members map[string]bool
	at      time.Time
}

func newAuthorizer(api *slack.Client, declarers, approvers []string, open bool, ttl time.Duration, now func() time.Time) *authorizer {
	return &authorizer{api: api, lists: map[role][]string{roleResponder: declarers, roleApprover: approvers},
		open: open, ttl: ttl, now: now, cache: map[string]membership{}}
}

// decision is the outcome of an authorization check.
type decision struct {
	Allowed bool
	// Reason tells a refused user why (shown ephemerally).
	Reason string
}

// check decides whether user has role. An error means membership could
// not be looked up; the caller refuses (fail closed).
func (a *authorizer) check(ctx context.Context, need role, user string) (decision, error) {
	list := a.lists[need]
	if len(list) == 0 {
		if a.open {
			return decision{Allowed: true}, nil
		}
		return decision{Reason: fmt.Sprintf("Nobody may act as %s yet: %s is empty. Ask your breachflow administrator to set it.", need, need.envVar())}, nil
	}
	if user == "" {
		return decision{Reason: "Slack did not say who you are."}, nil
	}
	if slices.Contains(list, user) {
		return decision{Allowed: true}, nil
	}
	var errs []error
	for _, id := range list {
		k, _ := kindOf(id)
		if k == kindUser {
			continue
		}
		m, err := a.members(ctx, id, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m[user] {
			return decision{Allowed: true}, nil
		}
	}
	if len(errs) > 0 {
		return decision{}, fmt.Errorf("check %s membership: %w", need, errors.Join(errs...))
	}
	return decision{Reason: fmt.Sprintf("You are not allowed to do this: it needs %s (listed in %s, directly, through a user group or as a member of a listed channel).", need.withArticle(), need.envVar())}, nil
}

// members returns the members of a group or channel, from the cache when
// fresh. Concurrent lookups of one ID share one call; a caller whose ctx
// ends stops waiting but the lookup completes and is cached.
func (a *authorizer) members(ctx context.Context, id string, k idKind) (map[string]bool, error) {
	a.mu.Lock()
	m, ok := a.cache[id]
	a.mu.Unlock()
	if ok && a.now().Sub(m.at) < a.ttl {
		return m.members, nil
	}
	ch := a.sf.DoChan(id, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		var ids []string
		var err error
		if k == kindGroup {
			ids, err = a.api.GetUserGroupMembersContext(fctx, id)
			if err != nil {
				err = fmt.Errorf("usergroups.users.list %s: %w", id, err)
			}
		} else {
			ids, err = a.channelMembers(fctx, id)
		}
		if err != nil {
			return nil, err
		}
		set := make(map[string]bool, len(ids))
		for _, u := range ids {
			set[u] = true
		}
		a.mu.Lock()
		a.cache[id] = membership{members: set, at: a.now()}
		a.mu.Unlock()
		return set, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(map[string]bool), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("look up members of %s: %w", id, ctx.Err())
	}
}

// channelMembers pages through conversations.members.
func (a *authorizer) channelMembers(ctx context.Context, channel string) ([]string, error) {
	var all []string
	cursor := ""
	for range maxMemberPages {
		ids, next, err := a.api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{
			ChannelID: channel, Cursor: cursor, Limit: 1000,
		})
		if err != nil {
			return nil, fmt.Errorf("conversations.members %s: %w", channel, err)
		}
		all = append(all, ids...)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
	return nil, fmt.Errorf("conversations.members %s: more than %d pages", channel, maxMemberPages)
}
