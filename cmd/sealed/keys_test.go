package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
	"github.com/sealedcookie/sealed/jwks"
)

// sealedCLI runs the command line and returns its exit code and output.
func sealedCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustRun runs a command that must succeed and returns its stdout.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := sealedCLI(t, args...)
	if code != 0 {
		t.Fatalf("sealed %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// mustFail runs a command that must exit with code and returns its stderr.
func mustFail(t *testing.T, code int, args ...string) string {
	t.Helper()
	got, out, errOut := sealedCLI(t, args...)
	if got != code {
		t.Fatalf("sealed %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, out, errOut)
	}
	if !strings.HasPrefix(errOut, "sealed ") && !strings.HasPrefix(errOut, "flag ") {
		t.Errorf("stderr does not start with the command: %q", errOut)
	}
	return errOut
}

func fileRing(t *testing.T, path string) *sealed.KeyRing {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := jwks.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func setClock(t *testing.T, now time.Time) {
	old := keysNow
	keysNow = func() time.Time { return now }
	t.Cleanup(func() { keysNow = old })
}

func setStdin(t *testing.T, s string) {
	old := stdinReader
	stdinReader = strings.NewReader(s)
	t.Cleanup(func() { stdinReader = old })
}

func TestKeyCommandsHelp(t *testing.T) {
	for _, cmd := range []string{"keygen", "rotate", "inspect", "seal"} {
		for _, h := range []string{"-h", "-help", "--help"} {
			code, out, errOut := sealedCLI(t, cmd, h)
			if code != 0 || !strings.HasPrefix(out, "Usage:") || errOut != "" {
				t.Errorf("sealed %s %s: exit %d, stdout %.40q, stderr %q", cmd, h, code, out, errOut)
			}
		}
		errOut := mustFail(t, 2, cmd, "--no-such-flag")
		if !strings.Contains(errOut, "no-such-flag") || !strings.Contains(errOut, "Usage:") {
			t.Errorf("sealed %s with a bad flag: stderr %q", cmd, errOut)
		}
	}
	if _, out, _ := sealedCLI(t, "help"); !strings.Contains(out, "rotate") || !strings.Contains(out, "inspect") {
		t.Errorf("help does not list the key commands:\n%s", out)
	}
}

func TestKeygen(t *testing.T) {
	out := mustRun(t, "keygen", "--id", "k1")
	start, end := strings.Index(out, "{"), strings.LastIndex(out, "}")
	ring, err := jwks.Parse([]byte(out[start : end+1]))
	if err != nil || ring.Primary().ID() != "k1" {
		t.Fatalf("JWKS part: %v, %v\n%s", ring, err, out)
	}
	envLine := regexp.MustCompile(`(?m)^k1:[A-Za-z0-9_-]{43}$`).FindString(out)
	envRing, err := sealed.ParseKeyRing(envLine)
	if err != nil {
		t.Fatalf("env part %q: %v", envLine, err)
	}
	if sealed.FormatKeyRing(envRing) != sealed.FormatKeyRing(ring) {
		t.Fatal("the JWKS and env forms hold different keys")
	}
	other := mustRun(t, "keygen", "--id", "k1", "--env")
	if other == envLine+"\n" || !strings.HasPrefix(other, "k1:") {
		t.Fatalf("second key %q: want a new k1 in env form alone", other)
	}

	// Default IDs are unique and valid.
	a := mustRun(t, "keygen", "--jwks")
	b := mustRun(t, "keygen", "--jwks")
	ra, err1 := jwks.Parse([]byte(a))
	rb, err2 := jwks.Parse([]byte(b))
	if err1 != nil || err2 != nil || ra.Primary().ID() == rb.Primary().ID() || !strings.HasPrefix(ra.Primary().ID(), "k-") {
		t.Fatalf("default IDs: %v %v %v %v", ra, rb, err1, err2)
	}

	path := filepath.Join(t.TempDir(), "keys.json")
	out = mustRun(t, "keygen", "--out", path, "--id", "first")
	if strings.Contains(out, `"k"`) || !strings.Contains(out, "first") {
		t.Fatalf("--out printed %q", out)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if got := fileRing(t, path).Primary().ID(); got != "first" {
		t.Fatalf("key file primary = %q", got)
	}
	if e := mustFail(t, 1, "keygen", "--out", path); !strings.Contains(e, "already exists") {
		t.Fatalf("overwrite: %q", e)
	}
	if fileRing(t, path).Primary().ID() != "first" {
		t.Fatal("keygen --out replaced an existing file")
	}
	if e := mustFail(t, 1, "keygen", "--id", "a b"); !strings.Contains(e, "not allowed") {
		t.Fatalf("bad ID: %q", e)
	}
	mustFail(t, 2, "keygen", "--jwks", "--env")
	mustFail(t, 2, "keygen", "extra")
}

func TestRotateThreeSteps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", path)
	// An owner-only mode other than keygen's 0600: every edit must keep it.
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	k1 := sealed.FormatKeyRing(fileRing(t, path))

	// Step 1: flags may follow the file.
	out := mustRun(t, "rotate", "add", path, "--id", "k2")
	if !strings.Contains(out, "sealed rotate promote "+path+" k2") {
		t.Errorf("add does not say what comes next:\n%s", out)
	}
	r := fileRing(t, path)
	if r.String() != "sealed.KeyRing(k1,k2)" {
		t.Fatalf("after add: %s", r)
	}
	if !strings.HasPrefix(sealed.FormatKeyRing(r), k1+",") {
		t.Fatal("add changed the existing key")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o400 {
		t.Fatalf("add changed the mode to %v", fi.Mode().Perm())
	}
	if e := mustFail(t, 1, "rotate", "add", path, "--id", "k2"); !strings.Contains(e, `already has a key "k2"`) {
		t.Fatalf("duplicate add: %q", e)
	}

	// Step 2.
	out = mustRun(t, "rotate", "promote", path, "k2")
	if !strings.Contains(out, `Opened["k1"]`) || !strings.Contains(out, "sealed rotate retire "+path+" k1") {
		t.Errorf("promote does not say what comes next:\n%s", out)
	}
	if r := fileRing(t, path); r.String() != "sealed.KeyRing(k2,k1)" {
		t.Fatalf("after promote: %s", r)
	}
	if out := mustRun(t, "rotate", "promote", path, "k2"); !strings.Contains(out, "already the primary") {
		t.Errorf("second promote: %q", out)
	}

	// Step 3: never the primary.
	if e := mustFail(t, 1, "rotate", "retire", path, "k2"); !strings.Contains(e, "primary") {
		t.Fatalf("retire primary: %q", e)
	}
	if e := mustFail(t, 1, "rotate", "retire", path, "k9"); !strings.Contains(e, `no key "k9" (it has k2, k1)`) {
		t.Fatalf("retire unknown: %q", e)
	}
	mustRun(t, "rotate", "retire", path, "k1")
	if r := fileRing(t, path); r.String() != "sealed.KeyRing(k2)" {
		t.Fatalf("after retire: %s", r)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o400 {
		t.Fatalf("mode after three edits: %v", fi.Mode().Perm())
	}
	if out := mustRun(t, "rotate", "list", path); out != "k2\tprimary: seals and opens\n" {
		t.Fatalf("list = %q", out)
	}
	// No temporary files left behind.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file", len(ents))
	}

	for _, args := range [][]string{
		{"rotate"},
		{"rotate", "spin", path},
		{"rotate", "add"},
		{"rotate", "promote", path},
		{"rotate", "retire", path, "k1", "extra"},
		{"rotate", "promote", path, "k2", "--id", "x"},
	} {
		mustFail(t, 2, args...)
	}
	if e := mustFail(t, 1, "rotate", "add", filepath.Join(dir, "missing.json")); !strings.Contains(e, "no such file") {
		t.Fatalf("missing file: %q", e)
	}
}

// A key file its group or other users may read is refused unless --force
// is given, with the chmod that fixes it; the file is left untouched and no
// secret is printed. list only warns, and owner-only modes pass silently.
func TestRotateKeyFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", path)
	mustRun(t, "rotate", "add", path, "--id", "k2")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := sealed.FormatKeyRing(fileRing(t, path)) // k1:...,k2:...
	noSecret := func(what, out string) {
		t.Helper()
		for _, part := range strings.Split(secrets, ",") {
			_, secret, _ := strings.Cut(part, ":")
			if strings.Contains(out, secret) {
				t.Errorf("%s shows a secret: %q", what, out)
			}
		}
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"rotate", "add", path, "--id", "k3"},
			{"rotate", "promote", path, "k2"},
			{"rotate", "retire", path, "k2"},
		} {
			code, out, errOut := sealedCLI(t, args...)
			if code != 1 || out != "" {
				t.Errorf("mode %04o, %s: exit %d, stdout %q; want a refusal", mode, args[1], code, out)
			}
			want := fmt.Sprintf("has mode %04o", mode)
			if !strings.Contains(errOut, want) || !strings.Contains(errOut, "chmod 600 "+path) || !strings.Contains(errOut, "--force") {
				t.Errorf("mode %04o, %s: stderr %q lacks %q, the chmod fix or --force", mode, args[1], errOut, want)
			}
			noSecret(args[1], errOut)
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Fatalf("mode %04o, %s: refused but changed the file", mode, args[1])
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != mode {
				t.Fatalf("mode %04o, %s: refused but changed the mode to %04o", mode, args[1], fi.Mode().Perm())
			}
		}
		// list changes nothing: it warns and goes on.
		code, out, errOut := sealedCLI(t, "rotate", "list", path)
		if code != 0 || !strings.Contains(out, "k1\tprimary") || !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "chmod 600 "+path) {
			t.Errorf("mode %04o, list: exit %d, stdout %q, stderr %q", mode, code, out, errOut)
		}
		noSecret("list", out+errOut)
	}

	// --force edits it, keeps the mode and still says how to fix it.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := sealedCLI(t, "rotate", "promote", path, "k2", "--force")
	if code != 0 || !strings.Contains(out, "k2 (primary") || !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "chmod 600 "+path) {
		t.Fatalf("promote --force: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	noSecret("promote --force", out+errOut)
	if r := fileRing(t, path); r.String() != "sealed.KeyRing(k2,k1)" {
		t.Fatalf("after promote --force: %s", r)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("promote --force changed the mode to %04o", fi.Mode().Perm())
	}

	// After the chmod the usage text suggests, no flag is needed and
	// nothing is said.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"rotate", "retire", path, "k1"},
		{"rotate", "add", path, "--id", "k3"},
		{"rotate", "list", path},
	} {
		if code, _, errOut := sealedCLI(t, args...); code != 0 || errOut != "" {
			t.Errorf("mode 0600, %s: exit %d, stderr %q", args[1], code, errOut)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after edits: %04o, want 0600", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file", len(ents))
	}
	if _, out, _ := sealedCLI(t, "rotate", "-help"); !strings.Contains(out, "--force") || !strings.Contains(out, "chmod 600") {
		t.Errorf("usage does not document --force and the fix:\n%s", out)
	}
}

// The files the key commands create are 0600 whatever the umask.
func TestKeyFilesCreatedOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", path)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keygen --out with umask 0: %v, %v; want 0600", fi.Mode(), err)
	}
	mustRun(t, "rotate", "add", path, "--id", "k2")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("rotate add with umask 0: %v, %v; want 0600", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file", len(ents))
	}
}

func TestRotateAddGivenSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", path)
	env := mustRun(t, "keygen", "--id", "ignored", "--env")
	_, secret, _ := strings.Cut(strings.TrimSpace(env), ":")
	t.Setenv("NEW_SECRET", secret)
	mustRun(t, "rotate", "add", "--secret-env", "NEW_SECRET", "--id", "k2", path)
	if got := sealed.FormatKeyRing(fileRing(t, path)); !strings.HasSuffix(got, ",k2:"+secret) {
		t.Fatal("add --secret-env did not use the given secret")
	}
	t.Setenv("BAD_SECRET", "c2hvcnQ")
	e := mustFail(t, 1, "rotate", "add", path, "--id", "k3", "--secret-env", "BAD_SECRET")
	if !strings.Contains(e, "32-byte secret") || strings.Contains(e, "c2hvcnQ") {
		t.Fatalf("bad secret: %q", e)
	}
	mustFail(t, 1, "rotate", "add", path, "--id", "k3", "--secret-env", "UNSET_VARIABLE_FOR_TEST")
}

func TestRotateKeepsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", real)
	if err := os.Symlink("real.json", link); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "rotate", "add", link, "--id", "k2")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("rotate replaced the symlink with a file")
	}
	if fileRing(t, real).String() != "sealed.KeyRing(k1,k2)" {
		t.Fatal("the link's target was not updated")
	}
}

