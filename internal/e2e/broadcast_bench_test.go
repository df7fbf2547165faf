//go:build integration

package e2e_test

import (
	"bufio"
	"cmp"
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
	"slices"
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
// flight in the plain loop as the Broadcast keeps in flight
// (BroadcastInput.Concurrency); the Broadcast's chunks are its default
// (100 requests).
const (
	benchBatch       = 1000
	benchConcurrency = 4
	benchRounds      = 3
)

// benchScenario: everybody reads and nobody clicks, and the account has no
// event webhook. SendGrid posts its events from its own servers; the
// sandbox posting one per message from the same two cores would slow
// whichever side of the comparison runs longer (it does more of that work
// within its window), and could not keep up with a million.
const benchScenario = `
sendgrid_events: none
email:
  default: {persona: ignore}
`

// BenchmarkBroadcast sends the notice to BREACHFLOW_BENCH_RECIPIENTS
// people (default 100,000) through the sandbox's SendGrid, run as its own
// process (`starter sandbox`) so that this process is the worker's alone,
// and sends the same list with a plain sendgrid-go loop: the same
// requests field for field (batch size, custom args), as many in flight,
// the same sandbox (restarted empty for each). It does so
// BREACHFLOW_BENCH_ROUNDS times (default 3), alternating which goes
// first, and reports the median round (by ratio), so that one round
// disturbed by another process on a shared machine does not make the
// figure. Run it with -benchtime 1x.
//
// BREACHFLOW_BENCH_RPS bounds both to that many requests a second (0, the
// default: unbounded), as a real SendGrid account would.
//
//	msgs/s          notices accepted per second: the Broadcast's SendStartedAt (the last approval) to SentAt, median round
//	plain-msgs/s    the plain loop's, first request to last answer, same round
//	ratio           msgs/s / plain-msgs/s of that round; ratio-min and ratio-max over the rounds
//	peak-heap-MB    this process's (the workers') peak Go heap in use while the Broadcast sends (sampled every 50 ms), highest round
//	peak-rss-MB     its peak resident set while sending (VmHWM after a reset; Linux), highest round
//	runs            workflow runs of the Broadcast (continue-as-new bounds history)
//	check-s         the notice's preparation with the list-aware check: the list verified, the
//	                content scanned, every listed person looked for in it (once, before the test send)
//	check-µs/person the same per listed person
func BenchmarkBroadcast(b *testing.B) {
	n := benchEnvInt(b, "BREACHFLOW_BENCH_RECIPIENTS", 100_000)
	rounds := benchEnvInt(b, "BREACHFLOW_BENCH_ROUNDS", benchRounds)
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
	checkStart := time.Now()
	content := bs.content(ctx, b, list)
	// The preparation: the list verified against its SHA-256, the content
	// scan, and every listed person looked for in the notice (the check
	// that gates it). It runs once per notice, before the test send; the
	// send that follows the approvals is what is compared.
	check := time.Since(checkStart)
	b.Logf("notice prepared and checked against the %d people on its list in %v", n, check.Round(time.Millisecond))

	for i := 0; i < b.N; i++ {
		type round struct{ broadcast, plain benchRun }
		var rs []round
		for k := range rounds {
			var r round
			// Each side on a fresh sandbox: the same, but empty.
			if k%2 == 0 {
				r.broadcast = bs.broadcast(ctx, b, list, content, i*rounds+k)
				bs.sandbox.stop()
				bs.sandbox.restart()
				r.plain = bs.plainLoop(ctx, b, list, content, i*rounds+k)
			} else {
				r.plain = bs.plainLoop(ctx, b, list, content, i*rounds+k)
				bs.sandbox.stop()
				bs.sandbox.restart()
				r.broadcast = bs.broadcast(ctx, b, list, content, i*rounds+k)
			}
			bs.sandbox.stop()
			bs.sandbox.restart()
			b.Logf("round %d: Broadcast %d sent in %v (%.0f/s), %d runs, peak heap %d MB, peak RSS %d MB; plain sendgrid-go %d in %v (%.0f/s); ratio %.2f",
				k+1, r.broadcast.sent, r.broadcast.took.Round(time.Millisecond), r.broadcast.rate(), r.broadcast.runs, r.broadcast.peakHeap>>20, r.broadcast.peakRSS>>20,
				r.plain.sent, r.plain.took.Round(time.Millisecond), r.plain.rate(), r.broadcast.rate()/r.plain.rate())
			rs = append(rs, r)
		}
		ratio := func(r round) float64 { return r.broadcast.rate() / r.plain.rate() }
		slices.SortFunc(rs, func(x, y round) int { return cmp.Compare(ratio(x), ratio(y)) })
		med := rs[len(rs)/2]
		var heap, rss uint64
		for _, r := range rs {
			heap, rss = max(heap, r.broadcast.peakHeap), max(rss, r.broadcast.peakRSS)
		}
		b.ReportMetric(med.broadcast.rate(), "msgs/s")
		b.ReportMetric(med.plain.rate(), "plain-msgs/s")
		b.ReportMetric(ratio(med), "ratio")
		b.ReportMetric(ratio(rs[0]), "ratio-min")
		b.ReportMetric(ratio(rs[len(rs)-1]), "ratio-max")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
		b.ReportMetric(float64(med.broadcast.runs), "runs")
		b.ReportMetric(check.Seconds(), "check-s")
		b.ReportMetric(float64(check.Microseconds())/float64(n), "check-µs/person")
	}
}

// benchEnvInt reads a positive integer setting.
func benchEnvInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		b.Fatalf("%s=%q", name, s)
	}
	return v
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
	if err := os.WriteFile(scenario, []byte(benchScenario), 0o600); err != nil {
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
}

