package sealed

// The Manager's cookies: reading the session from the request's cookies
// (one, or chunks), and writing it back as Set-Cookie lines. The byte
// layouts are internal/format's; this file decides when and what.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/sealedcookie/sealed/internal/cacheheader"
	"github.com/sealedcookie/sealed/internal/format"
)

// load reads and opens the request's session cookies, once. It runs with
// s.mu held and returns the error to report (after unlocking) for an
// invalid cookie, which it also schedules for clearing.
func (s *state[T]) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	s.loaded = true
	var c format.Cookies
	c.Read(s.hdr["Cookie"], s.m.name)
	s.plain, s.chunks = c.HasPlain, c.Carried
	if !c.Any() {
		return nil // no session
	}
	if err := s.open(ctx, &c); err != nil {
		s.drop()
		s.dirty = true // clear the bad cookies
		return wrap(err, "session cookie %q", s.m.name)
	}
	return nil
}

// open opens the sealed value the cookies carry, checks the payload's
// expiry, decodes it into s and runs Validate.
func (s *state[T]) open(ctx context.Context, c *format.Cookies) error {
	m := s.m
	p := encodeBuf.Get().(*[]byte)
	defer putEncodeBuf(p)
	b, info, err := m.openCookies(c, (*p)[:0])
	*p = b
	if err != nil {
		return err
	}
	pl, err := format.ParsePayload(b)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	now := m.now().Unix()
	if err := m.checkExpiry(now, pl.Deadline, pl.Refreshed); err != nil {
		return err
	}
	if pl.HasValue {
		if err := m.codec.Decode(pl.Value, &s.val); err != nil {
			var zero T
			s.val = zero
			return fmt.Errorf("%w: session does not decode as the Manager's type (%s)", ErrMalformed, codecFailure(err))
		}
	}
	s.has, s.flashes = pl.HasValue, pl.Flashes
	s.issued, s.deadline, s.refreshed, s.opened = pl.Issued, pl.Deadline, pl.Refreshed, info
	s.id, s.minted, s.subject = pl.ID, pl.Minted, pl.Subject
	s.chosen, s.persist = pl.Persistence, pl.Persistent
	if s.has && !pl.HasIdentity && m.Subject != nil { // sealed before session IDs existed
		s.subject = m.Subject(s.val)
	}
	if s.has && m.revs != nil && m.revoked(s) {
		m.sealer.stats.revoked.Add(1)
		return ErrRevoked
	}
	if s.has && m.Validate != nil {
		if err := m.Validate(ctx, s.val, s.info()); err != nil {
			return fmt.Errorf("%w: %w", ErrRejected, err)
		}
	}
	slide := m.idle > 0 && now-pl.Refreshed >= m.refresh
	if info.Stale || slide {
		s.dirty = true // upgrade to the primary key, or slide the idle window
		s.register = slide
	}
	return nil
}

// openCookies assembles the sealed value from the carried cookies and
// appends its plaintext to dst.
func (m *Manager[T]) openCookies(c *format.Cookies, dst []byte) ([]byte, Info, error) {
	v, err := c.Value(m.name, m.budget)
	if err != nil {
		class := ErrMalformed
		if _, ok := err.(*format.TooManyChunksError); ok {
			class = ErrTooLarge
		}
		return dst, Info{}, fmt.Errorf("%w: %w", class, err)
	}
	b, info, err := m.sealer.AppendOpen(dst, v.Name, v.Value)
	if err != nil && v.Missing != nil && (errors.Is(err, ErrInvalid) || errors.Is(err, ErrMalformed)) {
		err = fmt.Errorf("%w: %w", ErrMalformed, v.Missing)
	}
	return b, info, err
}

