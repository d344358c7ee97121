package jwks_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

// jwksBytes returns the JWKS for a ring of keys, the first primary.
func jwksBytes(t *testing.T, keys ...sealed.Key) []byte {
	t.Helper()
	ring, err := sealed.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jwks.Marshal(ring)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceFile writes data to path by rename, as editors and the CLI do.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func genKey(t *testing.T, id string) sealed.Key {
	t.Helper()
	k, err := sealed.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// watchLog records a File's callbacks.
type watchLog struct {
	mu      sync.Mutex
	changes []string
	errs    []error
}

func (l *watchLog) opts(interval time.Duration) jwks.WatchOptions {
	return jwks.WatchOptions{
		Interval: interval,
		OnChange: func(r *sealed.KeyRing) { l.mu.Lock(); l.changes = append(l.changes, r.String()); l.mu.Unlock() },
		OnError:  func(err error) { l.mu.Lock(); l.errs = append(l.errs, err); l.mu.Unlock() },
	}
}

func (l *watchLog) counts() (changes, errs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.changes), len(l.errs)
}

func TestWatchJWKSReloadsOnRename(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := genKey(t, "a"), genKey(t, "b")
		path := filepath.Join(t.TempDir(), "keys.json")
		replaceFile(t, path, jwksBytes(t, a))
		var log watchLog
		kf, err := jwks.Watch(t.Context(), path, log.opts(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer kf.Close()
		if got := kf.Current().String(); got != "sealed.KeyRing(a)" {
			t.Fatalf("initial ring = %s", got)
		}

		replaceFile(t, path, jwksBytes(t, a, b)) // step 1: add b
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if got := kf.Current().String(); got != "sealed.KeyRing(a)" {
			t.Fatalf("ring changed before the poll: %s", got)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := kf.Current().String(); got != "sealed.KeyRing(a,b)" {
			t.Fatalf("after the poll, ring = %s", got)
		}
		replaceFile(t, path, jwksBytes(t, b, a)) // step 2: promote b
		time.Sleep(time.Second)
		synctest.Wait()
		if got := kf.Current().String(); got != "sealed.KeyRing(b,a)" {
			t.Fatalf("after promote, ring = %s", got)
		}
		// Unchanged content is not a change.
		replaceFile(t, path, jwksBytes(t, b, a))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		changes, errs := log.counts()
		if changes != 2 || errs != 0 {
			t.Fatalf("OnChange called %d times, OnError %d times; want 2 and 0 (%v)", changes, errs, log.changes)
		}
		if kf.Err() != nil {
			t.Fatalf("Err = %v", kf.Err())
		}
	})
}

func TestWatchJWKSDefaultInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := genKey(t, "a"), genKey(t, "b")
		path := filepath.Join(t.TempDir(), "keys.json")
		replaceFile(t, path, jwksBytes(t, a))
		kf, err := jwks.Watch(t.Context(), path, jwks.WatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer kf.Close()
		replaceFile(t, path, jwksBytes(t, b))
		time.Sleep(jwks.DefaultWatchInterval - time.Millisecond)
		synctest.Wait()
		if kf.Current().Primary().ID() != "a" {
			t.Fatal("reloaded before DefaultWatchInterval")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if kf.Current().Primary().ID() != "b" {
			t.Fatal("not reloaded after DefaultWatchInterval")
		}
	})
}

// TestWatchJWKSKubernetesSecretSwap mimics how the kubelet updates a mounted
// Secret: the file is a symlink into "..data", itself a symlink to a
// timestamped directory, and an update swaps "..data" by rename.
func TestWatchJWKSKubernetesSecretSwap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := genKey(t, "a"), genKey(t, "b")
		dir := t.TempDir()
		version := func(name string, data []byte) {
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name, "jwks.json"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(name, filepath.Join(dir, "..data_tmp")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
				t.Fatal(err)
			}
		}
		version("..2025_06_01", jwksBytes(t, a, b))
		if err := os.Symlink(filepath.Join("..data", "jwks.json"), filepath.Join(dir, "jwks.json")); err != nil {
			t.Fatal(err)
		}
		kf, err := jwks.Watch(t.Context(), filepath.Join(dir, "jwks.json"), jwks.WatchOptions{Interval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer kf.Close()
		// Same size, same file name, new directory.
		version("..2025_06_02", jwksBytes(t, b, a))
		if err := os.RemoveAll(filepath.Join(dir, "..2025_06_01")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := kf.Current().String(); got != "sealed.KeyRing(b,a)" {
			t.Fatalf("after the swap, ring = %s", got)
		}
	})
}

func TestWatchJWKSBadFileKeepsLastGoodRing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := genKey(t, "a"), genKey(t, "b")
		path := filepath.Join(t.TempDir(), "keys.json")
		good := jwksBytes(t, a)
		replaceFile(t, path, good)
		var log watchLog
		kf, err := jwks.Watch(t.Context(), path, log.opts(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer kf.Close()
		ring := kf.Current()

		// A truncated write: reported once, however many polls see it.
		bad := good[:len(good)/2]
		replaceFile(t, path, bad)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if kf.Current() != ring {
			t.Fatal("a bad file replaced the ring")
		}
		if _, errs := log.counts(); errs != 1 {
			t.Fatalf("OnError called %d times for one bad file; want 1", errs)
		}
		err = kf.Err()
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not valid JSON") {
			t.Fatalf("Err = %v; want a JSON error naming the file", err)
		}
		if strings.Contains(err.Error(), string(bad[len(bad)-20:])) {
			t.Fatalf("Err %q contains file content", err)
		}

		// A missing file is another failure, reported in turn.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if _, errs := log.counts(); errs != 2 || !errors.Is(kf.Err(), os.ErrNotExist) {
			t.Fatalf("after removal: %d errors, Err = %v", errs, kf.Err())
		}
		if kf.Current() != ring {
			t.Fatal("a missing file replaced the ring")
		}

		// The fix is picked up and clears Err.
		replaceFile(t, path, jwksBytes(t, b, a))
		time.Sleep(time.Second)
		synctest.Wait()
		if got := kf.Current().String(); got != "sealed.KeyRing(b,a)" || kf.Err() != nil {
			t.Fatalf("after the fix: ring %s, Err %v", got, kf.Err())
		}
	})
}

