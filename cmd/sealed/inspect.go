package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/internal/format"
)

const inspectUsage = `Usage: sealed inspect (--keys FILE | --keys-env VAR) --name NAME [--raw] [VALUE | -]

Opens a session cookie with a key ring and says what it holds: the key that
sealed it and its suite (xchacha20poly1305, format version 1, or aes256gcm,
version 2, the FIPS suite), whether that key is the primary (if not, the
value is stale and the application re-seals it), its expiry, and its
contents. "-" or no VALUE
reads from standard input.

VALUE is a cookie value, or a whole Cookie header ("Cookie: a=1;
session.0=...; session.1=..."), which is how a session split into several
cookies (chunks) is inspected: the session's cookies are picked from it by
NAME and joined as the middleware joins them.

A session written by the middleware (sealed.Manager) is decoded: issued,
absolute deadline, last refresh, flash messages, and the session value
(indented when it is JSON). Other values are shown as their payload
(indented when JSON, quoted when text, hex otherwise); --raw shows a
middleware session that way too.

When the value does not open, it says exactly why, on stderr, and exits 1:
  malformed           not a sealed value (truncated, not base64url, ...),
                      or a chunk missing from the Cookie header
  unknown key         sealed with a key not in the ring: prints the key
                      identifier from the value (4 bytes of SHA-256 of the
                      key ID) and the identifiers of the ring's keys
  authentication failed
                      tampered with, sealed with another secret under the
                      same key ID, or sealed for another cookie name
  expired at T        authentic, but past its sealed expiry
  too large           longer than the 4000-character limit of one cookie
                      (16 chunks of 4096 for a Cookie header)

Flags:
  --keys FILE      the key ring: a JWKS file or the id:secret,... form
  --keys-env VAR   the key ring from environment variable VAR
  --name NAME      the cookie's name (values are bound to it)
  --raw            do not decode the middleware's session payload

Exit status: 0 if the value opens, 1 if it does not, 2 on a usage error.
`

var inspectCommand = command{summary: "say whether a cookie value opens, and what it holds", run: runInspect}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", stderr)
	var kf keyFlags
	kf.register(fs)
	name := fs.String("name", "", "")
	raw := fs.Bool("raw", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err, inspectUsage, stdout, stderr)
	}
	if *name == "" {
		return usageError(stderr, "inspect", inspectUsage, "missing --name (values are bound to their cookie name)")
	}
	if len(pos) > 1 {
		return usageError(stderr, "inspect", inspectUsage, "unexpected argument %q", pos[1])
	}
	ring, err := kf.ring()
	if err != nil {
		return failure(stderr, "inspect", err)
	}
	input := "-"
	if len(pos) == 1 {
		input = pos[0]
	}
	if input == "-" {
		b, err := io.ReadAll(io.LimitReader(stdinReader, 1<<20))
		if err != nil {
			return failure(stderr, "inspect", err)
		}
		input = strings.TrimSpace(string(b))
	}

	s := sealed.NewSealer(ring)
	s.Now = keysNow
	now := keysNow()
	v, err := cookieValue(input, *name)
	if err != nil {
		fmt.Fprintf(stderr, "sealed inspect: does not open: %v\n", err)
		return 1
	}
	if v.Chunks > 0 {
		s.MaxLen = format.MaxChunks * 4096
	}
	pt, info, err := s.Open(v.Name, v.Value)
	if err != nil {
		if v.Missing != nil && (errors.Is(err, sealed.ErrInvalid) || errors.Is(err, sealed.ErrMalformed)) {
			fmt.Fprintf(stderr, "sealed inspect: does not open: malformed: %v\n", v.Missing)
			return 1
		}
		fmt.Fprintf(stderr, "sealed inspect: does not open: %s\n", openFailure(err, v.Value, *name, ring, info, now))
		return 1
	}
	if v.Chunks == 0 {
		fmt.Fprintf(stdout, "opens:    yes, cookie %q\n", *name)
	} else {
		fmt.Fprintf(stdout, "opens:    yes, cookie %q in %d chunks (%s.0 to %s.%d)\n", *name, v.Chunks, *name, *name, v.Chunks-1)
	}
	if info.Stale {
		fmt.Fprintf(stdout, "key:      %s (a previous key; the primary is %s)\n", info.KeyID, ring.Primary().ID())
		fmt.Fprintf(stdout, "stale:    yes: the application re-seals it with %s on its next response\n", ring.Primary().ID())
	} else {
		fmt.Fprintf(stdout, "key:      %s (primary)\n", info.KeyID)
		fmt.Fprintln(stdout, "stale:    no")
	}
	fmt.Fprintf(stdout, "suite:    %s\n", describeSuite(ring, info.KeyID))
	fmt.Fprintf(stdout, "expires:  %s (in %s)\n", info.Expires.UTC().Format(time.RFC3339), info.Expires.Sub(now).Round(time.Second))
	if p, err := format.ParsePayload(pt); err == nil && !*raw {
		fmt.Fprint(stdout, describeSession(p, now))
		return 0
	}
	fmt.Fprintf(stdout, "payload:  %s", describePayload(pt))
	return 0
}

