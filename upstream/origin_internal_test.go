package upstream

import (
	"net/http"
	"net/url"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	for in, want := range map[string]origin{
		"http://upstream.example.com":       {"http", "upstream.example.com", "80"},
		"http://upstream.example.com/":      {"http", "upstream.example.com", "80"},
		"http://upstream.example.com:80":    {"http", "upstream.example.com", "80"},
		"http://upstream.example.com:0080":  {"http", "upstream.example.com", "80"},
		"HTTP://Upstream.Example.COM":       {"http", "upstream.example.com", "80"},
		"https://upstream.example.com":      {"https", "upstream.example.com", "443"},
		"https://upstream.example.com:":     {"https", "upstream.example.com", "443"},
		"https://upstream.example.com:443/": {"https", "upstream.example.com", "443"},
		"https://upstream.example.com:8443": {"https", "upstream.example.com", "8443"},
		"http://127.0.0.1:8080":             {"http", "127.0.0.1", "8080"},
		"http://[::1]":                      {"http", "::1", "80"},
		"https://[2001:DB8::1]:8443":        {"https", "2001:db8::1", "8443"},
	} {
		got, err := parseOrigin(in)
		if err != nil || got != want {
			t.Errorf("parseOrigin(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func TestOriginServes(t *testing.T) {
	for _, tc := range []struct {
		origin, url, host string // host: the request's Host field, if not the URL's
		want              bool
	}{
		{"http://h.example", "http://h.example/data", "", true},
		{"http://h.example", "http://h.example:80/data", "", true},
		{"http://h.example:80", "http://h.example/data", "", true},
		{"http://h.example", "http://h.example:080/", "", true},
		{"http://h.example", "http://H.Example/data", "", true},
		{"http://h.example", "HTTP://h.example/data", "", true},
		{"http://h.example", "http://svc:pw@h.example/data", "", true},
		{"http://h.example", "http://evil.example@h.example/", "", true},
		{"http://h.example", "http://h.example/data", "h.example", true},
		{"http://h.example", "http://h.example/data", "H.EXAMPLE:80", true},
		{"https://h.example", "https://h.example/", "", true},
		{"https://h.example", "https://h.example:443/", "", true},
		{"https://h.example:443", "https://h.example/", "", true},
		{"http://[::1]:8080", "http://[::1]:8080/", "", true},

		{"http://h.example", "https://h.example/", "", false},
		{"http://h.example", "https://h.example:80/", "", false},
		{"https://h.example", "http://h.example:443/", "", false},
		{"http://h.example", "http://h.example:8080/", "", false},
		{"http://h.example:8080", "http://h.example/", "", false},
		{"http://h.example", "http://h.example./", "", false},
		{"http://h.example", "http://api.h.example/", "", false},
		{"http://h.example", "http://h.example.evil.example/", "", false},
		{"http://h.example", "http://h.example@evil.example/", "", false},
		{"http://h.example", "http://h.example:80@evil.example/", "", false},
		{"http://h.example", "http://evil.example/?h.example", "", false},
		{"http://h.example", "http://evil.example/#@h.example", "", false},
		{"http://h.example", "http://evil.example/h.example", "", false},
		{"http://h.example", "ftp://h.example/", "", false},
		{"http://h.example", "http://h.example:0/", "", false},
		{"http://h.example", "http://h.example:65616/", "", false},
		{"http://h.example", "/data", "", false},
		{"http://h.example", "http://h.example/data", "evil.example", false},
		{"http://h.example", "http://h.example/data", "h.example:8080", false},
		{"http://h.example", "http://h.example/data", "evil.example@h.example", false},
		{"http://h.example", "http://h.example/data", "h.example/evil", false},
		{"http://[::1]:8080", "http://[::1]/", "", false},
		{"http://127.0.0.1", "http://localhost/", "", false},
	} {
		o, err := parseOrigin(tc.origin)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		req := &http.Request{URL: u, Host: tc.host}
		if got := o.serves(req); got != tc.want {
			t.Errorf("origin %s serves URL %s with Host %q = %v, want %v", tc.origin, tc.url, tc.host, got, tc.want)
		}
	}
	if (origin{"http", "h.example", "80"}).serves(&http.Request{}) {
		t.Error("an origin serves a request without a URL")
	}
}
