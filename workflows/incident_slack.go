package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/slackui"
)

// slackThrottle is the least time between two updates of the incident
// message: Slack allows about one message per second per channel, and each
// update is three history events.
const slackThrottle = 5 * time.Second

// While Slack cannot take the incident message or a thread reply (Slack
// down past the activity's retries, the bot removed from the channel, its
// token revoked), the loop tries again after slackBackoffBase, doubling up
// to slackBackoffMax, and keeps the replies, at most maxQueuedReplies of
// them (the oldest are dropped first, and the next reply says how many).
const (
	slackBackoffBase = time.Minute
	slackBackoffMax  = time.Hour
	maxQueuedReplies = 200
)

// slackState is the Incident's Slack presence, carried across
// continue-as-new.
type slackState struct {
	Ref *activities.SlackMessageRef `json:"ref,omitempty"`
	// Posted is the rendering last posted, to skip updates that change nothing.
	Posted string `json:"posted,omitempty"`
	// Replies waiting to be posted in the message's thread.
	Replies []string `json:"replies,omitempty"`
	// Failures counts posts failed in a row; Dropped, replies dropped from
	// a full queue meanwhile.
	Failures int `json:"failures,omitempty"`
	Dropped  int `json:"dropped,omitempty"`
}

func (i *incident) slackEnabled() bool { return i.in.SlackChannel != "" }

// slackLoop keeps the one incident message true: whenever the view changes
// it posts (first time) or updates it in place, at most every slackThrottle,
// then posts the queued thread replies. What Slack cannot take now is
// tried again later (slackBackoff); nothing is dropped but a reply Slack
// refuses for its content.
func (i *incident) slackLoop(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	for {
		if err := workflow.Await(ctx, func() bool {
			return i.slackView() != i.carry.Slack.Posted || len(i.carry.Slack.Replies) > 0
		}); err != nil {
			return
		}
		if view := i.slackView(); view != i.carry.Slack.Posted {
			in := activities.IncidentMessage{Channel: i.in.SlackChannel, Ref: i.carry.Slack.Ref, View: i.view(ctx)}
			var ref activities.SlackMessageRef
			actx := workflow.WithActivityOptions(actx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, Summary: "update the incident message"})
			err := workflow.ExecuteActivity(actx, a.PostIncidentMessage, in).Get(ctx, &ref)
			switch {
			case err == nil:
				i.carry.Slack.Ref, i.carry.Slack.Failures = &ref, 0
			case slackRetriesLater(ctx):
				if !i.slackBackoff(ctx, "incident message", err) {
					return
				}
				continue
			default:
				workflow.GetLogger(ctx).Error("incident message not posted", "error", err)
			}
			i.carry.Slack.Posted = view
		}
		if ref := i.carry.Slack.Ref; ref != nil {
			if !i.postReplies(ctx, actx, *ref) {
				return
			}
		} else if !slackRetriesLater(ctx) {
			i.carry.Slack.Replies = nil // no message to thread under
		}
		if err := sleep(ctx, slackThrottle, "pace Slack posts"); err != nil {
			return
		}
	}
}

// slackRetriesLater: a post Slack does not take is tried again later
// (version 1), rather than dropped (histories from before).
func slackRetriesLater(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, "slack-retry-later", workflow.DefaultVersion, 1) == 1
}

// postReplies posts the queued thread replies in order. A reply Slack
// refuses for its content is dropped (logged); one Slack cannot take now
// goes back first in the queue and the loop backs off. It returns false
// once the workflow is ending.
func (i *incident) postReplies(ctx, actx workflow.Context, ref activities.SlackMessageRef) bool {
	for len(i.carry.Slack.Replies) > 0 {
		next := i.carry.Slack.Replies[0]
		i.carry.Slack.Replies = i.carry.Slack.Replies[1:]
		text := next
		if d := i.carry.Slack.Dropped; d > 0 {
			text = fmt.Sprintf("(%d earlier update(s) for this thread were dropped while Slack could not take them; `starter status %s` shows the current state.)\n%s",
				d, i.in.IncidentID, text)
		}
		i.posting = next
		err := workflow.ExecuteActivity(actx, a.PostThreadReply, activities.ThreadReply{Ref: ref, Text: text}).Get(ctx, nil)
		i.posting = ""
		if err != nil && !refusedContent(err) && slackRetriesLater(ctx) {
			i.carry.Slack.Replies = append([]string{next}, i.carry.Slack.Replies...)
			return i.slackBackoff(ctx, "thread reply", err)
		}
		if err != nil {
			workflow.GetLogger(ctx).Error("thread reply not posted", "error", err)
		} else {
			i.carry.Slack.Failures, i.carry.Slack.Dropped = 0, 0
		}
	}
	return true
}

// slackCloseWait bounds how long a closing Incident waits for Slack to
// take its last message and replies.
const slackCloseWait = 5 * time.Minute

