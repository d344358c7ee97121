package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// demoTestRing returns a fresh ring with one key, "demo-test".
func demoTestRing(t *testing.T) *sealed.KeyRing {
	t.Helper()
	return sealedtest.NewKeyRing(t, "demo-test")
}

// The demo's flows end to end, with a client that keeps cookies like a
// browser (the browser test repeats them in Chromium).
func TestDemoFlows(t *testing.T) {
	var errs sealedtest.ErrorLog
	h, err := newDemoHandler(demoTestRing(t), sealed.Options{OnError: errs.OnError})
	if err != nil {
		t.Fatal(err)
	}
	c := sealedtest.NewClient(t, h)
	call := func(method, path string, wantCode int) map[string]any {
		t.Helper()
		resp, body := c.Do(method, path)
		if resp.StatusCode != wantCode {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, body, wantCode)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil && wantCode == http.StatusOK {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return v
	}
	cookieNames := func() []string { return slices.Sorted(maps.Keys(c.Cookies())) }

	if _, page := c.Do("GET", "/"); !strings.Contains(page, "<title>sealed demo</title>") {
		t.Errorf("page: %.100s", page)
	}
	call("GET", "/whoami", 401)
	call("POST", "/create_session/alice", 200)
	if v := call("GET", "/whoami", 200); v["name"] != "alice" {
		t.Errorf("whoami = %v", v)
	}
	for i := 1; i <= 3; i++ {
		if v := call("GET", "/session_test", 200); v["counter"] != float64(i) {
			t.Errorf("counter = %v, want %d", v["counter"], i)
		}
	}
	sum := sha256.Sum256([]byte(demoBlob(7000)))
	if v := call("POST", "/big/7000", 200); v["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("big = %v", v)
	}
	if got := cookieNames(); !slices.Equal(got, []string{"session.0", "session.1", "session.2"}) {
		t.Errorf("cookies for a 7000-byte session: %q", got)
	}
	if v := call("GET", "/big", 200); v["len"] != float64(7000) || v["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("read big = %v", v)
	}
	if v := call("GET", "/flash", 200); !slices.Equal(v["flashes"].([]any), []any{"Welcome, alice!"}) {
		t.Errorf("flash = %v", v)
	}
	if v := call("GET", "/flash", 200); len(v["flashes"].([]any)) != 0 {
		t.Errorf("flash read twice = %v", v)
	}
	call("POST", "/big/100000", 413)
	if v := call("POST", "/delete_session", 200); v["deleted"] != true {
		t.Errorf("delete = %v", v)
	}
	if got := cookieNames(); len(got) != 0 {
		t.Errorf("cookies after delete: %q", got)
	}
	call("GET", "/whoami", 401)
	if errs := errs.Take(); len(errs) != 0 {
		t.Errorf("OnError: %v", errs)
	}
}

// The page's default "big session" must reach the server whole through
// clients and proxies that cap the Cookie header at 8 KB (curl sends at most
// 8,190 bytes of cookies and silently leaves the rest out, which lost the
// session with the old 7,000-byte default), and the page must say how much
// the session holds and up to what size the header stays under 8 KB.
func TestDemoDefaultBigSessionFitsCookieHeader(t *testing.T) {
	h, err := newDemoHandler(demoTestRing(t), sealed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lastCookie []string // the Cookie header lines of the last request
	c := sealedtest.NewClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastCookie = r.Header.Values("Cookie")
		h.ServeHTTP(w, r)
	}))
	call := func(method, path string) (int, map[string]any) {
		t.Helper()
		resp, body := c.Do(method, path)
		var v map[string]any
		json.Unmarshal([]byte(body), &v)
		return resp.StatusCode, v
	}
	// cookieLine stores a session of n bytes, as large as the demo's other
	// fields allow (the longest name, an unread flash, a counter), and
	// returns the Cookie header line the client sends back with it.
	cookieLine := func(n int) (line int, cookies int) {
		t.Helper()
		call("POST", "/delete_session")
		call("POST", "/create_session/"+strings.Repeat("n", 64))
		call("GET", "/session_test")
		if code, v := call("POST", "/big/"+strconv.Itoa(n)); code != 200 {
			t.Fatalf("POST /big/%d: %d %v", n, code, v)
		}
		if code, v := call("GET", "/big"); code != 200 || v["len"] != float64(n) {
			t.Fatalf("GET /big after storing %d bytes: %d %v (session lost)", n, code, v)
		}
		if len(lastCookie) != 1 {
			t.Fatalf("%d Cookie header lines, want 1", len(lastCookie))
		}
		return len("Cookie: ") + len(lastCookie[0]) + len("\r\n"), strings.Count(lastCookie[0], "; ") + 1
	}

	_, page := c.Do("GET", "/")
	number := func(re string) int {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("page lacks %s:\n%s", re, page)
		}
		n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	def := number(`id="n" value="(\d+)"`)
	maxLen := number(`hold up to <strong>([\d,]+) bytes</strong>`)
	fit := number(`Up to <strong>([\d,]+) bytes</strong>, the Cookie header\s+stays under 8 KB \(8,192 bytes\)`)
	shownHeader := number(`at most ([\d,]+) bytes of\s+Cookie header`)

	line, cookies := cookieLine(def)
	t.Logf("default %d bytes: %d cookies, Cookie header line %d bytes; fits up to %d, holds up to %d", def, cookies, line, fit, maxLen)
	if line > demoCookieHeaderLimit {
		t.Errorf("default big session of %d bytes: Cookie header line of %d bytes, over %d", def, line, demoCookieHeaderLimit)
	}
	if cookies != 2 {
		t.Errorf("default big session of %d bytes takes %d cookies; want 2, to show chunking", def, cookies)
	}
	if line > shownHeader {
		t.Errorf("the page says at most %d bytes of Cookie header for the default; the client sent %d", shownHeader, line)
	}
	if def > fit {
		t.Errorf("default %d is over the size the page says fits in 8 KB, %d", def, fit)
	}

	// The page's numbers are right: the fit fits, and is not far below the
	// real limit (it is rounded down to a hundred); the maximum is what
	// POST /big accepts.
	if line, _ := cookieLine(fit); line > demoCookieHeaderLimit {
		t.Errorf("page says %d bytes fit in 8 KB; their Cookie header line is %d bytes", fit, line)
	}
	if line, _ := cookieLine(fit + 300); line <= demoCookieHeaderLimit {
		t.Errorf("page says %d bytes fit in 8 KB, but %d do too (%d bytes): the number is too cautious", fit, fit+300, line)
	}
	cookieLine(maxLen)
	if code, _ := call("POST", "/big/"+strconv.Itoa(maxLen+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /big/%d: %d, want 413: the page's maximum is wrong", maxLen+1, code)
	}
	// Measuring the limits left no trace in the counters.
	var stats struct{ TooLarge int }
	if _, body := c.Do("GET", "/debug/sealed"); json.Unmarshal([]byte(body), &stats) != nil || stats.TooLarge != 0 {
		t.Errorf("Stats().TooLarge = %d after requests that all fit (%s)", stats.TooLarge, body)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 11911: "11,911", 1234567: "1,234,567", -4096: "-4,096"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the demo's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDemoCommand(t *testing.T) {
	t.Run("bad SEALED_KEYS", func(t *testing.T) {
		t.Setenv("SEALED_KEYS", "k1:c2VjcmV0")
		var stdout, stderr syncBuffer
		if code := run([]string{"demo"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "SEALED_KEYS") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
		if strings.Contains(stderr.String(), "c2VjcmV0") {
			t.Error("the error shows the secret")
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		var stdout, stderr syncBuffer
		if code := run([]string{"demo", "-port", "1"}, &stdout, &stderr); code != 2 {
			t.Errorf("exit %d", code)
		}
	})
	for _, tc := range []struct {
		name, keys, want string
	}{
		{"ephemeral", "", "sessions die with this process"},
		{"SEALED_KEYS", sealed.FormatKeyRing(demoTestRing(t)), "keys from SEALED_KEYS: sealed.KeyRing(demo-test)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SEALED_KEYS", tc.keys)
			base, stdout := startDemo(t, "-addr", "127.0.0.1:0")
			if !strings.Contains(stdout.String(), tc.want) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.want)
			}
			if tc.keys != "" && strings.Contains(stdout.String(), tc.keys[strings.Index(tc.keys, ":")+1:]) {
				t.Error("stdout shows the secret")
			}
			resp, err := http.Post(base+"create_session/bob", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "; Secure") {
				t.Errorf("create_session: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
			}
		})
	}
}

// startDemo runs 'sealed demo' with args until the test ends, and returns
// the URL it serves and its standard output. At the end it stops the demo
// the way a signal would and checks that it exits with 0.
func startDemo(t *testing.T, args ...string) (base string, stdout *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	old := demoContext
	demoContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	stdout = new(syncBuffer)
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(append([]string{"demo"}, args...), stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-code:
			if c != 0 {
				t.Errorf("demo exit %d, stderr %q", c, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("demo did not stop")
		}
		demoContext = old
	})
	re := regexp.MustCompile(`serving (http://localhost:\d+/)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stdout
		}
	}
	t.Fatalf("no URL printed: %q %q", stdout.String(), stderr.String())
	return "", nil
}
