package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

const demoUsage = `Usage: sealed demo [-addr HOST:PORT] [-jwks FILE] [-lifetime D]
                   [-redis HOST:PORT [-redis-max-stale D]]

Serves a small application that keeps its sessions in sealed cookies, with
a page at / to try it in a browser:

  POST /create_session/{name}  log in as name (a new session)
  GET  /whoami                 the session, or 401 without one
  GET  /session_test           a counter that increments on every request
  POST /delete_session         log out: every session cookie is expired
  POST /big/{n}                store n bytes in the session (split into
                               several cookies when it does not fit one;
                               the page at / says up to how many bytes the
                               Cookie header stays under 8 KB, the most
                               curl and many proxies send)
  GET  /big                    length and SHA-256 of the stored bytes
  GET  /flash                  read and clear the flash messages
  POST /signout_everywhere     revoke every session of this user
  POST /signout_others         revoke every session of this user but this one
  GET  /sessions               this user's sessions (the device list)
  POST /sessions/{id}/revoke   revoke one of this user's sessions
  GET  /debug/sealed           the Manager's Stats counters and the
                               revocation store's, as JSON

The name given at login is the session's subject: the user that
/signout_everywhere, /signout_others and /sessions act for. Logging out
(/delete_session) revokes the session too, so a copy of its cookie taken
before stops working. Revocations and the device list live in this
process's memory, or, with -redis, in Redis, where every demo started with
the same -redis shares them: a sign-out on one instance holds on all of
them (give them the same keys too, with SEALED_KEYS or -jwks).

With -redis, while Redis is unreachable:
  - every instance keeps enforcing the revocations it knows;
  - a sign-out (/delete_session, /signout_everywhere, /signout_others)
    answers 202 Accepted with a note: it holds on this instance at once
    and on the others once Redis is back (the instance queues it in
    memory until then). Those made before the instance notices the
    outage (within two seconds) wait about two seconds on Redis first;
  - the device list, GET /sessions and /sessions/{id}/revoke (which
    looks the ID up in it), answers 503, and the logins made meanwhile
    are missing from it;
  - once the instance has had no complete view of the revocations for
    longer than -redis-max-stale, it refuses every session (fail closed)
    until Redis is back: everyone is logged out and nobody can log in.
Redis must keep its data (run it with persistence): an instance started
after Redis lost its data cannot know the revocations made before.

Keys come from $SEALED_KEYS (id:secret,... as printed by 'sealed keygen
--env'; the first key seals). Without it the demo generates a key that
lives only in memory: sessions die with the process.

The session cookie is Secure. Browsers treat http://localhost and
http://127.0.0.1 as secure contexts and keep Secure cookies there, so the
demo works over plain http on loopback. Served on any other host, it needs
https in front.

Flags:
  -addr HOST:PORT   listen address (default 127.0.0.1:8080)
  -jwks FILE        read keys from the JWKS file FILE instead, reloading it
                    when it changes (see 'sealed rotate')
  -lifetime D       absolute session lifetime (default 24h)
  -redis HOST:PORT  keep revocations and the device list in the Redis server
                    at HOST:PORT, shared with every demo using it (the
                    redisstore module); the demo does not start if Redis
                    does not answer within 10s
  -redis-max-stale D
                    with -redis, how long an instance keeps trusting its copy
                    of the revocations without Redis (default 1m; more
                    than 2s, twice the ping interval)
`

var demoCommand = command{summary: "serve a demo app of the session middleware", run: runDemo}

