// Command chi shows sealed sessions with the chi router
// (github.com/go-chi/chi/v5). It needs no adapter: chi's middleware is
// net/http middleware, func(http.Handler) http.Handler, and so are the
// Manager's Handler, Require and RequireFunc.
//
//	r := chi.NewRouter()
//	r.Use(sessions.Handler)                     // every route can use the session
//	r.With(sessions.Require).Get("/x", h)       // one route: any session
//	r.Group(func(r chi.Router) {                // a group: signed-in users only
//		r.Use(sessions.RequireFunc(func(s Session) bool { return s.User != "" }))
//		r.Get("/me", me)
//	})
//
// The routes:
//
//	POST /visit          count a visit; gives anonymous visitors a session
//	GET  /visits         the visit count, or 401 Unauthorized without a session
//	POST /login/{name}   sign in as name (a demo: no password)
//	GET  /me             the signed-in user, or 401 Unauthorized
//	POST /me/notes       add a note (form value "note"), signed-in only
//	POST /logout         end the session (the cookie is expired)
//
// A session is not a login: /visit gives anyone a session, and the group
// behind RequireFunc still answers 401 until /login has set User.
//
// The session's ResponseWriter does not buffer and passes Flush, Hijack and
// http.ResponseController through, so streaming handlers and WebSocket
// upgrades work behind chi too: the cookie goes out with the headers, at
// the first Write, WriteHeader or Flush.
//
// Run it with a key from 'sealed keygen --env':
//
//	cd examples/chi
//	SEALED_KEYS=$(go run github.com/sealedcookie/sealed/cmd/sealed keygen --env) go run .
//	curl -c jar -b jar -X POST http://localhost:8080/login/alice
//	curl -c jar -b jar http://localhost:8080/me
//
// Without SEALED_KEYS it uses an ephemeral key, so sessions end when the
// process does.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/sealedcookie/sealed"
)

// Session is what the cookie carries. Keep it small: every request sends it.
type Session struct {
	User   string   `json:"user,omitempty"` // set at login
	Visits int      `json:"visits,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// newSessions returns the session manager, sealing sessions with keys.
func newSessions(keys sealed.KeySource) (*sealed.Manager[Session], error) {
	return sealed.New(keys, sealed.JSON[Session](), sealed.Options{}) // secure defaults
}

// newRouter returns the application.
func newRouter(sessions *sealed.Manager[Session]) *chi.Mux {
	r := chi.NewRouter()
	r.Use(sessions.Handler) // the Manager's middleware is chi middleware as it is

	r.Post("/visit", func(w http.ResponseWriter, r *http.Request) {
		sessions.Update(r.Context(), func(s *Session) { s.Visits++ })
		s, _ := sessions.Get(r.Context())
		writeJSON(w, http.StatusOK, s)
	})
	// Require admits any valid session, anonymous or not.
	r.With(sessions.Require).Get("/visits", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.Get(r.Context())
		writeJSON(w, http.StatusOK, map[string]int{"visits": s.Visits})
	})
	r.Post("/login/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "name")
		if name == "" || len(name) > 64 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a name of 1 to 64 bytes"})
			return
		}
		// A real application checks a password first.
		sessions.Update(r.Context(), func(s *Session) { s.User = name })
		sessions.Renew(r.Context()) // a login starts a new session lifetime
		writeJSON(w, http.StatusOK, map[string]string{"user": name})
	})
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		_, had := sessions.Get(r.Context())
		sessions.Destroy(r.Context())
		writeJSON(w, http.StatusOK, map[string]bool{"ended": had})
	})

	// Signed-in users only. Require would admit any session, including
	// the anonymous one /visit gives; the predicate says what a login is.
	r.Group(func(r chi.Router) {
		r.Use(sessions.RequireFunc(func(s Session) bool { return s.User != "" }))
		r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
			s, _ := sessions.Get(r.Context())
			writeJSON(w, http.StatusOK, s)
		})
		r.Post("/me/notes", func(w http.ResponseWriter, r *http.Request) {
			note := r.FormValue("note")
			if note == "" || len(note) > 200 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a note of 1 to 200 bytes"})
				return
			}
			sessions.Update(r.Context(), func(s *Session) { s.Notes = append(s.Notes, note) })
			s, _ := sessions.Get(r.Context())
			writeJSON(w, http.StatusOK, s)
		})
	})
	return r
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// loadKeys reads the key ring from $SEALED_KEYS ("id:secret,...", the first
// key seals) or, without it, generates a key that lives only in memory.
func loadKeys() (*sealed.KeyRing, error) {
	if v := os.Getenv("SEALED_KEYS"); v != "" {
		return sealed.ParseKeyRing(v)
	}
	log.Print("SEALED_KEYS is not set: using an ephemeral key (sessions end with the process)")
	key, err := sealed.GenerateKey("ephemeral")
	if err != nil {
		return nil, err
	}
	return sealed.NewKeyRing(key)
}

func main() {
	addr := flag.String("addr", "localhost:8080", "listen address")
	flag.Parse()
	keys, err := loadKeys()
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := newSessions(keys)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/", *addr)
	srv := &http.Server{Addr: *addr, Handler: newRouter(sessions), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
