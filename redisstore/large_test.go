package redisstore

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sealedcookie/sealed"
)

// A mirror of many revocations: its memory per entry and the time of a
// full load, measured and logged. By default it loads 20,000 entries; with
// SEALED_REDIS_LARGE=1, a million (a few hundred MB in Redis and in the
// test, about a minute).
func TestLargeMirror(t *testing.T) {
	n := 20_000
	if os.Getenv("SEALED_REDIS_LARGE") == "1" {
		n = 1_000_000
	} else if testing.Short() {
		t.Skip("-short (SEALED_REDIS_LARGE=1 loads a million entries)")
	}
	r := startRedis(t)
	c := r.Client()
	ctx := context.Background()
	probe := fill(t, c, n)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	s := newStore(t, r, Options{})
	first := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if st := s.Stats(); st.Size != n {
		t.Fatalf("mirror of %d entries, want %d", st.Size, n)
	}
	if !s.Revoked(probe.Session, "", time.Now()) || !s.Revoked(newID(), "user-7", time.Now().Add(-2*time.Hour)) {
		t.Error("the mirror lacks loaded entries")
	}
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)

	runtime.ReadMemStats(&before)
	start = time.Now()
	if err := s.resync(ctx, s.sub.Load()); err != nil {
		t.Fatal(err)
	}
	again := time.Since(start)
	runtime.ReadMemStats(&after)
	allocated := float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	t.Logf("%d entries: %.0f bytes per mirror entry (live heap); first load in New %v, a reload %v (allocating %.0f bytes per entry); Redis's used_memory %s",
		n, perEntry, first.Round(time.Millisecond), again.Round(time.Millisecond), allocated, infoField(c.Info(ctx, "memory").Val(), "used_memory_human"))
}

// infoField returns one field of the text of INFO.
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	return "?"
}

// fill writes n revocations straight into Redis's hash and sorted set: 9
// session entries (with a subject) for each subject entry. It returns one
// of the session entries.
func fill(t testing.TB, c *redis.Client, n int) sealed.Revocation {
	t.Helper()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	var probe sealed.Revocation
	const batch = 10_000
	for i := 0; i < n; i += batch {
		p := c.Pipeline()
		hset := []any{"sealed:rev"}
		zadd := make([]any, 0, 2*batch)
		for j := i; j < min(i+batch, n); j++ {
			r := sealed.Revocation{Subject: fmt.Sprintf("user-%d", j/10), Expires: exp}
			if j%10 != 0 {
				r.Session = newID()
				probe = r
			} else {
				r.NotBefore = exp.Add(-2 * time.Hour)
			}
			f := field(&r)
			hset = append(hset, f, value(&r))
			zadd = append(zadd, expiresMilli(r.Expires), f)
		}
		p.HSet(ctx, hset[0].(string), hset[1:]...)
		p.Do(ctx, append([]any{"ZADD", "sealed:rev:exp"}, zadd...)...)
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return probe
}
