package activities

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/breachflow/breachflow/internal/contentscan"
	"github.com/breachflow/breachflow/internal/letters"
)

// Letters renders the letters a BrokerDemand sends by content-certified
// mail and stores each twice in Dir: as a Word file (.docx), the one to
// upload to Japan Post's e内容証明, which takes Word files only, and as a
// PDF, for the records and for printing at a post-office counter.
// Workflows get paths and SHA-256s, never the bytes.
type Letters struct {
	// Dir is where letters are stored (BREACHFLOW_LETTER_DIR); the person
	// uploading to e内容証明 reads them there.
	Dir string
	// Sender is the organisation sending, unless a request names one.
	Sender letters.Party
	// Published is what a letter may quote besides the sender's number.
	Published contentscan.Allowlist
	Logger    *slog.Logger
}

// ErrTypeLetterIncomplete: the letter lacks a part the post office or the
// law needs.
const ErrTypeLetterIncomplete = "LetterIncomplete"

// BrokerLetterRequest asks for the cease-and-desist letter to one list
// broker or company using the list.
type BrokerLetterRequest struct {
	IncidentID string        `json:"incident_id"`
	DemandID   string        `json:"demand_id"`
	Date       time.Time     `json:"date"`
	Broker     letters.Party `json:"broker"`
	// Sender overrides the configured sender when its Name is set.
	Sender          letters.Party `json:"sender,omitzero"`
	Data            string        `json:"data"`
	Evidence        string        `json:"evidence,omitempty"`
	ReplyWithinDays int           `json:"reply_within_days,omitempty"`
}

// BrokerLetter is a stored letter: the same text in two files.
type BrokerLetter struct {
	// Path is the PDF, for the records and for printing at a counter (laid
	// out 20 characters × 26 lines a page, as the counter requires).
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Pages  int    `json:"pages"`
	Bytes  int    `json:"bytes"`
	// DocxPath is the Word file to upload to e内容証明 (A4, its margins and
	// characters; internal/letters/docx.go).
	DocxPath   string `json:"docx_path"`
	DocxSHA256 string `json:"docx_sha256"`
	DocxPages  int    `json:"docx_pages"`
	DocxBytes  int    `json:"docx_bytes"`
}

// safeID is what IDs used in file names may be.
var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// RenderBrokerLetter renders the letter (利用停止・消去の要請, APPI Art.
// 27(2) and 30) as a Word file for e内容証明 and as a PDF with the embedded
// Japanese font, and stores them in Dir/<incident>/<demand>-<sha256
// prefix>.docx and .pdf (each named by its own hash). The same request
// gives the same files. A letter quoting a phone number or address other
// than the sender's published ones is refused: it must not carry the
// leaked data. So is one e内容証明 could not print (a character outside
// JIS X 0208, more than 5 pages); nothing is stored then.
func (l *Letters) RenderBrokerLetter(ctx context.Context, in BrokerLetterRequest) (BrokerLetter, error) {
	if !safeID.MatchString(in.IncidentID) || !safeID.MatchString(in.DemandID) {
		return BrokerLetter{}, temporal.NewNonRetryableApplicationError("incident and demand IDs must be letters, digits, - and _", ErrTypeLetterIncomplete, nil)
	}
	sender := l.Sender
	if in.Sender.Name != "" {
		sender = in.Sender
	}
	c := letters.CeaseAndDesist{
		Date: in.Date, Reference: in.IncidentID + "/" + in.DemandID, To: in.Broker, From: sender,
		Data: in.Data, Evidence: in.Evidence, ReplyWithinDays: in.ReplyWithinDays,
	}
	if err := c.Validate(); err != nil {
		return BrokerLetter{}, temporal.NewNonRetryableApplicationError("broker letter: "+err.Error(), ErrTypeLetterIncomplete, nil)
	}
	allow := contentscan.Allowlist{Emails: l.Published.Emails, Phones: append([]string{sender.Phone}, l.Published.Phones...)}
	if r := contentscan.ScanContent("", strings.Join(c.Paragraphs(), "\n"), "", nil, allow); !r.OK() {
		return BrokerLetter{}, temporal.NewNonRetryableApplicationError("broker letter: content scan "+r.Err().Error(), ErrTypeContentRefused, nil)
	}
	word, err := c.RenderWord()
	if err != nil {
		return BrokerLetter{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeLetterIncomplete, nil)
	}
	letter, err := c.Render()
	if err != nil {
		return BrokerLetter{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeLetterIncomplete, nil)
	}
	dir := filepath.Join(l.Dir, in.IncidentID)
	out := BrokerLetter{
		Path: filepath.Join(dir, in.DemandID+"-"+letter.SHA256[:12]+".pdf"), SHA256: letter.SHA256, Pages: letter.Pages, Bytes: len(letter.PDF),
		DocxPath: filepath.Join(dir, in.DemandID+"-"+word.SHA256[:12]+".docx"), DocxSHA256: word.SHA256, DocxPages: word.Pages, DocxBytes: len(word.Docx),
	}
	if err := writeFileAtomic(dir, out.DocxPath, word.Docx); err != nil {
		return BrokerLetter{}, fmt.Errorf("store broker letter %s (Word): %w", in.DemandID, err)
	}
	if err := writeFileAtomic(dir, out.Path, letter.PDF); err != nil {
		return BrokerLetter{}, fmt.Errorf("store broker letter %s (PDF): %w", in.DemandID, err)
	}
	l.logger().Info("broker letter stored", "incident", in.IncidentID, "demand", in.DemandID,
		"docx_sha256", word.SHA256, "docx_pages", word.Pages, "pdf_sha256", letter.SHA256, "pdf_pages", letter.Pages)
	return out, nil
}

// writeFileAtomic writes data to path through a temporary file in dir,
// readable by the owner only (a letter names a company and its address).
func writeFileAtomic(dir, path string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".letter-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename: nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func (l *Letters) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}
