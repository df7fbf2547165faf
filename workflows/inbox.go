package workflows

import "go.temporal.io/sdk/workflow"

// inbox applies the signals of one channel as they arrive, and never holds
// one it has not applied.
//
// A goroutine blocked in Channel.Receive takes a signal the moment the SDK
// delivers it, before any coroutine runs; it applies it only when its own
// turn comes. The workflow's main coroutine runs first in every workflow
// task, so when the same task also wakes the main coroutine (the server
// suggests continue-as-new, a close arrives), the main coroutine's drain
// finds the channel empty and the run ends with the report held, unapplied,
// by the receiving goroutine: it is lost, and the sender, whose signal was
// delivered, never sends it again (issue 23: a confirmed recipient counted
// as pending forever). An inbox waits for the channel to be non-empty
// instead, so a delivered signal stays in the channel's buffer until
// someone applies it, and drain sees every one.
type inbox[T any] struct {
	ch    workflow.ReceiveChannel
	apply func(T)
}

// listen starts applying the signals named name with apply, and returns
// the inbox, whose drain must run before continue-as-new.
func listen[T any](ctx workflow.Context, name string, apply func(T)) *inbox[T] {
	in := &inbox[T]{ch: signalChannel(ctx, name), apply: apply}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool { return in.ch.Len() > 0 }); err != nil {
				return
			}
			in.drain()
		}
	})
	return in
}

// drain applies every signal already delivered, in order of delivery.
func (in *inbox[T]) drain() {
	for {
		var v T
		if !in.ch.ReceiveAsync(&v) {
			return
		}
		in.apply(v)
	}
}
