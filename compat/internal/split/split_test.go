package split

import (
	"slices"
	"testing"
)

func TestExact(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want []string
	}{
		{"a.b.c", 3, []string{"a", "b", "c"}},
		{"..", 3, []string{"", "", ""}},
		{"a.b", 3, nil},
		{"a.b.c.d", 3, nil},
		{"abc", 1, []string{"abc"}},
	} {
		got := make([]string, tc.n)
		ok := Exact(tc.s, ".", got)
		if ok != (tc.want != nil) || (ok && !slices.Equal(got, tc.want)) {
			t.Errorf("Exact(%q, %d) = %q, %v", tc.s, tc.n, got, ok)
		}
	}
}
