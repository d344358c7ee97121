package redisstore

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

type session struct {
	User string `json:"user"`
}

// sessionApp is an application of one instance: log in, read the session,
// log out, sign out everywhere.
func sessionApp(m *sealed.Manager[session]) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), session{User: r.FormValue("user")})
		m.Renew(r.Context())
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := m.Get(r.Context()); ok {
			fmt.Fprint(w, s.User)
			return
		}
		fmt.Fprint(w, "none")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { m.Destroy(r.Context()) })
	return m.Handler(mux)
}

// Two instances, each a Manager with its own Store on one Redis, sharing
// keys: a session destroyed on one is refused by the other, with a copy of
// its cookie; a sign-out everywhere on one ends the user's sessions on the
// other; and both show the same device list.
func TestManagersShareRevocations(t *testing.T) {
	r := startRedis(t)
	keys := sealedtest.NewKeyRing(t)
	type instance struct {
		m     *sealed.Manager[session]
		store *Store
		app   http.Handler
	}
	newInstance := func() instance {
		store := newStore(t, r, Options{})
		m, err := sealed.New(keys, sealed.JSON[session](), sealed.Options{
			Revocations: store,
			Device:      func(h http.Header) string { return h.Get("User-Agent") },
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Subject = func(s session) string { return s.User }
		return instance{m, store, sessionApp(m)}
	}
	a, b := newInstance(), newInstance()
	login := func(in instance, user string) *sealedtest.Client {
		c := sealedtest.NewClient(t, in.app)
		c.Do("POST", "/login?user="+user)
		return c
	}
	// copyTo is another browser, on instance in, with c's cookies: a copy
	// of the cookie, stolen or kept after logout.
	copyTo := func(c *sealedtest.Client, in instance) *sealedtest.Client {
		d := sealedtest.NewClient(t, in.app)
		for name, v := range c.Cookies() {
			d.SetCookie(&http.Cookie{Name: name, Value: v, Secure: true, HttpOnly: true})
		}
		return d
	}
	me := func(c *sealedtest.Client) string { _, body := c.Do("GET", "/me"); return body }

	alice := login(a, "alice")
	stolen := copyTo(alice, b)
	if got := me(stolen); got != "alice" {
		t.Fatalf("the copy on B before logout: %q", got)
	}
	alice.Do("POST", "/logout")
	waitFor(t, 2*time.Second, "B refuses the destroyed session", func() bool { return me(copyTo(stolen, b)) == "none" })
	if got := me(stolen); got != "none" {
		t.Errorf("the copy on B after logout: %q", got)
	}
	if st := b.m.Stats(); st.Revoked == 0 {
		t.Errorf("B's Manager counted no revoked session: %+v", st)
	}

	// Sign out everywhere, on B: alice's sessions on A end.
	laptop, phone := login(a, "alice"), login(b, "alice")
	bob := login(a, "bob")
	time.Sleep(2 * time.Millisecond) // the sign-out revokes sessions minted up to its millisecond
	recs, err := a.m.Sessions(context.Background(), "alice")
	if err != nil || len(recs) != 2 {
		t.Errorf("alice's device list on A: %v, %v", recs, err)
	}
	if recsB, err := b.m.Sessions(context.Background(), "alice"); err != nil || len(recsB) != len(recs) {
		t.Errorf("alice's device list on B: %v, %v", recsB, err)
	}
	if err := b.m.RevokeSubject(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "A refuses alice's sessions", func() bool {
		return me(copyTo(laptop, a)) == "none" && me(copyTo(phone, a)) == "none"
	})
	if got := me(bob); got != "bob" {
		t.Errorf("bob on A after alice signed out everywhere: %q", got)
	}
	time.Sleep(2 * time.Millisecond) // a login in the sign-out's millisecond is revoked too
	if got := me(login(a, "alice")); got != "alice" {
		t.Errorf("alice's next login: %q", got)
	}
	if recs, err := b.m.Sessions(context.Background(), "alice"); err != nil || len(recs) != 1 {
		t.Errorf("alice's device list after signing out everywhere and in again: %v, %v", recs, err)
	}
	if n := r.Client().HLen(context.Background(), a.store.rev).Val(); n != 2 || !strings.HasPrefix(a.store.rev, "sealed:") {
		t.Errorf("%d revocations in %s, want the session and the subject", n, a.store.rev)
	}
}
