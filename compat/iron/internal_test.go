package iron

import (
	"errors"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
)

// TestDefaultID opens a seal without password id (as @hapi/iron writes with
// a plain password) with the password configured as "default".
func TestDefaultID(t *testing.T) {
	pw := strings.Repeat("d", 32)
	c, err := New(map[string]string{"default": pw}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.sealID, c.passwords[""] = "", pw // seal as @hapi/iron does, without id
	s, err := c.Seal([]byte(`{"hapi":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "Fe26.2**") {
		t.Fatalf("seal = %s", s)
	}
	got, err := c.Open(strings.TrimSuffix(s, "~2"))
	if err != nil || string(got) != `{"hapi":true}` {
		t.Fatalf("Open = %s, %v", got, err)
	}
	other, err := New(map[string]string{"1": pw}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(s); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Fatalf("without a default password: %v", err)
	}
}

// TestAuthenticatedGarbage checks what follows the mac: a seal made with the
// right password whose fields are bad still fails cleanly.
func TestAuthenticatedGarbage(t *testing.T) {
	pw := strings.Repeat("g", 32)
	c, err := New(map[string]string{"1": pw}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	salt := strings.Repeat("ab", 32)
	mk := func(encSalt, iv, ct string) string {
		base := "Fe26.2*1*" + encSalt + "*" + iv + "*" + ct + "*"
		mac, err := sign(pw, salt, base)
		if err != nil {
			t.Fatal(err)
		}
		return base + "*" + salt + "*" + mac + "~2"
	}
	good, err := c.Seal([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSuffix(good, "~2"), "*")
	for name, tc := range map[string]struct {
		value string
		want  error
	}{
		"short iv":        {mk(f[2], "AAAA", f[4]), sealed.ErrMalformed},
		"iv not base64":   {mk(f[2], "!!!!!!!!!!!!!!!!!!!!!!", f[4]), sealed.ErrMalformed},
		"empty ct":        {mk(f[2], f[3], ""), sealed.ErrMalformed},
		"ct not blocks":   {mk(f[2], f[3], "AAAA"), sealed.ErrMalformed},
		"empty enc salt":  {mk("", f[3], f[4]), sealed.ErrInvalid},
		"wrong enc salt":  {mk(salt, f[3], f[4]), sealed.ErrInvalid},
		"not json":        {mk(f[2], f[3], sealRaw(t, pw, f[2], f[3], "{")), sealed.ErrMalformed},
		"empty plaintext": {mk(f[2], f[3], sealRaw(t, pw, f[2], f[3], "")), sealed.ErrMalformed},
		"right":           {mk(f[2], f[3], sealRaw(t, pw, f[2], f[3], `[1]`)), nil},
	} {
		_, err := c.Open(tc.value)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

// sealRaw encrypts plaintext (JSON or not) as Seal does and returns the
// base64url ciphertext.
func sealRaw(t *testing.T, pw, encSalt, ivB64, plaintext string) string {
	t.Helper()
	iv, err := b64.DecodeString(ivB64)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := encryptCBC(pw, encSalt, iv, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(ct)
}
