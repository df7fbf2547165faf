package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/recipients"
)

// SendChunk asks for the notice to be sent to the recipients of one range
// of the list, [Start, End), in requests of BatchSize, Lanes of them in
// flight at once.
type SendChunk struct {
	BroadcastID string `json:"broadcast_id"`
	Start       int    `json:"start"`
	End         int    `json:"end"`
	BatchSize   int    `json:"batch_size"`
	// Lanes is how many requests are in flight at once (0 means 1). The
	// requests are handed out one at a time, in order, to whichever lane
	// is free, as a plain concurrent loop would.
	Lanes int `json:"lanes,omitempty"`
	// Content is the notice with its list; Approved is the fingerprint the
	// approvers approved. They must agree, or nothing is sent.
	Content  NoticeContent `json:"content"`
	Approved string        `json:"approved"`
}

// maxLanes bounds SendChunk.Lanes.
const maxLanes = 64

// ChunkProgress is how far a chunk got: its heartbeat details, its result,
// and the details of its errors. A request is named by the index of its
// first recipient; requests start at Start and every BatchSize after it.
type ChunkProgress struct {
	// Next is the first recipient index not yet dealt with: every
	// recipient of [Start, Next) is.
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
	// Ahead lists requests after Next already dealt with: requests in
	// flight at once may finish out of order.
	Ahead []int `json:"ahead,omitempty"`
	// InFlight lists requests that may have gone out: each is recorded
	// before it goes out and removed once its outcome is known.
	InFlight []int `json:"in_flight_at,omitempty"`
}

// Dealt counts the recipients of [start, end) that p has dealt with, in
// requests of batch.
func (p ChunkProgress) Dealt(start, end, batch int) int {
	n := max(0, p.Next-start)
	for _, at := range p.Ahead {
		n += min(batch, end-at)
	}
	return n
}

// clone returns p with its own lists.
func (p ChunkProgress) clone() ChunkProgress {
	p.Ahead, p.InFlight = cloneInts(p.Ahead), cloneInts(p.InFlight)
	return p
}

