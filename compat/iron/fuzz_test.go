package iron_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/sealedcookie/sealed/compat/internal/compattest"
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
	f.Fuzz(func(t *testing.T, value string) {
		payload, err := c.Open(value)
		compattest.CheckOpen(t, "Open", payload, err, json.Valid)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", value)
		payload, err = c.OpenRequest(req, "app")
		compattest.CheckOpen(t, "OpenRequest", payload, err, json.Valid)
	})
}
