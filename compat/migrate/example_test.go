package migrate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/migrate"
	"github.com/sealedcookie/sealed/compat/starlette"
)

// Take over the sessions of a Starlette or FastAPI app that used
// SessionMiddleware(app, secret_key="starlette-secret"): a user who arrives
// with its "session" cookie stays logged in, and leaves with a sealed "sid"
// cookie instead.
func Example() {
	type Session struct {
		User string `json:"user"`
	}

	// The sealed session manager of the Go app.
	key, _ := sealed.NewKey("2030-01", bytes.Repeat([]byte{0x42}, sealed.KeySize)) // use sealed.GenerateKey / ParseKeyRing
	ring, _ := sealed.NewKeyRing(key)
	m, err := sealed.New(ring, sealed.JSON[Session](), sealed.Options{Name: "sid"})
	if err != nil {
		panic(err)
	}

	// The legacy reader: Starlette's secret_key and max_age.
	legacyCodec, err := starlette.New("starlette-secret", starlette.Options{})
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := m.Get(r.Context()); ok {
			fmt.Fprintf(w, "hello %s", s.User)
		} else {
			http.Error(w, "not logged in", http.StatusUnauthorized)
		}
	})
	handler := migrate.Handler(m, migrate.Legacy[Session]{
		Source: migrate.Starlette(legacyCodec, "session"),
		Convert: func(r *http.Request, payload []byte) (Session, error) {
			var s Session // payload is the Starlette session as JSON
			if err := json.Unmarshal(payload, &s); err != nil {
				return s, err
			}
			if s.User == "" {
				return s, migrate.ErrSkip // an anonymous session: nothing to keep
			}
			return s, nil
		},
	}, mux)

	srv := httptest.NewTLSServer(handler) // sealed cookies are Secure
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)

	// The browser arrives with the cookie Starlette set at login.
	value, err := legacyCodec.Seal([]byte(`{"user": "alice"}`))
	if err != nil {
		panic(err)
	}
	client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: value, Path: "/"}})

	for range 2 {
		resp, err := client.Get(srv.URL + "/me")
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %s\n", resp.StatusCode, body)
		for _, c := range resp.Cookies() {
			fmt.Printf("  Set-Cookie %s (expired: %t)\n", c.Name, c.MaxAge < 0)
		}
		for _, c := range client.Jar.Cookies(u) {
			fmt.Printf("  browser keeps %s\n", c.Name)
		}
	}
	// Output:
	// 200 hello alice
	//   Set-Cookie session (expired: true)
	//   Set-Cookie sid (expired: false)
	//   browser keeps sid
	// 200 hello alice
	//   browser keeps sid
}
