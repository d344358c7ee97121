package migrate

import "testing"

// A legacy cookie whose name has a __Secure- or __Host- prefix, in any
// case, is expired with Secure: browsers match the prefixes
// case-insensitively and ignore a deletion without it.
func TestExpirySecureForPrefixes(t *testing.T) {
	var l Legacy[struct{}]
	for name, secure := range map[string]bool{
		"session": false, "__Secure-s": true, "__secure-s": true, "__HOST-s": true, "__host-s": true,
	} {
		if got := l.expiry(name, false).Secure; got != secure {
			t.Errorf("expiry(%q).Secure = %v, want %v", name, got, secure)
		}
	}
}
