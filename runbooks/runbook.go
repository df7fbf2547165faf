// Package runbooks defines what a breach-response runbook is: the phases an
// incident runs and their parameters. Runbooks are YAML files, loaded strictly
// (unknown keys are errors) with positioned diagnostics, and handed to
// workflows as a Snapshot so a replay never sees a later edit.
//
// This package is pure Go: no Temporal, no network.
package runbooks

import "time"

// KindRunbook is the value of the top-level "kind" key of every runbook
// file. Regime files say "kind: regime".
const KindRunbook = "runbook"

// Runbook is one playbook, e.g. "missend" (seed 000).
type Runbook struct {
	// Kind is always KindRunbook; it lets tools tell runbooks from regimes.
	Kind string `yaml:"kind" json:"kind"`
	// ID is a lower-case slug such as "missend"; built-in runbooks are
	// stored in a file named after it.
	ID string `yaml:"id" json:"id"`
	// Version is 1 or more; raise it whenever the playbook changes.
	Version int `yaml:"version" json:"version"`
	// Title names the runbook in both languages.
	Title Localized `yaml:"title" json:"title"`
	// Description says when to use the runbook (optional).
	Description Localized `yaml:"description,omitempty" json:"description,omitempty"`
	// Regimes names the legal regimes considered by default (e.g. JP-APPI).
	Regimes []string `yaml:"regimes,omitempty" json:"regimes,omitempty"`
	Phases  Phases   `yaml:"phases" json:"phases"`
}

// Localized is a text in Japanese and English.
type Localized struct {
	Ja string `yaml:"ja" json:"ja"`
	En string `yaml:"en" json:"en"`
}

// In returns the text in a language: "ja" gives Japanese, anything else
// English.
func (l Localized) In(lang string) string {
	if lang == "ja" {
		return l.Ja
	}
	return l.En
}

// Phases lists which phases run; a nil phase does not run.
type Phases struct {
	Contain       *ContainPhase       `yaml:"contain,omitempty" json:"contain,omitempty"`
	Obligations   *ObligationsPhase   `yaml:"obligations,omitempty" json:"obligations,omitempty"`
	Recall        *RecallPhase        `yaml:"recall,omitempty" json:"recall,omitempty"`
	Broadcast     *BroadcastPhase     `yaml:"broadcast,omitempty" json:"broadcast,omitempty"`
	DailyReport   *DailyReportPhase   `yaml:"daily_report,omitempty" json:"daily_report,omitempty"`
	BrokerDemands *BrokerDemandsPhase `yaml:"broker_demands,omitempty" json:"broker_demands,omitempty"`
	Close         *ClosePhase         `yaml:"close,omitempty" json:"close,omitempty"`
}

// Channel is a way to reach a recipient.
type Channel string

// Channels a runbook may name.
const (
	ChannelEmail Channel = "email" // SendGrid mail with a signed confirmation link
	ChannelVoice Channel = "voice" // Twilio call, ja-JP text-to-speech, keypad answer
	ChannelSMS   Channel = "sms"   // Twilio SMS with the confirmation link
)

// Channels lists every channel a runbook may name.
func Channels() []Channel { return []Channel{ChannelEmail, ChannelVoice, ChannelSMS} }

// Confirmation is how a recipient confirms deletion.
type Confirmation string

// Confirmations a runbook may require.
const (
	ConfirmEmail Confirmation = "email" // the recipient POSTs the confirmation page
	ConfirmPhone Confirmation = "phone" // keypad 1 on our call, or an operator's recorded call
)

// Confirmations lists every confirmation a runbook may require.
func Confirmations() []Confirmation { return []Confirmation{ConfirmEmail, ConfirmPhone} }

// ContainPhase is the containment checklist.
type ContainPhase struct {
	Tasks []Task `yaml:"tasks" json:"tasks"`
}

// Task is a human task with an owner, a due offset from the declaration,
// reminders (offsets from the declaration) and an escalation offset.
type Task struct {
	ID         string     `yaml:"id" json:"id"`
	Title      Localized  `yaml:"title" json:"title"`
	Owner      string     `yaml:"owner" json:"owner"`
	Due        Duration   `yaml:"due" json:"due"`
	Reminders  []Duration `yaml:"reminders,omitempty" json:"reminders,omitempty"`
	EscalateAt Duration   `yaml:"escalate_at,omitempty" json:"escalate_at,omitempty"`
	EscalateTo string     `yaml:"escalate_to,omitempty" json:"escalate_to,omitempty"`
}

