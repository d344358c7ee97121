package interop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/internal/peertest"
)

// The session value the writer tests share: the same JSON in Go and
// JavaScript (fields in this order, zero fields omitted).
type shared struct {
	User string `json:"user"`
	N    int    `json:"n,omitempty"`
	Blob string `json:"blob,omitempty"`
}

// action is one change to a session, applied by the Go Manager and by the
// package's Session alike.
type action struct {
	Op       string          `json:"op"`
	Value    json.RawMessage `json:"value,omitempty"`
	Message  string          `json:"message,omitempty"`
	Remember bool            `json:"remember,omitempty"`
}

func put(v shared) action {
	b, _ := json.Marshal(v)
	return action{Op: "put", Value: b}
}

// jsOptions are the package's Sessions options (durations in seconds).
type jsOptions struct {
	Name           string `json:"name,omitempty"`
	Path           string `json:"path,omitempty"`
	Domain         string `json:"domain,omitempty"`
	SameSite       string `json:"sameSite,omitempty"`
	Partitioned    bool   `json:"partitioned,omitempty"`
	BrowserSession bool   `json:"browserSession,omitempty"`
	Lifetime       int64  `json:"lifetime,omitempty"`
	IdleTimeout    int64  `json:"idleTimeout,omitempty"`
	ChunkBudget    int    `json:"chunkBudget,omitempty"`
	ClockSkew      int64  `json:"clockSkew,omitempty"`
	SubjectField   string `json:"subjectField,omitempty"`
	CompressAbove  int    `json:"compressAbove,omitempty"`
}

func (o jsOptions) manager(t *testing.T, keys *sealed.KeyRing, now int64) *sealed.Manager[shared] {
	t.Helper()
	opts := sealed.Options{
		Name: o.Name, Path: o.Path, Domain: o.Domain, Partitioned: o.Partitioned, BrowserSession: o.BrowserSession,
		Lifetime: time.Duration(o.Lifetime) * time.Second, IdleTimeout: time.Duration(o.IdleTimeout) * time.Second,
		ChunkBudget: o.ChunkBudget, ClockSkew: time.Duration(o.ClockSkew) * time.Second, CompressAbove: o.CompressAbove,
		Now: func() time.Time { return time.Unix(now, 0) }, OnError: func(context.Context, error) {},
	}
	opts.SameSite = map[string]http.SameSite{"": 0, "lax": http.SameSiteLaxMode, "strict": http.SameSiteStrictMode, "none": http.SameSiteNoneMode, "default": http.SameSiteDefaultMode}[o.SameSite]
	m, err := sealed.New(keys, sealed.JSON[shared](), opts)
	if err != nil {
		t.Fatal(err)
	}
	if o.SubjectField == "user" {
		m.Subject = func(v shared) string { return v.User }
	}
	return m
}

// goWrite runs actions on the request's cookies with the Go Manager and
// returns the response header.
func goWrite(t *testing.T, m *sealed.Manager[shared], cookies string, actions []action, resp http.Header) (http.Header, []string) {
	t.Helper()
	ctx := m.LoadHeader(context.Background(), http.Header{"Cookie": {cookies}})
	var taken []string
	for _, a := range actions {
		switch a.Op {
		case "put":
			var v shared
			if err := json.Unmarshal(a.Value, &v); err != nil {
				t.Fatal(err)
			}
			m.Put(ctx, v)
		case "flash":
			m.Flash(ctx, a.Message)
		case "takeFlashes":
			taken = m.Flashes(ctx)
		case "destroy":
			m.Destroy(ctx)
		case "renew":
			m.Renew(ctx)
		case "rememberMe":
			m.RememberMe(ctx, a.Remember)
		case "read":
			m.Get(ctx)
		}
	}
	h := resp.Clone()
	if h == nil {
		h = http.Header{}
	}
	if err := m.SaveHeader(ctx, h); err != nil {
		return nil, nil
	}
	return h, taken
}

