package interop_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// TestErrorClassesAgree: Go's Open, the TypeScript package's open and the
// Python package's open give the same answer (success, or the same error
// class) for corrupted values, under each suite: every character replaced
// (by base64url characters, others, and a non-ASCII one), truncations,
// insertions, line breaks, padding, and changed settings (another name, the
// expiry reached, a length bound one short).
func TestErrorClassesAgree(t *testing.T) {
	peers := []struct {
		name string
		send func(t *testing.T, req, resp any)
	}{{"JavaScript", js}, {"Python", py}}
	for _, suite := range suites {
		ring, cases := corruptions(t, suite)
		for _, p := range peers {
			t.Run(suite.String()+"/"+p.name, func(t *testing.T) {
				reqs := make([]jsReq, len(cases))
				for i, c := range cases {
					reqs[i] = jsReq{Op: "open", Keys: sealed.FormatKeyRing(ring), Name: c.name, Value: c.value, Now: c.now, MaxLen: c.maxLen}
				}
				var resps []jsResp
				p.send(t, reqs, &resps)
				if len(resps) != len(cases) {
					t.Fatalf("%d answers for %d cases", len(resps), len(cases))
				}
				counts := map[string]int{}
				for i, c := range cases {
					g := fixedSealer(ring)
					g.Now = func() time.Time { return time.Unix(c.now, 0) }
					g.MaxLen = c.maxLen
					_, _, err := g.Open(c.name, c.value)
					want := class(err)
					counts[want]++
					if resps[i].Error != want {
						t.Errorf("%q for %q at %d: %s %q (%s), Go %q (%v)", c.value, c.name, c.now, p.name, resps[i].Error, resps[i].Message, want, err)
					}
				}
				t.Logf("%d cases: %v", len(cases), counts)
			})
		}
	}
}

// openCase is one value to open: the cookie name, the value, the clock
// (Unix seconds) and the length bound (0: the default).
type openCase struct {
	name, value string
	now         int64
	maxLen      int
}

// corruptions returns a ring holding a key of suite (the primary) and one
// of the other suite, so that a corrupted version byte can name either,
// and the cases of TestErrorClassesAgree, built from two values it sealed:
// a plain one and a compressed one.
func corruptions(t *testing.T, suite sealed.Suite) (*sealed.KeyRing, []openCase) {
	t.Helper()
	other := sealed.XChaCha20Poly1305
	if suite == other {
		other = sealed.AES256GCM
	}
	ring := newRing(t, newSuiteKey(t, suite, "k1"), newSuiteKey(t, other, "k0"))
	s := fixedSealer(ring)
	z := fixedSealer(ring)
	z.CompressAbove = 1
	plain, err := s.Seal("session", []byte(`{"user":"alice","n":1}`), clock.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := z.Seal("session", bytes.Repeat([]byte("abc"), 100), clock.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(zipped); raw[1] != 0x01 { // flags 0x01
		t.Fatalf("compressible value not compressed: %s", zipped[:4])
	}
	now := clock.Unix()
	var cases []openCase
	for _, v := range []string{plain, zipped} {
		cases = append(cases, openCase{"session", v, now, 0}, openCase{"session2", v, now, 0},
			openCase{"session", v, clock.Add(time.Minute).Unix(), 0}, openCase{"session", v, now, len(v) - 1})
		for i := range len(v) {
			for _, c := range []string{"A", "B", "_", "-", "=", "+", "/", " ", "\n", "\x00", "é"} {
				if v[i:i+1] != c {
					cases = append(cases, openCase{"session", v[:i] + c + v[i+1:], now, 0})
				}
			}
			cases = append(cases, openCase{"session", v[:i] + "\r\n" + v[i:], now, 0})
		}
		for n := 1; n <= 6; n++ {
			cases = append(cases, openCase{"session", v[:len(v)-n], now, 0}, openCase{"session", v + strings.Repeat("A", n), now, 0})
		}
		cases = append(cases, openCase{"session", v + "==", now, 0}, openCase{"session", " " + v, now, 0},
			openCase{"session", v[:len(v)-2] + "é", now, len(v)}) // as many characters as the bound, more bytes
	}
	return ring, cases
}
