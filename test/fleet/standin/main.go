// Command standin is a minimal session server for the fleet test harness,
// used with FLEET_SERVER=standin until (or instead of) "sealed demo". It
// serves the same endpoints the harness needs:
//
//	GET /session_test  increments the session's counter; {"count": N}
//	GET /debug/sealed  the Sealer's Stats as JSON
//
// It reads its keys from a JWKS file through jwks.Watch.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

type session struct {
	Count int `json:"count"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	jwksFile := flag.String("jwks", "", "JWKS key file, reloaded when it changes")
	lifetime := flag.Duration("lifetime", time.Hour, "absolute session lifetime")
	interval := flag.Duration("reload", time.Second, "key file poll interval")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keys, err := jwks.Watch(ctx, *jwksFile, jwks.WatchOptions{
		Interval: *interval,
		OnChange: func(r *sealed.KeyRing) { log.Printf("%s: keys reloaded: %s", *addr, r) },
		OnError:  func(err error) { log.Printf("%s: %v", *addr, err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	m, err := sealed.New(keys, sealed.JSON[session](), sealed.Options{Lifetime: *lifetime, DisableSecure: true})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /session_test", func(w http.ResponseWriter, r *http.Request) {
		var n int
		m.Update(r.Context(), func(s *session) { s.Count++; n = s.Count })
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(session{Count: n})
	})
	mux.HandleFunc("GET /debug/sealed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m.Stats())
	})
	srv := &http.Server{Addr: *addr, Handler: m.Handler(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
