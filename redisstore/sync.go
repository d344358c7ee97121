package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sealedcookie/sealed"
)

// The background work of a Store: run keeps the subscription (serve
// receives and pings, connect subscribes and reloads), maintain reloads
// periodically, purges expired entries and retries the outbox.

var errNoPong = errors.New("redisstore: the subscription did not answer a ping")

// connect subscribes, waits for Redis to confirm, then writes the outbox
// and loads every revocation (resync). It returns the subscription and its
// number.
func (s *Store) connect(ctx context.Context) (*redis.PubSub, uint64, error) {
	ps := s.client.Subscribe(ctx) // no channel yet: no connection
	cctx, cancel := context.WithTimeout(ctx, max(5*time.Second, 2*s.opts.PingInterval))
	defer cancel()
	if err := ps.Subscribe(cctx, s.channel); err != nil {
		_ = ps.Close()
		return nil, 0, fmt.Errorf("subscribing: %w", err)
	}
	msg, err := ps.Receive(cctx)
	if err == nil {
		if m, ok := msg.(*redis.Subscription); !ok || m.Kind != "subscribe" || m.Channel != s.channel {
			err = fmt.Errorf("unexpected reply %v", msg)
		}
	}
	if err != nil {
		_ = ps.Close()
		return nil, 0, fmt.Errorf("subscribing: %w", err)
	}
	n := s.subs.Add(1)
	s.sub.Store(n)
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := s.resync(sctx, n); err != nil {
		s.offline()
		_ = ps.Close()
		return nil, 0, err
	}
	return ps, n, nil
}

// run serves the subscription ps (number n) until it breaks, then
// reconnects with backoff, until Close.
func (s *Store) run(ps *redis.PubSub, n uint64) {
	defer s.wg.Done()
	for {
		err := s.serve(ps, n)
		_ = ps.Close()
		s.offline()
		if s.ctx.Err() != nil {
			return
		}
		s.report(fmt.Errorf("redisstore: subscription lost: %w", err))
		for backoff := minBackoff; ; backoff = min(2*backoff, maxBackoff) {
			// Full jitter above half the backoff: a fleet does not
			// reconnect in step.
			t := time.NewTimer(backoff/2 + rand.N(backoff/2))
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if ps, n, err = s.connect(s.ctx); err == nil {
				s.reconnects.Add(1)
				break
			}
			if s.ctx.Err() != nil {
				return
			}
			s.report(fmt.Errorf("redisstore: reconnecting: %w", err))
		}
	}
}

// serve applies what subscription ps (number n) receives and pings it
// every PingInterval, until it breaks or the Store closes. A pong marks the
// mirror complete as of when its ping was sent: Redis delivered every
// message published before it first.
func (s *Store) serve(ps *redis.PubSub, n uint64) error {
	var sent atomic.Int64 // when the unanswered ping was sent (Unix ns), 0: none
	stop := make(chan struct{})
	defer close(stop)
	broke := make(chan error, 1) // why the pinger closed ps
	go func() {
		t := time.NewTicker(s.opts.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-s.ctx.Done():
				_ = ps.Close()
				return
			case <-t.C:
			}
			var err error
			if sent.Load() != 0 {
				err = errNoPong
			} else {
				sent.Store(time.Now().UnixNano())
				ctx, cancel := context.WithTimeout(s.ctx, s.opts.PingInterval)
				err = ps.Ping(ctx)
				cancel()
			}
			if err != nil {
				broke <- err
				_ = ps.Close() // ends Receive below
				return
			}
		}
	}()
	for {
		msg, err := ps.Receive(s.ctx)
		if err != nil {
			select {
			case why := <-broke:
				return why
			default:
				return err
			}
		}
		switch m := msg.(type) {
		case *redis.Message:
			r, err := decodeMessage(m.Payload)
			if err != nil {
				s.report(fmt.Errorf("redisstore: message %.100q on %s: %w", m.Payload, s.channel, err))
				continue
			}
			if time.Now().Before(r.Expires) {
				s.apply(r)
			}
			s.received.Add(1)
		case *redis.Pong:
			if t := sent.Swap(0); t != 0 && s.sub.Load() == n {
				s.markFresh(time.Unix(0, t))
			}
		case *redis.Subscription:
			if m.Kind == "subscribe" { // go-redis reconnected by itself: messages may be lost
				return errors.New("redisstore: the connection was replaced under the subscription")
			}
		}
	}
}

// maintain purges and reloads every ResyncInterval, and writes the outbox
// when Revoke failed on a working subscription, until Close.
func (s *Store) maintain() {
	defer s.wg.Done()
	var tick <-chan time.Time
	if s.opts.ResyncInterval > 0 {
		t := time.NewTicker(s.opts.ResyncInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
			if !s.isOnline() {
				continue // the reconnection writes it
			}
			ctx, cancel := context.WithTimeout(s.ctx, syncTimeout)
			s.syncMu.Lock()
			err := s.flush(ctx)
			s.syncMu.Unlock()
			cancel()
			if err != nil {
				s.report(fmt.Errorf("redisstore: writing the outbox: %w", err))
			}
		case <-tick:
			n := s.sub.Load()
			if n == 0 || !s.isOnline() {
				continue // the reconnection reloads
			}
			ctx, cancel := context.WithTimeout(s.ctx, syncTimeout)
			if err := s.purge(ctx); err != nil {
				s.report(fmt.Errorf("redisstore: purging expired entries: %w", err))
			}
			if err := s.resync(ctx, n); err != nil && s.ctx.Err() == nil {
				s.report(fmt.Errorf("redisstore: periodic reload: %w", err))
			}
			cancel()
		}
	}
}

