package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/internal/record"
	"github.com/breachflow/breachflow/internal/reports"
	"github.com/breachflow/breachflow/internal/slackui"
	"github.com/breachflow/breachflow/runbooks"
)

// ChecklistCarry is the containment checklist's state handed over by
// continue-as-new.
type ChecklistCarry struct {
	Done []TaskCompletion `json:"done"`
	// Through is the instant up to which reminders, due notices and
	// escalations were handled.
	Through time.Time `json:"through,omitzero"`
}

// TaskCompletion records who completed a task and when.
type TaskCompletion struct {
	TaskID string    `json:"task_id"`
	By     string    `json:"by"`
	Note   string    `json:"note,omitempty"`
	At     time.Time `json:"at"`
}

// checklist is the containment checklist an Incident embeds: the
// runbook's human tasks, each with an owner (a role), a due time,
// reminders and an escalation, all offsets from the declaration. run
// reminds and escalates on schedule until every task is done; complete
// records who did a task and when.
type checklist struct {
	tasks      []runbooks.Task
	declaredAt time.Time
	sh         *crew
	carry      *ChecklistCarry
}

func newChecklist(tasks []runbooks.Task, declaredAt time.Time, carry *ChecklistCarry, sh *crew) *checklist {
	return &checklist{tasks: tasks, declaredAt: declaredAt, sh: sh, carry: carry}
}

func (c *checklist) task(id string) (runbooks.Task, bool) {
	i := slices.IndexFunc(c.tasks, func(t runbooks.Task) bool { return t.ID == id })
	if i < 0 {
		return runbooks.Task{}, false
	}
	return c.tasks[i], true
}

func (c *checklist) completion(id string) (TaskCompletion, bool) {
	i := slices.IndexFunc(c.carry.Done, func(d TaskCompletion) bool { return d.TaskID == id })
	if i < 0 {
		return TaskCompletion{}, false
	}
	return c.carry.Done[i], true
}

func (c *checklist) done(id string) bool { _, ok := c.completion(id); return ok }

// validate is the complete_task validator: the task exists, is not done
// yet, and who did it is known.
func (c *checklist) validate(req CompleteTask) error {
	if strings.TrimSpace(req.By) == "" {
		return errors.New("completing a task needs who completed it")
	}
	if _, ok := c.task(req.TaskID); !ok {
		ids := make([]string, len(c.tasks))
		for i, t := range c.tasks {
			ids[i] = t.ID
		}
		return fmt.Errorf("no task %q in this incident's checklist (tasks: %s)", req.TaskID, strings.Join(ids, ", "))
	}
	if d, ok := c.completion(req.TaskID); ok {
		return fmt.Errorf("task %s was already done by %s at %s", req.TaskID, d.By, fmtAt(d.At, c.sh.loc))
	}
	return nil
}

// complete records a task as done by req.By, now.
func (c *checklist) complete(ctx workflow.Context, req CompleteTask) (TaskStatus, error) {
	if err := c.validate(req); err != nil {
		return TaskStatus{}, err
	}
	now := workflow.Now(ctx)
	c.carry.Done = append(c.carry.Done, TaskCompletion{TaskID: req.TaskID, By: req.By, Note: req.Note, At: now})
	t, _ := c.task(req.TaskID)
	c.sh.log(record.Entry{At: now, Kind: record.KindTaskCompleted, Actor: req.By, Subject: t.ID, Reason: req.Note,
		Summary: fmt.Sprintf("%s / %s", t.Title.Ja, t.Title.En)})
	c.sh.touch()
	return c.status(t), nil
}

// taskEvent is one scheduled reminder, due notice or escalation.
type taskEvent struct {
	at   time.Time
	task runbooks.Task
	kind record.Kind
}

// schedule lists every task's events in time order (ties: task order,
// then reminder, due, escalation).
func (c *checklist) schedule() []taskEvent {
	var evs []taskEvent
	for _, t := range c.tasks {
		for _, r := range t.Reminders {
			evs = append(evs, taskEvent{c.declaredAt.Add(r.D()), t, record.KindTaskReminder})
		}
		evs = append(evs, taskEvent{c.declaredAt.Add(t.Due.D()), t, record.KindTaskDue})
		if t.EscalateAt > 0 && t.EscalateTo != "" {
			evs = append(evs, taskEvent{c.declaredAt.Add(t.EscalateAt.D()), t, record.KindTaskEscalation})
		}
	}
	slices.SortStableFunc(evs, func(a, b taskEvent) int { return a.at.Compare(b.at) })
	return evs
}

