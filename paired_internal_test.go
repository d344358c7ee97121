package sealed

import (
	"testing"
	"time"
)

// PairedRun runs a benchmark of two implementations side by side: each
// iteration runs a batch of the first, then a batch of the second, so a
// burst of load from other jobs on this shared machine falls on both. It
// reports each one's mean time per operation as "ns/op-<a>" and "ns/op-<b>"
// and their ratio as "x-<b>-vs-<a>", whose spread is far tighter than the
// absolute times'. It is exported for the package's external benchmarks.
func PairedRun(b *testing.B, a, bname string, fa, fb func()) {
	const batch = 16
	var ta, tb time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for range batch {
			fa()
		}
		mid := time.Now()
		for range batch {
			fb()
		}
		ta += mid.Sub(start)
		tb += time.Since(mid)
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(ta.Nanoseconds())/n, "ns/op-"+a)
	b.ReportMetric(float64(tb.Nanoseconds())/n, "ns/op-"+bname)
	b.ReportMetric(float64(tb)/float64(ta), "x-"+bname+"-vs-"+a)
}
