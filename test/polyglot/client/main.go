// Command client is the browser of the polyglot test (test/polyglot/run.sh).
// With one cookie jar it goes through nginx to a Go service (/go/, the
// sealed.Manager), a FastAPI service (/py/, sealed_session) and a Node
// service (/node/, @sealedcookie/sealed), which share one session cookie
// (Path=/) and one JWKS key file, and asserts every step:
//
//  1. log in through Go;
//  2. a rotation (sealed rotate add, then promote, every service
//     reloading the file); FastAPI sees the old-key cookie first and
//     re-seals it under the new key; it reads the flash Go added and
//     changes the session;
//  3. Node reads the change (no re-seal: the cookie is current);
//  4. Node adds a flash;
//  5. Go sees the change and the flash;
//  6. two more rotations, first seen by Node, then by Go, each re-sealing;
//     the first two keys retired: the login cookie is unknown_key in all
//     three;
//  7. a session over 4 KB in chunks, written and read by each runtime, and
//     a tampered chunk, invalid in all three;
//  8. a move to AES-256-GCM keys (format version 2), first seen by
//     FastAPI, and a chunked version 2 session across the runtimes;
//  9. a tampered cookie, invalid in all three;
//  10. logout in Node ends the session everywhere.
//
// Every Set-Cookie a service sends is opened with the Go sealed package and
// the key file: the key it was sealed with is asserted, and so is its
// 4-byte key identifier and format version in the header. It exits 1 at
// the first failed check.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

var runtimes = []string{"go", "python", "node"}

// prefix is where nginx routes each runtime.
var prefix = map[string]string{"go": "/go", "python": "/py", "node": "/node"}

// view is any answer of the services (see ../goapp/main.go).
type view struct {
	Runtime string         `json:"runtime"`
	Session map[string]any `json:"session"`
	KeyID   string         `json:"keyId"`
	Stale   bool           `json:"stale"`
	ID      string         `json:"id"`
	Subject string         `json:"subject"`
	Error   *string        `json:"error"`
	Flashes []string       `json:"flashes"`
	Primary string         `json:"primary"`
	IDs     []string       `json:"ids"`
}

// result is one response: its JSON, headers and the Set-Cookie lines.
type result struct {
	view
	header http.Header
	set    []*http.Cookie
	lines  []string
}

type client struct {
	base    *url.URL
	jar     *cookiejar.Jar
	keys    string // the JWKS file
	cli     string // the sealed CLI
	step    string // for failure messages
	t0      time.Time
	reloads []time.Duration
}

func main() {
	base := flag.String("url", "", "nginx base URL")
	keys := flag.String("keys", "", "the shared JWKS key file")
	cli := flag.String("cli", "sealed", "the sealed CLI, for rotate")
	flag.Parse()
	log.SetFlags(0)
	u, err := url.Parse(*base)
	if err != nil || *keys == "" {
		log.Fatal("usage: client -url http://127.0.0.1:PORT -keys keys.json -cli path/to/sealed")
	}
	c := &client{base: u, jar: newJar(), keys: *keys, cli: *cli, t0: time.Now()}
	c.run()
	fmt.Printf("ok: every step passed in %.1fs; key reloads took %s (all three services)\n",
		time.Since(c.t0).Seconds(), durations(c.reloads))
}

func newJar() *cookiejar.Jar {
	j, _ := cookiejar.New(nil)
	return j
}

func durations(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(time.Millisecond).String())
	}
	return strings.Join(s, ", ")
}

// blob is n bytes of text that does not compress away (compression is off
// anyway, the Manager's default).
func blob(n int) string {
	var b strings.Builder
	for x := uint32(2463534242); b.Len() < n; {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[x%36])
	}
	return b.String()
}

