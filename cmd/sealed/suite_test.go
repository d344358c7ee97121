package main

import (
	"crypto/fips140"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealedcookie/sealed"
)

// keygen -suite fips writes a key that declares its suite in both forms,
// and inspect names the suite of the value it opens.
func TestKeygenSuiteFIPS(t *testing.T) {
	out := mustRun(t, "keygen", "-suite", "fips", "--id", "f1")
	if !strings.Contains(out, `"alg": "A256GCM"`) {
		t.Errorf("JWKS does not declare the suite:\n%s", regexp.MustCompile(`"k": "[^"]*"`).ReplaceAllString(out, `"k": "…"`))
	}
	env := regexp.MustCompile(`(?m)^f1:[A-Za-z0-9_-]{43}:aes256gcm$`).FindString(out)
	ring, err := sealed.ParseKeyRing(env)
	if err != nil || ring.Primary().Suite() != sealed.AES256GCM {
		t.Fatalf("env form found: %v; %v", env != "", err)
	}

	path := filepath.Join(t.TempDir(), "keys.json")
	mustRun(t, "keygen", "--suite", "aes256gcm", "--id", "f2", "--out", path)
	if got := fileRing(t, path).Primary().Suite(); got != sealed.AES256GCM {
		t.Fatalf("key file suite %s", got)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	setClock(t, now)
	header := managerCookies(t, fileRing(t, path), now, map[string]any{"user": "ann"})
	got := mustRun(t, "inspect", "--keys", path, "--name", "session", header)
	if !strings.Contains(got, "suite:    aes256gcm (format version 2") {
		t.Errorf("inspect does not name the suite:\n%s", got)
	}
	if !fips140.Enforced() {
		x := filepath.Join(t.TempDir(), "x.json")
		mustRun(t, "keygen", "--id", "x1", "--out", x)
		header := managerCookies(t, fileRing(t, x), now, map[string]any{"user": "ann"})
		if got := mustRun(t, "inspect", "--keys", x, "--name", "session", header); !strings.Contains(got, "suite:    xchacha20poly1305 (format version 1)") {
			t.Errorf("inspect of an XChaCha value:\n%s", got)
		}
	}
	if e := mustFail(t, 2, "keygen", "-suite", "rot13"); !strings.Contains(e, `unknown --suite "rot13"`) {
		t.Errorf("unknown suite: %q", e)
	}
}

// Under GODEBUG=fips140=only (.ci/run): keygen writes AES256GCM keys by
// default, refuses an XChaCha key with an error naming the fix, and seal
// and inspect work with the keys it writes.
func TestFIPSOnlyMode(t *testing.T) {
	if !fips140.Enforced() {
		t.Skip("run with GODEBUG=fips140=only (.ci/run does)")
	}
	if out := mustRun(t, "keygen", "--env", "--id", "d"); !strings.HasSuffix(strings.TrimSpace(out), ":aes256gcm") {
		t.Errorf("default key in FIPS mode is not aes256gcm")
	}
	if e := mustFail(t, 1, "keygen", "-suite", "xchacha"); !strings.Contains(e, "fips140=only") || !strings.Contains(e, "-suite fips") {
		t.Errorf("XChaCha keygen in FIPS mode: %q", e)
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	mustRun(t, "keygen", "-suite", "fips", "--id", "f1", "--out", path)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	setClock(t, now)
	header := managerCookies(t, fileRing(t, path), now, map[string]any{"user": "ann"})
	if got := mustRun(t, "inspect", "--keys", path, "--name", "session", header); !strings.Contains(got, `"user": "ann"`) {
		t.Errorf("inspect in FIPS mode:\n%s", got)
	}
}

// rotate add --suite fips, then promote: a key file moves to the FIPS
// suite by the usual three steps; add follows the primary's suite by
// default.
func TestRotateToFIPS(t *testing.T) {
	if fips140.Enforced() {
		t.Skip("starts from an XChaCha key, which FIPS 140-only mode refuses")
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	mustRun(t, "keygen", "--id", "x1", "--out", path)
	mustRun(t, "rotate", "add", path, "--id", "f1", "--suite", "fips")
	if got := mustRun(t, "rotate", "list", path); got != "x1\tprimary: seals and opens\nf1\topens (aes256gcm)\n" {
		t.Fatalf("list = %q", got)
	}
	mustRun(t, "rotate", "promote", path, "f1")
	mustRun(t, "rotate", "add", path, "--id", "f2") // the primary's suite
	ring := fileRing(t, path)
	for _, k := range ring.Keys() {
		want := sealed.AES256GCM
		if k.ID() == "x1" {
			want = sealed.XChaCha20Poly1305
		}
		if k.Suite() != want {
			t.Errorf("key %s: suite %s, want %s", k.ID(), k.Suite(), want)
		}
	}
	t.Setenv("NEW_SECRET", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	mustRun(t, "rotate", "add", path, "--id", "x2", "--suite", "xchacha", "--secret-env", "NEW_SECRET")
	if k := fileRing(t, path).Keys()[3]; k.ID() != "x2" || k.Suite() != sealed.XChaCha20Poly1305 {
		t.Errorf("added %s %s", k.ID(), k.Suite())
	}
	if e := mustFail(t, 2, "rotate", "add", path, "--suite", "rot13"); !strings.Contains(e, `unknown --suite "rot13"`) {
		t.Errorf("unknown suite: %q", e)
	}
	if e := mustFail(t, 2, "rotate", "promote", path, "f2", "--suite", "fips"); !strings.Contains(e, "flags of add") {
		t.Errorf("--suite with promote: %q", e)
	}
}
