package sealed_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// revFleet is two instances (Managers) sharing one key ring, one clock and
// one revocation store, like a fleet behind a load balancer.
type revFleet struct {
	a, b  *fixture
	store *countingStore
}

// countingStore counts the calls a Manager makes to a MemoryStore.
type countingStore struct {
	*sealed.MemoryStore
	registers atomic.Int64
}

func (c *countingStore) Register(ctx context.Context, s sealed.SessionRecord) error {
	c.registers.Add(1)
	return c.MemoryStore.Register(ctx, s)
}

func newRevFleet(t *testing.T, opts sealed.Options) *revFleet {
	t.Helper()
	clk, keys := newClock(), mwRing(t, fixedKey(t, "k1", 1))
	store := &countingStore{MemoryStore: sealed.NewMemoryStore(clk.Now)}
	opts.Revocations, opts.Now = store, clk.Now
	opts.Device = func(h http.Header) string { return h.Get("User-Agent") }
	instance := func() *fixture {
		f := &fixture{clock: clk, hook: new(hook), keys: keys}
		o := opts
		o.OnError = f.hook.OnError
		m, err := sealed.New(keys, sealed.JSON[sess](), o)
		if err != nil {
			t.Fatal(err)
		}
		m.Subject = func(s sess) string { return s.User }
		f.m = m
		return f
	}
	return &revFleet{a: instance(), b: instance(), store: store}
}

// app adds revocation endpoints to the fixture's application.
func (f *fixture) revApp() http.Handler {
	m := f.m
	mux := http.NewServeMux()
	mux.Handle("/", f.app())
	mux.HandleFunc("/everywhere", func(w http.ResponseWriter, r *http.Request) {
		v, _ := m.Get(r.Context())
		if err := m.RevokeSubject(r.Context(), v.User); err != nil {
			http.Error(w, err.Error(), 400)
		}
	})
	mux.HandleFunc("/others", func(w http.ResponseWriter, r *http.Request) {
		if err := m.RevokeOthers(r.Context()); err != nil {
			http.Error(w, err.Error(), 400)
		}
	})
	mux.HandleFunc("/id", func(w http.ResponseWriter, r *http.Request) {
		info, _ := m.Info(r.Context())
		io.WriteString(w, info.ID.String())
	})
	return m.Handler(mux)
}

// login returns a client of instance f signed in as user.
func login(t *testing.T, f *fixture, user string) *client {
	t.Helper()
	c := newClient(t, f.revApp())
	c.do("POST", "/put?user="+user)
	c.do("POST", "/renew")
	if got := c.body("GET", "/get"); !strings.Contains(got, `"user":"`+user+`"`) {
		t.Fatalf("login as %s: get = %q", user, got)
	}
	return c
}

// copyTo returns a client of instance f with c's cookies: a stolen copy.
func copyTo(t *testing.T, c *client, f *fixture) *client {
	d := newClient(t, f.revApp())
	maps.Copy(d.cookies, c.cookies)
	return d
}

// Destroy also revokes the session: a copy of the cookie taken before
// logout stops working, on every instance that shares the store.
func TestRevokeOnDestroy(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{})
	alice := login(t, fl.a, "alice")
	stolen := copyTo(t, alice, fl.b)
	if got := stolen.body("GET", "/get"); !strings.Contains(got, "alice") {
		t.Fatalf("the copy before logout: %q", got)
	}
	alice.do("POST", "/destroy")
	if got := stolen.body("GET", "/get"); got != "none" {
		t.Fatalf("the copy after logout: %q", got)
	}
	fl.b.hook.expect(t, sealed.ErrRevoked)
	if st := fl.b.m.Stats(); st.Revoked != 1 {
		t.Errorf("Stats.Revoked = %d", st.Revoked)
	}
	// The user logs in again: a new session, not revoked.
	alice = login(t, fl.a, "alice")
	if got := copyTo(t, alice, fl.b).body("GET", "/get"); !strings.Contains(got, "alice") {
		t.Errorf("the next login: %q", got)
	}
	fl.a.hook.expectNone(t)
}

