package sealedtest

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// A Client is one browser for a test. It sends requests to an http.Handler
// in process ([NewClient]) or to servers over the network
// ([NewServerClient]) and keeps the cookies of the responses in a jar with
// the rules of net/http/cookiejar, as a browser does: a cookie goes back to
// the host and path it was set for, Secure cookies only over https or to
// localhost and loopback addresses, and a Set-Cookie with Max-Age <= 0 or
// an Expires in the past deletes it. It does not follow redirects: the test
// sees each 3xx response.
//
// Its methods fail the test, with tb.Fatal, when a request cannot be made;
// like tb.Fatal, call them from the test's goroutine (give each goroutine
// of a concurrent test its own Client, in a parallel subtest).
type Client struct {
	tb   testing.TB
	base *url.URL
	jar  *cookiejar.Jar
	http *http.Client
}

// NewClient returns a Client whose requests h serves in process, without a
// server. Paths are resolved against https://example.com/, and the handler
// sees each request as a server would: with RequestURI, RemoteAddr
// 192.0.2.1:1234 and, for https URLs, a non-nil TLS field. The response is
// recorded, so a streamed body arrives whole.
func NewClient(tb testing.TB, h http.Handler) *Client {
	tb.Helper()
	return newClient(tb, "https://example.com/", handlerTransport{h}, 0)
}

// NewServerClient returns a Client that sends requests over the network
// with the transport of srv.Client(), which trusts srv's certificate, and
// resolves paths against srv.URL. Absolute URLs may name other servers: the
// Client is one browser, and cookies set by one server on 127.0.0.1 go to
// every port of 127.0.0.1. A request that takes over a minute fails.
func NewServerClient(tb testing.TB, srv *httptest.Server) *Client {
	tb.Helper()
	return newClient(tb, srv.URL, srv.Client().Transport, time.Minute)
}

func newClient(tb testing.TB, base string, rt http.RoundTripper, timeout time.Duration) *Client {
	tb.Helper()
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("sealedtest: base URL: %v", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatalf("sealedtest: %v", err)
	}
	return &Client{tb: tb, base: u, jar: jar, http: &http.Client{
		Transport:     rt,
		Jar:           jar,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Do sends a request without a body to target, a path or an absolute URL,
// with the Client's cookies, keeps the cookies the response sets, and
// returns the response and its body. The response's Body can be read again.
func (c *Client) Do(method, target string) (*http.Response, string) {
	c.tb.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		c.tb.Fatalf("sealedtest: %v", err)
	}
	return c.Send(req)
}

// Send is like Do for a request the test made, to send a body or headers.
// req may come from http.NewRequest or httptest.NewRequest, with a path or
// an absolute URL; Send adds the Client's cookies to it.
func (c *Client) Send(req *http.Request) (*http.Response, string) {
	c.tb.Helper()
	if req.URL.Host == "" {
		req.URL = c.base.ResolveReference(req.URL)
		req.Host = ""
	}
	req.RequestURI = "" // set by httptest.NewRequest; clients must not
	resp, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatalf("sealedtest: %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("sealedtest: %s %s: reading the body: %v", req.Method, req.URL, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, string(body)
}

// Cookies returns the name and value of each cookie the Client would send
// with a request for the root path of its base URL. Of two cookies with one
// name (a host-only and a domain cookie), it keeps the one sent first.
func (c *Client) Cookies() map[string]string {
	m := map[string]string{}
	for _, ck := range c.jar.Cookies(c.base) {
		if _, ok := m[ck.Name]; !ok {
			m[ck.Name] = ck.Value
		}
	}
	return m
}

// SetCookie stores ck as if the Client's base URL had set it, with Path "/"
// if it has none: to tamper with a cookie, or to arrive with one another
// application set. A MaxAge < 0 deletes the cookie.
func (c *Client) SetCookie(ck *http.Cookie) {
	cp := *ck
	if cp.Path == "" {
		cp.Path = "/"
	}
	c.jar.SetCookies(c.base, []*http.Cookie{&cp})
}

// handlerTransport serves requests with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	defer body.Close()
	r := httptest.NewRequestWithContext(req.Context(), req.Method, req.URL.RequestURI(), body)
	r.ContentLength = req.ContentLength
	r.Header = req.Header.Clone()
	r.Host = req.Host
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	if req.URL.Scheme == "https" {
		r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: req.URL.Hostname()}
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
