package sealedtest_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// t stands in for the *testing.T that a test would pass: an example has
// none. It fails by panicking.
var t testing.TB = exampleT{}

type exampleT struct{ testing.TB }

func (exampleT) Helper()                           {}
func (exampleT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

type Session struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// app is the application under test: it counts a signed-in user's visits.
func app(m *sealed.Manager[Session]) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), Session{Name: r.FormValue("name")})
		m.Renew(r.Context())
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("GET /", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Update(r.Context(), func(s *Session) { s.Count++ })
		s, _ := m.Get(r.Context())
		fmt.Fprintf(w, "%s, visit %d", s.Name, s.Count)
	})))
	return m.Handler(mux)
}

// A test of an application with a session: a Manager over fresh keys, and
// a Client that keeps the session cookie like a browser.
func Example() {
	// t is the test's *testing.T.
	m := sealedtest.NewManager(t, sealed.JSON[Session](), sealed.Options{})
	c := sealedtest.NewClient(t, app(m))

	resp, _ := c.Do("GET", "/")
	fmt.Println(resp.StatusCode)
	resp, _ = c.Do("POST", "/login?name=alice")
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"), len(c.Cookies()))
	for range 2 {
		_, body := c.Do("GET", "/")
		fmt.Println(body)
	}
	// Output:
	// 401
	// 303 / 1
	// alice, visit 1
	// alice, visit 2
}

// Send sends a request the test made: here a form.
func ExampleClient_Send() {
	// t is the test's *testing.T.
	c := sealedtest.NewClient(t, app(sealedtest.NewManager(t, sealed.JSON[Session](), sealed.Options{})))
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"name": {"bob"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.Send(req)
	_, body := c.Do("GET", "/")
	fmt.Println(body)
	// Output: bob, visit 1
}

// SetCookie changes the cookies the Client holds: here it tampers with the
// session, which the application then treats as no session and reports.
func ExampleClient_SetCookie() {
	// t is the test's *testing.T.
	var errs sealedtest.ErrorLog
	m := sealedtest.NewManager(t, sealed.JSON[Session](), sealed.Options{OnError: errs.OnError})
	c := sealedtest.NewClient(t, app(m))
	c.Do("POST", "/login?name=alice")
	// One bit of the sealed bytes flipped: a cookie that fails
	// authentication (flipping a bit of a base64 character instead may
	// leave the alphabet, and the cookie would be malformed).
	raw, _ := base64.RawURLEncoding.DecodeString(c.Cookies()["session"])
	raw[len(raw)/2] ^= 1
	c.SetCookie(&http.Cookie{Name: "session", Value: base64.RawURLEncoding.EncodeToString(raw)})

	resp, _ := c.Do("GET", "/")
	fmt.Println(resp.StatusCode, c.Cookies()) // the response deleted the bad cookie
	fmt.Println(errors.Is(errors.Join(errs.Take()...), sealed.ErrInvalid))
	// Output:
	// 401 map[]
	// true
}

// Two servers with the same keys continue each other's sessions: the Client
// is one browser, which sends the cookies of 127.0.0.1 to every port.
func ExampleNewServerClient() {
	// t is the test's *testing.T.
	ring := sealedtest.NewKeyRing(t)
	var servers []*httptest.Server
	for range 2 {
		m, err := sealed.New(ring, sealed.JSON[Session](), sealed.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app(m))
		defer srv.Close()
		servers = append(servers, srv)
	}
	c := sealedtest.NewServerClient(t, servers[0])
	c.Do("POST", "/login?name=alice")
	for _, srv := range servers {
		_, body := c.Do("GET", srv.URL+"/")
		fmt.Println(body)
	}
	// Output:
	// alice, visit 1
	// alice, visit 2
}

// NewKeyRing makes keys for tests that need a ring: for a Sealer, or for
// several Managers that open each other's cookies.
func ExampleNewKeyRing() {
	// t is the test's *testing.T.
	ring := sealedtest.NewKeyRing(t, "new", "old")
	fmt.Println(ring.Primary().ID(), ring)
	// Output: new sealed.KeyRing(new,old)
}

// A Clock moves a Manager through its timeouts, and an ErrorLog shows what
// it reported.
func ExampleClock() {
	// t is the test's *testing.T.
	clock := sealedtest.NewClock(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	var errs sealedtest.ErrorLog
	m := sealedtest.NewManager(t, sealed.JSON[Session](), sealed.Options{
		IdleTimeout: 10 * time.Minute,
		Now:         clock.Now,
		OnError:     errs.OnError,
	})
	c := sealedtest.NewClient(t, app(m))
	c.Do("POST", "/login?name=alice")

	clock.Add(9 * time.Minute)
	resp, _ := c.Do("GET", "/")
	fmt.Println(clock.Now().Format("15:04"), resp.StatusCode)
	clock.Set(time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC))
	resp, _ = c.Do("GET", "/")
	fmt.Println(clock.Now().Format("15:04"), resp.StatusCode, errors.Is(errors.Join(errs.Take()...), sealed.ErrExpired))
	// Output:
	// 09:09 200
	// 10:00 401 true
}

// badCodec decodes with a json.Decoder, which stops after the first value.
type badCodec struct{}

func (badCodec) Append(dst []byte, v *Session) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

func (badCodec) Decode(data []byte, v *Session) error {
	return json.NewDecoder(strings.NewReader(string(data))).Decode(v)
}

// TestCodec checks a codec, such as one of the application's own, against
// the contract of sealed.Codec.
func ExampleTestCodec() {
	values := []Session{{Name: "alice", Count: 3}, {Name: "Zoë ☃"}}
	fmt.Println(sealedtest.TestCodec(sealed.JSON[Session](), values...))
	fmt.Println(sealedtest.TestCodec[Session](badCodec{}, values...) != nil)
	// Output:
	// <nil>
	// true
}
