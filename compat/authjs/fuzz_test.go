package authjs_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/compat/authjs"
)

// FuzzOpen feeds arbitrary values to Open (v5 and v4) and arbitrary Cookie
// headers to OpenRequest: they must not panic, must fail with one of the
// sealed sentinels, and may only succeed with a JSON object. Seeds: the
// vectors and testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	vs := loadVectors(f)
	for _, v := range vs {
		f.Add(v.joined())
	}
	v5, v4 := vs["v5"], vs["v4"]
	c5 := v5.codec(f, v5.Secrets, v5.Now)
	c4 := v4.codec(f, v4.Secrets, v4.Now)
	sentinels := []error{sealed.ErrMalformed, sealed.ErrUnknownKey, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrTooLarge}
	check := func(t *testing.T, what string, claims []byte, err error) {
		if err == nil {
			var m map[string]json.RawMessage
			if json.Unmarshal(claims, &m) != nil || m == nil {
				t.Fatalf("%s: succeeded with %q", what, claims)
			}
			return
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("%s: error without sentinel: %v", what, err)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, c := range []*authjs.Codec{c5, c4} {
			claims, err := c.Open(value)
			check(t, "Open", claims, err)
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Cookie", value)
			claims, err = c.OpenRequest(req)
			check(t, "OpenRequest", claims, err)
		}
	})
}
