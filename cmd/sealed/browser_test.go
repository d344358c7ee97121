//go:build unix

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// TestBrowser drives a real headless Chromium through chromedriver's W3C
// WebDriver HTTP API (no client library) against the demo application.
//
// It needs the Debian packages chromium and chromium-driver (binaries on
// PATH, or SEALED_CHROMIUM and SEALED_CHROMEDRIVER). Without them it is
// skipped, unless SEALED_BROWSER=1, as CI sets: then a missing browser
// fails the test.
func TestBrowser(t *testing.T) {
	browser, driver := findBrowser(t)

	h, err := newDemoHandler(demoTestRing(t), sealed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // 127.0.0.1:port
	defer srv.Close()
	// Browse it as localhost: a secure context, so Secure cookies are kept
	// over plain http.
	base := "http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)

	wd := startWebDriver(t, browser, driver)
	browseDemo(t, wd, base)
}

// browseDemo is the browser flow against a demo serving at base: the page,
// login, whoami, the counter across page loads, HttpOnly, a session of
// three chunks, and logout with the page's button.
func browseDemo(t *testing.T, wd *webDriver, base string) {
	t.Helper()
	// The page loads.
	wd.navigate(base + "/")
	if title := wd.exec("return document.title"); title != "sealed demo" {
		t.Fatalf("title %v", title)
	}

	// Create a session.
	if st := wd.fetch("POST", "/create_session/alice"); st.Status != 200 {
		t.Fatalf("create_session: %+v", st)
	}
	c := wd.sessionCookies()
	if len(c) != 1 || c[0].Name != "session" || !c[0].HTTPOnly || !c[0].Secure || c[0].SameSite != "Lax" {
		t.Fatalf("cookies after login: %+v", c)
	}
	if st := wd.fetch("GET", "/whoami"); st.Status != 200 || !strings.Contains(st.Body, "alice") {
		t.Fatalf("whoami after login: %+v", st)
	}

	// The counter increments across page loads.
	for i := 1; i <= 3; i++ {
		wd.navigate(base + "/session_test")
		var v struct{ Counter int }
		if text := wd.exec("return document.body.innerText"); json.Unmarshal([]byte(fmt.Sprint(text)), &v) != nil || v.Counter != i {
			t.Errorf("page load %d: %q, want counter %d", i, text, i)
		}
	}

	// Scripts cannot see the HttpOnly cookie.
	wd.navigate(base + "/")
	if dc := fmt.Sprint(wd.exec("return document.cookie")); strings.Contains(dc, "session") {
		t.Errorf("document.cookie = %q exposes the session", dc)
	}

	// A session needing three cookies is stored and read back.
	const n = 7000
	sum := sha256.Sum256([]byte(demoBlob(n)))
	if st := wd.fetch("POST", "/big/"+strconv.Itoa(n)); st.Status != 200 {
		t.Fatalf("big: %+v", st)
	}
	if got := cookieNames(wd.sessionCookies()); !slices.Equal(got, []string{"session.0", "session.1", "session.2"}) {
		t.Fatalf("cookies for a %d-byte session: %q", n, got)
	}
	var big struct {
		Len    int
		SHA256 string
	}
	if st := wd.fetch("GET", "/big"); st.Status != 200 || json.Unmarshal([]byte(st.Body), &big) != nil || big.Len != n || big.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("read back: %+v", st)
	}
	if dc := fmt.Sprint(wd.exec("return document.cookie")); strings.Contains(dc, "session") {
		t.Errorf("document.cookie = %q exposes a chunk", dc)
	}

	// Log out with the page's button: every chunk is gone.
	wd.click("#delete")
	wd.waitFor(`return document.getElementById("out").textContent`, `"deleted":true`)
	if c := wd.sessionCookies(); len(c) != 0 {
		t.Errorf("cookies after logout: %q", cookieNames(c))
	}
	if st := wd.fetch("GET", "/whoami"); st.Status != 401 {
		t.Errorf("whoami after logout: %+v", st)
	}
}

