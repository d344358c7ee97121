package main

import (
	"encoding/xml"
	"strings"
	"testing"
)

const sample = `# go version go1.27.3 linux/amd64
goos: linux
BenchmarkCodecs/size=small/impl=sealed-json/op=roundtrip-2   1000   5000 ns/op   338.0 cookie-chars   1320 B/op   18 allocs/op
BenchmarkCodecs/size=small/impl=sealed-json/op=roundtrip-2   1000   7000 ns/op   338.0 cookie-chars   1320 B/op   18 allocs/op
BenchmarkCodecs/size=small/impl=sealed-json/op=roundtrip-2   1000   6000 ns/op   338.0 cookie-chars   1320 B/op   18 allocs/op
BenchmarkCodecs/size=small/impl=gorilla-gob/op=roundtrip-2   100   40000 ns/op   568.0 cookie-chars   17595 B/op   249 allocs/op
BenchmarkCodecs/size=large/impl=gorilla-json/op=roundtrip-2   100   90000 ns/op   4124 cookie-chars   50289 B/op   123 allocs/op
BenchmarkOther/x-2   10   1 ns/op
BenchmarkPaired/size=small-2   10   900 ns/op   5000 ns/rt-sealed-json   4000 cpu-ns/rt-sealed-json   2000 cpu-ns/rt-json-goccy
BenchmarkPaired/size=small-2   10   900 ns/op   5000 ns/rt-sealed-json   6000 cpu-ns/rt-sealed-json   2000 cpu-ns/rt-json-goccy
PASS
`

func TestParseAndRender(t *testing.T) {
	data, order, goVersion, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "sealed-json,gorilla-gob,gorilla-json,json-goccy" {
		t.Fatalf("order = %v", order)
	}
	d := data[key{"small", "sealed-json", "roundtrip"}]
	if got := d.med("ns/op"); got != 6000 {
		t.Fatalf("median ns/op = %v, want 6000", got)
	}
	if got := d.med("allocs/op"); got != 18 {
		t.Fatalf("median allocs = %v", got)
	}
	if goVersion != "go1.27.3 linux/amd64" {
		t.Fatalf("goVersion = %q", goVersion)
	}
	svg := render(data, order, goVersion)
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("SVG is not well-formed XML: %v", err)
	}
	for _, want := range []string{">sealed-json</text>", ">40.0 µs</text>", "4096: browser limit per cookie", ">go1.27.3 linux/amd64</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	var md strings.Builder
	printTables(&md, data, order)
	if !strings.Contains(md.String(), "| sealed-json | 338 | NaN | NaN | 6.00 | 1320 | 18 | 6.7x |") {
		t.Errorf("table:\n%s", md.String())
	}
	// BenchmarkPaired's CPU times: medians, and over sealed-json's.
	if !strings.Contains(md.String(), "| json-goccy | 2.00 | 0.40x | | |") {
		t.Errorf("paired table:\n%s", md.String())
	}
}

func TestMedianEven(t *testing.T) {
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Fatalf("median = %v, want 2.5", m)
	}
}
