package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sealedcookie/sealed"
)

// newStore returns a Store on its own client of r, closed when t ends.
func newStore(t *testing.T, r *redisServer, opts Options) *Store {
	t.Helper()
	s, err := New(context.Background(), r.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newID() sealed.SessionID {
	var id sealed.SessionID
	_, _ = rand.Read(id[:])
	return id
}

// waitFor polls cond until it holds, failing t after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// A revocation on one instance is enforced by another, over its own
// connection, as soon as the message arrives. The test measures how soon:
// from the start of Revoke on A to Revoked returning true on B. It asserts
// only a loose bound (2s each); the numbers are logged.
func TestPropagation(t *testing.T) {
	r := startRedis(t)
	a, b := newStore(t, r, Options{}), newStore(t, r, Options{})
	n := 1000
	if testing.Short() {
		n = 100
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, n)
	for i := range n {
		id := newID()
		start := time.Now()
		if err := a.Revoke(ctx, sealed.Revocation{Session: id, Expires: start.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for !b.Revoked(id, "", start) {
			runtime.Gosched() // two cores may run this, both Stores and Redis
			if time.Since(start) > 2*time.Second {
				t.Fatalf("revocation %d not seen by the other instance within 2s", i)
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("propagation of %d revocations, Revoke on A to Revoked on B: p50 %v, p99 %v, max %v",
		n, percentile(lat, .50), percentile(lat, .99), lat[len(lat)-1])
	if st := a.Stats(); st.Published != uint64(n) || st.Size != n {
		t.Errorf("A: %+v", st)
	}
	waitFor(t, 2*time.Second, "B receives every message", func() bool { return b.Stats().Received == uint64(n) })
	if st := b.Stats(); st.Size != n || !st.Connected || st.Staleness > 2*time.Second || st.Resyncs != 1 {
		t.Errorf("B: %+v", st)
	}
}

// Each kind of entry revokes what it should on both instances, and
// expires: the instances stop enforcing it, Redis's purge deletes it and
// the next reload drops it from the mirrors.
func TestRevocationKinds(t *testing.T) {
	r := startRedis(t)
	opts := Options{ResyncInterval: 100 * time.Millisecond}
	a, b := newStore(t, r, opts), newStore(t, r, opts)
	ctx := context.Background()
	now := time.Now()
	exp := now.Add(700 * time.Millisecond)
	minted := now.Add(-time.Minute)
	sess, other, kept := newID(), newID(), newID()
	entries := []sealed.Revocation{
		{Subject: "alice", Session: sess, Expires: exp},                                           // one session
		{Subject: "bob", NotBefore: now.Truncate(time.Millisecond), Expires: exp},                 // sign out everywhere
		{Subject: "carol", NotBefore: now.Truncate(time.Millisecond), Except: kept, Expires: exp}, // other devices
	}
	for _, e := range entries {
		if err := a.Revoke(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		id      sealed.SessionID
		subject string
		minted  time.Time
		want    bool
	}{
		{sess, "alice", minted, true},
		{sess, "", minted, true}, // by ID, whatever the subject
		{other, "alice", minted, false},
		{other, "bob", minted, true},
		{other, "bob", now.Truncate(time.Millisecond), true}, // same millisecond
		{other, "bob", now.Truncate(time.Millisecond).Add(time.Millisecond), false},
		{other, "carol", minted, true},
		{kept, "carol", minted, false},
		{other, "dave", minted, false},
	}
	check := func(when string, expired bool) {
		t.Helper()
		for name, s := range map[string]*Store{"A": a, "B": b} {
			for _, c := range cases {
				if got := s.Revoked(c.id, c.subject, c.minted); got != (c.want && !expired) {
					t.Errorf("%s, %s: Revoked(%v, %q, %v) = %v", when, name, c.id, c.subject, c.minted.Format(time.StampMilli), got)
				}
			}
		}
	}
	waitFor(t, 2*time.Second, "B receives", func() bool { return b.Stats().Received == 3 })
	check("live", false)
	if n := r.Client().HLen(ctx, a.rev).Val(); n != 3 {
		t.Errorf("%d fields in %s, want 3", n, a.rev)
	}
	time.Sleep(time.Until(exp) + 2*time.Millisecond) // Redis keeps expiries to the millisecond, rounded up
	check("expired", true)
	waitFor(t, 3*time.Second, "the purge empties Redis", func() bool {
		c := r.Client()
		return c.HLen(ctx, a.rev).Val() == 0 && c.ZCard(ctx, a.exp).Val() == 0
	})
	waitFor(t, 3*time.Second, "the mirrors drop the entries", func() bool { return a.Stats().Size == 0 && b.Stats().Size == 0 })

	// An entry that has already expired is not written.
	if err := a.Revoke(ctx, sealed.Revocation{Session: newID(), Expires: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(ctx, sealed.Revocation{Expires: time.Now().Add(time.Hour)}); err == nil {
		t.Error("a revocation of nothing was accepted")
	}
	if n := r.Client().HLen(ctx, a.rev).Val(); n != 0 {
		t.Errorf("%d fields after an expired revocation", n)
	}
}

// A subject's "not before" only moves forward, in Redis as in the
// mirrors: a late, older sign-out does not un-revoke sessions that a newer
// one revoked. An equal one replaces the entry (as in sealed.MemoryStore).
func TestSubjectNotBeforeForwardOnly(t *testing.T) {
	r := startRedis(t)
	a, b := newStore(t, r, Options{}), newStore(t, r, Options{})
	ctx := context.Background()
	t2 := time.Now().Truncate(time.Millisecond)
	t1 := t2.Add(-time.Minute)
	exp := t2.Add(time.Hour)
	between := t2.Add(-time.Second)
	if err := a.Revoke(ctx, sealed.Revocation{Subject: "alice", NotBefore: t2, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if err := b.Revoke(ctx, sealed.Revocation{Subject: "alice", NotBefore: t1, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "A receives", func() bool { return a.Stats().Received == 1 })
	v := r.Client().HGet(ctx, a.rev, "u:alice").Val()
	if got, err := decode("u:alice", v); err != nil || !got.NotBefore.Equal(t2) {
		t.Fatalf("Redis holds %q (%v, %v), want NotBefore %v", v, got, err, t2)
	}
	if st := b.Stats(); st.Published != 0 || st.Received != 1 {
		t.Errorf("the older entry was announced: %+v", st) // the call succeeds, but nothing is written
	}
	for name, s := range map[string]*Store{"A": a, "B": b} {
		if !s.Revoked(newID(), "alice", between) {
			t.Errorf("%s: a session minted between the two sign-outs is not revoked", name)
		}
	}
	// The same NotBefore with an exception replaces the entry.
	keep := newID()
	if err := b.Revoke(ctx, sealed.Revocation{Subject: "alice", NotBefore: t2, Except: keep, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "A receives", func() bool { return a.Stats().Received == 2 })
	if a.Revoked(keep, "alice", between) || !a.Revoked(newID(), "alice", between) {
		t.Error("the equal NotBefore with Except did not replace the entry")
	}
}

// The device list: Register records, a renewed session replaces its old
// record, expired records are left out and deleted, and the key expires
// with its latest record.
func TestDeviceList(t *testing.T) {
	r := startRedis(t)
	s := newStore(t, r, Options{})
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	laptop, phone, old, renewed := newID(), newID(), newID(), newID()
	recs := []sealed.SessionRecord{
		{ID: laptop, Subject: "alice", Created: now.Add(-2 * time.Hour), Refreshed: now, Expires: now.Add(time.Hour), Device: "Firefox on Linux"},
		{ID: phone, Subject: "alice", Created: now.Add(-time.Hour), Refreshed: now, Expires: now.Add(300 * time.Millisecond), Device: "Safari on iOS"},
		{ID: old, Subject: "alice", Created: now.Add(-3 * time.Hour), Refreshed: now, Expires: now.Add(time.Hour)},
		{ID: newID(), Subject: "bob", Created: now, Refreshed: now, Expires: now.Add(time.Hour)},
		{ID: renewed, Subject: "alice", Created: now, Refreshed: now, Expires: now.Add(2 * time.Hour), Replaces: old},
	}
	for _, rec := range recs {
		if err := s.Register(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	ids := func() []sealed.SessionID {
		got, err := s.Sessions(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		var ids []sealed.SessionID
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		return ids
	}
	if got, want := ids(), []sealed.SessionID{laptop, phone, renewed}; !slices.Equal(got, want) {
		t.Errorf("Sessions = %v, want %v (oldest first, the replaced one gone)", got, want)
	}
	got, _ := s.Sessions(ctx, "alice")
	if w := recs[0]; got[0].Device != w.Device || !got[0].Created.Equal(w.Created) || !got[0].Expires.Equal(w.Expires) || got[0].Subject != "alice" {
		t.Errorf("record %+v, want %+v", got[0], w)
	}
	key := s.sessions + "alice"
	if exp := r.Client().PExpireTime(ctx, key).Val(); exp != time.Duration(now.Add(2*time.Hour).UnixMilli())*time.Millisecond {
		t.Errorf("the key expires at %v, want the latest record's expiry %v", exp, now.Add(2*time.Hour).UnixMilli())
	}
	time.Sleep(time.Until(now.Add(300 * time.Millisecond)))
	if got, want := ids(), []sealed.SessionID{laptop, renewed}; !slices.Equal(got, want) {
		t.Errorf("after the phone expired: %v, want %v", got, want)
	}
	if n := r.Client().HLen(ctx, key).Val(); n != 2 {
		t.Errorf("%d records in Redis after reading past an expiry, want 2", n)
	}
}

// Revocations made while an instance's subscription is down (here, killed
// by Redis) reach it through the reload that follows its reconnection.
func TestResyncAfterSubscriptionLoss(t *testing.T) {
	r := startRedis(t)
	var errs errorLog
	a := newStore(t, r, Options{})
	b := newStore(t, r, Options{OnError: errs.add})
	ctx := context.Background()
	missed := sealed.Revocation{Session: newID(), Expires: time.Now().Add(time.Hour)}
	if err := r.Client().ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	// Written at once, as a writer unaffected by the kill would: B
	// reconnects at least 50ms later.
	if err := a.write(ctx, a.client, missed).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "B reconnects and reloads", func() bool { return b.Revoked(missed.Session, "", time.Now()) })
	if st := b.Stats(); st.Reconnects != 1 || st.Resyncs != 2 || st.Received != 0 {
		t.Errorf("B: %+v", st)
	}
	if !strings.Contains(errs.String(), "subscription lost") {
		t.Errorf("OnError got %q", errs.String())
	}
}

// errorLog collects the errors of Options.OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.errs)
}

// Revocations keep arriving while instances reload many times: none is
// lost in the swap of mirrors, and every one ends on every instance.
func TestConcurrentReloads(t *testing.T) {
	r := startRedis(t)
	a := newStore(t, r, Options{ResyncInterval: 5 * time.Millisecond})
	b := newStore(t, r, Options{ResyncInterval: 3 * time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make(chan sealed.SessionID, 800)
	for w := range 4 {
		store := []*Store{a, b}[w%2]
		wg.Go(func() {
			for range 200 {
				id := newID()
				if err := store.Revoke(ctx, sealed.Revocation{Session: id, Expires: time.Now().Add(time.Hour)}); err != nil {
					t.Error(err)
					return
				}
				ids <- id
				if !store.Revoked(id, "", time.Now()) {
					t.Error("an instance does not enforce its own revocation at once")
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() { // the hot path, racing the swaps
		for {
			select {
			case <-stop:
				return
			default:
				a.Revoked(newID(), "x", time.Now())
				b.Revoked(newID(), "x", time.Now())
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	close(ids)
	for id := range ids {
		waitFor(t, 2*time.Second, "both instances enforce "+id.String(), func() bool {
			return a.Revoked(id, "", time.Now()) && b.Revoked(id, "", time.Now())
		})
	}
	if a.Stats().Resyncs < 5 || b.Stats().Resyncs < 5 {
		t.Errorf("too few reloads to test anything: %d, %d", a.Stats().Resyncs, b.Stats().Resyncs)
	}
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	if _, err := New(ctx, ring, Options{}); err == nil || !strings.Contains(err.Error(), "Ring") {
		t.Errorf("a Ring: %v", err)
	}
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	if _, err := New(ctx, cluster, Options{}); err == nil || !strings.Contains(err.Error(), "hash tag") {
		t.Errorf("a cluster without a hash tag: %v", err)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	for _, o := range []Options{{MaxStale: time.Second}, {PingInterval: -1}, {MaxPending: -1}} {
		if _, err := New(ctx, down, o); err == nil || !strings.Contains(err.Error(), "PingInterval") {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := New(ctx, down, Options{}); err == nil {
		t.Error("New succeeded without a Redis")
	}
	if _, err := New(ctx, nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// Close writes what the outbox holds if it can, and says if it cannot.
func TestClose(t *testing.T) {
	r := startRedis(t)
	s, err := New(context.Background(), r.Client(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Kill()
	waitFor(t, 5*time.Second, "the Store notices", func() bool { return !s.Stats().Connected })
	err = s.Revoke(context.Background(), sealed.Revocation{Session: newID(), Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, ErrQueued) {
		t.Fatalf("Revoke during the outage: %v", err)
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "1 revocations were never written") {
		t.Errorf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// The hot path: Revoked on a mirror of 100,000 entries, as every request
// with a session calls it.
func BenchmarkRevoked(b *testing.B) {
	r := startRedis(b)
	fill(b, r.Client(), 100_000)
	s, err := New(context.Background(), r.Client(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	id, minted := newID(), time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if s.Revoked(id, "user-1", minted) {
				b.Fatal("revoked")
			}
		}
	})
}