// ObligationsPhase says which roles are told about legal deadlines.
type ObligationsPhase struct {
	Regimes  []string `yaml:"regimes,omitempty" json:"regimes,omitempty"`
	Notify   []string `yaml:"notify" json:"notify"`                         // roles reminded (Slack + e-mail)
	Escalate []string `yaml:"escalate,omitempty" json:"escalate,omitempty"` // roles told on escalation
}

// RecallPhase asks every wrong recipient to delete what they received and
// confirms it, retrying until done.
type RecallPhase struct {
	// Request lists the channels deletion requests go out on.
	Request []Channel `yaml:"request" json:"request"`
	// Confirm lists the confirmations all required for "confirmed"
	// (seed 000: phone AND email).
	Confirm []Confirmation `yaml:"confirm" json:"confirm"`
	// Retry holds a schedule per request channel.
	Retry RetrySchedules `yaml:"retry" json:"retry"`
	// CallingHours bounds calls and SMS in the recipient's time zone. It is
	// required when Request names voice or sms, and ignored otherwise.
	CallingHours CallingHours `yaml:"calling_hours,omitempty" json:"calling_hours"`
	// Concurrency is the sliding window of Recall workflows running at once,
	// 1 to MaxConcurrency; 0 means DefaultConcurrency.
	Concurrency int `yaml:"concurrency,omitempty" json:"concurrency,omitempty"`
	// Unreachable is the human task opened when a recipient cannot be reached.
	Unreachable HumanTask `yaml:"unreachable" json:"unreachable"`
	// Message is what the deletion request says the recipient received
	// and asks them to delete, in the words of this kind of incident;
	// nil: the generic words (DefaultRecallMessage).
	Message *RecallMessage `yaml:"message,omitempty" json:"message,omitempty"`
}

// RecallMessage is the incident-specific part of a deletion request:
// Received completes "we sent you, by mistake, …" and Delete "please
// delete …"; both in Japanese and English, without personal data.
type RecallMessage struct {
	Received Localized `yaml:"received" json:"received"`
	Delete   Localized `yaml:"delete" json:"delete"`
}

// DefaultRecallMessage is what a request says when the runbook does not.
var DefaultRecallMessage = RecallMessage{
	Received: Localized{Ja: "個人情報を含むメール", En: "an e-mail containing personal data"},
	Delete:   Localized{Ja: "そのメールと添付ファイル（ごみ箱からも）", En: "that e-mail and any attachment (also from the trash)"},
}

// EffectiveMessage returns Message, or DefaultRecallMessage.
func (r RecallPhase) EffectiveMessage() RecallMessage {
	if r.Message == nil {
		return DefaultRecallMessage
	}
	return *r.Message
}

// Limits and defaults of RecallPhase.Concurrency.
const (
	DefaultConcurrency = 200
	MaxConcurrency     = 2000
)

// EffectiveConcurrency returns Concurrency, or DefaultConcurrency when it is 0.
func (r RecallPhase) EffectiveConcurrency() int {
	if r.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return r.Concurrency
}

// NeedsCallingHours reports whether a request channel calls or texts
// people, which is only done within CallingHours.
func (r RecallPhase) NeedsCallingHours() bool {
	for _, c := range r.Request {
		if c == ChannelVoice || c == ChannelSMS {
			return true
		}
	}
	return false
}

// RetrySchedules is a schedule per channel; nil means the channel is not retried.
type RetrySchedules struct {
	Email *RetrySchedule `yaml:"email,omitempty" json:"email,omitempty"`
	Voice *RetrySchedule `yaml:"voice,omitempty" json:"voice,omitempty"`
	SMS   *RetrySchedule `yaml:"sms,omitempty" json:"sms,omitempty"`
}

// For returns the schedule of a channel, or nil.
func (r RetrySchedules) For(c Channel) *RetrySchedule {
	switch c {
	case ChannelEmail:
		return r.Email
	case ChannelVoice:
		return r.Voice
	case ChannelSMS:
		return r.SMS
	}
	return nil
}

// RetrySchedule is the waits between attempts (the last repeats) and the
// maximum number of attempts, after which the recipient is unreachable on
// that channel.
type RetrySchedule struct {
	Intervals   []Duration `yaml:"intervals" json:"intervals"`
	MaxAttempts int        `yaml:"max_attempts" json:"max_attempts"`
}

