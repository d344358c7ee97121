// Package compattest holds what the tests of the compat packages share:
// the checks of their errors, the loading of their test vectors, and
// [Suite], the tests that every codec of itsdangerous-signed cookies
// (Flask's, Starlette's) passes. It is for _test.go files only.
package compattest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// Sentinels are the errors of package sealed that the compat codecs' errors
// wrap.
var Sentinels = []error{sealed.ErrMalformed, sealed.ErrUnknownKey, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrTooLarge}

// WantErr fails tb unless err wraps one of want.
func WantErr(tb testing.TB, err error, want ...error) {
	tb.Helper()
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	tb.Fatalf("got %v, want one of %v", err, want)
}

// CheckOpen checks what an Open of arbitrary input returned: an error that
// wraps one of [Sentinels], or a payload that valid accepts. what names
// the call in the failure.
func CheckOpen(tb testing.TB, what string, payload []byte, err error, valid func([]byte) bool) {
	tb.Helper()
	if err == nil {
		if !valid(payload) {
			tb.Fatalf("%s: succeeded with %q", what, payload)
		}
		return
	}
	for _, s := range Sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	tb.Fatalf("%s: error wraps no sentinel: %v", what, err)
}

// IsObject reports whether b is a JSON object.
func IsObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// LoadVectors reads testdata/vectors.json, a JSON array of vectors written
// by the real JavaScript libraries, and returns them by name.
func LoadVectors[V any](tb testing.TB, name func(V) string) map[string]V {
	tb.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var list []V
	if err := json.Unmarshal(b, &list); err != nil {
		tb.Fatal(err)
	}
	m := map[string]V{}
	for _, v := range list {
		m[name(v)] = v
	}
	return m
}

// At returns a clock stopped at the Unix time sec.
func At(sec int64) func() time.Time { return func() time.Time { return time.Unix(sec, 0) } }

// SignTS signs payload + "." + ts + "." with key as itsdangerous does,
// whatever the timestamp text ts: what a holder of the key could make.
func SignTS(key []byte, payload, ts string) string {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(payload + "." + ts))
	return payload + "." + ts + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
