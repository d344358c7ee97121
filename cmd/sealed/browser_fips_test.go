//go:build unix

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBrowserFIPS runs the sealed binary as a FIPS deployment would:
// "sealed keygen -suite fips" writes the key file, and "sealed demo -jwks"
// serves with it under GODEBUG=fips140=only. The real-browser flow of
// TestBrowser then works against it, and the cookies it gets are version 2
// values.
func TestBrowserFIPS(t *testing.T) {
	browser, driver := findBrowser(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sealed")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	keys := filepath.Join(dir, "keys.json")
	if out, err := exec.Command(bin, "keygen", "-suite", "fips", "--id", "fips-1", "--out", keys).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	demo := exec.CommandContext(ctx, bin, "demo", "-addr", "127.0.0.1:0", "-jwks", keys)
	demo.Env = append(os.Environ(), "GODEBUG=fips140=only")
	demo.Stderr = os.Stderr
	stdout, err := demo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); demo.Wait() })
	lines := bufio.NewScanner(stdout)
	base := ""
	for lines.Scan() {
		if m := regexp.MustCompile(`serving (http://\S+)/`).FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("the demo did not start under GODEBUG=fips140=only")
	}
	go func() {
		for lines.Scan() { // keep the pipe drained
		}
	}()

	wd := startWebDriver(t, browser, driver)
	wd.navigate(base + "/")
	if st := wd.fetch("POST", "/create_session/alice"); st.Status != 200 {
		t.Fatalf("create_session: %+v", st)
	}
	// The cookie is a version 2 value: "Ag" is base64url for 0x02, 0x00.
	if c := wd.sessionCookies(); len(c) != 1 || !strings.HasPrefix(c[0].Value, "Ag") {
		t.Fatalf("cookie after login under FIPS keys: %+v", c)
	}
	wd.fetch("POST", "/delete_session")
	browseDemo(t, wd, base)

	// The demo ran in FIPS 140-only mode: an XChaCha key file is refused
	// at start-up, with the reason, not served.
	xkeys := filepath.Join(dir, "x.json")
	xgen := exec.Command(bin, "keygen", "-suite", "xchacha", "--out", xkeys)
	xgen.Env = append(os.Environ(), "GODEBUG=") // this test may itself run in FIPS mode
	if out, err := xgen.CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	bad := exec.CommandContext(ctx2, bin, "demo", "-addr", "127.0.0.1:0", "-jwks", xkeys)
	bad.Env = append(os.Environ(), "GODEBUG=fips140=only")
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "fips140=only") || strings.Contains(string(out), "panic") {
		t.Fatalf("demo with an XChaCha key in FIPS mode: %v\n%s", err, out)
	}
}
