//go:build go1.27 && goexperiment.jsonv2

package sealed_test

import (
	jsonv1 "encoding/json"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"testing"
	"time"
)

// BenchmarkJSONv2Options decodes the small and the large session with
// jsonv2.Unmarshal and json.Unmarshal's options (DefaultOptionsV1), each
// option in turn changed to v2's default, and with v2's defaults, in
// alternating batches: x-VARIANT is the variant's time over
// DefaultOptionsV1's. It shows where json.Unmarshal's cost on Go 1.27 goes
// (codec_jsonv2.go acts on it):
//
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench JSONv2Options -count 8 . | tee /tmp/opts.txt
//	benchstat /tmp/opts.txt
func BenchmarkJSONv2Options(b *testing.B) {
	small, large := newBenchSession(), newBenchLarge()
	b.Run("size=small", func(b *testing.B) { jsonv2Options(b, &small) })
	b.Run("size=large", func(b *testing.B) { jsonv2Options(b, &large) })
}

func jsonv2Options[T any](b *testing.B, v *T) {
	enc, err := jsonv1.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	v1 := jsonv1.DefaultOptionsV1()
	variants := []struct {
		name string
		opts jsonv2.Options
	}{
		{"v1", v1},
		{"no-legacy-errors", jsonv2.JoinOptions(v1, jsonv1.ReportErrorsWithLegacySemantics(false))},
		{"case-sensitive", jsonv2.JoinOptions(v1, jsonv2.MatchCaseInsensitiveNames(false))},
		{"reject-duplicates", jsonv2.JoinOptions(v1, jsontext.AllowDuplicateNames(false))},
		{"strict-utf8", jsonv2.JoinOptions(v1, jsontext.AllowInvalidUTF8(false))},
		{"strict-time", jsonv2.JoinOptions(v1, jsonv1.ParseTimeWithLooseRFC3339(false))},
		{"v2-merge", jsonv2.JoinOptions(v1, jsonv1.MergeWithLegacySemantics(false))},
		{"v2-defaults", jsonv2.DefaultOptionsV2()},
	}
	total := make([]time.Duration, len(variants))
	for b.Loop() {
		for i, vr := range variants {
			start := time.Now()
			for range 16 {
				var out T
				if err := jsonv2.Unmarshal(enc, &out, vr.opts); err != nil {
					b.Fatal(err)
				}
			}
			total[i] += time.Since(start)
		}
	}
	for i, vr := range variants[1:] {
		b.ReportMetric(float64(total[i+1])/float64(total[0]), "x-"+vr.name)
	}
}