// jar applies Set-Cookie lines to the cookies of a request (a Cookie
// header) as a browser does, keeping the order of first appearance.
func jar(cookies string, setCookie []string) string {
	var names []string
	vals := map[string]string{}
	for _, c := range strings.Split(cookies, "; ") {
		if n, v, ok := strings.Cut(c, "="); ok {
			names, vals[n] = append(names, n), v
		}
	}
	for _, line := range setCookie {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if c.MaxAge < 0 {
			delete(vals, c.Name)
			continue
		}
		if _, ok := vals[c.Name]; !ok {
			names = append(names, c.Name)
		}
		vals[c.Name] = c.Value
	}
	var out []string
	for _, n := range slices.Compact(names) {
		if v, ok := vals[n]; ok {
			out = append(out, n+"="+v)
		}
	}
	return strings.Join(out, "; ")
}

var cookieValue = regexp.MustCompile(`^([^=]*)=([^;]*)`)

// masked replaces each line's value with its length: values differ (nonces,
// IDs), their lengths and everything else must not.
func masked(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = cookieValue.ReplaceAllStringFunc(l, func(s string) string {
			m := cookieValue.FindStringSubmatch(s)
			return m[1] + "=<" + strconv.Itoa(len(m[2])) + ">"
		})
	}
	return out
}

// goRead is what the Go Manager reads from a Cookie header.
type goRead struct {
	Has                       bool
	Value                     shared
	Flashes                   []string
	Issued, Deadline, Refresh int64
	ID, Subject, KeyID        string
	Stale                     bool
}

func readWithGo(t *testing.T, m *sealed.Manager[shared], cookies string) goRead {
	ctx := m.LoadHeader(context.Background(), http.Header{"Cookie": {cookies}})
	v, has := m.Get(ctx)
	info, _ := m.Info(ctx)
	r := goRead{Has: has, Value: v, Flashes: m.Flashes(ctx), Subject: info.Subject, KeyID: info.KeyID, Stale: info.Stale}
	if has {
		r.Issued, r.Deadline, r.Refresh, r.ID = info.Issued.Unix(), info.Deadline.Unix(), info.Refreshed.Unix(), info.ID.String()
	}
	return r
}

