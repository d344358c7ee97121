//go:build !unix

package bench

import "time"

// cpuTime returns -1: this platform's CPU time is not read (see
// cputime_unix_test.go).
func cpuTime() time.Duration { return -1 }