// flushSlack waits, at close, until the incident message shows the close
// and every reply has been posted (not only taken from the queue), or
// slackCloseWait has passed: Slack being away must not keep an incident
// from closing.
func (i *incident) flushSlack(ctx workflow.Context) {
	if !slackRetriesLater(ctx) {
		_ = workflow.Await(ctx, func() bool { // histories from before
			return i.carry.Slack.Posted == i.slackView() && len(i.carry.Slack.Replies) == 0
		})
		return
	}
	flushed, err := workflow.AwaitWithTimeout(ctx, slackCloseWait, func() bool {
		return i.carry.Slack.Posted == i.slackView() && len(i.carry.Slack.Replies) == 0 && i.posting == ""
	})
	if err == nil && !flushed {
		workflow.GetLogger(ctx).Error("incident closed before Slack took its last updates", "queued_replies", len(i.carry.Slack.Replies))
	}
}

// refusedContent reports whether Slack refused a post for what it says
// (too long, bad blocks): trying again would not help.
func refusedContent(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeRejected
}

// slackBackoff waits before the next try after a post failed: a minute,
// doubling with each failure in a row up to an hour. It returns false
// once the workflow is ending.
func (i *incident) slackBackoff(ctx workflow.Context, what string, err error) bool {
	i.carry.Slack.Failures++
	wait := min(slackBackoffMax, slackBackoffBase<<min(i.carry.Slack.Failures-1, 10))
	workflow.GetLogger(ctx).Error(what+" not posted; trying again later", "error", err,
		"failures", i.carry.Slack.Failures, "retry_in", wait.String(), "queued_replies", len(i.carry.Slack.Replies))
	return workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{
		Summary: fmt.Sprintf("Slack did not take the %s: try again", what),
	}).Get(ctx, nil) == nil
}

// reply queues a threaded reply for a notable event.
func (i *incident) reply(format string, args ...any) {
	if !i.slackEnabled() {
		return
	}
	if len(i.carry.Slack.Replies) >= maxQueuedReplies {
		i.carry.Slack.Replies = i.carry.Slack.Replies[1:]
		i.carry.Slack.Dropped++
	}
	i.carry.Slack.Replies = append(i.carry.Slack.Replies, fmt.Sprintf(format, args...))
}

// slackView is a compact key of what the message shows, to tell whether it
// changed (timestamps excluded).
func (i *incident) slackView() string {
	c := i.carry.Counts
	return fmt.Sprintf("%s|%+v|%v|%s|%s", i.carry.Phase, c, i.status().Unreachable, i.deltaKey(), i.resp.viewKey())
}

func (i *incident) deltaKey() string {
	if d := i.status().SinceYesterday; d != nil {
		return fmt.Sprintf("%+v", *d)
	}
	return ""
}

// view is what the incident message shows: counts, not names.
func (i *incident) view(ctx workflow.Context) slackui.IncidentView {
	st := i.status()
	c := st.Recall
	v := slackui.IncidentView{
		IncidentID: i.in.IncidentID, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Title: st.Title, Runbook: i.in.Runbook.Runbook.ID, Phase: st.Phase, UpdatedAt: workflow.Now(ctx),
		Deadlines: i.resp.deadlineViews(), Tasks: i.resp.taskViews(), Notices: i.resp.noticeViews(),
		CanSendNotices: i.closed == nil && i.resp.notices.canStart(), CanAddBroker: i.closed == nil && i.in.Runbook.Runbook.Phases.BrokerDemands != nil,
	}
	if p := st.Prevention; p != nil {
		v.Prevention = &slackui.PreventionView{Due: p.Due, Recorded: p.Report != nil}
	}
	if c.Total > 0 {
		rv := &slackui.RecallView{Total: c.Total, Requested: c.Requested, PhoneConfirmed: c.PhoneConfirmed,
			EmailConfirmed: c.EmailConfirmed, Confirmed: c.Confirmed, Unreachable: c.Unreachable, Closed: c.ClosedByOperator}
		if d := st.SinceYesterday; d != nil {
			rv.DeltaPhone, rv.DeltaEmail, rv.DeltaConfirmed = d.PhoneConfirmed, d.EmailConfirmed, d.Confirmed
		}
		v.Recall = rv
	}
	for _, id := range st.Unreachable {
		v.Unreachable = append(v.Unreachable, slackui.RecipientView{RecipientID: id, WorkflowID: RecallWorkflowID(i.in.IncidentID, id)})
	}
	return v
}

// unreachableReminders reminds, in the incident thread, of every recipient
// still unreachable ("find another way to reach this person") until each is
// confirmed or closed.
func (i *incident) unreachableReminders(ctx workflow.Context) {
	rc := i.in.Runbook.Runbook.Phases.Recall
	if rc == nil || !i.slackEnabled() {
		return
	}
	every := rc.Unreachable.Reminder.D()
	if every <= 0 {
		every = 24 * time.Hour
	}
	for n := 1; ; n++ {
		if err := workflow.Await(ctx, func() bool { return i.carry.Counts.Unreachable > 0 }); err != nil {
			return
		}
		if err := workflow.NewTimerWithOptions(ctx, every, workflow.TimerOptions{Summary: fmt.Sprintf("unreachable reminder #%d", n)}).Get(ctx, nil); err != nil {
			return
		}
		if ids := i.status().Unreachable; len(ids) > 0 {
			i.reply("Reminder: %d recipient(s) still unreachable (%s): %s. Owner: %s.",
				len(ids), rc.Unreachable.Title.En, listIDs(ids, 20), rc.Unreachable.Owner)
		}
	}
}

func listIDs(ids []string, max int) string {
	if len(ids) <= max {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:max], ", ") + fmt.Sprintf(" and %d more", len(ids)-max)
}