// cookieValue returns the sealed value in input and the name it was sealed
// for. input is a cookie value, or a Cookie header ("Cookie: a=1; name=v"
// or "name.0=v0; name.1=v1", one or more lines), which a value never looks
// like: sealed values are unpadded base64url, with no '='.
func cookieValue(input, name string) (format.Carried, error) {
	if !strings.Contains(input, "=") {
		return format.Carried{Value: input, Name: name}, nil
	}
	var lines []string
	for line := range strings.Lines(input) {
		line = strings.TrimSpace(line)
		if len(line) >= 7 && strings.EqualFold(line[:7], "cookie:") {
			line = line[7:]
		}
		lines = append(lines, line)
	}
	var c format.Cookies
	c.Read(lines, name)
	if !c.Any() {
		return format.Carried{}, fmt.Errorf("malformed: the Cookie header has no cookie %q or %s.0", name, name)
	}
	v, err := c.Value(name, format.MaxChunks)
	if err != nil {
		return format.Carried{}, fmt.Errorf("malformed: %w", err)
	}
	return v, nil
}

// describeSession renders a middleware session payload, ending in a
// newline.
func describeSession(p format.Payload, now time.Time) string {
	var b strings.Builder
	at := func(unix int64) string {
		t := time.Unix(unix, 0)
		return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), relative(t, now))
	}
	fmt.Fprintf(&b, "session:  written by the middleware (payload version %d)\n", format.PayloadVersion)
	fmt.Fprintf(&b, "issued:   %s\n", at(p.Issued))
	fmt.Fprintf(&b, "deadline: %s\n", at(p.Deadline))
	fmt.Fprintf(&b, "refreshed: %s\n", at(p.Refreshed))
	if p.HasIdentity {
		minted := time.UnixMilli(p.Minted)
		fmt.Fprintf(&b, "id:       %x (minted %s)\n", p.ID, minted.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		fmt.Fprintf(&b, "subject:  %s\n", strconv.Quote(p.Subject))
	}
	fmt.Fprintf(&b, "flashes:  %d\n", len(p.Flashes))
	for _, f := range p.Flashes {
		fmt.Fprintf(&b, "  %s\n", strconv.Quote(f))
	}
	if !p.HasValue {
		b.WriteString("value:    none (the cookie carries only flash messages)\n")
		return b.String()
	}
	b.WriteString("value:    " + describePayload(p.Value))
	return b.String()
}

// relative says how far t is from now: "in 2h0m0s" or "1h0m0s ago".
func relative(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d < 0 {
		return (-d).String() + " ago"
	}
	return "in " + d.String()
}

