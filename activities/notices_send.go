package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/recipients"
)

// SendChunk asks for the notice to be sent to the recipients of one range
// of the list, [Start, End), in requests of BatchSize.
type SendChunk struct {
	BroadcastID string `json:"broadcast_id"`
	Start       int    `json:"start"`
	End         int    `json:"end"`
	BatchSize   int    `json:"batch_size"`
	// Content is the notice with its list; Approved is the fingerprint the
	// approvers approved. They must agree, or nothing is sent.
	Content  NoticeContent `json:"content"`
	Approved string        `json:"approved"`
}

// ChunkProgress is how far a chunk got: its heartbeat details, its result,
// and the details of a SendCanceled error.
type ChunkProgress struct {
	// Next is the first recipient index not yet dealt with.
	Next int `json:"next"`
	// Sent counts messages SendGrid accepted (one per recipient).
	Sent int `json:"sent"`
	// NoAddress counts recipients without an e-mail address, Invalid
	// those whose address SendGrid would refuse, Duplicates addresses
	// already in the same request.
	NoAddress  int `json:"no_address,omitempty"`
	Invalid    int `json:"invalid,omitempty"`
	Duplicates int `json:"duplicates,omitempty"`
	Requests   int `json:"requests"`
	// Resent counts recipients sent again because a request's outcome was
	// unknown when a worker died: they may have the notice twice.
	Resent int `json:"resent,omitempty"`
	// InFlight > 0 says a request for [Next, Next+InFlight) was about to
	// go out: recorded before every request, cleared after it.
	InFlight int `json:"in_flight,omitempty"`
}

// Add adds q's counts (not its position) to p.
func (p *ChunkProgress) Add(q ChunkProgress) {
	p.Sent += q.Sent
	p.NoAddress += q.NoAddress
	p.Invalid += q.Invalid
	p.Duplicates += q.Duplicates
	p.Requests += q.Requests
	p.Resent += q.Resent
}

// sendTimeout bounds one mail-send request; an interrupted send lets the
// request in flight finish rather than leave its outcome unknown.
const sendTimeout = 30 * time.Second

// errInterrupted: the chunk must stop between requests.
var errInterrupted = errors.New("send interrupted")

