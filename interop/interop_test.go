package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/internal/peertest"
	"github.com/sealedcookie/sealed/jwe"
)

// These tests drive the package in js/ (@sealedcookie/sealed) and jose through
// sealedjs.mjs. Without Node or the installed packages they skip, unless
// SEALED_INTEROP=1, when they fail: run `npm ci --prefix interop` from the
// repository root first.

// js sends one request (or a slice of them) to sealedjs.mjs and decodes the
// answer into resp.
func js(t *testing.T, req, resp any) {
	t.Helper()
	peertest.RunJSON(t, peertest.NodeScript(t, "sealedjs.mjs", "@noble/ciphers", "@noble/hashes", "jose"), req, resp)
}

// jsReq is a request to sealedjs.mjs; bytes are hex.
type jsReq struct {
	Op            string            `json:"op"`
	Keys          any               `json:"keys"` // FormatKeyRing's form, or [{id, secret}]
	Name          string            `json:"name"`
	Value         string            `json:"value"`
	Plaintext     string            `json:"plaintext,omitempty"`
	Deflated      string            `json:"deflated,omitempty"`
	Nonce         string            `json:"nonce,omitempty"`
	Salt          string            `json:"salt,omitempty"`
	Now           int64             `json:"now,omitempty"`
	MaxLen        int               `json:"maxLen,omitempty"`
	MaxDecomp     int               `json:"maxDecompressed,omitempty"`
	Expires       int64             `json:"expires,omitempty"`
	CompressAbove int               `json:"compressAbove,omitempty"`
	Cookies       map[string]string `json:"cookies,omitempty"`
	Purpose       string            `json:"purpose,omitempty"`
}

type jsResp struct {
	Error     string   `json:"error"` // the error class, "" on success
	Message   string   `json:"message"`
	Plaintext string   `json:"plaintext"`
	KeyID     string   `json:"keyId"`
	Expires   int64    `json:"expires"`
	Stale     bool     `json:"stale"`
	Value     string   `json:"value"` // seal, jweSeal
	None      bool     `json:"none"`  // openSession: no session cookie
	Session   string   `json:"session"`
	Flashes   []string `json:"flashes"`
	Issued    int64    `json:"issued"`
	Deadline  int64    `json:"deadline"`
	Refreshed int64    `json:"refreshed"`
}

