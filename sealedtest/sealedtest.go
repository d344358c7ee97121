// Package sealedtest provides utilities for testing code that uses package
// sealed, in the spirit of net/http/httptest: fresh keys and Managers that
// fail the test instead of returning errors, a [Client] that keeps cookies
// like a browser, a settable [Clock], an [ErrorLog] for Options.OnError,
// and [TestCodec], the conformance test of a [sealed.Codec].
//
// It is for tests only: its keys are random and live as long as the test.
package sealedtest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// NewKeyRing returns a ring of fresh random keys with the given IDs, the
// first one primary; without IDs, one key with ID "test". It fails tb if a
// key cannot be made.
func NewKeyRing(tb testing.TB, ids ...string) *sealed.KeyRing {
	tb.Helper()
	if len(ids) == 0 {
		ids = []string{"test"}
	}
	keys := make([]sealed.Key, len(ids))
	for i, id := range ids {
		k, err := sealed.GenerateKey(id)
		if err != nil {
			tb.Fatalf("sealedtest: GenerateKey(%q): %v", id, err)
		}
		keys[i] = k
	}
	ring, err := sealed.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		tb.Fatalf("sealedtest: NewKeyRing: %v", err)
	}
	return ring
}

// NewManager returns a Manager for sessions of type T, over a ring from
// [NewKeyRing] with one key "test", with codec (nil: JSON) and opts. It
// fails tb if [sealed.New] rejects them.
func NewManager[T any](tb testing.TB, codec sealed.Codec[T], opts sealed.Options) *sealed.Manager[T] {
	tb.Helper()
	m, err := sealed.New(NewKeyRing(tb), codec, opts)
	if err != nil {
		tb.Fatalf("sealedtest: New: %v", err)
	}
	return m
}

// A Clock is a settable time source for Options.Now and the Now fields of
// the compat codecs. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time. Pass the method value, c.Now, as a time
// source.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d, which may be negative.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// An ErrorLog records the errors a Manager reports: set Options.OnError to
// its OnError method. The zero value is ready to use, and it is safe for
// concurrent use.
type ErrorLog struct {
	mu   sync.Mutex
	errs []error
}

// OnError records err. Its signature is that of Options.OnError.
func (l *ErrorLog) OnError(_ context.Context, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// Take returns the errors recorded since the last Take, oldest first, and
// forgets them. Test for one with errors.Is(errors.Join(l.Take()...), target).
func (l *ErrorLog) Take() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs := slices.Clip(l.errs)
	l.errs = nil
	return errs
}