// SendNotices sends the approved notice to the recipients [Start, End):
// before each request it checks the content and list against the approved
// fingerprint and scans the content again (every page read is verified
// against the list's SHA-256),
// records the progress (heartbeat) and sends at most BatchSize messages,
// each to one recipient. A retried attempt resumes from the last recorded
// progress, so nobody is sent the notice twice; a request whose outcome
// was unknown when a worker died is sent again and counted in Resent.
//
// Pause and stop cancel the activity: it stops between requests, within
// one request's time, and fails with ErrTypeSendCanceled whose details
// are the progress. A 429 honours SendGrid's reset time (NextRetryDelay).
func (n *Notices) SendNotices(ctx context.Context, in SendChunk) (ChunkProgress, error) {
	if in.BatchSize <= 0 || in.BatchSize > 1000 || in.Start < 0 || in.End < in.Start || in.End > in.Content.List.Count {
		return ChunkProgress{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("bad chunk [%d, %d) of %d in batches of %d", in.Start, in.End, in.Content.List.Count, in.BatchSize), ErrTypeRejected, nil)
	}
	p := ChunkProgress{Next: in.Start}
	if activity.HasHeartbeatDetails(ctx) {
		var last ChunkProgress
		if err := activity.GetHeartbeatDetails(ctx, &last); err == nil && last.Next >= in.Start && last.Next <= in.End {
			p = last
		}
	}
	if p.InFlight > 0 {
		// The worker died during a request: SendGrid may or may not have
		// taken it. A notice must reach everyone, so send it again, and say
		// so: these people may receive it twice.
		n.logger().Warn("resuming after a request with an unknown outcome; it is sent again",
			"broadcast", in.BroadcastID, "offset", p.Next, "recipients", p.InFlight)
		p.Resent += p.InFlight
		p.InFlight = 0
	}
	if err := n.checkContent(in.Content, in.Approved); err != nil {
		return p, withDetails(err, p)
	}
	// One record per request, before it goes out: it says the previous
	// request is done and this one is in flight. If this worker dies
	// during the request, the next attempt knows its outcome is unknown.
	p.InFlight = min(in.BatchSize, in.End-p.Next)
	ck := newCheckpointer(ctx, n.Heartbeats, p)
	defer ck.close()
	if err := ck.save(p); err != nil {
		return p, n.interrupted(ctx, in, ck, err)
	}
	from := n.from()
	for p.Next < in.End {
		if err := ck.check(ctx); err != nil {
			return p, n.interrupted(ctx, in, ck, err)
		}
		// Before every request, the content is still the approved one
		// (and its list part is checked by every page read below).
		if err := n.checkContent(in.Content, in.Approved); err != nil {
			return p, withDetails(err, n.settled(ck, p))
		}
		size := min(in.BatchSize, in.End-p.Next)
		page, err := n.Lists.Page(ctx, in.Content.List, p.Next, size)
		if err != nil {
			if errors.Is(err, recipients.ErrFingerprint) || errors.Is(err, recipients.ErrBadRef) {
				return p, temporal.NewNonRetryableApplicationError("recipient list does not match the approved fingerprint", ErrTypeListTampered, err, n.settled(ck, p))
			}
			if ctx.Err() != nil {
				return p, n.interrupted(ctx, in, ck, ctx.Err())
			}
			return p, topLevel(fmt.Sprintf("read recipients %d-%d", p.Next+1, p.Next+size), err, n.settled(ck, p))
		}
		if len(page) != size {
			return p, temporal.NewNonRetryableApplicationError("recipient list is shorter than its count", ErrTypeListTampered, nil, n.settled(ck, p))
		}
		next := p
		next.Next += size
		batch := make([]recipients.Recipient, 0, size)
		seen := make(map[string]bool, size)
		for _, r := range page {
			key := strings.ToLower(r.Email)
			switch {
			case r.Email == "":
				next.NoAddress++
			case !sendable(r.Email):
				next.Invalid++
			case seen[key]:
				next.Duplicates++
			default:
				seen[key] = true
				batch = append(batch, r)
			}
		}
		if len(batch) > 0 {
			m := noticeMail(in.Content, from, in.BroadcastID, p.Next/in.BatchSize, batch)
			if err := checkEnvelopes(m); err != nil {
				return p, withDetails(err, n.settled(ck, p))
			}
			if n.Limiter != nil {
				if err := n.Limiter.Wait(ctx); err != nil {
					return p, n.interrupted(ctx, in, ck, err)
				}
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
			_, err = n.Mail.Send(sctx, m)
			cancel()
			if err != nil {
				if ambiguous(err) {
					// InFlight stays recorded: the retry re-sends and counts it.
					return p, topLevel(fmt.Sprintf("send recipients %d-%d (outcome unknown)", p.Next+1, p.Next+size), err, p)
				}
				// An answer, even 429 or 5xx, means nothing was sent.
				return p, topLevel(fmt.Sprintf("send recipients %d-%d", p.Next+1, p.Next+size), err, n.settled(ck, p))
			}
			next.Sent += len(batch)
			next.Requests++
		}
		next.InFlight = min(in.BatchSize, in.End-next.Next)
		p = next
		if err := ck.save(p); err != nil {
			return p, n.interrupted(ctx, in, ck, err)
		}
	}
	return p, nil
}

// settled records, best effort, that no request of p is in flight (none
// was sent), so that a retry does not count it as sent twice; it returns
// p so.
func (n *Notices) settled(ck *checkpointer, p ChunkProgress) ChunkProgress {
	p.InFlight = 0
	_ = ck.save(p)
	return p
}

// interrupted turns why a chunk stopped into its error: canceled (pause,
// stop) is SendCanceled with the progress; anything else (worker
// stopping, lost heartbeat) is retryable, and the next attempt resumes
// from the progress recorded.
func (n *Notices) interrupted(ctx context.Context, in SendChunk, ck *checkpointer, cause error) error {
	// Nothing is in flight when a chunk is interrupted between requests.
	p := n.settled(ck, ck.progress())
	if ck.canceled(ctx) {
		n.logger().Info("notice send stopped between requests", "broadcast", in.BroadcastID, "offset", p.Next)
		return temporal.NewNonRetryableApplicationError("send canceled", ErrTypeSendCanceled, nil, p)
	}
	n.logger().Info("notice send interrupted; the next attempt resumes", "broadcast", in.BroadcastID, "offset", p.Next, "cause", cause.Error())
	return temporal.NewApplicationErrorWithOptions("send interrupted: "+cause.Error(), "SendInterrupted",
		temporal.ApplicationErrorOptions{Details: []any{p}})
}

// withDetails returns an application error carrying p as its details.
func withDetails(err error, p ChunkProgress) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return temporal.NewApplicationErrorWithOptions(appErr.Message(), appErr.Type(),
			temporal.ApplicationErrorOptions{NonRetryable: appErr.NonRetryable(), NextRetryDelay: appErr.NextRetryDelay(), Details: []any{p}})
	}
	return topLevel("send", err, p)
}

