package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

const rotateUsage = `Usage:
  sealed rotate add FILE [--id ID] [--suite SUITE] [--secret-env VAR] [--force]
  sealed rotate promote FILE ID [--force]
  sealed rotate retire FILE ID [--force]
  sealed rotate list FILE

Edits the JWKS key file FILE for the three steps of a rolling rotation
(docs/ROTATION.md). The first key in the file seals; every key opens. Each
edit replaces the file atomically (temporary file, fsync, rename), keeping
its permissions, so servers watching it see the old ring or the new one,
never a mix.

  add      step 1: append a new key that only opens. It is generated, or
           read from --secret-env. Wait until every instance has loaded it.
  promote  step 2: move key ID to the front: it seals from now on, and
           cookies sealed with the old primary are re-sealed with it on
           their next request.
  retire   step 3: remove key ID, once the longest session lifetime has
           passed since the promote and Stats().Opened[ID] stops growing.
           Cookies still sealed with it stop opening. The primary cannot be
           retired: promote another key first.
  list     print the key IDs and their roles (never the secrets), with the
           suite of keys that are not xchacha.

The key file holds secrets: only its owner should have access (mode 0600,
as 'sealed keygen --out' creates it, or 0400). add, promote and retire
refuse a file whose group or other users have any access, and say how to
fix it:

  chmod 600 FILE

list only warns about such a file.

Flags:
  --id ID           add: the new key's ID (default: k-YYYYMMDD-hhmmss-XXXX)
  --suite SUITE     add: xchacha or fips (AES-256-GCM, format version 2);
                    default: the suite of the file's primary key. Adding a
                    fips key to an xchacha file, then promoting it, moves a
                    fleet to the FIPS suite without logging anyone out.
  --secret-env VAR  add: take the secret (32 bytes, base64url) from
                    environment variable VAR instead of generating one
  --force           edit a file that its group or other users may access,
                    keeping its mode (for example 0640 for servers that
                    read the keys through a group), with a warning
`

var rotateCommand = command{summary: "add, promote or retire a key in a JWKS file", run: runRotate}

