package sealed_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sealedcookie/sealed"
)

// The middleware allocates one block per request, holding the session
// state, the context, the writer wrapper and the request copy: nothing
// else when the handler ignores the session, and nothing beyond what the
// codec allocates when it reads one (counter's codec allocates nothing).
func TestMiddlewareAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector; scripts/test.sh runs this without -race")
	}
	m, err := sealed.New(mwRing(t, fixedKey(t, "k1", 1)), sealed.Binary[counter](), sealed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.Put(r.Context(), 7) }))
	rec := httptest.NewRecorder()
	put.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "theme=dark; "+rec.Result().Cookies()[0].String())
	w := &mwBenchWriter{h: http.Header{}}
	var got counter
	for name, h := range map[string]http.Handler{
		"untouched": m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(mwBenchOK) })),
		"read": m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = m.Get(r.Context())
			w.Write(mwBenchOK)
		})),
	} {
		if n := testing.AllocsPerRun(200, func() { w.reset(); h.ServeHTTP(w, req) }); n > 1 {
			t.Errorf("%s: %v allocations per request, want 1", name, n)
		}
	}
	if got != 7 {
		t.Fatalf("read %d, want 7", got)
	}
}
