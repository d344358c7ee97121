package sealed_test

import (
	"bytes"
	"crypto/fips140"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// TestFIPSOnlyMode runs only under GODEBUG=fips140=only, as .ci/run does:
// every way of making an XChaCha20-Poly1305 key fails with an error that
// says what to do, not a panic; and AES256GCM keys seal, open, serve
// sessions through the middleware, refresh, rotate, revoke and destroy
// them, and open every version 2 vector.
func TestFIPSOnlyMode(t *testing.T) {
	if !fips140.Enforced() {
		t.Skip("run with GODEBUG=fips140=only (.ci/run does)")
	}
	secret := bytes.Repeat([]byte{7}, sealed.KeySize)
	b64 := "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
	for name, make := range map[string]func() error{
		"GenerateKey": func() error { _, err := sealed.GenerateKey("x"); return err },
		"NewKey":      func() error { _, err := sealed.NewKey("x", secret); return err },
		"NewSuiteKey": func() error { _, err := sealed.NewSuiteKey(sealed.XChaCha20Poly1305, "x", secret); return err },
		"ParseKeyRing": func() error {
			_, err := sealed.ParseKeyRing("f:" + b64 + ":aes256gcm,x:" + b64)
			return err
		},
	} {
		err := make()
		if err == nil || !strings.Contains(err.Error(), "fips140=only") || !strings.Contains(err.Error(), "AES256GCM") {
			t.Errorf("%s of an XChaCha key: %v; want an error naming fips140=only and AES256GCM", name, err)
		}
	}

	k, err := sealed.GenerateSuiteKey(sealed.AES256GCM, "f1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.ParseKeyRing("f2:" + b64 + ":aes256gcm")
	if err != nil {
		t.Fatal(err)
	}
	s := sealed.NewSealer(ring)
	s.CompressAbove = 64
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("compressible "), 100)} {
		v := mustSeal(t, s, "session", pt, time.Now().Add(time.Hour))
		if got, _, err := s.Open("session", v); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %.20q, %v", got, err)
		}
	}

	// The middleware, end to end, under a rotation from f1 to f2.
	f := newFixture(t, sealed.Options{Revocations: sealed.NewMemoryStore(nil)}, k)
	c := newClient(t, f.app())
	c.do("POST", "/put?user=alice&blob=3000") // chunked
	if got := c.body("GET", "/get"); !strings.Contains(got, `"user":"alice"`) {
		t.Fatalf("get = %.40q", got)
	}
	if got := c.body("POST", "/update"); got != "1" {
		t.Fatalf("update = %q", got)
	}
	// A new primary: the session opens stale under k and is re-sealed.
	f2, _ := sealed.NewSuiteKey(sealed.AES256GCM, "f2", secret)
	g := newFixture(t, sealed.Options{Revocations: sealed.NewMemoryStore(nil)}, f2, k)
	c.h = g.app()
	if got := c.body("POST", "/update"); got != "2" {
		t.Fatalf("update after the rotation = %q", got)
	}
	c.h = newFixture(t, sealed.Options{}, f2).app() // k retired
	if got := c.body("POST", "/update"); got != "3" {
		t.Fatalf("update with only the new key = %q", got)
	}
	c.h = g.app()
	c.do("POST", "/destroy")
	if got := c.body("GET", "/get"); got != "none" {
		t.Fatalf("get after destroy = %q", got)
	}
	f.hook.expectNone(t)
	g.hook.expectNone(t)

	// Every version 2 vector opens (re-sealing them needs a chosen nonce,
	// which this mode forbids; TestVectors does it outside it).
	b, err := os.ReadFile("testdata/vectors-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Keys                                    []struct{ ID, Secret, Suite string }
			Name, Purpose, Sealed, Error, Plaintext string
			Now                                     int64
			Valid                                   bool
		}
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	opened := 0
	for i, v := range file.Vectors {
		var entries []string
		for _, k := range v.Keys {
			entries = append(entries, k.ID+":"+k.Secret+":"+k.Suite)
		}
		ring, err := sealed.ParseKeyRing(strings.Join(entries, ","))
		if err != nil {
			continue // a vector with an XChaCha key in its ring
		}
		s := sealed.NewSealer(ring)
		s.Purpose = v.Purpose
		s.Now = func() time.Time { return time.Unix(v.Now, 0) }
		pt, _, err := s.Open(v.Name, v.Sealed)
		switch {
		case v.Valid && (err != nil || hex.EncodeToString(pt) != v.Plaintext):
			t.Errorf("vector %d: %q, %v", i, pt, err)
		case !v.Valid && (err == nil || !errors.Is(err, vectorErrors[v.Error])):
			t.Errorf("vector %d: %v, want %s", i, err, v.Error)
		}
		opened++
	}
	if opened < 20 {
		t.Errorf("only %d vectors checked", opened)
	}
	t.Logf("%d version 2 vectors opened in FIPS 140-only mode", opened)
}

var vectorErrors = map[string]error{
	"malformed":   sealed.ErrMalformed,
	"unknown_key": sealed.ErrUnknownKey,
	"invalid":     sealed.ErrInvalid,
	"expired":     sealed.ErrExpired,
	"too_large":   sealed.ErrTooLarge,
}