// class is the spec's name of a sealed error ("" for nil).
func class(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{
		{sealed.ErrTooLarge, "too_large"},
		{sealed.ErrMalformed, "malformed"},
		{sealed.ErrUnknownKey, "unknown_key"},
		{sealed.ErrInvalid, "invalid"},
		{sealed.ErrExpired, "expired"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	if err != nil {
		return "unexpected: " + err.Error()
	}
	return ""
}

func newKey(t *testing.T, id string) sealed.Key {
	t.Helper()
	return newSuiteKey(t, sealed.XChaCha20Poly1305, id)
}

func newSuiteKey(t *testing.T, suite sealed.Suite, id string) sealed.Key {
	t.Helper()
	k, err := sealed.GenerateSuiteKey(suite, id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRing(t *testing.T, keys ...sealed.Key) *sealed.KeyRing {
	t.Helper()
	r, err := sealed.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clock is the fixed time the Go sealers and the JavaScript opener share.
var clock = time.Unix(1763726400, 0)

func fixedSealer(r *sealed.KeyRing) *sealed.Sealer {
	s := sealed.NewSealer(r)
	s.Now = func() time.Time { return clock }
	return s
}

// vector is an entry of testdata/vectors.json or testdata/vectors-v2.json
// (docs/FORMAT.md).
type vector struct {
	Comment string `json:"comment"`
	Keys    []struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
		Suite  string `json:"suite,omitempty"`
	} `json:"keys"`
	Name       string `json:"name"`
	Purpose    string `json:"purpose"` // Sealer.Purpose; absent means none
	Now        int64  `json:"now"`
	MaxLen     int    `json:"max_len"`
	MaxDecomp  int    `json:"max_decompressed"` // not used by the vectors yet
	Sealed     string `json:"sealed"`
	Valid      bool   `json:"valid"`
	Error      string `json:"error"`
	KeyID      string `json:"key_id"`
	Expires    int64  `json:"expires"`
	Stale      bool   `json:"stale"`
	Salt       string `json:"salt"` // version 2
	Nonce      string `json:"nonce"`
	Plaintext  string `json:"plaintext"`
	Flags      int    `json:"flags"`
	Compressed string `json:"compressed"`
}

// TestVectors: the JavaScript decoder opens every valid vector to its
// plaintext, key, expiry and staleness, fails every invalid one with its
// error class, and its sealer reproduces every valid vector from its nonce
// (and salt), for both versions.
func TestVectors(t *testing.T) {
	for _, file := range []string{"vectors.json", "vectors-v2.json"} {
		t.Run(file, func(t *testing.T) { testVectors(t, file) })
	}
}

func testVectors(t *testing.T, name string) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	// One Node process for all: for each vector an open, and for a valid
	// one a seal with the key that sealed it.
	var reqs []jsReq
	for _, v := range file.Vectors {
		reqs = append(reqs, jsReq{Op: "open", Keys: v.Keys, Name: v.Name, Purpose: v.Purpose, Value: v.Sealed, Now: v.Now, MaxLen: v.MaxLen, MaxDecomp: v.MaxDecomp})
		if v.Valid {
			var key any
			for _, k := range v.Keys {
				if k.ID == v.KeyID {
					key = []any{k}
				}
			}
			if key == nil {
				t.Fatalf("vector %q: key_id %q not in keys", v.Comment, v.KeyID)
			}
			seal := jsReq{Op: "seal", Keys: key, Name: v.Name, Purpose: v.Purpose, Plaintext: v.Plaintext, Expires: v.Expires, Nonce: v.Nonce, Salt: v.Salt}
			if v.Flags == 1 {
				seal = jsReq{Op: "sealDeflated", Keys: key, Name: v.Name, Purpose: v.Purpose, Deflated: v.Compressed, Expires: v.Expires, Nonce: v.Nonce, Salt: v.Salt}
			}
			reqs = append(reqs, seal)
		}
	}
	var resps []jsResp
	js(t, reqs, &resps)
	if len(resps) != len(reqs) {
		t.Fatalf("%d answers for %d requests", len(resps), len(reqs))
	}
	compressed := 0
	for _, v := range file.Vectors {
		got := resps[0]
		resps = resps[1:]
		t.Run(v.Comment, func(t *testing.T) {
			if !v.Valid {
				if got.Error != v.Error {
					t.Fatalf("open: got %q (%s), want error %q", got.Error, got.Message, v.Error)
				}
				return
			}
			if got.Error != "" {
				t.Fatalf("open: %s", got.Message)
			}
			if got.Plaintext != v.Plaintext || got.KeyID != v.KeyID || got.Expires != v.Expires || got.Stale != v.Stale {
				t.Fatalf("open: got plaintext %.40s key %q expires %d stale %v, want %.40s %q %d %v",
					got.Plaintext, got.KeyID, got.Expires, got.Stale, v.Plaintext, v.KeyID, v.Expires, v.Stale)
			}
		})
		if v.Valid {
			if v.Flags != 0 {
				compressed++
			}
			resealed := resps[0]
			resps = resps[1:]
			t.Run(v.Comment+"/seal", func(t *testing.T) {
				if resealed.Error != "" || resealed.Value != v.Sealed {
					t.Fatalf("seal: got %q %s, want %q", resealed.Value, resealed.Message, v.Sealed)
				}
			})
		}
	}
	t.Logf("%d vectors, %d valid compressed", len(file.Vectors), compressed)
}

// TestGoSealsJSOpens: values Go seals, with and without compression, under
// a primary and a previous key, open in JavaScript with the same result.
func TestGoSealsJSOpens(t *testing.T) {
	for _, suite := range suites {
		t.Run(suite.String(), func(t *testing.T) { testGoSealsJSOpens(t, suite) })
	}
}

// suites are the AEAD suites the cross-language tests run under.
var suites = []sealed.Suite{sealed.XChaCha20Poly1305, sealed.AES256GCM}

func testGoSealsJSOpens(t *testing.T, suite sealed.Suite) {
	k1, k2 := newSuiteKey(t, suite, "2026-11"), newSuiteKey(t, suite, "2026-10")
	ring := newRing(t, k1, k2)
	old := fixedSealer(newRing(t, k2)) // seals with what is now the previous key
	cur := fixedSealer(ring)
	zip := fixedSealer(ring)
	zip.CompressAbove = 64
	expires := clock.Add(time.Hour)

	type tc struct {
		sealer    *sealed.Sealer
		name      string
		plaintext []byte
		stale     bool
	}
	var cases []tc
	longest := 2946 // the most a 4000-character value holds (docs/FORMAT.md)
	if suite == sealed.AES256GCM {
		longest -= 4 // version 2's envelope is 4 bytes longer
	}
	for _, n := range []int{0, 1, 2, 3, 4, 5, 47, 48, 49, 1000, longest} {
		cases = append(cases, tc{cur, "session", randomish(n), false})
	}
	cases = append(cases,
		tc{old, "session", []byte(`{"user":"alice"}`), true},
		tc{cur, "", []byte("empty cookie name"), false},
		tc{cur, "__Host-s", []byte("prefixed name"), false},
		tc{cur, "naïve", []byte("non-ASCII name bytes in the AD"), false},
		tc{zip, "session", bytes.Repeat([]byte(`{"sku":"A-1","qty":1},`), 200), false},
		tc{zip, "session", randomish(100), false}, // does not compress: flags 0
	)
	reqs := make([]jsReq, len(cases))
	for i, c := range cases {
		v, err := c.sealer.Seal(c.name, c.plaintext, expires)
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = jsReq{Op: "open", Keys: sealed.FormatKeyRing(ring), Name: c.name, Value: v, Now: clock.Unix()}
	}
	var resps []jsResp
	js(t, reqs, &resps)
	for i, c := range cases {
		got := resps[i]
		if got.Error != "" {
			t.Errorf("case %d (%d bytes, name %q): %s", i, len(c.plaintext), c.name, got.Message)
			continue
		}
		wantKey := k1.ID()
		if c.stale {
			wantKey = k2.ID()
		}
		if got.Plaintext != hex.EncodeToString(c.plaintext) || got.KeyID != wantKey || got.Expires != expires.Unix() || got.Stale != c.stale {
			t.Errorf("case %d: got %.40s %q %d %v, want %.40x %q %d %v", i, got.Plaintext, got.KeyID, got.Expires, got.Stale,
				c.plaintext, wantKey, expires.Unix(), c.stale)
		}
	}
}

// TestJSSealsGoOpens: values the JavaScript sealer writes open in Go.
func TestJSSealsGoOpens(t *testing.T) {
	for _, suite := range suites {
		t.Run(suite.String(), func(t *testing.T) { testJSSealsGoOpens(t, suite) })
	}
}

func testJSSealsGoOpens(t *testing.T, suite sealed.Suite) {
	ring := newRing(t, newSuiteKey(t, suite, "js"), newSuiteKey(t, suite, "older"))
	expires := clock.Add(time.Hour).Unix()
	plaintexts := [][]byte{{}, []byte(`{"user":"bob"}`), randomish(2000), bytes.Repeat([]byte("compressible "), 400)}
	var reqs []jsReq
	const maxLen = 8000
	for _, p := range plaintexts {
		reqs = append(reqs,
			jsReq{Op: "seal", Keys: sealed.FormatKeyRing(ring), Name: "sess", Plaintext: hex.EncodeToString(p), Expires: expires, MaxLen: maxLen},
			jsReq{Op: "seal", Keys: sealed.FormatKeyRing(ring), Name: "sess", Plaintext: hex.EncodeToString(p), Expires: expires, MaxLen: maxLen, CompressAbove: 1},
		)
	}
	var resps []jsResp
	js(t, reqs, &resps)
	s := fixedSealer(ring)
	s.MaxLen = maxLen
	for i, r := range resps {
		p := plaintexts[i/2]
		if r.Error != "" {
			t.Fatalf("seal %d: %s", i, r.Message)
		}
		got, info, err := s.Open("sess", r.Value)
		if err != nil {
			t.Fatalf("seal %d (%d bytes, compressAbove %d): Go Open: %v", i, len(p), reqs[i].CompressAbove, err)
		}
		if !bytes.Equal(got, p) || info.KeyID != "js" || info.Expires.Unix() != expires || info.Stale {
			t.Fatalf("seal %d: Go opened %.40q %+v", i, got, info)
		}
		if reqs[i].CompressAbove > 0 && i/2 == 3 && len(r.Value) > sealed.EncodedLen(len(p))/2 {
			t.Errorf("compressible plaintext of %d bytes sealed to %d characters: not compressed?", len(p), len(r.Value))
		}
		if _, _, err := s.Open("other", r.Value); !errors.Is(err, sealed.ErrInvalid) {
			t.Errorf("seal %d under another name: %v, want ErrInvalid", i, err)
		}
	}
}

// session mirrors the demo application's session (cmd/sealed/demo.go).
type session struct {
	Name    string `json:"name,omitempty"`
	Counter int    `json:"counter,omitempty"`
	Big     string `json:"big,omitempty"`
}

// cookiesOf returns the cookies a response sets (not those it expires).
func cookiesOf(resp *http.Response) map[string]string {
	m := map[string]string{}
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			m[c.Name] = c.Value
		}
	}
	return m
}

// TestMiddlewareCookies: the JavaScript package (js/src/session.ts) opens the
// cookies the middleware sets, in one cookie and in chunks, with flash
// messages and after a key rotation, and finds the JSON session inside.
func TestMiddlewareCookies(t *testing.T) {
	oldKey, newK := newKey(t, "old"), newKey(t, "new")
	var current atomic.Pointer[sealed.KeyRing] // rotated by the test while the server runs
	current.Store(newRing(t, oldKey))
	keys := keySource(current.Load)
	m, err := sealed.New(keys, sealed.JSON[session](), sealed.Options{Name: "sid", Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{name}", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), session{Name: r.PathValue("name")})
		m.Flash(r.Context(), "Welcome, "+r.PathValue("name")+"!")
	})
	mux.HandleFunc("POST /big/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		m.Update(r.Context(), func(s *session) { s.Big = blob(n); s.Counter++ })
	})
	mux.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
		info, _ := m.Info(r.Context())
		json.NewEncoder(w).Encode(info)
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()

	do := func(method, path string, cookies map[string]string) (map[string]string, sealed.SessionInfo) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for n, v := range cookies {
			req.AddCookie(&http.Cookie{Name: n, Value: v})
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var info sealed.SessionInfo
		if path == "/info" {
			json.NewDecoder(resp.Body).Decode(&info)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
		return cookiesOf(resp), info
	}
	open := func(cookies map[string]string) jsResp {
		t.Helper()
		var got jsResp
		js(t, jsReq{Op: "openSession", Keys: sealed.FormatKeyRing(current.Load()), Name: "sid", Cookies: cookies}, &got)
		if got.Error != "" || got.None {
			t.Fatalf("openSession %v: %s %s (none %v)", keysOf(cookies), got.Error, got.Message, got.None)
		}
		return got
	}
	decode := func(got jsResp) session {
		t.Helper()
		raw, _ := hex.DecodeString(got.Session)
		var s session
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("session value %q: %v", raw, err)
		}
		return s
	}

	// One cookie, with a flash message.
	small, _ := do("POST", "/login/alice", nil)
	if len(small) != 1 || small["sid"] == "" {
		t.Fatalf("login set %v, want one cookie sid", keysOf(small))
	}
	got := open(small)
	_, info := do("GET", "/info", small)
	if s := decode(got); s.Name != "alice" {
		t.Fatalf("session %+v", s)
	}
	if len(got.Flashes) != 1 || got.Flashes[0] != "Welcome, alice!" {
		t.Fatalf("flashes %q", got.Flashes)
	}
	if got.KeyID != "old" || got.Stale || got.Issued != info.Issued.Unix() || got.Deadline != info.Deadline.Unix() || got.Refreshed != info.Refreshed.Unix() {
		t.Fatalf("JavaScript read %+v, Go info %+v", got, info)
	}
	if got.Expires != got.Deadline {
		t.Fatalf("sealed expiry %d, deadline %d (no idle timeout: they are equal)", got.Expires, got.Deadline)
	}

	// Chunks: sid.0, sid.1, ... sealed for "sid#n".
	big, _ := do("POST", "/big/7000", small)
	if _, ok := big["sid.1"]; !ok {
		t.Fatalf("7000-byte session set %v, want chunks", keysOf(big))
	}
	got = open(big)
	if s := decode(got); s.Name != "alice" || s.Big != blob(7000) || s.Counter != 1 {
		t.Fatalf("chunked session: name %q, %d bytes, counter %d", s.Name, len(s.Big), s.Counter)
	}

	// After a rotation, a cookie sealed with the old key opens stale.
	current.Store(newRing(t, newK, oldKey))
	if got := open(small); got.KeyID != "old" || !got.Stale {
		t.Fatalf("after rotation: key %q stale %v", got.KeyID, got.Stale)
	}
	fresh, _ := do("POST", "/big/10", small)
	if got := open(fresh); got.KeyID != "new" || got.Stale || decode(got).Counter != 1 {
		t.Fatalf("re-sealed: key %q stale %v", got.KeyID, got.Stale)
	}

	// A chunk presented as the whole cookie does not open.
	var bad jsResp
	js(t, jsReq{Op: "openSession", Keys: sealed.FormatKeyRing(current.Load()), Name: "sid", Cookies: map[string]string{"sid": big["sid.0"] + big["sid.1"]}}, &bad)
	if bad.Error != "invalid" && bad.Error != "too_large" {
		t.Fatalf("chunks joined into sid: %q %s", bad.Error, bad.Message)
	}
}

