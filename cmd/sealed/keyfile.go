package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

// Shared by the key commands (keygen, rotate, inspect, seal).

// keysNow is the key commands' clock; tests set it.
var keysNow = time.Now

// newFlagSet returns a flag set for a command whose flags may come before,
// between or after its positional arguments. Parse it with
// parseInterspersed and handle errors with flagExit.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // flagExit prints the command's usage
	return fs
}

// parseInterspersed parses flags anywhere among the positional arguments
// ("rotate add FILE --id k2"), which flag.Parse alone stops at. Everything
// after "--" is positional. It returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagExit reports a flag error and returns the exit code: 0 and the usage
// on stdout for -h, -help and --help; 2 and the usage on stderr otherwise
// (flag has already printed what was wrong).
func flagExit(err error, usageText string, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	fmt.Fprint(stderr, usageText)
	return 2
}

// usageError prints a usage mistake and the usage, and returns 2.
func usageError(stderr io.Writer, cmd, usageText, format string, args ...any) int {
	fmt.Fprintf(stderr, "sealed %s: %s\n", cmd, fmt.Sprintf(format, args...))
	fmt.Fprint(stderr, usageText)
	return 2
}

// failure prints an error and returns 1.
func failure(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "sealed %s: %v\n", cmd, err)
	return 1
}

// newKeyID returns a fresh key ID: "k-" and the UTC date and time, plus a
// random suffix so two keys made in the same second differ.
func newKeyID() string {
	var b [2]byte
	rand.Read(b[:])
	return "k-" + keysNow().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// keyFlags are the flags that name a key ring: --keys FILE or --keys-env VAR.
type keyFlags struct{ file, env string }

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.file, "keys", "", "read the key ring from `FILE` (JWKS, or the id:secret,... form)")
	fs.StringVar(&k.env, "keys-env", "", "read the key ring from environment variable `VAR` (id:secret,... or JWKS)")
}

// ring loads the ring the flags name.
func (k *keyFlags) ring() (*sealed.KeyRing, error) {
	switch {
	case k.file != "" && k.env != "":
		return nil, errors.New("give --keys or --keys-env, not both")
	case k.file != "":
		data, err := os.ReadFile(k.file)
		if err != nil {
			return nil, err
		}
		defer clear(data)
		r, err := parseRing(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.file, err)
		}
		return r, nil
	case k.env != "":
		v, ok := os.LookupEnv(k.env)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", k.env)
		}
		r, err := parseRing([]byte(v))
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", k.env, err)
		}
		return r, nil
	}
	return nil, errors.New("no keys: give --keys FILE or --keys-env VAR")
}

// parseRing reads either form of a key ring: a JWKS document or the
// environment-variable form.
func parseRing(data []byte) (*sealed.KeyRing, error) {
	s := strings.TrimSpace(string(data))
	if strings.HasPrefix(s, "{") {
		return jwks.Parse(data)
	}
	return sealed.ParseKeyRing(s)
}

// readJWKSFile reads a JWKS file for editing.
func readJWKSFile(path string) (*sealed.KeyRing, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	r, err := jwks.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// keyFilePerm returns the permission bits of the file at path, following
// symbolic links (a link's own mode means nothing).
func keyFilePerm(path string) (os.FileMode, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	return fi.Mode().Perm(), nil
}

// looseModeText says who besides the owner may use a key file with
// permissions perm, for a message about it.
func looseModeText(perm os.FileMode) string {
	switch group, other := perm&0o070 != 0, perm&0o007 != 0; {
	case group && other:
		return "its group and all other users have access to the secret keys"
	case group:
		return "its group has access to the secret keys"
	default:
		return "all other users have access to the secret keys"
	}
}

// shellQuote quotes s for a POSIX shell when it needs quoting, so a printed
// command can be pasted as it is.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,:@+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeFileAtomic replaces path with data so that a reader (a jwks.File
// polling it) sees the old content or the new, never a mix: it writes a
// temporary file in the same directory, syncs it, and renames it over the
// target. A symbolic link is followed and its target replaced, so the link
// survives. The new file keeps the old one's permissions and, where the
// process may set it, its owner; a new file gets perm. With exclusive, an
// existing file is an error.
func writeFileAtomic(path string, data []byte, perm os.FileMode, exclusive bool) (err error) {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	var uid, gid = -1, -1
	switch fi, err := os.Stat(target); {
	case err == nil && exclusive:
		return fmt.Errorf("%s already exists", path)
	case err == nil:
		perm = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if uid >= 0 {
		_ = tmp.Chown(uid, gid) // best effort: only root may give files away
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if exclusive {
		// Link fails if the target appeared meanwhile; rename would not.
		if err := os.Link(tmp.Name(), target); err != nil {
			os.Remove(tmp.Name())
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists", path)
			}
			return err
		}
		os.Remove(tmp.Name())
	} else if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// ringSummary lists a ring's key IDs with their roles, for humans.
func ringSummary(r *sealed.KeyRing) string {
	var b strings.Builder
	for i, k := range r.Keys() {
		if i == 0 {
			fmt.Fprintf(&b, "%s (primary: seals and opens)", k.ID())
		} else {
			fmt.Fprintf(&b, ", %s (opens)", k.ID())
		}
	}
	return b.String()
}