// Wait returns how long to wait after attempt n (1-based) before the next.
func (s RetrySchedule) Wait(n int) time.Duration {
	if len(s.Intervals) == 0 {
		return 0
	}
	if n < 1 {
		n = 1
	}
	if n > len(s.Intervals) {
		n = len(s.Intervals)
	}
	return s.Intervals[n-1].D()
}

// CallingHours is a daily window such as 09:00-20:00 Asia/Tokyo: Start is
// inclusive, End exclusive, Start < End (no window across midnight).
type CallingHours struct {
	Start    ClockTime `yaml:"start" json:"start"`
	End      ClockTime `yaml:"end" json:"end"`
	TimeZone string    `yaml:"time_zone" json:"time_zone"` // IANA name, e.g. Asia/Tokyo
}

// HumanTask is a task for a person, reminded until closed.
type HumanTask struct {
	Title    Localized `yaml:"title" json:"title"`
	Owner    string    `yaml:"owner" json:"owner"`
	Reminder Duration  `yaml:"reminder" json:"reminder"`
}

// DailyReportPhase sends a status report every day at an hour.
type DailyReportPhase struct {
	At        ClockTime     `yaml:"at" json:"at"`               // 00:00-23:59
	TimeZone  string        `yaml:"time_zone" json:"time_zone"` // IANA name
	Audiences []string      `yaml:"audiences" json:"audiences"` // Audience* constants
	Stop      StopCondition `yaml:"stop" json:"stop"`
}

// Audiences a daily report may go to.
const (
	// AudienceAffected is everyone whose data leaked (the incident's
	// affected list), one message per person.
	AudienceAffected = "affected"
	// AudienceManagement is the people holding the management role.
	AudienceManagement = "management"
	// AudienceSlack is the incident's Slack channel.
	AudienceSlack = "slack"
)

// Audiences lists every audience a daily report may name.
func Audiences() []string {
	return []string{AudienceAffected, AudienceManagement, AudienceSlack}
}

// StopCondition says when daily reports stop being daily (seed 000: every day
// for the first week and until nearly everyone is confirmed, then only when
// something changed). The condition holds once MinDays days have passed since
// the declaration AND the share of wrong recipients confirmed has reached
// ConfirmedRatio (0 ignores the ratio; a ratio above 0 needs a recall
// phase). From then on reports are sent only on days when something changed
// if ThenOnChangeOnly, and not at all otherwise.
type StopCondition struct {
	MinDays          int     `yaml:"min_days" json:"min_days"`
	ConfirmedRatio   float64 `yaml:"confirmed_ratio" json:"confirmed_ratio"`
	ThenOnChangeOnly bool    `yaml:"then_on_change_only" json:"then_on_change_only"`
}

// BroadcastPhase notifies everyone affected behind an approval gate: the
// send starts once Quorum distinct people, each holding one of the Approvers
// roles (anyone when Approvers is empty), have approved the frozen content
// and recipient list.
type BroadcastPhase struct {
	Quorum    int      `yaml:"quorum" json:"quorum"`
	Approvers []string `yaml:"approvers,omitempty" json:"approvers,omitempty"` // roles
	Template  Template `yaml:"template" json:"template"`
	// BatchSize is how many messages one activity sends, 1 to MaxBatchSize;
	// 0 means DefaultBatchSize.
	BatchSize int `yaml:"batch_size,omitempty" json:"batch_size,omitempty"`
}

// Limits and defaults of BroadcastPhase.BatchSize.
const (
	DefaultBatchSize = 100
	MaxBatchSize     = 1000
)

// EffectiveBatchSize returns BatchSize, or DefaultBatchSize when it is 0.
func (b BroadcastPhase) EffectiveBatchSize() int {
	if b.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return b.BatchSize
}

// Template is a notice's subject and body (Go text/template syntax over
// NoticeData, see Render).
type Template struct {
	Subject Localized `yaml:"subject" json:"subject"`
	Body    Localized `yaml:"body" json:"body"`
}

// BrokerDemandsPhase sends cease-and-desist letters to list brokers.
type BrokerDemandsPhase struct {
	ResponseWindow Duration `yaml:"response_window" json:"response_window"`
}

// ClosePhase tracks the prevention report and closes the incident.
type ClosePhase struct {
	PreventionReportDue Duration `yaml:"prevention_report_due" json:"prevention_report_due"`
}

// Snapshot is a resolved runbook as workflows receive it: the parsed runbook
// and the SHA-256 of the bytes it was loaded from.
type Snapshot struct {
	Runbook Runbook `json:"runbook"`
	SHA256  string  `json:"sha256"`
	Source  string  `json:"source"` // file name or "builtin:<id>"
}
