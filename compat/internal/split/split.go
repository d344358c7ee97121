// Package split splits the dotted and starred token formats of the peers
// (compact JWE, iron seals) into their fields.
package split

import "strings"

// Exact splits s around sep into exactly len(fields) parts and reports
// whether it had that many.
func Exact(s, sep string, fields []string) bool {
	for i := range len(fields) - 1 {
		var ok bool
		if fields[i], s, ok = strings.Cut(s, sep); !ok {
			return false
		}
	}
	if strings.Contains(s, sep) {
		return false
	}
	fields[len(fields)-1] = s
	return true
}
