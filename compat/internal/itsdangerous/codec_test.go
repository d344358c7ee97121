package itsdangerous

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

func derive(s string) []byte { return HMACKey("salt", s) }

// NewCodec's errors name the package and the fault; the flask and
// starlette suites check the rest through their New.
func TestNewCodec(t *testing.T) {
	for want, secrets := range map[string][]string{
		"pkg: no secret":             nil,
		"pkg: empty secret":          {"", "b"},
		"pkg: empty fallback secret": {"a", "b", ""},
	} {
		if c, err := NewCodec("pkg", derive, secrets, Options{}, time.Hour, 100); c != nil || err == nil || err.Error() != want {
			t.Errorf("%q: %v, %v; want %q", secrets, c, err, want)
		}
	}
	if _, err := NewCodec("pkg", derive, []string{"a"}, Options{MaxAge: time.Millisecond}, time.Hour, 100); err == nil || !strings.HasPrefix(err.Error(), "pkg: MaxAge 1ms") {
		t.Errorf("sub-second MaxAge: %v", err)
	}
	// Every secret verifies; the first signs.
	c, err := NewCodec("pkg", derive, []string{"new", "old"}, Options{Now: func() time.Time { return time.Unix(1000, 0) }}, time.Hour, 100)
	if err != nil {
		t.Fatal(err)
	}
	old, err := NewCodec("pkg", derive, []string{"old"}, Options{Now: func() time.Time { return time.Unix(1000, 0) }}, time.Hour, 100)
	if err != nil {
		t.Fatal(err)
	}
	v, err := old.Sign("data")
	if err != nil {
		t.Fatal(err)
	}
	if data, _, err := c.Unsign(v); err != nil || data != "data" {
		t.Fatalf("Unsign of the old secret's value: %q, %v", data, err)
	}
	if v, err = c.Sign("data"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := old.Unsign(v); !errors.Is(err, sealed.ErrInvalid) || !strings.HasPrefix(err.Error(), "pkg: ") {
		t.Fatalf("the first secret did not sign: %v", err)
	}
	if _, err := c.Sign(strings.Repeat("x", 100)); !errors.Is(err, sealed.ErrTooLarge) {
		t.Fatalf("Sign over MaxLen: %v", err)
	}
}
