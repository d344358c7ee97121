package sealed

import (
	"context"
	"testing"
	"time"
)

// Registering a session again at each refresh, with the same deadline,
// queues its expiry once: the queue stays as large as the registry.
func TestMemoryStoreRefreshQueuesOneExpiry(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	m := NewMemoryStore(func() time.Time { return now })
	rec := SessionRecord{ID: SessionID{1}, Subject: "u", Created: now, Expires: now.Add(24 * time.Hour)}
	for range 100 {
		now = now.Add(time.Minute)
		rec.Refreshed = now
		if err := m.Register(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.expiries); n != 1 {
		t.Errorf("100 refreshes of one session queued %d expiries, want 1", n)
	}
	rec.Expires = rec.Expires.Add(time.Hour) // a new deadline is queued
	m.Register(context.Background(), rec)
	if n := len(m.expiries); n != 2 {
		t.Errorf("after a new deadline: %d expiries queued, want 2", n)
	}
	now = rec.Expires
	if recs, _ := m.Sessions(context.Background(), "u"); len(recs) != 0 {
		t.Errorf("after the deadline: %d sessions listed", len(recs))
	}
	m.Register(context.Background(), SessionRecord{ID: SessionID{2}, Subject: "v", Expires: now.Add(time.Hour)}) // purges
	if _, ok := m.registry["u"]; ok {
		t.Error("the expired record was not purged")
	}
}