func cloneInts(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// idleRecord is the longest a chunk goes without a progress record.
const idleRecord = 2 * time.Second

// sendTimeout bounds one mail-send request; an interrupted send lets the
// request in flight finish rather than leave its outcome unknown.
const sendTimeout = 30 * time.Second

// errInterrupted: the chunk must stop between requests.
var errInterrupted = errors.New("send interrupted")

// SendNotices sends the approved notice to the recipients [Start, End) in
// requests of at most BatchSize messages, each to one recipient, Lanes
// requests in flight. Before each request it checks the content and list
// against the approved fingerprint and scans the content again (every
// page read is verified against the list's SHA-256), and records the
// request as in flight (heartbeat; with Heartbeats, synchronously: the
// server has the record before the request goes out). A lane prepares its
// next request while one is in flight, and records the outcome of one
// with the start of the next; records wanted at once by several lanes
// are sent as one.
//
// A retried attempt resumes from the last recorded progress, so nobody is
// sent the notice twice; a request in flight when a worker died, whose
// outcome is unknown, is sent again and counted in Resent.
//
// Pause and stop cancel the activity: it stops between requests, within
// one request's time, and fails with ErrTypeSendCanceled whose details
// are the progress. A 429 honours SendGrid's reset time (NextRetryDelay).
func (n *Notices) SendNotices(ctx context.Context, in SendChunk) (ChunkProgress, error) {
	if in.BatchSize <= 0 || in.BatchSize > 1000 || in.Start < 0 || in.End < in.Start || in.End > in.Content.List.Count || in.Lanes < 0 || in.Lanes > maxLanes {
		return ChunkProgress{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("bad chunk [%d, %d) of %d in batches of %d, %d lanes", in.Start, in.End, in.Content.List.Count, in.BatchSize, in.Lanes), ErrTypeRejected, nil)
	}
	p := ChunkProgress{Next: in.Start}
	if activity.HasHeartbeatDetails(ctx) {
		var last ChunkProgress
		if err := activity.GetHeartbeatDetails(ctx, &last); err == nil && in.resumable(last) {
			p = last
		}
	}
	if len(p.InFlight) > 0 {
		// The worker died during these requests: SendGrid may or may not
		// have taken them. A notice must reach everyone, so send them
		// again, and say so: these people may receive it twice.
		again := 0
		for _, at := range p.InFlight {
			again += min(in.BatchSize, in.End-at)
		}
		n.logger().Warn("resuming after requests with an unknown outcome; they are sent again",
			"broadcast", in.BroadcastID, "offset", p.Next, "requests", len(p.InFlight), "recipients", again)
		p.Resent += again
		p.InFlight = nil
	}
	if err := n.checkContent(in.Content, in.Approved); err != nil {
		return p, withDetails(err, p)
	}
	r := &chunkRun{n: n, ctx: ctx, in: in, from: n.fromOf(in.Content), cursor: p.Next, skip: map[int]bool{}}
	r.halt, r.haltNow = context.WithCancel(ctx)
	defer r.haltNow()
	r.ck = newCheckpointer(ctx, n.Heartbeats, p, r.haltNow)
	defer r.ck.close()
	for _, at := range p.Ahead {
		r.skip[at] = true
	}
	var wg sync.WaitGroup
	for range max(1, in.Lanes) {
		wg.Go(r.lane)
	}
	wg.Wait()
	return r.result()
}

// resumable reports whether q, a heartbeat of an earlier attempt, is
// progress of this chunk.
func (in SendChunk) resumable(q ChunkProgress) bool {
	request := func(at int) bool { return at >= in.Start && at < in.End && (at-in.Start)%in.BatchSize == 0 }
	if q.Next < in.Start || q.Next > in.End || (q.Next < in.End && !request(q.Next)) {
		return false
	}
	for _, at := range append(slices.Clone(q.Ahead), q.InFlight...) {
		if !request(at) || at < q.Next {
			return false
		}
	}
	return true
}

// chunkRun is one attempt at a chunk: lanes take requests in order, each
// recorded as in flight before it goes out; the first failure stops every
// lane before its next request.
type chunkRun struct {
	n    *Notices
	ctx  context.Context
	in   SendChunk
	from *sgmail.Email
	ck   *checkpointer

	// halt ends the lanes' waits (rate limit, retry backoff) once the
	// chunk is stopping.
	halt    context.Context
	haltNow context.CancelFunc

	mu      sync.Mutex
	cursor  int          // the next request to hand out
	skip    map[int]bool // requests an earlier attempt dealt with
	failure *chunkFailure
}

// chunkFailure is why a chunk stopped: the first of them.
type chunkFailure struct {
	err error
	// kind says how to report it: an unprepared request, a send, or an
	// interruption (pause, stop, worker stopping, lost record).
	kind failureKind
	// at is the request concerned.
	at int
}

type failureKind int

const (
	failUnprepared failureKind = iota
	failSend
	failInterrupted
)

func (r *chunkRun) fail(f chunkFailure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failure == nil {
		r.failure = &f
	}
	r.haltNow()
}

func (r *chunkRun) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failure != nil
}

// take hands out the next request not yet dealt with, unless the chunk
// is done or stopping.
func (r *chunkRun) take() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.failure == nil && r.cursor < r.in.End {
		at := r.cursor
		r.cursor += r.in.BatchSize
		if !r.skip[at] {
			return at, true
		}
	}
	return 0, false
}

// lane sends requests one after another until none is left or the chunk
// stops. The next request is prepared while one is in flight; it is
// recorded as in flight together with the outcome of the one before.
func (r *chunkRun) lane() {
	req, ok := r.next()
	if !ok {
		return
	}
	if err := r.ck.commit(func(p *ChunkProgress) { p.InFlight = append(p.InFlight, req.at) }); err != nil {
		r.abandon(req.at, err)
		return
	}
	for {
		if err := r.ck.check(r.ctx); err != nil {
			r.abandon(req.at, err)
			return
		}
		if r.failed() {
			r.abandon(req.at, nil)
			return
		}
		var ahead request
		var more bool
		if req.mail != nil {
			if !r.deliver(req, func() { ahead, more = r.next() }) {
				return
			}
		} else {
			// Nobody in this request has a usable address: nothing to send.
			ahead, more = r.next()
		}
		done := func(p *ChunkProgress) {
			r.dealt(p, req)
			if more {
				p.InFlight = append(p.InFlight, ahead.at)
			}
		}
		if err := r.ck.commit(done); err != nil {
			if more {
				r.abandon(ahead.at, err)
			} else {
				r.fail(chunkFailure{err: err, kind: failInterrupted})
			}
			return
		}
		if !more {
			return
		}
		req = ahead
	}
}

