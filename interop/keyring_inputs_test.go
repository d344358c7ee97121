package interop_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/sealedcookie/sealed"
)

// trickyKeyRings returns text-form key rings, made with two 32-byte secrets
// in base64url, where a parser other than Go's easily disagrees with
// sealed.ParseKeyRing: the whitespace it trims (strings.TrimSpace trims
// exactly unicode.IsSpace, which is neither JavaScript's String.prototype.trim
// nor Python's str.strip) and characters that case folding or Unicode
// normalisation turn into ASCII. TestKeyRingsAgree (JavaScript) and
// TestPythonKeyRingsAgree (Python) both check them against Go.
func trickyKeyRings(s1, s2 string) []string {
	return []string{
		// Whitespace Go trims, around the ring and around each entry.
		"  k1:" + s1 + " , k2:" + s2 + "  ",
		" k1:" + s1 + " ,\tk2:" + s2 + ":aes256gcm\n",
		"\u00a0k1:" + s1 + "\u2003", // NBSP, EM SPACE
		"k1:" + s1 + "\u0085",       // NEL: Go trims it, JavaScript's trim does not
		"\u0085k1:" + s1,
		"k1:" + s1 + "\u0085,\u0085k2:" + s2,
		"\u1680\u2028k1:" + s1 + ":aes256gcm\u2029\u202f\u205f\u3000",
		"\u0085", "\u3000 \t",
		// Not whitespace to Go.
		"k1:" + s1 + "\x1c", // Python's str.strip trims U+001C..U+001F
		"\x1fk1:" + s1,
		"\ufeffk1:" + s1, // BOM: JavaScript's trim trims it
		"k1:" + s1 + "\ufeff",
		"k1:" + s1 + ",\ufeffk2:" + s2,
		"\ufeff",
		"\u200bk1:" + s1, // ZERO WIDTH SPACE
		"\u180ek1:" + s1, // MONGOLIAN VOWEL SEPARATOR, whitespace before Unicode 6.3
		"k1: " + s1, "k1 :" + s1, "k1:" + s1[:20] + " " + s1[20:],
		// Characters that fold or normalise to ASCII.
		"\u212a1:" + s1,                    // KELVIN SIGN, which lowercases to 'k'
		"k1:" + s1 + ":ae\u017f256gcm",     // LATIN SMALL LETTER LONG S, which uppercases to 'S'
		"k1:" + s1 + ":AES256GCM",          // suite names are case-sensitive
		"k1:" + s1 + ":xchacha20poly1305 ", // the space is inside the entry's suite
		"\uff4b1:" + s1,                    // FULLWIDTH 'k', NFKC 'k'
	}
}

// TestTrickyKeyRings: the list holds inputs Go accepts and inputs it
// refuses, and its whitespace is exactly what unicode.IsSpace says.
func TestTrickyKeyRings(t *testing.T) {
	s := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	accepted, refused := 0, 0
	for _, text := range trickyKeyRings(s, strings.Repeat("B", len(s)-1)+"A") {
		if _, err := sealed.ParseKeyRing(text); err == nil {
			accepted++
		} else {
			refused++
		}
	}
	if accepted < 5 || refused < 10 {
		t.Errorf("%d accepted, %d refused", accepted, refused)
	}
	for _, r := range "\u0085\u00a0\u2003\u3000" {
		if !unicode.IsSpace(r) {
			t.Errorf("%U is not space to Go", r)
		}
	}
	for _, r := range "\x1c\x1f\ufeff\u200b\u180e" {
		if unicode.IsSpace(r) {
			t.Errorf("%U is space to Go", r)
		}
	}
}