type keySource func() *sealed.KeyRing

func (f keySource) Current() *sealed.KeyRing { return f() }

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestDemoServer: the JavaScript reader opens the cookies the real demo
// server (`sealed demo`, cmd/sealed) sets: a login, a counter, and a session
// large enough to be split into chunks.
func TestDemoServer(t *testing.T) {
	js(t, []jsReq{}, new([]jsResp)) // skip or fail early without Node
	if testing.Short() {
		t.Skip("builds cmd/sealed")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build cmd/sealed")
	}
	bin := filepath.Join(t.TempDir(), "sealed")
	if out, err := exec.Command(goTool, "build", "-o", bin, "../cmd/sealed").CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/sealed: %v\n%s", err, out)
	}
	ring := newRing(t, newKey(t, "demo-1"), newKey(t, "demo-0"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo", "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SEALED_KEYS="+sealed.FormatKeyRing(ring))
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	var base string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, url, ok := strings.Cut(lines.Text(), "serving "); ok {
			base = strings.Replace(url, "localhost", "127.0.0.1", 1)
			break
		}
	}
	if base == "" {
		t.Fatal("the demo did not print its address")
	}
	go io.Copy(io.Discard, stdout)

	do := func(method, path string, cookies map[string]string) map[string]string {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, nil)
		for n, v := range cookies {
			req.AddCookie(&http.Cookie{Name: n, Value: v})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s: %s %s", method, path, resp.Status, body)
		}
		return cookiesOf(resp)
	}
	open := func(cookies map[string]string) session {
		t.Helper()
		var got jsResp
		js(t, jsReq{Op: "openSession", Keys: sealed.FormatKeyRing(ring), Name: "session", Cookies: cookies}, &got)
		if got.Error != "" || got.None {
			t.Fatalf("openSession %v: %s %s", keysOf(cookies), got.Error, got.Message)
		}
		if got.KeyID != "demo-1" || got.Stale {
			t.Fatalf("key %q stale %v", got.KeyID, got.Stale)
		}
		raw, _ := hex.DecodeString(got.Session)
		var s session
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("session value %q: %v", raw, err)
		}
		return s
	}

	login := do("POST", "/create_session/grace", nil)
	if s := open(login); s.Name != "grace" {
		t.Fatalf("after login: %+v", s)
	}
	counted := do("GET", "/session_test", login)
	if s := open(counted); s.Name != "grace" || s.Counter != 1 {
		t.Fatalf("after /session_test: %+v", s)
	}
	big := do("POST", "/big/7000", counted)
	if _, ok := big["session.1"]; !ok {
		t.Fatalf("7000-byte session set %v, want chunks", keysOf(big))
	}
	if s := open(big); s.Name != "grace" || len(s.Big) != 7000 {
		t.Fatalf("after /big/7000: name %q, %d bytes", s.Name, len(s.Big))
	}
}

