package workflows

// SetStopBatch sets how many stop signals a close sends in one workflow
// task, for a test; it returns the function that restores it.
func SetStopBatch(n int) (restore func()) {
	old := stopBatch
	stopBatch = n
	return func() { stopBatch = old }
}