func runRotate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rotate", stderr)
	id := fs.String("id", "", "")
	secretEnv := fs.String("secret-env", "", "")
	suiteName := fs.String("suite", "", "")
	force := fs.Bool("force", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err, rotateUsage, stdout, stderr)
	}
	if len(pos) == 0 {
		return usageError(stderr, "rotate", rotateUsage, "missing action: add, promote, retire or list")
	}
	action, pos := pos[0], pos[1:]
	want := map[string]int{"add": 1, "promote": 2, "retire": 2, "list": 1}
	n, ok := want[action]
	switch {
	case !ok:
		return usageError(stderr, "rotate", rotateUsage, "unknown action %q", action)
	case len(pos) < n:
		if n == 2 && len(pos) == 1 {
			return usageError(stderr, "rotate", rotateUsage, "%s: missing key ID", action)
		}
		return usageError(stderr, "rotate", rotateUsage, "%s: missing FILE", action)
	case len(pos) > n:
		return usageError(stderr, "rotate", rotateUsage, "%s: unexpected argument %q", action, pos[n])
	case action != "add" && (*id != "" || *secretEnv != "" || *suiteName != ""):
		return usageError(stderr, "rotate", rotateUsage, "--id, --suite and --secret-env are flags of add; %s takes the ID as an argument", action)
	}
	suite, suiteGiven := suites[strings.ToLower(*suiteName)]
	if *suiteName != "" && !suiteGiven {
		return usageError(stderr, "rotate", rotateUsage, "unknown --suite %q; want xchacha or fips", *suiteName)
	}
	file := pos[0]
	// Check the mode before reading the secrets: a key file that others
	// may read is already a leak, and editing it would keep it one.
	perm, err := keyFilePerm(file)
	if err != nil {
		return failure(stderr, "rotate "+action, err)
	}
	if perm&0o077 != 0 {
		switch {
		case action == "list":
			fmt.Fprintf(stderr, "sealed rotate list: warning: %s has mode %04o: %s; only the owner should have any: chmod 600 %s\n", file, perm, looseModeText(perm), shellQuote(file))
		case *force:
			fmt.Fprintf(stderr, "sealed rotate %s: warning: %s has mode %04o (kept: --force): %s; only the owner should have any: chmod 600 %s\n", action, file, perm, looseModeText(perm), shellQuote(file))
		default:
			return failure(stderr, "rotate "+action, fmt.Errorf("%s has mode %04o: %s, and this edit would keep that mode; fix it with: chmod 600 %s (or pass --force to edit it anyway, keeping mode %04o)", file, perm, looseModeText(perm), shellQuote(file), perm))
		}
	}
	ring, err := readJWKSFile(file)
	if err != nil {
		return failure(stderr, "rotate "+action, err)
	}
	keys := ring.Keys()
	var next []sealed.Key
	var hint string
	switch action {
	case "list":
		for i, k := range keys {
			role := "opens"
			if i == 0 {
				role = "primary: seals and opens"
			}
			if k.Suite() != sealed.XChaCha20Poly1305 {
				role += " (" + k.Suite().String() + ")"
			}
			fmt.Fprintf(stdout, "%s\t%s\n", k.ID(), role)
		}
		return 0
	case "add":
		if !suiteGiven {
			suite = keys[0].Suite() // like the primary it will replace
		}
		key, err := newRotateKey(*id, *secretEnv, suite)
		if err != nil {
			return failure(stderr, "rotate add", err)
		}
		for _, k := range keys {
			if k.ID() == key.ID() {
				return failure(stderr, "rotate add", fmt.Errorf("%s already has a key %q; choose another --id", file, key.ID()))
			}
		}
		next = append(keys, key)
		hint = fmt.Sprintf("next: once every instance has loaded %s, run: sealed rotate promote %s %s", file, file, key.ID())
	case "promote":
		i := indexOfKey(keys, pos[1])
		if i < 0 {
			return failure(stderr, "rotate promote", fmt.Errorf("%s has no key %q (it has %s)", file, pos[1], idList(keys)))
		}
		if i == 0 {
			fmt.Fprintf(stdout, "%s: %s is already the primary key; file unchanged\n", file, pos[1])
			return 0
		}
		old := keys[0].ID()
		next = append([]sealed.Key{keys[i]}, append(keys[:i:i], keys[i+1:]...)...)
		hint = fmt.Sprintf("next: after the longest session lifetime, once Stats().Opened[%q] stops growing, run: sealed rotate retire %s %s", old, file, old)
	case "retire":
		i := indexOfKey(keys, pos[1])
		switch {
		case i < 0:
			return failure(stderr, "rotate retire", fmt.Errorf("%s has no key %q (it has %s)", file, pos[1], idList(keys)))
		case i == 0:
			return failure(stderr, "rotate retire", fmt.Errorf("%q is the primary key of %s and seals every new cookie; promote another key first", pos[1], file))
		}
		next = append(keys[:i:i], keys[i+1:]...)
		hint = fmt.Sprintf("cookies still sealed with %s no longer open; watch Stats().UnknownKey", pos[1])
	}
	newRing, err := sealed.NewKeyRing(next[0], next[1:]...)
	if err != nil {
		return failure(stderr, "rotate "+action, err)
	}
	data, err := jwks.Marshal(newRing)
	if err != nil {
		return failure(stderr, "rotate "+action, err)
	}
	defer clear(data)
	if err := writeFileAtomic(file, data, 0o600, false); err != nil {
		return failure(stderr, "rotate "+action, err)
	}
	fmt.Fprintf(stdout, "%s: %s\n%s\n", file, ringSummary(newRing), hint)
	return 0
}

// newRotateKey makes the key for rotate add.
func newRotateKey(id, secretEnv string, suite sealed.Suite) (sealed.Key, error) {
	if id == "" {
		id = newKeyID()
	}
	if secretEnv == "" {
		return sealed.GenerateSuiteKey(suite, id)
	}
	if _, err := sealed.NewSuiteKey(suite, id, make([]byte, sealed.KeySize)); err != nil {
		return sealed.Key{}, err // a bad ID (or a suite this mode forbids): say so before reading the secret
	}
	v, ok := os.LookupEnv(secretEnv)
	if !ok {
		return sealed.Key{}, fmt.Errorf("environment variable %s is not set", secretEnv)
	}
	// ParseKeyRing decodes and checks the secret and never echoes it.
	r, err := sealed.ParseKeyRing(id + ":" + strings.TrimSpace(v) + ":" + suite.String())
	if err != nil {
		return sealed.Key{}, errors.New("$" + secretEnv + ": want a 32-byte secret in base64url (for example from 'sealed keygen --env', the part between the first and second colon)")
	}
	return r.Primary(), nil
}

func indexOfKey(keys []sealed.Key, id string) int {
	for i, k := range keys {
		if k.ID() == id {
			return i
		}
	}
	return -1
}

func idList(keys []sealed.Key) string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID()
	}
	return strings.Join(ids, ", ")
}