// TestJWE: Node's jose reads what Go's jwe.Sealer writes, and Go reads what
// jose writes, with the kid, exp and cookie header parameters checked on
// both sides.
func TestJWE(t *testing.T) {
	k1, k0 := newKey(t, "jwe-2"), newKey(t, "jwe-1")
	ring := newRing(t, k1, k0)
	goJWE := jwe.NewSealer(ring)
	goJWE.Now = func() time.Time { return clock }
	oldJWE := jwe.NewSealer(newRing(t, k0))
	expires := clock.Add(time.Hour)
	payload := []byte(`{"user":"alice","roles":["admin"]}`)

	// Go writes, jose reads.
	v, err := goJWE.Seal("session", payload, expires)
	if err != nil {
		t.Fatal(err)
	}
	vOld, err := oldJWE.Seal("session", payload, expires)
	if err != nil {
		t.Fatal(err)
	}
	keys := sealed.FormatKeyRing(ring)
	reqs := []jsReq{
		{Op: "jweOpen", Keys: keys, Name: "session", Value: v, Now: clock.Unix()},
		{Op: "jweOpen", Keys: keys, Name: "session", Value: vOld, Now: clock.Unix()},
		{Op: "jweOpen", Keys: keys, Name: "other", Value: v, Now: clock.Unix()},
		{Op: "jweOpen", Keys: keys, Name: "session", Value: v, Now: expires.Unix()},
		{Op: "jweOpen", Keys: sealed.FormatKeyRing(newRing(t, newKey(t, "jwe-2"))), Name: "session", Value: v, Now: clock.Unix()},
		{Op: "jweOpen", Keys: sealed.FormatKeyRing(newRing(t, newKey(t, "x"))), Name: "session", Value: v, Now: clock.Unix()},
		// jose writes, Go reads.
		{Op: "jweSeal", Keys: keys, Name: "session", Plaintext: hex.EncodeToString(payload), Expires: expires.Unix()},
		{Op: "jweSeal", Keys: sealed.FormatKeyRing(newRing(t, k0)), Name: "session", Plaintext: hex.EncodeToString(payload), Expires: expires.Unix()},
	}
	var resps []jsResp
	js(t, reqs, &resps)
	for i, want := range []struct {
		err, key string
		stale    bool
	}{{"", "jwe-2", false}, {"", "jwe-1", true}, {"invalid", "", false}, {"expired", "", false}, {"invalid", "", false}, {"unknown_key", "", false}} {
		got := resps[i]
		if got.Error != want.err {
			t.Errorf("jose read %d: error %q (%s), want %q", i, got.Error, got.Message, want.err)
			continue
		}
		if want.err == "" && (got.Plaintext != hex.EncodeToString(payload) || got.KeyID != want.key || got.Stale != want.stale || got.Expires != expires.Unix()) {
			t.Errorf("jose read %d: %+v", i, got)
		}
	}

	fromJose, fromJoseOld := resps[6].Value, resps[7].Value
	if fromJose == "" || fromJoseOld == "" {
		t.Fatalf("jose seal: %+v %+v", resps[6], resps[7])
	}
	pt, info, err := goJWE.Open("session", fromJose)
	if err != nil || !bytes.Equal(pt, payload) || info.KeyID != "jwe-2" || info.Stale || !info.Expires.Equal(expires) {
		t.Fatalf("Go read jose's JWE: %q %+v %v", pt, info, err)
	}
	if _, info, err := goJWE.Open("session", fromJoseOld); err != nil || info.KeyID != "jwe-1" || !info.Stale {
		t.Fatalf("Go read jose's JWE under the previous key: %+v %v", info, err)
	}
	if _, _, err := goJWE.Open("session2", fromJose); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("jose's JWE under another cookie name: %v, want ErrInvalid", err)
	}
	late := jwe.NewSealer(ring)
	late.Now = func() time.Time { return expires }
	if _, _, err := late.Open("session", fromJose); !errors.Is(err, sealed.ErrExpired) {
		t.Fatalf("jose's JWE at its exp: %v, want ErrExpired", err)
	}
	if _, _, err := jwe.NewSealer(newRing(t, newKey(t, "jwe-2"))).Open("session", fromJose); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("jose's JWE with another secret: %v, want ErrInvalid", err)
	}
	if _, _, err := jwe.NewSealer(newRing(t, newKey(t, "y"))).Open("session", fromJose); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Fatalf("jose's JWE with its key missing: %v, want ErrUnknownKey", err)
	}
}

// randomish returns n bytes of every value that do not compress, the same
// for the same n.
func randomish(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15) ^ uint64(n)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return b
}

// blob returns n bytes of ASCII text that does not compress.
func blob(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := randomish(n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