// Retries of one request within a chunk: transient failures (429, 5xx,
// no answer) are retried by the lane, the request still recorded in
// flight, after SendGrid's reset time or a backoff that starts again
// after every success; only then does the chunk fail (and Temporal's
// retry policy, whose backoff grows with every attempt of the activity,
// take over).
const maxSendTries = 8

var (
	sendBackoff    = time.Second
	sendMaxBackoff = 30 * time.Second
)

// deliver sends req, retrying transient failures; prefetch runs while the
// first try is in flight. It reports whether SendGrid accepted the
// request; if not, the chunk is stopping (r.fail has the reason).
func (r *chunkRun) deliver(req request, prefetch func()) bool {
	for try := 1; ; try++ {
		if r.n.Limiter != nil {
			if err := r.n.Limiter.Wait(r.halt); err != nil {
				r.abandon(req.at, r.haltCause(err))
				return false
			}
		}
		sent := make(chan error, 1)
		go func(m *sgmail.SGMailV3) {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), sendTimeout)
			defer cancel()
			_, err := r.n.Mail.Send(sctx, m)
			sent <- err
		}(req.mail)
		if try == 1 {
			prefetch()
		}
		err := <-sent
		if err == nil {
			return true
		}
		// An answer, even 429 or 5xx, means nothing was sent; no answer
		// leaves the outcome unknown: the request stays in flight, and
		// is sent again and counted.
		unknown := ambiguous(err)
		var appErr *temporal.ApplicationError
		if (errors.As(err, &appErr) && appErr.NonRetryable()) || try == maxSendTries {
			if !unknown {
				r.ck.update(func(p *ChunkProgress) { p.InFlight = without(p.InFlight, req.at) })
			}
			r.fail(chunkFailure{err: err, kind: failSend, at: req.at})
			return false
		}
		delay := min(sendMaxBackoff, sendBackoff<<(try-1))
		if appErr != nil && appErr.NextRetryDelay() > 0 {
			delay = appErr.NextRetryDelay() // SendGrid's reset time
		}
		r.n.logger().Info("notice request failed; it is sent again", "broadcast", r.in.BroadcastID,
			"offset", req.at, "try", try, "outcome_unknown", unknown, "retry_in", delay.String(), "error", err.Error())
		select {
		case <-time.After(delay):
		case <-r.halt.Done():
			if !unknown {
				r.ck.update(func(p *ChunkProgress) { p.InFlight = without(p.InFlight, req.at) })
			}
			r.fail(chunkFailure{err: r.haltCause(r.halt.Err()), kind: failInterrupted})
			return false
		}
		if unknown {
			r.ck.update(func(p *ChunkProgress) { p.Resent += req.recipients })
		}
	}
}

// haltCause says why the lanes were halted: err, or the workflow's
// request to stop.
func (r *chunkRun) haltCause(err error) error {
	if r.ck.canceled(r.ctx) {
		return errInterrupted
	}
	if r.failed() {
		return nil // another lane stopped the chunk and said why
	}
	return err
}

// next takes the next request and prepares it; a request that cannot be
// prepared stops the chunk.
func (r *chunkRun) next() (request, bool) {
	at, ok := r.take()
	if !ok {
		return request{}, false
	}
	req := r.n.prepare(r.ctx, r.in, r.from, at)
	if req.err != nil {
		r.fail(chunkFailure{err: req.err, kind: failUnprepared, at: at})
		return request{}, false
	}
	return req, true
}

// abandon withdraws a request recorded as in flight but not sent, and
// stops the chunk (err nil: another lane already did).
func (r *chunkRun) abandon(at int, err error) {
	r.ck.update(func(p *ChunkProgress) { p.InFlight = without(p.InFlight, at) })
	if err != nil {
		r.fail(chunkFailure{err: err, kind: failInterrupted})
	}
}

