package workflows

import "time"

// SetStopBatch sets how many stop signals a close sends in one workflow
// task, for a test; it returns the function that restores it.
func SetStopBatch(n int) (restore func()) {
	old := stopBatch
	stopBatch = n
	return func() { stopBatch = old }
}

// SetReconcilePage sets how many Recalls one reconciliation activity asks
// about, for a test; it returns the function that restores it.
func SetReconcilePage(n int) (restore func()) {
	old := reconcilePage
	reconcilePage = n
	return func() { reconcilePage = old }
}

// ReconcileEvery is how often an Incident reconciles on its own.
func ReconcileEvery() time.Duration { return reconcileEvery }

// LeftNote is leftNote, for a test.
func LeftNote(now, t time.Time) (ja, en string) { return leftNote(now, t) }

// HandlerDescriptions are handlerDescriptions, for a test.
var HandlerDescriptions = handlerDescriptions

// DetailsHead is detailsHead, for a test.
const DetailsHead = detailsHead

// ComposeDailyReport writes a day's staff and public reports in loc, as
// the incident would, for a test.
func ComposeDailyReport(loc *time.Location, day int, s DailySnapshot) []string {
	d := &dailyReport{title: func() string { return "会員情報ファイルの誤送信" }, sh: &crew{incidentID: "INC-20261112-SEED00", loc: loc}}
	ja, en := d.compose(day, s, nil, nil)
	pub := d.composePublic(day, s, nil, nil)
	return []string{ja, en, pub.Ja, pub.En, pub.SubjectJa, pub.SubjectEn}
}
