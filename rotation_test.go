package sealed_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
)

func TestGenerateKey(t *testing.T) {
	a, err := sealed.GenerateKey("a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sealed.GenerateKey("b")
	if a.ID() != "a" || b.ID() != "b" {
		t.Fatalf("IDs = %q, %q", a.ID(), b.ID())
	}
	ring, _ := sealed.NewKeyRing(a)
	ring2, _ := sealed.NewKeyRing(b)
	if sa, sb := secretOf(t, ring), secretOf(t, ring2); sa == sb {
		t.Fatal("two generated keys have the same secret")
	}
}

// secretOf extracts the primary's secret through the documented export form.
func secretOf(t *testing.T, r *sealed.KeyRing) string {
	t.Helper()
	_, secret, _ := strings.Cut(strings.Split(sealed.FormatKeyRing(r), ",")[0], ":")
	return secret
}

func TestNewKeyValidation(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	for _, id := range []string{"", "a b", "a,b", "a:b", "tab\t", strings.Repeat("x", 65), "é"} {
		if _, err := sealed.NewKey(id, secret); err == nil {
			t.Errorf("NewKey(%q) succeeded", id)
		}
	}
	for _, id := range []string{"k1", "2026-11-primary", "a.b_c~d/e+f=g@h", strings.Repeat("x", 64)} {
		if _, err := sealed.NewKey(id, secret); err != nil {
			t.Errorf("NewKey(%q): %v", id, err)
		}
	}
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := sealed.NewKey("k", make([]byte, n)); err == nil {
			t.Errorf("NewKey with %d-byte secret succeeded", n)
		}
	}
}

func TestNewKeyCopiesSecret(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	k, _ := sealed.NewKey("k", secret)
	s := newSealer(t, k)
	v := mustSeal(t, s, "n", []byte("x"), expiry)
	clear(secret)
	if _, _, err := at(s, t0).Open("n", v); err != nil {
		t.Fatalf("key changed when caller's slice was cleared: %v", err)
	}
}

// No output path of a Key reveals its secret.
func TestKeyRedaction(t *testing.T) {
	secret := bytes.Repeat([]byte{0xAB}, 32)
	k, _ := sealed.NewKey("k1", secret)
	ring, _ := sealed.NewKeyRing(k)
	forms := []string{
		hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret), string(secret), "171, 171", "ab ab", "[171",
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k, "ring", ring)
	js, _ := json.Marshal(struct{ K sealed.Key }{k})
	outputs := []string{
		k.String(), k.GoString(), fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", k, k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v %s", ring, ring, ring, *ring), fmt.Sprintf("%+v", []sealed.Key{k}),
		string(js), logged.String(),
	}
	for _, out := range outputs {
		if !strings.Contains(out, "k1") {
			t.Errorf("output %q does not name the key", out)
		}
		for _, f := range forms {
			if strings.Contains(strings.ToLower(out), strings.ToLower(f)) {
				t.Errorf("output %q reveals the secret (%q)", out, f)
			}
		}
	}
}

func TestNewKeyRing(t *testing.T) {
	a, b := fixedKey(t, "a", 1), fixedKey(t, "b", 2)
	ring, err := sealed.NewKeyRing(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if ring.Primary().ID() != "a" {
		t.Fatalf("primary = %v", ring.Primary())
	}
	if ks := ring.Keys(); len(ks) != 2 || ks[0].ID() != "a" || ks[1].ID() != "b" {
		t.Fatalf("Keys = %v", ks)
	}
	if _, err := sealed.NewKeyRing(a, fixedKey(t, "a", 3)); err == nil {
		t.Fatal("duplicate IDs accepted")
	}
	if _, err := sealed.NewKeyRing(sealed.Key{}); err == nil {
		t.Fatal("zero Key accepted")
	}
	if _, err := sealed.NewKeyRing(a, sealed.Key{}); err == nil {
		t.Fatal("zero previous Key accepted")
	}
}

func TestParseKeyRing(t *testing.T) {
	s1 := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	s2 := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	ring, err := sealed.ParseKeyRing(" new:" + s1 + " , old:" + s2 + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if ring.Primary().ID() != "new" || len(ring.Keys()) != 2 {
		t.Fatalf("ring = %v", ring)
	}
	again, err := sealed.ParseKeyRing(sealed.FormatKeyRing(ring))
	if err != nil || sealed.FormatKeyRing(again) != sealed.FormatKeyRing(ring) {
		t.Fatalf("FormatKeyRing does not round trip: %v", err)
	}
	// A value sealed with one parse opens with another.
	v := mustSeal(t, sealed.NewSealer(ring), "n", []byte("x"), expiry)
	if _, _, err := at(sealed.NewSealer(again), t0).Open("n", v); err != nil {
		t.Fatal(err)
	}

	secretText := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 31))
	for _, bad := range []string{
		"", " ", "k1", "k1:", ":" + s1, "k1:" + s1 + ",", "k1:" + s1 + ",k1:" + s1,
		"k1:" + secretText, "k1:" + s1 + "AA", "k1:" + s1[:20] + "\n" + s1[20:], "k1:" + strings.ReplaceAll(s1, "A", "+"),
	} {
		_, err := sealed.ParseKeyRing(bad)
		if err == nil {
			t.Errorf("ParseKeyRing(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), secretText) || strings.Contains(err.Error(), s1) {
			t.Errorf("error reveals the secret: %v", err)
		}
	}
	// An operator who swaps id and secret: no error may echo either.
	for _, bad := range []string{
		s1 + ":k1",
		"k1:" + s1 + "," + s1 + ":k2",
		"k1:" + s1 + ",k1:" + s1,
		s1 + ":" + s1 + "," + s1 + ":" + s1,
		s1[:30] + " x:" + s1,
	} {
		_, err := sealed.ParseKeyRing(bad)
		if err == nil {
			t.Errorf("ParseKeyRing(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), s1[:8]) {
			t.Errorf("error reveals the secret: %v", err)
		}
		if !strings.Contains(err.Error(), "entry ") {
			t.Errorf("error does not name the entry by position: %v", err)
		}
	}
}
