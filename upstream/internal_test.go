package upstream

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingLogin counts its calls and fails while fail is set.
type countingLogin struct {
	calls atomic.Int64
	fail  atomic.Bool
}

var errRefused = errors.New("refused")

func (l *countingLogin) login(context.Context, *http.Client) (http.Header, error) {
	l.calls.Add(1)
	if l.fail.Load() {
		return nil, errRefused
	}
	return nil, nil
}

func newTestTransport(t *testing.T, login LoginFunc) *Transport {
	t.Helper()
	tr, err := New(Config{Login: login, Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestStaleGenerationDoesNotLogIn checks the thundering-herd rule directly: a
// request that failed with a session older than the current one must not
// start a login.
func TestStaleGenerationDoesNotLogIn(t *testing.T) {
	l := &countingLogin{}
	tr := newTestTransport(t, l.login)
	ctx := context.Background()

	s1, err := tr.session(ctx)
	if err != nil || s1.gen != 1 {
		t.Fatalf("first session: gen %d, %v; want gen 1", s1.gen, err)
	}
	tr.expire(s1.gen)
	s2, err := tr.session(ctx)
	if err != nil || s2.gen != 2 || l.calls.Load() != 2 {
		t.Fatalf("after expiry: gen %d, %v, %d logins; want gen 2 after 2 logins", s2.gen, err, l.calls.Load())
	}

	tr.expire(s1.gen) // a straggler that was sent with generation 1
	s, err := tr.session(ctx)
	if err != nil || s.gen != 2 {
		t.Fatalf("after a stale expiry: gen %d, %v; want gen 2", s.gen, err)
	}
	if n := l.calls.Load(); n != 2 {
		t.Errorf("logins = %d, want 2: a stale expiry started a login", n)
	}
}

// TestFailedLoginIsShared makes 50 requests wait for one login that keeps
// failing: all get ErrLoginFailed from the same MaxLoginAttempts attempts.
func TestFailedLoginIsShared(t *testing.T) {
	const n = 50
	l := &countingLogin{}
	l.fail.Store(true)
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	tr := newTestTransport(t, func(ctx context.Context, c *http.Client) (http.Header, error) {
		once.Do(func() {
			close(entered)
			<-release
		})
		return l.login(ctx, c)
	})

	errs := make(chan error, n)
	go func() {
		_, err := tr.session(context.Background())
		errs <- err
	}()
	<-entered
	for range n - 1 {
		go func() {
			_, err := tr.session(context.Background())
			errs <- err
		}()
	}
	// Wait (bounded) until all the others wait for the login in flight.
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr.mu.Lock()
		waiters := tr.flight.waiters
		tr.mu.Unlock()
		if waiters == n-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests wait for the login", waiters, n-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range n {
		if err := <-errs; !errors.Is(err, ErrLoginFailed) || !errors.Is(err, errRefused) {
			t.Errorf("error = %v, want ErrLoginFailed wrapping the last login error", err)
		}
	}
	if got := l.calls.Load(); got != defaultMaxLoginAttempts {
		t.Errorf("login attempts = %d, want %d for all %d requests together", got, defaultMaxLoginAttempts, n)
	}
}
