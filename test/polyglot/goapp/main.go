// Command goapp is the Go service of the polyglot test (test/polyglot/run.sh):
// a sealed.Manager storing a JSON object, its keys in a JWKS file that
// jwks.Watch reloads. The FastAPI service (../pyapp) and the Node service
// (../nodeapp) serve the same endpoints on the same key file:
//
//	GET    /keys            {"runtime", "primary", "ids"}: the ring in use
//	POST   /login/{user}    a new session {"user": user}, renewed, with a welcome flash
//	GET    /session         the session: {"runtime", "session", "keyId", "stale", "id", "subject", "error"}
//	POST   /session/{key}   sets key to the JSON body; answers as GET /session
//	DELETE /session/{key}   removes key; answers as GET /session
//	POST   /flash?message=  adds a flash message
//	GET    /flashes         {"flashes"}: takes the flash messages
//	POST   /logout          ends the session
//
// Every answer has the header X-Sealed-Runtime: go, and X-Sealed-Error with
// the class of the error the Manager reported for the request's session
// cookie ("invalid", "unknown_key", ...), if any. Cookies are not Secure
// (DisableSecure): the test talks plain http to nginx on 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

type session = map[string]any

// errKey keys the request's *reported in its context: OnError records the
// class of the session cookie's error there, and the handler sends it.
type errKey struct{}

type reported struct {
	mu    sync.Mutex
	class string
}

func (r *reported) get() string { r.mu.Lock(); defer r.mu.Unlock(); return r.class }

// class names a Manager error as the Python and TypeScript packages name
// their error kinds.
func class(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{
		{sealed.ErrTooLarge, "too_large"},
		{sealed.ErrMalformed, "malformed"},
		{sealed.ErrUnknownKey, "unknown_key"},
		{sealed.ErrInvalid, "invalid"},
		{sealed.ErrExpired, "expired"},
		{sealed.ErrRejected, "rejected"},
		{sealed.ErrHeadersWritten, "headers_written"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "error"
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	jwksFile := flag.String("jwks", "", "JWKS key file, reloaded when it changes")
	interval := flag.Duration("reload", 200*time.Millisecond, "key file poll interval")
	flag.Parse()
	log.SetPrefix("goapp: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keys, err := jwks.Watch(ctx, *jwksFile, jwks.WatchOptions{
		Interval: *interval,
		OnChange: func(r *sealed.KeyRing) { log.Printf("keys reloaded: %s", r) },
		OnError:  func(err error) { log.Print(err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	m, err := sealed.New(keys, sealed.JSON[session](), sealed.Options{
		DisableSecure: true,
		OnError: func(ctx context.Context, err error) {
			if r, ok := ctx.Value(errKey{}).(*reported); ok {
				r.mu.Lock()
				r.class = class(err)
				r.mu.Unlock()
			}
			log.Printf("session cookie: %v", err)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	m.Subject = func(v session) string { s, _ := v["user"].(string); return s }

	// reply sends v as JSON with the runtime and the reported error class.
	reply := func(w http.ResponseWriter, r *http.Request, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Sealed-Runtime", "go")
		if c := r.Context().Value(errKey{}).(*reported).get(); c != "" {
			w.Header().Set("X-Sealed-Error", c)
		}
		if err := json.NewEncoder(w).Encode(v); err != nil {
			log.Print(err)
		}
	}
	describe := func(w http.ResponseWriter, r *http.Request) {
		v, has := m.Get(r.Context())
		info, _ := m.Info(r.Context())
		out := map[string]any{"runtime": "go", "session": nil, "keyId": "", "stale": false, "id": "", "subject": "", "error": nil}
		if has {
			out["session"], out["keyId"], out["stale"] = v, info.KeyID, info.Stale
			out["id"], out["subject"] = info.ID.String(), info.Subject
		}
		if c := r.Context().Value(errKey{}).(*reported).get(); c != "" {
			out["error"] = c
		}
		reply(w, r, out)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		ring := keys.Current()
		var ids []string
		for _, k := range ring.Keys() {
			ids = append(ids, k.ID())
		}
		reply(w, r, map[string]any{"runtime": "go", "primary": ring.Primary().ID(), "ids": ids})
	})
	mux.HandleFunc("POST /login/{user}", func(w http.ResponseWriter, r *http.Request) {
		user := r.PathValue("user")
		m.Put(r.Context(), session{"user": user})
		m.Renew(r.Context())
		m.Flash(r.Context(), "Welcome, "+user+"!")
		describe(w, r)
	})
	mux.HandleFunc("GET /session", describe)
	mux.HandleFunc("POST /session/{key}", func(w http.ResponseWriter, r *http.Request) {
		var body any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m.Update(r.Context(), func(v *session) {
			if *v == nil {
				*v = session{}
			}
			(*v)[r.PathValue("key")] = body
		})
		describe(w, r)
	})
	mux.HandleFunc("DELETE /session/{key}", func(w http.ResponseWriter, r *http.Request) {
		m.Update(r.Context(), func(v *session) {
			if *v == nil {
				*v = session{}
			}
			delete(*v, r.PathValue("key"))
		})
		describe(w, r)
	})
	mux.HandleFunc("POST /flash", func(w http.ResponseWriter, r *http.Request) {
		m.Flash(r.Context(), r.URL.Query().Get("message"))
		reply(w, r, map[string]any{"runtime": "go", "ok": true})
	})
	mux.HandleFunc("GET /flashes", func(w http.ResponseWriter, r *http.Request) {
		msgs := m.Flashes(r.Context())
		if msgs == nil {
			msgs = []string{}
		}
		reply(w, r, map[string]any{"runtime": "go", "flashes": msgs})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Destroy(r.Context())
		reply(w, r, map[string]any{"runtime": "go", "ok": true})
	})

	sessions := m.Handler(mux)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), errKey{}, &reported{})))
	})
	srv := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Printf("listening on %s, keys %s", *addr, *jwksFile)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
