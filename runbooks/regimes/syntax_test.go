package regimes_test

import (
	"testing"

	"github.com/breachflow/breachflow/runbooks/regimes"
)

func TestParseLength(t *testing.T) {
	tests := []struct {
		in      string
		want    regimes.Length
		wantErr bool
	}{
		{"72 hours", regimes.Length{N: 72, Unit: regimes.Hours}, false},
		{"1 hour", regimes.Length{N: 1, Unit: regimes.Hours}, false},
		{"30 days", regimes.Length{N: 30, Unit: regimes.Days}, false},
		{"1 day", regimes.Length{N: 1, Unit: regimes.Days}, false},
		{"0 days", regimes.Length{N: 0, Unit: regimes.Days}, false},
		{"30", regimes.Length{}, true},
		{"30d", regimes.Length{}, true},
		{"-3 days", regimes.Length{}, true},
		{"3 weeks", regimes.Length{}, true},
		{"three days", regimes.Length{}, true},
	}
	for _, tt := range tests {
		got, err := regimes.ParseLength(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLength(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			if back, _ := regimes.ParseLength(got.String()); back != got {
				t.Errorf("%q does not round-trip through %q", tt.in, got)
			}
		}
	}
}

func TestParseOffset(t *testing.T) {
	tests := []struct {
		in      string
		want    regimes.Offset
		wantErr bool
	}{
		{"deadline", regimes.Offset{Base: regimes.BaseDeadline}, false},
		{"anchor + 24h", regimes.Offset{Base: regimes.BaseAnchor, Hours: 24}, false},
		{"deadline - 10d", regimes.Offset{Base: regimes.BaseDeadline, Days: -10}, false},
		{"target + 2d12h", regimes.Offset{Base: regimes.BaseTarget, Days: 2, Hours: 12}, false},
		{"anchor +24h", regimes.Offset{}, true},
		{"deadline - 10", regimes.Offset{}, true},
		{"deadline - 10w", regimes.Offset{}, true},
		{"grace + 1d", regimes.Offset{}, true},
		{"", regimes.Offset{}, true},
	}
	for _, tt := range tests {
		got, err := regimes.ParseOffset(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseOffset(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseOffset(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestParseAnchorRef(t *testing.T) {
	tests := []struct {
		in      string
		want    regimes.AnchorRef
		wantErr bool
	}{
		{"aware", regimes.AnchorRef{Event: regimes.EventAware}, false},
		{"reportable", regimes.AnchorRef{Event: regimes.EventReportable}, false},
		{"assessment_concluded", regimes.AnchorRef{Event: regimes.EventAssessmentConcluded}, false},
		{"individuals_notified", regimes.AnchorRef{Event: regimes.EventIndividualsNotified}, false},
		{"year_end", regimes.AnchorRef{Event: regimes.EventYearEnd}, false},
		{"deadline of individual_notice", regimes.AnchorRef{Event: regimes.EventDeadline, Of: "individual_notice"}, false},
		{"deadline of ", regimes.AnchorRef{}, true},
		{"deadline", regimes.AnchorRef{}, true},
		{"discovered", regimes.AnchorRef{}, true},
	}
	for _, tt := range tests {
		got, err := regimes.ParseAnchorRef(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAnchorRef(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseAnchorRef(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"2022-04-01", "2022-04-01", false},
		{"2028-02-29", "2028-02-29", false},
		{"2027-02-29", "", true},
		{"2022-4-1", "", true},
		{"01/04/2022", "", true},
	}
	for _, tt := range tests {
		got, err := regimes.ParseDate(tt.in)
		if (err != nil) != tt.wantErr || (err == nil && got.String() != tt.want) {
			t.Errorf("ParseDate(%q) = %s, %v; want %s, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
