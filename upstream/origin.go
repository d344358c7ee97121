package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// ErrNoOrigin is wrapped by the error a request gets when [Config].Origin
// is not set and the login sent no http or https request through the client
// it was given, so that the Transport cannot tell which origin the session
// belongs to. Set Config.Origin. Test for it with [errors.Is].
var ErrNoOrigin = errors.New("upstream: no origin to bind the session to")

// origin is a normalised origin: the scheme "http" or "https", the host in
// lower case (without brackets for IPv6), and the port in decimal, the
// scheme's default if the URL has none.
type origin struct {
	scheme, host, port string
}

// originOf returns the origin of u, ignoring its userinfo, path, query and
// fragment. It reports false if u has no host, a scheme other than http and
// https, or an invalid port.
func originOf(u *url.URL) (origin, bool) {
	o := origin{scheme: strings.ToLower(u.Scheme)}
	switch o.scheme {
	case "http":
		o.port = "80"
	case "https":
		o.port = "443"
	default:
		return origin{}, false
	}
	o.host = strings.ToLower(u.Hostname())
	if o.host == "" {
		return origin{}, false
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return origin{}, false
		}
		o.port = strconv.FormatUint(n, 10)
	}
	return o, true
}

// parseOrigin parses [Config].Origin.
func parseOrigin(s string) (origin, error) {
	bad := func(why string) (origin, error) {
		return origin{}, fmt.Errorf("upstream: Config.Origin %q is not an origin (scheme://host[:port]): %s", s, why)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return bad(err.Error())
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("the scheme must be http or https")
	case u.Opaque != "" || u.Host == "":
		return bad("no host")
	case u.User != nil:
		return bad("it has userinfo")
	case u.Path != "" && u.Path != "/":
		return bad("it has a path; the session is bound to the whole origin, not to a path")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("it has a query")
	case u.Fragment != "":
		return bad("it has a fragment")
	}
	o, ok := originOf(u)
	if !ok {
		return bad("invalid host or port")
	}
	return o, nil
}

// serves reports whether req goes to origin o: its URL has origin o and its
// Host header, if set, names the same host and port.
func (o origin) serves(req *http.Request) bool {
	if req.URL == nil {
		return false
	}
	if ro, ok := originOf(req.URL); !ok || ro != o {
		return false
	}
	if req.Host != "" {
		ho, ok := originOf(&url.URL{Scheme: req.URL.Scheme, Host: req.Host})
		if !ok || ho != o {
			return false
		}
	}
	return true
}

// firstRequest is the RoundTripper of the client given to one login attempt
// when the Transport's origin is not known yet. It sends requests through
// base and remembers the origin of the first.
type firstRequest struct {
	base http.RoundTripper

	mu   sync.Mutex
	sent bool
	o    origin
	ok   bool // o is valid
}

func (r *firstRequest) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if !r.sent {
		r.sent = true
		r.o, r.ok = originOf(req.URL)
	}
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

// origin returns the origin of the first request, if there was one and it
// had an origin.
func (r *firstRequest) origin() (origin, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.o, r.ok
}
