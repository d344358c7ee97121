package redisstore

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests run against real redis-server processes (Debian's
// redis-server package), never a mock. Without redis-server they skip,
// unless SEALED_REDIS=1 (as .ci/run sets), when they fail.

const redisHint = "redis-server is not installed (Debian: apt-get install redis-server)"

// redisServerPath returns the path of redis-server, or skips tb (fails it
// with SEALED_REDIS=1).
func redisServerPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SEALED_REDIS") == "1" {
			tb.Fatal(redisHint + " and SEALED_REDIS=1 forbids skipping")
		}
		tb.Skip(redisHint + " (SEALED_REDIS=1 makes this fatal)")
	}
	return p
}

// A redisServer is one redis-server process on a loopback port of its own,
// with its files in a temporary directory and no persistence unless asked.
// It can be killed and restarted on the same port, to make an outage.
type redisServer struct {
	tb     testing.TB
	bin    string
	dir    string
	port   int
	extra  []string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startRedis starts a redis-server for tb, stopped when tb ends. extra
// arguments are added to the command line.
func startRedis(tb testing.TB, extra ...string) *redisServer {
	tb.Helper()
	r := &redisServer{tb: tb, bin: redisServerPath(tb), dir: tb.TempDir(), port: freePort(tb), extra: extra}
	if err := r.start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Kill)
	return r
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (r *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server and waits until it answers PING.
func (r *redisServer) start() error {
	args := append([]string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--daemonize", "no",
		"--logfile", filepath.Join(r.dir, "redis.log"),
	}, r.extra...)
	cmd := exec.Command(r.bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	r.cmd, r.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(r.exited)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-r.exited:
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			return fmt.Errorf("redis-server exited at start:\n%s", log)
		default:
		}
		if ping(r.Addr()) {
			return nil
		}
	}
	r.Kill()
	return fmt.Errorf("redis-server on %s did not answer within 10s", r.Addr())
}

// ping reports whether a Redis server on addr answers PING.
func ping(addr string) bool {
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

// Kill kills the server (SIGKILL: no shutdown, no save) and waits for it.
func (r *redisServer) Kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// Restart starts the server again on the same port: with the default
// arguments (no persistence), empty.
func (r *redisServer) Restart() {
	r.tb.Helper()
	if err := r.start(); err != nil {
		r.tb.Fatal(err)
	}
}

// Client returns a new client of the server, closed when the test ends.
func (r *redisServer) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	r.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// TestMain starts one server for the examples, which find it in
// REDIS_ADDR (unless REDIS_ADDR is set already). Without redis-server the
// examples are skipped: with SEALED_REDIS=1 the tests fail instead.
func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("REDIS_ADDR") != "" || flag.Lookup("test.fuzzworker").Value.String() == "true" {
		return m.Run()
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skip := "^Example"
		if f := flag.Lookup("test.skip"); f.Value.String() != "" {
			skip = f.Value.String() + "|" + skip
		}
		_ = flag.Set("test.skip", skip)
		fmt.Fprintln(os.Stderr, "redisstore: examples skipped: "+redisHint)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "redisstore")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r := &redisServer{bin: bin, dir: dir, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	if err := r.start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Kill()
	os.Setenv("REDIS_ADDR", r.Addr())
	return m.Run()
}
