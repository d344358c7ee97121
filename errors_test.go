package sealed_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// A stored session that no longer decodes into T (a field changed type) is
// reported by the codec error's type and offset, never with the value that
// encoding/json would quote.
func TestErrorsCarryNoSessionData(t *testing.T) {
	const secret = "s3cr3t-token-42"
	ring := mwRing(t, mwKey(t, "k1", 1))
	const pin = 982451653
	type before struct {
		PIN   int    `json:"pin"`
		Token string `json:"token"`
	}
	type after struct {
		PIN   string    `json:"pin"`
		Token time.Time `json:"token"` // encoding/json: parsing time "\"s3cr3t-token-42\"" as ...
	}
	old, err := sealed.New(ring, sealed.JSON[before](), sealed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var reported []error
	cur, err := sealed.New(ring, sealed.JSON[after](), sealed.Options{
		OnError: func(_ context.Context, err error) { reported = append(reported, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	old.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		old.Put(r.Context(), before{PIN: pin, Token: secret})
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	req := httptest.NewRequest("GET", "/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	cur.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := cur.Get(r.Context()); ok {
			t.Error("a session of the old type decoded")
		}
	})).ServeHTTP(httptest.NewRecorder(), req)
	if len(reported) != 1 || !errors.Is(reported[0], sealed.ErrMalformed) {
		t.Fatalf("OnError = %v, want one ErrMalformed", reported)
	}
	msg := reported[0].Error()
	if strings.Contains(msg, secret) || strings.Contains(msg, "982451653") {
		t.Errorf("error carries session data: %s", msg)
	}
	if !strings.Contains(msg, "(*json.UnmarshalTypeError at byte ") && !strings.Contains(msg, "(*time.ParseError)") {
		t.Errorf("error does not name the codec error's type and offset: %s", msg)
	}
	if strings.Count(msg, "sealed: ") != 1 {
		t.Errorf("error repeats the package prefix: %s", msg)
	}

	// The same through Typed.
	s := sealed.NewSealer(ring)
	v, err := sealed.NewTyped(s, sealed.JSON[before]()).Seal("n", &before{PIN: pin, Token: secret}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = sealed.NewTyped(s, sealed.JSON[after]()).Open("n", v)
	if !errors.Is(err, sealed.ErrMalformed) || strings.Contains(err.Error(), "982451653") {
		t.Errorf("Typed.Open = %v", err)
	}

	// Encoding failures too: encoding/json quotes an unsupported value.
	type bad struct{ F float64 }
	_, err = sealed.NewTyped(s, sealed.JSON[bad]()).Seal("n", &bad{F: math.Inf(1)}, time.Now().Add(time.Hour))
	if err == nil || strings.Contains(err.Error(), "Inf") {
		t.Errorf("encoding error = %v", err)
	}
}

// Errors carry the "sealed: " prefix once.
func TestErrorsPrefixOnce(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	c := newClient(t, f.app())
	c.cookies["session"] = "garbage"
	c.do("GET", "/get")
	errs := f.hook.take()
	if len(errs) != 1 || strings.Count(errs[0].Error(), "sealed: ") != 1 {
		t.Errorf("OnError = %v, want one error with one prefix", errs)
	}
}