// dealt records req as sent, or dealt with without sending.
func (r *chunkRun) dealt(p *ChunkProgress, req request) {
	p.InFlight = without(p.InFlight, req.at)
	p.NoAddress += req.noAddress
	p.Invalid += req.invalid
	p.Duplicates += req.duplicates
	if req.mail != nil {
		p.Sent += req.recipients
		p.Requests++
	}
	if req.at != p.Next {
		p.Ahead = append(p.Ahead, req.at)
		return
	}
	p.Next = min(p.Next+r.in.BatchSize, r.in.End)
	for slices.Contains(p.Ahead, p.Next) {
		p.Ahead = without(p.Ahead, p.Next)
		p.Next = min(p.Next+r.in.BatchSize, r.in.End)
	}
}

// result is the chunk's outcome once every lane has stopped: the
// progress, or the first failure with the progress as its details (also
// recorded, so that a retry knows which requests did not go out).
func (r *chunkRun) result() (ChunkProgress, error) {
	p := r.ck.progress()
	f := r.failure
	if f == nil {
		return p, nil
	}
	_ = r.ck.commit(nil)
	in, n := r.in, r.n
	size := func(at int) int { return min(in.BatchSize, in.End-at) }
	switch f.kind {
	case failSend:
		what := fmt.Sprintf("send recipients %d-%d", f.at+1, f.at+size(f.at))
		if ambiguous(f.err) {
			what += " (outcome unknown)"
		}
		return p, topLevel(what, f.err, p)
	case failUnprepared:
		var appErr *temporal.ApplicationError
		switch {
		case errors.As(f.err, &appErr):
			// The content is not the approved one, or a message would go to
			// more than one person.
			return p, withDetails(f.err, p)
		case errors.Is(f.err, recipients.ErrFingerprint) || errors.Is(f.err, recipients.ErrBadRef):
			return p, temporal.NewNonRetryableApplicationError("recipient list does not match the approved fingerprint", ErrTypeListTampered, f.err, p)
		case errors.Is(f.err, errShortList):
			return p, temporal.NewNonRetryableApplicationError(f.err.Error(), ErrTypeListTampered, nil, p)
		case r.ctx.Err() == nil:
			return p, topLevel(fmt.Sprintf("read recipients %d-%d", f.at+1, f.at+size(f.at)), f.err, p)
		}
		f.err = r.ctx.Err()
	}
	if r.ck.canceled(r.ctx) {
		n.logger().Info("notice send stopped between requests", "broadcast", in.BroadcastID, "offset", p.Next)
		return p, temporal.NewNonRetryableApplicationError("send canceled", ErrTypeSendCanceled, nil, p)
	}
	n.logger().Info("notice send interrupted; the next attempt resumes", "broadcast", in.BroadcastID, "offset", p.Next, "cause", f.err.Error())
	return p, temporal.NewApplicationErrorWithOptions("send interrupted: "+f.err.Error(), "SendInterrupted",
		temporal.ApplicationErrorOptions{Details: []any{p}})
}

// without returns s without v (nil when nothing is left).
func without(s []int, v int) []int {
	if s = slices.DeleteFunc(s, func(x int) bool { return x == v }); len(s) == 0 {
		return nil
	}
	return s
}

// request is one mail-send request prepared for recipients [at, at+size):
// the mail (nil when none of them has a usable address) and the
// recipients left out, or why it must not be sent.
type request struct {
	at, size                       int
	mail                           *sgmail.SGMailV3
	recipients                     int
	noAddress, invalid, duplicates int
	err                            error
}

