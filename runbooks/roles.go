package runbooks

import (
	"slices"
)

// Roles returns every role the runbook names, sorted and without repeats:
// task owners and escalation targets, the roles told about legal deadlines,
// broadcast approvers, the owner of unreachable recipients, and
// "management" when the daily report goes to management. Whoever runs
// breachflow must say who holds each (BREACHFLOW_ROLES).
func (r Runbook) Roles() []string {
	var out []string
	add := func(roles ...string) {
		for _, role := range roles {
			if role != "" {
				out = append(out, role)
			}
		}
	}
	p := r.Phases
	if p.Contain != nil {
		for _, t := range p.Contain.Tasks {
			add(t.Owner, t.EscalateTo)
		}
	}
	if p.Obligations != nil {
		add(p.Obligations.Notify...)
		add(p.Obligations.Escalate...)
	}
	if p.Recall != nil {
		add(p.Recall.Unreachable.Owner)
	}
	if p.Broadcast != nil {
		add(p.Broadcast.Approvers...)
	}
	if p.DailyReport != nil && slices.Contains(p.DailyReport.Audiences, AudienceManagement) {
		add(AudienceManagement)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
