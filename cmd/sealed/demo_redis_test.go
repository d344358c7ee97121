package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// The -redis tests run the demo against a real redis-server (Debian's
// redis-server package). Without it they skip, unless SEALED_REDIS=1 (as
// .ci/run sets), when they fail.

// A testRedis is one redis-server process on a loopback port of its own,
// without persistence, that can be killed and started again on the same
// port (empty) to make an outage.
type testRedis struct {
	t      *testing.T
	bin    string
	dir    string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
}

// startTestRedis starts a redis-server for t, killed when t ends.
func startTestRedis(t *testing.T) *testRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		const hint = "redis-server is not installed (Debian: apt-get install redis-server)"
		if os.Getenv("SEALED_REDIS") == "1" {
			t.Fatal(hint + " and SEALED_REDIS=1 forbids skipping")
		}
		t.Skip(hint + " (SEALED_REDIS=1 makes this fatal)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &testRedis{t: t, bin: bin, dir: t.TempDir(), port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

func (r *testRedis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// Start runs redis-server and waits until it answers PING.
func (r *testRedis) Start() {
	r.t.Helper()
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--daemonize", "no",
		"--logfile", filepath.Join(r.dir, "redis.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.cmd, r.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(r.exited)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-r.exited:
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.t.Fatalf("redis-server exited at start:\n%s", log)
		default:
		}
		if redisPing(r.Addr()) {
			return
		}
	}
	r.Kill()
	r.t.Fatalf("redis-server on %s did not answer within 10s", r.Addr())
}

// Kill kills the server (SIGKILL: no shutdown, no save) and waits for it.
func (r *testRedis) Kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// redisPing reports whether a Redis server on addr answers PING.
func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// testLog is a logf for the demo's Redis store that writes to t until t
// ends (the store's goroutines may outlive it briefly).
func testLog(t *testing.T) func(string, ...any) {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() { mu.Lock(); done = true; mu.Unlock() })
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Logf(format, args...)
		}
	}
}

// demoRedisInstance is one demo instance with its own Store on r, as
// `sealed demo -redis` builds it.
func demoRedisInstance(t *testing.T, r *testRedis, keys sealed.KeySource) (http.Handler, *demoRedis) {
	t.Helper()
	store, err := openDemoRedis(r.Addr(), 0, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	h, err := newDemoHandler(keys, sealed.Options{Revocations: store, OnError: (&sealedtest.ErrorLog{}).OnError})
	if err != nil {
		t.Fatal(err)
	}
	return h, store
}

// redisDebug is what GET /debug/sealed answers with -redis.
type redisDebug struct {
	Revoked     uint64
	Revocations struct {
		Store, Addr                       string
		Size, Pending                     int
		Connected                         bool
		Published, Received, Reconnects   uint64
		Staleness                         time.Duration
		StalenessSeconds, MaxStaleSeconds float64
	}
}

func debugRedis(t *testing.T, c *sealedtest.Client) redisDebug {
	t.Helper()
	resp, body := c.Do("GET", "/debug/sealed")
	var st redisDebug
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /debug/sealed: %d %s (%v)", resp.StatusCode, body, err)
	}
	return st
}

// Two demo instances, each with its own Redis store on one redis-server,
// keep the revocation contract: what one revokes, the other refuses.
func TestDemoRedisRevocation(t *testing.T) {
	r := startTestRedis(t)
	keys := demoTestRing(t)
	a, _ := demoRedisInstance(t, r, keys)
	b, _ := demoRedisInstance(t, r, keys)
	demoRevocationContract(t, a, b)

	// The counters: a published the revocations (every one was made there),
	// b received them and refused the copies; both are connected and fresh.
	stA, stB := debugRedis(t, device(t, a, "curl/8.0")), debugRedis(t, device(t, b, "curl/8.0"))
	if stA.Revocations.Published < 4 || stB.Revocations.Received < 4 || stB.Revoked == 0 {
		t.Errorf("/debug/sealed: a %+v, b %+v: want a's revocations published by a, received by b, and copies refused by b", stA, stB)
	}
	for _, st := range []redisDebug{stA, stB} {
		rs := st.Revocations
		// At least 3 entries: the two sessions revoked by ID, and alice's
		// subject entry (sign out everywhere replaces sign out others').
		if rs.Store != "redis" || rs.Addr != r.Addr() || !rs.Connected || rs.Size < 3 || rs.Pending != 0 ||
			rs.StalenessSeconds > 5 || rs.MaxStaleSeconds != 60 || rs.Staleness.Seconds() != rs.StalenessSeconds {
			t.Errorf("/debug/sealed: %+v", st)
		}
	}
}

