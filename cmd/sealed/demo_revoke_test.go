package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// demoFleet is two demo instances sharing keys and one revocation store.
func demoFleet(t *testing.T) (a, b http.Handler) {
	t.Helper()
	keys := demoTestRing(t)
	store := sealed.NewMemoryStore(nil)
	for _, h := range []*http.Handler{&a, &b} {
		var err error
		*h, err = newDemoHandler(keys, sealed.Options{Revocations: store, OnError: (&sealedtest.ErrorLog{}).OnError})
		if err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

// device is one browser of a user: a client of an instance.
func device(t *testing.T, h http.Handler, ua string) *sealedtest.Client {
	return sealedtest.NewClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("User-Agent", ua)
		h.ServeHTTP(w, r)
	}))
}

// status returns the status of method path for c.
func status(c *sealedtest.Client, method, path string) int {
	resp, _ := c.Do(method, path)
	return resp.StatusCode
}

// copyCookies gives to a client of another instance the cookies of c: a
// copy of the session taken from the browser.
func copyCookies(to, from *sealedtest.Client) {
	for name, v := range from.Cookies() {
		to.SetCookie(&http.Cookie{Name: name, Value: v})
	}
}

// statusWithin returns the status of method path for c once it is want, or
// the last one after d: a revocation made on another instance reaches this
// one when the store delivers it.
func statusWithin(d time.Duration, c *sealedtest.Client, method, path string, want int) int {
	deadline := time.Now().Add(d)
	for {
		code := status(c, method, path)
		if code == want || time.Now().After(deadline) {
			return code
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The demo's revocation contract, over HTTP, across two instances.
func TestDemoRevocation(t *testing.T) {
	a, b := demoFleet(t)
	demoRevocationContract(t, a, b)

	// The counters.
	bob := device(t, b, "curl/8.0")
	_, body := bob.Do("GET", "/debug/sealed")
	var st struct {
		Revoked     uint64
		Revocations map[string]int
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Revoked == 0 || st.Revocations["Size"] == 0 {
		t.Errorf("/debug/sealed = %s (%v)", body, err)
	}
}

// demoRevocationContract checks the revocation endpoints over HTTP across
// two instances a and b that share a store, allowing a revocation made on
// one up to demoPropagation to reach the other.
func demoRevocationContract(t *testing.T, a, b http.Handler) {
	t.Helper()
	// Logging out revokes the session: a copy taken before gets 401 on
	// every instance.
	laptop := device(t, a, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
	if code := status(laptop, "POST", "/create_session/alice"); code != 200 {
		t.Fatalf("login: %d", code)
	}
	stolen := device(t, b, "curl/8.0")
	copyCookies(stolen, laptop)
	if code := status(stolen, "GET", "/whoami"); code != 200 {
		t.Fatalf("the copy before logout: %d", code)
	}
	if code := status(laptop, "POST", "/delete_session"); code != 200 {
		t.Errorf("logout: %d", code)
	}
	if code := statusWithin(demoPropagation, stolen, "GET", "/whoami", 401); code != 401 {
		t.Errorf("the copy after logout, on the other instance: %d, want 401", code)
	}

	// Two devices; the device list shows both, the current one marked.
	laptop = device(t, a, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
	phone := device(t, b, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1")
	status(laptop, "POST", "/create_session/alice")
	time.Sleep(2 * time.Millisecond) // distinct mint times
	status(phone, "POST", "/create_session/alice")
	bob := device(t, a, "curl/8.0")
	status(bob, "POST", "/create_session/bob")
	resp, body := laptop.Do("GET", "/sessions")
	var list []struct {
		ID        string `json:"id"`
		Current   bool   `json:"current"`
		Created   string `json:"created"`
		Refreshed string `json:"refreshed"`
		Device    string `json:"device"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || len(list) != 2 {
		t.Fatalf("GET /sessions: %d %s (%v)", resp.StatusCode, body, err)
	}
	for i, want := range []struct {
		current bool
		device  string
	}{{true, "Firefox on Linux"}, {false, "Safari on iOS"}} {
		if list[i].Current != want.current || list[i].Device != want.device {
			t.Errorf("session %d: %+v, want current %v on %q", i, list[i], want.current, want.device)
		}
		for _, ts := range []string{list[i].Created, list[i].Refreshed} {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				t.Errorf("session %d: time %q is not RFC 3339", i, ts)
			}
		}
	}

	// Revoking one session by ID; another user's ID cannot be revoked.
	if code := status(bob, "POST", "/sessions/"+list[1].ID+"/revoke"); code != 404 {
		t.Errorf("bob revoking alice's session: %d, want 404", code)
	}
	if code := status(laptop, "POST", "/sessions/"+list[1].ID+"/revoke"); code != 200 {
		t.Fatalf("revoke the phone: %d", code)
	}
	if code := statusWithin(demoPropagation, phone, "GET", "/whoami", 401); code != 401 {
		t.Errorf("the revoked phone: %d, want 401", code)
	}

	// Sign out other devices keeps this one.
	phone = device(t, b, "Mozilla/5.0 (iPhone) Safari/604.1")
	status(phone, "POST", "/create_session/alice")
	time.Sleep(2 * time.Millisecond)
	if code := status(laptop, "POST", "/signout_others"); code != 200 {
		t.Fatalf("signout_others: %d", code)
	}
	if code := statusWithin(demoPropagation, phone, "GET", "/whoami", 401); code != 401 || status(laptop, "GET", "/whoami") != 200 {
		t.Errorf("after signout_others: this device %d, the other %d; want 200 and 401",
			status(laptop, "GET", "/whoami"), code)
	}

	// Sign out everywhere ends every session of alice, bob's stays.
	other := device(t, b, "curl/8.0")
	copyCookies(other, laptop)
	if code := status(laptop, "POST", "/signout_everywhere"); code != 200 {
		t.Fatalf("signout_everywhere: %d", code)
	}
	if status(laptop, "GET", "/whoami") != 401 || statusWithin(demoPropagation, other, "GET", "/whoami", 401) != 401 {
		t.Error("a session of alice survived sign out everywhere")
	}
	if status(bob, "GET", "/whoami") != 200 {
		t.Error("bob was signed out")
	}
}

// demoPropagation is how long demoRevocationContract lets a revocation
// take to reach the other instance: at once with a shared MemoryStore,
// milliseconds through Redis.
const demoPropagation = time.Second
