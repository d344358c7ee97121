// Package peertest finds and runs the peer programs (Node scripts in
// interop/, Python frameworks) that interoperability tests check sealed
// against. It is for _test.go files only.
//
// The repository's rule for a missing peer: the test skips, unless the
// environment has SEALED_INTEROP=1, when it fails (see [Missing]).
package peertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Module is the path of the module whose interop/ directory [Node] uses.
const Module = "github.com/sealedcookie/sealed"

// NPMHint is how to install the Node peers, as [Node] reports it.
const NPMHint = "run `npm ci --prefix interop` from the repository root"

// Missing skips t because of a missing peer, or fails it when the
// environment has SEALED_INTEROP=1. what says what is missing, how what to
// install; both appear in the message.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	missing(t, "", what, how)
}

// missing is [Missing], also failing t when the environment variable
// strict, if not "", is 1.
func missing(t testing.TB, strict, what, how string) {
	t.Helper()
	for _, env := range []string{"SEALED_INTEROP", strict} {
		if env != "" && os.Getenv(env) == "1" {
			t.Fatalf("%s=1 but %s: %s", env, what, how)
		}
	}
	if strict != "" {
		t.Skipf("%s: %s (SEALED_INTEROP=1 or %s=1 makes this fatal)", what, how, strict)
	}
	t.Skipf("%s: %s (SEALED_INTEROP=1 makes this fatal)", what, how)
}

// Node checks that node is on PATH and that each npm package is installed
// in the repository's interop/ directory, calling [Missing] if not, and
// returns that directory's absolute path.
func Node(t testing.TB, packages ...string) (dir string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(root, "interop")
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, "node is not on PATH", NPMHint)
	}
	for _, pkg := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			Missing(t, pkg+" is not installed in "+dir, NPMHint)
		}
	}
	return dir
}

// NodeScript is [Node] followed by a command that runs the named script of
// the interop/ directory with node, in that directory.
func NodeScript(t testing.TB, script string, packages ...string) *exec.Cmd {
	t.Helper()
	dir := Node(t, packages...)
	cmd := exec.Command("node", filepath.Join(dir, script))
	cmd.Dir = dir
	return cmd
}

// moduleRoot walks up from the working directory to the one whose go.mod
// declares [Module].
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if modulePath(filepath.Join(dir, "go.mod")) == Module {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("peertest: no go.mod of module " + Module + " in or above " + wd)
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod file declares, or "".
func modulePath(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w := strings.Fields(sc.Text()); len(w) >= 2 && w[0] == "module" {
			if path, err := strconv.Unquote(w[1]); err == nil {
				return path
			}
			return w[1]
		}
	}
	return ""
}

// Python returns the first interpreter that can run `import <imports>`:
// the one the environment variable envOverride names, if set, then each of
// candidates (names looked up on PATH, or paths). If none can, it calls
// [Missing] with how as the install hint.
func Python(t testing.TB, envOverride, imports, how string, candidates ...string) string {
	t.Helper()
	return StrictPython(t, "", envOverride, imports, how, candidates...)
}

// StrictPython is [Python] for a suite with a switch of its own: when the
// environment variable strict is 1, a missing interpreter fails t, as with
// SEALED_INTEROP=1.
func StrictPython(t testing.TB, strict, envOverride, imports, how string, candidates ...string) string {
	t.Helper()
	tried := strings.Join(candidates, ", ")
	if envOverride != "" {
		tried = "$" + envOverride + ", " + tried
		if p := os.Getenv(envOverride); p != "" {
			candidates = append([]string{p}, candidates...)
		}
	}
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import "+imports).Run() == nil {
			return path
		}
	}
	missing(t, strict, fmt.Sprintf("no python3 can import %s (tried %s)", imports, tried), how)
	return ""
}

// RunJSON runs cmd with req, as JSON, on its standard input and decodes
// its standard output into resp, failing t, with cmd's standard error, if
// cmd fails or answers something else than JSON.
func RunJSON(t testing.TB, cmd *exec.Cmd, req, resp any) {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	name := filepath.Base(cmd.Path)
	for i, a := range cmd.Args {
		if i > 0 {
			name += " " + filepath.Base(a)
		}
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, stderr.Bytes())
	}
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("%s answered %.300q: %v\n%s", name, out, err, stderr.Bytes())
	}
}

// SameJSON reports whether a and b are equal JSON values (whatever their
// spacing and key order), failing t if either is not JSON.
func SameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%q: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
