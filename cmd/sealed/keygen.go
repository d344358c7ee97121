package main

import (
	"crypto/fips140"
	"fmt"
	"io"
	"strings"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

const keygenUsage = `Usage: sealed keygen [--id ID] [--suite SUITE] [--jwks | --env | --out FILE]

Generates a new 32-byte key from the system's secure random source and
prints it as a JWKS (a key ring of one key, for a key file) and in the
environment-variable form (id:secret, for sealed.ParseKeyRing). The output
is secret: send it straight to where the key belongs.

The key declares its suite: in the JWKS as "alg" ("XC20P" or "A256GCM"), in
the environment form as a third field (id:secret:aes256gcm). Servers that
run with GODEBUG=fips140=only need "--suite fips" keys.

To add the key to an existing key file, use 'sealed rotate add' instead.

Flags:
  --id ID      key ID (default: k-YYYYMMDD-hhmmss-XXXX, from the UTC time)
  --suite SUITE
               xchacha (XChaCha20-Poly1305, format version 1: the default)
               or fips (AES-256-GCM, format version 2, the FIPS 140-3
               suite; also accepted: aes256gcm). Under
               GODEBUG=fips140=only the default is fips.
  --jwks       print only the JWKS
  --env        print only the environment-variable form
  --out FILE   write the JWKS to FILE (created with mode 0600; it must not
               exist) instead of printing the key
`

var keygenCommand = command{summary: "generate a new key (JWKS and env-var form)", run: runKeygen}

func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", stderr)
	id := fs.String("id", "", "")
	suiteName := fs.String("suite", "", "")
	onlyJWKS := fs.Bool("jwks", false, "")
	onlyEnv := fs.Bool("env", false, "")
	out := fs.String("out", "", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err, keygenUsage, stdout, stderr)
	}
	if len(pos) > 0 {
		return usageError(stderr, "keygen", keygenUsage, "unexpected argument %q", pos[0])
	}
	if n := btoi(*onlyJWKS) + btoi(*onlyEnv) + btoi(*out != ""); n > 1 {
		return usageError(stderr, "keygen", keygenUsage, "--jwks, --env and --out exclude each other")
	}
	if *suiteName == "" {
		*suiteName = "xchacha"
		if defaultSuite() == sealed.AES256GCM {
			*suiteName = "fips"
		}
	}
	suite, ok := suites[strings.ToLower(*suiteName)]
	if !ok {
		return usageError(stderr, "keygen", keygenUsage, "unknown --suite %q; want xchacha or fips", *suiteName)
	}
	if *id == "" {
		*id = newKeyID()
	}
	key, err := sealed.GenerateSuiteKey(suite, *id)
	if err != nil {
		return failure(stderr, "keygen", err)
	}
	ring, err := sealed.NewKeyRing(key)
	if err != nil {
		return failure(stderr, "keygen", err)
	}
	jwks, err := jwks.Marshal(ring)
	if err != nil {
		return failure(stderr, "keygen", err)
	}
	defer clear(jwks)
	switch {
	case *out != "":
		if err := writeFileAtomic(*out, jwks, 0o600, true); err != nil {
			return failure(stderr, "keygen", err)
		}
		fmt.Fprintf(stdout, "wrote key %s to %s (mode 0600)\n", key.ID(), *out)
	case *onlyJWKS:
		stdout.Write(jwks)
	case *onlyEnv:
		fmt.Fprintln(stdout, sealed.FormatKeyRing(ring))
	default:
		fmt.Fprintf(stdout, "# Key %s (%s) as a JWKS (for a key file; the first key seals):\n", key.ID(), key.Suite())
		stdout.Write(jwks)
		fmt.Fprintf(stdout, "\n# The same key in the environment-variable form (sealed.ParseKeyRing):\n%s\n", sealed.FormatKeyRing(ring))
	}
	return 0
}

// suites are the names --suite accepts.
// defaultSuite is the suite of keys the CLI makes when none is asked for:
// AES256GCM under GODEBUG=fips140=only, the one suite allowed there, else
// XChaCha20Poly1305.
func defaultSuite() sealed.Suite {
	if fips140.Enforced() {
		return sealed.AES256GCM
	}
	return sealed.XChaCha20Poly1305
}

var suites = map[string]sealed.Suite{
	"xchacha":                         sealed.XChaCha20Poly1305,
	sealed.XChaCha20Poly1305.String(): sealed.XChaCha20Poly1305,
	"fips":                            sealed.AES256GCM,
	sealed.AES256GCM.String():         sealed.AES256GCM,
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