func (c *client) run() {
	c.begin("0. routing and the key ring")
	if err := exec.Command(c.cli, "rotate", "list", c.keys).Run(); err != nil {
		c.fail("sealed rotate list %s: %v", c.keys, err)
	}
	c.waitRing("k1")

	c.begin("1. log in through Go")
	r := c.do("POST", "go", "/login/ada", nil)
	c.check(r.Session["user"] == "ada" && r.ID != "" && r.Error == nil, "login answered %+v", r.view)
	id := r.ID
	c.sealedUnder(r, "k1", 1)
	login := c.cookies()
	c.check(len(login) == 1 && login["session"] != "", "the jar after login: %v", names(login))
	r = c.do("GET", "go", "/session", nil)
	c.check(r.Session["user"] == "ada" && r.KeyID == "k1" && !r.Stale && r.ID == id && r.Subject == "ada", "Go read %+v", r.view)
	c.noSetCookie(r)

	c.begin("2. rotation k1 -> k2; FastAPI sees the old-key cookie first, re-seals it, reads Go's flash, changes the session")
	c.rotate([]string{"add", c.keys, "--id", "k2"}, "k1", "k2")
	c.rotate([]string{"promote", c.keys, "k2"}, "k2", "k1")
	r = c.do("GET", "python", "/session", nil)
	c.check(r.Session["user"] == "ada" && r.KeyID == "k1" && r.Stale && r.ID == id && r.Subject == "ada", "FastAPI read %+v", r.view)
	c.sealedUnder(r, "k2", 1)
	r = c.do("GET", "python", "/flashes", nil)
	c.check(slices.Equal(r.Flashes, []string{"Welcome, ada!"}), "FastAPI took the flashes %q", r.Flashes)
	c.sealedUnder(r, "k2", 1)
	r = c.do("POST", "python", "/session/cart", []any{"A-1", 2})
	c.sealedUnder(r, "k2", 1)
	r = c.do("POST", "python", "/session/prefs", map[string]any{"theme": "dark", "lang": "fr"})
	c.sealedUnder(r, "k2", 1)
	want := map[string]any{"user": "ada", "cart": []any{"A-1", 2.0}, "prefs": map[string]any{"theme": "dark", "lang": "fr"}}
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k2" && !r.Stale, "FastAPI wrote %+v", r.view)

	c.begin("3. Node reads the session FastAPI changed")
	r = c.do("GET", "node", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k2" && !r.Stale && r.ID == id && r.Subject == "ada", "Node read %+v", r.view)
	c.noSetCookie(r)
	r = c.do("GET", "node", "/flashes", nil)
	c.check(r.Flashes != nil && len(r.Flashes) == 0, "Node found flashes %q (FastAPI took them)", r.Flashes)
	c.noSetCookie(r)

	c.begin("4. Node adds a flash")
	r = c.do("POST", "node", "/flash?message=Saved+in+Node.", nil)
	c.sealedUnder(r, "k2", 1)

	c.begin("5. Go sees FastAPI's change and Node's flash")
	r = c.do("GET", "go", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k2" && !r.Stale && r.ID == id && r.Subject == "ada", "Go read %+v", r.view)
	c.noSetCookie(r)
	r = c.do("GET", "go", "/flashes", nil)
	c.check(slices.Equal(r.Flashes, []string{"Saved in Node."}), "Go took the flashes %q", r.Flashes)
	c.sealedUnder(r, "k2", 1)
	r = c.do("GET", "go", "/flashes", nil)
	c.check(r.Flashes != nil && len(r.Flashes) == 0, "Go found flashes %q after taking them", r.Flashes)

	c.begin("6. rotations first seen by Node (k2 -> k3) and by Go (k3 -> k4); k1 and k2 retired")
	c.rotate([]string{"add", c.keys, "--id", "k3"}, "k2", "k1", "k3")
	c.rotate([]string{"promote", c.keys, "k3"}, "k3", "k2", "k1")
	c.rotate([]string{"retire", c.keys, "k1"}, "k3", "k2")
	r = c.do("GET", "node", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k2" && r.Stale && r.ID == id, "Node read %+v", r.view)
	c.sealedUnder(r, "k3", 1)
	r = c.do("GET", "python", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k3" && !r.Stale, "FastAPI read %+v", r.view)
	c.noSetCookie(r)
	c.rotate([]string{"add", c.keys, "--id", "k4"}, "k3", "k2", "k4")
	c.rotate([]string{"promote", c.keys, "k4"}, "k4", "k3", "k2")
	c.rotate([]string{"retire", c.keys, "k2"}, "k4", "k3")
	r = c.do("GET", "go", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k3" && r.Stale && r.ID == id, "Go read %+v", r.view)
	c.sealedUnder(r, "k4", 1)
	r = c.do("GET", "node", "/session", nil)
	c.check(r.KeyID == "k4" && !r.Stale, "Node read %+v", r.view)
	c.noSetCookie(r)
	c.refusedEverywhere("the login cookie, sealed with the retired k1", login, "unknown_key")

	c.begin("7. a session over 4 KB, in chunks, across the runtimes")
	r = c.do("POST", "go", "/session/notes", blob(5000))
	c.sealedUnder(r, "k4", 2)
	c.jarHolds("session.0", "session.1")
	r = c.do("GET", "python", "/session", nil)
	c.check(r.Session["notes"] == blob(5000) && r.Session["user"] == "ada" && r.KeyID == "k4", "FastAPI read the chunked session: %d bytes of notes", len(fmt.Sprint(r.Session["notes"])))
	c.noSetCookie(r)
	r = c.do("POST", "python", "/session/notes", blob(8000))
	c.sealedUnder(r, "k4", 3)
	c.jarHolds("session.0", "session.1", "session.2")
	chunked := c.cookies()
	r = c.do("GET", "node", "/session", nil)
	c.check(r.Session["notes"] == blob(8000) && r.Session["user"] == "ada" && r.KeyID == "k4", "Node read the chunked session: %d bytes of notes", len(fmt.Sprint(r.Session["notes"])))
	c.noSetCookie(r)
	r = c.do("POST", "node", "/session/notes", blob(5500))
	c.sealedUnder(r, "k4", 2)
	c.jarHolds("session.0", "session.1")
	r = c.do("GET", "go", "/session", nil)
	c.check(r.Session["notes"] == blob(5500) && r.ID == id, "Go read the chunked session: %d bytes of notes", len(fmt.Sprint(r.Session["notes"])))
	c.noSetCookie(r)
	r = c.do("DELETE", "go", "/session/notes", nil)
	c.sealedUnder(r, "k4", 1)
	c.jarHolds("session")
	r = c.do("GET", "node", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want), "Node read %+v", r.view)
	tampered := tamper(chunked, "session.1")
	c.refusedEverywhere("a 3-chunk session with its second chunk tampered with", tampered, "invalid")

	c.begin("8. a move to the FIPS suite: k5 (AES-256-GCM, format version 2), first seen by FastAPI")
	c.addKey("k5", sealed.AES256GCM, "k4", "k3", "k5")
	c.rotate([]string{"promote", c.keys, "k5"}, "k5", "k4", "k3")
	r = c.do("GET", "python", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k4" && r.Stale && r.ID == id, "FastAPI read %+v", r.view)
	c.sealedUnder(r, "k5", 1)
	r = c.do("GET", "node", "/session", nil)
	c.check(reflect.DeepEqual(r.Session, want) && r.KeyID == "k5" && !r.Stale, "Node read %+v", r.view)
	c.noSetCookie(r)
	r = c.do("POST", "node", "/session/notes", blob(5000))
	c.sealedUnder(r, "k5", 2)
	r = c.do("GET", "go", "/session", nil)
	c.check(r.Session["notes"] == blob(5000) && r.KeyID == "k5" && !r.Stale, "Go read the chunked session: %d bytes of notes, key %s", len(fmt.Sprint(r.Session["notes"])), r.KeyID)
	c.noSetCookie(r)
	r = c.do("DELETE", "python", "/session/notes", nil)
	c.sealedUnder(r, "k5", 1)
	c.jarHolds("session")

	c.begin("9. a tampered cookie")
	c.refusedEverywhere("a cookie with one character changed", tamper(c.cookies(), "session"), "invalid")

	c.begin("10. logout in Node ends the session everywhere")
	r = c.do("POST", "node", "/logout", nil)
	c.check(len(c.cookies()) == 0, "the jar after logout holds %v", names(c.cookies()))
	for _, rt := range runtimes {
		r = c.do("GET", rt, "/session", nil)
		c.check(r.Session == nil && r.Error == nil, "%s after logout: %+v", rt, r.view)
		c.noSetCookie(r)
	}
}

func (c *client) begin(step string) {
	c.step = step
	fmt.Printf("%6.2fs %s\n", time.Since(c.t0).Seconds(), step)
}

func (c *client) fail(format string, args ...any) {
	log.Printf("FAIL in step %q: %s", c.step, fmt.Sprintf(format, args...))
	log.Printf("jar: %v", names(c.cookies()))
	os.Exit(1)
}

func (c *client) check(ok bool, format string, args ...any) {
	if !ok {
		c.fail(format, args...)
	}
}

// do sends one request through nginx with the client's jar.
func (c *client) do(method, rt, path string, body any) result {
	return c.doWith(c.jar, method, rt, path, body)
}

func (c *client) doWith(jar http.CookieJar, method, rt, path string, body any) result {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.fail("%v", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base.JoinPath(prefix[rt]).String() + path
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.fail("%v", err)
	}
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		c.fail("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.fail("%s %s: %s %s", method, u, resp.Status, b)
	}
	var r result
	if err := json.Unmarshal(b, &r.view); err != nil {
		c.fail("%s %s: %v in %q", method, u, err, b)
	}
	r.header, r.set, r.lines = resp.Header, resp.Cookies(), resp.Header.Values("Set-Cookie")
	if got := resp.Header.Get("X-Sealed-Runtime"); got != rt || r.Runtime != rt {
		c.fail("%s %s: answered by %q (%q), want %s: nginx routes by path", method, u, got, r.Runtime, rt)
	}
	// The answers that describe the session carry the error class in the
	// body too ("error": null without one): both must agree.
	describes := path == "/session" || strings.HasPrefix(path, "/session/") || strings.HasPrefix(path, "/login/")
	if e := resp.Header.Get("X-Sealed-Error"); describes && ((r.Error == nil) != (e == "") || (r.Error != nil && *r.Error != e)) {
		c.fail("%s %s: X-Sealed-Error %q, body error %v", method, u, e, r.Error)
	}
	c.checkHeaders(rt, r)
	return r
}

var attrs = regexp.MustCompile(`^(session(?:\.\d+)?)=([^;]*); (.*)$`)

// checkHeaders checks the Set-Cookie lines of r against the attributes all
// three runtimes must write: Path=/, a Max-Age, HttpOnly, SameSite=Lax (the
// Manager's defaults but Secure, which the test turns off for plain http),
// and the cache headers that keep a shared cache from storing them.
func (c *client) checkHeaders(rt string, r result) {
	for _, l := range r.lines {
		m := attrs.FindStringSubmatch(l)
		if m == nil {
			c.fail("%s set %q: not a session cookie line", rt, l)
		}
		want := "Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
		if m[2] != "" {
			want = "Path=/; Max-Age=N; HttpOnly; SameSite=Lax"
		}
		if got := regexp.MustCompile(`Max-Age=[1-9]\d*`).ReplaceAllString(m[3], "Max-Age=N"); got != want {
			c.fail("%s set cookie %s with the attributes %q, want %q (as the Go Manager)", rt, m[1], m[3], want)
		}
	}
	if len(r.lines) > 0 {
		if v, cc := r.header.Values("Vary"), r.header.Get("Cache-Control"); !slices.Contains(v, "Cookie") || cc != `no-cache="Set-Cookie"` {
			c.fail("%s set cookies with Vary %q and Cache-Control %q", rt, v, cc)
		}
	}
}

func (c *client) noSetCookie(r result) {
	c.check(len(r.lines) == 0, "%s re-wrote an unchanged, current session: %q", r.Runtime, r.lines)
}

// sealedUnder checks that r set the session in n cookies (1: unchunked),
// expiring the other session cookies the request carried, and that the
// Go sealed package opens what it set with the key file's key id, which
// is the primary. It also checks the key identifier in the value's header.
func (c *client) sealedUnder(r result, id string, n int) {
	live := map[string]string{}
	for _, ck := range r.set {
		if ck.MaxAge >= 0 {
			live[ck.Name] = ck.Value
		}
	}
	name, value := "session", live["session"]
	if n > 1 {
		var parts []string
		for i := range n {
			parts = append(parts, live["session."+strconv.Itoa(i)])
		}
		name, value = "session#"+strconv.Itoa(n), strings.Join(parts, "")
	}
	if len(live) != n || value == "" || strings.Contains(value, "=") {
		c.fail("%s set %v, want the session in %d cookie(s)", r.Runtime, names(live), n)
	}
	ring := c.ring()
	s := sealed.NewSealer(ring)
	s.MaxLen = 16 * 4096
	_, info, err := s.Open(name, value)
	if err != nil {
		c.fail("%s set a session the Go sealed package does not open: %v", r.Runtime, err)
	}
	if info.KeyID != id || info.Stale {
		c.fail("%s sealed with %s (stale %v), want %s", r.Runtime, info.KeyID, info.Stale, id)
	}
	head, err := base64.RawURLEncoding.DecodeString(value[:8])
	if sum := sha256.Sum256([]byte(id)); err != nil || !bytes.Equal(head[2:6], sum[:4]) {
		c.fail("%s: the header's key identifier is %x, want %x (SHA-256(%q))", r.Runtime, head[2:6], sum[:4], id)
	}
	version := byte(1)
	for _, k := range ring.Keys() {
		if k.ID() == id && k.Suite() == sealed.AES256GCM {
			version = 2
		}
	}
	if head[0] != version {
		c.fail("%s sealed a format version %d value with %s, want version %d", r.Runtime, head[0], id, version)
	}
}

// cookies returns the jar's cookies for the site.
func (c *client) cookies() map[string]string {
	out := map[string]string{}
	for _, ck := range c.jar.Cookies(c.base) {
		out[ck.Name] = ck.Value
	}
	return out
}

func (c *client) jarHolds(want ...string) {
	got := names(c.cookies())
	c.check(slices.Equal(got, want), "the jar holds %v, want %v", got, want)
}

func names(m map[string]string) []string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// tamper returns cookies with one character in the middle of cookie name
// changed: inside the ciphertext, so the value still decodes and only the
// authentication fails.
func tamper(cookies map[string]string, name string) map[string]string {
	out := map[string]string{}
	for k, v := range cookies {
		out[k] = v
	}
	b := []byte(out[name])
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	out[name] = string(b)
	return out
}

// refusedEverywhere sends cookies to each runtime from a jar of their own
// and checks that each has no session, reports the error class want (in
// its answer and its X-Sealed-Error header), and expires every cookie.
func (c *client) refusedEverywhere(what string, cookies map[string]string, want string) {
	for _, rt := range runtimes {
		jar := newJar()
		var set []*http.Cookie
		for k, v := range cookies {
			set = append(set, &http.Cookie{Name: k, Value: v, Path: "/"})
		}
		jar.SetCookies(c.base, set)
		r := c.doWith(jar, "GET", rt, "/session", nil)
		got := ""
		if r.Error != nil {
			got = *r.Error
		}
		if r.Session != nil || got != want || r.header.Get("X-Sealed-Error") != want {
			c.fail("%s, sent to %s: session %v, error %q (header %q), want %s", what, rt, r.Session, got, r.header.Get("X-Sealed-Error"), want)
		}
		left := jar.Cookies(c.base)
		c.check(len(left) == 0, "%s: %s did not expire %d cookie(s)", what, rt, len(left))
	}
	fmt.Printf("        %s: %s in go, python and node; every cookie expired\n", what, want)
}

// rotate runs "sealed rotate args..." on the key file, then waits until
// every service uses the ring ids (primary first).
func (c *client) rotate(args []string, ids ...string) {
	out, err := exec.Command(c.cli, append([]string{"rotate"}, args...)...).CombinedOutput()
	if err != nil {
		c.fail("sealed rotate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	c.reloads = append(c.reloads, c.waitRing(ids...))
}

// addKey adds a new key of suite to the key file, as "sealed rotate add"
// does (which makes XChaCha20-Poly1305 keys only): the file is replaced
// atomically, mode 0600. Then it waits until every service uses the ring
// ids (primary first).
func (c *client) addKey(id string, suite sealed.Suite, ids ...string) {
	ring := c.ring()
	k, err := sealed.GenerateSuiteKey(suite, id)
	if err != nil {
		c.fail("%v", err)
	}
	keys := append(ring.Keys(), k)
	next, err := sealed.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		c.fail("%v", err)
	}
	b, err := jwks.Marshal(next)
	if err != nil {
		c.fail("%v", err)
	}
	tmp := c.keys + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		c.fail("%v", err)
	}
	if err := os.Rename(tmp, c.keys); err != nil {
		c.fail("%v", err)
	}
	c.reloads = append(c.reloads, c.waitRing(ids...))
}

// ring reads the key file.
func (c *client) ring() *sealed.KeyRing {
	data, err := os.ReadFile(c.keys)
	if err != nil {
		c.fail("%v", err)
	}
	ring, err := jwks.Parse(data)
	if err != nil {
		c.fail("%v", err)
	}
	return ring
}

// waitRing waits until every service reports the ring ids, primary first,
// and returns how long that took.
func (c *client) waitRing(ids ...string) time.Duration {
	primary := ids[0]
	start := time.Now()
	hc := &http.Client{Timeout: 5 * time.Second}
	pending := slices.Clone(runtimes)
	for len(pending) > 0 {
		var still []string
		for _, rt := range pending {
			u := c.base.JoinPath(prefix[rt], "keys").String()
			resp, err := hc.Get(u)
			if err != nil {
				c.fail("GET %s: %v", u, err)
			}
			var v view
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if err != nil || v.Runtime != rt || resp.Header.Get("X-Sealed-Runtime") != rt || len(resp.Header.Values("Set-Cookie")) > 0 {
				c.fail("GET %s: %s %+v (%v)", u, resp.Status, v, err)
			}
			if v.Primary != primary || !slices.Equal(v.IDs, ids) {
				still = append(still, rt)
			}
		}
		pending = still
		if len(pending) > 0 {
			if time.Since(start) > 10*time.Second {
				c.fail("after 10s %v still do not use the ring %v", pending, ids)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	d := time.Since(start)
	fmt.Printf("        ring %v in go, python and node after %s\n", ids, d.Round(time.Millisecond))
	return d
}