// checkExpiry applies the payload's absolute deadline and the idle timeout,
// with the same grace (ClockSkew) the sealer allows.
func (m *Manager[T]) checkExpiry(now, deadline, refreshed int64) error {
	graced := now - m.skew
	if graced >= deadline {
		return fmt.Errorf("%w: absolute deadline %s passed", ErrExpired, time.Unix(deadline, 0).UTC().Format(time.RFC3339))
	}
	if m.idle > 0 && graced-m.idle >= refreshed { // not refreshed+idle, which a huge refreshed overflows
		return fmt.Errorf("%w: idle since %s", ErrExpired, time.Unix(refreshed, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// write adds the Set-Cookie lines for s to h: the sealed session (or flash
// messages), and expiring cookies for every carried cookie not overwritten.
// On error h is left untouched. It runs with s.mu held, and returns the
// record to register for the device list, if any (ok), which the caller
// registers once it has released the lock: a store may do I/O.
func (m *Manager[T]) write(h http.Header, s *state[T]) (reg SessionRecord, ok bool, err error) {
	now := m.now().Unix()
	live := s.has || len(s.flashes) > 0
	if live && s.issued == 0 { // flash messages without a session: no ID to draw
		s.restart()
	}
	exp := s.deadline
	if m.idle > 0 {
		exp = min(exp, now+m.idle)
	}
	live = live && exp > now
	var set []string // Set-Cookie lines
	n := 0           // chunks written; 0: the unchunked cookie, if live
	if live {
		if err := m.identify(s); err != nil {
			return reg, false, err
		}
		p := encodeBuf.Get().(*[]byte)
		defer putEncodeBuf(p)
		b, err := m.encodePayload((*p)[:0], s, now)
		*p = b
		if err != nil {
			return reg, false, err
		}
		q := encodeBuf.Get().(*[]byte)
		defer putEncodeBuf(q)
		out, chunks, size, err := m.seal((*q)[:0], b, exp)
		*q = out
		if err != nil {
			return reg, false, err
		}
		n = chunks
		ttl := exp - now
		if !m.persistent(s) {
			ttl = 0 // a browser-session cookie: no Max-Age
		}
		if set, err = m.appendSessionCookies(set, out, n, size, ttl); err != nil {
			return reg, false, err
		}
	}
	if set, err = m.appendExpired(set, s, live, n); err != nil || len(set) == 0 {
		return reg, false, err
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], set...)
	cacheheader.ForSetCookie(h, &s.vary)
	// The response now carries exactly the cookies written.
	s.plain, s.chunks = live && n == 0, 0
	if live {
		s.refreshed = now
		if n > 0 {
			s.chunks = 1<<n - 1
		}
	}
	if live && s.has && s.register && m.revs != nil && s.subject != "" {
		reg, s.register, s.replaces = m.registration(s, now), false, SessionID{}
		return reg, true, nil
	}
	return reg, false, nil
}

// identify sets the subject and session ID that s is sealed with: the
// Manager's Subject of its value, and, for a cookie sealed before session
// IDs existed, a new ID counted as minted when the session was issued, so
// that a sign-out since then still applies to it.
func (m *Manager[T]) identify(s *state[T]) error {
	if !s.has {
		return nil
	}
	if m.Subject != nil {
		s.subject = m.Subject(s.val)
	}
	if len(s.subject) > format.MaxSubjectLen {
		return fmt.Errorf("sealed: session cookie %q: Subject is %d bytes, limit %d", m.name, len(s.subject), format.MaxSubjectLen)
	}
	if !utf8.ValidString(s.subject) {
		return fmt.Errorf("sealed: session cookie %q: Subject is not valid UTF-8", m.name)
	}
	if s.id == (SessionID{}) {
		s.mint(time.Unix(s.issued, 0))
	}
	return nil
}

// encodePayload appends the middleware payload of s, sealed at now, to dst.
func (m *Manager[T]) encodePayload(dst []byte, s *state[T], now int64) ([]byte, error) {
	b := format.AppendPayload(dst, &format.Payload{
		HasValue: s.has, Issued: s.issued, Deadline: s.deadline, Refreshed: now, Flashes: s.flashes,
		HasIdentity: s.has, ID: s.id, Minted: s.minted, Subject: s.subject,
		Persistence: s.has && s.chosen, Persistent: s.persist,
	})
	if !s.has {
		return b, nil
	}
	out, err := m.codec.Append(b, &s.val)
	if err != nil {
		return b, fmt.Errorf("sealed: session cookie %q: session does not encode (%s)", m.name, codecFailure(err))
	}
	return out, nil
}

// seal appends the sealed payload b, expiring at exp, to dst and returns
// how it is split into cookies (format.Layout): n chunks of size
// characters, or one unchunked cookie when n is 0.
//
// The value is sealed for a name that carries the chunk count, so the count
// must be known before sealing. It is predicted from the payload's length
// and the primary key's overhead, and checked on the sealed value: when
// compression (whose output length is known only once sealed) or a ring
// rotated to another suite in between proves it wrong, the payload is
// sealed again for the right count. DEFLATE is deterministic, so the second
// seal has the first's length.
func (m *Manager[T]) seal(dst, b []byte, exp int64) (out []byte, n, size int, err error) {
	if m.sealer.CompressAbove <= 0 || len(b) < m.sealer.CompressAbove {
		total := m.sealer.encodedLen(len(b))
		if n, _ = format.Layout(total, m.chunkSize); n > m.budget {
			return dst, 0, 0, m.overBudget(len(b), total)
		}
	}
	for range 2 {
		if out, err = m.sealFor(dst, n, b, exp); err != nil {
			return out, 0, 0, err
		}
		got, gotSize := format.Layout(len(out), m.chunkSize)
		if got > m.budget {
			return out, 0, 0, m.overBudget(len(b), len(out))
		}
		if got == n {
			return out, n, gotSize, nil
		}
		n, dst = got, out[:0]
	}
	return out, 0, 0, fmt.Errorf("sealed: session cookie %q: the sealed length changed between seals", m.name) // cannot happen
}

// sealFor appends b sealed for a value of n chunks (0: unchunked) to dst.
func (m *Manager[T]) sealFor(dst []byte, n int, b []byte, exp int64) ([]byte, error) {
	name := m.name
	if n > 0 {
		name = format.ChunkedName(m.name, n)
	}
	out, err := m.sealer.AppendSeal(dst, name, b, time.Unix(exp, 0))
	if err != nil {
		return out, wrap(err, "session cookie %q", m.name)
	}
	return out, nil
}

// appendSessionCookies appends the Set-Cookie lines that store the sealed
// value: one cookie when n is 0, else n chunks of size characters. maxAge
// is the cookies' Max-Age in seconds, or 0 for browser-session cookies.
func (m *Manager[T]) appendSessionCookies(set []string, value []byte, n, size int, maxAge int64) ([]string, error) {
	if n == 0 {
		return m.appendCookie(set, m.name, string(value), int(maxAge))
	}
	var err error
	for i := range n {
		chunk := value[i*size : min(len(value), (i+1)*size)]
		if set, err = m.appendCookie(set, format.ChunkName(m.name, i), string(chunk), int(maxAge)); err != nil {
			return set, err
		}
	}
	return set, nil
}

// appendExpired appends Set-Cookie lines that expire every cookie the
// request carried and the response does not overwrite: all of them unless
// live, else the unchunked cookie when n > 0 and chunks from n on.
func (m *Manager[T]) appendExpired(set []string, s *state[T], live bool, n int) ([]string, error) {
	var err error
	if s.plain && (!live || n > 0) {
		if set, err = m.appendCookie(set, m.name, "", -1); err != nil {
			return set, err
		}
	}
	for i := range 64 {
		if s.chunks&(1<<i) != 0 && (!live || i >= n) {
			if set, err = m.appendCookie(set, format.ChunkName(m.name, i), "", -1); err != nil {
				return set, err
			}
		}
	}
	return set, nil
}

// overBudget reports a session that needs more cookies than the budget.
func (m *Manager[T]) overBudget(plain, total int) error {
	m.sealer.stats.tooLarge.Add(1)
	cookies := "cookies"
	if m.budget == 1 {
		cookies = "cookie"
	}
	return fmt.Errorf("%w: session cookie %q: %d bytes of session data seal to %d characters, over the budget of %d %s of %d (Options.ChunkBudget)",
		ErrTooLarge, m.name, plain, total, m.budget, cookies, m.chunkSize)
}

// appendCookie appends the Set-Cookie line of a cookie with the Manager's
// attributes, after checking it is one that net/http would not silently
// drop. maxAge follows http.Cookie: 0 omits the attribute, negative
// deletes.
func (m *Manager[T]) appendCookie(set []string, name, value string, maxAge int) ([]string, error) {
	c := m.cookie(name, value, maxAge)
	if err := c.Valid(); err != nil {
		return set, fmt.Errorf("sealed: session cookie %q: %w", name, err)
	}
	return append(set, c.String()), nil
}
