package runbooks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/runbooks"
)

func TestParseDuration(t *testing.T) {
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string // substring of the error; "" means valid
	}{
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "45s", want: 45 * time.Second},
		{in: "30m", want: 30 * time.Minute},
		{in: "2h", want: 2 * time.Hour},
		{in: "3d", want: 3 * day},
		{in: "1w", want: week},
		{in: "1d12h", want: day + 12*time.Hour},
		{in: "1w2d", want: 9 * day},
		{in: " 60d ", want: 60 * day},
		{in: "007m", want: 7 * time.Minute},
		{in: "", wantErr: "empty duration"},
		{in: "30", wantErr: `unknown unit ""`},
		{in: "2 weeks", wantErr: `unknown unit " weeks"`},
		{in: "1y", wantErr: `unknown unit "y"`},
		{in: "1.5h", wantErr: `unknown unit "."`},
		{in: "-1h", wantErr: `expected a number at "-1h"`},
		{in: "h", wantErr: `expected a number at "h"`},
		{in: "1h-", wantErr: `unknown unit "h-"`},
		{in: "99999999999999999999s", wantErr: "is too large"},
		{in: "8000w", wantErr: "too long"},
		{in: "7000w7000w", wantErr: "too long"}, // each part fits, the sum does not
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := runbooks.ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.D() != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got.D(), err, tt.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{90 * time.Second, "1m30s"},
		{36 * time.Hour, "1d12h"},
		{60 * 24 * time.Hour, "8w4d"},
		{-2 * time.Hour, "-2h"},
		{1500 * time.Millisecond, "1s500ms"},
		{time.Millisecond, "1ms"},
	}
	for _, tt := range tests {
		if got := runbooks.Duration(tt.in).String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDurationTextRoundTrip(t *testing.T) {
	for _, s := range []string{"0", "1s", "59m", "25h", "13d", "1w6d23h59m59s", "100w"} {
		d, err := runbooks.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		text, err := d.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back runbooks.Duration
		if err := back.UnmarshalText(text); err != nil || back != d {
			t.Errorf("%q -> %q -> %v (%v), want %v", s, text, back, err, d)
		}
	}
}

func TestParseClockTime(t *testing.T) {
	tests := []struct {
		in      string
		want    int // minutes after midnight
		wantErr string
	}{
		{in: "00:00", want: 0},
		{in: "09:00", want: 9 * 60},
		{in: "18:00", want: 18 * 60},
		{in: "20:30", want: 20*60 + 30},
		{in: "23:59", want: 23*60 + 59},
		{in: "24:00", want: 24 * 60}, // the end of a window
		{in: " 11:00 ", want: 11 * 60},
		{in: "9:00", wantErr: "is not HH:MM"},
		{in: "0900", wantErr: "is not HH:MM"},
		{in: "+9:00", wantErr: "is not HH:MM"},
		{in: "09:0a", wantErr: "is not HH:MM"},
		{in: "09:00:00", wantErr: "is not HH:MM"},
		{in: "", wantErr: "is not HH:MM"},
		{in: "24:01", wantErr: "out of range"},
		{in: "25:00", wantErr: "out of range"},
		{in: "12:60", wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := runbooks.ParseClockTime(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseClockTime(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Minutes() != tt.want {
				t.Fatalf("ParseClockTime(%q) = %d, %v; want %d", tt.in, got.Minutes(), err, tt.want)
			}
			if s := got.String(); s != strings.TrimSpace(tt.in) {
				t.Errorf("String() = %q, want %q", s, strings.TrimSpace(tt.in))
			}
		})
	}
}

func TestRetryScheduleWait(t *testing.T) {
	s := runbooks.RetrySchedule{Intervals: []runbooks.Duration{
		runbooks.Duration(2 * time.Hour), runbooks.Duration(4 * time.Hour), runbooks.Duration(24 * time.Hour),
	}, MaxAttempts: 10}
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, 2 * time.Hour}, // before the first attempt counts as the first
		{1, 2 * time.Hour},
		{2, 4 * time.Hour},
		{3, 24 * time.Hour},
		{9, 24 * time.Hour}, // the last interval repeats
	}
	for _, tt := range tests {
		if got := s.Wait(tt.attempt); got != tt.want {
			t.Errorf("Wait(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
	if got := (runbooks.RetrySchedule{}).Wait(1); got != 0 {
		t.Errorf("Wait without intervals = %v, want 0", got)
	}
}
