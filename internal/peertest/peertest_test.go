package peertest

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelperProcess is the test binary run again by TestMissing: with
// PEERTEST_HELPER set, it meets a missing peer in the way it names.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv("PEERTEST_HELPER") {
	case "":
		return // not a helper run
	case "missing":
		Missing(t, "the peer is missing", "install it")
	case "node":
		t.Setenv("PATH", t.TempDir())
		Node(t)
	case "python":
		Python(t, "PEERTEST_NO_PYTHON", "sys", "install it", filepath.Join(t.TempDir(), "python3"))
	case "strictpython":
		StrictPython(t, "PEERTEST_STRICT", "PEERTEST_NO_PYTHON", "sys", "install it", filepath.Join(t.TempDir(), "python3"))
	}
	t.Error("the missing peer did not end the test")
}

// TestMissing: a missing peer skips the test, unless SEALED_INTEROP=1 (or,
// for StrictPython, its own variable is 1), when it fails it; both say what
// is missing and how to install it.
func TestMissing(t *testing.T) {
	for _, tc := range []struct{ helper, what, how string }{
		{"missing", "the peer is missing", "install it"},
		{"node", "node is not on PATH", NPMHint},
		{"python", "no python3 can import sys (tried $PEERTEST_NO_PYTHON, ", "install it"},
		{"strictpython", "no python3 can import sys (tried $PEERTEST_NO_PYTHON, ", "install it"},
	} {
		for _, env := range []string{"", "SEALED_INTEROP=1", "PEERTEST_STRICT=1"} {
			t.Run(tc.helper+"/"+env, func(t *testing.T) {
				t.Parallel()
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
				for _, kv := range os.Environ() {
					if !strings.HasPrefix(kv, "SEALED_INTEROP=") && !strings.HasPrefix(kv, "PEERTEST_") {
						cmd.Env = append(cmd.Env, kv)
					}
				}
				cmd.Env = append(cmd.Env, "PEERTEST_HELPER="+tc.helper, cmp.Or(env, "SEALED_INTEROP="))
				out, err := cmd.CombinedOutput()
				fatal := env == "SEALED_INTEROP=1" || (env == "PEERTEST_STRICT=1" && tc.helper == "strictpython")
				want := "--- SKIP: TestHelperProcess"
				if fatal {
					want = "--- FAIL: TestHelperProcess"
				}
				if env != "" && fatal && !strings.Contains(string(out), env+" but ") {
					t.Errorf("the failure does not name %s:\n%s", env, out)
				}
				if (err != nil) != fatal || !strings.Contains(string(out), want) ||
					!strings.Contains(string(out), tc.what) || !strings.Contains(string(out), tc.how) {
					t.Errorf("%v, want %s naming %q and %q:\n%s", err, want, tc.what, tc.how, out)
				}
			})
		}
	}
}

// TestModuleRoot: from this package, the module root is two levels up and
// holds interop/.
func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if root != want {
		t.Fatalf("module root %s, want %s", root, want)
	}
	if _, err := os.Stat(filepath.Join(root, "interop", "package.json")); err != nil {
		t.Fatal(err)
	}
}