// TestSessionWritersAgree: for the same request cookies and the same
// changes, the package's Session writes the Set-Cookie lines the Go
// Manager writes (names, order, attributes, Max-Age, value lengths, chunk
// split, expired cookies) and the same Vary and Cache-Control; and the Go
// Manager reads what JavaScript wrote as what it wrote itself (value,
// flashes, times, subject, and the session ID kept across requests).
func TestSessionWritersAgree(t *testing.T) {
	k2, k1 := newKey(t, "k2"), newKey(t, "k1")
	ring := newRing(t, k2, k1)
	old := newRing(t, k1)
	alice := shared{User: "alice", N: 1}
	big := shared{User: "alice", N: 2, Blob: blob(7000)}
	type scenario struct {
		name    string
		opts    jsOptions
		keys    *sealed.KeyRing // that wrote the request's cookies; default ring
		before  []action        // written by Go first: the request's cookies
		after   int64           // seconds between the two requests
		actions []action
		resp    http.Header
	}
	user := jsOptions{SubjectField: "user"}
	scenarios := []scenario{
		{name: "login with a flash", opts: user, actions: []action{put(alice), {Op: "flash", Message: "Welcome, alice!"}}},
		{name: "login, handler set Cache-Control", opts: user, actions: []action{put(alice)}, resp: http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Encoding"}}},
		{name: "read only: no Set-Cookie, Vary", opts: user, before: []action{put(alice)}, actions: []action{{Op: "read"}}},
		{name: "take the flashes", opts: user, before: []action{put(alice), {Op: "flash", Message: "Saved."}}, actions: []action{{Op: "takeFlashes"}}},
		{name: "grow into three chunks", opts: user, before: []action{put(alice)}, actions: []action{put(big)}},
		{name: "shrink back to one cookie", opts: user, before: []action{put(big)}, actions: []action{put(alice)}},
		{name: "destroy a chunked session", opts: user, before: []action{put(big)}, actions: []action{{Op: "destroy"}}},
		{name: "flash without a session", actions: []action{{Op: "flash", Message: "Signed out."}}},
		{name: "take the last flash: cookie expired", before: []action{{Op: "flash", Message: "x"}}, actions: []action{{Op: "takeFlashes"}}},
		{name: "remember me: no", opts: user, before: []action{put(alice)}, actions: []action{{Op: "rememberMe", Remember: false}}},
		{name: "remember me: yes, browser sessions", opts: jsOptions{BrowserSession: true}, before: []action{put(alice)}, actions: []action{{Op: "rememberMe", Remember: true}}},
		{name: "browser session", opts: jsOptions{BrowserSession: true}, actions: []action{put(alice)}},
		{name: "renew", opts: user, before: []action{put(alice)}, after: 100, actions: []action{{Op: "renew"}}},
		{name: "idle refresh due", opts: jsOptions{IdleTimeout: 60}, before: []action{put(alice)}, after: 31, actions: []action{{Op: "read"}}},
		{name: "idle refresh not due", opts: jsOptions{IdleTimeout: 60}, before: []action{put(alice)}, after: 29, actions: []action{{Op: "read"}}},
		{name: "idle timeout passed: cleared", opts: jsOptions{IdleTimeout: 60}, before: []action{put(alice)}, after: 61, actions: []action{{Op: "read"}}},
		{name: "deadline passed, then a new session", opts: jsOptions{Lifetime: 100}, before: []action{put(alice)}, after: 100, actions: []action{put(big)}},
		{name: "stale key: re-sealed", opts: user, keys: old, before: []action{put(alice)}, actions: []action{{Op: "read"}}},
		{name: "stale chunks: re-sealed", opts: user, keys: old, before: []action{put(big)}, actions: []action{{Op: "read"}}},
		{name: "other attributes", opts: jsOptions{Name: "__Host-sid", SameSite: "none", Partitioned: true, Lifetime: 3600, ChunkBudget: 3}, actions: []action{put(big)}},
		{name: "domain and path", opts: jsOptions{Name: "sid", Domain: ".example.com", Path: "/app", SameSite: "strict", ChunkBudget: 16}, actions: []action{put(big)}},
		{name: "over the budget: nothing written", opts: jsOptions{ChunkBudget: 1}, before: []action{put(alice)}, actions: []action{put(big)}},
		{name: "compressed", opts: jsOptions{CompressAbove: 100}, actions: []action{put(shared{User: "z", Blob: strings.Repeat("compressible ", 2000)})}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			keys := sc.keys
			if keys == nil {
				keys = ring
			}
			t0 := clock.Unix()
			cookies := ""
			if len(sc.before) > 0 {
				h, _ := goWrite(t, sc.opts.manager(t, keys, t0), "", sc.before, nil)
				cookies = jar("", h["Set-Cookie"])
			}
			now := t0 + sc.after
			m := sc.opts.manager(t, ring, now)
			goH, goTaken := goWrite(t, m, cookies, sc.actions, sc.resp)
			respHeaders := map[string]string{}
			for k := range sc.resp {
				respHeaders[k] = sc.resp.Get(k)
			}
			var got struct {
				SetCookie    []string `json:"setCookie"`
				Vary         string   `json:"vary"`
				CacheControl string   `json:"cacheControl"`
				Taken        []string `json:"taken"`
				Error        string   `json:"error"`
				Message      string   `json:"message"`
			}
			js(t, struct {
				Op              string            `json:"op"`
				Keys            string            `json:"keys"`
				Options         jsOptions         `json:"options"`
				Cookies         string            `json:"cookies"`
				Now             int64             `json:"now"`
				Actions         []action          `json:"actions"`
				ResponseHeaders map[string]string `json:"responseHeaders"`
			}{"writeSession", sealed.FormatKeyRing(ring), sc.opts, cookies, now, sc.actions, respHeaders}, &got)
			rawJS := slices.Clone(got.SetCookie)
			if goH == nil { // Go refused to write (over the budget)
				if got.Error != "too_large" {
					t.Fatalf("Go wrote nothing (too large); JavaScript: error %q, Set-Cookie %q", got.Error, got.SetCookie)
				}
				return
			}
			if got.Error != "" {
				t.Fatalf("JavaScript: %s", got.Message)
			}
			wantLines := masked(goH["Set-Cookie"])
			if sc.opts.CompressAbove > 0 { // compressors differ: compare names and attributes only
				re := regexp.MustCompile(`=<\d+>`)
				for i := range wantLines {
					wantLines[i] = re.ReplaceAllString(wantLines[i], "=<n>")
				}
				for i := range got.SetCookie {
					got.SetCookie[i] = re.ReplaceAllString(masked(got.SetCookie[i : i+1])[0], "=<n>")
				}
			} else {
				got.SetCookie = masked(got.SetCookie)
			}
			if !slices.Equal(got.SetCookie, wantLines) {
				t.Errorf("Set-Cookie\nJavaScript %q\nGo         %q", got.SetCookie, wantLines)
			}
			if got.Vary != strings.Join(goH["Vary"], ", ") || got.CacheControl != strings.Join(goH["Cache-Control"], ", ") {
				t.Errorf("Vary %q Cache-Control %q; Go: %q %q", got.Vary, got.CacheControl, goH["Vary"], goH["Cache-Control"])
			}
			if !slices.Equal(got.Taken, goTaken) {
				t.Errorf("flashes taken %q, Go %q", got.Taken, goTaken)
			}
			// Go reads what each wrote, on the next request.
			next := sc.opts.manager(t, ring, now+1)
			fromGo := readWithGo(t, next, jar(cookies, goH["Set-Cookie"]))
			fromJS := readWithGo(t, next, jar(cookies, rawJS))
			if sc.name == "renew" || len(sc.before) == 0 || strings.Contains(sc.name, "deadline passed") {
				fromJS.ID, fromGo.ID = "", "" // drawn anew on each side
			}
			if fmt.Sprint(fromJS) != fmt.Sprint(fromGo) {
				t.Errorf("Go reads\nJavaScript's %+v\nGo's         %+v", fromJS, fromGo)
			}
		})
	}
}