// RevokeSubject ends every session of the user on every instance, and only
// that user's; a login afterwards works.
func TestRevokeSubject(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{})
	laptop, phone := login(t, fl.a, "alice"), login(t, fl.b, "alice")
	bob := login(t, fl.a, "bob")
	fl.a.clock.Add(time.Second)
	laptop.do("POST", "/everywhere")
	for name, c := range map[string]*client{"laptop": laptop, "phone on b": copyTo(t, phone, fl.b), "phone on a": phone} {
		if got := c.body("GET", "/get"); got != "none" {
			t.Errorf("%s after sign-out everywhere: %q", name, got)
		}
	}
	if got := bob.body("GET", "/get"); !strings.Contains(got, "bob") {
		t.Errorf("bob lost his session: %q", got)
	}
	fl.a.clock.Add(time.Millisecond)
	if got := login(t, fl.b, "alice").body("GET", "/get"); !strings.Contains(got, "alice") {
		t.Errorf("the next login: %q", got)
	}
}

// A session minted in the same millisecond as a sign-out everywhere is
// revoked (the comparison errs on the side of revocation); one minted a
// millisecond later is not.
func TestRevokeSubjectSameMillisecond(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{})
	c := login(t, fl.a, "alice")
	c.do("POST", "/everywhere") // same clock reading as the login
	if got := c.body("GET", "/get"); got != "none" {
		t.Errorf("session minted in the sign-out's millisecond: %q", got)
	}
	fl.a.clock.Add(time.Millisecond)
	if got := login(t, fl.a, "alice").body("GET", "/get"); !strings.Contains(got, "alice") {
		t.Errorf("a login one millisecond later: %q", got)
	}
}

// RevokeOthers keeps the request's session and ends the user's others.
func TestRevokeOthers(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{})
	laptop, phone := login(t, fl.a, "alice"), login(t, fl.b, "alice")
	fl.a.clock.Add(time.Second)
	laptop.do("POST", "/others")
	if got := laptop.body("GET", "/get"); !strings.Contains(got, "alice") {
		t.Errorf("this device: %q", got)
	}
	if got := copyTo(t, laptop, fl.b).body("GET", "/get"); !strings.Contains(got, "alice") {
		t.Errorf("this device on the other instance: %q", got)
	}
	if got := phone.body("GET", "/get"); got != "none" {
		t.Errorf("the other device: %q", got)
	}
	anon := newClient(t, fl.a.revApp())
	if resp := anon.do("POST", "/others"); resp.StatusCode != 400 {
		t.Errorf("RevokeOthers without a session: %d", resp.StatusCode)
	}
}

// The device list shows each session with its device, registered at login
// and at idle refreshes only, and revoking one by ID ends it.
func TestSessionsAndRevokeOne(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{IdleTimeout: time.Hour, IdleRefresh: time.Minute})
	laptop := newClient(t, fl.a.revApp())
	laptop.ua = "Firefox on Linux"
	laptop.do("POST", "/put?user=alice")
	fl.a.clock.Add(time.Second)
	phone := login(t, fl.b, "alice")
	for range 5 {
		laptop.do("GET", "/update") // changes, but no registration
	}
	if n := fl.store.registers.Load(); n != 3 { // the phone's Put, then its Renew
		t.Errorf("%d registrations for a Put, a Put and Renew, and 5 updates, want 3", n)
	}
	fl.a.clock.Add(2 * time.Minute)
	laptop.do("GET", "/get") // an idle refresh re-seals and registers
	if n := fl.store.registers.Load(); n != 4 {
		t.Errorf("%d registrations after an idle refresh, want 4", n)
	}
	recs, err := fl.a.m.Sessions(context.Background(), "alice")
	if err != nil || len(recs) != 2 {
		t.Fatalf("Sessions = %v, %v", recs, err)
	}
	if recs[0].Device != "Firefox on Linux" || !recs[0].Refreshed.Equal(fl.a.clock.Now().Truncate(time.Second)) {
		t.Errorf("laptop record %+v", recs[0])
	}
	phoneID := phone.body("GET", "/id")
	if recs[1].ID.String() != phoneID {
		t.Fatalf("records %v, phone %s", recs, phoneID)
	}
	id, err := sealed.ParseSessionID(phoneID)
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.a.m.Revoke(context.Background(), "alice", id); err != nil {
		t.Fatal(err)
	}
	if got := phone.body("GET", "/get"); got != "none" {
		t.Errorf("revoked device: %q", got)
	}
	if recs, _ := fl.a.m.Sessions(context.Background(), "alice"); len(recs) != 1 || recs[0].ID == id {
		t.Errorf("after revoking one: %v", recs)
	}
}

