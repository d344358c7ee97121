// Command server serves the HTTP throughput comparison of
// docs/PERFORMANCE.md (bench/http/run.sh drives it with wrk). One handler,
// which greets the session's user, runs behind one of three session layers:
//
//	-mode none     no session: the handler uses a fixed user and ignores the
//	               Cookie header the client still sends
//	-mode sealed   sealed's middleware (Manager.Handler, Manager.Get) with
//	               its default codec, JSON
//	-mode sealed-binary  the same with sealed.Binary and a hand-written
//	               encoding (bench.SmallBin)
//	-mode gorilla  gorilla/sessions' CookieStore (store.Get), as documented
//
// GET /login sets a session (the bench's Small session) and returns its
// Set-Cookie; GET / reads it and greets the user. Reading never writes a
// cookie in either session mode.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/gorilla/sessions"
	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/bench"
)

const usage = `usage: server -mode none|sealed|sealed-revoke|sealed-binary|gorilla [-addr 127.0.0.1:8080]

Serves GET /login (sets a session) and GET / (reads it and greets the user).
`

func main() {
	log.SetFlags(0)
	mode := flag.String("mode", "", "session layer: none, sealed, sealed-revoke (with a revocation store), sealed-binary or gorilla")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback only)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until SIGINT or SIGTERM")
	memprofile := flag.String("memprofile", "", "write an allocation profile (every allocation sampled) to this file at SIGINT or SIGTERM")
	flag.Usage = func() { fmt.Fprint(os.Stderr, usage); flag.PrintDefaults() }
	flag.Parse()
	h, err := handler(*mode)
	if err != nil {
		log.Print(err)
		flag.Usage()
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		log.Fatalf("server: %v is not a loopback address", ip)
	}
	if *memprofile != "" {
		runtime.MemProfileRate = 1
	}
	if *cpuprofile != "" || *memprofile != "" {
		var cpu *os.File
		if *cpuprofile != "" {
			if cpu, err = os.Create(*cpuprofile); err != nil {
				log.Fatal(err)
			}
			if err := pprof.StartCPUProfile(cpu); err != nil {
				log.Fatal(err)
			}
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-sig
			if cpu != nil {
				pprof.StopCPUProfile()
				cpu.Close()
			}
			if *memprofile != "" {
				f, err := os.Create(*memprofile)
				if err != nil {
					log.Fatal(err)
				}
				if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
					log.Fatal(err)
				}
				f.Close()
			}
			os.Exit(0)
		}()
	}
	log.Printf("server: mode %s on http://%s", *mode, ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// greet is the application: the same work in every mode.
func greet(w http.ResponseWriter, s bench.Small) {
	var b bytes.Buffer
	b.WriteString("hello ")
	b.WriteString(s.Email)
	b.WriteString(" (user ")
	b.WriteString(strconv.FormatInt(s.UserID, 10))
	b.WriteString(", ")
	b.WriteString(strconv.Itoa(len(s.Roles)))
	b.WriteString(" roles)\n")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}

func handler(mode string) (http.Handler, error) {
	mux := http.NewServeMux()
	switch mode {
	case "none":
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { greet(w, bench.NewSmall()) })
		mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { greet(w, bench.NewSmall()) })
		return mux, nil

	case "sealed":
		same := func(s bench.Small) bench.Small { return s }
		return sealedApp(mux, sealed.JSON[bench.Small](), same, same, nil, nil)
	case "sealed-revoke":
		// Revocation on: every read checks a store holding 100,000 live
		// revocations, half per session, half per user, as a busy fleet's
		// mirror would.
		store := sealed.NewMemoryStore(nil)
		exp := time.Now().Add(24 * time.Hour)
		for i := range 50_000 {
			var id sealed.SessionID
			binary.BigEndian.PutUint64(id[:], uint64(i)+1)
			store.Revoke(context.Background(), sealed.Revocation{Session: id, Expires: exp})
			store.Revoke(context.Background(), sealed.Revocation{Subject: "user-" + strconv.Itoa(i), NotBefore: time.Now(), Expires: exp})
		}
		same := func(s bench.Small) bench.Small { return s }
		return sealedApp(mux, sealed.JSON[bench.Small](), same, same, store,
			func(s bench.Small) string { return strconv.FormatInt(s.UserID, 10) })
	case "sealed-binary":
		return sealedApp(mux, sealed.Binary[bench.SmallBin](),
			func(s bench.SmallBin) bench.Small { return bench.Small(s) },
			func(s bench.Small) bench.SmallBin { return bench.SmallBin(s) }, nil, nil)
	case "gorilla":
		gob.Register(time.Time{})
		store := sessions.NewCookieStore(bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32))
		store.Options.Secure = false
		store.Options.HttpOnly = true
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			sess, err := store.Get(r, "session")
			uid, ok := sess.Values["uid"].(int64)
			if err != nil || !ok {
				http.Error(w, "no session", http.StatusUnauthorized)
				return
			}
			s := bench.Small{UserID: uid}
			s.Email, _ = sess.Values["email"].(string)
			s.Roles, _ = sess.Values["roles"].([]string)
			s.CSRF, _ = sess.Values["csrf"].(string)
			s.IssuedAt, _ = sess.Values["iat"].(time.Time)
			s.ExpiresAt, _ = sess.Values["exp"].(time.Time)
			greet(w, s)
		})
		mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
			s := bench.NewSmall()
			sess, _ := store.Get(r, "session")
			sess.Values["uid"], sess.Values["email"], sess.Values["roles"] = s.UserID, s.Email, s.Roles
			sess.Values["csrf"], sess.Values["iat"], sess.Values["exp"] = s.CSRF, s.IssuedAt, s.ExpiresAt
			if err := sess.Save(r, w); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			greet(w, s)
		})
		return mux, nil
	}
	return nil, fmt.Errorf("server: unknown mode %q", mode)
}

// sealedApp serves the application with sessions in a sealed Manager whose
// codec stores T, a representation of bench.Small (toSmall and fromSmall
// convert), checking revocations in the store, if not nil, by subject.
func sealedApp[T any](mux *http.ServeMux, codec sealed.Codec[T], toSmall func(T) bench.Small, fromSmall func(bench.Small) T,
	revocations sealed.RevocationStore, subject func(T) string) (http.Handler, error) {
	key, err := sealed.NewKey("k1", bytes.Repeat([]byte{1}, sealed.KeySize))
	if err != nil {
		return nil, err
	}
	ring, _ := sealed.NewKeyRing(key)
	m, err := sealed.New(ring, codec, sealed.Options{DisableSecure: true, Revocations: revocations})
	if err != nil {
		return nil, err
	}
	m.Subject = subject
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s, ok := m.Get(r.Context())
		if !ok {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		greet(w, toSmall(s))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := bench.NewSmall()
		m.Put(r.Context(), fromSmall(s))
		greet(w, s)
	})
	return m.Handler(mux), nil
}
