// Command basic is the smallest complete sealed application: the three
// flows people copy from FastAPI-Sessions, with the whole session in an
// encrypted cookie instead of a backend.
//
//	POST /create_session/{name}  start a session for name
//	GET  /whoami                 the session, or 401 Unauthorized without one
//	POST /delete_session         end the session (the cookie is expired)
//
// Run it with a key from 'sealed keygen --env':
//
//	SEALED_KEYS=$(go run ./cmd/sealed keygen --env) go run ./examples/basic
//	curl -c jar -b jar -X POST http://localhost:8080/create_session/alice
//	curl -c jar -b jar http://localhost:8080/whoami
//
// Without SEALED_KEYS it uses an ephemeral key, so sessions end when the
// process does. Recent curl, like browsers, keeps Secure cookies for
// http://localhost.
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

// Session is what the cookie carries. Keep it small: every request sends it.
type Session struct {
	Name string `json:"name"`
}

// newServer returns the application, sealing sessions with keys.
func newServer(keys sealed.KeySource) (http.Handler, error) {
	m, err := sealed.New(keys, sealed.JSON[Session](), sealed.Options{}) // secure defaults
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /create_session/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if len(name) > 64 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "name is longer than 64 bytes"})
			return
		}
		m.Put(r.Context(), Session{Name: name})
		m.Renew(r.Context()) // a login starts a new session: new issue time and deadline
		writeJSON(w, http.StatusOK, map[string]string{"created": name})
	})
	// RequireFunc answers 401 Unauthorized unless there is a valid session
	// that the predicate accepts: here, one with a name, i.e. a login.
	signedIn := m.RequireFunc(func(s Session) bool { return s.Name != "" })
	mux.Handle("GET /whoami", signedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Get(r.Context())
		writeJSON(w, http.StatusOK, s)
	})))
	mux.HandleFunc("POST /delete_session", func(w http.ResponseWriter, r *http.Request) {
		_, had := m.Get(r.Context())
		m.Destroy(r.Context())
		writeJSON(w, http.StatusOK, map[string]bool{"deleted": had})
	})
	return m.Handler(mux), nil
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
	h, err := newServer(keys)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/", *addr)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