// prepare checks that the content is still the approved one, reads the
// recipients [at, at+BatchSize) (every page read is verified against the
// list's SHA-256) and builds the request, one message per recipient.
func (n *Notices) prepare(ctx context.Context, in SendChunk, from *sgmail.Email, at int) request {
	r := request{at: at, size: min(in.BatchSize, in.End-at)}
	if r.err = n.checkContent(in.Content, in.Approved); r.err != nil {
		return r
	}
	page, err := n.Lists.Page(ctx, in.Content.List, at, r.size)
	if err != nil {
		r.err = err
		return r
	}
	if len(page) != r.size {
		r.err = errShortList
		return r
	}
	batch := make([]recipients.Recipient, 0, r.size)
	seen := make(map[string]bool, r.size)
	for _, rc := range page {
		key := strings.ToLower(rc.Email)
		switch {
		case rc.Email == "":
			r.noAddress++
		case !sendable(rc.Email):
			r.invalid++
		case seen[key]:
			r.duplicates++
		default:
			seen[key] = true
			batch = append(batch, rc)
		}
	}
	if len(batch) == 0 {
		return r
	}
	r.mail, r.recipients = noticeMail(in.Content, from, in.BroadcastID, at/in.BatchSize, batch), len(batch)
	r.err = checkEnvelopes(r.mail)
	return r
}

// errShortList: the list has fewer recipients than its count.
var errShortList = errors.New("recipient list is shorter than its count")

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

// checkpointer records a chunk's progress as its heartbeat, always the
// latest and in order, and keeps heartbeating while requests take long.
// Changes wanted on the server at the same time share one record.
type checkpointer struct {
	ctx   context.Context
	hb    HeartbeatRecorder
	token []byte
	// wait is how long a record may take: while the server is away, up to
	// the heartbeat timeout (after it the attempt is over anyway).
	wait time.Duration

	// onCancel is called when a record's answer says the workflow asked
	// the chunk to stop.
	onCancel func()

	mu        sync.Mutex
	cond      *sync.Cond
	cur       ChunkProgress
	changes   uint64 // made to cur
	recorded  uint64 // of them, on the server
	busy      bool   // a record is on its way
	last      time.Time
	cancelReq bool
	stop      chan struct{}
	done      sync.WaitGroup
}

func newCheckpointer(ctx context.Context, hb HeartbeatRecorder, p ChunkProgress, onCancel func()) *checkpointer {
	c := &checkpointer{ctx: ctx, hb: hb, onCancel: onCancel, cur: p, stop: make(chan struct{}), last: time.Now()}
	c.cond = sync.NewCond(&c.mu)
	if hb != nil {
		c.token = activity.GetInfo(ctx).TaskToken
	}
	timeout := activity.GetInfo(ctx).HeartbeatTimeout
	c.wait = max(10*time.Second, timeout)
	// Without a record for this long (every lane waiting: a long request,
	// a retry's backoff), a record keeps the heartbeat alive and brings
	// the workflow's request to stop, if any, within seconds.
	every := idleRecord
	if timeout > 0 {
		every = min(every, timeout/3)
	}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(every / 2)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.mu.Lock()
				if !c.busy && time.Since(c.last) >= every {
					_ = c.record() // requests are taking long: keep the heartbeat alive
				}
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
	return c.cur.clone()
}

// update changes the progress without recording it now: the next record,
// or the activity's result, reports it.
func (c *checkpointer) update(f func(*ChunkProgress)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.cur)
	c.changes++
}

// commit changes the progress (f may be nil) and returns once the server
// has a record that includes the change (with a HeartbeatRecorder); an
// error means no request may go out.
func (c *checkpointer) commit(f func(*ChunkProgress)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f != nil {
		f(&c.cur)
		c.changes++
	}
	want := c.changes
	for c.recorded < want {
		if c.busy {
			c.cond.Wait()
			continue
		}
		if err := c.record(); err != nil {
			return err
		}
	}
	if c.cancelReq {
		return errInterrupted
	}
	return nil
}

// record sends the latest progress; c.mu is held, and released while the
// record is on its way.
func (c *checkpointer) record() error {
	snap, upTo := c.cur.clone(), c.changes
	c.last = time.Now()
	if c.hb == nil {
		activity.RecordHeartbeat(c.ctx, snap)
		c.recorded = upTo
		return nil
	}
	c.busy = true
	c.mu.Unlock()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.wait)
	err := c.hb.RecordActivityHeartbeat(hctx, c.token, snap)
	cancel()
	c.mu.Lock()
	c.busy = false
	c.cond.Broadcast()
	var ce *temporal.CanceledError
	if errors.As(err, &ce) {
		// The progress is recorded; the workflow asked us to stop.
		c.cancelReq, err = true, nil
		c.onCancel()
	}
	if err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	c.recorded = max(c.recorded, upTo)
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
