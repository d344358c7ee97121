package main

// The revocation scenario (-scenario revoke), which test/fleet/revoke.sh
// runs against three "sealed demo -redis" instances behind nginx:
//
//  1. Users log in through the load balancer, some on two or three devices
//     (each device is a client with its own cookie jar and session), and
//     every device increments its session's counter in a loop, checking
//     the exact count (as the rotation scenario does).
//  2. Under that load, within a few seconds: 100 users sign out everywhere,
//     100 single sessions end (half by logout after a copy of the cookie
//     was kept, half revoked by ID from the user's other device) and 50
//     users sign out their other devices. Each revoking call goes to one
//     instance directly. Then every revoked cookie is polled on every
//     instance (directly, not through nginx) with GET /whoami until it
//     answers 401: the time from the revoking call's response to that 401
//     is the propagation, per instance; a 200 to a request sent more than
//     -bound after the revoking call is a revoked cookie accepted after the
//     bound.
//  3. Redis is killed (-redis-stop) for -outage, while the load goes on.
//     Meanwhile 20 users sign out (everywhere, or one session by logout)
//     on an instance, which answers 202 (queued), and 10 users log in.
//     Redis is started again, empty (-redis-start). Each instance's
//     /debug/sealed is sampled throughout: staleness, connection, outbox.
//     The revocations made during the outage must hold on their instance
//     at once and on every instance within -recovery-bound of the restart.
//  4. After the restart, 10 more users sign out everywhere (propagation
//     again), then every revoked cookie is tried once more on every
//     instance: the mirrors must still hold the revocations Redis forgot.
//  5. The load stops; every device that was not revoked must still open
//     its session on every instance with its exact counter.
//
// It prints the measurements as a table and exits 1 if any check fails.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	scenario      = flag.String("scenario", "rotation", "rotation: sessions under a key rotation (the default); revoke: the revocation scenario (revoke.go)")
	instancesFlag = flag.String("instances", "", "revoke: comma-separated base URLs of the instances, polled directly")
	everywhereN   = flag.Int("everywhere", 100, "revoke: users signed out everywhere under load")
	singleN       = flag.Int("single", 100, "revoke: single sessions revoked under load (half by logout, half by ID)")
	othersN       = flag.Int("others", 50, "revoke: users whose other devices are signed out under load")
	outageN       = flag.Int("outage-revokes", 20, "revoke: users who sign out while Redis is down")
	untouchedN    = flag.Int("untouched", 100, "revoke: users never signed out")
	lateN         = flag.Int("late", 10, "revoke: users who log in while Redis is down")
	afterN        = flag.Int("after", 10, "revoke: users signed out everywhere after Redis is back")
	boundFlag     = flag.Duration("bound", time.Second, "revoke: a revoked cookie accepted by a request sent later than this after the revoking call is a failure")
	recoveryFlag  = flag.Duration("recovery-bound", 5*time.Second, "revoke: the same, for revocations made while Redis was down, counted from its restart")
	outageFlag    = flag.Duration("outage", 10*time.Second, "revoke: how long Redis stays down")
	redisStop     = flag.String("redis-stop", "", "revoke: shell command that kills Redis")
	redisStart    = flag.String("redis-start", "", "revoke: shell command that starts Redis again and returns once it answers")
	maxStaleFlag  = flag.Duration("max-stale", 30*time.Second, "revoke: the instances' -redis-max-stale, which the staleness must stay under")
)

// deviceCount is how many devices the i-th user of a group has: 1, 1, 2,
// 3, 1, 1, 2, 3, ...
func deviceCount(i int) int { return [...]int{1, 1, 2, 3}[i%4] }

type user struct {
	name    string
	devices []*device
}

// A device is one browser of a user: a cookie jar, its session's counter,
// and the loop that increments it. mu is held for every request made with
// the jar, so a revocation sees a quiet jar.
type device struct {
	u       *user
	mu      sync.Mutex
	c       *client // c.jar is the device's cookie jar
	count   int     // increments acknowledged: the counter the session holds
	revoked bool    // signed out on purpose: the loop stops
	failed  bool    // lost its session or failed: the loop stops
	reqs    int
}

