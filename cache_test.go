package sealed_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/sealedcookie/sealed"
)

// Cache-Control is parsed as RFC 9111 directives: a qualified private is
// not private, and a no-cache field list must name Set-Cookie exactly.
func TestCacheControlParsed(t *testing.T) {
	for _, tc := range []struct{ cc, want string }{
		{`private="X-Debug"`, `private="X-Debug", no-cache="Set-Cookie"`},
		{`Private="X-Set-Cookie, X-Debug"`, `Private="X-Set-Cookie, X-Debug", no-cache="Set-Cookie"`},
		{`private="X-Debug, Set-Cookie"`, `private="X-Debug, Set-Cookie"`},
		{`no-cache="X-Set-Cookie-Debug"`, `no-cache="X-Set-Cookie-Debug", no-cache="Set-Cookie"`},
		{`max-age=5, no-cache="Authorization, X-Set-Cookie"`, `max-age=5, no-cache="Authorization, X-Set-Cookie", no-cache="Set-Cookie"`},
		{`no-cache="Authorization, Set-Cookie"`, `no-cache="Authorization, Set-Cookie"`},
		{`no-cache=" set-cookie "`, `no-cache=" set-cookie "`},
		{`s-maxage=0, private`, `s-maxage=0, private`},
		{`public, no-store`, `public, no-store`},
		{`no-cache="a,b", max-age=1`, `no-cache="a,b", max-age=1, no-cache="Set-Cookie"`},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			f := newFixture(t, sealed.Options{})
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", tc.cc)
				f.m.Put(r.Context(), sess{User: "a"})
			}))
			resp := newClient(t, h).do("GET", "/")
			if got := resp.Header.Values("Cache-Control"); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("Cache-Control = %q, want %q", got, tc.want)
			}
		})
	}
}

// A response whose request read the session depends on the Cookie header,
// so it carries Vary: Cookie even when it sets no cookie; one that never
// touched the session does not.
func TestVaryCookieWhenRead(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	mux := http.NewServeMux()
	mux.Handle("/", f.app())
	mux.HandleFunc("/flashes", func(w http.ResponseWriter, r *http.Request) { f.m.Flashes(r.Context()) })
	c := newClient(t, f.m.Handler(mux))
	for _, path := range []string{"/get", "/info", "/flashes"} {
		resp := c.do("GET", path) // no cookie: the answer still depends on the header
		if got := resp.Header.Values("Vary"); !slices.Equal(got, []string{"Cookie"}) {
			t.Errorf("GET %s without a cookie: Vary = %q", path, got)
		}
	}
	c.do("POST", "/put?user=a")
	resp := c.do("GET", "/get")
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("unchanged session: Set-Cookie %q", sc)
	}
	if got := resp.Header.Values("Vary"); !slices.Equal(got, []string{"Cookie"}) {
		t.Errorf("read without a change: Vary = %q", got)
	}
	if got := resp.Header.Values("Cache-Control"); len(got) != 0 {
		t.Errorf("read without a change: Cache-Control = %q", got)
	}
	resp = c.do("GET", "/noop")
	if got := resp.Header.Values("Vary"); len(got) != 0 {
		t.Errorf("session untouched: Vary = %q", got)
	}
	f.hook.expectNone(t)
}
