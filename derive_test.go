package sealed_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// derivedSecretHex returns a derived key's secret in hex, through the only
// exported path that shows it (FormatKeyRing).
func derivedSecretHex(t *testing.T, k sealed.Key) string {
	t.Helper()
	ring, err := sealed.NewKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	_, b64, _ := strings.Cut(sealed.FormatKeyRing(ring), ":")
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw)
}

// TestDeriveKeyVectors pins the construction documented on DeriveKey. The
// expected values were computed with an independent HKDF (Python's hmac and
// hashlib), master = bytes 0x00..0x1f.
func TestDeriveKeyVectors(t *testing.T) {
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(i)
	}
	for _, tc := range []struct{ id, purpose, want string }{
		{"k1", "session", "ab40f5fd7d027f1477028a508bd26b5e37fb34945719f8a2a70dcf0253bf9663"},
		{"k1", "csrf", "9d2dc3ed6a760d8e190b0090a91578476c2a04e0dc2b02f83cb18f17b0c6e486"},
		{"k2", "session", "5ef5f558f1c869d8d6846bd68b177aa21a27657704e6d453875ea5476424587a"},
	} {
		k, err := sealed.DeriveKey(master, tc.id, tc.purpose)
		if err != nil {
			t.Fatal(err)
		}
		if k.ID() != tc.id {
			t.Errorf("ID = %q, want %q", k.ID(), tc.id)
		}
		if got := derivedSecretHex(t, k); got != tc.want {
			t.Errorf("DeriveKey(%q, %q) = %s, want %s", tc.id, tc.purpose, got, tc.want)
		}
	}
}

func TestDeriveKeyPurposesAreIndependent(t *testing.T) {
	master := bytes.Repeat([]byte("0123456789abcdef"), 3)
	a, _ := sealed.DeriveKey(master, "k", "session")
	b, _ := sealed.DeriveKey(master, "k", "session2")
	again, _ := sealed.DeriveKey(master, "k", "session")
	if derivedSecretHex(t, a) != derivedSecretHex(t, again) {
		t.Fatal("DeriveKey is not deterministic")
	}
	ra, _ := sealed.NewKeyRing(a)
	rb, _ := sealed.NewKeyRing(b)
	v, err := sealed.NewSealer(ra).Seal("c", []byte("x"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Same ID, another purpose: the header finds the key, the secret differs.
	if _, _, err := sealed.NewSealer(rb).Open("c", v); !errors.Is(err, sealed.ErrInvalid) {
		t.Fatalf("value sealed for one purpose opened under another: %v", err)
	}
}

func TestDeriveKeyRejects(t *testing.T) {
	good := bytes.Repeat([]byte("0123456789abcdef"), 2)
	for _, tc := range []struct {
		name, id, purpose string
		master            []byte
		want              string
	}{
		{"password", "k", "s", []byte("hunter2"), "7 bytes, want at least 32"},
		{"31 bytes", "k", "s", good[:31], "31 bytes, want at least 32"},
		{"nil", "k", "s", nil, "0 bytes"},
		{"repeated", "k", "s", bytes.Repeat([]byte("ab"), 32), "only 2 distinct byte values"},
		{"zeros", "k", "s", make([]byte, 64), "only 1 distinct"},
		{"empty purpose", "k", "", good, "empty purpose"},
		{"bad id", "a b", "s", good, "not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := sealed.DeriveKey(tc.master, tc.id, tc.purpose)
			if err == nil {
				t.Fatalf("DeriveKey = %v; want an error", k)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if len(tc.master) > 0 && strings.Contains(err.Error(), string(tc.master)) {
				t.Errorf("error %q contains the master secret", err)
			}
		})
	}
}
