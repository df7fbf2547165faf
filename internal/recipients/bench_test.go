package recipients

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// Benchmarks over a generated list of 1,000,000 rows, written once per
// process to a temporary file:
//
//	go test -run '^$' -bench 1M -benchtime 1x ./internal/recipients
//
// They report rows/s (or recipients/s) and peak-MB, the highest heap size
// (live and not yet collected objects) seen while the benchmark ran.

const benchRows = 1_000_000

var benchList struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchList.dir != "" {
		_ = os.RemoveAll(benchList.dir)
	}
	os.Exit(code)
}

// benchFile returns the 1M-row list: Japanese header, full-width names and
// kana, 1% duplicates (a repeated e-mail address) and 0.5% rejected rows
// (an address without a domain).
func benchFile(b *testing.B) string {
	b.Helper()
	benchList.once.Do(func() {
		benchList.dir, benchList.err = os.MkdirTemp("", "recipients-bench-")
		if benchList.err != nil {
			return
		}
		benchList.path = filepath.Join(benchList.dir, "1m.csv")
		benchList.err = writeBenchList(benchList.path)
	})
	if benchList.err != nil {
		b.Fatal(benchList.err)
	}
	return benchList.path
}

func writeBenchList(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所")
	for i := 1; i <= benchRows; i++ {
		name, kana := demoPerson(i)
		email := fmt.Sprintf("user%07d@example.jp", i)
		switch {
		case i%100 == 0:
			email = fmt.Sprintf("user%07d@example.jp", i-1) // duplicate
		case i%200 == 1:
			email = fmt.Sprintf("user%07d@example", i) // rejected
		}
		fmt.Fprintf(w, "%s %d,%s,%s,090-%04d-%04d,%03d-%04d,東京都架空区見本町%d-%d\n",
			name, i, kana, email, 1000+i/10000, i%10000, i%1000, i%10000, i%50+1, i%30+1)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// peakHeap samples the heap until stop is called and returns the highest
// value seen, in MB.
func peakHeap() (stop func() float64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak) / 1e6
	}
}

func BenchmarkCheck1M(b *testing.B) {
	path := benchFile(b)
	stop := peakHeap()
	b.ResetTimer()
	rows := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Check(f, Options{})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Rows != benchRows {
			b.Fatalf("%d rows", rep.Rows)
		}
		rows += rep.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(stop(), "peak-MB")
}

func BenchmarkStorePut1M(b *testing.B) {
	path := benchFile(b)
	s := Store{Dir: b.TempDir()}
	stop := peakHeap()
	b.ResetTimer()
	rows := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		_, rep, err := s.Put(context.Background(), f, Options{})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		rows += rep.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(stop(), "peak-MB")
}

// BenchmarkStorePage1M pages sequentially, 500 at a time, through the
// stored list of the 1M-row file, including the verification of its
// fingerprint on first use.
func BenchmarkStorePage1M(b *testing.B) {
	path := benchFile(b)
	s := Store{Dir: b.TempDir()}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	ref, _, err := s.Put(context.Background(), f, Options{})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	key, err := s.path(ref)
	if err != nil {
		b.Fatal(err)
	}
	stop := peakHeap()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		forget(key + " " + ref.SHA256) // verify again each round
		for off := 0; off < ref.Count; off += 500 {
			page, err := s.Page(context.Background(), ref, off, 500)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "recipients/s")
	b.ReportMetric(stop(), "peak-MB")
}
