package sealed

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Middleware payload, version 1 (docs/FORMAT-middleware.md). It is the
// plaintext the Manager seals:
//
//	version(1) | flags(1) | issued(8) | deadline(8) | refreshed(8) |
//	flash count (uvarint) | { length (uvarint) | message }* | codec bytes
//
// Times are Unix seconds, big-endian. Flag bit 0 says a session value is
// present (the codec bytes); without it the cookie carries only flashes.
const (
	payloadVersion   = 1
	payloadHasValue  = 1 << 0
	payloadHeaderLen = 1 + 1 + 8 + 8 + 8
)

// load reads and opens the request's session cookies, once. It runs with
// s.mu held and returns the error to report (after unlocking) for an
// invalid cookie, which it also schedules for clearing.
func (s *state[T]) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	s.loaded = true
	m := s.m
	var chunks [maxChunkBudget]string
	var plain string
	for _, line := range s.hdr["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, val, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			name = strings.TrimSpace(name)
			if !strings.HasPrefix(name, m.name) {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if len(name) == len(m.name) {
				if !s.plain { // the first is the most specific (RFC 6265 5.4)
					s.plain, plain = true, val
				}
				continue
			}
			i, ok := chunkIndex(name[len(m.name):])
			if !ok || s.chunks&(1<<i) != 0 {
				continue
			}
			s.chunks |= 1 << i
			if int(i) < len(chunks) {
				chunks[i] = val
			}
		}
	}
	if !s.plain && s.chunks == 0 {
		return nil // no session
	}
	err := s.open(ctx, plain, &chunks)
	if err != nil {
		var zero T
		s.val, s.has, s.flashes, s.issued, s.deadline = zero, false, nil, 0, 0
		s.dirty = true // clear the bad cookies
		return wrap(err, "session cookie %q", m.name)
	}
	return nil
}

