package sealed_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

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

func ExampleManager() {
	type Session struct {
		User   string `json:"user"`
		Visits int    `json:"visits"`
	}
	m, err := sealed.New(exampleKeys(), sealed.JSON[Session](), sealed.Options{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{user}", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), Session{User: r.PathValue("user")})
		m.Renew(r.Context()) // a new session at login: new issue time and deadline
	})
	mux.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) {
		m.Update(r.Context(), func(s *Session) { s.Visits++ })
		s, _ := m.Get(r.Context())
		fmt.Fprintf(w, "%s, visit %d", s.User, s.Visits)
	})
	mux.Handle("GET /private", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "private page")
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Destroy(r.Context())
	})

	// The cookie is Secure: serve over TLS (or http://localhost in a browser).
	srv := httptest.NewTLSServer(m.Handler(mux))
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	do := func(method, path string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprintln(method, path, resp.StatusCode, string(body))))
	}
	do("GET", "/private")
	do("POST", "/login/alice")
	do("GET", "/visit")
	do("GET", "/visit")
	do("GET", "/private")
	do("POST", "/logout")
	do("GET", "/private")
	// Output:
	// GET /private 401 Unauthorized: no valid session
	// POST /login/alice 200
	// GET /visit 200 alice, visit 1
	// GET /visit 200 alice, visit 2
	// GET /private 200 private page
	// POST /logout 200
	// GET /private 401 Unauthorized: no valid session
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
