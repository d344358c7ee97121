package sealed_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// mwBenchSession is a typical ~200-byte session once JSON-encoded.
type mwBenchSession struct {
	UserID    int64    `json:"uid"`
	Email     string   `json:"email"`
	Name      string   `json:"name"`
	Roles     []string `json:"roles"`
	CSRF      string   `json:"csrf"`
	Counter   int      `json:"n"`
	LastVisit string   `json:"last"`
}

func newMwBenchSession() mwBenchSession {
	return mwBenchSession{
		UserID: 1234567, Email: "alice.example@example.com", Name: "Alice Example",
		Roles: []string{"admin", "editor"}, CSRF: "q2Zb7cVn0yT1kLpXh8RmWs4dJfA6uEoN",
		Counter: 42, LastVisit: "2030-01-02T03:04:05Z",
	}
}

// mwBenchWriter is a reusable ResponseWriter, so the benchmarks measure the
// middleware and not a recorder.
type mwBenchWriter struct{ h http.Header }

func (w *mwBenchWriter) Header() http.Header         { return w.h }
func (w *mwBenchWriter) WriteHeader(int)             {}
func (w *mwBenchWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *mwBenchWriter) reset() {
	for k := range w.h {
		delete(w.h, k)
	}
}

var mwBenchOK = []byte("ok")

// BenchmarkMiddleware compares each middleware case with its baseline in
// the same run; compare with `benchstat -col /impl`.
//
//	untouched: the handler ignores the session       vs the bare handler
//	read:      the handler Gets a ~200-byte session  vs Typed.Open + the bare handler
//	update:    the handler Updates a counter         vs Typed.Open + Typed.AppendSeal + the bare handler
func BenchmarkMiddleware(b *testing.B) {
	keys := mwRing(b, mwKey(b, "k1", 1))
	m, err := sealed.New(keys, sealed.JSON[mwBenchSession](), sealed.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// A real session cookie, from the middleware itself.
	put := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), newMwBenchSession())
	}))
	rec := httptest.NewRecorder()
	put.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	cookie := rec.Result().Cookies()[0]

	timeFar := time.Now().Add(24 * time.Hour)
	typed := sealed.NewTyped(sealed.NewSealer(keys), sealed.JSON[mwBenchSession]())
	v := newMwBenchSession()
	typedValue, err := typed.Seal("session", &v, timeFar)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("middleware cookie %d chars, typed value %d chars", len(cookie.Value), len(typedValue))

	newReq := func(value string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "theme=dark; session="+value+"; lang=en")
		return r
	}
	mwReq, typedReq := newReq(cookie.Value), newReq(typedValue)

	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(mwBenchOK) })
	var sink int
	run := func(b *testing.B, h http.Handler, r *http.Request) {
		w := &mwBenchWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			h.ServeHTTP(w, r)
		}
	}

	b.Run("case=untouched/impl=bare", func(b *testing.B) { run(b, bare, mwReq) })
	b.Run("case=untouched/impl=sealed", func(b *testing.B) { run(b, m.Handler(bare), mwReq) })

	b.Run("case=read/impl=bare", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _, err := typed.Open("session", typedValue)
			if err != nil {
				b.Fatal(err)
			}
			sink += s.Counter
			w.Write(mwBenchOK)
		}), typedReq)
	})
	b.Run("case=read/impl=sealed", func(b *testing.B) {
		run(b, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, ok := m.Get(r.Context())
			if !ok {
				b.Fatal("no session")
			}
			sink += s.Counter
			w.Write(mwBenchOK)
		})), mwReq)
	})

	var buf []byte
	b.Run("case=update/impl=bare", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _, err := typed.Open("session", typedValue)
			if err != nil {
				b.Fatal(err)
			}
			s.Counter++
			buf, err = typed.AppendSeal(buf[:0], "session", &s, timeFar)
			if err != nil {
				b.Fatal(err)
			}
			w.Header().Add("Set-Cookie", "session="+string(buf)+"; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax")
			w.Write(mwBenchOK)
		}), typedReq)
	})
	b.Run("case=update/impl=sealed", func(b *testing.B) {
		run(b, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.Update(r.Context(), func(s *mwBenchSession) { s.Counter++ })
			w.Write(mwBenchOK)
		})), mwReq)
	})
	_ = sink
}
