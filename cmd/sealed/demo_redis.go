package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sealedcookie/sealed/redisstore"
)

// demoRedis is the demo's revocation store with -redis: a redisstore.Store
// on its own client, with what GET /debug/sealed shows of it.
type demoRedis struct {
	*redisstore.Store
	client   *redis.Client
	addr     string
	maxStale time.Duration
}

// demoRedisDefaultMaxStale is redisstore's default MaxStale, which the
// demo keeps unless -redis-max-stale says otherwise.
const demoRedisDefaultMaxStale = time.Minute

// openDemoRedis connects to the Redis server at addr and returns a Store
// that is subscribed and loaded, or an error if Redis does not answer
// within ten seconds. logf receives the Store's background errors (a lost
// subscription, a reconnection, Redis losing its data).
func openDemoRedis(addr string, maxStale time.Duration, logf func(string, ...any)) (*demoRedis, error) {
	if maxStale == 0 {
		maxStale = demoRedisDefaultMaxStale
	}
	client := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := redisstore.New(ctx, client, redisstore.Options{
		MaxStale: maxStale,
		OnError:  func(err error) { logf("revocations: %v", err) },
	})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("-redis %s: %w", addr, err)
	}
	return &demoRedis{Store: store, client: client, addr: addr, maxStale: maxStale}, nil
}

// Close stops the Store, which makes a last attempt to write revocations
// still queued, then closes the client.
func (d *demoRedis) Close() error {
	err := d.Store.Close()
	if cerr := d.client.Close(); err == nil {
		err = cerr
	}
	return err
}

// demoRedisStats is the Redis store's part of GET /debug/sealed: its Stats
// (Staleness and LastResync in nanoseconds, as time.Duration encodes), the
// staleness again in seconds, and the failure policy it applies.
type demoRedisStats struct {
	Store string // "redis"
	Addr  string
	redisstore.Stats
	StalenessSeconds float64 // Staleness, in seconds
	MaxStaleSeconds  float64 // past it, every session is refused (fail closed)
}

// Stats implements the interface revocationStats looks for.
func (d *demoRedis) Stats() any {
	st := d.Store.Stats()
	return demoRedisStats{
		Store: "redis", Addr: d.addr, Stats: st,
		StalenessSeconds: st.Staleness.Seconds(), MaxStaleSeconds: d.maxStale.Seconds(),
	}
}

// demoQueuedNote is what a revocation that redisstore queued answers, with
// 202 Accepted.
const demoQueuedNote = "Redis is unreachable: the revocation holds on this instance now, and on every instance once Redis is back, if this instance is still running then"

// answerRevoke answers a request whose revocation returned err: 200 and
// body when it was recorded; 202 and body with a note when the store queued
// it (redisstore.ErrQueued); 503 with the error for any other failure.
func answerRevoke(w http.ResponseWriter, err error, body map[string]any) {
	switch {
	case err == nil:
		demoJSON(w, http.StatusOK, body)
	case errors.Is(err, redisstore.ErrQueued):
		body["queued"] = true
		body["note"] = demoQueuedNote
		demoJSON(w, http.StatusAccepted, body)
	default:
		demoJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	}
}

// revokeFailed reports whether err means the revocation was not recorded
// (answerRevoke's 503), rather than recorded or queued.
func revokeFailed(err error) bool {
	return err != nil && !errors.Is(err, redisstore.ErrQueued)
}
