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
