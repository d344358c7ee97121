package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// managerCookies saves a Manager session holding v and the flashes, and
// returns the request Cookie header a browser would send back.
func managerCookies(t *testing.T, ring *sealed.KeyRing, now time.Time, v map[string]any, flashes ...string) string {
	t.Helper()
	m, err := sealed.New(ring, sealed.JSON[map[string]any](), sealed.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := m.LoadHeader(context.Background(), http.Header{})
	m.Put(ctx, v)
	for _, f := range flashes {
		m.Flash(ctx, f)
	}
	h := http.Header{}
	if err := m.SaveHeader(ctx, h); err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return "Cookie: theme=dark; " + strings.Join(pairs, "; ")
}

// inspect decodes a real middleware cookie: times, flashes and the value
// as JSON, from a value or a whole Cookie header, chunked sessions too.
func TestInspectManagerSession(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", path)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	setClock(t, now)
	ring := fileRing(t, path)

	header := managerCookies(t, ring, now, map[string]any{"user": "ann", "n": 3}, "Saved.")
	value := strings.SplitN(strings.Split(header, "; ")[1], "=", 2)[1]
	for name, input := range map[string]string{"value": value, "Cookie header": header} {
		t.Run(name, func(t *testing.T) {
			out := mustRun(t, "inspect", "--keys", path, "--name", "session", input)
			for _, want := range []string{
				`opens:    yes, cookie "session"`,
				"session:  written by the middleware",
				"issued:   2030-01-02T03:04:05Z (in 0s)",
				"deadline: 2030-01-03T03:04:05Z (in 24h0m0s)",
				"refreshed: 2030-01-02T03:04:05Z",
				"minted 2030-01-02T03:04:05.000Z)",
				"subject:  \"\"",
				"flashes:  1\n  \"Saved.\"\n",
				"value:    20 bytes, JSON\n{\n  \"n\": 3,\n  \"user\": \"ann\"\n}\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if raw := mustRun(t, "inspect", "--raw", "--keys", path, "--name", "session", input); !strings.Contains(raw, "payload:  ") {
				t.Errorf("--raw:\n%s", raw)
			}
		})
	}

	// Three chunks, given as a Cookie header over two lines.
	big := managerCookies(t, ring, now, map[string]any{"blob": strings.Repeat("0123456789abcdef", 450)})
	if n := strings.Count(big, "session."); n != 3 {
		t.Fatalf("%d chunks", n)
	}
	parts := strings.SplitN(big, "; session.1=", 2)
	twoLines := parts[0] + "\nCookie: session.1=" + parts[1]
	setStdin(t, twoLines)
	out := mustRun(t, "inspect", "--keys", path, "--name", "session", "-")
	if !strings.Contains(out, `cookie "session" in 3 chunks (session.0 to session.2)`) || !strings.Contains(out, "value:    7211 bytes, JSON") {
		t.Errorf("chunked:\n%s", out)
	}
	// The Cookie header lost its last chunk (a proxy's 8 KB limit).
	cut := big[:strings.Index(big, "; session.2=")]
	if e := mustFail(t, 1, "inspect", "--keys", path, "--name", "session", cut); !strings.Contains(e, "chunk session.2 missing: Cookie header truncated?") {
		t.Errorf("missing chunk: %q", e)
	}
	if e := mustFail(t, 1, "inspect", "--keys", path, "--name", "session", "Cookie: theme=dark"); !strings.Contains(e, `no cookie "session"`) {
		t.Errorf("no session cookie: %q", e)
	}
}
