package recipients

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Encoding is the character encoding of a CSV recipient list.
type Encoding string

// Encodings a CSV list may be read in. The zero value detects the encoding.
const (
	// EncodingAuto detects the encoding: a UTF-8 byte order mark means
	// UTF-8; otherwise the first non-ASCII bytes decide (valid UTF-8 means
	// UTF-8, anything else Shift_JIS/CP932).
	EncodingAuto Encoding = ""
	// EncodingUTF8 reads UTF-8, with or without a byte order mark.
	EncodingUTF8 Encoding = "utf-8"
	// EncodingShiftJIS reads Shift_JIS as Windows writes it (CP932,
	// Windows-31J, including the NEC and IBM extensions).
	EncodingShiftJIS Encoding = "shift_jis"
)

// ParseEncoding turns the value of a command-line flag into an Encoding. It
// accepts "auto" or "", "utf8"/"utf-8", and "sjis"/"shift_jis"/"shift-jis"/
// "cp932"/"windows-31j", in any case.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return EncodingAuto, nil
	case "utf8", "utf-8":
		return EncodingUTF8, nil
	case "sjis", "shift_jis", "shift-jis", "shiftjis", "cp932", "windows-31j", "ms932":
		return EncodingShiftJIS, nil
	}
	return "", fmt.Errorf("unknown encoding %q: use utf8 or sjis", s)
}

// Format is the file format of a recipient list.
type Format string

// File formats. The zero value detects the format from the first bytes: a
// ZIP signature means XLSX, anything else CSV.
const (
	FormatAuto Format = ""
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// DefaultMaxDetails is how many duplicates, rejections, blank lines and
// warnings a Report lists individually when Options.MaxDetails is zero.
// Counts are always exact.
const DefaultMaxDetails = 10_000

// DefaultRegion is the region whose national phone-number format is assumed
// for numbers written without a country code.
const DefaultRegion = "JP"

// Options tune how a list is read. The zero value reads CSV or XLSX, detects
// the encoding, and assumes Japanese national phone numbers.
type Options struct {
	// Encoding of a CSV list; EncodingAuto detects it. A UTF-8 byte order
	// mark always wins. Ignored for XLSX.
	Encoding Encoding
	// Format of the list; FormatAuto detects it from the first bytes.
	Format Format
	// Sheet is the XLSX worksheet to read; empty means the first one.
	Sheet string
	// Region is the ISO 3166 region (e.g. "JP", "US") of phone numbers
	// written without a country code; empty means DefaultRegion.
	Region string
	// MaxDetails caps each detail list of the Report (duplicates, rejected,
	// blank lines, warnings); counts stay exact and Report.Truncated says
	// when a list was cut. Zero means DefaultMaxDetails, negative means no
	// cap (memory then grows with the number of problem rows).
	MaxDetails int
	// MaxRows caps the rows read (header included): a longer list is
	// refused with ErrTooLarge. Zero means MaxRows; it may only be lower.
	MaxRows int
}

func (o Options) maxRows() int {
	if o.MaxRows <= 0 || o.MaxRows > MaxRows {
		return MaxRows
	}
	return o.MaxRows
}

func (o Options) region() string {
	if o.Region == "" {
		return DefaultRegion
	}
	return strings.ToUpper(o.Region)
}

func (o Options) maxDetails() int {
	switch {
	case o.MaxDetails == 0:
		return DefaultMaxDetails
	case o.MaxDetails < 0:
		return int(^uint(0) >> 1)
	}
	return o.MaxDetails
}

func (o Options) validate() error {
	switch o.Encoding {
	case EncodingAuto, EncodingUTF8, EncodingShiftJIS:
	default:
		return fmt.Errorf("options: unknown encoding %q", string(o.Encoding))
	}
	switch o.Format {
	case FormatAuto, FormatCSV, FormatXLSX:
	default:
		return fmt.Errorf("options: unknown format %q", string(o.Format))
	}
	if phonenumbers.GetCountryCodeForRegion(o.region()) == 0 {
		return fmt.Errorf("options: unknown phone region %q", o.Region)
	}
	return nil
}