// run reminds, announces due tasks and escalates, on schedule, until
// every task is done. Run it as a workflow.Go coroutine.
func (c *checklist) run(ctx workflow.Context) {
	evs := c.schedule()
	for {
		var todo []taskEvent
		for _, ev := range evs {
			if ev.at.After(c.carry.Through) && !c.done(ev.task.ID) {
				todo = append(todo, ev)
			}
		}
		if len(todo) == 0 {
			return
		}
		now := workflow.Now(ctx)
		if first := todo[0]; first.at.After(now) {
			opts := workflow.AwaitOptions{Timeout: first.at.Sub(now), TimerOptions: workflow.TimerOptions{
				Summary: fmt.Sprintf("task %s: %s at %s", first.task.ID, first.kind, fmtAt(first.at, c.sh.loc))}}
			woken, err := workflow.AwaitWithOptions(ctx, opts, func() bool { return c.done(first.task.ID) })
			if err != nil {
				return
			}
			if woken {
				continue // done meanwhile: look again
			}
			now = workflow.Now(ctx)
		}
		for _, ev := range todo {
			if ev.at.After(now) {
				break
			}
			if !c.done(ev.task.ID) {
				c.remind(ctx, ev)
			}
		}
		c.carry.Through = now
	}
}

// remind sends one task event's notice and records it.
func (c *checklist) remind(ctx workflow.Context, ev taskEvent) {
	t := ev.task
	due := fmtAt(c.declaredAt.Add(t.Due.D()), c.sh.loc)
	nt := staffNotice{slack: true, roles: []string{t.Owner}}
	switch ev.kind {
	case record.KindTaskReminder:
		nt.summary, nt.subject = "task reminder "+t.ID, "Reminder: "+t.Title.En
		nt.text = bilingual(fmt.Sprintf("⏰ 初動対応タスク: %s（担当 %s、期限 %s）", t.Title.Ja, t.Owner, due),
			fmt.Sprintf("⏰ Containment task: %s (owner %s, due %s)", t.Title.En, t.Owner, due))
	case record.KindTaskDue:
		nt.summary, nt.subject = "task due "+t.ID, "Due now: "+t.Title.En
		nt.text = bilingual(fmt.Sprintf("⌛ 期限です: %s（担当 %s、期限 %s）。完了したら Done を押してください。", t.Title.Ja, t.Owner, due),
			fmt.Sprintf("⌛ Due now: %s (owner %s, due %s). Press Done when it is done.", t.Title.En, t.Owner, due))
	case record.KindTaskEscalation:
		nt.summary, nt.subject = "task escalation "+t.ID, "Escalation: "+t.Title.En+" is still open"
		nt.roles = []string{t.EscalateTo, t.Owner}
		nt.text = bilingual(fmt.Sprintf("🚨 未完了のタスク: %s（担当 %s、期限 %s）。%s へエスカレーションします。", t.Title.Ja, t.Owner, due, t.EscalateTo),
			fmt.Sprintf("🚨 Still open: %s (owner %s, due %s). Escalated to %s.", t.Title.En, t.Owner, due, t.EscalateTo))
	}
	nt.subject = fmt.Sprintf("[%s] %s", c.sh.incidentID, nt.subject)
	to, outcome := c.sh.n.send(ctx, nt)
	c.sh.log(record.Entry{At: workflow.Now(ctx), Kind: ev.kind, Subject: t.ID, Summary: fmt.Sprintf("%s / %s, due %s", t.Title.Ja, t.Title.En, due),
		To: to, Outcome: outcome})
}

func (c *checklist) status(t runbooks.Task) TaskStatus {
	st := TaskStatus{ID: t.ID, Title: t.Title, Owner: t.Owner, Due: c.declaredAt.Add(t.Due.D())}
	if d, ok := c.completion(t.ID); ok {
		st.Done, st.DoneAt, st.DoneBy, st.Note = true, d.At, d.By, d.Note
	}
	return st
}

// statuses returns every task, in runbook order.
func (c *checklist) statuses() []TaskStatus {
	out := make([]TaskStatus, 0, len(c.tasks))
	for _, t := range c.tasks {
		out = append(out, c.status(t))
	}
	return out
}

// views returns the tasks for the incident message.
func (c *checklist) views() []slackui.TaskView {
	var out []slackui.TaskView
	for _, st := range c.statuses() {
		out = append(out, slackui.TaskView{ID: st.ID, Title: st.Title.Ja + " / " + st.Title.En, Owner: st.Owner, Due: st.Due, Done: st.Done})
	}
	return out
}

// measures returns the tasks done (when) and open (when due), for drafts.
func (c *checklist) measures() (done, open []reports.Measure) {
	for _, st := range c.statuses() {
		if st.Done {
			done = append(done, reports.Measure{ID: st.ID, Title: st.Title, At: st.DoneAt})
		} else {
			open = append(open, reports.Measure{ID: st.ID, Title: st.Title, At: st.Due})
		}
	}
	return done, open
}

// records returns the tasks for the record.
func (c *checklist) records() []record.Task {
	var out []record.Task
	for _, st := range c.statuses() {
		out = append(out, record.Task{ID: st.ID, Title: st.Title.Ja, TitleEn: st.Title.En, Owner: st.Owner, Due: st.Due,
			Done: st.Done, DoneAt: st.DoneAt, DoneBy: st.DoneBy, Note: st.Note})
	}
	return out
}
