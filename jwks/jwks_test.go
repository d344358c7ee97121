package jwks_test

import (
	"bytes"
	"crypto/fips140"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

// secretB64 is the base64url secret of a key made of the byte b repeated.
func secretB64(b byte) string {
	return base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{b}, sealed.KeySize))
}

func octJWK(kid string, b byte) string {
	return `{"kty":"oct","kid":"` + kid + `","k":"` + secretB64(b) + `"}`
}

func TestJWKSFirstKeySealsEveryKeyOpens(t *testing.T) {
	doc := `{"keys":[` + octJWK("new", 2) + `,` + octJWK("old", 1) + `]}`
	ring, err := jwks.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := ring.Primary().ID(); got != "new" {
		t.Fatalf("primary = %q, want the first key, %q", got, "new")
	}
	if got := ring.String(); got != "sealed.KeyRing(new,old)" {
		t.Fatalf("ring = %s", got)
	}

	// A value sealed by a ring whose primary is "old" opens, stale.
	oldKey, _ := sealed.NewKey("old", bytes.Repeat([]byte{1}, sealed.KeySize))
	oldRing, _ := sealed.NewKeyRing(oldKey)
	exp := time.Now().Add(time.Hour)
	v, err := sealed.NewSealer(oldRing).Seal("s", []byte("hi"), exp)
	if err != nil {
		t.Fatal(err)
	}
	s := sealed.NewSealer(ring)
	pt, info, err := s.Open("s", v)
	if err != nil || string(pt) != "hi" || info.KeyID != "old" || !info.Stale {
		t.Fatalf("Open = %q, %+v, %v; want hi from old, stale", pt, info, err)
	}
	// New values are sealed with "new" and open with "new" alone.
	v, _ = s.Seal("s", []byte("hi"), exp)
	newKey, _ := sealed.NewKey("new", bytes.Repeat([]byte{2}, sealed.KeySize))
	newRing, _ := sealed.NewKeyRing(newKey)
	if _, info, err := sealed.NewSealer(newRing).Open("s", v); err != nil || info.Stale {
		t.Fatalf("value sealed by the JWKS ring: %+v, %v; want it sealed with new", info, err)
	}
}

func TestJWKSRoundTrip(t *testing.T) {
	a, _ := sealed.GenerateKey("a")
	b, _ := sealed.GenerateKey("b")
	c, _ := sealed.GenerateKey("c")
	ring, _ := sealed.NewKeyRing(b, a, c)
	out, err := jwks.Marshal(ring)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Errorf("output does not end in a newline: %q", out[len(out)-3:])
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 3 || doc.Keys[0]["kid"] != "b" || doc.Keys[0]["kty"] != "oct" || doc.Keys[0]["use"] != "enc" {
		t.Fatalf("JWKS = %v", doc.Keys)
	}
	back, err := jwks.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	// Same IDs in the same order, and the same secrets.
	if sealed.FormatKeyRing(back) != sealed.FormatKeyRing(ring) {
		t.Fatalf("round trip changed the ring: %s -> %s", ring, back)
	}
}