// Renew draws a new session ID, so a copy taken before a login is not the
// session after it.
func TestRenewMintsNewID(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{})
	c := newClient(t, fl.a.revApp())
	c.do("POST", "/put?user=alice")
	before := c.body("GET", "/id")
	c.do("POST", "/renew")
	if after := c.body("GET", "/id"); after == before || len(after) != 32 {
		t.Errorf("IDs before and after Renew: %s, %s", before, after)
	}
}

// Entries expire by themselves once no session they affect can be alive:
// Lifetime plus ClockSkew after they were made.
func TestRevocationsExpire(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{Lifetime: time.Hour, ClockSkew: time.Minute})
	c := login(t, fl.a, "alice")
	c.do("POST", "/everywhere")
	start := fl.store.Len() // the subject's entry
	fl.a.clock.Add(time.Hour + time.Minute - time.Second)
	login(t, fl.a, "bob").do("POST", "/destroy") // a write purges
	if n := fl.store.Len(); n <= start {
		t.Fatalf("entries purged before Lifetime+ClockSkew: %d, had %d", n, start)
	}
	fl.a.clock.Add(2 * time.Hour)
	login(t, fl.a, "carol").do("POST", "/destroy")
	if n := fl.store.Len(); n != 1 { // only carol's, just made
		t.Errorf("entries after every lifetime passed: %d, want 1", n)
	}
}

// A copied cookie stays revoked through the ClockSkew grace: the entry
// outlives every cookie it affects.
func TestRevocationCoversSkew(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{Lifetime: time.Hour, ClockSkew: 5 * time.Minute})
	c := login(t, fl.a, "alice")
	stolen := copyTo(t, c, fl.b)
	c.do("POST", "/destroy")
	fl.a.clock.Add(time.Hour + 4*time.Minute) // past the deadline, within the skew
	if got := stolen.body("GET", "/get"); got != "none" {
		t.Errorf("within the skew: %q", got)
	}
	errs := fl.b.hook.take()
	if len(errs) != 1 || !errors.Is(errs[0], sealed.ErrRevoked) {
		t.Errorf("OnError = %v, want ErrRevoked (the cookie is still within its grace)", errs)
	}
}

