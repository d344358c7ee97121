package authjs

import (
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sealedcookie/sealed"
)

// encrypt seals an arbitrary plaintext under key, as a peer holding the
// secret could, to reach the checks after decryption.
func encrypt(t *testing.T, enc jose.ContentEncryption, key []byte, kid string, plaintext string) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: kid}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClaimsChecks(t *testing.T) {
	const now = 1_800_000_000
	c, err := New([]string{"secret"}, Options{Now: func() time.Time { return time.Unix(now, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	k := c.keys[0]
	for claims, want := range map[string]error{
		`{"sub":"a"}`:                 nil, // jose does not require exp
		`{"exp":1800000000}`:          nil, // within the 15 s tolerance
		`{"exp":1799999985}`:          sealed.ErrExpired,
		`{"exp":1799999985.5}`:        nil,
		`{"nbf":1800000015}`:          nil,
		`{"nbf":1800000016}`:          sealed.ErrInvalid,
		`{"iat":"now"}`:               sealed.ErrMalformed,
		`{"exp":null}`:                sealed.ErrMalformed,
		`{"exp":"1900000000"}`:        sealed.ErrMalformed,
		`{"nbf":true}`:                sealed.ErrMalformed,
		`{"exp":1e999}`:               sealed.ErrMalformed,
		`[]`:                          sealed.ErrMalformed,
		`null`:                        sealed.ErrMalformed,
		`"x"`:                         sealed.ErrMalformed,
		``:                            sealed.ErrMalformed,
		"{\"sub\":\"\xff\"}":          sealed.ErrMalformed,
		`{"sub":"a"} trailing`:        sealed.ErrMalformed,
		`{"iat":1,"exp":1900000000}`:  nil,
		`{"exp":-1}`:                  sealed.ErrExpired,
		`{"exp":1900000000,"nbf":-5}`: nil,
	} {
		_, err := c.Open(encrypt(t, jose.A256CBC_HS512, k.cbc, k.cbcKID, claims))
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", claims, err, want)
		}
	}
}

func TestNoKid(t *testing.T) {
	c, err := New([]string{"new", "old"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Without kid, each secret is tried (Auth.js tries only the first).
	for i, k := range c.keys {
		if _, err := c.Open(encrypt(t, jose.A256CBC_HS512, k.cbc, "", `{"n":1}`)); err != nil {
			t.Errorf("secret %d, A256CBC-HS512: %v", i, err)
		}
		// Auth.js also accepts A256GCM with a 32-byte key, kid or not.
		if _, err := c.Open(encrypt(t, jose.A256GCM, k.gcm, "", `{"n":1}`)); err != nil {
			t.Errorf("secret %d, A256GCM: %v", i, err)
		}
		if _, err := c.Open(encrypt(t, jose.A256GCM, k.gcm, k.gcmKID, `{"n":1}`)); err != nil {
			t.Errorf("secret %d, A256GCM with kid: %v", i, err)
		}
	}
	other, err := New([]string{"other"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(encrypt(t, jose.A256CBC_HS512, other.keys[0].cbc, "", `{"n":1}`))
	if !errors.Is(err, sealed.ErrInvalid) {
		t.Errorf("unknown secret without kid: %v", err)
	}
	// A kid of the other enc's key does not select a key.
	_, err = c.Open(encrypt(t, jose.A256CBC_HS512, c.keys[0].cbc, c.keys[0].gcmKID, `{"n":1}`))
	if !errors.Is(err, sealed.ErrUnknownKey) {
		t.Errorf("gcm kid on cbc token: %v", err)
	}
}

func TestChunkIndex(t *testing.T) {
	for in, want := range map[string]int{".0": 0, ".1": 1, ".10": 10, ".63": 63} {
		if n, ok := chunkIndex(in); !ok || n != want {
			t.Errorf("chunkIndex(%q) = %d, %v", in, n, ok)
		}
	}
	for _, in := range []string{"", ".", "0", ".00", ".01", ".-1", ".+1", ".64", ".100", ".1a", "x1", ". 1"} {
		if _, ok := chunkIndex(in); ok {
			t.Errorf("chunkIndex(%q) accepted", in)
		}
	}
}