// demoContext returns the context that stops the demo server; tests replace
// it.
var demoContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8080", "")
	jwksFile := fs.String("jwks", "", "")
	lifetime := fs.Duration("lifetime", 0, "")
	redisAddr := fs.String("redis", "", "")
	maxStale := fs.Duration("redis-max-stale", 0, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, demoUsage)
			return 0
		}
		fmt.Fprintf(stderr, "sealed demo: %v\n\n%s", err, demoUsage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sealed demo: unexpected argument %q\n\n%s", fs.Arg(0), demoUsage)
		return 2
	}
	if *maxStale != 0 && (*redisAddr == "" || *maxStale <= 2*time.Second) {
		fmt.Fprintf(stderr, "sealed demo: -redis-max-stale needs -redis and a duration over 2s (twice the ping interval)\n\n%s", demoUsage)
		return 2
	}
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	var keys sealed.KeySource
	ring, ephemeral, err := demoKeys()
	if *jwksFile != "" {
		ephemeral = false
		var kf *jwks.File
		kf, err = jwks.Watch(context.Background(), *jwksFile, jwks.WatchOptions{
			OnChange: func(r *sealed.KeyRing) { logf("keys reloaded from %s: %s", *jwksFile, r) },
			OnError:  func(err error) { logf("keys: %v (keeping the previous ring)", err) },
		})
		if kf != nil {
			defer kf.Close()
			keys = kf
		}
	} else {
		keys = ring
	}
	if err != nil {
		fmt.Fprintf(stderr, "sealed demo: %v\n", err)
		return 1
	}
	opts := sealed.Options{
		Lifetime: *lifetime,
		OnError:  func(ctx context.Context, err error) { logf("session: %v", err) },
	}
	var store *demoRedis
	if *redisAddr != "" {
		if store, err = openDemoRedis(*redisAddr, *maxStale, logf); err != nil {
			fmt.Fprintf(stderr, "sealed demo: %v\n", err)
			return 1
		}
		defer func() {
			if err := store.Close(); err != nil {
				logf("revocations: %v", err)
			}
		}()
		opts.Revocations = store
	}
	h, err := newDemoHandler(keys, opts)
	if err != nil {
		fmt.Fprintf(stderr, "sealed demo: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "sealed demo: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "sealed demo: serving %s\n", demoURL(ln.Addr()))
	if ephemeral {
		fmt.Fprintf(stdout, "sealed demo: using an ephemeral %s key: sessions die with this process (set SEALED_KEYS to keep them)\n", keys.Current().Primary().Suite())
	} else if *jwksFile != "" {
		fmt.Fprintf(stdout, "sealed demo: keys from %s (reloaded when it changes): %s\n", *jwksFile, keys.Current()) // IDs only
	} else {
		fmt.Fprintf(stdout, "sealed demo: keys from SEALED_KEYS: %s\n", keys.Current()) // IDs only
	}
	if store != nil {
		fmt.Fprintf(stdout, "sealed demo: revocations shared through Redis at %s; while it is unreachable, trusted for %v, then every session is refused\n", store.addr, store.maxStale)
	} else {
		fmt.Fprintln(stdout, "sealed demo: revocations in this process's memory (-redis shares them)")
	}
	ctx, stop := demoContext()
	defer stop()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "sealed demo: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "sealed demo: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// demoKeys reads $SEALED_KEYS or makes an ephemeral key: AES256GCM in FIPS
// 140-only mode, XChaCha20Poly1305 otherwise.
func demoKeys() (ring *sealed.KeyRing, ephemeral bool, err error) {
	if v := os.Getenv("SEALED_KEYS"); v != "" {
		ring, err := sealed.ParseKeyRing(v)
		if err != nil {
			return nil, false, fmt.Errorf("$SEALED_KEYS: %w", err)
		}
		return ring, false, nil
	}
	key, err := sealed.GenerateSuiteKey(defaultSuite(), "demo-"+time.Now().UTC().Format("20060102-150405"))
	if err != nil {
		return nil, false, err
	}
	ring, err = sealed.NewKeyRing(key)
	return ring, true, err
}

// demoURL is the address to open in a browser: "localhost" for loopback,
// which browsers treat as a secure context.
func demoURL(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && (tcp.IP.IsLoopback() || tcp.IP.IsUnspecified()) {
		return "http://localhost:" + strconv.Itoa(tcp.Port) + "/"
	}
	return "http://" + a.String() + "/"
}

// demoSession is the demo application's session.
type demoSession struct {
	Name    string `json:"name,omitempty"`
	Counter int    `json:"counter,omitempty"`
	Big     string `json:"big,omitempty"`
}

// demoDefaultBig is the page's default size for "Store big session": two
// cookies, to show chunking, with a Cookie header of about 6.8 KB, under
// the 8 KB curl and common proxies send and with room for other cookies of
// the host (cookies do not separate ports: every app on localhost adds
// its own).
const demoDefaultBig = 5000

// demoCookieHeaderLimit is the longest Cookie header line, "Cookie: ",
// names, values, "; " separators and CRLF, that the demo calls safe: curl
// sends at most 8,190 bytes of cookies and drops the rest, and nginx's
// default large_client_header_buffers holds header lines of up to 8 KB.
const demoCookieHeaderLimit = 8 << 10

// demoWorstSession is the largest demo session holding n bytes in Big, and
// its unread flash message: the longest name create_session takes, a
// counter in the millions and the login's welcome.
func demoWorstSession(n int) (demoSession, string) {
	name := strings.Repeat("n", 64)
	return demoSession{Name: name, Counter: 9_999_999, Big: demoBlob(n)}, "Welcome, " + name + "!"
}

// demoCookieHeaderLen returns the length of the Cookie header line a client
// sends back for s with flash messages flashes pending, as
// demoCookieHeaderLimit counts it, or -1 if s is too large to save.
func demoCookieHeaderLen(m *sealed.Manager[demoSession], s demoSession, flashes ...string) int {
	ctx := m.LoadHeader(context.Background(), http.Header{})
	m.Put(ctx, s)
	for _, f := range flashes {
		m.Flash(ctx, f)
	}
	h := http.Header{}
	if err := m.SaveHeader(ctx, h); err != nil {
		return -1
	}
	n := len("Cookie: \r\n")
	for i, c := range (&http.Response{Header: h}).Cookies() {
		if i > 0 {
			n += len("; ")
		}
		n += len(c.Name) + len("=") + len(c.Value)
	}
	return n
}

// demoBigLimits returns the largest n that every demo session holding n
// bytes in Big can store (what POST /big/{n} accepts), and the largest for
// which its Cookie header line stays within demoCookieHeaderLimit.
func demoBigLimits(m *sealed.Manager[demoSession]) (maxBig, fitBig int) {
	headerLen := func(n int) int {
		s, flash := demoWorstSession(n)
		return demoCookieHeaderLen(m, s, flash)
	}
	maxBig = lastTrue(m.MaxSessionLen(), func(n int) bool { return headerLen(n) >= 0 })
	fitBig = lastTrue(maxBig, func(n int) bool { l := headerLen(n); return l >= 0 && l <= demoCookieHeaderLimit })
	return maxBig, fitBig
}

// lastTrue returns the largest n in [0, hi] for which ok(n) holds, given
// that ok holds up to some n and not after it; 0 if it never holds.
func lastTrue(hi int, ok func(int) bool) int {
	if ok(hi) {
		return hi
	}
	lo := 0 // ok(lo) holds or lo is 0; ok(hi) does not
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; ok(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// renderDemoPage fills in demoPage's numbers; maxBig and fitBig come from
// demoBigLimits.
func renderDemoPage(m *sealed.Manager[demoSession], maxBig, fitBig int) string {
	s, flash := demoWorstSession(demoDefaultBig)
	return strings.NewReplacer(
		"{{MAX}}", thousands(maxBig),
		"{{FIT}}", thousands(fitBig/100*100), // rounded down: a number to remember
		"{{LIMIT}}", thousands(demoCookieHeaderLimit),
		"{{DEFAULT}}", strconv.Itoa(demoDefaultBig),
		"{{DEFAULT_TEXT}}", thousands(demoDefaultBig),
		"{{DEFAULT_HEADER}}", thousands(demoCookieHeaderLen(m, s, flash)),
	).Replace(demoPage)
}

// thousands formats n with comma separators: 12345 is "12,345".
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// newDemoHandler returns the demo application, keeping sessions sealed with
// keys. opts configures the session cookie (the zero value is the secure
// default).
func newDemoHandler(keys sealed.KeySource, opts sealed.Options) (http.Handler, error) {
	if opts.Revocations == nil {
		opts.Revocations = sealed.NewMemoryStore(opts.Now)
	}
	if opts.Device == nil {
		opts.Device = browserFamily
	}
	onError := opts.OnError
	opts.OnError = func(ctx context.Context, err error) {
		if errs, ok := ctx.Value(demoReports{}).(*[]error); ok {
			*errs = append(*errs, err)
		}
		if onError != nil {
			onError(ctx, err)
		} else {
			slog.Default().WarnContext(ctx, "sealed session", "err", err)
		}
	}
	m, err := sealed.New(keys, sealed.JSON[demoSession](), opts)
	if err != nil {
		return nil, err
	}
	m.Subject = func(s demoSession) string { return s.Name }
	// Measure the limits with a twin of m, so that the trial seals do not
	// show in m's Stats at /debug/sealed nor register sessions.
	probeOpts := opts
	probeOpts.OnError = func(context.Context, error) {}
	probeOpts.Revocations = nil
	probe, err := sealed.New(keys, sealed.JSON[demoSession](), probeOpts)
	if err != nil {
		return nil, err
	}
	probe.Subject = m.Subject
	maxBig, fitBig := demoBigLimits(probe)
	page := renderDemoPage(probe, maxBig, fitBig)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.HandleFunc("POST /create_session/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if name == "" || len(name) > 64 {
			demoJSON(w, http.StatusBadRequest, map[string]string{"error": "name must be 1 to 64 bytes"})
			return
		}
		m.Put(r.Context(), demoSession{Name: name})
		m.Renew(r.Context()) // a login starts a new session
		m.Flash(r.Context(), "Welcome, "+name+"!")
		demoJSON(w, http.StatusOK, map[string]string{"created": name})
	})
	mux.Handle("GET /whoami", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Get(r.Context())
		info, _ := m.Info(r.Context())
		demoJSON(w, http.StatusOK, map[string]any{
			"name": s.Name, "counter": s.Counter, "big": len(s.Big),
			"issued": info.Issued.UTC(), "deadline": info.Deadline.UTC(),
		})
	})))
	mux.HandleFunc("POST /delete_session", func(w http.ResponseWriter, r *http.Request) {
		_, had := m.Get(r.Context())
		// Destroy reports a failure to revoke the session to OnError, which
		// passes it back here through the context (see demoReports).
		var errs []error
		m.Destroy(context.WithValue(r.Context(), demoReports{}, &errs))
		answerRevoke(w, errors.Join(errs...), map[string]any{"deleted": had})
	})
	mux.HandleFunc("GET /debug/sealed", func(w http.ResponseWriter, r *http.Request) {
		demoJSON(w, http.StatusOK, demoStats{Stats: m.Stats(), Revocations: revocationStats(opts.Revocations)})
	})
	addRevocationRoutes(mux, m)
	mux.HandleFunc("GET /session_test", func(w http.ResponseWriter, r *http.Request) {
		var n int
		m.Update(r.Context(), func(s *demoSession) { s.Counter++; n = s.Counter })
		demoJSON(w, http.StatusOK, map[string]int{"counter": n})
	})
	mux.HandleFunc("POST /big/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n > maxBig {
			demoJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "n must be 0 to " + strconv.Itoa(maxBig)})
			return
		}
		b := demoBlob(n)
		m.Update(r.Context(), func(s *demoSession) { s.Big = b })
		sum := sha256.Sum256([]byte(b))
		demoJSON(w, http.StatusOK, map[string]any{"stored": n, "sha256": hex.EncodeToString(sum[:])})
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Get(r.Context())
		sum := sha256.Sum256([]byte(s.Big))
		demoJSON(w, http.StatusOK, map[string]any{"len": len(s.Big), "sha256": hex.EncodeToString(sum[:])})
	})
	mux.HandleFunc("GET /flash", func(w http.ResponseWriter, r *http.Request) {
		msgs := m.Flashes(r.Context())
		if msgs == nil {
			msgs = []string{}
		}
		demoJSON(w, http.StatusOK, map[string][]string{"flashes": msgs})
	})
	return m.Handler(mux), nil
}