// "alg" declares the suite: the keys of a mixed set keep theirs through
// Parse and Marshal, and each seals values of its own version.
func TestJWKSSuites(t *testing.T) {
	doc := `{"keys":[
		{"kty":"oct","kid":"f","alg":"A256GCM","k":"` + secretB64(1) + `"},
		{"kty":"oct","kid":"x","alg":"XC20P","k":"` + secretB64(2) + `"},
		{"kty":"oct","kid":"old","k":"` + secretB64(3) + `"},
		{"kty":"oct","kid":"dir","alg":"dir","k":"` + secretB64(4) + `"}]}`
	ring, err := jwks.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []sealed.Suite{sealed.AES256GCM, sealed.XChaCha20Poly1305, sealed.XChaCha20Poly1305, sealed.XChaCha20Poly1305}
	for i, k := range ring.Keys() {
		if k.Suite() != want[i] {
			t.Errorf("key %s: suite %s, want %s", k.ID(), k.Suite(), want[i])
		}
	}
	out, err := jwks.Marshal(ring)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"alg": "A256GCM"`)) || bytes.Count(out, []byte(`"alg": "XC20P"`)) != 3 {
		t.Errorf("Marshal does not declare the suites:\n%s", out)
	}
	back, err := jwks.Parse(out)
	if err != nil || sealed.FormatKeyRing(back) != sealed.FormatKeyRing(ring) {
		t.Fatalf("round trip: %v", err)
	}
	// The AES256GCM primary seals version 2 values.
	v, err := sealed.NewSealer(ring).Seal("session", []byte("x"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(v); raw[0] != 2 {
		t.Errorf("A256GCM primary sealed version %d", raw[0])
	}
}

// A member given twice counts with its last value, as JSON.parse and
// Python's json read it, so every implementation reads the same key.
func TestJWKSDuplicateMemberLastWins(t *testing.T) {
	doc := `{"keys":[{"kty":"oct","kid":"first","k":"` + secretB64(1) + `","kid":"second","k":"` + secretB64(2) + `"}]}`
	ring, err := jwks.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := jwks.Parse([]byte(`{"keys":[` + octJWK("second", 2) + `]}`))
	if sealed.FormatKeyRing(ring) != sealed.FormatKeyRing(want) {
		t.Errorf("duplicate members: got %s, want the last kid and k", ring)
	}
}

func TestJWKSAcceptsPaddingFreeAndExtraMembers(t *testing.T) {
	// "alg": "dir" and unknown members are ignored; "use": "enc" is fine.
	doc := `{"keys":[{"kty":"oct","kid":"a","alg":"dir","use":"enc","x-note":1,"k":"` + secretB64(7) + `"}],"other":true}`
	if _, err := jwks.Parse([]byte(doc)); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSRejects(t *testing.T) {
	secret := secretB64(9)
	short := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 16))
	for _, tc := range []struct{ name, doc, want string }{
		{"not json", `{"keys":[` + secret, "not valid JSON"},
		{"secret in a syntax error", `{"keys":[{"k":"` + secret + "\x01" + `"}]}`, "not valid JSON"},
		{"not an object", `[1,2]`, `"keys" array`},
		{"no keys", `{"keys":[]}`, "no keys"},
		{"missing keys", `{}`, "no keys"},
		{"key not an object", `{"keys":["` + secret + `"]}`, "not a JWK object"},
		{"missing kty", `{"keys":[{"kid":"a","k":"` + secret + `"}]}`, `missing "kty"`},
		{"rsa", `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`, `key 1: unsupported "kty"`},
		{"ec", `{"keys":[` + octJWK("a", 1) + `,{"kty":"EC","kid":"b","crv":"P-256"}]}`, `key 2: unsupported "kty"`},
		{"missing kid", `{"keys":[{"kty":"oct","k":"` + secret + `"}]}`, `missing "kid"`},
		{"empty kid", `{"keys":[{"kty":"oct","kid":"","k":"` + secret + `"}]}`, `missing "kid"`},
		{"bad kid", `{"keys":[{"kty":"oct","kid":"a:b","k":"` + secret + `"}]}`, `key 1: "kid" must be`},
		{"sig use", `{"keys":[{"kty":"oct","kid":"a","use":"sig","k":"` + secret + `"}]}`, `"use" must be "enc"`},
		{"missing k", `{"keys":[{"kty":"oct","kid":"a"}]}`, `missing "k"`},
		{"short k", `{"keys":[{"kty":"oct","kid":"a","k":"` + short + `"}]}`, `"k": 16 bytes, want 32`},
		{"bad base64", `{"keys":[{"kty":"oct","kid":"a","k":"` + secret[:10] + `*` + secret[11:] + `"}]}`, `"k": not valid base64url`},
		{"k not a string", `{"keys":[{"kty":"oct","kid":"a","k":12345}]}`, "not a JWK object"},
		{"duplicate", `{"keys":[` + octJWK("a", 1) + `,` + octJWK("a", 2) + `]}`, `key 2: same kid as key 1`},
		{"member names are case-sensitive", `{"keys":[{"kty":"oct","KID":"a","k":"` + secret + `"}]}`, `missing "kid"`},
		{"Kelvin sign is not k", `{"keys":[{"kty":"oct","kid":"a","\u212a":"` + secret + `"}]}`, `missing "k"`},
		{"top-level name is case-sensitive", `{"Keys":[` + octJWK("a", 1) + `]}`, "no keys"},
		{"null keys", `{"keys":null}`, "no keys"},
		{"null kty", `{"keys":[{"kty":null,"kid":"a","k":"` + secret + `"}]}`, `missing "kty"`},
		{"unknown alg", `{"keys":[{"kty":"oct","kid":"a","alg":"A128GCM","k":"` + secret + `"}]}`, `key 1: unsupported "alg"`},
		{"alg not a string", `{"keys":[{"kty":"oct","kid":"a","alg":1,"k":"` + secret + `"}]}`, "not a JWK object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := jwks.Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("parsed %s; want an error", ring)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "jwks: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			for _, s := range []string{secret, secret[:12], short[:12], secretB64(1)[:12], secretB64(2)[:12]} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains key material", err)
				}
			}
		})
	}
}

func TestJWKSTooLarge(t *testing.T) {
	doc := `{"keys":[` + octJWK("a", 1) + `],"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	if _, err := jwks.Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v; want a size error", err)
	}
}

func TestMarshalEmpty(t *testing.T) {
	if _, err := jwks.Marshal(nil); err == nil {
		t.Fatal("Marshal(nil) succeeded")
	}
	if _, err := jwks.Marshal(&sealed.KeyRing{}); err == nil {
		t.Fatal("Marshal(empty ring) succeeded")
	}
}

// An operator who swaps "kid" and "k" must not find the secret in the
// error: errors name keys by position only.
func TestJWKSSwappedKidAndSecret(t *testing.T) {
	secret := secretB64(7)
	for _, doc := range []string{
		`{"keys":[{"kty":"oct","kid":"` + secret + `","k":"2025-06"}]}`,
		`{"keys":[{"kty":"oct","kid":"` + secret + `","k":"AAAA"}]}`,
		`{"keys":[{"kty":"oct","kid":"` + secret + `","k":"` + secret + `"},{"kty":"oct","kid":"` + secret + `","k":"` + secret + `"}]}`,
		`{"keys":[{"kty":"oct","kid":"` + secret + `","use":"sig","k":"x"}]}`,
		`{"keys":[{"kty":"` + secret + `","kid":"a","k":"x"}]}`,
	} {
		_, err := jwks.Parse([]byte(doc))
		if err == nil {
			t.Fatalf("parsed %s", doc)
		}
		if strings.Contains(err.Error(), secret[:8]) {
			t.Errorf("error reveals the secret: %v", err)
		}
	}
}

// Under GODEBUG=fips140=only (.ci/run), a set with an XChaCha20-Poly1305
// key is refused with an error that says why, and an A256GCM set loads.
func TestFIPSOnlyMode(t *testing.T) {
	if !fips140.Enforced() {
		t.Skip("run with GODEBUG=fips140=only (.ci/run does)")
	}
	for _, alg := range []string{`"alg":"XC20P",`, ``} {
		_, err := jwks.Parse([]byte(`{"keys":[{"kty":"oct","kid":"a",` + alg + `"k":"` + secretB64(1) + `"}]}`))
		if err == nil || !strings.Contains(err.Error(), "fips140=only") || !strings.Contains(err.Error(), "A256GCM") {
			t.Errorf("%s key: %v", alg, err)
		}
	}
	ring, err := jwks.Parse([]byte(`{"keys":[{"kty":"oct","kid":"a","alg":"A256GCM","k":"` + secretB64(1) + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := sealed.NewSealer(ring)
	v, err := s.Seal("session", []byte("x"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if pt, _, err := s.Open("session", v); err != nil || string(pt) != "x" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}