func (r benchRun) rate() float64 { return float64(r.sent) / r.took.Seconds() }

// benchInput is the Broadcast: the same notice in every round (each
// round's workflow has its own ID).
func (bs *benchStack) benchInput(b *testing.B, list recipients.ListRef) workflows.BroadcastInput {
	in := seed004Broadcast(b, "INC-20261121-BENCH0", list, benchBatch)
	in.Concurrency, in.BatchesPerChunk, in.MailTaskQueue = benchConcurrency, 0, workflows.MailTaskQueue(bs.taskQueue)
	// Continue as new every few chunks, to show history stays bounded
	// however long the list.
	in.HistoryLimit = 60
	return in
}

// content is the notice the Broadcast sends, rendered as it renders it.
func (bs *benchStack) content(ctx context.Context, b *testing.B, list recipients.ListRef) activities.NoticeContent {
	in := bs.benchInput(b, list)
	prep, err := bs.notices.PrepareNotice(ctx, activities.NoticeRequest{Template: in.Policy.Template, Notice: in.Notice, Items: in.Items, List: list})
	if err != nil || len(prep.Findings) > 0 {
		b.Fatalf("prepare the notice: %v %v", err, prep.Findings)
	}
	return prep.Content
}

// broadcast runs one Broadcast to the list and measures it.
func (bs *benchStack) broadcast(ctx context.Context, b *testing.B, list recipients.ListRef, c activities.NoticeContent, i int) benchRun {
	b.Helper()
	in := bs.benchInput(b, list)
	id := fmt.Sprintf("%s-%d-%d", workflows.BroadcastWorkflowID(in.IncidentID, 1), i, time.Now().UnixNano())
	if _, err := bs.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: bs.taskQueue}, workflows.Broadcast, in); err != nil {
		b.Fatal(err)
	}
	st := awaitBroadcast(ctx, b, bs.client, id, "awaiting approval", func(st workflows.BroadcastStatus) bool {
		return st.State == workflows.BroadcastAwaitingApproval || st.State == workflows.BroadcastRefused
	})
	if st.State != workflows.BroadcastAwaitingApproval || st.Fingerprint != c.Fingerprint {
		b.Fatalf("broadcast %s: %s (fingerprint %s, the plain loop's %s)", st.State, st.Reason, st.Fingerprint, c.Fingerprint)
	}
	before := bs.totals(b)
	mem := watchMemory()
	for _, by := range []string{"U0PRIVACY", "U0LEGAL", "U0MGMT"} {
		updateBroadcast(ctx, b, bs.client, id, workflows.UpdateApproveBroadcast, workflows.ApproveBroadcast{Fingerprint: st.Fingerprint, By: by})
	}
	// The workflow's result, long-polled: no status query competes with
	// the send for the dev server and the worker (a query every 50 ms
	// cost the Broadcast a tenth of its speed on two cores). The run ends
	// one BounceWindow (1 s) after the last batch; the measurement is the
	// Broadcast's own SendStartedAt to SentAt.
	if err := bs.client.GetWorkflow(ctx, id, "").Get(ctx, &st); err != nil {
		b.Fatalf("broadcast: %v", err)
	}
	heap, rss := mem.stop()
	if st.State != workflows.BroadcastDone || st.Progress.Sent != list.Count || st.Progress.Resent != 0 {
		b.Fatalf("broadcast %s: %s; %+v", st.State, st.Reason, st.Progress)
	}
	after := bs.totals(b)
	if d := after.Duplicates - before.Duplicates; d != 0 || after.Messages-before.Messages != list.Count {
		b.Fatalf("the sandbox accepted %d messages with %d duplicates, want %d and none", after.Messages-before.Messages, d, list.Count)
	}
	return benchRun{sent: st.Progress.Sent, took: st.SentAt.Sub(st.SendStartedAt), runs: st.Runs, peakHeap: heap, peakRSS: rss}
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
				// The Broadcast's request, field for field: the
				// sandbox's work per message is the same.
				broadcastID := fmt.Sprintf("plain-%d", i)
				m := sgmail.NewV3Mail()
				m.SetFrom(sgmail.NewEmail("株式会社サンプル", "security@example.com"))
				m.Subject = c.Subject
				m.AddContent(sgmail.NewContent("text/plain", c.Text), sgmail.NewContent("text/html", c.HTML))
				m.SetHeader(activities.HeaderFingerprint, c.Fingerprint)
				m.SetCustomArg(activities.ArgBroadcastID, broadcastID)
				m.SetCustomArg(activities.ArgBatch, strconv.Itoa(off/benchBatch))
				m.AddCategories("breachflow-broadcast")
				m.SetTrackingSettings(sgmail.NewTrackingSettings().
					SetClickTracking(sgmail.NewClickTrackingSetting().SetEnable(false)).
					SetOpenTracking(sgmail.NewOpenTrackingSetting().SetEnable(false)))
				for _, r := range page {
					p := sgmail.NewPersonalization()
					p.AddTos(sgmail.NewEmail(r.Name, r.Email))
					p.SetCustomArg(activities.ArgRecipientID, r.ID)
					p.SetCustomArg(activities.ArgRequestKey, broadcastID+"#"+r.ID)
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
	if t := bs.totals(b); t.Messages != list.Count || t.Duplicates != 0 {
		b.Fatalf("plain loop: the sandbox accepted %d messages with %d duplicates, want %d and none", t.Messages, t.Duplicates, list.Count)
	}
	return benchRun{sent: int(sent.Load()), took: took}
}

// totals reads the sandbox's e-mail counters.
func (bs *benchStack) totals(b *testing.B) sandbox.EmailTotals {
	b.Helper()
	resp, err := http.Get(bs.sandboxURL + "/sim/stats?totals=1")
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