func TestSealAndInspect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", path)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	setClock(t, now)

	v := strings.TrimSpace(mustRun(t, "seal", "--keys", path, "--name", "session", "--ttl", "2h", `{"n":3,"user":"ann"}`))
	out := mustRun(t, "inspect", "--keys", path, "--name", "session", v)
	for _, want := range []string{
		`opens:    yes, cookie "session"`,
		"key:      k1 (primary)",
		"stale:    no",
		"expires:  2030-01-02T05:04:05Z (in 2h0m0s)",
		"payload:  20 bytes, JSON\n{\n  \"n\": 3,\n  \"user\": \"ann\"\n}\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}

	// After add and promote the value is stale.
	mustRun(t, "rotate", "add", path, "--id", "k2")
	mustRun(t, "rotate", "promote", path, "k2")
	out = mustRun(t, "inspect", "--keys", path, "--name", "session", v)
	if !strings.Contains(out, "key:      k1 (a previous key; the primary is k2)") || !strings.Contains(out, "stale:    yes") {
		t.Errorf("stale value:\n%s", out)
	}

	// Retired: the reason names the header's key identifier and the ring's.
	mustRun(t, "rotate", "retire", path, "k1")
	e := mustFail(t, 1, "inspect", "--keys", path, "--name", "session", v)
	if want := "unknown key identifier " + hex8(keyIDHash("k1")) + ":"; !strings.Contains(e, want) {
		t.Errorf("unknown key: %q lacks %q", e, want)
	}
	if want := "none of k2 (" + hex8(keyIDHash("k2")) + ")"; !strings.Contains(e, want) {
		t.Errorf("unknown key: %q lacks %q", e, want)
	}

	v2 := strings.TrimSpace(mustRun(t, "seal", "--keys", path, "--name", "session", "hello"))
	if e := mustFail(t, 1, "inspect", "--keys", path, "--name", "other", v2); !strings.Contains(e, "authentication failed under key k2") || !strings.Contains(e, `cookie other than "other"`) {
		t.Errorf("wrong name: %q", e)
	}
	tampered := v2[:len(v2)-2] + map[bool]string{true: "AA", false: "BA"}[!strings.HasSuffix(v2, "AA")]
	if e := mustFail(t, 1, "inspect", "--keys", path, "--name", "session", tampered); !strings.Contains(e, "authentication failed") {
		t.Errorf("tampered: %q", e)
	}
	if e := mustFail(t, 1, "inspect", "--keys", path, "--name", "session", "bm90IGEgY29va2ll"); !strings.Contains(e, "does not open: malformed: ") {
		t.Errorf("malformed: %q", e)
	}
	if e := mustFail(t, 1, "inspect", "--keys", path, "--name", "session", strings.Repeat("A", 5000)); !strings.Contains(e, "too large") {
		t.Errorf("too large: %q", e)
	}
	out = mustRun(t, "inspect", "--keys", path, "--name", "session", v2)
	if !strings.Contains(out, "payload:  5 bytes, text\n\"hello\"\n") {
		t.Errorf("text payload:\n%s", out)
	}

	// Expired, two hours and a second later.
	setClock(t, now.Add(2*time.Hour+time.Second))
	if e := mustFail(t, 1, "inspect", "--keys", path, "--name", "session", v2); !strings.Contains(e, "expired at 2030-01-02T04:04:05Z (1h0m1s ago), sealed with key k2") {
		t.Errorf("expired: %q", e)
	}
}

