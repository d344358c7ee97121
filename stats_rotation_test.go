package sealed_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// swapSource is the smallest reloading KeySource, for tests.
type swapSource struct {
	p atomic.Pointer[sealed.KeyRing]
}

func (s *swapSource) Current() *sealed.KeyRing { return s.p.Load() }

func (s *swapSource) set(t *testing.T, keys ...sealed.Key) {
	t.Helper()
	r, err := sealed.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	s.p.Store(r)
}

// TestStatsDuringRotation walks the three rotation steps and checks the
// counters an operator watches: Stale and Opened[old] while users upgrade,
// UnknownKey once the old key is gone.
func TestStatsDuringRotation(t *testing.T) {
	oldK, newK := fixedKey(t, "old", 1), fixedKey(t, "new", 2)
	var src swapSource
	src.set(t, oldK)
	s := sealed.NewSealer(&src)
	exp := time.Now().Add(time.Hour)

	// Ten users hold cookies sealed with the old key.
	cookies := make([]string, 10)
	for i := range cookies {
		cookies[i], _ = s.Seal("sid", []byte("u"), exp)
	}

	// Step 1: new key added, open-only. Nothing is stale yet.
	src.set(t, oldK, newK)
	for _, c := range cookies {
		if _, info, err := s.Open("sid", c); err != nil || info.Stale {
			t.Fatalf("step 1: %+v, %v", info, err)
		}
	}
	if st := s.Stats(); st.Stale != 0 || st.Opened["old"] != 10 || st.Sealed["new"] != 0 {
		t.Fatalf("after step 1: %+v", st)
	}

	// Step 2: new key promoted. The first request of each user is stale and
	// re-sealed; the second is not.
	src.set(t, newK, oldK)
	for i, c := range cookies[:6] { // four users do not come back in time
		_, info, err := s.Open("sid", c)
		if err != nil || !info.Stale || info.KeyID != "old" {
			t.Fatalf("step 2: %+v, %v", info, err)
		}
		cookies[i], _ = s.Seal("sid", []byte("u"), exp)
		if _, info, _ := s.Open("sid", cookies[i]); info.Stale {
			t.Fatal("a re-sealed cookie is still stale")
		}
	}
	st := s.Stats()
	if st.Stale != 6 || st.Opened["old"] != 16 || st.Sealed["new"] != 6 || st.Opened["new"] != 6 {
		t.Fatalf("after step 2: %+v", st)
	}

	// Step 3, too early: the four who stayed away are logged out, and
	// UnknownKey says so.
	src.set(t, newK)
	for i, c := range cookies {
		_, _, err := s.Open("sid", c)
		if i < 6 && err != nil {
			t.Fatalf("upgraded cookie %d: %v", i, err)
		}
		if i >= 6 && !errors.Is(err, sealed.ErrUnknownKey) {
			t.Fatalf("old cookie %d after retire: %v; want ErrUnknownKey", i, err)
		}
	}
	st = s.Stats()
	if st.UnknownKey != 4 || st.Opened["old"] != 16 || st.Stale != 6 {
		t.Fatalf("after step 3: %+v", st)
	}
}

// TestStatsStaleCountsOnlyOpened: an expired value sealed with a previous
// key is reported with Info.Stale (it is authentic), but no re-seal follows
// it, so Stats counts it as Expired and Opened, not as a pending re-seal.
func TestStatsStaleCountsOnlyOpened(t *testing.T) {
	oldK, newK := fixedKey(t, "old", 1), fixedKey(t, "new", 2)
	var src swapSource
	src.set(t, oldK)
	s := sealed.NewSealer(&src)
	now := time.Unix(1763726400, 0)
	s.Now = func() time.Time { return now }
	expired, _ := s.Seal("sid", []byte("u"), now.Add(-time.Second))
	live, _ := s.Seal("sid", []byte("u"), now.Add(time.Hour))
	src.set(t, newK, oldK)

	_, info, err := s.Open("sid", expired)
	if !errors.Is(err, sealed.ErrExpired) || !info.Stale {
		t.Fatalf("expired value under a previous key: %+v, %v; want ErrExpired with Info.Stale", info, err)
	}
	if _, _, err := s.AppendOpen(nil, "sid", expired); !errors.Is(err, sealed.ErrExpired) {
		t.Fatalf("AppendOpen: %v", err)
	}
	if st := s.Stats(); st.Stale != 0 || st.Expired != 2 || st.Opened["old"] != 2 {
		t.Errorf("after two expired opens: Stale %d, Expired %d, Opened[old] %d; want 0, 2, 2", st.Stale, st.Expired, st.Opened["old"])
	}
	if _, info, err := s.Open("sid", live); err != nil || !info.Stale {
		t.Fatalf("live value under a previous key: %+v, %v", info, err)
	}
	if st := s.Stats(); st.Stale != 1 {
		t.Errorf("after a stale open: Stale %d, want 1", st.Stale)
	}
}