// chunkIndex parses a chunk suffix ".N" (decimal, no leading zeros, N < 64).
func chunkIndex(suffix string) (uint, bool) {
	if len(suffix) < 2 || len(suffix) > 3 || suffix[0] != '.' || (suffix[1] == '0' && len(suffix) > 2) {
		return 0, false
	}
	n := uint(0)
	for _, c := range []byte(suffix[1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint(c-'0')
	}
	return n, n < 64
}

// open assembles the sealed value from the carried cookies, opens it and
// decodes the payload into s.
func (s *state[T]) open(ctx context.Context, plain string, chunks *[maxChunkBudget]string) error {
	m := s.m
	value, sealedName := plain, m.name
	truncated, missing := false, 0
	if !s.plain {
		// Chunks 0..n-1 form the value: every chunk but the last is as long
		// as chunk 0, so the run ends at the first shorter chunk and any
		// stale chunk after it is ignored (and expired on the next write).
		if s.chunks&1 == 0 {
			return fmt.Errorf("%w: %s", ErrMalformed, missingChunk(m.name, 0))
		}
		full, n := len(chunks[0]), 1
		for n < 64 && s.chunks&(1<<n) != 0 && len(chunks[n-1]) == full {
			if n >= m.budget {
				return fmt.Errorf("%w: more than %d chunks", ErrTooLarge, m.budget)
			}
			n++
		}
		// Writers never end on a full chunk (chunkLayout), so a run that
		// ends on one lacks its last chunk: the client or a proxy cut the
		// Cookie header. Values written before that rule may still end on
		// a full chunk, so try to open the run before saying so.
		truncated = len(chunks[n-1]) == full
		var b strings.Builder
		b.Grow(n * full)
		for _, c := range chunks[:n] {
			b.WriteString(c)
		}
		value, sealedName = b.String(), chunkedName(m.name, n)
		missing = n
	}
	p := encodeBuf.Get().(*[]byte)
	defer putEncodeBuf(p)
	b, info, err := m.sealer.AppendOpen((*p)[:0], sealedName, value)
	*p = b
	if err != nil {
		if truncated && (errors.Is(err, ErrInvalid) || errors.Is(err, ErrMalformed)) {
			return fmt.Errorf("%w: %s", ErrMalformed, missingChunk(m.name, missing))
		}
		return err
	}
	if len(b) < payloadHeaderLen+1 || b[0] != payloadVersion || b[1]&^payloadHasValue != 0 {
		return fmt.Errorf("%w: not a version %d session payload", ErrMalformed, payloadVersion)
	}
	issued := int64(binary.BigEndian.Uint64(b[2:]))
	deadline := int64(binary.BigEndian.Uint64(b[10:]))
	refreshed := int64(binary.BigEndian.Uint64(b[18:]))
	now := m.now().Unix()
	graced := now - m.skew // the sealer allows the same grace
	if graced >= deadline {
		return fmt.Errorf("%w: absolute deadline %s passed", ErrExpired, time.Unix(deadline, 0).UTC().Format(time.RFC3339))
	}
	if m.idle > 0 && graced >= refreshed+m.idle {
		return fmt.Errorf("%w: idle since %s", ErrExpired, time.Unix(refreshed, 0).UTC().Format(time.RFC3339))
	}
	rest := b[payloadHeaderLen:]
	count, k := binary.Uvarint(rest)
	if k <= 0 || count > uint64(len(rest)) {
		return fmt.Errorf("%w: bad flash count", ErrMalformed)
	}
	rest = rest[k:]
	var flashes []string
	for range count {
		l, k := binary.Uvarint(rest)
		if k <= 0 || l > uint64(len(rest)-k) {
			return fmt.Errorf("%w: bad flash message", ErrMalformed)
		}
		flashes = append(flashes, string(rest[k:k+int(l)]))
		rest = rest[k+int(l):]
	}
	has := b[1]&payloadHasValue != 0
	if has {
		if err := m.codec.Decode(rest, &s.val); err != nil {
			var zero T
			s.val = zero
			return fmt.Errorf("%w: session does not decode as the Manager's type (%s)", ErrMalformed, codecFailure(err))
		}
	} else if len(rest) != 0 {
		return fmt.Errorf("%w: trailing data after flashes", ErrMalformed)
	}
	s.has, s.flashes = has, flashes
	s.issued, s.deadline, s.refreshed, s.keyID = issued, deadline, refreshed, info.KeyID
	if has && m.Validate != nil {
		if err := m.Validate(ctx, s.val, s.info()); err != nil {
			return fmt.Errorf("%w: %w", ErrRejected, err)
		}
	}
	if info.Stale || (m.idle > 0 && now-refreshed >= m.refresh) {
		s.dirty = true // upgrade to the primary key, or slide the idle window
	}
	return nil
}

// missingChunk describes a chunk absent from the request.
func missingChunk(name string, i int) string {
	return fmt.Sprintf("chunk %s.%d missing: Cookie header truncated?", name, i)
}

// chunkLayout returns how a sealed value of total characters is stored: in
// n chunks of size characters each but the last, which is shorter, or in
// one unchunked cookie (n = 0) when it fits. The last chunk is never full:
// a reader ends the value at the first chunk shorter than chunk 0, so a
// full last chunk would let a leftover chunk of an older, longer session
// join it. When total is a multiple of chunkSize, the chunks are one
// character shorter instead.
func chunkLayout(total, chunkSize int) (n, size int) {
	if total <= chunkSize {
		return 0, total
	}
	size = chunkSize
	if total%size == 0 {
		size--
	}
	return (total + size - 1) / size, size
}

// chunkedName is the name a session split into n chunks is sealed for, which
// authenticates the chunk count.
func chunkedName(name string, n int) string { return name + "#" + strconv.Itoa(n) }

// write adds the Set-Cookie lines for s to h: the sealed session (or flash
// messages), and expiring cookies for every carried cookie not overwritten.
// On error h is left untouched. It runs with s.mu held.
func (m *Manager[T]) write(h http.Header, s *state[T]) error {
	now := m.now().Unix()
	var set []string // Set-Cookie lines
	n := 0           // chunks written; 0: the plain cookie, if anything
	live := s.has || len(s.flashes) > 0
	if live && s.issued == 0 { // flash messages without a session
		s.renew()
	}
	exp := s.deadline
	if m.idle > 0 {
		exp = min(exp, now+m.idle)
	}
	if live && exp > now {
		p := encodeBuf.Get().(*[]byte)
		defer putEncodeBuf(p)
		b := append((*p)[:0], payloadVersion, 0)
		if s.has {
			b[1] = payloadHasValue
		}
		b = binary.BigEndian.AppendUint64(b, uint64(s.issued))
		b = binary.BigEndian.AppendUint64(b, uint64(s.deadline))
		b = binary.BigEndian.AppendUint64(b, uint64(now))
		b = binary.AppendUvarint(b, uint64(len(s.flashes)))
		for _, f := range s.flashes {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
		*p = b
		if s.has {
			var err error
			b, err = m.codec.Append(b, &s.val)
			*p = b
			if err != nil {
				return fmt.Errorf("sealed: session cookie %q: session does not encode (%s)", m.name, codecFailure(err))
			}
		}
		// The sealed name carries the chunk count, so the count must be
		// known before sealing. Uncompressed, the length follows from the
		// plaintext's; compressed, it is known only once sealed: seal
		// under the plain name, and if that needs chunks, seal again under
		// the chunked name (DEFLATE is deterministic: same length).
		compressing := m.sealer.CompressAbove > 0 && len(b) >= m.sealer.CompressAbove
		size := m.chunkSize
		if !compressing {
			total := EncodedLen(len(b))
			if n, size = chunkLayout(total, m.chunkSize); n > m.budget {
				return m.overBudget(len(b), total)
			}
		}
		q := encodeBuf.Get().(*[]byte)
		defer putEncodeBuf(q)
		seal := func(n int) ([]byte, error) {
			name := m.name
			if n > 0 {
				name = chunkedName(m.name, n)
			}
			out, err := m.sealer.AppendSeal((*q)[:0], name, b, time.Unix(exp, 0))
			*q = out
			if err != nil {
				return nil, wrap(err, "session cookie %q", m.name)
			}
			return out, nil
		}
		out, err := seal(n)
		if err != nil {
			return err
		}
		if compressing && len(out) > m.chunkSize {
			total := len(out)
			if n, size = chunkLayout(total, m.chunkSize); n > m.budget {
				return m.overBudget(len(b), total)
			}
			if out, err = seal(n); err != nil {
				return err
			}
			if len(out) != total { // cannot happen: DEFLATE is deterministic
				return fmt.Errorf("sealed: session cookie %q: compressed length changed between seals", m.name)
			}
		}
		maxAge := 0
		if !m.browser {
			maxAge = int(exp - now)
		}
		if n == 0 {
			line, err := m.setCookie(m.name, string(out), maxAge)
			if err != nil {
				return err
			}
			set = append(set, line)
		}
		for i := range n {
			line, err := m.setCookie(m.name+"."+strconv.Itoa(i), string(out[i*size:min(len(out), (i+1)*size)]), maxAge)
			if err != nil {
				return err
			}
			set = append(set, line)
		}
		s.refreshed = now
	} else {
		live = false
	}
	// Expire what the request carried and this response does not replace.
	if s.plain && (!live || n > 0) {
		line, err := m.setCookie(m.name, "", -1)
		if err != nil {
			return err
		}
		set = append(set, line)
	}
	for i := range 64 {
		if s.chunks&(1<<i) != 0 && (!live || i >= n) {
			line, err := m.setCookie(m.name+"."+strconv.Itoa(i), "", -1)
			if err != nil {
				return err
			}
			set = append(set, line)
		}
	}
	if len(set) == 0 {
		return nil
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], set...)
	addCacheHeaders(h)
	// The response now carries exactly the cookies written.
	s.plain, s.chunks = live && n == 0, 0
	if live && n > 0 {
		s.chunks = 1<<n - 1
	}
	return nil
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

// setCookie returns a Set-Cookie line after checking the cookie is one that
// net/http would not silently drop.
func (m *Manager[T]) setCookie(name, value string, maxAge int) (string, error) {
	c := m.cookie(name, value, maxAge)
	if err := c.Valid(); err != nil {
		return "", fmt.Errorf("sealed: session cookie %q: %w", name, err)
	}
	return c.String(), nil
}

// addCacheHeaders keeps caches from storing or sharing a response that sets
// a session cookie without clobbering the handler's headers: "Cookie" joins
// Vary, and no-cache="Set-Cookie" is set, or appended to a Cache-Control
// that does not already keep the response out of shared caches.
func addCacheHeaders(h http.Header) {
	addVaryCookie(h)
	const directive = `no-cache="Set-Cookie"`
	cc := h["Cache-Control"]
	switch {
	case len(cc) == 0:
		h["Cache-Control"] = []string{directive}
	case keepsCookieFromCaches(cc):
	default:
		cc[len(cc)-1] += ", " + directive
	}
}

// addVaryCookie adds "Cookie" to Vary, unless Vary already has it or "*".
// Every response whose request read the session depends on the Cookie
// header, whether or not it sets a cookie.
func addVaryCookie(h http.Header) {
	if vary := h["Vary"]; !hasToken(vary, "cookie") && !hasToken(vary, "*") {
		h["Vary"] = append(vary, "Cookie")
	}
}

// keepsCookieFromCaches reports whether the Cache-Control directives
// already keep a Set-Cookie header out of shared caches: no-store, or
// private or no-cache either unqualified or with a field list that names
// Set-Cookie. A qualified private="X-Debug" covers only the fields it names,
// so it does not count.
func keepsCookieFromCaches(values []string) bool {
	for _, v := range values {
		for d := range cacheDirectives(v) {
			switch {
			case strings.EqualFold(d.name, "no-store"):
				return true
			case strings.EqualFold(d.name, "private") || strings.EqualFold(d.name, "no-cache"):
				if !d.qualified {
					return true
				}
				for field := range strings.SplitSeq(d.arg, ",") {
					if strings.EqualFold(strings.TrimSpace(field), "Set-Cookie") {
						return true
					}
				}
			}
		}
	}
	return false
}

// A cacheDirective is one directive of a Cache-Control value: its name, its
// argument unquoted, and whether it had one.
type cacheDirective struct {
	name, arg string
	qualified bool
}

// cacheDirectives yields the directives of a Cache-Control value (RFC 9111
// section 5.2). A quoted argument may contain commas. A malformed part ends
// the iteration.
func cacheDirectives(v string) iter.Seq[cacheDirective] {
	return func(yield func(cacheDirective) bool) {
		for {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				return
			}
			end := strings.IndexAny(v, "=,")
			if end < 0 {
				yield(cacheDirective{name: strings.TrimSpace(v)})
				return
			}
			name := strings.TrimSpace(v[:end])
			if v[end] == ',' {
				if !yield(cacheDirective{name: name}) {
					return
				}
				v = v[end+1:]
				continue
			}
			v = strings.TrimLeft(v[end+1:], " \t")
			var arg string
			if strings.HasPrefix(v, `"`) {
				var b strings.Builder
				i := 1
				for ; i < len(v) && v[i] != '"'; i++ {
					if v[i] == '\\' && i+1 < len(v) {
						i++
					}
					b.WriteByte(v[i])
				}
				if i >= len(v) {
					return // unterminated quoted string
				}
				arg, v = b.String(), v[i+1:]
			} else {
				stop := strings.IndexByte(v, ',')
				if stop < 0 {
					stop = len(v)
				}
				arg, v = strings.TrimSpace(v[:stop]), v[stop:]
			}
			if !yield(cacheDirective{name, arg, true}) {
				return
			}
		}
	}
}

// hasToken reports whether the comma-separated header values contain the
// token, case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
