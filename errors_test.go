package sealed_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// A stored session that no longer decodes into T (a field changed type) is
// reported by the codec error's type and offset, never with the value that
// encoding/json would quote.
func TestErrorsCarryNoSessionData(t *testing.T) {
	const secret = "s3cr3t-token-42"
	ring := mwRing(t, fixedKey(t, "k1", 1))
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

// levelRecorder is a slog.Handler that records each record's level.
type levelRecorder struct {
	mu     sync.Mutex
	levels []slog.Level
}

func (h *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *levelRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.levels = append(h.levels, r.Level)
	h.mu.Unlock()
	return nil
}
func (h *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *levelRecorder) WithGroup(string) slog.Handler      { return h }

// Without OnError, cookies under an unknown key or failing authentication
// are logged at Warn (a fleet logging everyone out must show), expiry and
// garbage at Debug.
func TestDefaultLogLevels(t *testing.T) {
	rec := new(levelRecorder)
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(prev)

	clk := newClock()
	m, err := sealed.New(mwRing(t, fixedKey(t, "k1", 1)), sealed.JSON[sess](), sealed.Options{Now: clk.Now, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := sealed.New(mwRing(t, fixedKey(t, "k2", 2)), sealed.JSON[sess](), sealed.Options{Now: clk.Now})
	sameID, _ := sealed.New(mwRing(t, fixedKey(t, "k1", 3)), sealed.JSON[sess](), sealed.Options{Now: clk.Now})
	cookie := func(m *sealed.Manager[sess]) string {
		ctx := m.LoadHeader(context.Background(), http.Header{})
		m.Put(ctx, sess{User: "a"})
		h := http.Header{}
		if err := m.SaveHeader(ctx, h); err != nil {
			t.Fatal(err)
		}
		return strings.SplitN(strings.SplitN(h.Get("Set-Cookie"), ";", 2)[0], "=", 2)[1]
	}
	good := cookie(m)
	for _, tc := range []struct {
		name  string
		value string
		later time.Duration
		want  slog.Level
	}{
		{"unknown key", cookie(other), 0, slog.LevelWarn},
		{"authentication failed", cookie(sameID), 0, slog.LevelWarn},
		{"garbage", "not-a-cookie", 0, slog.LevelDebug},
		{"expired", good, 2 * time.Hour, slog.LevelDebug},
	} {
		clk.Add(tc.later)
		rec.levels = nil
		ctx := m.LoadHeader(context.Background(), http.Header{"Cookie": {"session=" + tc.value}})
		if _, ok := m.Get(ctx); ok {
			t.Errorf("%s: a session", tc.name)
		}
		if len(rec.levels) != 1 || rec.levels[0] != tc.want {
			t.Errorf("%s: logged at %v, want %v", tc.name, rec.levels, tc.want)
		}
	}
}

// Put with a context that is not the request's (a router's own context)
// panics with a message that names the likely cause, not only "install the
// middleware", which the user has already done.
func TestPanicNamesTheCause(t *testing.T) {
	f := newFixture(t, sealed.Options{})
	defer func() {
		msg, _ := recover().(string)
		for _, want := range []string{"Manager.Put", "Manager.Handler", "c.Request.Context()", "ContextWithFallback"} {
			if !strings.Contains(msg, want) {
				t.Errorf("panic %q does not mention %q", msg, want)
			}
		}
	}()
	f.m.Put(context.Background(), sess{})
}

// "over the budget of 1 cookie", not "1 cookies".
func TestBudgetErrorGrammar(t *testing.T) {
	for budget, want := range map[int]string{1: "budget of 1 cookie of", 2: "budget of 2 cookies of"} {
		f := newFixture(t, sealed.Options{ChunkBudget: budget})
		newClient(t, f.app()).do("POST", "/put?blob=20000")
		errs := f.hook.take()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("budget %d: %v, want %q", budget, errs, want)
		}
	}
}
