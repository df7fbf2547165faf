package frontdoor

import "sync"

// seenSet remembers the last n keys (provider event IDs) to drop duplicate
// deliveries early. It is only an optimisation: workflows dedupe too, so a
// restart that forgets the set applies nothing twice.
type seenSet struct {
	mu   sync.Mutex
	max  int
	keys map[string]struct{}
	ring []string
	next int
}

func newSeenSet(n int) *seenSet {
	return &seenSet{max: n, keys: make(map[string]struct{}, n), ring: make([]string, n)}
}

// Add records key and reports whether it was new.
func (s *seenSet) Add(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.keys, old)
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % s.max
	s.keys[key] = struct{}{}
	return true
}

// Forget removes key, so a delivery that failed to apply can be retried.
func (s *seenSet) Forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
}