// ambiguous reports whether a failed request may nevertheless have been
// accepted: no answer came (transport error, timeout). An answer, even
// 429 or 5xx, means nothing was sent.
func ambiguous(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// checkpointer records a chunk's progress as its heartbeat, one at a time
// and always the latest, and keeps heartbeating while a request takes
// long.
type checkpointer struct {
	mu        sync.Mutex
	ctx       context.Context
	hb        HeartbeatRecorder
	token     []byte
	cur       ChunkProgress
	cancelReq bool
	stop      chan struct{}
	done      sync.WaitGroup
}

func newCheckpointer(ctx context.Context, hb HeartbeatRecorder, p ChunkProgress) *checkpointer {
	c := &checkpointer{ctx: ctx, hb: hb, cur: p, stop: make(chan struct{})}
	if hb != nil {
		c.token = activity.GetInfo(ctx).TaskToken
	}
	every := activity.GetInfo(ctx).HeartbeatTimeout / 3
	if every <= 0 {
		every = 10 * time.Second
	}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.mu.Lock()
				_ = c.send()
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *checkpointer) close() {
	close(c.stop)
	c.done.Wait()
}

func (c *checkpointer) progress() ChunkProgress {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// save records p and returns once the server has it (with a
// HeartbeatRecorder); an error means no request may go out.
func (c *checkpointer) save(p ChunkProgress) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = p
	return c.send()
}

// send records the latest progress; c.mu must be held, so that records
// reach the server in order and never go back.
func (c *checkpointer) send() error {
	if c.hb == nil {
		activity.RecordHeartbeat(c.ctx, c.cur)
		return nil
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	err := c.hb.RecordActivityHeartbeat(hctx, c.token, c.cur)
	var ce *temporal.CanceledError
	if errors.As(err, &ce) {
		// The progress is recorded; the workflow asked us to stop.
		c.cancelReq = true
		return errInterrupted
	}
	if err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	return nil
}

// check returns an error when the chunk must stop before its next
// request: canceled, worker stopping, or asked to stop by a heartbeat.
func (c *checkpointer) check(ctx context.Context) error {
	c.mu.Lock()
	req := c.cancelReq
	c.mu.Unlock()
	if req {
		return errInterrupted
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-activity.GetWorkerStopChannel(ctx):
		return errors.New("worker stopping")
	default:
		return nil
	}
}

// canceled reports whether the stop comes from the workflow (pause,
// stop) rather than from this worker.
func (c *checkpointer) canceled(ctx context.Context) bool {
	c.mu.Lock()
	req := c.cancelReq
	c.mu.Unlock()
	return req || (ctx.Err() != nil && temporal.IsCanceledError(context.Cause(ctx)))
}
