package redisstore

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// An outage, end to end: redis-server is killed for a few seconds and
// restarted on the same port, empty (no persistence).
//
//   - During it, instance A revokes a session: the revocation holds on A
//     at once and waits in A's outbox (ErrQueued); B and C do not know it.
//   - The staleness of every mirror grows; past MaxStale the fail-closed
//     instances (A, B) revoke every session, the fail-open one (C) keeps
//     answering from its mirror.
//   - Register fails at once instead of waiting on the network.
//   - When Redis is back, every instance reconnects and reloads by itself:
//     A writes its outbox first, so B and C enforce A's revocation; the
//     staleness falls back; sessions are accepted again.
//   - Redis came back empty: the instances notice (the generation token
//     changed) and keep the revocations they knew. A new instance cannot
//     learn those (the documented limitation: run Redis with persistence).
func TestOutage(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	closed := Options{PingInterval: 100 * time.Millisecond, MaxStale: time.Second}
	open := closed
	open.FailOpen = true
	var errsB errorLog
	a := newStore(t, r, closed)
	optsB := closed
	optsB.OnError = errsB.add
	b := newStore(t, r, optsB)
	c := newStore(t, r, open)
	stores := map[string]*Store{"A": a, "B": b, "C": c}
	minted := time.Now()
	before := sealed.Revocation{Subject: "alice", Session: newID(), Expires: time.Now().Add(time.Hour)}
	if err := a.Revoke(ctx, before); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "B and C receive", func() bool {
		return b.Revoked(before.Session, "", minted) && c.Revoked(before.Session, "", minted)
	})

	r.Kill()
	down := time.Now()
	at := func() string { return time.Since(down).Round(time.Millisecond).String() }
	// A revokes at once, before it notices the outage: its write fails
	// (after the client's dial retries), and it queues.
	during := sealed.Revocation{Subject: "bob", Session: newID(), Expires: time.Now().Add(time.Hour)}
	queued := make(chan error, 1)
	go func() { queued <- a.Revoke(ctx, during) }()
	waitFor(t, 3*time.Second, "every instance notices", func() bool {
		return !a.Stats().Connected && !b.Stats().Connected && !c.Stats().Connected
	})
	t.Logf("%s: every instance noticed the outage (PingInterval %v); staleness A %v, B %v, C %v",
		at(), closed.PingInterval, a.Stats().Staleness, b.Stats().Staleness, c.Stats().Staleness)
	err := <-queued
	t.Logf("%s: Revoke on A, started as Redis died, returned %v", at(), err)
	if !errors.Is(err, ErrQueued) {
		t.Fatalf("Revoke during the outage: %v, want ErrQueued", err)
	}
	if !a.Revoked(during.Session, "", minted) || a.Stats().Pending != 1 {
		t.Fatalf("A does not enforce its queued revocation: %+v", a.Stats())
	}
	start := time.Now()
	err = a.Revoke(ctx, sealed.Revocation{Subject: "carol", NotBefore: time.Now(), Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, ErrQueued) || a.Stats().Pending != 2 {
		t.Errorf("a second Revoke during the outage: %v, %+v", err, a.Stats())
	}
	t.Logf("%s: a Revoke on A once it knows: queued in %v", at(), time.Since(start).Round(time.Microsecond))
	start = time.Now()
	if err := a.Register(ctx, sealed.SessionRecord{ID: newID(), Subject: "dave", Expires: time.Now().Add(time.Hour)}); err == nil {
		t.Error("Register succeeded during the outage")
	}
	if _, err := a.Sessions(ctx, "dave"); err == nil {
		t.Error("Sessions succeeded during the outage")
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Register and Sessions took %v to fail during the outage", d)
	}
	if c.Revoked(during.Session, "", minted) || !c.Revoked(before.Session, "", minted) {
		t.Error("C (fail open) during the outage: want its mirror's answers")
	}

	waitFor(t, 3*time.Second, "the mirrors go stale", func() bool { return b.Stats().Staleness > closed.MaxStale })
	t.Logf("%s: staleness over MaxStale (%v): A %v, B %v, C %v", at(), closed.MaxStale, a.Stats().Staleness, b.Stats().Staleness, c.Stats().Staleness)
	anyone := newID()
	for name, s := range stores {
		if got, want := s.Revoked(anyone, "erin", minted), name != "C"; got != want {
			t.Errorf("%s past MaxStale: Revoked(any session) = %v, want %v", name, got, want)
		}
	}
	if !c.Revoked(before.Session, "", minted) {
		t.Error("C (fail open) forgot a revocation")
	}
	time.Sleep(time.Until(down.Add(3 * time.Second)))

	r.Restart()
	up := time.Now()
	t.Logf("%s: redis-server restarted (empty)", at())
	waitFor(t, 10*time.Second, "every instance reconnects and reloads", func() bool {
		for _, s := range stores {
			if st := s.Stats(); !st.Connected || st.Staleness > 500*time.Millisecond {
				return false
			}
		}
		return true
	})
	t.Logf("%s: every instance reconnected and reloaded, %v after the restart; staleness A %v, B %v, C %v",
		at(), time.Since(up).Round(time.Millisecond), a.Stats().Staleness, b.Stats().Staleness, c.Stats().Staleness)
	for name, s := range stores {
		st := s.Stats()
		if st.Reconnects < 1 || st.Pending != 0 {
			t.Errorf("%s after the outage: %+v", name, st)
		}
		if !s.Revoked(during.Session, "", minted) {
			t.Errorf("%s does not enforce the revocation A queued during the outage", name)
		}
		if !s.Revoked(newID(), "carol", minted) {
			t.Errorf("%s does not enforce the subject revocation A queued during the outage", name)
		}
		if !s.Revoked(before.Session, "", minted) {
			t.Errorf("%s forgot the revocation made before Redis lost its data", name)
		}
		if s.Revoked(anyone, "erin", minted) {
			t.Errorf("%s still revokes every session after the outage", name)
		}
	}
	if !strings.Contains(errsB.String(), "Redis lost its data") {
		t.Errorf("B did not report the data loss: %s", errsB.String())
	}
	// A new instance learns what Redis holds: the queued revocations, not
	// those Redis lost.
	d := newStore(t, r, closed)
	if !d.Revoked(during.Session, "", minted) || d.Revoked(before.Session, "", minted) {
		t.Error("a new instance after the data loss: want the queued revocation and not the lost one")
	}
}