// A sign-out racing idle refreshes of the user's session: whichever wins,
// the session ends, because a refresh keeps the session's ID and mint time.
func TestRevokeRacingRefresh(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{IdleTimeout: time.Hour, IdleRefresh: time.Second})
	for range 20 {
		c := login(t, fl.a, "alice")
		fl.a.clock.Add(2 * time.Second) // every read refreshes
		var wg sync.WaitGroup
		var refreshed map[string]string
		wg.Go(func() {
			d := copyTo(t, c, fl.b)
			d.do("GET", "/get")
			refreshed = d.cookies
		})
		wg.Go(func() {
			if err := fl.a.m.RevokeSubject(context.Background(), "alice"); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		d := copyTo(t, c, fl.a)
		d.cookies = refreshed
		if got := d.body("GET", "/get"); got != "none" {
			t.Fatalf("the refreshed cookie survived the sign-out: %q", got)
		}
		fl.a.clock.Add(time.Millisecond)
		fl.a.hook.take()
		fl.b.hook.take()
	}
}

// A cookie sealed before session IDs existed (no identity in its payload)
// still opens, and is revoked by its subject as minted when issued.
func TestRevokeCookieWithoutID(t *testing.T) {
	fl := newRevFleet(t, sealed.Options{})
	now := fl.a.clock.Now()
	payload := []byte{1, 1} // version 1, a value, no identity
	for _, t := range []int64{now.Unix(), now.Unix() + 3600, now.Unix()} {
		payload = binary.BigEndian.AppendUint64(payload, uint64(t))
	}
	payload = append(payload, 0)
	payload = append(payload, `{"user":"alice"}`...)
	s := sealed.NewSealer(fl.a.keys)
	s.Now = fl.a.clock.Now
	old := newClient(t, fl.a.revApp())
	old.cookies["session"] = mustSeal(t, s, "session", payload, now.Add(time.Hour))
	if got := old.body("GET", "/get"); !strings.Contains(got, "alice") {
		t.Fatalf("an old cookie: %q", got)
	}
	fl.a.clock.Add(time.Second)
	if err := fl.a.m.RevokeSubject(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if got := old.body("GET", "/get"); got != "none" {
		t.Errorf("an old cookie after sign-out everywhere: %q", got)
	}
}

// Without a store the revoking methods say what is missing.
func TestRevokeWithoutStore(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	if err := f.m.RevokeSubject(context.Background(), "alice"); err == nil || !strings.Contains(err.Error(), "Options.Revocations") {
		t.Errorf("RevokeSubject = %v", err)
	}
	if _, err := f.m.Sessions(context.Background(), "alice"); err == nil {
		t.Error("Sessions without a store succeeded")
	}
}

func TestSessionIDText(t *testing.T) {
	id := sealed.SessionID{0xde, 0xad, 15: 1}
	back, err := sealed.ParseSessionID(id.String())
	if err != nil || back != id || id.String() != "dead0000000000000000000000000001" {
		t.Fatalf("%s -> %v, %v", id, back, err)
	}
	for _, bad := range []string{"", "dead", strings.Repeat("g", 32), strings.Repeat("0", 33)} {
		if _, err := sealed.ParseSessionID(bad); err == nil {
			t.Errorf("ParseSessionID(%q) succeeded", bad)
		}
	}
}

// Re-applying an entry the store holds, as a mirror does on every reload,
// neither duplicates it nor grows the store.
func TestMemoryStoreIdempotent(t *testing.T) {
	clk := newClock()
	store := sealed.NewMemoryStore(clk.Now)
	r := sealed.Revocation{Subject: "alice", NotBefore: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	s := sealed.Revocation{Session: sealed.SessionID{1}, Expires: clk.Now().Add(time.Hour)}
	for range 3 {
		store.Revoke(context.Background(), r)
		store.Revoke(context.Background(), s)
	}
	if n := store.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
	// An earlier "not before" never replaces a later one.
	store.Revoke(context.Background(), sealed.Revocation{Subject: "alice", NotBefore: clk.Now().Add(-time.Hour), Expires: clk.Now().Add(time.Hour)})
	if !store.Revoked(sealed.SessionID{2}, "alice", clk.Now()) {
		t.Error("an earlier entry replaced a later one")
	}
}

// blockingStore's Register waits until the handler's other goroutine has
// read the session, as a store waiting on the network would let it.
type blockingStore struct {
	*sealed.MemoryStore
	registering, read chan struct{}
}

func (s *blockingStore) Register(ctx context.Context, r sealed.SessionRecord) error {
	close(s.registering)
	select {
	case <-s.read:
		return s.MemoryStore.Register(ctx, r)
	case <-time.After(5 * time.Second):
		return errors.New("the session stayed locked while registering")
	}
}

// Registering for the device list may do I/O: the Manager does it without
// holding the session's lock, so other goroutines of the request can still
// read the session meanwhile.
func TestRegisterOutsideTheLock(t *testing.T) {
	store := &blockingStore{sealed.NewMemoryStore(nil), make(chan struct{}), make(chan struct{})}
	f := newFixture(t, sealed.Options{Revocations: store})
	f.m.Subject = func(v sess) string { return v.User }
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.m.Put(r.Context(), sess{User: "a"})
		go func() {
			<-store.registering
			f.m.Get(r.Context())
			close(store.read)
		}()
		io.WriteString(w, "ok") // commits the session: Register
	}))
	newClient(t, h).do("POST", "/")
	if errs := f.hook.take(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if recs, _ := store.Sessions(context.Background(), "a"); len(recs) != 1 {
		t.Errorf("%d sessions registered, want 1", len(recs))
	}
}
