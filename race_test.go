//go:build race

package sealed_test

// raceEnabled reports whether the race detector is on. Allocation tests skip
// under it: sync.Pool drops items at random there, by design, so pooled
// paths allocate. scripts/test.sh runs them again without -race.
const raceEnabled = true