// stdinReader is where "-" reads from; tests replace it.
var stdinReader io.Reader = stdin{}

// openFailure explains a failed Open from its sentinel.
func openFailure(err error, value, name string, ring *sealed.KeyRing, info sealed.Info, now time.Time) string {
	switch {
	case errors.Is(err, sealed.ErrTooLarge):
		return "too large: " + detail(err, sealed.ErrTooLarge)
	case errors.Is(err, sealed.ErrMalformed):
		return "malformed: " + detail(err, sealed.ErrMalformed)
	case errors.Is(err, sealed.ErrUnknownKey):
		var b strings.Builder
		if h, ok := headerKeyHash(value); ok {
			fmt.Fprintf(&b, "unknown key identifier %08x: sealed with a key that is not in the ring (a retired key, or another application's)", h)
		} else {
			b.WriteString("unknown key identifier: sealed with a key that is not in the ring")
		}
		b.WriteString("; it is none of ")
		for i, k := range ring.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s (%08x)", k.ID(), keyIDHash(k.ID()))
		}
		return b.String()
	case errors.Is(err, sealed.ErrInvalid):
		key := "its key"
		if h, ok := headerKeyHash(value); ok {
			for _, k := range ring.Keys() {
				if keyIDHash(k.ID()) == h {
					key = "key " + k.ID()
				}
			}
		}
		return fmt.Sprintf("authentication failed under %s: the value was tampered with, sealed with another secret under that key ID, or sealed for a cookie other than %q", key, name)
	case errors.Is(err, sealed.ErrExpired):
		return fmt.Sprintf("expired at %s (%s ago), sealed with key %s", info.Expires.UTC().Format(time.RFC3339), now.Sub(info.Expires).Round(time.Second), info.KeyID)
	}
	return err.Error()
}

// describeSuite names the suite of the key that opened a value, and the
// format version that suite seals (docs/FORMAT.md).
func describeSuite(ring *sealed.KeyRing, id string) string {
	for _, k := range ring.Keys() {
		if k.ID() == id {
			switch k.Suite() {
			case sealed.AES256GCM:
				return "aes256gcm (format version 2, AES-256-GCM with HKDF-SHA256: the FIPS 140-3 suite)"
			case sealed.XChaCha20Poly1305:
				return "xchacha20poly1305 (format version 1)"
			}
			return k.Suite().String()
		}
	}
	return "unknown"
}

// detail strips the sentinel's text from a wrapped error.
func detail(err, sentinel error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), sentinel.Error()), ": ")
}

// headerKeyHash returns the key identifier in a value's header (bytes 2 to
// 6 of the decoded value, docs/FORMAT.md).
func headerKeyHash(value string) (uint32, bool) {
	if len(value) < 8 {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(value[:8]) // 6 bytes
	if err != nil {
		return 0, false
	}
	return binary.BigEndian.Uint32(raw[2:6]), true
}

// keyIDHash is the header's key identifier for an ID: the first 4 bytes of
// SHA-256 of the ID (docs/FORMAT.md).
func keyIDHash(id string) uint32 {
	sum := sha256.Sum256([]byte(id))
	return binary.BigEndian.Uint32(sum[:4])
}

// describePayload renders a payload for a terminal, ending in a newline.
func describePayload(pt []byte) string {
	switch {
	case len(pt) == 0:
		return "empty\n"
	case json.Valid(pt):
		var b bytes.Buffer
		json.Indent(&b, pt, "", "  ")
		return fmt.Sprintf("%d bytes, JSON\n%s\n", len(pt), b.String())
	case utf8.Valid(pt) && printable(string(pt)):
		return fmt.Sprintf("%d bytes, text\n%s\n", len(pt), strconv.Quote(string(pt)))
	}
	return fmt.Sprintf("%d bytes, binary\n%s", len(pt), hex.Dump(pt))
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\n' && r != '\t' {
			return false
		}
	}
	return true
}