// resync writes the outbox, then loads every revocation into a new mirror
// and swaps it in; revocations applied meanwhile go to both mirrors. If
// Redis lost its data since the last load (its generation token changed),
// it loads into the current mirror instead, keeping what it knew. The
// mirror is then complete as of the start, provided subscription n, which
// was made before, is still unbroken.
func (s *Store) resync(ctx context.Context, n uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	start := time.Now()
	if err := s.flush(ctx); err != nil {
		return fmt.Errorf("writing the outbox: %w", err)
	}
	s.goOnline(n)
	if s.pending() > 0 { // queued since: online now, nothing more will be
		if err := s.flush(ctx); err != nil {
			return fmt.Errorf("writing the outbox: %w", err)
		}
	}
	gen, err := s.generationToken(ctx)
	if err != nil {
		return fmt.Errorf("reading the generation: %w", err)
	}
	lost := s.generation != "" && gen != s.generation
	into := s.mirror.Load()
	if !lost {
		into = sealed.NewMemoryStore(nil)
		s.mu.Lock()
		s.building = into
		for _, r := range s.inflight { // their writes may land after the scan passed
			_ = into.Revoke(ctx, r)
		}
		s.mu.Unlock()
	}
	bad, err := s.load(ctx, into)
	s.mu.Lock()
	s.building = nil
	if err == nil {
		for _, r := range s.outbox { // refused by Redis: still in force here
			_ = into.Revoke(ctx, r)
		}
		s.mirror.Store(into)
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("loading: %w", err)
	}
	if bad > 0 {
		s.report(fmt.Errorf("redisstore: %d malformed entries in %s ignored", bad, s.rev))
	}
	if lost {
		s.report(fmt.Errorf("redisstore: Redis lost its data (the generation token of %s changed); this instance keeps the revocations it knew, but instances started from now on cannot learn them", s.gen))
	}
	s.generation = gen
	s.resyncs.Add(1)
	s.lastResync.Store(int64(time.Since(start)))
	if n != 0 && s.sub.Load() == n {
		s.markFresh(start)
	}
	return nil
}

// load adds every unexpired revocation in Redis to into, scanning the hash
// in batches, and returns the number of malformed entries it skipped.
func (s *Store) load(ctx context.Context, into *sealed.MemoryStore) (bad int, err error) {
	now := time.Now()
	var cursor uint64
	for {
		kv, next, err := s.client.HScan(ctx, s.rev, cursor, "", scanCount).Result()
		if err != nil {
			return bad, err
		}
		for i := 0; i+1 < len(kv); i += 2 {
			r, err := decode(kv[i], kv[i+1])
			if err != nil {
				bad++
				continue
			}
			if now.Before(r.Expires) {
				_ = into.Revoke(ctx, r)
			}
		}
		if next == 0 {
			return bad, nil
		}
		cursor = next
	}
}

// generationToken returns Redis's generation token, creating it if it is
// missing (a new or emptied Redis).
func (s *Store) generationToken(ctx context.Context) (string, error) {
	g, err := s.client.Get(ctx, s.gen).Result()
	if !errors.Is(err, redis.Nil) {
		return g, err
	}
	tok := newToken()
	ok, err := s.client.SetNX(ctx, s.gen, tok, 0).Result()
	if err != nil || ok {
		return tok, err
	}
	return s.client.Get(ctx, s.gen).Result() // another Store set it first
}

// flush writes the outbox to Redis, in one pipeline. Entries that Redis
// refused stay queued and are reported; if Redis could not be reached, the
// entries stay queued and flush returns the error. Callers hold syncMu.
func (s *Store) flush(ctx context.Context) error {
	s.mu.Lock()
	batch := s.outbox
	s.outbox = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, r := range batch {
		cmds[i] = s.write(ctx, pipe, r)
	}
	_, _ = pipe.Exec(ctx) // each command's error is read below
	var keep []sealed.Revocation
	var unreachable, refused error
	for i, c := range cmds {
		err := c.Err()
		var re redis.Error
		switch {
		case err == nil:
			if wrote, _ := c.Int(); wrote == 1 {
				s.published.Add(1)
			}
			continue
		case errors.As(err, &re):
			refused = err
		default:
			unreachable = err
		}
		keep = append(keep, batch[i])
	}
	if len(keep) > 0 {
		s.mu.Lock()
		s.outbox = append(keep, s.outbox...)
		s.mu.Unlock()
	}
	if refused != nil && unreachable == nil {
		s.report(fmt.Errorf("redisstore: Redis refused queued revocations, kept for a retry: %w", refused))
	}
	return unreachable
}

// purge drops the revocations that have expired from Redis.
func (s *Store) purge(ctx context.Context) error {
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	for {
		n, err := purgeScript.run(ctx, s.client, []string{s.rev, s.exp}, now, purgeBatch).Int()
		if err != nil || n < purgeBatch {
			return err
		}
	}
}
