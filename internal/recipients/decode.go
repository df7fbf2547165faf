package recipients

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// ErrUnsupportedFormat is returned (wrapped) for inputs that are not a CSV
// or XLSX recipient list: UTF-16 text, legacy .xls or encrypted workbooks.
var ErrUnsupportedFormat = errors.New("unsupported file format")

// Values of Report.Encoding and Report.EncodingSource.
const (
	encUTF8    = "utf-8"
	encUTF8BOM = "utf-8-bom"
	encSJIS    = "shift_jis"

	sourceDetected = "detected"
	sourceBOM      = "bom"
	sourceOption   = "option"
	sourceFormat   = "format" // XLSX: the XML inside is UTF-8
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
	magicZIP   = []byte("PK\x03\x04")
	magicOLE2  = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// sniffWindow is how many bytes are examined to detect the format.
const sniffWindow = 4096

// sniffFormat looks at the first bytes of br without consuming them.
func sniffFormat(br *bufio.Reader, want Format) (Format, error) {
	head, err := br.Peek(sniffWindow)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("read list: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, magicOLE2):
		return "", fmt.Errorf("%w: legacy .xls or password-protected workbook; save it as .xlsx without a password, or as CSV", ErrUnsupportedFormat)
	case bytes.HasPrefix(head, magicZIP) && want != FormatCSV:
		// A workbook: its first entry may well be NUL-padded binary,
		// which is not UTF-16 text.
		return FormatXLSX, nil
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE), looksUTF16(head):
		return "", fmt.Errorf("%w: the file looks like UTF-16 text; save it as \"CSV UTF-8\"", ErrUnsupportedFormat)
	}
	if want != FormatAuto {
		return want, nil
	}
	return FormatCSV, nil
}

// looksUTF16 reports whether a quarter or more of the first bytes are NUL,
// which text in UTF-8 or Shift_JIS never has but UTF-16 always does.
func looksUTF16(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	return bytes.Count(head, []byte{0})*4 >= len(head)
}

// prepareText strips a UTF-8 byte order mark and records the encoding a
// BOM or the option chose. Otherwise the encoding stays undecided until the
// first record with non-ASCII bytes (see fieldDecoder). The text itself is
// not transformed: the tokenizer splits raw bytes -- in Shift_JIS, as in
// UTF-8, the bytes of , " CR and LF never occur inside a character -- and
// fields are decoded one by one, so a row in the wrong encoding is rejected
// instead of turning the whole file into mojibake.
func prepareText(br *bufio.Reader, enc Encoding, rep *Report) (*fieldDecoder, error) {
	d := newFieldDecoder(rep)
	head, err := br.Peek(len(bomUTF8))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read list: %w", err)
	}
	switch {
	case bytes.Equal(head, bomUTF8):
		if _, err := br.Discard(len(bomUTF8)); err != nil {
			return nil, fmt.Errorf("read list: %w", err)
		}
		d.set(encUTF8BOM, sourceBOM)
	case enc == EncodingUTF8:
		d.set(encUTF8, sourceOption)
	case enc == EncodingShiftJIS:
		d.set(encSJIS, sourceOption)
	default:
		rep.Encoding, rep.EncodingSource = encUTF8, sourceDetected // until a non-ASCII record says otherwise
	}
	return d, nil
}

// encProblem is what is wrong with the bytes of a field.
type encProblem int

const (
	encOK          encProblem = iota
	encBadUTF8                // not UTF-8
	encLooksSJIS              // not UTF-8, but clean Shift_JIS: the file mixes encodings
	encReplacement            // U+FFFD: damaged by an earlier conversion
	encBadSJIS                // not Shift_JIS
	encLooksUTF8              // UTF-8 Japanese in a Shift_JIS file
)

// fieldDecoder turns the raw fields of a record into UTF-8.
type fieldDecoder struct {
	rep     *Report
	decided bool
	isSJIS  bool
	sjis    *encoding.Decoder
	out     []string
	probs   []encProblem
}

func newFieldDecoder(rep *Report) *fieldDecoder {
	return &fieldDecoder{rep: rep, sjis: japanese.ShiftJIS.NewDecoder()}
}

func (d *fieldDecoder) set(enc, source string) {
	d.rep.Encoding, d.rep.EncodingSource = enc, source
	d.decided, d.isSJIS = true, enc == encSJIS
}

// decode returns the decoded fields and, per field, what is wrong with its
// bytes. The first record with non-ASCII bytes decides an undecided
// encoding: valid UTF-8 means UTF-8, anything else Shift_JIS (CP932).
// Both slices are valid until the next call.
func (d *fieldDecoder) decode(fields []string) ([]string, []encProblem) {
	if !d.decided {
		ascii, valid := true, true
		for _, f := range fields {
			if !isASCII(f) {
				ascii = false
				valid = valid && utf8.ValidString(f)
			}
		}
		if !ascii {
			d.decided = true
			if !valid {
				d.isSJIS = true
				d.rep.Encoding = encSJIS
			}
		}
	}
	d.out, d.probs = d.out[:0], d.probs[:0]
	for _, f := range fields {
		p := encOK
		switch {
		case isASCII(f):
		case !d.isSJIS:
			if !utf8.ValidString(f) {
				p = encBadUTF8
				if s, err := d.sjis.String(f); err == nil && !strings.ContainsRune(s, utf8.RuneError) {
					p = encLooksSJIS
				}
			} else if strings.ContainsRune(f, utf8.RuneError) {
				p = encReplacement
			}
		case looksUTF8Japanese(f):
			p = encLooksUTF8
		default:
			s, err := d.sjis.String(f)
			if err != nil || strings.ContainsRune(s, utf8.RuneError) {
				p = encBadSJIS
			}
			f = s
		}
		d.out = append(d.out, f)
		d.probs = append(d.probs, p)
	}
	return d.out, d.probs
}

// looksUTF8Japanese reports whether a field of a Shift_JIS file is really
// UTF-8 Japanese: valid UTF-8 with a three-byte character in the CJK,
// kana or full-width ranges. Shift_JIS text almost never is: its common
// lead bytes 0x81-0x9F cannot start a UTF-8 character.
func looksUTF8Japanese(f string) bool {
	if !utf8.ValidString(f) {
		return false
	}
	for _, r := range f {
		if r >= 0x3000 && r <= 0x9FFF || r >= 0xFF00 && r <= 0xFFEF {
			return true
		}
	}
	return false
}

// message says what is wrong with the bytes of a column, and what to do.
func (p encProblem) message(col string) string {
	switch p {
	case encBadUTF8:
		return fmt.Sprintf("column %s: contains bytes that are not valid UTF-8; save the file as UTF-8, or pass --encoding sjis if it is Shift_JIS", col)
	case encLooksSJIS:
		return fmt.Sprintf("column %s: is Shift_JIS text in a UTF-8 file; the file mixes encodings: save it again in one encoding", col)
	case encReplacement:
		return fmt.Sprintf("column %s: contains the replacement character U+FFFD, so the text was damaged by an earlier conversion; correct it from the original data", col)
	case encBadSJIS:
		return fmt.Sprintf("column %s: contains bytes that are not valid Shift_JIS (CP932); check the file's encoding, or pass --encoding utf8 if it is UTF-8", col)
	case encLooksUTF8:
		return fmt.Sprintf("column %s: is UTF-8 text in a Shift_JIS file; the file mixes encodings: save it again in one encoding", col)
	}
	return ""
}
