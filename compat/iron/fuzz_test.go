package iron_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/sealedcookie/sealed"
)

// FuzzOpen feeds arbitrary values to Open, and arbitrary Cookie headers to
// OpenRequest: they must not panic, must fail with one of the sealed
// sentinels, and may only succeed with JSON. Seeds: the vectors and
// testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	vs := loadVectors(f)
	for _, v := range vs {
		f.Add(v.Value)
	}
	v := vs["rotated"]
	c := codec(f, v.Passwords, v.Now)
	sentinels := []error{sealed.ErrMalformed, sealed.ErrUnknownKey, sealed.ErrInvalid, sealed.ErrExpired, sealed.ErrTooLarge}
	check := func(t *testing.T, what string, payload []byte, err error) {
		if err == nil {
			if !json.Valid(payload) {
				t.Fatalf("%s: succeeded with %q", what, payload)
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
		payload, err := c.Open(value)
		check(t, "Open", payload, err)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", value)
		payload, err = c.OpenRequest(req, "app")
		check(t, "OpenRequest", payload, err)
	})
}
