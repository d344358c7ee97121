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
)

const inspectUsage = `Usage: sealed inspect (--keys FILE | --keys-env VAR) --name NAME [VALUE | -]

Opens a cookie value with a key ring and says what it holds: the key that
sealed it, whether that key is the primary (if not, the value is stale and
the application re-seals it), its expiry, and its payload (indented when it
is JSON, quoted when it is text, hex otherwise). "-" or no VALUE reads the
value from standard input.

When the value does not open, it says exactly why, on stderr, and exits 1:
  malformed           not a sealed value (truncated, not base64url, ...)
  unknown key         sealed with a key not in the ring: prints the key
                      identifier from the value (4 bytes of SHA-256 of the
                      key ID) and the identifiers of the ring's keys
  authentication failed
                      tampered with, sealed with another secret under the
                      same key ID, or sealed for another cookie name
  expired at T        authentic, but past its sealed expiry
  too large           longer than the 4000-character limit

Flags:
  --keys FILE      the key ring: a JWKS file or the id:secret,... form
  --keys-env VAR   the key ring from environment variable VAR
  --name NAME      the cookie's name (values are bound to it)

Exit status: 0 if the value opens, 1 if it does not, 2 on a usage error.
`

var inspectCommand = command{summary: "say whether a cookie value opens, and what it holds", run: runInspect}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", stderr)
	var kf keyFlags
	kf.register(fs)
	name := fs.String("name", "", "")
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
	value := "-"
	if len(pos) == 1 {
		value = pos[0]
	}
	if value == "-" {
		b, err := io.ReadAll(io.LimitReader(stdinReader, 1<<20))
		if err != nil {
			return failure(stderr, "inspect", err)
		}
		value = strings.TrimSpace(string(b))
	}

	s := sealed.NewSealer(ring)
	s.Now = keysNow
	now := keysNow()
	pt, info, err := s.Open(*name, value)
	if err != nil {
		fmt.Fprintf(stderr, "sealed inspect: does not open: %s\n", openFailure(err, value, *name, ring, info, now))
		return 1
	}
	fmt.Fprintf(stdout, "opens:    yes, cookie %q\n", *name)
	if info.Stale {
		fmt.Fprintf(stdout, "key:      %s (a previous key; the primary is %s)\n", info.KeyID, ring.Primary().ID())
		fmt.Fprintf(stdout, "stale:    yes: the application re-seals it with %s on its next response\n", ring.Primary().ID())
	} else {
		fmt.Fprintf(stdout, "key:      %s (primary)\n", info.KeyID)
		fmt.Fprintln(stdout, "stale:    no")
	}
	fmt.Fprintf(stdout, "expires:  %s (in %s)\n", info.Expires.UTC().Format(time.RFC3339), info.Expires.Sub(now).Round(time.Second))
	fmt.Fprintf(stdout, "payload:  %s", describePayload(pt))
	return 0
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
