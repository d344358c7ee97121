package sealed

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a [RevocationStore] in this process's memory: for a single
// instance, and for tests. Its zero value is not ready; use
// [NewMemoryStore]. It is safe for concurrent use.
//
// A store shared by a fleet can use a MemoryStore as its local mirror:
// apply each revocation it learns of with Revoke, and answer Revoked from
// it.
type MemoryStore struct {
	mu       sync.RWMutex
	sessions map[SessionID]Revocation
	subjects map[string]Revocation
	registry map[string]map[SessionID]SessionRecord
	expiries expiryQueue // every entry above, soonest first
	now      func() time.Time
}

// NewMemoryStore returns an empty MemoryStore. now is its clock; nil means
// time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{
		sessions: make(map[SessionID]Revocation),
		subjects: make(map[string]Revocation),
		registry: make(map[string]map[SessionID]SessionRecord),
		now:      now,
	}
}

var _ RevocationStore = (*MemoryStore)(nil)

// Revoked implements [RevocationStore].
func (m *MemoryStore) Revoked(id SessionID, subject string, minted time.Time) bool {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if r, ok := m.sessions[id]; ok && r.revokes(id, subject, minted, now) {
		return true
	}
	if subject == "" {
		return false
	}
	r, ok := m.subjects[subject]
	return ok && r.revokes(id, subject, minted, now)
}

// Revoke implements [RevocationStore]. A subject revocation replaces the
// subject's previous one when it is later.
func (m *MemoryStore) Revoke(ctx context.Context, r Revocation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge()
	if r.Session != (SessionID{}) {
		if old, ok := m.sessions[r.Session]; ok && old == r {
			return nil // already held: a mirror re-applying what it has
		}
		m.sessions[r.Session] = r
	} else if old, ok := m.subjects[r.Subject]; !ok || !r.NotBefore.Before(old.NotBefore) {
		if ok && old == r {
			return nil
		}
		m.subjects[r.Subject] = r
	} else {
		return nil
	}
	heap.Push(&m.expiries, expiry{at: r.Expires, session: r.Session, subject: r.Subject})
	return nil
}

// Register implements [RevocationStore].
func (m *MemoryStore) Register(ctx context.Context, s SessionRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge()
	recs := m.registry[s.Subject]
	if recs == nil {
		recs = make(map[SessionID]SessionRecord)
		m.registry[s.Subject] = recs
	}
	old, had := recs[s.ID]
	delete(recs, s.Replaces)
	recs[s.ID] = s
	// Every idle refresh registers the session again, with the same
	// deadline: one queued expiry serves them all.
	if !had || !old.Expires.Equal(s.Expires) {
		heap.Push(&m.expiries, expiry{at: s.Expires, session: s.ID, subject: s.Subject, record: true})
	}
	return nil
}

// Sessions implements [RevocationStore], oldest first.
func (m *MemoryStore) Sessions(ctx context.Context, subject string) ([]SessionRecord, error) {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []SessionRecord
	for _, s := range m.registry[subject] {
		if now.Before(s.Expires) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b SessionRecord) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Len returns the number of revocations held, expired ones included until
// they are purged.
func (m *MemoryStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.sessions) + len(m.subjects)
}

// purge drops the entries that have expired, soonest first: each costs
// O(log n) once, so a store of a million revocations never stops for a
// sweep. An entry replaced since it was queued is kept if its replacement
// lives on. It runs with m.mu held for writing.
func (m *MemoryStore) purge() {
	now := m.now()
	for len(m.expiries) > 0 && !now.Before(m.expiries[0].at) {
		e := heap.Pop(&m.expiries).(expiry)
		switch {
		case e.record:
			if recs := m.registry[e.subject]; recs != nil && !now.Before(recs[e.session].Expires) {
				delete(recs, e.session)
				if len(recs) == 0 {
					delete(m.registry, e.subject)
				}
			}
		case e.session != (SessionID{}):
			if r, ok := m.sessions[e.session]; ok && !now.Before(r.Expires) {
				delete(m.sessions, e.session)
			}
		default:
			if r, ok := m.subjects[e.subject]; ok && !now.Before(r.Expires) {
				delete(m.subjects, e.subject)
			}
		}
	}
}

// An expiry is when one entry of a MemoryStore may be dropped.
type expiry struct {
	at      time.Time
	session SessionID // a session revocation or record, or zero
	subject string
	record  bool // a registry record, not a revocation
}

// expiryQueue is a min-heap of expiries (container/heap).
type expiryQueue []expiry

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(expiry)) }
func (q *expiryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
