package sealed_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sealedcookie/sealed"
)

// The README's capacity figures are the ones the code computes.
func TestReadmeFigures(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sealed.New(mwRing(t, fixedKey(t, "k1", 1)), sealed.JSON[sess](), sealed.Options{ChunkBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	sealerMax := sealed.DefaultMaxLen*6/8 - sealed.Overhead
	for what, n := range map[string]int{
		"bytes of\n  encoded session through the middleware": m.MaxSessionLen(),
		"bytes of plaintext through a\n  bare `Sealer`":      sealerMax,
	} {
		want := thousands(n) + " " + what
		if !strings.Contains(string(readme), want) {
			t.Errorf("README lacks %q", want)
		}
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	if len(s) > 3 {
		s = s[:len(s)-3] + "," + s[len(s)-3:]
	}
	return s
}