// TestJSPackageTests runs the package's own tests (interop/js/test, with
// node's test runner) after type-checking and building it, so that CI,
// which runs go test, runs them too.
func TestJSPackageTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests the package (about 10 s)")
	}
	dir := peertest.Node(t, "typescript", "@noble/ciphers", "@noble/hashes")
	tsc := filepath.Join(dir, "node_modules", "typescript", "bin", "tsc")
	for _, args := range [][]string{
		{tsc, "-p", filepath.Join(dir, "js", "tsconfig.json")},
		{tsc, "-p", filepath.Join(dir, "js", "test", "tsconfig.json")},
	} {
		if out, err := exec.Command("node", args...).CombinedOutput(); err != nil {
			t.Fatalf("node %s: %v\n%s", strings.Join(args[1:], " "), err, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "js", "test", "*.test.mjs"))
	if len(files) < 7 {
		t.Fatalf("%d test files in js/test", len(files))
	}
	cmd := exec.Command("node", append([]string{"--experimental-vm-modules", "--test", "--test-reporter=tap"}, files...)...)
	cmd.Dir = filepath.Join(dir, "js")
	out, err := cmd.CombinedOutput()
	summary := regexp.MustCompile(`(?m)^# (tests|pass|fail|skipped) \d+$`).FindAllString(string(out), -1)
	if err != nil || !slices.Contains(summary, "# fail 0") || slices.Contains(summary, "# tests 0") {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Logf("node --test %d files: %s", len(files), strings.Join(summary, ", "))
}