// demoReports is the context key under which a handler collects the errors
// the Manager reports to OnError during a call: a *[]error.
type demoReports struct{}

func demoJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// demoBlob returns n bytes of text that neither compresses nor repeats, the
// same for the same n.
func demoBlob(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = alphabet[x%uint64(len(alphabet))]
	}
	return string(b)
}

// demoPage is the page at /; renderDemoPage fills in the {{...}} numbers.
const demoPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sealed demo</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
button { margin: .2rem .4rem .2rem 0; }
pre { background: #f4f4f4; padding: .8rem; white-space: pre-wrap; word-break: break-all; }
</style>
</head>
<body>
<h1>sealed demo</h1>
<p>Sessions live in an encrypted, HttpOnly cookie: the server keeps nothing.
Large sessions are split into <code>session.0</code>, <code>session.1</code>, ...</p>
<p>
<input id="name" value="alice" size="12" aria-label="name">
<button id="create" onclick="call('POST', '/create_session/' + encodeURIComponent(document.getElementById('name').value))">Create session</button>
<button id="whoami" onclick="call('GET', '/whoami')">Who am I?</button>
<button id="counter" onclick="call('GET', '/session_test')">Counter</button>
<button id="flash" onclick="call('GET', '/flash')">Read flash</button>
<button id="delete" onclick="call('POST', '/delete_session')">Delete session</button>
</p>
<p>
<button id="sessions" onclick="call('GET', '/sessions')">My sessions</button>
<button id="others" onclick="call('POST', '/signout_others')">Sign out other devices</button>
<button id="everywhere" onclick="call('POST', '/signout_everywhere')">Sign out everywhere</button>
</p>
<p id="limits">The session can hold up to <strong>{{MAX}} bytes</strong> here,
in up to four cookies. Up to <strong>{{FIT}} bytes</strong>, the Cookie header
stays under 8 KB ({{LIMIT}} bytes), the most that curl and many proxies send or
accept; above that, browsers still send it but curl leaves cookies out (and the
session is lost) and proxies may refuse the request. The default,
{{DEFAULT_TEXT}} bytes, takes two cookies and at most {{DEFAULT_HEADER}} bytes of
Cookie header.</p>
<p>
<input id="n" value="{{DEFAULT}}" size="6" aria-label="bytes">
<button id="big" onclick="call('POST', '/big/' + document.getElementById('n').value)">Store big session</button>
<button id="readbig" onclick="call('GET', '/big')">Read big session</button>
</p>
<pre id="out">Click a button.</pre>
<p>What scripts see of the cookies (<code>document.cookie</code>): <code id="cookies"></code></p>
<script>
async function call(method, path) {
  const resp = await fetch(path, {method: method});
  const body = await resp.text();
  document.getElementById('out').textContent = method + ' ' + path + '\n' + resp.status + ' ' + resp.statusText + '\n' + body;
  showCookies();
}
function showCookies() {
  document.getElementById('cookies').textContent = JSON.stringify(document.cookie);
}
showCookies();
</script>
</body>
</html>
`
