package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/sealedtest"
)

// gateway plays API Gateway's HTTP API for a sealedtest.Client: it turns
// each request into an event, as payload format 2.0 does (the Cookie header
// split into Cookies), and the handler's response into an HTTP response,
// checking that every Set-Cookie line parses and is Secure and HttpOnly.
func gateway(t *testing.T, h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		ev := events.APIGatewayV2HTTPRequest{
			Version:  "2.0",
			RouteKey: "$default",
			RawPath:  r.URL.Path,
			Headers:  map[string]string{"content-type": "application/json"},
			Body:     string(body),
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path},
			},
		}
		for _, line := range r.Header.Values("Cookie") {
			ev.Cookies = append(ev.Cookies, strings.Split(line, "; ")...)
		}
		resp, err := h(r.Context(), ev)
		if err != nil {
			t.Fatalf("%s %s: %v", r.Method, r.URL.Path, err)
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		for _, line := range resp.Cookies {
			ck, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatalf("%s %s: bad Set-Cookie %q: %v", r.Method, r.URL.Path, line, err)
			}
			if !ck.Secure || !ck.HttpOnly {
				t.Fatalf("%s %s: cookie without Secure or HttpOnly: %q", r.Method, r.URL.Path, line)
			}
			w.Header().Add("Set-Cookie", line)
		}
		w.WriteHeader(resp.StatusCode)
		io.WriteString(w, resp.Body)
	})
}

func newTestHandler(t *testing.T) Handler {
	t.Helper()
	h, err := newHandler(sealedtest.NewKeyRing(t), sealed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newClient returns a browser for a fresh function behind API Gateway.
func newClient(t *testing.T) *sealedtest.Client {
	t.Helper()
	return sealedtest.NewClient(t, gateway(t, newTestHandler(t)))
}

// post sends a POST with a JSON body.
func post(c *sealedtest.Client, path, body string) (*http.Response, string) {
	return c.Send(httptest.NewRequest("POST", path, strings.NewReader(body)))
}

func TestSessionAcrossInvocations(t *testing.T) {
	c := newClient(t)
	if resp, _ := c.Do("GET", "/whoami"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("whoami without a session: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	resp, body := post(c, "/login", `{"name": "alice"}`)
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d %s, Set-Cookie %q", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	if resp.Header.Get("Vary") != "Cookie" || !strings.Contains(resp.Header.Get("Cache-Control"), `no-cache="Set-Cookie"`) {
		t.Fatalf("login response headers: %v", resp.Header)
	}
	if strings.Contains(c.Cookies()["session"], "alice") {
		t.Fatal("the cookie shows the session in clear")
	}
	for want := 1; want <= 3; want++ {
		if resp, body := c.Do("POST", "/visit"); body != `{"visits":`+strconv.Itoa(want)+`}` {
			t.Fatalf("visit %d: %d %s", want, resp.StatusCode, body)
		}
	}
	resp, body = c.Do("GET", "/whoami")
	var s Session
	if err := json.Unmarshal([]byte(body), &s); err != nil || resp.StatusCode != http.StatusOK || s.Name != "alice" || s.Visits != 3 {
		t.Fatalf("whoami: %d %s", resp.StatusCode, body)
	}
	if len(resp.Cookies()) != 0 {
		t.Fatalf("a read-only request set cookies: %q", resp.Header.Values("Set-Cookie"))
	}
	if resp, body := c.Do("POST", "/logout"); resp.StatusCode != http.StatusOK || body != `{"deleted":true}` || len(resp.Cookies()) != 1 {
		t.Fatalf("logout: %d %s, Set-Cookie %q", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	if len(c.Cookies()) != 0 {
		t.Fatalf("cookies left after logout: %v", c.Cookies())
	}
	if resp, _ := c.Do("GET", "/whoami"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami after logout: %d", resp.StatusCode)
	}
}

func TestBase64Body(t *testing.T) {
	ev := events.APIGatewayV2HTTPRequest{
		RawPath:         "/login",
		Body:            base64.StdEncoding.EncodeToString([]byte(`{"name":"bob"}`)),
		IsBase64Encoded: true,
		RequestContext:  events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
	}
	r, err := newTestHandler(t)(context.Background(), ev)
	if err != nil || r.StatusCode != http.StatusOK || r.Body != `{"created":"bob"}` {
		t.Fatalf("login with a base64 body: %d %s %v", r.StatusCode, r.Body, err)
	}
}

// TestChunkedSession grows the session over several cookies, carried in the
// event's Cookies list, until it no longer fits.
func TestChunkedSession(t *testing.T) {
	c := newClient(t)
	post(c, "/login", `{"name": "alice"}`)
	note := strings.Repeat("n", 1000)
	notes := 0
	for {
		resp, body := post(c, "/notes", `{"note": "`+note+`"}`)
		if resp.StatusCode == http.StatusRequestEntityTooLarge {
			if len(resp.Cookies()) != 0 {
				t.Fatalf("a session over the budget set cookies: %q", resp.Header.Values("Set-Cookie"))
			}
			break
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("note %d: %d %s", notes+1, resp.StatusCode, body)
		}
		notes++
		if notes > 50 {
			t.Fatal("the session never filled up")
		}
	}
	if len(c.Cookies()) < 2 {
		t.Fatalf("%d notes of 1000 bytes in %d cookies: not chunked", notes, len(c.Cookies()))
	}
	// The session that did not fit was not saved; the previous one is whole.
	_, body := c.Do("GET", "/whoami")
	var s Session
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.Name != "alice" || len(s.Notes) != notes {
		t.Fatalf("whoami after the failed note: %d notes (%v), want %d", len(s.Notes), err, notes)
	}
	t.Logf("%d notes of 1000 bytes fit in %d cookies", notes, len(c.Cookies()))
	// Logging out expires every chunk.
	c.Do("POST", "/logout")
	if len(c.Cookies()) != 0 {
		t.Fatalf("cookies left after logout: %v", c.Cookies())
	}
}

func TestTamperedCookie(t *testing.T) {
	c := newClient(t)
	post(c, "/login", `{"name": "alice"}`)
	v := []byte(c.Cookies()["session"])
	v[len(v)/2] ^= 1
	c.SetCookie(&http.Cookie{Name: "session", Value: string(v)})
	if resp, _ := c.Do("GET", "/whoami"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami with a tampered cookie: %d", resp.StatusCode)
	}
	if _, ok := c.Cookies()["session"]; ok {
		t.Fatal("the tampered cookie was not expired")
	}
}
