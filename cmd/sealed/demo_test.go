package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

func demoTestRing(t *testing.T) *sealed.KeyRing {
	t.Helper()
	k, err := sealed.NewKey("demo-test", bytes.Repeat([]byte{7}, sealed.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sealed.NewKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The demo's flows end to end over TLS with a cookie jar (the browser test
// repeats them in Chromium).
func TestDemoFlows(t *testing.T) {
	var errs []error
	var mu sync.Mutex
	h, err := newDemoHandler(demoTestRing(t), sealed.Options{OnError: func(_ context.Context, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	cl := srv.Client()
	jar, _ := cookiejar.New(nil)
	cl.Jar = jar
	call := func(method, path string, wantCode int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantCode {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, body, wantCode)
		}
		var v map[string]any
		json.Unmarshal(body, &v)
		return v
	}
	cookieNames := func() []string {
		u, _ := url.Parse(srv.URL)
		var names []string
		for _, c := range jar.Cookies(u) {
			names = append(names, c.Name)
		}
		sort.Strings(names)
		return names
	}

	resp, err := cl.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "<title>sealed demo</title>") {
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
	if len(errs) != 0 {
		t.Errorf("OnError: %v", errs)
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
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			old := demoContext
			demoContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
			defer func() { demoContext = old }()
			var stdout, stderr syncBuffer
			code := make(chan int, 1)
			go func() { code <- run([]string{"demo", "-addr", "127.0.0.1:0"}, &stdout, &stderr) }()
			re := regexp.MustCompile(`serving (http://localhost:\d+/)`)
			var base string
			for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if m := re.FindStringSubmatch(stdout.String()); m != nil {
					base = m[1]
				}
			}
			if base == "" {
				t.Fatalf("no URL printed: %q %q", stdout.String(), stderr.String())
			}
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
			cancel()
			select {
			case c := <-code:
				if c != 0 {
					t.Errorf("exit %d, stderr %q", c, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("demo did not stop")
			}
		})
	}
}
