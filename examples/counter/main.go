// Command counter is the per-session counter from FastSession's README:
// every request to /session_test increments a number kept in the visitor's
// session. FastSession keeps the number in a server-side store and an id in
// the cookie; here the number itself travels sealed in the cookie, so any
// instance of the server can answer.
//
//	GET /session_test  {"test_counter": n}, n = 1, 2, 3, ... per browser
//
// Run it with 'go run ./examples/counter' and open
// http://localhost:8080/session_test, then reload.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/sealedcookie/sealed"
)

// Session is the counter's session.
type Session struct {
	TestCounter int `json:"test_counter"`
}

// newServer returns the application, sealing sessions with keys.
func newServer(keys sealed.KeySource) (http.Handler, error) {
	m, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /session_test", func(w http.ResponseWriter, r *http.Request) {
		var n int
		// Update starts a session (the zero Session) when there is none,
		// including when the cookie is invalid or expired, like FastSession.
		m.Update(r.Context(), func(s *Session) {
			s.TestCounter++
			n = s.TestCounter
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(Session{TestCounter: n})
	})
	return m.Handler(mux), nil
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
	h, err := newServer(keys)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/session_test", *addr)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
