//go:build integration

package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"golang.org/x/time/rate"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/recipients"
	"github.com/breachflow/breachflow/internal/roles"
	"github.com/breachflow/breachflow/internal/sandbox"
	"github.com/breachflow/breachflow/workflows"
)

// Benchmark settings: SendGrid's largest request, and as many requests in
// flight in the plain loop as the Broadcast runs chunks at once.
const (
	benchBatch       = 1000
	benchConcurrency = 4
	benchChunk       = 20 // requests per chunk activity
)

// BenchmarkBroadcast sends the notice to BREACHFLOW_BENCH_RECIPIENTS
// people (default 100,000) through the sandbox's SendGrid, run as its own
// process (`starter sandbox`) so that this process is the worker's alone,
// then sends the same list with a plain sendgrid-go loop (same batch size,
// same concurrency, same sandbox). Run it with -benchtime 1x.
//
// BREACHFLOW_BENCH_RPS bounds both to that many requests a second (0, the
// default: unbounded). The sandbox simulates each message's webhook
// events, a few thousand a second on two cores; a million recipients sent
// faster than that pile its backlog up in its memory, so run a million
// with a bound, e.g. BREACHFLOW_BENCH_RECIPIENTS=1000000
// BREACHFLOW_BENCH_RPS=3 (3,000 messages a second, as a real SendGrid
// account might allow): what it then shows is that the worker's memory and
// the Broadcast's history stay flat, not its top speed.
//
//	msgs/s          notices accepted per second, first to last request (the Broadcast's SendStartedAt to SentAt)
//	plain-msgs/s    the same for the plain loop
//	ratio           msgs/s / plain-msgs/s
//	peak-heap-MB    the worker process's peak Go heap in use while sending (sampled every 50 ms)
//	peak-rss-MB     its peak resident set while sending (VmHWM after a reset; Linux)
//	runs            workflow runs of the Broadcast (continue-as-new bounds history)
func BenchmarkBroadcast(b *testing.B) {
	n := 100_000
	if s := os.Getenv("BREACHFLOW_BENCH_RECIPIENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("BREACHFLOW_BENCH_RECIPIENTS=%q", s)
		}
		n = v
	}
	var limiter *rate.Limiter
	if s := os.Getenv("BREACHFLOW_BENCH_RPS"); s != "" {
		rps, err := strconv.ParseFloat(s, 64)
		if err != nil || rps < 0 {
			b.Fatalf("BREACHFLOW_BENCH_RPS=%q", s)
		}
		if rps > 0 {
			limiter = rate.NewLimiter(rate.Limit(rps), 1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	bs := newBenchStack(b, limiter)
	start := time.Now()
	list := bs.list(ctx, b, n)
	b.Logf("list of %d stored in %v", n, time.Since(start).Round(time.Millisecond))

	for i := 0; i < b.N; i++ {
		r := bs.broadcast(ctx, b, list, i)
		// A fresh sandbox for the plain loop: the same, but empty.
		bs.sandbox.stop()
		bs.sandbox.restart()
		plain := bs.plainLoop(ctx, b, list, r.content, i)
		bs.quiet(ctx, b)
		bs.sandbox.stop()
		bs.sandbox.restart()
		rate, plainRate := float64(r.sent)/r.took.Seconds(), float64(plain.sent)/plain.took.Seconds()
		b.ReportMetric(rate, "msgs/s")
		b.ReportMetric(plainRate, "plain-msgs/s")
		b.ReportMetric(rate/plainRate, "ratio")
		b.ReportMetric(float64(r.peakHeap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-rss-MB")
		b.ReportMetric(float64(r.runs), "runs")
		b.Logf("Broadcast: %d sent in %v (%.0f/s), %d runs, peak heap %d MB, peak RSS %d MB; plain sendgrid-go: %d in %v (%.0f/s); ratio %.2f",
			r.sent, r.took.Round(time.Millisecond), rate, r.runs, r.peakHeap>>20, r.peakRSS>>20, plain.sent, plain.took.Round(time.Millisecond), plainRate, rate/plainRate)
	}
}

// benchStack is a dev-server client, a worker and an e-mail worker in this
// process, and the sandbox in its own.
type benchStack struct {
	client     client.Client
	taskQueue  string
	store      *recipients.Store
	sandboxURL string
	sandbox    *process
	notices    *activities.Notices
	limiter    *rate.Limiter // of both the Broadcast and the plain loop; nil: none
}

func newBenchStack(b *testing.B, limiter *rate.Limiter) *benchStack {
	b.Helper()
	// The engine's webhook: the sandbox posts every message's events here.
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(engine.Close)
	scenario := filepath.Join(b.TempDir(), "quiet.yaml")
	if err := os.WriteFile(scenario, []byte(quietScenario), 0o600); err != nil {
		b.Fatal(err)
	}
	addr := freeAddr(b)
	sandboxURL := "http://" + addr
	sb := startProcess(b, "starter sandbox", map[string]string{
		"HOME": b.TempDir(), "BREACHFLOW_SANDBOX_ADDR": addr, "BREACHFLOW_SANDBOX_URL": sandboxURL, "BREACHFLOW_PUBLIC_URL": engine.URL,
	}, io.Discard, "starter", "sandbox", "-scenario", scenario, "-time-scale", "1000")
	sb.healthz = sandboxURL + "/sim/stats"
	sb.waitHealthy()

	keys, err := codec.LoadKeys(func(k string) string {
		if k == codec.EnvKeys {
			return testCodecKeys
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	copts := client.Options{HostPort: devServer.FrontendHostPort(), Namespace: "default", Logger: log.NewStructuredLogger(quiet)}
	if err := codec.ClientOptions(&copts, keys); err != nil {
		b.Fatal(err)
	}
	c, err := client.Dial(copts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)

	tq := fmt.Sprintf("bench-broadcast-%d", time.Now().UnixNano())
	store := &recipients.Store{Dir: b.TempDir()}
	dir, err := roles.Parse(approverRoles)
	if err != nil {
		b.Fatal(err)
	}
	n := &activities.Notices{
		Mail:       &activities.SendGridMailer{APIKey: config.SandboxSendGridAPIKey, Host: sandboxURL + "/sendgrid", HTTP: &http.Client{Timeout: 30 * time.Second}},
		Lists:      store,
		Sender:     activities.FromAddress{Name: "株式会社サンプル", Email: "security@example.com"},
		Config:     activities.NoticeConfig{Roles: dir, Published: contentscan.Allowlist{Emails: []string{"privacy@example.co.jp"}, Phones: []string{"0120-123-456"}}},
		Heartbeats: c,
		Limiter:    limiter,
		Logger:     quiet,
	}
	w := worker.New(c, tq, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Logger: quiet})
	mw := worker.New(c, workflows.MailTaskQueue(tq), worker.Options{MaxConcurrentActivityExecutionSize: benchConcurrency})
	mw.RegisterActivity(n)
	for _, w := range []worker.Worker{w, mw} {
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(w.Stop)
	}
	return &benchStack{client: c, taskQueue: tq, store: store, sandboxURL: sandboxURL, sandbox: sb, notices: n, limiter: limiter}
}

// list stores n fictitious customers, streamed.
func (bs *benchStack) list(ctx context.Context, b *testing.B, n int) recipients.ListRef {
	b.Helper()
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		fmt.Fprintln(bw, "name,email")
		for k := 1; k <= n; k++ {
			fmt.Fprintf(bw, "顧客 %d,c%08d@bench.example.jp\n", k, k)
		}
		pw.CloseWithError(bw.Flush())
	}()
	ref, rep, err := bs.store.Put(ctx, pr, recipients.Options{})
	if err != nil || rep.RejectedCount > 0 {
		b.Fatalf("store list: %v (%d rejected)", err, rep.RejectedCount)
	}
	return ref
}

type benchRun struct {
	sent              int
	took              time.Duration
	runs              int
	peakHeap, peakRSS uint64
	content           activities.NoticeContent
}

// broadcast runs one Broadcast to the list and measures it.
func (bs *benchStack) broadcast(ctx context.Context, b *testing.B, list recipients.ListRef, i int) benchRun {
	b.Helper()
	in := seed004Broadcast(b, fmt.Sprintf("INC-20261121-B%05d", i), list, benchBatch)
	in.Concurrency, in.BatchesPerChunk, in.MailTaskQueue = benchConcurrency, benchChunk, workflows.MailTaskQueue(bs.taskQueue)
	// Continue as new every few chunks, to show history stays bounded
	// however long the list.
	in.HistoryLimit = 300
	id := fmt.Sprintf("%s-%d", workflows.BroadcastWorkflowID(in.IncidentID, 1), time.Now().UnixNano())
	if _, err := bs.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: bs.taskQueue}, workflows.Broadcast, in); err != nil {
		b.Fatal(err)
	}
	st := awaitBroadcast(ctx, b, bs.client, id, "awaiting approval", func(st workflows.BroadcastStatus) bool {
		return st.State == workflows.BroadcastAwaitingApproval || st.State == workflows.BroadcastRefused
	})
	if st.State != workflows.BroadcastAwaitingApproval {
		b.Fatalf("broadcast %s: %s", st.State, st.Reason)
	}
	before := bs.totals(b)
	mem := watchMemory()
	for _, by := range []string{"U0PRIVACY", "U0LEGAL", "U0MGMT"} {
		updateBroadcast(ctx, b, bs.client, id, workflows.UpdateApproveBroadcast, workflows.ApproveBroadcast{Fingerprint: st.Fingerprint, By: by})
	}
	st = awaitBroadcast(ctx, b, bs.client, id, "sent", func(st workflows.BroadcastStatus) bool {
		return !st.SentAt.IsZero() || st.State.Final() || st.State == workflows.BroadcastPaused
	})
	heap, rss := mem.stop()
	bs.quiet(ctx, b)
	if st.Progress.Sent != list.Count {
		b.Fatalf("broadcast %s: %s; %+v", st.State, st.Reason, st.Progress)
	}
	after := bs.totals(b)
	if d := after.Duplicates - before.Duplicates; d != 0 || after.Messages-before.Messages != list.Count {
		b.Fatalf("the sandbox accepted %d messages with %d duplicates, want %d and none", after.Messages-before.Messages, d, list.Count)
	}
	prep, err := bs.notices.PrepareNotice(ctx, activities.NoticeRequest{Template: in.Policy.Template, Notice: in.Notice, Items: in.Items, List: list})
	if err != nil || prep.Content.Fingerprint != st.Fingerprint {
		b.Fatalf("the plain loop's content is not the Broadcast's: %v", err)
	}
	return benchRun{sent: st.Progress.Sent, took: st.SentAt.Sub(st.SendStartedAt), runs: st.Runs, peakHeap: heap, peakRSS: rss, content: prep.Content}
}

// plainLoop sends the same notice to the same list with sendgrid-go and
// nothing else: the list paged from the store, benchConcurrency requests
// in flight, benchBatch recipients per request.
func (bs *benchStack) plainLoop(ctx context.Context, b *testing.B, list recipients.ListRef, c activities.NoticeContent, i int) benchRun {
	b.Helper()
	hc := &rest.Client{HTTPClient: &http.Client{Timeout: 30 * time.Second}}
	var next atomic.Int64
	var sent atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchConcurrency)
	start := time.Now()
	for g := 0; g < benchConcurrency; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				off := int(next.Add(benchBatch)) - benchBatch
				if off >= list.Count {
					return
				}
				page, err := bs.store.Page(ctx, list, off, benchBatch)
				if err != nil {
					errs <- err
					return
				}
				m := sgmail.NewV3Mail()
				m.SetFrom(sgmail.NewEmail("株式会社サンプル", "security@example.com"))
				m.Subject = c.Subject
				m.AddContent(sgmail.NewContent("text/plain", c.Text), sgmail.NewContent("text/html", c.HTML))
				for _, r := range page {
					p := sgmail.NewPersonalization()
					p.AddTos(sgmail.NewEmail(r.Name, r.Email))
					p.SetCustomArg(activities.ArgRequestKey, fmt.Sprintf("plain-%d#%s", i, r.ID))
					m.AddPersonalizations(p)
				}
				if bs.limiter != nil {
					if err := bs.limiter.Wait(ctx); err != nil {
						errs <- err
						return
					}
				}
				req := sendgrid.GetRequest(config.SandboxSendGridAPIKey, "/v3/mail/send", bs.sandboxURL+"/sendgrid")
				req.Method = rest.Post
				req.Body = sgmail.GetRequestBody(m)
				resp, err := hc.SendWithContext(ctx, req)
				if err == nil && resp.StatusCode/100 != 2 {
					err = fmt.Errorf("HTTP %d", resp.StatusCode)
				}
				if err != nil {
					errs <- err
					return
				}
				sent.Add(int64(len(page)))
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatalf("plain loop: %v", err)
	}
	return benchRun{sent: int(sent.Load()), took: took}
}

// totals reads the sandbox's e-mail counters.
func (bs *benchStack) totals(b *testing.B) sandbox.EmailTotals {
	b.Helper()
	resp, err := http.Get(bs.sandboxURL + "/sim/stats")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		EmailTotals sandbox.EmailTotals `json:"email_totals"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	return st.EmailTotals
}

// quiet waits until the sandbox has delivered every message's events, so
// that one measurement does not pay for the previous one's backlog.
func (bs *benchStack) quiet(ctx context.Context, b *testing.B) {
	b.Helper()
	for {
		t := bs.totals(b)
		if t.WebhookPosts >= t.Messages {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("the sandbox's webhook backlog did not drain: %+v", t)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// memoryWatch samples this process's Go heap and resident set.
type memoryWatch struct {
	stopc    chan struct{}
	done     chan struct{}
	peakHeap uint64
}

func watchMemory() *memoryWatch {
	// Return what storing the list freed to the OS, then reset the peak
	// resident set (Linux: "5" to clear_refs), so VmHWM is the peak of the
	// send alone.
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	m := &memoryWatch{stopc: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			m.peakHeap = max(m.peakHeap, sample[0].Value.Uint64())
			select {
			case <-m.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memoryWatch) stop() (heap, rss uint64) {
	close(m.stopc)
	<-m.done
	return m.peakHeap, vmHWM()
}

// vmHWM is the peak resident set of this process (0 when unknown).
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