func hex8(h uint32) string { return fmt.Sprintf("%08x", h) }

func TestSealStdinAndEnvKeys(t *testing.T) {
	env := strings.TrimSpace(mustRun(t, "keygen", "--id", "e1", "--env"))
	t.Setenv("TEST_SEALED_KEYS", env)
	setStdin(t, "\x00\x01binary")
	v := strings.TrimSpace(mustRun(t, "seal", "--keys-env", "TEST_SEALED_KEYS", "--name", "c", "-"))
	setStdin(t, v+"\n")
	out := mustRun(t, "inspect", "--keys-env", "TEST_SEALED_KEYS", "--name", "c", "-")
	if !strings.Contains(out, "payload:  8 bytes, binary\n00000000  00 01 62 69") {
		t.Errorf("binary payload from stdin:\n%s", out)
	}
	// The env var may hold a JWKS too.
	jwks := mustRun(t, "keygen", "--id", "j1", "--jwks")
	t.Setenv("TEST_SEALED_JWKS", jwks)
	v = strings.TrimSpace(mustRun(t, "seal", "--keys-env", "TEST_SEALED_JWKS", "--name", "c"))
	if out := mustRun(t, "inspect", "--keys-env", "TEST_SEALED_JWKS", "--name", "c", v); !strings.Contains(out, "payload:  empty") {
		t.Errorf("empty payload:\n%s", out)
	}
	var doc map[string]any
	if json.Unmarshal([]byte(jwks), &doc) != nil {
		t.Fatal("keygen --jwks is not JSON")
	}
}

func TestSealInspectUsageErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	mustRun(t, "keygen", "--id", "k1", "--out", path)
	mustFail(t, 2, "seal", "--keys", path, "x")                                // no --name
	mustFail(t, 2, "seal", "--keys", path, "--name", "c", "--ttl", "-1h", "x") // bad ttl
	mustFail(t, 2, "seal", "--keys", path, "--name", "c", "two", "args")       // unquoted payload
	mustFail(t, 2, "inspect", "--keys", path, "v")                             // no --name
	mustFail(t, 2, "inspect", "--keys", path, "--name", "c", "v1", "v2")       // two values
	if e := mustFail(t, 1, "seal", "--name", "c", "x"); !strings.Contains(e, "no keys") {
		t.Errorf("no keys: %q", e)
	}
	if e := mustFail(t, 1, "seal", "--keys", path, "--keys-env", "X", "--name", "c"); !strings.Contains(e, "not both") {
		t.Errorf("both sources: %q", e)
	}
	if e := mustFail(t, 1, "inspect", "--keys-env", "UNSET_VARIABLE_FOR_TEST", "--name", "c", "v"); !strings.Contains(e, "not set") {
		t.Errorf("unset env: %q", e)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"keys":[{"kty":"oct","kid":"x","k":"c2hvcnQ"}]}`), 0o600)
	if e := mustFail(t, 1, "seal", "--keys", bad, "--name", "c"); !strings.Contains(e, `"k": 5 bytes`) || strings.Contains(e, "c2hvcnQ") {
		t.Errorf("bad key file: %q", e)
	}
}
