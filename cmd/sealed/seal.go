package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sealedcookie/sealed"
)

const sealUsage = `Usage: sealed seal (--keys FILE | --keys-env VAR) --name NAME [--ttl D] [PAYLOAD | -]

Seals PAYLOAD for the cookie NAME with the ring's primary key and prints
the cookie value, for tests and scripts. "-" reads the payload from
standard input, byte for byte; no PAYLOAD seals an empty one.

Flags:
  --keys FILE      the key ring: a JWKS file or the id:secret,... form
  --keys-env VAR   the key ring from environment variable VAR
  --name NAME      the cookie's name (the value opens only under it)
  --ttl D          lifetime, sealed into the value (default 1h)
`

var sealCommand = command{summary: "seal a payload into a cookie value (for tests and scripts)", run: runSeal}

func runSeal(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("seal", stderr)
	var kf keyFlags
	kf.register(fs)
	name := fs.String("name", "", "")
	ttl := fs.Duration("ttl", time.Hour, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err, sealUsage, stdout, stderr)
	}
	switch {
	case *name == "":
		return usageError(stderr, "seal", sealUsage, "missing --name (values are bound to their cookie name)")
	case *ttl <= 0:
		return usageError(stderr, "seal", sealUsage, "--ttl must be positive, got %s", *ttl)
	case len(pos) > 1:
		return usageError(stderr, "seal", sealUsage, "unexpected argument %q (quote the payload)", pos[1])
	}
	ring, err := kf.ring()
	if err != nil {
		return failure(stderr, "seal", err)
	}
	var payload []byte
	if len(pos) == 1 {
		payload = []byte(pos[0])
		if pos[0] == "-" {
			if payload, err = io.ReadAll(io.LimitReader(stdinReader, 1<<20)); err != nil {
				return failure(stderr, "seal", err)
			}
		}
	}
	s := sealed.NewSealer(ring)
	v, err := s.Seal(*name, payload, keysNow().Add(*ttl))
	if err != nil {
		return failure(stderr, "seal", err)
	}
	fmt.Fprintln(stdout, v)
	return 0
}

// stdin reads the process's standard input; a type so tests can swap it.
type stdin struct{}

func (stdin) Read(p []byte) (int, error) { return os.Stdin.Read(p) }