// A revocation is one revoked cookie: a copy of the jar taken just before
// the revoking call, and when that call answered.
type revocation struct {
	phase  string // "load", "outage", "after"
	kind   string // "everywhere", "others", "logout", "by-id"
	origin int    // the instance that made it
	copy   map[string]string
	at     time.Time // the revoking call's response
}

// A probe is what polling one revoked cookie on one instance found.
type probe struct {
	inst   int
	remote bool          // not the instance that revoked
	first  time.Duration // to the first 401, -1 if none
	late   int           // 200s to requests sent after the bound
	flaps  int           // 200s after a 401
}

type sample struct {
	at        time.Time
	connected bool
	staleness float64
	pending   int
}

type revokeRun struct {
	base   string
	insts  []string
	lb, hc *http.Client // through nginx, and to the instances directly
	think  time.Duration
	start  time.Time

	res        results // the load: requests, lost sessions, 5xx, errors
	calls      atomic.Int64
	calls5xx   atomic.Int64
	unexpected atomic.Int64 // revoking calls or polls with a status the scenario does not allow
	stop       atomic.Bool
	loops      sync.WaitGroup

	mu       sync.Mutex
	notes    []string
	revs     []*revocation
	probes   map[string][]probe // by phase
	samples  [][]sample         // per instance
	down, up time.Time          // Redis killed, answering again
	upSet    chan struct{}      // closed once up is set
	codes    map[string]map[int]int
}

func (r *revokeRun) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.notes) < 8 {
		r.notes = append(r.notes, fmt.Sprintf(format, args...))
	}
}

func (r *revokeRun) since() string { return fmt.Sprintf("t=%5.1fs", time.Since(r.start).Seconds()) }

