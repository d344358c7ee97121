package upstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sealedcookie/sealed/upstream"
)

// A handler serves every user from a legacy backend through one shared
// service-account session, and answers 503 when the backend will not let it
// log in.
func Example() {
	// The legacy backend: a login form that sets a session cookie, and a
	// report that redirects to the login page without a valid session.
	// During maintenance it ends all sessions and refuses logins.
	var maintenance atomic.Bool
	legacy := http.NewServeMux()
	legacy.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if maintenance.Load() || r.PostFormValue("password") != "s3cret" {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "42", Path: "/"})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	legacy.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("session"); maintenance.Load() || err != nil || c.Value != "42" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		fmt.Fprint(w, "quarterly report")
	})
	backend := httptest.NewServer(legacy)
	defer backend.Close()

	tr, err := upstream.New(upstream.Config{
		Login:            upstream.FormLogin(backend.URL+"/login", url.Values{"user": {"app"}, "password": {"s3cret"}}),
		LoginPath:        "/login",
		MaxLoginAttempts: 2,
		Backoff:          upstream.ExponentialBackoff(time.Millisecond, 10*time.Millisecond),
	})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: tr} // no Jar: the Transport keeps the cookies

	// The application's handler.
	report := func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL+"/report", nil)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		resp, err := client.Do(req)
		switch {
		case errors.Is(err, upstream.ErrLoginFailed):
			http.Error(w, "backend unavailable, try again later", http.StatusServiceUnavailable)
			return
		case err != nil:
			http.Error(w, "backend error", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}

	for _, down := range []bool{false, true} {
		maintenance.Store(down)
		rec := httptest.NewRecorder()
		report(rec, httptest.NewRequest(http.MethodGet, "/report", nil))
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 quarterly report
	// 503 backend unavailable, try again later
}

// A token login returns the header to send with every request of the
// session; the default IsExpired treats a 401 as the token's expiry. The
// token goes only to the backend's origin, never to another server the same
// client talks to.
func ExampleLoginFunc_token() {
	api := http.NewServeMux()
	api.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"access_token": "t0k3n"})
	})
	api.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0k3n" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "hello, service account")
	})
	backend := httptest.NewServer(api)
	defer backend.Close()

	login := func(ctx context.Context, client *http.Client) (http.Header, error) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s3cret"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, backend.URL+"/oauth/token", strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("token endpoint: %s", resp.Status)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
			return nil, err
		}
		return http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, nil
	}

	// The token endpoint is on the backend's own origin here, so Origin
	// could be left to default to it; it is needed when the token comes
	// from another origin, such as an identity provider's.
	tr, err := upstream.New(upstream.Config{Login: login, Origin: backend.URL})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: tr}

	// Another server, which shows what it gets.
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Authorization: %q", r.Header.Get("Authorization"))
	}))
	defer elsewhere.Close()

	for _, u := range []string{backend.URL + "/hello", elsewhere.URL} {
		resp, err := client.Get(u)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 200 hello, service account
	// 200 Authorization: ""
}
