package upstream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// FormLogin returns a [LoginFunc] that posts form, URL-encoded, to loginURL
// and relies on the cookies the response sets. The redirect that usually
// answers a login is not followed. The login succeeds if the status is 2xx,
// or 3xx to a page other than loginURL's path; a redirect back to the login
// page, or any other status, is an error. If the upstream reports bad
// credentials some other way (say, 200 with the form again), write the
// LoginFunc yourself. Unless [Config].Origin is set, the Transport is bound
// to loginURL's origin: only requests to it get the session cookies.
func FormLogin(loginURL string, form url.Values) LoginFunc {
	return func(ctx context.Context, client *http.Client) (http.Header, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, fmt.Errorf("upstream: form login: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("upstream: form login: %w", err)
		}
		discard(resp)
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode <= 299:
			return nil, nil
		case resp.StatusCode >= 300 && resp.StatusCode <= 399:
			loc, err := resp.Location()
			if err == nil && loc.Path != req.URL.Path {
				return nil, nil
			}
			return nil, fmt.Errorf("upstream: form login: %s back to the login page", resp.Status)
		}
		return nil, fmt.Errorf("upstream: form login: %s", resp.Status)
	}
}

// ExponentialBackoff returns a [Config].Backoff that waits about base after
// the first failed attempt and doubles the wait after each further one, up
// to limit. Each wait is drawn at random from [d/2, d], where d is that
// doubling delay, so that processes that failed together do not retry in
// step. It panics if base is not positive or limit is less than base.
func ExponentialBackoff(base, limit time.Duration) func(attempt int) time.Duration {
	if base <= 0 || limit < base {
		panic(errors.New("upstream: ExponentialBackoff: need 0 < base <= limit"))
	}
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < limit; i++ {
			if d > limit/2 {
				d = limit
				break
			}
			d *= 2
		}
		d = min(d, limit)
		return d/2 + rand.N(d-d/2+1)
	}
}