func TestWatchJWKSFirstLoadMustSucceed(t *testing.T) {
	dir := t.TempDir()
	if _, err := jwks.Watch(t.Context(), filepath.Join(dir, "missing.json"), jwks.WatchOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
	path := filepath.Join(dir, "bad.json")
	os.WriteFile(path, []byte(`{"keys":[]}`), 0o600)
	if _, err := jwks.Watch(t.Context(), path, jwks.WatchOptions{}); err == nil || !strings.Contains(err.Error(), "no keys") {
		t.Fatalf("empty set: err = %v", err)
	}
}

func TestWatchJWKSStopsOnCancelAndClose(t *testing.T) {
	// synctest.Test fails if a goroutine started in the bubble outlives it.
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.json")
		replaceFile(t, path, jwksBytes(t, genKey(t, "a")))
		ctx, cancel := context.WithCancel(t.Context())
		kf, err := jwks.Watch(ctx, path, jwks.WatchOptions{Interval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		synctest.Wait()
		replaceFile(t, path, jwksBytes(t, genKey(t, "b")))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if kf.Current().Primary().ID() != "a" {
			t.Fatal("reloaded after the context was cancelled")
		}
		kf.Close() // after cancel: returns, does not hang
		kf.Close() // twice: fine

		kf2, err := jwks.Watch(t.Context(), path, jwks.WatchOptions{Interval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		kf2.Close()
		replaceFile(t, path, jwksBytes(t, genKey(t, "c")))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if kf2.Current().Primary().ID() != "b" {
			t.Fatal("reloaded after Close")
		}
	})
}

func TestReloadNow(t *testing.T) {
	a, b := genKey(t, "a"), genKey(t, "b")
	path := filepath.Join(t.TempDir(), "keys.json")
	replaceFile(t, path, jwksBytes(t, a))
	var log watchLog
	kf, err := jwks.Watch(t.Context(), path, log.opts(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	replaceFile(t, path, jwksBytes(t, a, b))
	if err := kf.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := kf.Current().String(); got != "sealed.KeyRing(a,b)" {
		t.Fatalf("after Reload, ring = %s", got)
	}
	replaceFile(t, path, []byte(`{"keys":[{"kty":"RSA","kid":"x"}]}`))
	if err := kf.Reload(); err == nil || !strings.Contains(err.Error(), `unsupported "kty"`) {
		t.Fatalf("Reload of a bad file: %v", err)
	}
	if got := kf.Current().String(); got != "sealed.KeyRing(a,b)" {
		t.Fatalf("after a failed Reload, ring = %s", got)
	}
	if changes, errs := log.counts(); changes != 1 || errs != 0 {
		t.Fatalf("callbacks: %d changes, %d errors; want 1 and 0 (Reload returns its error)", changes, errs)
	}
	if kf.Path() != path {
		t.Fatalf("Path = %q", kf.Path())
	}
}

// Users keep their sessions through a rotation (add, promote) made while
// eight goroutines open and re-seal values: every value opens, and stale
// ones are re-sealed with the new key. The bubble's fake clock drives the
// watcher and the workers' pauses, so the steps are exact.
func TestWatchJWKSRotationUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		oldK, newK := genKey(t, "old"), genKey(t, "new")
		path := filepath.Join(t.TempDir(), "keys.json")
		replaceFile(t, path, jwksBytes(t, oldK))
		kf, err := jwks.Watch(t.Context(), path, jwks.WatchOptions{Interval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer kf.Close()
		s := sealed.NewSealer(kf)

		var stop atomic.Bool
		var failures atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				v, err := s.Seal("c", []byte("x"), time.Now().Add(time.Hour))
				for ; !stop.Load(); time.Sleep(100 * time.Microsecond) {
					if err != nil {
						t.Log(err)
						failures.Add(1)
						return
					}
					var info sealed.Info
					if _, info, err = s.Open("c", v); err != nil {
						continue // counted at the top
					}
					if info.Stale {
						v, err = s.Seal("c", []byte("x"), time.Now().Add(time.Hour))
					}
				}
			})
		}
		step := func(keys ...sealed.Key) {
			time.Sleep(20 * time.Millisecond)
			replaceFile(t, path, jwksBytes(t, keys...))
			synctest.Wait() // let the watcher see it, or not: Reload is exact
			if err := kf.Reload(); err != nil {
				t.Error(err)
			}
		}
		step(oldK, newK)
		step(newK, oldK)
		time.Sleep(20 * time.Millisecond) // every goroutine re-seals
		stop.Store(true)
		wg.Wait()
		if n := failures.Load(); n != 0 {
			t.Fatalf("%d goroutines lost their value during the rotation", n)
		}
		st := s.Stats()
		if st.Stale != 8 || st.Sealed["new"] != 8 || st.Opened["old"] == 0 || st.Opened["new"] == 0 {
			t.Fatalf("stats show no upgrade of each goroutine's value: %+v", st)
		}
	})
}
