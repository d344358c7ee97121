// Command loadclient drives the fleet tests. By default (-scenario
// rotation, test/fleet/run.sh) many concurrent clients, each with its own
// cookie jar, run back-to-back sessions against a URL and check that every
// response carries the session counter they expect; -scenario revoke
// (test/fleet/revoke.sh) is the revocation scenario described in revoke.go.
//
// Each session lasts -session (shorter than the servers' lifetime, so no
// session reaches its deadline during the test). A response whose counter
// is not the number of increments the client has made in that session is a
// lost session. At the end it fetches each instance's /debug/sealed
// counters, prints a summary and exits 1 if any request lost its session,
// any response was 5xx or failed, or the counters show no stale upgrade.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "base URL of the load balancer")
	clients := flag.Int("clients", 300, "concurrent clients")
	duration := flag.Duration("duration", 40*time.Second, "how long to run")
	sessionLen := flag.Duration("session", 8*time.Second, "length of each client session")
	think := flag.Duration("think", 50*time.Millisecond, "pause between a client's requests")
	path := flag.String("path", "/session_test", "path that increments and returns the counter")
	field := flag.String("field", "count", "JSON field holding the counter")
	stats := flag.String("stats", "", "comma-separated instance URLs whose /debug/sealed to read at the end")
	statsPath := flag.String("stats-path", "/debug/sealed", "path of the Stats JSON on each instance")
	oldKey := flag.String("old-key", "", "ID of the retired key (its stale opens prove upgrades)")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "loadclient: -url is required")
		os.Exit(2)
	}
	switch *scenario {
	case "rotation":
	case "revoke":
		os.Exit(runRevoke(*url, *think))
	default:
		fmt.Fprintf(os.Stderr, "loadclient: -scenario %q: want rotation or revoke\n", *scenario)
		os.Exit(2)
	}

	tr := &http.Transport{MaxIdleConns: *clients, MaxIdleConnsPerHost: *clients, IdleConnTimeout: 30 * time.Second}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()

	var res results
	start := time.Now()
	var wg sync.WaitGroup
	for i := range *clients {
		wg.Go(func() {
			// Stagger session starts so sessions end at different times.
			offset := time.Duration(i) * *sessionLen / time.Duration(*clients)
			c := &client{hc: hc, url: *url + *path, field: *field, res: &res}
			first := true
			for ctx.Err() == nil {
				l := *sessionLen
				if first {
					l, first = offset+time.Second, false
				}
				c.session(ctx, l, *think)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	fmt.Printf("load:     %d clients, %s, %d requests (%.0f/s), %d sessions completed\n",
		*clients, elapsed.Round(time.Second), res.requests.Load(), float64(res.requests.Load())/elapsed.Seconds(), res.sessions.Load())
	lat := res.latencies()
	fmt.Printf("latency:  p50 %s  p99 %s  max %s\n", lat[0], lat[1], lat[2])
	fmt.Printf("failures: %d lost sessions, %d 5xx, %d other errors\n", res.lost.Load(), res.status5xx.Load(), res.errors.Load())
	for _, e := range res.firstErrors() {
		fmt.Printf("          e.g. %s\n", e)
	}

	ok := res.lost.Load() == 0 && res.status5xx.Load() == 0 && res.errors.Load() == 0 && res.requests.Load() > 0
	var stale, unknown, invalid, oldOpened uint64
	if *stats != "" {
		for _, inst := range strings.Split(*stats, ",") {
			st, err := fetchStats(hc, inst+*statsPath)
			if err != nil {
				fmt.Printf("stats:    %s: %v\n", inst, err)
				ok = false
				continue
			}
			stale += st.Stale
			unknown += st.UnknownKey
			invalid += st.Invalid
			oldOpened += st.Opened[*oldKey]
			fmt.Printf("stats:    %s sealed %s opened %s stale %d unknown-key %d invalid %d expired %d\n",
				strings.TrimPrefix(inst, "http://"), byKey(st.Sealed), byKey(st.Opened), st.Stale, st.UnknownKey, st.Invalid, st.Expired)
		}
		fmt.Printf("upgrades: %d stale opens re-sealed with the new key; %d unknown-key and %d invalid rejections\n", stale, unknown, invalid)
		if stale == 0 || (*oldKey != "" && oldOpened == 0) {
			fmt.Println("FAIL:     the counters show no stale upgrade")
			ok = false
		}
		if unknown != 0 || invalid != 0 {
			fmt.Println("FAIL:     cookies were rejected")
			ok = false
		}
	}
	if !ok {
		fmt.Println("RESULT:   FAIL")
		os.Exit(1)
	}
	fmt.Println("RESULT:   PASS")
}

type results struct {
	requests, sessions, lost, status5xx, errors atomic.Int64

	mu   sync.Mutex
	lat  []time.Duration
	errs []string
}

func (r *results) fail(counter *atomic.Int64, format string, args ...any) {
	counter.Add(1)
	r.mu.Lock()
	if len(r.errs) < 3 {
		r.errs = append(r.errs, fmt.Sprintf(format, args...))
	}
	r.mu.Unlock()
}

func (r *results) firstErrors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

func (r *results) latencies() [3]time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lat) == 0 {
		return [3]time.Duration{}
	}
	slices.Sort(r.lat)
	q := func(p float64) time.Duration { return r.lat[int(p*float64(len(r.lat)-1))].Round(time.Microsecond) }
	return [3]time.Duration{q(0.5), q(0.99), q(1)}
}

// A client is one browser: a cookie jar and the count it expects.
type client struct {
	hc    *http.Client
	url   string
	field string
	res   *results
	jar   map[string]string // cookie name -> value
}

// session runs one session of about length: a fresh jar, then increments.
func (c *client) session(ctx context.Context, length, think time.Duration) {
	c.jar = map[string]string{}
	end := time.Now().Add(length)
	want := 0
	for time.Now().Before(end) && ctx.Err() == nil {
		want++
		got, err := c.increment(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return // the run ended mid-request: not a failure
			}
			return // counted by increment; start a new session
		}
		if got != want {
			c.res.fail(&c.res.lost, "session lost: counter %d after %d increments", got, want)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(think):
		}
	}
	c.res.sessions.Add(1)
}

func (c *client) increment(ctx context.Context) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.url, nil)
	for name, value := range c.jar {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	t0 := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			c.res.fail(&c.res.errors, "request: %v", err)
		}
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	d := time.Since(t0)
	c.res.requests.Add(1)
	c.res.mu.Lock()
	c.res.lat = append(c.res.lat, d)
	c.res.mu.Unlock()
	switch {
	case err != nil && ctx.Err() != nil:
		return 0, err
	case err != nil:
		c.res.fail(&c.res.errors, "reading response: %v", err)
		return 0, err
	case resp.StatusCode >= 500:
		c.res.fail(&c.res.status5xx, "status %s: %.100s", resp.Status, body)
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		c.res.fail(&c.res.errors, "status %s: %.100s", resp.Status, body)
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck.Value
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		c.res.fail(&c.res.errors, "response is not JSON: %.100s", body)
		return 0, err
	}
	n, ok := doc[c.field].(float64)
	if !ok {
		c.res.fail(&c.res.errors, "response has no numeric %q: %.100s", c.field, body)
		return 0, fmt.Errorf("no counter")
	}
	return int(n), nil
}

type sealedStats struct {
	Sealed, Opened                      map[string]uint64
	Stale, UnknownKey, Invalid, Expired uint64
}

func fetchStats(hc *http.Client, url string) (*sealedStats, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var st sealedStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

func byKey(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}
