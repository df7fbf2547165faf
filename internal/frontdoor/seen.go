package frontdoor

import (
	"context"
	"sync"
)

// seenSet remembers the last n keys (provider event IDs) applied, to drop
// duplicate deliveries early. Workflows dedupe too, so a restart that
// forgets the set applies nothing twice; but a duplicate must never be
// dropped while the first delivery may still fail, or the event is lost:
// a delivery of a key being applied waits for that outcome.
type seenSet struct {
	mu   sync.Mutex
	max  int
	keys map[string]*seenKey
	ring []string
	next int
}

// seenKey is a key applied or being applied.
type seenKey struct {
	done    chan struct{} // closed once the outcome is known
	applied bool
}

func newSeenSet(n int) *seenSet {
	return &seenSet{max: n, keys: make(map[string]*seenKey, n), ring: make([]string, n)}
}

// Claim takes key for applying. first reports whether the caller must
// apply it; if so it calls done with whether it was applied (a key not
// applied can be claimed again, by the provider's retry). first is false
// when the key was applied already: by an earlier delivery, or by one
// under way when Claim was called, which Claim waits for (until ctx ends:
// then err, and the caller answers "try again").
func (s *seenSet) Claim(ctx context.Context, key string) (done func(applied bool), first bool, err error) {
	for {
		s.mu.Lock()
		k, ok := s.keys[key]
		if !ok {
			k = &seenKey{done: make(chan struct{})}
			s.remember(key, k)
			s.mu.Unlock()
			return func(applied bool) { s.settle(key, k, applied) }, true, nil
		}
		s.mu.Unlock()
		select {
		case <-k.done:
			if k.applied {
				return nil, false, nil
			}
			// The other delivery failed and released the key: claim it.
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// remember adds key, evicting the oldest settled one when full; s.mu is
// held.
func (s *seenSet) remember(key string, k *seenKey) {
	if old := s.ring[s.next]; old != "" {
		if o, ok := s.keys[old]; ok && isClosed(o.done) {
			delete(s.keys, old)
		}
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % s.max
	s.keys[key] = k
}

// settle records the outcome of a claim: an applied key stays, one not
// applied is released for the next delivery.
func (s *seenSet) settle(key string, k *seenKey, applied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.applied = applied
	if !applied && s.keys[key] == k {
		delete(s.keys, key)
	}
	close(k.done)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