// While Redis is down, a sign-out answers 202 and holds on its instance at
// once; the device list answers 503; the other instance learns the
// revocation once Redis is back (empty: no persistence).
func TestDemoRedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: an outage takes a few seconds")
	}
	r := startTestRedis(t)
	keys := demoTestRing(t)
	a, storeA := demoRedisInstance(t, r, keys)
	b, storeB := demoRedisInstance(t, r, keys)
	login := func(h http.Handler, name string) *sealedtest.Client {
		c := device(t, h, "curl/8.0")
		if code := status(c, "POST", "/create_session/"+name); code != 200 {
			t.Fatalf("login %s: %d", name, code)
		}
		return c
	}
	alice, bob, carol := login(a, "alice"), login(b, "bob"), login(a, "carol")
	// Copies of the cookies, as a thief would keep them, on each instance.
	aliceCopyA, aliceCopy, bobCopy := device(t, a, "curl/8.0"), device(t, b, "curl/8.0"), device(t, a, "curl/8.0")
	copyCookies(aliceCopyA, alice)
	copyCookies(aliceCopy, alice)
	copyCookies(bobCopy, bob)

	r.Kill()
	down := time.Now()
	var answer map[string]any
	resp, body := alice.Do("POST", "/delete_session")
	took := time.Since(down)
	if err := json.Unmarshal([]byte(body), &answer); err != nil || resp.StatusCode != 202 ||
		answer["queued"] != true || answer["note"] != demoQueuedNote || answer["deleted"] != true {
		t.Fatalf("logout while Redis is down: %d %s, want 202 with a note", resp.StatusCode, body)
	}
	t.Logf("logout as Redis died: 202 after %v", took.Round(time.Millisecond))
	if code := status(aliceCopyA, "GET", "/whoami"); code != 401 {
		t.Errorf("a copy of the logged-out cookie on the instance that revoked: %d, want 401", code)
	}
	if code := status(aliceCopy, "GET", "/whoami"); code != 200 {
		t.Errorf("a copy on the other instance, before Redis is back: %d; it cannot know yet (want 200)", code)
	}
	for deadline := time.Now().Add(5 * time.Second); storeA.Stats().(demoRedisStats).Connected || storeB.Stats().(demoRedisStats).Connected; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stores did not notice the outage within 5s")
		}
	}
	t.Logf("%v: both stores noticed the outage", time.Since(down).Round(time.Millisecond))
	start := time.Now()
	resp, body = bob.Do("POST", "/signout_everywhere")
	if resp.StatusCode != 202 || !strings.Contains(body, `"queued":true`) {
		t.Errorf("sign out everywhere while Redis is down: %d %s, want 202", resp.StatusCode, body)
	}
	t.Logf("sign out everywhere once the outage is known: 202 after %v", time.Since(start).Round(time.Millisecond))
	if code := status(carol, "POST", "/signout_others"); code != 202 {
		t.Errorf("sign out other devices while Redis is down: %d, want 202", code)
	}
	if code := status(carol, "GET", "/sessions"); code != 503 {
		t.Errorf("GET /sessions while Redis is down: %d, want 503", code)
	}
	if code := status(carol, "GET", "/session_test"); code != 200 {
		t.Errorf("an untouched session while Redis is down: %d", code)
	}
	time.Sleep(time.Until(down.Add(1500 * time.Millisecond))) // past a ping interval
	if st := debugRedis(t, device(t, b, "curl/8.0")).Revocations; st.Connected || st.Pending == 0 || st.StalenessSeconds < 0.5 {
		t.Errorf("B while Redis is down: %+v, want pending revocations and a growing staleness", st)
	}

	r.Start() // empty
	up := time.Now()
	if code := statusWithin(10*time.Second, aliceCopy, "GET", "/whoami", 401); code != 401 {
		t.Errorf("the logged-out copy on the other instance after Redis is back: %d, want 401", code)
	}
	if code := statusWithin(10*time.Second, bobCopy, "GET", "/whoami", 401); code != 401 {
		t.Errorf("bob's copy on the other instance after Redis is back: %d, want 401", code)
	}
	t.Logf("%v after the restart: both revocations made during the outage hold on both instances", time.Since(up).Round(time.Millisecond))
	for _, c := range []*sealedtest.Client{device(t, a, "curl/8.0"), device(t, b, "curl/8.0")} {
		st := debugRedis(t, c).Revocations
		if !st.Connected || st.Pending != 0 || st.Reconnects == 0 || st.StalenessSeconds > 5 {
			t.Errorf("after Redis is back: %+v", st)
		}
	}
	if code := status(carol, "GET", "/sessions"); code != 200 {
		t.Errorf("GET /sessions after Redis is back: %d", code)
	}
}

// `sealed demo -redis` serves with a Redis store and shows it in
// /debug/sealed; without Redis it does not start.
func TestDemoCommandRedis(t *testing.T) {
	r := startTestRedis(t)
	t.Run("unreachable", func(t *testing.T) {
		var stdout, stderr syncBuffer
		if code := run([]string{"demo", "-addr", "127.0.0.1:0", "-redis", "127.0.0.1:1"}, &stdout, &stderr); code != 1 ||
			!strings.Contains(stderr.String(), "-redis 127.0.0.1:1") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	})
	t.Run("max-stale without redis", func(t *testing.T) {
		var stdout, stderr syncBuffer
		if code := run([]string{"demo", "-redis-max-stale", "30s"}, &stdout, &stderr); code != 2 {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	})
	base, stdout := startDemo(t, "-addr", "127.0.0.1:0", "-redis", r.Addr(), "-redis-max-stale", "30s")
	if want := fmt.Sprintf("revocations shared through Redis at %s; while it is unreachable, trusted for 30s", r.Addr()); !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q lacks %q", stdout.String(), want)
	}
	resp, err := http.Get(base + "debug/sealed")
	if err != nil {
		t.Fatal(err)
	}
	var st redisDebug
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if rs := st.Revocations; err != nil || rs.Store != "redis" || !rs.Connected || rs.MaxStaleSeconds != 30 {
		t.Errorf("/debug/sealed: %+v (%v)", st, err)
	}
}
