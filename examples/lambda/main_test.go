package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sealedcookie/sealed"
)

// client invokes the handler as API Gateway would, carrying the cookies of
// each response forward to the next event, like a browser.
type client struct {
	t       *testing.T
	h       Handler
	cookies map[string]string
}

func newClient(t *testing.T, h Handler) *client {
	return &client{t: t, h: h, cookies: map[string]string{}}
}

// invoke sends one event and applies the response's cookies.
func (c *client) invoke(method, path, body string) events.APIGatewayV2HTTPResponse {
	c.t.Helper()
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "$default",
		RawPath:  path,
		Headers:  map[string]string{"content-type": "application/json"},
		Body:     body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	for name, value := range c.cookies {
		ev.Cookies = append(ev.Cookies, name+"="+value)
	}
	slices.Sort(ev.Cookies)
	resp, err := c.h(context.Background(), ev)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	for _, line := range resp.Cookies {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			c.t.Fatalf("%s %s: bad Set-Cookie %q: %v", method, path, line, err)
		}
		if !ck.Secure || !ck.HttpOnly {
			c.t.Fatalf("%s %s: cookie without Secure or HttpOnly: %q", method, path, line)
		}
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return resp
}

func newTestHandler(t *testing.T) Handler {
	t.Helper()
	key, err := sealed.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(ring, sealed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSessionAcrossInvocations(t *testing.T) {
	c := newClient(t, newTestHandler(t))
	if r := c.invoke("GET", "/whoami", ""); r.StatusCode != http.StatusUnauthorized || len(r.Cookies) != 0 {
		t.Fatalf("whoami without a session: %d, cookies %q", r.StatusCode, r.Cookies)
	}
	r := c.invoke("POST", "/login", `{"name": "alice"}`)
	if r.StatusCode != http.StatusOK || len(r.Cookies) != 1 {
		t.Fatalf("login: %d %s, cookies %q", r.StatusCode, r.Body, r.Cookies)
	}
	if r.Headers["Vary"] != "Cookie" || !strings.Contains(r.Headers["Cache-Control"], `no-cache="Set-Cookie"`) {
		t.Fatalf("login response headers: %v", r.Headers)
	}
	if strings.Contains(c.cookies["session"], "alice") {
		t.Fatal("the cookie shows the session in clear")
	}
	for want := 1; want <= 3; want++ {
		r := c.invoke("POST", "/visit", "")
		if r.Body != `{"visits":`+strconv.Itoa(want)+`}` {
			t.Fatalf("visit %d: %d %s", want, r.StatusCode, r.Body)
		}
	}
	r = c.invoke("GET", "/whoami", "")
	var s Session
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil || r.StatusCode != http.StatusOK || s.Name != "alice" || s.Visits != 3 {
		t.Fatalf("whoami: %d %s", r.StatusCode, r.Body)
	}
	if len(r.Cookies) != 0 {
		t.Fatalf("a read-only request set cookies: %q", r.Cookies)
	}
	if r := c.invoke("POST", "/logout", ""); r.StatusCode != http.StatusOK || r.Body != `{"deleted":true}` || len(r.Cookies) != 1 {
		t.Fatalf("logout: %d %s, cookies %q", r.StatusCode, r.Body, r.Cookies)
	}
	if len(c.cookies) != 0 {
		t.Fatalf("cookies left after logout: %v", c.cookies)
	}
	if r := c.invoke("GET", "/whoami", ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami after logout: %d", r.StatusCode)
	}
}

func TestBase64Body(t *testing.T) {
	c := newClient(t, newTestHandler(t))
	ev := events.APIGatewayV2HTTPRequest{
		RawPath:         "/login",
		Body:            base64.StdEncoding.EncodeToString([]byte(`{"name":"bob"}`)),
		IsBase64Encoded: true,
		RequestContext:  events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
	}
	r, err := c.h(context.Background(), ev)
	if err != nil || r.StatusCode != http.StatusOK || r.Body != `{"created":"bob"}` {
		t.Fatalf("login with a base64 body: %d %s %v", r.StatusCode, r.Body, err)
	}
}

// TestChunkedSession grows the session over several cookies, carried in the
// event's Cookies list, until it no longer fits.
func TestChunkedSession(t *testing.T) {
	c := newClient(t, newTestHandler(t))
	c.invoke("POST", "/login", `{"name": "alice"}`)
	note := strings.Repeat("n", 1000)
	notes := 0
	for {
		r := c.invoke("POST", "/notes", `{"note": "`+note+`"}`)
		if r.StatusCode == http.StatusRequestEntityTooLarge {
			if len(r.Cookies) != 0 {
				t.Fatalf("a session over the budget set cookies: %q", r.Cookies)
			}
			break
		}
		if r.StatusCode != http.StatusOK {
			t.Fatalf("note %d: %d %s", notes+1, r.StatusCode, r.Body)
		}
		notes++
		if notes > 50 {
			t.Fatal("the session never filled up")
		}
	}
	if len(c.cookies) < 2 {
		t.Fatalf("%d notes of 1000 bytes in %d cookies: not chunked", notes, len(c.cookies))
	}
	// The session that did not fit was not saved; the previous one is whole.
	r := c.invoke("GET", "/whoami", "")
	var s Session
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil || s.Name != "alice" || len(s.Notes) != notes {
		t.Fatalf("whoami after the failed note: %d notes (%v), want %d", len(s.Notes), err, notes)
	}
	t.Logf("%d notes of 1000 bytes fit in %d cookies", notes, len(c.cookies))
	// Logging out expires every chunk.
	c.invoke("POST", "/logout", "")
	if len(c.cookies) != 0 {
		t.Fatalf("cookies left after logout: %v", c.cookies)
	}
}

func TestTamperedCookie(t *testing.T) {
	c := newClient(t, newTestHandler(t))
	c.invoke("POST", "/login", `{"name": "alice"}`)
	v := []byte(c.cookies["session"])
	v[len(v)/2] ^= 1
	c.cookies["session"] = string(v)
	r := c.invoke("GET", "/whoami", "")
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("whoami with a tampered cookie: %d", r.StatusCode)
	}
	if _, ok := c.cookies["session"]; ok {
		t.Fatal("the tampered cookie was not expired")
	}
}
