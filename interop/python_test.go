package interop_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/internal/peertest"
	"github.com/sealedcookie/sealed/jwks"
)

// These tests drive the Python package (python/, module sealed_session)
// through sealedpy.py, as interop_test.go drives the JavaScript one. They
// need a python3 that can import cryptography (Debian: python3-cryptography);
// TestPythonPytest also needs pytest, Starlette, httpx and FastAPI. Without
// them the tests skip, unless SEALED_PYTHON=1 or SEALED_INTEROP=1, when they
// fail. SEALED_SESSION_PYTHON names the interpreter to use.

const pyHint = "install with: apt-get update && apt-get install -y python3-cryptography python3-pytest python3-starlette python3-httpx python3-fastapi python3-uvicorn"

// pyInterpreters caches, per import list, the interpreter peertest found.
var pyInterpreters sync.Map // imports -> string

// pyInterpreter returns a python3 that can import imports: the one
// SEALED_SESSION_PYTHON names, and no other, if set; else /usr/bin/python3
// or python3. Without one it skips t (fails it with SEALED_PYTHON=1 or
// SEALED_INTEROP=1).
func pyInterpreter(t *testing.T, imports string) string {
	t.Helper()
	if found, ok := pyInterpreters.Load(imports); ok {
		return found.(string)
	}
	candidates := []string{"/usr/bin/python3", "python3"}
	if p := os.Getenv("SEALED_SESSION_PYTHON"); p != "" {
		candidates = []string{p}
	}
	found := peertest.StrictPython(t, "SEALED_PYTHON", "", imports, pyHint, candidates...)
	pyInterpreters.Store(imports, found)
	return found
}

// pyCommand returns the command that runs sealedpy.py with args.
func pyCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	py := pyInterpreter(t, "cryptography.hazmat.primitives.ciphers.aead")
	cmd := exec.Command(py, append([]string{"sealedpy.py"}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	return cmd
}

// py sends one request (or a slice of them) to sealedpy.py and decodes the
// answer into resp.
func py(t *testing.T, req, resp any) {
	t.Helper()
	peertest.RunJSON(t, pyCommand(t), req, resp)
}

// pyConn is a sealedpy.py process answering one request per line, for
// conversations whose next request depends on the last answer.
type pyConn struct {
	in  io.WriteCloser
	out *bufio.Reader
	cmd *exec.Cmd
	err bytes.Buffer
}

func startPy(t *testing.T) *pyConn {
	t.Helper()
	p := &pyConn{cmd: pyCommand(t, "--lines")}
	p.cmd.Stderr = &p.err
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(stdout)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.in.Close()
		p.cmd.Wait()
	})
	return p
}

func (p *pyConn) call(t *testing.T, req, resp any) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		t.Fatalf("sealedpy.py: %v\n%s", err, p.err.Bytes())
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("sealedpy.py: %v\n%s", err, p.err.Bytes())
	}
	if err := json.Unmarshal(line, resp); err != nil {
		t.Fatalf("sealedpy.py answered %.300q: %v\n%s", line, err, p.err.Bytes())
	}
}

// TestPythonVectors: sealed_session opens every vector of both files to its
// plaintext, key, expiry and staleness, fails every invalid one with its
// class, and re-seals every valid one byte for byte.
func TestPythonVectors(t *testing.T) {
	for _, file := range []string{"vectors.json", "vectors-v2.json"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				Vectors []vector `json:"vectors"`
			}
			if err := json.Unmarshal(data, &f); err != nil || len(f.Vectors) == 0 {
				t.Fatalf("%s: %v", file, err)
			}
			var reqs []jsReq
			for _, v := range f.Vectors {
				reqs = append(reqs, jsReq{Op: "open", Keys: v.Keys, Name: v.Name, Purpose: v.Purpose, Value: v.Sealed, Now: v.Now, MaxLen: v.MaxLen})
				if v.Valid {
					var key any
					for _, k := range v.Keys {
						if k.ID == v.KeyID {
							key = []any{k}
						}
					}
					seal := jsReq{Op: "seal", Keys: key, Name: v.Name, Purpose: v.Purpose, Plaintext: v.Plaintext, Expires: v.Expires, Nonce: v.Nonce, Salt: v.Salt, MaxLen: v.MaxLen}
					if v.Flags == 1 {
						seal = jsReq{Op: "sealDeflated", Keys: key, Name: v.Name, Purpose: v.Purpose, Deflated: v.Compressed, Expires: v.Expires, Nonce: v.Nonce, Salt: v.Salt}
					}
					reqs = append(reqs, seal)
				}
			}
			var resps []jsResp
			py(t, reqs, &resps)
			if len(resps) != len(reqs) {
				t.Fatalf("%d answers for %d requests", len(resps), len(reqs))
			}
			for _, v := range f.Vectors {
				got := resps[0]
				resps = resps[1:]
				switch {
				case !v.Valid && got.Error != v.Error:
					t.Errorf("%s: open: %q (%s), want %q", v.Comment, got.Error, got.Message, v.Error)
				case v.Valid && (got.Error != "" || got.Plaintext != v.Plaintext || got.KeyID != v.KeyID || got.Expires != v.Expires || got.Stale != v.Stale):
					t.Errorf("%s: open: %+v", v.Comment, got)
				}
				if v.Valid {
					if resealed := resps[0]; resealed.Value != v.Sealed {
						t.Errorf("%s: seal: %q %s, want %q", v.Comment, resealed.Value, resealed.Message, v.Sealed)
					}
					resps = resps[1:]
				}
			}
		})
	}
}

