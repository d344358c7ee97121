package authjs_test

import (
	"net/http/httptest"
	"testing"

	"github.com/sealedcookie/sealed/compat/authjs"
	"github.com/sealedcookie/sealed/compat/internal/compattest"
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
	f.Fuzz(func(t *testing.T, value string) {
		for _, c := range []*authjs.Codec{c5, c4} {
			claims, err := c.Open(value)
			compattest.CheckOpen(t, "Open", claims, err, compattest.IsObject)
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Cookie", value)
			claims, err = c.OpenRequest(req)
			compattest.CheckOpen(t, "OpenRequest", claims, err, compattest.IsObject)
		}
	})
}
