package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/sealedcookie/sealed"
)

// exampleKeys returns a fixed key ring. In production, load keys with
// sealed.ParseKeyRing(os.Getenv("SEALED_KEYS")) or generate them with
// sealed.GenerateKey.
func exampleKeys() *sealed.KeyRing {
	key, err := sealed.NewKey("2030-01", bytes.Repeat([]byte{0x42}, sealed.KeySize))
	if err != nil {
		panic(err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		panic(err)
	}
	return ring
}

// browse returns a function that sends requests to h as a browser would,
// keeping its cookies, and prints each response's status and body.
func browse(h http.Handler) func(method, path string) {
	srv := httptest.NewTLSServer(h) // the cookie is Secure: TLS, or http://localhost in a browser
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	return func(method, path string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(method, " ", path, " ", resp.StatusCode, " ", string(body))))
	}
}

func ExampleManager() {
	type Session struct {
		User string `json:"user"`
	}
	sessions, err := sealed.New(exampleKeys(), sealed.JSON[Session](), sealed.Options{})
	if err != nil {
		panic(err)
	}
	signedIn := sessions.RequireFunc(func(s Session) bool { return s.User != "" })

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{user}", func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), Session{User: r.PathValue("user")})
		sessions.Renew(r.Context()) // a login starts a new session
	})
	mux.Handle("GET /me", signedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.Get(r.Context())
		fmt.Fprint(w, s.User)
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		sessions.Destroy(r.Context())
	})

	do := browse(sessions.Handler(mux))
	do("POST", "/login/alice")
	do("GET", "/me")
	do("POST", "/logout")
	do("GET", "/me")
	// Output:
	// POST /login/alice 200
	// GET /me 200 alice
	// POST /logout 200
	// GET /me 401 Unauthorized: no valid session
}

// Revocation through Validate: each session carries the user's generation
// number from its login, and signing out everywhere increments it, so every
// older session, on any device, is rejected at its next request. In
// production the generations live in a shared store that Validate reads
// through a cache, not a map.
func ExampleManager_Validate() {
	type Session struct {
		User string `json:"user"`
		Gen  int    `json:"gen"`
	}
	var mu sync.Mutex
	generation := map[string]int{}
	sessions, err := sealed.New(exampleKeys(), sealed.JSON[Session](), sealed.Options{})
	if err != nil {
		panic(err)
	}
	sessions.Validate = func(ctx context.Context, s Session, info sealed.SessionInfo) error {
		mu.Lock()
		defer mu.Unlock()
		if s.Gen != generation[s.User] {
			return errors.New("signed out everywhere")
		}
		return nil
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{user}", func(w http.ResponseWriter, r *http.Request) {
		user := r.PathValue("user")
		mu.Lock()
		gen := generation[user]
		mu.Unlock()
		sessions.Put(r.Context(), Session{User: user, Gen: gen})
		sessions.Renew(r.Context())
	})
	mux.HandleFunc("POST /signout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := sessions.Get(r.Context()); ok {
			mu.Lock()
			generation[s.User]++
			mu.Unlock()
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessions.Get(r.Context())
		fmt.Fprint(w, s.User, ok)
	})

	laptop, phone := browse(sessions.Handler(mux)), browse(sessions.Handler(mux))
	laptop("POST", "/login/alice")
	phone("POST", "/login/alice")
	phone("POST", "/signout-everywhere")
	laptop("GET", "/me")
	// Output:
	// POST /login/alice 200
	// POST /login/alice 200
	// POST /signout-everywhere 200
	// GET /me 200 false
}

// Without middleware, as in an AWS Lambda handler or a fasthttp adapter:
// load the session from the request's Cookie lines and write Set-Cookie
// lines into a plain header.
func ExampleManager_LoadHeader() {
	m, err := sealed.New(exampleKeys(), sealed.JSON[string](), sealed.Options{})
	if err != nil {
		panic(err)
	}
	// handle is the serverless function: cookies in, Set-Cookie lines out.
	handle := func(cookies []string) (setCookies []string) {
		ctx := m.LoadHeader(context.Background(), http.Header{"Cookie": cookies})
		if user, ok := m.Get(ctx); ok {
			fmt.Println("hello again,", user)
		} else {
			m.Put(ctx, "alice")
			fmt.Println("new session")
		}
		h := http.Header{}
		if err := m.SaveHeader(ctx, h); err != nil {
			panic(err)
		}
		return h.Values("Set-Cookie")
	}
	set := handle(nil)
	fmt.Println(len(set), "Set-Cookie line")
	c, _ := http.ParseSetCookie(set[0])
	set = handle([]string{c.Name + "=" + c.Value})
	fmt.Println(len(set), "Set-Cookie lines")
	// Output:
	// new session
	// 1 Set-Cookie line
	// hello again, alice
	// 0 Set-Cookie lines
}

func ExampleManager_Flash() {
	m, err := sealed.New(exampleKeys(), sealed.JSON[struct{}](), sealed.Options{})
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			m.Flash(r.Context(), "Saved.")
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		fmt.Println("messages:", m.Flashes(r.Context()))
	}))
	// A minimal browser: send the cookie, apply Set-Cookie.
	var cookie *http.Cookie
	do := func(method string) {
		req := httptest.NewRequest(method, "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			if cookie = c; c.MaxAge < 0 {
				cookie = nil
			}
		}
	}
	do("POST")
	do("GET")
	do("GET")
	// Output:
	// messages: [Saved.]
	// messages: []
}

// Revocation with a store: logging out ends copies of the cookie too, and
// "sign out everywhere" ends every session of the user.
func ExampleManager_RevokeSubject() {
	type Session struct {
		User string `json:"user"`
	}
	sessions, err := sealed.New(exampleKeys(), sealed.JSON[Session](), sealed.Options{
		Revocations: sealed.NewMemoryStore(nil), // one instance; a fleet shares a store
	})
	if err != nil {
		panic(err)
	}
	sessions.Subject = func(s Session) string { return s.User } // whose session it is

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{user}", func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), Session{User: r.PathValue("user")})
		sessions.Renew(r.Context())
	})
	mux.HandleFunc("POST /signout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := sessions.Get(r.Context()); ok {
			if err := sessions.RevokeSubject(r.Context(), s.User); err != nil {
				http.Error(w, "try again", http.StatusServiceUnavailable)
			}
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessions.Get(r.Context())
		fmt.Fprint(w, s.User, ok)
	})

	laptop, phone := browse(sessions.Handler(mux)), browse(sessions.Handler(mux))
	laptop("POST", "/login/alice")
	time.Sleep(time.Millisecond) // sessions minted in the sign-out's millisecond end too
	phone("POST", "/login/alice")
	time.Sleep(time.Millisecond)
	phone("POST", "/signout-everywhere")
	laptop("GET", "/me")
	phone("GET", "/me")
	// Output:
	// POST /login/alice 200
	// POST /login/alice 200
	// POST /signout-everywhere 200
	// GET /me 200 false
	// GET /me 200 false
}
