//go:build !race

package sealed_test

const raceEnabled = false