// call sends method url with jar's cookies (nil: none) and applies the
// response's Set-Cookie to jar when update is set. Responses 5xx and
// transport errors are counted and noted.
func (r *revokeRun) call(hc *http.Client, method, url string, jar map[string]string, update bool) (int, []byte) {
	req, _ := http.NewRequest(method, url, nil)
	for name, value := range jar {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	r.calls.Add(1)
	resp, err := hc.Do(req)
	if err != nil {
		r.unexpected.Add(1)
		r.note("%s %s: %v", method, url, err)
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode >= 500 {
		r.calls5xx.Add(1)
		r.note("%s %s: %s %.100s", method, url, resp.Status, body)
	}
	if update {
		for _, ck := range resp.Cookies() {
			if ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
				delete(jar, ck.Name)
			} else {
				jar[ck.Name] = ck.Value
			}
		}
	}
	return resp.StatusCode, body
}

// expect notes and counts a status other than one of want.
func (r *revokeRun) expect(what string, code int, body []byte, want ...int) bool {
	r.mu.Lock()
	if r.codes[what] == nil {
		r.codes[what] = map[int]int{}
	}
	r.codes[what][code]++
	r.mu.Unlock()
	if slices.Contains(want, code) {
		return true
	}
	r.unexpected.Add(1)
	r.note("%s: status %d, want %v: %.120s", what, code, want, body)
	return false
}

func (r *revokeRun) login(u *user) {
	for _, d := range u.devices {
		d.mu.Lock()
		code, body := r.call(r.lb, "POST", r.base+"/create_session/"+u.name, d.c.jar, true)
		d.mu.Unlock()
		if r.expect("login", code, body, 200) {
			r.loops.Add(1)
			go d.run(r)
		}
	}
}

// run increments the device's counter until the load stops or the device
// is revoked, checking every count.
func (d *device) run(r *revokeRun) {
	defer r.loops.Done()
	for !r.stop.Load() {
		d.mu.Lock()
		if d.revoked || d.failed {
			d.mu.Unlock()
			return
		}
		got, err := d.c.increment(context.Background())
		d.reqs++
		switch {
		case err != nil:
			d.failed = true // counted by increment
		case got != d.count+1:
			d.failed = true
			r.res.fail(&r.res.lost, "session of %s lost: counter %d after %d increments", d.u.name, got, d.count+1)
		default:
			d.count = got
		}
		d.mu.Unlock()
		time.Sleep(r.think*4/5 + rand.N(r.think*2/5+1))
	}
}

// lockAll locks the devices of u, in order, and returns the unlock.
func lockAll(u *user) func() {
	for _, d := range u.devices {
		d.mu.Lock()
	}
	return func() {
		for _, d := range u.devices {
			d.mu.Unlock()
		}
	}
}

// revoke makes user u's revocation of kind on instance inst, marks the
// devices it ends, and returns a revocation for each of their cookies.
// want is the status the call must answer.
func (r *revokeRun) revoke(phase, kind string, u *user, inst int, want int) []*revocation {
	unlock := lockAll(u)
	defer unlock()
	actor := u.devices[0]
	var gone []*device
	var code int
	var body []byte
	url := r.insts[inst]
	switch kind {
	case "everywhere":
		gone = u.devices
	case "others":
		gone = u.devices[1:]
	case "logout":
		gone = u.devices[:1]
	case "by-id":
		gone = u.devices[1:2]
	}
	copies := make([]map[string]string, len(gone))
	for i, d := range gone {
		copies[i] = maps.Clone(d.c.jar)
	}
	switch kind {
	case "everywhere":
		code, body = r.call(r.hc, "POST", url+"/signout_everywhere", actor.c.jar, true)
	case "others":
		code, body = r.call(r.hc, "POST", url+"/signout_others", actor.c.jar, true)
	case "logout":
		code, body = r.call(r.hc, "POST", url+"/delete_session", actor.c.jar, true)
	case "by-id":
		// The ID of the other device's session, from the device list as
		// that device sees it (its entry is the current one).
		var list []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		}
		c, b := r.call(r.hc, "GET", url+"/sessions", gone[0].c.jar, true)
		if !r.expect("GET /sessions", c, b, 200) || json.Unmarshal(b, &list) != nil {
			return nil
		}
		id := ""
		for _, s := range list {
			if s.Current {
				id = s.ID
			}
		}
		code, body = r.call(r.hc, "POST", url+"/sessions/"+id+"/revoke", actor.c.jar, true)
	}
	at := time.Now()
	if !r.expect(phase+" "+kind, code, body, want) {
		return nil
	}
	var out []*revocation
	for i, d := range gone {
		d.revoked = true
		out = append(out, &revocation{phase: phase, kind: kind, origin: inst, copy: copies[i], at: at})
	}
	r.mu.Lock()
	r.revs = append(r.revs, out...)
	r.mu.Unlock()
	return out
}

// whoami returns the status of GET /whoami with jar on instance inst.
func (r *revokeRun) whoami(inst int, jar map[string]string) (int, []byte) {
	return r.call(r.hc, "GET", r.insts[inst]+"/whoami", jar, false)
}

