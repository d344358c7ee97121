package jwks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealedcookie/sealed"
)

// DefaultWatchInterval is how often a [File] polls its file by default.
const DefaultWatchInterval = 3 * time.Second

// WatchOptions configures [Watch]. The zero value is ready to use.
type WatchOptions struct {
	// Interval is how often the file is checked. Zero or negative means
	// DefaultWatchInterval (3 s). A rotation step must wait at least this
	// long (plus the time a Kubernetes Secret update takes to reach the
	// pods) before the next one.
	Interval time.Duration

	// OnError, if not nil, is called from the watching goroutine when the
	// file cannot be read or does not parse. The previous ring stays in
	// use. It is called once per distinct failure, not on every poll; the
	// error never contains key material. Nil means errors are only
	// available from Err.
	OnError func(error)

	// OnChange, if not nil, is called from the watching goroutine after a
	// new ring has been swapped in, with that ring (log its String, which
	// shows only key IDs). Nil means no notification.
	OnChange func(*sealed.KeyRing)
}

// A File is a [sealed.KeySource] that serves the key ring in a JWKS file
// (see [Parse]) and reloads it when the file changes. Create one with
// [Watch].
//
// It polls rather than relying on file system events: every Interval it
// re-reads the file, following symbolic links, and compares a hash of its
// content with the last one. A key file is a few hundred bytes, so this costs
// less than a stat-then-read scheme's edge cases: it sees a file replaced by
// rename (as "sealed rotate" and most editors do), a Kubernetes Secret or
// ConfigMap volume update (which swaps a "..data" symbolic link to a new
// directory, changing neither the path nor, often, the size), and an edit in
// place within one modification-time tick alike. A changed file is parsed in full
// and swapped in atomically: requests in flight finish with the ring they
// started with, later ones use the new ring, and none waits. A file that
// cannot be read or parsed keeps the last good ring and is reported through
// OnError and Err.
//
// A File is safe for concurrent use. Stop it with Close or by cancelling
// the context given to Watch; Current keeps returning the last ring.
type File struct {
	path string
	opts WatchOptions
	ring atomic.Pointer[sealed.KeyRing]

	mu      sync.Mutex // serializes loads; guards the fields below
	seen    [sha256.Size]byte
	lastErr error // from the last load; nil when the ring matches the file
	errMsg  string

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

var _ sealed.KeySource = (*File)(nil)

// Watch loads the JWKS file at path and starts a goroutine that reloads it
// when it changes, until ctx is cancelled or Close is called. The first load
// must succeed: Watch returns its error, and starts nothing, when the file
// is missing or invalid.
func Watch(ctx context.Context, path string, opts WatchOptions) (*File, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultWatchInterval
	}
	f := &File{path: path, opts: opts, done: make(chan struct{})}
	if _, _, err := f.load(); err != nil {
		return nil, err
	}
	ctx, f.cancel = context.WithCancel(ctx)
	go f.watch(ctx)
	return f, nil
}

// Current returns the ring loaded last. It never returns nil.
func (f *File) Current() *sealed.KeyRing { return f.ring.Load() }

// Path returns the watched file's path.
func (f *File) Path() string { return f.path }

// Err returns the error from the last check of the file, or nil when the
// ring in use is the file's current content. A non-nil Err means the file
// changed but could not be loaded: health checks may report it.
func (f *File) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

// Reload checks the file now, without waiting for the next poll, and swaps
// in its ring if it changed. It returns the error that kept the file from
// loading (the previous ring stays in use) or nil. OnChange is called if the
// ring changed; OnError is not called, since the caller has the error.
func (f *File) Reload() error {
	changed, _, err := f.load()
	if changed != nil && f.opts.OnChange != nil {
		f.opts.OnChange(changed)
	}
	return err
}

// Close stops the watching goroutine and waits for it to exit. It is safe
// to call more than once. Current keeps working after Close.
func (f *File) Close() error {
	f.closeOnce.Do(func() {
		f.cancel()
		<-f.done
	})
	return nil
}

func (f *File) watch(ctx context.Context) {
	defer close(f.done)
	t := time.NewTicker(f.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, report, err := f.load()
		if changed != nil && f.opts.OnChange != nil {
			f.opts.OnChange(changed)
		}
		if report && f.opts.OnError != nil {
			f.opts.OnError(err)
		}
	}
}

// load reads the file and, if its content changed since the last load,
// parses it and swaps in the new ring. It returns the new ring if it swapped
// one in (nil on the first load), the load's error, and whether that error
// differs from the previous load's, so the watcher reports each failure
// once. Callbacks run in the caller, outside the lock.
func (f *File) load() (changed *sealed.KeyRing, newErr bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := readBounded(f.path)
	if err != nil {
		f.seen = [sha256.Size]byte{} // re-parse whatever comes back
		err = fmt.Errorf("jwks: key file %s: %w", f.path, err)
		return nil, f.fail(err), err
	}
	defer clear(data)
	sum := sha256.Sum256(data)
	if f.ring.Load() != nil && sum == f.seen {
		// Unchanged since the last parse: keep its outcome. A file that
		// failed to parse stays failed until it changes.
		return nil, false, f.lastErr
	}
	f.seen = sum
	ring, err := Parse(data)
	if err != nil {
		err = fmt.Errorf("jwks: key file %s: %s", f.path, strings.TrimPrefix(err.Error(), "jwks: "))
		return nil, f.fail(err), err
	}
	old := f.ring.Swap(ring)
	f.lastErr, f.errMsg = nil, ""
	if old == nil {
		return nil, false, nil
	}
	return ring, false, nil
}

// fail records err as the outcome of the current load and reports whether
// it differs from the previous failure.
func (f *File) fail(err error) bool {
	f.lastErr = err
	if msg := err.Error(); msg != f.errMsg {
		f.errMsg = msg
		return true
	}
	return false
}

// readBounded reads a file of at most MaxLen bytes. os.ReadFile follows
// symbolic links, so a Kubernetes "..data" swap is seen on the next read.
func readBounded(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer fh.Close()
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(fh, MaxLen+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if n > MaxLen {
		return nil, fmt.Errorf("larger than %d bytes", MaxLen)
	}
	return b.Bytes(), nil
}

// unwrapPathError drops the path from *fs.PathError: the caller names it.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