// TestPythonMiddlewareVectors: sealed_session.open_session reads every
// vector of testdata/middleware-vectors.json as the Go Manager does.
func TestPythonMiddlewareVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "middleware-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			Comment     string            `json:"comment"`
			Keys        any               `json:"keys"`
			Name        string            `json:"name"`
			Now         int64             `json:"now"`
			Cookies     map[string]string `json:"cookies"`
			Valid       bool              `json:"valid"`
			Issued      int64             `json:"issued"`
			Deadline    int64             `json:"deadline"`
			Refreshed   int64             `json:"refreshed"`
			ID          string            `json:"id"`
			Minted      int64             `json:"minted"`
			Subject     string            `json:"subject"`
			Flashes     []string          `json:"flashes"`
			Value       *string           `json:"value"`
			Persistence string            `json:"persistence"`
			Error       string            `json:"error"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(data, &f); err != nil || len(f.Vectors) == 0 {
		t.Fatalf("middleware-vectors.json: %d vectors, %v", len(f.Vectors), err)
	}
	var reqs []jsReq
	for _, v := range f.Vectors {
		reqs = append(reqs, jsReq{Op: "openSession", Keys: v.Keys, Name: v.Name, Now: v.Now, Cookies: v.Cookies})
	}
	var resps []struct {
		jsResp
		Session    *string `json:"session"`
		ID         string  `json:"id"`
		Minted     int64   `json:"minted"`
		Subject    string  `json:"subject"`
		Persistent *bool   `json:"persistent"`
	}
	py(t, reqs, &resps)
	if len(resps) != len(reqs) {
		t.Fatalf("%d answers for %d requests", len(resps), len(reqs))
	}
	for i, v := range f.Vectors {
		got := resps[i]
		if !v.Valid {
			if got.Error != v.Error {
				t.Errorf("%s: %q (%s), want %q", v.Comment, got.Error, got.Message, v.Error)
			}
			continue
		}
		var value *string
		if got.Session != nil {
			b, _ := hex.DecodeString(*got.Session)
			s := string(b)
			value = &s
		}
		persistence := ""
		if got.Persistent != nil {
			persistence = map[bool]string{true: "persistent", false: "browser_session"}[*got.Persistent]
		}
		if got.Error != "" || got.Issued != v.Issued || got.Deadline != v.Deadline || got.Refreshed != v.Refreshed ||
			got.ID != v.ID || got.Minted != v.Minted || got.Subject != v.Subject || !slices.Equal(got.Flashes, v.Flashes) ||
			!reflect.DeepEqual(value, v.Value) || persistence != v.Persistence {
			t.Errorf("%s: got %+v", v.Comment, got)
		}
	}
	t.Logf("%d vectors", len(f.Vectors))
}

// pySeed returns the seed of the random tests: $SEALED_PY_SEED, or the clock.
func pySeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SEALED_PY_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("SEALED_PY_SEED=%d", seed)
	return seed
}

// randomText returns up to n bytes of valid UTF-8 without NUL, from every
// plane, as cookie names and purposes in JSON must be.
func pyRandomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		var c rune
		switch r.IntN(4) {
		case 0:
			c = rune(0x21 + r.IntN(0x5e))
		case 1:
			c = rune(1 + r.IntN(0x7f))
		case 2:
			c = rune(0x80 + r.IntN(0x800))
		default:
			c = rune(0x800 + r.IntN(0x10f800))
		}
		if !utf8.ValidRune(c) || b.Len()+utf8.RuneLen(c) > n {
			break
		}
		b.WriteRune(c)
	}
	return b.String()
}

func pyRandomKeyID(r *rand.Rand) string {
	const chars = "!\"#$%&'()*+-./0123456789;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	b := make([]byte, 1+r.IntN(64))
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// TestPythonRoundTrip is the property test: for random keys of both suites,
// names, purposes, plaintexts (compressed or not), expiries and sealing keys,
// Python opens what Go seals and Go opens what Python seals, with the same
// plaintext, key, expiry and staleness, or the same error class.
func TestPythonRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(pySeed(t), 0x5eed))
	type tc struct {
		ring           *sealed.KeyRing
		sealWith       int // index of the sealing key in ring
		name, purpose  string
		openPurpose    string
		plaintext      []byte
		expires, now   int64
		compress, skew int
	}
	var cases []tc
	for range 400 {
		var keys []sealed.Key
		for range 1 + r.IntN(3) {
			suite := suites[r.IntN(len(suites))]
			id := pyRandomKeyID(r)
			k, err := sealed.GenerateSuiteKey(suite, id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(keys, func(o sealed.Key) bool { return o.ID() == id }) {
				keys = append(keys, k)
			}
		}
		ring, err := sealed.NewKeyRing(keys[0], keys[1:]...)
		if err != nil {
			continue // two IDs share a header identifier: 2^-32
		}
		c := tc{ring: ring, sealWith: r.IntN(len(keys)), now: clock.Unix()}
		switch r.IntN(4) {
		case 0:
			c.name = "session"
		case 1:
			c.name = ""
		default:
			c.name = pyRandomText(r, r.IntN(40))
		}
		if r.IntN(2) == 0 {
			c.purpose = pyRandomText(r, r.IntN(256))
		}
		c.openPurpose = c.purpose
		if r.IntN(10) == 0 {
			c.openPurpose = pyRandomText(r, 1+r.IntN(20))
		}
		n := r.IntN(2900)
		if r.IntN(2) == 0 {
			c.plaintext = bytes.Repeat([]byte(`{"sku":"A-1","qty":1},`), 1+n/22)[:n]
		} else {
			c.plaintext = make([]byte, n)
			for i := range c.plaintext {
				c.plaintext[i] = byte(r.Uint32())
			}
		}
		if r.IntN(2) == 0 {
			c.compress = 1 + r.IntN(200)
		}
		switch r.IntN(6) {
		case 0:
			c.expires = c.now - int64(r.IntN(100)) // expired
		case 1:
			c.expires = 1<<63 - 1 - int64(r.IntN(10)) // the end of time: no overflow
			c.skew = r.IntN(1000)
		default:
			c.expires = c.now + 1 + int64(r.IntN(1<<20))
		}
		cases = append(cases, c)
	}

	// Go seals, Python opens.
	type openReq struct {
		jsReq
		Skew int `json:"skew,omitempty"`
	}
	opens := make([]openReq, len(cases))
	wants := make([]string, len(cases))
	for i, c := range cases {
		keys := c.ring.Keys()
		s := sealed.NewSealer(newRing(t, keys[c.sealWith]))
		s.Purpose, s.CompressAbove = c.purpose, c.compress
		v, err := s.Seal(c.name, c.plaintext, time.Unix(c.expires, 0))
		if err != nil {
			t.Fatalf("case %d: Go seal: %v", i, err)
		}
		opens[i] = openReq{jsReq{Op: "open", Keys: sealed.FormatKeyRing(c.ring), Name: c.name, Value: v, Now: c.now, Purpose: c.openPurpose}, c.skew}
		g := fixedSealer(c.ring)
		g.Purpose, g.ClockSkew = c.openPurpose, time.Duration(c.skew)*time.Second
		_, _, err = g.Open(c.name, v)
		wants[i] = class(err)
	}
	var resps []jsResp
	py(t, opens, &resps)
	counts := map[string]int{}
	for i, c := range cases {
		got := resps[i]
		counts[wants[i]]++
		if got.Error != wants[i] {
			t.Errorf("case %d (Go seals): Python %q (%s), Go %q", i, got.Error, got.Message, wants[i])
			continue
		}
		key := c.ring.Keys()[c.sealWith].ID()
		if got.Error == "" && (got.Plaintext != hex.EncodeToString(c.plaintext) || got.KeyID != key || got.Expires != c.expires || got.Stale != (c.sealWith != 0)) {
			t.Errorf("case %d (Go seals): Python opened %.40s %q %d %v", i, got.Plaintext, got.KeyID, got.Expires, got.Stale)
		}
	}
	t.Logf("Go seals, Python opens: %d cases: %v", len(cases), counts)

	// Python seals, Go opens.
	reqs := make([]jsReq, len(cases))
	for i, c := range cases {
		keys := c.ring.Keys()
		reqs[i] = jsReq{Op: "seal", Keys: sealed.FormatKeyRing(newRing(t, keys[c.sealWith])), Name: c.name, Purpose: c.purpose,
			Plaintext: hex.EncodeToString(c.plaintext), Expires: c.expires, CompressAbove: c.compress}
	}
	resps = nil // Unmarshal keeps the fields an answer lacks
	py(t, reqs, &resps)
	counts = map[string]int{}
	for i, c := range cases {
		got := resps[i]
		if got.Error != "" {
			t.Fatalf("case %d: Python seal: %s", i, got.Message)
		}
		g := fixedSealer(c.ring)
		g.Purpose, g.ClockSkew = c.openPurpose, time.Duration(c.skew)*time.Second
		p, oi, err := g.Open(c.name, got.Value)
		counts[class(err)]++
		if err == nil && (!bytes.Equal(p, c.plaintext) || oi.KeyID != c.ring.Keys()[c.sealWith].ID() || oi.Expires.Unix() != c.expires || oi.Stale != (c.sealWith != 0)) {
			t.Errorf("case %d (Python seals): Go opened %.40q %+v", i, p, oi)
		}
		if class(err) != wants[i] {
			t.Errorf("case %d (Python seals): Go %v, want %q", i, err, wants[i])
		}
		if c.compress > 0 && len(c.plaintext) >= c.compress && len(c.plaintext) > 200 && bytes.HasPrefix(c.plaintext, []byte(`{"sku"`)) {
			if raw, _ := base64.RawURLEncoding.DecodeString(got.Value[:4]); raw[1] != 0x01 {
				t.Errorf("case %d: Python did not compress %d compressible bytes", i, len(c.plaintext))
			}
		}
	}
	t.Logf("Python seals, Go opens: %v", counts)
}

// TestPythonKeyRingsAgree: KeyRing.parse accepts exactly the key rings
// sealed.ParseKeyRing accepts, KeyRing.from_jwks exactly the sets
// jwks.Parse accepts, with the same keys, and neither quotes a secret.
func TestPythonKeyRingsAgree(t *testing.T) {
	secret := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) // has '-' and '_'
	other := base64.RawURLEncoding.EncodeToString(randomish(32))
	texts := []string{
		"k1:" + secret,
		"k1:" + secret + "=",
		"k1:" + secret + ":xchacha20poly1305,k2:" + other + "=:aes256gcm",
		"", " ", "k1", ":" + secret, "k,1:" + secret, "k1:" + secret + ":chacha",
		"k1:" + secret + ":aes256gcm:x", "k1:" + secret[:42], "k1:" + secret + "A", "k1:" + secret[:42] + "B",
		"k1:" + secret + "==", "k1:" + secret[:20] + "\n" + secret[20:], "k1:" + strings.ReplaceAll(secret, "-", "+"),
		"k1:" + secret + ",k1:" + other, "k1:" + secret + ",", strings.Repeat("k", 65) + ":" + secret, "ké:" + secret,
		"k1:" + base64.RawURLEncoding.EncodeToString(make([]byte, 31)),
		"k1:" + base64.URLEncoding.EncodeToString(make([]byte, 32)), "k1:" + base64.URLEncoding.EncodeToString(make([]byte, 33)),
	}
	texts = append(texts, trickyKeyRings(secret, other)...)
	key := func(members ...string) string { return "{" + strings.Join(members, ",") + "}" }
	mwSet := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }
	k := `"k":"` + secret + `"`
	docs := []string{
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, k)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"alg":"A256GCM"`, `"use":"enc"`, k), key(`"kty":"oct"`, `"kid":"b"`, `"alg":"XC20P"`, `"k":"`+other+`"`)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"alg":"dir"`, k)),
		mwSet(key(`"KTY":"oct"`, `"Kid":"a"`, `"K":"`+secret+`"`, `"alg":null`)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"k":"x"`, k)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, k, `"k":"x"`)),
		`{"Keys":[` + key(`"kty":"oct"`, `"kid":"a"`, k) + `]}`,
		`{"keys":[` + key(`"kty":"oct"`, `"kid":"a"`, k) + `],"keys":[]}`,
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, k), key(`"kty":"oct"`, `"kid":"a"`, k)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"k":"`+secret+`="`)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"use":"sig"`, k)), mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"use":null`, k)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"alg":"A128GCM"`, k)), mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"alg":"xc20p"`, k)),
		mwSet(key(`"kty":"RSA"`, `"kid":"a"`, k)), mwSet(key(`"kid":"a"`, k)), mwSet(key(`"kty":"oct"`, k)),
		mwSet(key(`"kty":"oct"`, `"kid":""`, k)), mwSet(key(`"kty":"oct"`, `"kid":"a b"`, k)), mwSet(key(`"kty":"oct"`, `"kid":7`, k)),
		mwSet(key(`"kty":"oct"`, `"kid":"a"`)), mwSet(key(`"kty":"oct"`, `"kid":"a"`, `"k":"`+secret[:40]+`"`)),
		mwSet(key(`"kty":"oct"`, `"kid":"`+secret+`!,"`, `"k":"2025-06"`)),
		mwSet(`null`), mwSet(`"a"`), mwSet(`[]`), mwSet(), `{"keys":{}}`, `{"keys":"k"}`, `{"keys":null}`, `{}`, `[]`, `null`, `"x"`, ``, `{`,
		mwSet(key(`"kty":"oct"`, `"kid":"a"`, k)) + " x", mwSet(key(`"kty":"oct"`, `"kid":"a"`, k, `"x":1e400`)),
	}
	var reqs []map[string]string
	for _, s := range texts {
		reqs = append(reqs, map[string]string{"op": "parseKeys", "text": s})
	}
	for _, d := range docs {
		reqs = append(reqs, map[string]string{"op": "parseKeys", "jwks": d})
	}
	var resps []struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Keys    []struct {
			ID, Suite, Secret string
		} `json:"keys"`
	}
	py(t, reqs, &resps)
	for i, req := range reqs {
		got := resps[i]
		var ring *sealed.KeyRing
		var err error
		input, isJWKS := req["jwks"]
		if isJWKS {
			ring, err = jwks.Parse([]byte(input))
		} else {
			input = req["text"]
			ring, err = sealed.ParseKeyRing(input)
		}
		if (err == nil) != (got.Error == "") {
			t.Errorf("%q: Go %v, Python %s", input, err, got.Message)
			continue
		}
		if strings.Contains(got.Message, secret) || strings.Contains(got.Message, other) {
			t.Errorf("%q: Python's error quotes a secret: %s", input, got.Message)
		}
		if err != nil {
			continue
		}
		var want []string
		for _, k := range ring.Keys() {
			want = append(want, k.ID()+" "+k.Suite().String())
		}
		var have []string
		var text []string
		for _, k := range got.Keys {
			have = append(have, k.ID+" "+k.Suite)
			b, _ := hex.DecodeString(k.Secret)
			entry := k.ID + ":" + base64.RawURLEncoding.EncodeToString(b)
			if k.Suite != "xchacha20poly1305" {
				entry += ":" + k.Suite
			}
			text = append(text, entry)
		}
		if !slices.Equal(have, want) || strings.Join(text, ",") != sealed.FormatKeyRing(ring) {
			t.Errorf("%q: Python keys %v, Go %v", input, have, want)
		}
	}
	t.Logf("%d key rings, %d key sets", len(texts), len(docs))
}

// TestPythonPytest runs the Python package's own tests (interop/python/tests).
func TestPythonPytest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pytest")
	}
	interp := pyInterpreter(t, "cryptography, pytest, starlette.testclient, httpx, fastapi")
	cmd := exec.Command(interp, "-m", "pytest", "-q", "-p", "no:cacheprovider")
	cmd.Dir = "python"
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pytest: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Log(lines[len(lines)-1])
	if strings.Contains(string(out), "skipped") {
		t.Errorf("pytest skipped tests:\n%s", out)
	}
}

// --- The middleware, Go's Manager against SessionMiddleware ------------------

// mwOptions are the options both middlewares get; the JSON names are those
// sealedpy.py maps to SessionMiddleware's arguments. Durations are seconds.
type mwOptions struct {
	Name            string `json:"name,omitempty"`
	Path            string `json:"path,omitempty"`
	Domain          string `json:"domain,omitempty"`
	SameSite        string `json:"sameSite,omitempty"` // lax (default), strict, none, default (omitted)
	DisableSecure   bool   `json:"disableSecure,omitempty"`
	DisableHTTPOnly bool   `json:"disableHTTPOnly,omitempty"`
	Partitioned     bool   `json:"partitioned,omitempty"`
	BrowserSession  bool   `json:"browserSession,omitempty"`
	Lifetime        int64  `json:"lifetime,omitempty"`
	IdleTimeout     int64  `json:"idleTimeout,omitempty"`
	IdleRefresh     int64  `json:"idleRefresh,omitempty"`
	ClockSkew       int64  `json:"clockSkew,omitempty"`
	Purpose         string `json:"purpose,omitempty"`
	ChunkBudget     int    `json:"chunkBudget,omitempty"`
	CompressAbove   int    `json:"compressAbove,omitempty"`
	SubjectKey      string `json:"subjectKey,omitempty"` // the session key whose value is the subject
}

// action is one thing a handler does with the session.
type mwAction struct {
	Op       string `json:"op"` // get, set, delete, flash, flashes, destroy, renew, rememberMe, info
	Key      string `json:"key,omitempty"`
	Value    any    `json:"value,omitempty"`
	Message  string `json:"message,omitempty"`
	Remember bool   `json:"remember,omitempty"`
}

// mwStep is one request of a scenario.
type mwStep struct {
	advance int64             // seconds the clock moves before the request
	keys    *sealed.KeyRing   // the ring from this step on (nil: unchanged)
	opts    *mwOptions        // the options from this step on (nil: unchanged)
	add     map[string]string // cookies the client adds (a leftover chunk)
	tamper  bool              // flip a character of the session cookie
	headers [][2]string       // response headers the handler sets
	actions []mwAction
}

// mwOut is what a request produced, comparable between implementations.
type mwOut struct {
	SetCookie    []string `json:"setCookie"`
	Vary         []string `json:"vary"`
	CacheControl []string `json:"cacheControl"`
	Results      []any    `json:"results"`
	Errors       []string `json:"errors"`
}

func (o mwOptions) manager(t *testing.T, keys *sealed.KeyRing, now int64, errs *[]string) *sealed.Manager[map[string]any] {
	t.Helper()
	sameSite := map[string]http.SameSite{"": http.SameSiteLaxMode, "lax": http.SameSiteLaxMode, "strict": http.SameSiteStrictMode,
		"none": http.SameSiteNoneMode, "default": http.SameSiteDefaultMode}[o.SameSite]
	m, err := sealed.New(keys, sealed.JSON[map[string]any](), sealed.Options{
		Name: o.Name, Path: o.Path, Domain: o.Domain, SameSite: sameSite, DisableSecure: o.DisableSecure,
		DisableHTTPOnly: o.DisableHTTPOnly, Partitioned: o.Partitioned, BrowserSession: o.BrowserSession,
		Lifetime: time.Duration(o.Lifetime) * time.Second, IdleTimeout: time.Duration(o.IdleTimeout) * time.Second,
		IdleRefresh: time.Duration(o.IdleRefresh) * time.Second, ClockSkew: time.Duration(o.ClockSkew) * time.Second,
		Purpose: o.Purpose, ChunkBudget: o.ChunkBudget, CompressAbove: o.CompressAbove,
		Now:     func() time.Time { return time.Unix(now, 0) },
		OnError: func(_ context.Context, err error) { *errs = append(*errs, class(err)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.SubjectKey != "" {
		m.Subject = func(v map[string]any) string { s, _ := v[o.SubjectKey].(string); return s }
	}
	return m
}

// goRequest serves one request with the Go Manager.
func goRequest(t *testing.T, o mwOptions, keys *sealed.KeyRing, now int64, cookie []string, st mwStep) mwOut {
	t.Helper()
	out := mwOut{Results: []any{}, Errors: []string{}}
	m := o.manager(t, keys, now, &out.Errors)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		for _, a := range st.actions {
			switch a.Op {
			case "get":
				v, has := m.Get(ctx)
				if has && v == nil {
					v = map[string]any{}
				}
				out.Results = append(out.Results, map[bool]any{true: v, false: nil}[has])
			case "set":
				m.Update(ctx, func(v *map[string]any) {
					if *v == nil {
						*v = map[string]any{}
					}
					(*v)[a.Key] = a.Value
				})
			case "delete":
				m.Update(ctx, func(v *map[string]any) { delete(*v, a.Key) })
			case "flash":
				m.Flash(ctx, a.Message)
			case "flashes":
				out.Results = append(out.Results, append([]string{}, m.Flashes(ctx)...))
			case "destroy":
				m.Destroy(ctx)
			case "renew":
				m.Renew(ctx)
			case "rememberMe":
				m.RememberMe(ctx, a.Remember)
			case "info":
				si, has := m.Info(ctx)
				if !has {
					out.Results = append(out.Results, nil)
					continue
				}
				expires, id := int64(0), ""
				if !si.Expires.IsZero() {
					expires = si.Expires.Unix()
				}
				if si.ID != (sealed.SessionID{}) {
					id = si.ID.String()
				}
				out.Results = append(out.Results, map[string]any{"keyId": si.KeyID, "expires": expires, "stale": si.Stale,
					"issued": si.Issued.Unix(), "deadline": si.Deadline.Unix(), "refreshed": si.Refreshed.Unix(), "id": id, "subject": si.Subject})
			default:
				t.Fatalf("unknown action %q", a.Op)
			}
		}
		for _, kv := range st.headers {
			w.Header().Add(kv[0], kv[1])
		}
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	if len(cookie) > 0 {
		req.Header["Cookie"] = cookie
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	hd := rec.Result().Header
	out.SetCookie, out.Vary, out.CacheControl = hd["Set-Cookie"], hd["Vary"], hd["Cache-Control"]
	return out
}

// pyRequest serves the same request with the Python middleware.
func pyRequest(t *testing.T, p *pyConn, o mwOptions, keys *sealed.KeyRing, now int64, cookie []string, st mwStep) mwOut {
	t.Helper()
	var out mwOut
	p.call(t, map[string]any{"op": "middleware", "keys": sealed.FormatKeyRing(keys), "options": o, "now": now,
		"cookie": cookie, "headers": st.headers, "actions": st.actions}, &out)
	return out
}

var mwCookieValue = regexp.MustCompile(`^([^=]*)=([^;]*)`)

// normalize makes the outputs of two implementations comparable: cookie
// values become their lengths (or "v" when compressed, whose length
// depends on the DEFLATE compressor), session IDs their lengths, and JSON
// values generic.
func (o mwOut) normalize(t *testing.T, compressed bool) mwOut {
	t.Helper()
	n := mwOut{SetCookie: []string{}, Vary: append([]string{}, o.Vary...), CacheControl: append([]string{}, o.CacheControl...), Errors: append([]string{}, o.Errors...)}
	for _, c := range o.SetCookie {
		n.SetCookie = append(n.SetCookie, mwCookieValue.ReplaceAllStringFunc(c, func(s string) string {
			name, value, _ := strings.Cut(s, "=")
			if value == "" || !compressed {
				return name + "=<" + strconv.Itoa(len(value)) + ">"
			}
			return name + "=<v>"
		}))
	}
	b, err := json.Marshal(o.Results)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &n.Results); err != nil {
		t.Fatal(err)
	}
	for _, r := range n.Results {
		if m, ok := r.(map[string]any); ok && m["refreshed"] != nil {
			m["id"] = len(m["id"].(string))
		}
	}
	return n
}

// scenario is a sequence of requests by one client, with the options and
// initial ring both middlewares get.
type mwScenario struct {
	name       string
	opts       mwOptions
	keys       *sealed.KeyRing
	compressed bool
	steps      []mwStep
}

// run plays the scenario with a cookie jar, serving step i with Go when
// useGo(i), else with Python, and returns the outputs and the final jar.
func (sc mwScenario) run(t *testing.T, p *pyConn, useGo func(int) bool) ([]mwOut, map[string]string) {
	t.Helper()
	jar := map[string]string{}
	now, keys, opts := clock.Unix(), sc.keys, sc.opts
	var outs []mwOut
	name := cmp.Or(sc.opts.Name, "session")
	for i, st := range sc.steps {
		now += st.advance
		if st.keys != nil {
			keys = st.keys
		}
		if st.opts != nil {
			opts = *st.opts
		}
		for k, v := range st.add {
			jar[k] = v
		}
		if st.tamper {
			for k, v := range jar {
				if strings.HasPrefix(k, name) {
					b := []byte(v)
					b[len(b)/2] ^= 'A' ^ 'B'
					if b[len(b)/2] != 'A' && b[len(b)/2] != 'B' {
						b[len(b)/2] = 'A'
					}
					jar[k] = string(b)
					break
				}
			}
		}
		var cookie []string
		if len(jar) > 0 {
			var parts []string
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range jar {
					if !yield(k) {
						return
					}
				}
			}) {
				parts = append(parts, k+"="+jar[k])
			}
			cookie = []string{strings.Join(parts, "; ")}
		}
		var out mwOut
		if useGo(i) {
			out = goRequest(t, opts, keys, now, cookie, st)
		} else {
			out = pyRequest(t, p, opts, keys, now, cookie, st)
		}
		for _, line := range out.SetCookie {
			m := mwCookieValue.FindStringSubmatch(line)
			if m == nil || !strings.HasPrefix(m[1], name) {
				continue
			}
			if strings.Contains(line, "; Max-Age=0") {
				delete(jar, m[1])
			} else {
				jar[m[1]] = m[2]
			}
		}
		outs = append(outs, out.normalize(t, sc.compressed))
	}
	return outs, jar
}

func mwSet(k string, v any) mwAction { return mwAction{Op: "set", Key: k, Value: v} }

var (
	mwGet     = mwAction{Op: "get"}
	mwInfo    = mwAction{Op: "info"}
	mwFlashes = mwAction{Op: "flashes"}
	mwDestroy = mwAction{Op: "destroy"}
	mwRenew   = mwAction{Op: "renew"}
)

func mwFlash(m string) mwAction { return mwAction{Op: "flash", Message: m} }

// TestPythonMiddlewareAgrees plays scenarios of requests through Go's
// Manager and through SessionMiddleware with the same options, clock and
// cookies: every response must set and expire the same cookies with the
// same attributes, Max-Age and value lengths, the same Vary and
// Cache-Control, and the handler must see the same session, flash messages,
// times and errors. Each scenario is played four ways: all Go, all Python,
// and alternating between them (starting with either), which hands every
// cookie one writes to the other: a Go session read and changed in Python
// and read back in Go, and the reverse.
func TestPythonMiddlewareAgrees(t *testing.T) {
	p := startPy(t)
	kOld, kNew := newKey(t, "2026-10"), newKey(t, "2026-11")
	gcm := newSuiteKey(t, sealed.AES256GCM, "fips-1")
	ring := newRing(t, kNew)
	alice := mwSet("user", "alice")
	scenarios := []mwScenario{
		{name: "defaults", keys: ring, opts: mwOptions{SubjectKey: "user"}, steps: []mwStep{
			{actions: []mwAction{mwGet}},
			{actions: []mwAction{alice, mwInfo}},
			{advance: 10, actions: []mwAction{mwGet, mwInfo}},
			{advance: 10, actions: []mwAction{mwSet("n", 1), mwSet("tags", []any{"a", "<b>&"}), mwSet("nested", map[string]any{"x": true})}},
			{advance: 10, actions: []mwAction{alice}}, // the same value: still a change, as Put
			{actions: []mwAction{mwFlash("Saved."), mwFlash("¡Guardado! ✓")}},
			{actions: []mwAction{mwGet}},
			{actions: []mwAction{mwFlashes, mwFlashes}},
			{advance: 100, actions: []mwAction{mwRenew, mwInfo}},
			{actions: []mwAction{mwAction{Op: "delete", Key: "n"}, mwGet}},
			{actions: []mwAction{mwDestroy, mwGet, mwFlash("Signed out.")}},
			{actions: []mwAction{mwGet, mwFlashes}},
			{actions: []mwAction{mwGet}},
		}},
		{name: "no access", keys: ring, steps: []mwStep{
			{actions: []mwAction{alice}},
			{add: map[string]string{"session.1": "x"}},
			{actions: []mwAction{mwGet}},
		}},
		{name: "idle timeout and its refresh", keys: ring, opts: mwOptions{IdleTimeout: 600}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{advance: 299, actions: []mwAction{mwGet}},
			{advance: 1, actions: []mwAction{mwGet, mwInfo}},
			{advance: 599, actions: []mwAction{mwGet}},
			{advance: 600, actions: []mwAction{mwGet}},
			{actions: []mwAction{mwGet}},
		}},
		{name: "idle timeout shortened", keys: ring, opts: mwOptions{IdleTimeout: 600}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{opts: &mwOptions{IdleTimeout: 100}, advance: 99, actions: []mwAction{mwGet, mwInfo}},
			{advance: 99, actions: []mwAction{mwGet}},
			{opts: &mwOptions{IdleTimeout: 600}, actions: []mwAction{alice}},
			{opts: &mwOptions{IdleTimeout: 100}, advance: 100, actions: []mwAction{mwGet}},
		}},
		{name: "lifetime lengthened and skew", keys: ring, opts: mwOptions{Lifetime: 100}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{opts: &mwOptions{Lifetime: 1000, IdleTimeout: 50, ClockSkew: 3}, advance: 49, actions: []mwAction{mwGet}},
			{advance: 52, actions: []mwAction{mwGet}},
			{advance: 1, actions: []mwAction{mwGet}},
		}},
		{name: "idle refresh and deadline", keys: ring, opts: mwOptions{IdleTimeout: 600, IdleRefresh: 60, Lifetime: 1000}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{advance: 59, actions: []mwAction{mwGet}},
			{advance: 1, actions: []mwAction{mwGet}},
			{advance: 500, actions: []mwAction{mwGet}},
			{advance: 400, actions: []mwAction{mwGet}},
			{advance: 40, actions: []mwAction{mwGet}},
		}},
		{name: "lifetime and skew", keys: ring, opts: mwOptions{Lifetime: 100, ClockSkew: 5}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{advance: 40, actions: []mwAction{mwSet("n", 2)}},
			{advance: 64, actions: []mwAction{mwGet}},
			{advance: 1, actions: []mwAction{mwGet}},
		}},
		{name: "rotation", keys: newRing(t, kOld), steps: []mwStep{
			{actions: []mwAction{alice}},
			{keys: newRing(t, kNew, kOld), advance: 5, actions: []mwAction{mwGet, mwInfo}},
			{actions: []mwAction{mwGet, mwInfo}},
			{keys: newRing(t, kNew), actions: []mwAction{mwGet}},
		}},
		{name: "rotation to AES-256-GCM", keys: newRing(t, kOld), steps: []mwStep{
			{actions: []mwAction{alice}},
			{keys: newRing(t, gcm, kOld), actions: []mwAction{mwGet, mwInfo}},
			{keys: newRing(t, gcm), actions: []mwAction{mwSet("big", blob(6500))}},
			{actions: []mwAction{mwGet}},
		}},
		{name: "chunks", keys: ring, steps: []mwStep{
			{actions: []mwAction{mwSet("big", blob(6500))}},
			{actions: []mwAction{mwGet}},
			{actions: []mwAction{mwSet("big", blob(4500))}},
			{actions: []mwAction{mwSet("big", "small")}},
			{actions: []mwAction{mwSet("big", blob(4500))}},
			{add: map[string]string{"session.3": strings.Repeat("A", 4031), "session.2": strings.Repeat("B", 4031)}, actions: []mwAction{mwGet}},
			{actions: []mwAction{mwSet("n", 1)}},
			{actions: []mwAction{mwSet("big", blob(11000))}},
			{actions: []mwAction{mwSet("big", blob(13000))}},
			{actions: []mwAction{mwDestroy}},
		}},
		{name: "tampered", keys: ring, steps: []mwStep{
			{actions: []mwAction{mwSet("big", blob(6500))}},
			{tamper: true, actions: []mwAction{mwGet}},
			{actions: []mwAction{alice}},
			{tamper: true, actions: []mwAction{alice}},
		}},
		{name: "budget of two and prefixes", keys: ring, opts: mwOptions{Name: "__Host-Http-sid", SameSite: "strict", Partitioned: true, ChunkBudget: 2}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{actions: []mwAction{mwSet("big", blob(4500))}},
			{actions: []mwAction{mwSet("big", blob(6500))}},
			{actions: []mwAction{mwGet}},
		}},
		{name: "attributes", keys: ring, opts: mwOptions{Name: "sid", Path: "/app", Domain: ".example.com", SameSite: "default", DisableHTTPOnly: true, DisableSecure: true, Lifetime: 3600}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{advance: 600, actions: []mwAction{mwSet("n", 1)}},
			{actions: []mwAction{mwDestroy}},
		}},
		{name: "remember me", keys: ring, opts: mwOptions{BrowserSession: true, SameSite: "none"}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{actions: []mwAction{mwAction{Op: "rememberMe", Remember: true}}},
			{advance: 10, actions: []mwAction{mwSet("n", 1)}},
			{actions: []mwAction{mwAction{Op: "rememberMe"}}},
			{actions: []mwAction{mwSet("n", 2)}},
			{actions: []mwAction{mwDestroy, alice}},
		}},
		{name: "purpose", keys: ring, opts: mwOptions{Purpose: "billing", SubjectKey: "user"}, steps: []mwStep{
			{actions: []mwAction{alice}},
			{actions: []mwAction{mwGet, mwInfo}},
		}},
		{name: "cache headers", keys: ring, steps: []mwStep{
			{headers: [][2]string{{"Cache-Control", `private="X-Debug"`}, {"Vary", "Accept-Encoding"}}, actions: []mwAction{alice}},
			{headers: [][2]string{{"Cache-Control", "no-store"}, {"Vary", "*"}}, actions: []mwAction{mwSet("n", 1)}},
			{headers: [][2]string{{"Cache-Control", "max-age=60"}, {"Cache-Control", "public"}}, actions: []mwAction{mwSet("n", 2)}},
			{headers: [][2]string{{"Cache-Control", `no-cache="X-A, set-cookie"`}, {"Vary", "accept, COOKIE"}}, actions: []mwAction{mwSet("n", 3)}},
			{headers: [][2]string{{"Set-Cookie", "theme=dark"}}, actions: []mwAction{mwGet}},
		}},
		{name: "compression", keys: ring, compressed: true, opts: mwOptions{CompressAbove: 200}, steps: []mwStep{
			{actions: []mwAction{mwSet("cart", slices.Repeat([]any{map[string]any{"sku": "A-1", "qty": 1}}, 800))}},
			{actions: []mwAction{mwGet}},
			{actions: []mwAction{mwSet("big", blob(6000))}},
			{actions: []mwAction{mwGet}},
		}},
	}
	modes := []struct {
		name  string
		useGo func(int) bool
	}{
		{"Python", func(int) bool { return false }},
		{"Go then Python", func(i int) bool { return i%2 == 0 }},
		{"Python then Go", func(i int) bool { return i%2 == 1 }},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			want, wantJar := sc.run(t, p, func(int) bool { return true })
			for _, mode := range modes {
				got, jar := sc.run(t, p, mode.useGo)
				for i := range want {
					if !reflect.DeepEqual(got[i], want[i]) {
						g, _ := json.MarshalIndent(got[i], "", " ")
						w, _ := json.MarshalIndent(want[i], "", " ")
						t.Errorf("%s, step %d:\n got %s\nwant (Go) %s", mode.name, i, g, w)
					}
				}
				if len(jar) != len(wantJar) {
					t.Errorf("%s: ends with cookies %v, Go with %v", mode.name, keysOf(jar), keysOf(wantJar))
				}
			}
		})
	}
}

// TestPythonUvicorn runs examples/app.py, a FastAPI service, under uvicorn
// next to a Go Manager, both on one key ring in a JWKS file, and a client
// that goes from one to the other with one cookie jar: log in through Go,
// read and change the session in FastAPI, read it back in Go; rotate the
// keys (FastAPI re-seals the old-key cookie first); flash messages and a
// chunked session across both; a tampered cookie refused by both; logout.
func TestPythonUvicorn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts uvicorn")
	}
	interp := pyInterpreter(t, "cryptography, fastapi, uvicorn")
	kOld, kNew := newKey(t, "2026-10"), newKey(t, "2026-11")
	keyFile := filepath.Join(t.TempDir(), "keys.json")
	var current atomic.Pointer[sealed.KeyRing]
	rotate := func(r *sealed.KeyRing) {
		t.Helper()
		b, err := jwks.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		tmp := keyFile + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, keyFile); err != nil {
			t.Fatal(err)
		}
		current.Store(r)
	}
	rotate(newRing(t, kOld))

	// FastAPI under uvicorn.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	src, _ := filepath.Abs(filepath.Join("python", "src"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, interp, "-m", "uvicorn", "app:app", "--app-dir", filepath.Join("python", "examples"),
		"--host", "127.0.0.1", "--port", port, "--log-level", "warning")
	cmd.Env = append(os.Environ(), "SEALED_JWKS="+keyFile, "PYTHONPATH="+src, "PYTHONDONTWRITEBYTECODE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	fastapi := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(fastapi + "/session"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("uvicorn did not start:\n%s", stderr.Bytes())
		}
	}

	// The Go service.
	var (
		mu       sync.Mutex // the handlers run in the server's goroutines
		goErrors []string
	)
	m, err := sealed.New(keySource(current.Load), sealed.JSON[map[string]any](), sealed.Options{
		OnError: func(_ context.Context, err error) { mu.Lock(); goErrors = append(goErrors, class(err)); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	reported := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(goErrors)
	}
	m.Subject = func(v map[string]any) string { s, _ := v["user"].(string); return s }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{name}", func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), map[string]any{"user": r.PathValue("name")})
		m.Flash(r.Context(), "Welcome, "+r.PathValue("name")+"!")
	})
	mux.HandleFunc("GET /session", func(w http.ResponseWriter, r *http.Request) {
		v, has := m.Get(r.Context())
		info, _ := m.Info(r.Context())
		out := map[string]any{"flashes": m.Flashes(r.Context()), "session": nil}
		if has {
			out["session"], out["keyId"], out["stale"], out["subject"] = v, info.KeyID, info.Stale, info.Subject
		}
		json.NewEncoder(w).Encode(out)
	})
	goSrv := httptest.NewServer(m.Handler(mux))
	defer goSrv.Close()

	// One client, one jar, two services.
	jar := map[string]string{}
	type view struct {
		Session map[string]any `json:"session"`
		Flashes []string       `json:"flashes"`
		KeyID   string         `json:"keyId"`
		Stale   bool           `json:"stale"`
		Subject string         `json:"subject"`
		Error   string         `json:"error"`
	}
	do := func(base, method, path string, body any) (view, []*http.Cookie) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, rd)
		for _, k := range slices.Sorted(maps.Keys(jar)) {
			req.AddCookie(&http.Cookie{Name: k, Value: jar[k]})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s%s: %s %s\n%s", method, base, path, resp.Status, b, stderr.Bytes())
		}
		for _, c := range resp.Cookies() {
			if c.MaxAge < 0 {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c.Value
			}
		}
		var v view
		if path == "/session" || strings.HasPrefix(path, "/session/") {
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		return v, resp.Cookies()
	}

	// 1. Log in through Go.
	do(goSrv.URL, "POST", "/login/grace", nil)
	// 2. FastAPI reads it (and its flash message), and changes it.
	v, set := do(fastapi, "GET", "/session", nil)
	if v.Session["user"] != "grace" || !slices.Equal(v.Flashes, []string{"Welcome, grace!"}) || v.KeyID != "2026-10" || v.Subject != "grace" || len(set) != 1 {
		t.Fatalf("FastAPI read %+v, set %d cookies", v, len(set))
	}
	do(fastapi, "POST", "/session/cart", []any{"A-1", 2})
	// 3. Go sees the change.
	v, _ = do(goSrv.URL, "GET", "/session", nil)
	if v.Session["user"] != "grace" || !reflect.DeepEqual(v.Session["cart"], []any{"A-1", 2.0}) || len(v.Flashes) != 0 || v.Subject != "grace" {
		t.Fatalf("Go read %+v", v)
	}
	// 4. A rotation: the FastAPI service sees the old-key cookie first and re-seals it.
	rotate(newRing(t, kNew, kOld))
	v, set = do(fastapi, "GET", "/session", nil)
	if v.KeyID != "2026-10" || !v.Stale || len(set) != 1 {
		t.Fatalf("FastAPI after the rotation: %+v, set %d cookies", v, len(set))
	}
	v, set = do(goSrv.URL, "GET", "/session", nil)
	if v.KeyID != "2026-11" || v.Stale || len(set) != 0 || v.Session["user"] != "grace" {
		t.Fatalf("Go after FastAPI re-sealed: %+v, set %d cookies", v, len(set))
	}
	// 5. A flash message and a chunked session, from FastAPI to Go.
	do(fastapi, "POST", "/flash?message=Saved.", nil)
	do(fastapi, "POST", "/session/big", blob(7000))
	if _, ok := jar["session.1"]; !ok {
		t.Fatalf("a 7,000-byte session in %v: want chunks", keysOf(jar))
	}
	v, _ = do(goSrv.URL, "GET", "/session", nil)
	if v.Session["big"] != blob(7000) || !slices.Equal(v.Flashes, []string{"Saved."}) {
		t.Fatalf("Go read the chunked session: %d bytes, flashes %q", len(fmt.Sprint(v.Session["big"])), v.Flashes)
	}
	// 6. A tampered cookie: no session in either, with the same class.
	saved := maps.Clone(jar)
	b := []byte(jar["session.0"])
	b[100] ^= 'A' ^ 'B'
	if b[100] != 'A' && b[100] != 'B' {
		b[100] = 'A'
	}
	jar["session.0"] = string(b)
	tampered := maps.Clone(jar)
	v, _ = do(fastapi, "GET", "/session", nil)
	if v.Session != nil || v.Error != "invalid" || len(jar) != 0 {
		t.Fatalf("FastAPI with a tampered chunk: %+v, jar %v", v, keysOf(jar))
	}
	jar = tampered
	before := len(reported())
	v, _ = do(goSrv.URL, "GET", "/session", nil)
	if errs := reported()[before:]; v.Session != nil || !slices.Equal(errs, []string{"invalid"}) || len(jar) != 0 {
		t.Fatalf("Go with a tampered chunk: %+v, errors %v", v, errs)
	}
	// 7. Logout in FastAPI ends the session in Go too.
	jar = saved
	do(fastapi, "POST", "/logout", nil)
	if len(jar) != 0 {
		t.Fatalf("after logout the jar has %v", keysOf(jar))
	}
	if v, _ = do(goSrv.URL, "GET", "/session", nil); v.Session != nil {
		t.Fatalf("Go after logout: %+v", v)
	}
}