// pollBound polls rv on instance inst until it answers 401, then for the
// rest of bound plus a second, counting 200s to requests sent after the
// bound.
func (r *revokeRun) pollBound(rv *revocation, inst int, bound time.Duration) probe {
	p := probe{inst: inst, remote: inst != rv.origin, first: -1}
	for {
		sent := time.Now()
		code, body := r.whoami(inst, rv.copy)
		switch code {
		case 401:
			if p.first < 0 {
				p.first = time.Since(rv.at)
			}
		case 200:
			if sent.Sub(rv.at) > bound {
				p.late++
			}
			if p.first >= 0 {
				p.flaps++
			}
		default:
			r.expect("poll", code, body, 200, 401)
		}
		if p.first < 0 && time.Since(rv.at) > bound+5*time.Second {
			return p // never revoked
		}
		if p.first >= 0 && time.Since(rv.at) > bound+time.Second {
			return p
		}
		if p.first < 0 {
			time.Sleep(5 * time.Millisecond)
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// pollRecovery polls rv, made while Redis was down, on another instance
// than its own: it may be accepted until Redis is back, and must be
// refused within recovery of the restart. first counts from the restart.
func (r *revokeRun) pollRecovery(rv *revocation, inst int, recovery time.Duration) probe {
	p := probe{inst: inst, remote: true, first: -1}
	var up time.Time
	for {
		select {
		case <-r.upSet:
			r.mu.Lock()
			up = r.up
			r.mu.Unlock()
		default:
		}
		sent := time.Now()
		code, body := r.whoami(inst, rv.copy)
		switch code {
		case 401:
			if p.first < 0 {
				if up.IsZero() {
					p.first = 0 // refused before Redis was back
				} else {
					p.first = time.Since(up)
				}
			}
		case 200:
			if !up.IsZero() && sent.Sub(up) > recovery {
				p.late++
			}
			if p.first >= 0 {
				p.flaps++
			}
		default:
			r.expect("poll", code, body, 200, 401)
		}
		switch {
		case p.first < 0 && !up.IsZero() && time.Since(up) > recovery+5*time.Second:
			return p
		case p.first >= 0 && !up.IsZero() && time.Since(up) > p.first+time.Second:
			return p
		case p.first < 0 && !up.IsZero():
			time.Sleep(10 * time.Millisecond)
		default:
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// sampleStats reads every instance's /debug/sealed every interval until
// done is closed.
func (r *revokeRun) sampleStats(interval time.Duration, done <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for i, inst := range r.insts {
			var st struct {
				Revocations struct {
					Connected        bool
					StalenessSeconds float64
					Pending          int
				}
			}
			code, body := r.call(r.hc, "GET", inst+"/debug/sealed", nil, false)
			if code != 200 || json.Unmarshal(body, &st) != nil {
				r.expect("GET /debug/sealed", code, body, 200)
				continue
			}
			rs := st.Revocations
			r.mu.Lock()
			r.samples[i] = append(r.samples[i], sample{time.Now(), rs.Connected, rs.StalenessSeconds, rs.Pending})
			r.mu.Unlock()
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func shell(cmd string) error {
	if cmd == "" {
		return fmt.Errorf("no command")
	}
	out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", cmd, err, bytes.TrimSpace(out))
	}
	return nil
}

func runRevoke(base string, think time.Duration) int {
	insts := strings.Split(*instancesFlag, ",")
	if *instancesFlag == "" || len(insts) < 2 {
		fmt.Fprintln(os.Stderr, "loadclient: -scenario revoke needs -instances (two or more)")
		return 2
	}
	r := &revokeRun{
		base: base, insts: insts, think: think,
		lb:      &http.Client{Transport: &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 2000}, Timeout: 15 * time.Second},
		hc:      &http.Client{Transport: &http.Transport{MaxIdleConns: 4000, MaxIdleConnsPerHost: 1500}, Timeout: 15 * time.Second},
		probes:  map[string][]probe{},
		samples: make([][]sample, len(insts)),
		upSet:   make(chan struct{}),
		codes:   map[string]map[int]int{},
	}
	bound, recovery := *boundFlag, *recoveryFlag
	group := func(prefix string, n int, devs func(i int) int) []*user {
		us := make([]*user, n)
		for i := range us {
			u := &user{name: fmt.Sprintf("%s%03d", prefix, i)}
			for range devs(i) {
				u.devices = append(u.devices, &device{u: u, c: &client{hc: r.lb, url: base + "/session_test", field: "counter", res: &r.res, jar: map[string]string{}}})
			}
			us[i] = u
		}
		return us
	}
	everywhere := group("everywhere-", *everywhereN, deviceCount)
	logout := group("logout-", *singleN/2, deviceCount)
	byID := group("byid-", *singleN-*singleN/2, func(int) int { return 2 })
	others := group("others-", *othersN, func(i int) int { return 2 + i%2 })
	outage := group("outage-", *outageN, deviceCount)
	untouched := group("untouched-", *untouchedN, deviceCount)
	late := group("late-", *lateN, func(int) int { return 1 })
	after := group("after-", *afterN, deviceCount)
	var all []*user
	for _, g := range [][]*user{everywhere, logout, byID, others, outage, untouched, late, after} {
		all = append(all, g...)
	}
	devices := func(us []*user) (n int) {
		for _, u := range us {
			n += len(u.devices)
		}
		return n
	}

	r.start = time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(r.start.Add(d))) }
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "loadclient: %s "+format+"\n", append([]any{r.since()}, args...)...)
	}
	statsDone := make(chan struct{})
	var statsWG sync.WaitGroup
	statsWG.Go(func() { r.sampleStats(250*time.Millisecond, statsDone) })

	// 1. Logins, spread over three seconds, then load.
	early := slices.DeleteFunc(slices.Clone(all), func(u *user) bool { return slices.Contains(late, u) })
	var logins sync.WaitGroup
	for i, u := range early {
		logins.Go(func() {
			time.Sleep(time.Duration(i) * 3 * time.Second / time.Duration(len(early)))
			r.login(u)
		})
	}
	logins.Wait()
	logf("%d users logged in on %d devices; load running", len(early), devices(early))

	// 2. Revocations under load, spread over three seconds, each polled
	// on every instance.
	at(8 * time.Second)
	type job struct {
		kind string
		u    *user
	}
	var jobs []job
	for _, u := range everywhere {
		jobs = append(jobs, job{"everywhere", u})
	}
	for _, u := range logout {
		jobs = append(jobs, job{"logout", u})
	}
	for _, u := range byID {
		jobs = append(jobs, job{"by-id", u})
	}
	for _, u := range others {
		jobs = append(jobs, job{"others", u})
	}
	rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	logf("revoking under load: %d users everywhere, %d sessions by logout, %d by ID, %d users' other devices",
		len(everywhere), len(logout), len(byID), len(others))
	var polls sync.WaitGroup
	pollAll := func(phase string, rvs []*revocation, poll func(rv *revocation, inst int) probe) {
		for _, rv := range rvs {
			for inst := range r.insts {
				polls.Go(func() {
					p := poll(rv, inst)
					r.mu.Lock()
					r.probes[phase] = append(r.probes[phase], p)
					r.mu.Unlock()
				})
			}
		}
	}
	var revoking sync.WaitGroup
	for i, j := range jobs {
		revoking.Go(func() {
			time.Sleep(time.Duration(i) * 3 * time.Second / time.Duration(len(jobs)))
			rvs := r.revoke("load", j.kind, j.u, i%len(r.insts), 200)
			pollAll("load", rvs, func(rv *revocation, inst int) probe { return r.pollBound(rv, inst, bound) })
		})
	}
	revoking.Wait()
	polls.Wait()
	logf("every revoked cookie polled on every instance")

	// 3. The outage.
	at(16 * time.Second)
	if err := shell(*redisStop); err != nil {
		logf("stopping Redis: %v", err)
		return 1
	}
	r.mu.Lock()
	r.down = time.Now()
	r.mu.Unlock()
	logf("Redis killed; the load goes on")
	var outageWork sync.WaitGroup
	for i, u := range outage {
		outageWork.Go(func() {
			time.Sleep(time.Second + time.Duration(i)*3*time.Second/time.Duration(len(outage)))
			kind := []string{"everywhere", "logout"}[i%2]
			inst := i % len(r.insts)
			rvs := r.revoke("outage", kind, u, inst, 202)
			for _, rv := range rvs {
				for k := range r.insts {
					polls.Go(func() {
						var p probe
						if k == inst {
							p = r.pollBound(rv, k, bound)
						} else {
							p = r.pollRecovery(rv, k, recovery)
						}
						r.mu.Lock()
						r.probes["outage"] = append(r.probes["outage"], p)
						r.mu.Unlock()
					})
				}
			}
		})
	}
	for i, u := range late {
		outageWork.Go(func() {
			time.Sleep(2*time.Second + time.Duration(i)*2*time.Second/time.Duration(len(late)))
			r.login(u)
		})
	}
	outageWork.Wait()
	logf("%d users signed out during the outage (202: queued), %d logged in", len(outage), len(late))
	time.Sleep(time.Until(r.down.Add(*outageFlag)))
	if err := shell(*redisStart); err != nil {
		logf("starting Redis: %v", err)
		return 1
	}
	r.mu.Lock()
	r.up = time.Now()
	r.mu.Unlock()
	close(r.upSet)
	logf("Redis restarted, empty, after %v", r.up.Sub(r.down).Round(100*time.Millisecond))
	polls.Wait()
	logf("every revocation of the outage polled on every instance")

	// 4. Revocations after the outage, and every revoked cookie again.
	for i, u := range after {
		revoking.Go(func() {
			rvs := r.revoke("after", "everywhere", u, i%len(r.insts), 200)
			pollAll("after", rvs, func(rv *revocation, inst int) probe { return r.pollBound(rv, inst, bound) })
		})
	}
	revoking.Wait()
	polls.Wait()
	var sweep, sweepAccepted atomic.Int64
	var sweepWG sync.WaitGroup
	for _, rv := range r.revs {
		for inst := range r.insts {
			sweepWG.Go(func() {
				code, body := r.whoami(inst, rv.copy)
				sweep.Add(1)
				if code == 200 {
					sweepAccepted.Add(1)
					r.note("final sweep: a cookie revoked (%s %s) was accepted by instance %d", rv.phase, rv.kind, inst+1)
				} else {
					r.expect("final sweep", code, body, 401)
				}
			})
		}
	}
	sweepWG.Wait()
	logf("final sweep: %d revoked cookies tried on every instance", len(r.revs))

	// 5. Stop the load; every device still signed in opens its session on
	// every instance, with its count.
	time.Sleep(2 * time.Second)
	r.stop.Store(true)
	r.loops.Wait()
	close(statsDone)
	statsWG.Wait()
	var kept, keptReqs, keptLost int
	for _, u := range all {
		for _, d := range u.devices {
			if d.revoked {
				continue
			}
			kept++
			keptReqs += d.reqs
			bad := d.failed
			for inst := range r.insts {
				code, body := r.whoami(inst, d.c.jar)
				var who struct {
					Name    string `json:"name"`
					Counter int    `json:"counter"`
				}
				if code != 200 || json.Unmarshal(body, &who) != nil || who.Name != u.name || who.Counter != d.count {
					if !bad {
						r.note("%s: instance %d answers %d %.100s, want its session with counter %d", u.name, inst+1, code, body, d.count)
					}
					bad = true
				}
			}
			if bad {
				keptLost++
			}
		}
	}
	elapsed := time.Since(r.start)

	return r.report(elapsed, bound, recovery, kept, keptReqs, keptLost, int(sweep.Load()), int(sweepAccepted.Load()), devices(all), len(all))
}

// quantiles returns p50, p99 and max of ds.
func quantiles(ds []time.Duration) (p50, p99, max time.Duration) {
	if len(ds) == 0 {
		return -1, -1, -1
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
	return q(0.5), q(0.99), ds[len(ds)-1]
}

func ms(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func (r *revokeRun) report(elapsed, bound, recovery time.Duration, kept, keptReqs, keptLost, sweep, sweepAccepted, nDevices, nUsers int) int {
	ok := true
	fail := func(format string, args ...any) {
		fmt.Printf("FAIL:     "+format+"\n", args...)
		ok = false
	}
	counts := map[string]int{}
	for _, rv := range r.revs {
		counts[rv.phase+" "+rv.kind]++
	}
	fmt.Printf("load:     %d users on %d devices, %s, %d requests through nginx (%.0f/s), %d direct (revoking, polls, stats)\n",
		nUsers, nDevices, elapsed.Round(time.Second), r.res.requests.Load(), float64(r.res.requests.Load())/elapsed.Seconds(), r.calls.Load())
	lat := r.res.latencies()
	fmt.Printf("latency:  through nginx p50 %s  p99 %s  max %s\n", lat[0], lat[1], lat[2])
	fmt.Printf("revoked:  under load: %d cookies (%d everywhere, %d logout, %d by ID, %d other devices); during the outage: %d (%d everywhere, %d logout); after: %d\n",
		counts["load everywhere"]+counts["load logout"]+counts["load by-id"]+counts["load others"],
		counts["load everywhere"], counts["load logout"], counts["load by-id"], counts["load others"],
		counts["outage everywhere"]+counts["outage logout"], counts["outage everywhere"], counts["outage logout"], counts["after everywhere"])

	// Propagation per instance.
	fmt.Printf("\npropagation: revoking call's response -> first 401 from GET /whoami on the instance (bound %v)\n", bound)
	fmt.Printf("  %-12s %-10s %6s %10s %10s %10s %8s %8s\n", "phase", "instance", "cookies", "p50", "p99", "max", "never", ">bound")
	var lateAll, flapsAll, never int
	for _, phase := range []string{"load", "after"} {
		for inst := range r.insts {
			var all, remote []time.Duration
			var nv, lt int
			for _, p := range r.probes[phase] {
				if p.inst != inst {
					continue
				}
				lt += p.late
				flapsAll += p.flaps
				if p.first < 0 {
					nv++
					continue
				}
				all = append(all, p.first)
				if p.remote {
					remote = append(remote, p.first)
				}
			}
			lateAll += lt
			never += nv
			p50, p99, mx := quantiles(all)
			fmt.Printf("  %-12s %-10s %6d %10s %10s %10s %8d %8d\n", phase, fmt.Sprintf("#%d all", inst+1), len(all)+nv, ms(p50), ms(p99), ms(mx), nv, lt)
			p50, p99, mx = quantiles(remote)
			fmt.Printf("  %-12s %-10s %6d %10s %10s %10s\n", "", "  remote", len(remote), ms(p50), ms(p99), ms(mx))
			if phase == "load" && p99 > bound {
				fail("instance %d: p99 propagation %v over the %v bound", inst+1, p99, bound)
			}
		}
	}
	// The outage's revocations: at once on their instance, after the
	// restart on the others.
	var first [2][]time.Duration // own instance, the others
	var nv, lt [2]int
	for _, p := range r.probes["outage"] {
		k := 0
		if p.remote {
			k = 1
		}
		lt[k] += p.late
		flapsAll += p.flaps
		if p.first < 0 {
			nv[k]++
		} else {
			first[k] = append(first[k], p.first)
		}
	}
	outageLate, outageNever := lt[0]+lt[1], nv[0]+nv[1]
	_, _, ownMax := quantiles(slices.Clone(first[0]))
	_, _, othersMax := quantiles(slices.Clone(first[1]))
	p50, p99, mx := quantiles(first[0])
	fmt.Printf("  %-12s %-10s %6d %10s %10s %10s %8d %8d   (its own instance, from the revoking call)\n", "outage", "own", len(first[0])+nv[0], ms(p50), ms(p99), ms(mx), nv[0], lt[0])
	p50, p99, mx = quantiles(first[1])
	fmt.Printf("  %-12s %-10s %6d %10s %10s %10s %8d %8d   (the other instances, from Redis's restart; bound %v)\n", "outage", "others", len(first[1])+nv[1], ms(p50), ms(p99), ms(mx), nv[1], lt[1], recovery)
	fmt.Printf("accepted after the bound: %d (of polls: %d after 1 s, %d after the restart bound); after a 401: %d; final sweep of every revoked cookie on every instance: %d accepted of %d\n",
		lateAll+outageLate+sweepAccepted, lateAll, outageLate, flapsAll, sweepAccepted, sweep)
	if lateAll+outageLate+sweepAccepted+flapsAll > 0 {
		fail("revoked cookies were accepted after the bound")
	}
	if never+outageNever > 0 {
		fail("%d (cookie, instance) pairs never answered 401", never+outageNever)
	}

	// The outage's timeline, from the samples of /debug/sealed.
	r.mu.Lock()
	down, up := r.down, r.up
	r.mu.Unlock()
	fmt.Printf("\noutage:   Redis killed at t=%.1fs, restarted empty at t=%.1fs (%.1f s down); -redis-max-stale %v\n",
		down.Sub(r.start).Seconds(), up.Sub(r.start).Seconds(), up.Sub(down).Seconds(), *maxStaleFlag)
	fmt.Printf("  %-10s %14s %14s %16s %16s %14s %12s\n", "instance", "noticed", "reconnected", "max staleness", "staleness after", "max outbox", "outbox after")
	var maxStaleAll float64
	for i, ss := range r.samples {
		var noticed, back time.Duration = -1, -1
		var maxStale, staleAfter float64
		var maxPending, pendingAfter int
		for _, s := range ss {
			maxStale = max(maxStale, s.staleness)
			if s.at.After(down) && !s.connected && noticed < 0 {
				noticed = s.at.Sub(down)
			}
			if s.at.After(down) && s.at.Before(up.Add(time.Minute)) {
				maxPending = max(maxPending, s.pending)
			}
			if s.at.After(up) && s.connected && back < 0 {
				back = s.at.Sub(up)
			}
			if back >= 0 && s.at.After(up.Add(back)) {
				staleAfter = max(staleAfter, s.staleness)
				pendingAfter = s.pending
			}
		}
		fmt.Printf("  %-10s %14s %14s %16s %16s %14d %12d\n", fmt.Sprintf("#%d", i+1),
			"+"+sec(noticed), "restart+"+sec(back), fmt.Sprintf("%.1f s", maxStale), fmt.Sprintf("%.1f s", staleAfter), maxPending, pendingAfter)
		if noticed < 0 || back < 0 || pendingAfter != 0 {
			fail("instance %d: did not notice the outage, reconnect, or write its outbox", i+1)
		}
		maxStaleAll = max(maxStaleAll, maxStale)
		if maxStale >= maxStaleFlag.Seconds() {
			fail("instance %d: staleness %.1f s reached MaxStale: the instance failed closed", i+1, maxStale)
		}
	}
	fmt.Printf("  (sampled every 250 ms: noticed = first sample not connected after the kill, reconnected = first connected after the restart)\n")
	fmt.Printf("policy:   promised: an outage whose staleness stays under MaxStale (%v) refuses no session; a revocation made during it holds on its instance at once, on the others once Redis is back (bound %v)\n",
		*maxStaleFlag, recovery)
	fmt.Printf("          measured: max staleness %.1f s; %d sessions lost; own instance within %s, the others within %s of the restart\n",
		maxStaleAll, keptLost, ms(ownMax), ms(othersMax))

	// Sessions and errors.
	r.mu.Lock()
	codes := map[string]string{}
	for what, m := range r.codes {
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%d x%d", c, m[c]))
		}
		codes[what] = strings.Join(parts, ", ")
	}
	r.mu.Unlock()
	fmt.Printf("\nsessions: %d devices never revoked, %d requests, %d lost (exact counters during the run; at the end each opens on every instance with its count)\n", kept, keptReqs, keptLost)
	fmt.Printf("5xx:      %d through nginx, %d direct; %d other errors, %d unexpected statuses\n", r.res.status5xx.Load(), r.calls5xx.Load(), r.res.errors.Load(), r.unexpected.Load())
	for _, what := range slices.Sorted(maps.Keys(codes)) {
		fmt.Printf("          %-18s %s\n", what, codes[what])
	}
	for _, e := range r.res.firstErrors() {
		fmt.Printf("          e.g. %s\n", e)
	}
	r.mu.Lock()
	for _, n := range r.notes {
		fmt.Printf("          note: %s\n", n)
	}
	r.mu.Unlock()
	if keptLost > 0 || r.res.lost.Load() > 0 {
		fail("sessions were lost")
	}
	if r.res.status5xx.Load()+r.calls5xx.Load() > 0 || r.res.errors.Load() > 0 || r.unexpected.Load() > 0 {
		fail("5xx, errors or unexpected statuses")
	}
	if !ok {
		fmt.Println("RESULT:   FAIL")
		return 1
	}
	fmt.Println("RESULT:   PASS")
	return 0
}

func sec(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
