package migrate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/migrate"
	"github.com/sealedcookie/sealed/compat/starlette"
	"github.com/sealedcookie/sealed/internal/peertest"
	"github.com/sealedcookie/sealed/sealedtest"
)

// peerPython returns a Python interpreter with Starlette, and whether it
// also has uvicorn. uvicorn is optional: starlette_app.py has a built-in
// runner. Debian's python3-starlette lands in the system interpreter, which
// a pyenv or venv python3 on PATH may hide.
func peerPython(t *testing.T) (py string, uvicorn bool) {
	t.Helper()
	py = peertest.Python(t, "SEALED_STARLETTE_PYTHON", "starlette.applications, starlette.middleware.sessions, itsdangerous",
		"install with: apt-get update && apt-get install -y python3-starlette python3-uvicorn", "/usr/bin/python3", "python3")
	return py, exec.Command(py, "-c", "import uvicorn").Run() == nil
}

// startStarlette runs testdata/starlette_app.py under runner and returns its
// base URL. The process is killed when the test ends.
func startStarlette(t *testing.T, py, runner, secret string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "starlette_app.py"), runner)
	cmd.Env = append(os.Environ(), "SEALED_E2E_SECRET="+secret, "PYTHONDONTWRITEBYTECODE=1")
	stdin, err := cmd.StdinPipe() // closing it makes the app exit
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer // read only once the process has exited
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		select {
		case <-exited:
			if t.Failed() {
				t.Logf("starlette_app.py stderr:\n%s", stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("python (pid %d) did not exit", cmd.Process.Pid)
		}
		cancel()
	})

	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout) // keep the pipe drained
	}()
	select {
	case l, ok := <-line:
		var port int
		var got string
		if !ok {
			t.Fatal("starlette_app.py exited before listening") // the cleanup logs its stderr
		}
		if _, err := fmt.Sscanf(l, "LISTENING %d %s", &port, &got); err != nil || got != runner {
			t.Fatalf("starlette_app.py said %q: %v", l, err)
		}
		return fmt.Sprintf("http://127.0.0.1:%d", port)
	case <-time.After(30 * time.Second):
		t.Fatal("starlette_app.py did not start within 30s")
	}
	return ""
}

// TestE2EStarlette: a real Starlette app issues a session at login, and the
// Go app on the same host (same cookie jar, another port) takes it over:
// the user stays logged in, the response sets the sealed cookie and expires
// Starlette's, and the next request works with the sealed cookie alone.
// Both a distinct sealed cookie name and Starlette's own "session" are
// tried, under uvicorn and under the script's built-in runner.
func TestE2EStarlette(t *testing.T) {
	py, haveUvicorn := peerPython(t)
	const secret = "e2e-secret-☃"
	for _, runner := range []string{"uvicorn", "builtin"} {
		t.Run(runner, func(t *testing.T) {
			if runner == "uvicorn" && !haveUvicorn {
				t.Skip("uvicorn not installed (apt-get install python3-uvicorn); the builtin runner covers Starlette")
			}
			pyURL := startStarlette(t, py, runner, secret)
			for _, sealedName := range []string{"sid", "session"} {
				t.Run("sealed cookie "+sealedName, func(t *testing.T) {
					e2e(t, pyURL, secret, sealedName)
				})
			}
		})
	}
}

func e2e(t *testing.T, pyURL, secret, sealedName string) {
	codec, err := starlette.New(secret, starlette.Options{MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var converted atomic.Int32
	var legacyErrs []string
	var mu sync.Mutex
	m := sealedtest.NewManager(t, sealed.JSON[user](), sealed.Options{Name: sealedName, Lifetime: time.Hour})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name)
		}
		w.Header().Set("X-Cookies", strings.Join(names, " "))
		u, ok := m.Get(r.Context())
		if !ok {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s", u.Name, strings.Join(u.Roles, ","))
	})
	goSrv := httptest.NewTLSServer(migrate.Handler(m, migrate.Legacy[user]{
		Source:  migrate.Starlette(codec, "session"),
		Convert: convert(&converted),
		OnError: func(_ *http.Request, err error) {
			mu.Lock()
			legacyErrs = append(legacyErrs, err.Error())
			mu.Unlock()
		},
	}, mux))
	defer goSrv.Close()

	// One browser for both apps: cookies are scoped to the host,
	// 127.0.0.1, not the port, so both apps see the same cookies.
	c := sealedtest.NewServerClient(t, goSrv)
	whoami := func() string {
		t.Helper()
		resp, body := c.Do("GET", pyURL+"/whoami")
		var v struct{ User *string }
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("Starlette /whoami: %d %q", resp.StatusCode, body)
		}
		if v.User == nil {
			return "<anonymous>"
		}
		return *v.User
	}

	// Log in on the Starlette app.
	login := httptest.NewRequest("POST", pyURL+"/login", strings.NewReader(`{"user":"alice","roles":["admin","dev"]}`))
	login.Header.Set("Content-Type", "application/json")
	if resp, _ := c.Send(login); resp.StatusCode != 200 {
		t.Fatalf("Starlette /login: %d", resp.StatusCode)
	}
	legacy := c.Cookies()
	if len(legacy) != 1 || legacy["session"] == "" {
		t.Fatalf("after Starlette login the browser sends %v to the Go app, want Starlette's session cookie", legacy)
	}
	if u := whoami(); u != "alice" {
		t.Fatalf("Starlette sees %q after login", u)
	}

	// The Go app takes the session over.
	resp, body := c.Do("GET", "/me")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != "alice admin,dev" {
		t.Fatalf("Go app: %d %q, want alice still logged in", resp.StatusCode, body)
	}
	var sawExpiry, sawSealed bool
	for _, ck := range resp.Cookies() {
		switch {
		case ck.Name == "session" && ck.MaxAge < 0:
			sawExpiry = ck.Path == "/" && !sawSealed // the sealed one, if same-named, must come last
		case ck.Name == sealedName && ck.Value != "" && ck.MaxAge > 0:
			sawSealed = true
		}
	}
	if !sawExpiry || !sawSealed {
		t.Errorf("Set-Cookie %q: want Starlette's session expired (Path=/) and then the sealed %s set", resp.Header.Values("Set-Cookie"), sealedName)
	}
	if now := c.Cookies(); len(now) != 1 || now[sealedName] == "" || now[sealedName] == legacy["session"] {
		t.Errorf("browser now sends %v to the Go app, want only the sealed %s cookie", now, sealedName)
	}

	// The next request carries only the sealed cookie and is still alice.
	resp, body = c.Do("GET", "/me")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != "alice admin,dev" || resp.Header.Get("X-Cookies") != sealedName {
		t.Errorf("second Go request: %d %q carrying %q, want alice with only %s", resp.StatusCode, body, resp.Header.Get("X-Cookies"), sealedName)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("second Go request set %q", resp.Header.Values("Set-Cookie"))
	}
	if n := converted.Load(); n != 1 {
		t.Errorf("Convert ran %d times, want 1", n)
	}
	mu.Lock()
	if len(legacyErrs) != 0 {
		t.Errorf("OnError: %q", legacyErrs)
	}
	mu.Unlock()

	// Starlette's session is gone from the browser: Starlette sees no user.
	// (The browser does send it the sealed cookie, 127.0.0.1 being a secure
	// context; when that is named "session" too, Starlette cannot open it.)
	if u := whoami(); u != "<anonymous>" {
		t.Errorf("Starlette still sees %q after the takeover", u)
	}
	if _, ok := c.Cookies()["session"]; ok && sealedName != "session" {
		t.Errorf("browser still sends %v to Starlette", c.Cookies())
	}
}
