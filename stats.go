package sealed

import (
	"errors"
	"maps"
	"sync"
	"sync/atomic"
)

// Stats counts what a Sealer has done since it was created. Operators export
// it to see when a previous key stops being used (its Opened count stops
// growing) and so is safe to retire, and to spot attacks or misconfiguration
// (Invalid and UnknownKey rising).
type Stats struct {
	Sealed map[string]uint64 // values sealed, by key ID
	Opened map[string]uint64 // values opened (authentic, including expired), by key ID

	Stale      uint64 // values opened (not expired) with a non-primary key: re-seals pending
	UnknownKey uint64 // values naming a key not in the ring
	Invalid    uint64 // values that failed authentication
	Expired    uint64 // authentic values past their expiry
	Malformed  uint64 // values that are not sealed values at all
	TooLarge   uint64 // values over MaxLen, and plaintexts too large to seal
	Revoked    uint64 // authentic sessions a Manager refused as revoked (ErrRevoked)
}

// counters is the Sealer's live form of Stats. Per-key counters sit in a
// copy-on-write map by key ID, so they survive ring reloads; the hot path
// finds them through slots, cached for the current ring, with one pointer
// comparison and no map lookup.
type counters struct {
	mu    sync.Mutex
	keys  atomic.Pointer[map[string]*keyCounters]
	cache atomic.Pointer[ringSlots]

	stale, unknownKey, invalid, expired, malformed, tooLarge, revoked atomic.Uint64
}

type keyCounters struct{ sealed, opened atomic.Uint64 }

func (c *counters) key(id string) *keyCounters {
	if m := c.keys.Load(); m != nil {
		if kc := (*m)[id]; kc != nil {
			return kc
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var next map[string]*keyCounters
	if m := c.keys.Load(); m != nil {
		if kc := (*m)[id]; kc != nil {
			return kc
		}
		next = maps.Clone(*m)
	} else {
		next = make(map[string]*keyCounters)
	}
	kc := new(keyCounters)
	next[id] = kc
	c.keys.Store(&next)
	return kc
}

// ringSlots holds the counters of a ring's keys, in the ring's order.
type ringSlots struct {
	ring  *KeyRing
	slots []*keyCounters
}

// slots returns the counters of r's keys, indexed like r.keys.
func (c *counters) slots(r *KeyRing) []*keyCounters {
	if rs := c.cache.Load(); rs != nil && rs.ring == r {
		return rs.slots
	}
	rs := &ringSlots{ring: r, slots: make([]*keyCounters, len(r.keys))}
	for i, k := range r.keys {
		rs.slots[i] = c.key(k.k.id)
	}
	c.cache.Store(rs)
	return rs.slots
}

// countOpen records the outcome of an Open. Opens per key are counted by
// open itself, where it knows the key's slot. Only a value that opened is
// stale: an expired one reports Info.Stale too, but nobody re-seals it.
func (c *counters) countOpen(info Info, err error) {
	switch {
	case err == nil:
		if info.Stale {
			c.stale.Add(1)
		}
	case errors.Is(err, ErrExpired):
		c.expired.Add(1)
	case errors.Is(err, ErrInvalid):
		c.invalid.Add(1)
	case errors.Is(err, ErrUnknownKey):
		c.unknownKey.Add(1)
	case errors.Is(err, ErrTooLarge):
		c.tooLarge.Add(1)
	case errors.Is(err, ErrMalformed):
		c.malformed.Add(1)
	}
}

// Stats returns a snapshot of the Sealer's counters.
func (s *Sealer) Stats() Stats {
	c := s.stats
	st := Stats{
		Sealed:     make(map[string]uint64),
		Opened:     make(map[string]uint64),
		Stale:      c.stale.Load(),
		UnknownKey: c.unknownKey.Load(),
		Invalid:    c.invalid.Load(),
		Expired:    c.expired.Load(),
		Malformed:  c.malformed.Load(),
		TooLarge:   c.tooLarge.Load(),
		Revoked:    c.revoked.Load(),
	}
	if m := c.keys.Load(); m != nil {
		for id, kc := range *m {
			if n := kc.sealed.Load(); n > 0 {
				st.Sealed[id] = n
			}
			if n := kc.opened.Load(); n > 0 {
				st.Opened[id] = n
			}
		}
	}
	return st
}