// A full outbox refuses more revocations (they still hold on this
// instance) with an error that does not wrap ErrQueued, and counts them.
func TestOutboxFull(t *testing.T) {
	r := startRedis(t)
	s := newStore(t, r, Options{PingInterval: 100 * time.Millisecond, MaxPending: 2})
	r.Kill()
	waitFor(t, 3*time.Second, "the Store notices", func() bool { return !s.Stats().Connected })
	ctx := context.Background()
	var ids []sealed.SessionID
	for i := range 3 {
		id := newID()
		ids = append(ids, id)
		err := s.Revoke(ctx, sealed.Revocation{Session: id, Expires: time.Now().Add(time.Hour)})
		if queued := errors.Is(err, ErrQueued); queued != (i < 2) || err == nil {
			t.Errorf("revocation %d: %v", i, err)
		}
	}
	for _, id := range ids {
		if !s.Revoked(id, "", time.Now()) {
			t.Error("a refused revocation does not hold on this instance")
		}
	}
	if st := s.Stats(); st.Pending != 2 || st.Dropped != 1 {
		t.Errorf("%+v", st)
	}
	r.Restart()
	waitFor(t, 10*time.Second, "the Store reconnects", func() bool { return s.Stats().Connected })
	if n := r.Client().HLen(ctx, s.rev).Val(); n != 2 {
		t.Errorf("%d revocations in Redis, want the 2 queued", n)
	}
}

// A Redis that hangs (stopped, its connections open) is noticed by the
// ping: no error ever comes back on the subscription, only silence.
func TestHungServer(t *testing.T) {
	r := startRedis(t)
	ping := 100 * time.Millisecond
	s := newStore(t, r, Options{PingInterval: ping, MaxStale: time.Second})
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	// Two PingIntervals in theory; a loose bound, for loaded machines.
	waitFor(t, 2*time.Second, "the Store notices the silence", func() bool { return !s.Stats().Connected })
	noticed := time.Since(stopped)
	t.Logf("a hung Redis noticed after %v (PingInterval %v)", noticed.Round(time.Millisecond), ping)
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the Store reconnects", func() bool {
		st := s.Stats()
		return st.Connected && st.Staleness < time.Second
	})
	if s.Revoked(newID(), "alice", time.Now()) {
		t.Error("a session is revoked after the recovery")
	}
}