func findBrowser(t *testing.T) (browser, driver string) {
	t.Helper()
	look := func(env string, names ...string) string {
		if p := os.Getenv(env); p != "" {
			names = []string{p} // exactly this one
		}
		for _, name := range names {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	browser = look("SEALED_CHROMIUM", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
	driver = look("SEALED_CHROMEDRIVER", "chromedriver")
	if browser == "" || driver == "" {
		msg := fmt.Sprintf("real-browser test needs chromium and chromedriver (found %q, %q); on Debian: apt-get install chromium chromium-driver", browser, driver)
		if os.Getenv("SEALED_BROWSER") == "1" {
			t.Fatal(msg + " (SEALED_BROWSER=1 forbids skipping)")
		}
		t.Skip(msg)
	}
	return browser, driver
}

// webDriver is a minimal W3C WebDriver client for one session.
type webDriver struct {
	t       *testing.T
	base    string // chromedriver URL
	session string
	client  *http.Client
}

// startWebDriver starts chromedriver and a headless browser session, and
// registers their shutdown.
func startWebDriver(t *testing.T, browser, driver string, extraArgs ...string) *webDriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var log bytes.Buffer
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group: the browser dies with it
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // chromedriver and its browser, which we started
		cmd.Wait()
		if t.Failed() {
			t.Logf("chromedriver output:\n%s", log.String())
		}
	})
	wd := &webDriver{t: t, base: "http://127.0.0.1:" + strconv.Itoa(port), client: &http.Client{Timeout: 60 * time.Second}}

	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct{ Ready bool }
		if err := wd.do("GET", "/status", nil, &st); err == nil && st.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver not ready after 20s:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": browser,
			"args": append([]string{
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
				"--disable-background-networking", "--disable-component-update",
				"--disable-sync", "--no-first-run", "--user-data-dir=" + t.TempDir(),
			}, extraArgs...),
		},
		"timeouts": map[string]int{"script": 15000, "pageLoad": 15000, "implicit": 0},
	}}}
	var created struct{ SessionID string }
	if err := wd.do("POST", "/session", caps, &created); err != nil {
		t.Fatalf("new WebDriver session: %v\n%s", err, log.String())
	}
	wd.session = created.SessionID
	t.Cleanup(func() { wd.do("DELETE", "/session/"+wd.session, nil, nil) })
	return wd
}

// do calls the WebDriver endpoint and decodes the response's "value".
func (wd *webDriver) do(method, path string, body, value any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, wd.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := wd.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct{ Value json.RawMessage }
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %d %.200s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode != 200 {
		var e struct{ Error, Message string }
		json.Unmarshal(env.Value, &e)
		return fmt.Errorf("%s %s: %d %s: %.300s", method, path, resp.StatusCode, e.Error, e.Message)
	}
	if value != nil {
		return json.Unmarshal(env.Value, value)
	}
	return nil
}

func (wd *webDriver) must(method, path string, body, value any) {
	wd.t.Helper()
	if err := wd.do(method, "/session/"+wd.session+path, body, value); err != nil {
		wd.t.Fatal(err)
	}
}

func (wd *webDriver) navigate(url string) {
	wd.t.Helper()
	wd.must("POST", "/url", map[string]string{"url": url}, nil)
}

func (wd *webDriver) exec(script string, args ...any) any {
	wd.t.Helper()
	if args == nil {
		args = []any{}
	}
	var v any
	wd.must("POST", "/execute/sync", map[string]any{"script": script, "args": args}, &v)
	return v
}

type fetchResult struct {
	Status int
	Body   string
}

// fetch runs fetch() in the page, as the demo page's buttons do.
func (wd *webDriver) fetch(method, path string) fetchResult {
	wd.t.Helper()
	var res fetchResult
	wd.must("POST", "/execute/async", map[string]any{
		"script": `const done = arguments[arguments.length - 1];
fetch(arguments[1], {method: arguments[0]}).then(async r => done({status: r.status, body: await r.text()}), e => done({status: -1, body: String(e)}));`,
		"args": []any{method, path},
	}, &res)
	return res
}

func (wd *webDriver) click(css string) {
	wd.t.Helper()
	var el map[string]string
	wd.must("POST", "/element", map[string]string{"using": "css selector", "value": css}, &el)
	for _, id := range el { // the key is the W3C element identifier
		wd.must("POST", "/element/"+id+"/click", map[string]any{}, nil)
		return
	}
	wd.t.Fatalf("no element %s", css)
}

// waitFor polls script until its result contains want, for up to 10s.
func (wd *webDriver) waitFor(script, want string) {
	wd.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := fmt.Sprint(wd.exec(script))
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			wd.t.Fatalf("after 10s, %s = %q, want it to contain %q", script, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type wdCookie struct {
	Name     string
	Value    string
	HTTPOnly bool `json:"httpOnly"`
	Secure   bool
	SameSite string `json:"sameSite"`
}

// sessionCookies returns the browser's session cookies for the current page
// (the WebDriver view includes HttpOnly cookies).
func (wd *webDriver) sessionCookies() []wdCookie {
	wd.t.Helper()
	var all []wdCookie
	wd.must("GET", "/cookie", nil, &all)
	re := regexp.MustCompile(`^session(\.\d+)?$`)
	var out []wdCookie
	for _, c := range all {
		if re.MatchString(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

func cookieNames(cs []wdCookie) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}
