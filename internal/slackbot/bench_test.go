package slackbot_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkSlashCommandAck measures how long Slack waits for the
// acknowledgement of a slash command: 50 concurrent signed requests per
// round, half `/breach help` and half `/breach declare` (which opens the
// modal through the sandbox's views.open before answering), through the
// HTTP handler. It reports the p50 and p99 acknowledgement latency over
// every request; Slack's limit is 3,000 ms.
func BenchmarkSlashCommandAck(b *testing.B) {
	const concurrent = 50
	h := newHarness(b, defaultOptions())
	ctx := context.Background()
	var (
		mu              sync.Mutex
		all, help, decl []time.Duration
		failures        []string
	)
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range concurrent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				text, user := "/breach help", carol
				if i%2 == 1 {
					text = "/breach declare"
					if i%4 == 1 {
						user = alice // allowed through the user group (cached)
					}
				}
				start := time.Now()
				resp, err := h.sb.SlashCommand(ctx, user, incidentChannel, text)
				d := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					failures = append(failures, err.Error())
				case resp.StatusCode != 200:
					failures = append(failures, string(resp.Body))
				case text == "/breach declare" && len(resp.Body) != 0:
					failures = append(failures, "declare: "+string(resp.Body))
				}
				all = append(all, d)
				if text == "/breach help" {
					help = append(help, d)
				} else {
					decl = append(decl, d)
				}
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	if len(failures) > 0 {
		b.Fatalf("%d of %d requests failed, e.g. %s", len(failures), len(all), failures[0])
	}
	b.ReportMetric(percentile(all, 50), "p50-ms")
	b.ReportMetric(percentile(all, 99), "p99-ms")
	b.ReportMetric(percentile(help, 99), "help-p99-ms")
	b.ReportMetric(percentile(decl, 99), "declare-p99-ms")
}

// percentile returns the p-th percentile of ds in milliseconds (nearest rank).
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := (p*len(s)+99)/100 - 1
	k = max(0, min(k, len(s)-1))
	return float64(s[k].Microseconds()) / 1000
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		ds   []time.Duration
		p    int
		want float64
	}{
		{nil, 50, 0},
		{ms(7), 99, 7},
		{ms(4, 1, 3, 2), 50, 2},
		{ms(4, 1, 3, 2), 99, 4},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9},
	}
	for _, tt := range tests {
		if got := percentile(tt.ds, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %d) = %v, want %v", tt.ds, tt.p, got, tt.want)
		}
	}
}
