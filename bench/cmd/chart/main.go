// Command chart reads the output of the codec comparison (go test -bench
// Codecs in the bench module) and writes an SVG chart of cookie length
// against round-trip time for each codec and peer, and, with -md, Markdown
// tables of the medians:
//
//	cd bench
//	go test -run '^$' -bench Codecs -count 6 -timeout 60m | tee /tmp/codecs.txt
//	go run ./cmd/chart -in /tmp/codecs.txt -svg ../docs/codecs-go1.26.svg -md
//
// Benchmark names must have the form
// BenchmarkCodecs/size=S/impl=I/op=O-P with op encode, decode or roundtrip,
// and report ns/op, B/op, allocs/op and cookie-chars.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const usage = `usage: chart -in bench.txt [-svg out.svg] [-md]

Reads go test -bench output of BenchmarkCodecs and writes an SVG of cookie
length against round-trip time (medians), and Markdown tables with -md.
`

type key struct{ size, impl, op string }

// samples holds every value of every unit for one benchmark.
type samples map[string][]float64

func main() {
	log.SetFlags(0)
	in := flag.String("in", "", "benchmark output to read (- for stdin)")
	svgOut := flag.String("svg", "", "SVG file to write")
	md := flag.Bool("md", false, "print Markdown tables of the medians")
	flag.Usage = func() { fmt.Fprint(os.Stderr, usage); flag.PrintDefaults() }
	flag.Parse()
	if *in == "" {
		flag.Usage()
		os.Exit(2)
	}
	r := io.Reader(os.Stdin)
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		r = f
	}
	data, order, goVersion, err := parse(r)
	if err != nil {
		log.Fatal(err)
	}
	if len(data) == 0 {
		log.Fatal("chart: no BenchmarkCodecs results in the input")
	}
	if *svgOut != "" {
		if err := os.WriteFile(*svgOut, []byte(render(data, order, goVersion)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *md {
		printTables(os.Stdout, data, order)
	}
}

// parse reads benchmark lines; order lists the implementations in the
// order they first appear, and goVersion is what a "# go version ..." line
// (which bench/codecs.sh writes) says, or "".
func parse(r io.Reader) (data map[key]samples, order []string, goVersion string, err error) {
	data = map[key]samples{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# go version "); ok {
			goVersion = v
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && strings.HasPrefix(f[0], "BenchmarkPaired/size=") {
			for _, impl := range parsePaired(data, f) {
				if !slices.Contains(order, impl) {
					order = append(order, impl)
				}
			}
			continue
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkCodecs/") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		var k key
		for _, part := range strings.Split(name, "/")[1:] {
			name, val, _ := strings.Cut(part, "=")
			switch name {
			case "size":
				k.size = val
			case "impl":
				k.impl = val
			case "op":
				k.op = val
			}
		}
		if k.size == "" || k.impl == "" || k.op == "" {
			continue
		}
		if !slices.Contains(order, k.impl) {
			order = append(order, k.impl)
		}
		if data[k] == nil {
			data[k] = samples{}
		}
		for i := 2; i+1 < len(f); i += 2 { // f[1] is the iteration count
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, "", fmt.Errorf("chart: %q: %v", sc.Text(), err)
			}
			data[k][f[i+1]] = append(data[k][f[i+1]], v)
		}
	}
	return data, order, goVersion, sc.Err()
}

// parsePaired records the CPU time per round trip (cpu-ns/rt-IMPL) of each
// contender in a BenchmarkPaired line, under op "paired-cpu", and returns
// the contenders.
func parsePaired(data map[key]samples, f []string) (impls []string) {
	size, _, _ := strings.Cut(strings.TrimPrefix(f[0], "BenchmarkPaired/size="), "-")
	for i := 2; i+1 < len(f); i += 2 {
		impl, ok := strings.CutPrefix(f[i+1], "cpu-ns/rt-")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		k := key{size, impl, "paired-cpu"}
		if data[k] == nil {
			data[k] = samples{}
		}
		data[k]["ns"] = append(data[k]["ns"], v)
		impls = append(impls, impl)
	}
	return impls
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func (d samples) med(unit string) float64 { return median(d[unit]) }

// printPaired prints the medians of BenchmarkPaired's CPU time per round
// trip, and each over sealed-json's.
func printPaired(w io.Writer, data map[key]samples, order []string) {
	ref := func(size string) float64 { return data[key{size, "sealed-json", "paired-cpu"}].med("ns") }
	if math.IsNaN(ref("small")) {
		return
	}
	fmt.Fprintln(w, "\npaired round trips, process CPU time (medians):")
	fmt.Fprintln(w, "\n| contender | small µs | vs sealed-json | large µs | vs sealed-json |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	cell := func(size, impl string) string {
		d := data[key{size, impl, "paired-cpu"}]
		if d == nil {
			return "| | "
		}
		return fmt.Sprintf("| %.2f | %.2fx ", d.med("ns")/1e3, d.med("ns")/ref(size))
	}
	for _, impl := range order {
		if data[key{"small", impl, "paired-cpu"}] == nil && data[key{"large", impl, "paired-cpu"}] == nil {
			continue
		}
		fmt.Fprintf(w, "| %s %s%s|\n", impl, cell("small", impl), cell("large", impl))
	}
}

func printTables(w io.Writer, data map[key]samples, order []string) {
	defer printPaired(w, data, order)
	for _, size := range []string{"small", "large"} {
		ref := func(impl string) float64 { return data[key{size, impl, "roundtrip"}].med("ns/op") }
		gob, flr := ref("gorilla-gob"), ref("floor")
		fmt.Fprintf(w, "\n%s session (medians):\n\n", size)
		fmt.Fprintln(w, "| codec | cookie chars | encode µs | decode µs | round trip µs | round trip B | round trip allocs | vs gorilla gob | vs floor |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, impl := range order {
			rt := data[key{size, impl, "roundtrip"}]
			if rt == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %.2f | %.0f | %.0f | %.1fx | %.2fx |\n", impl, rt.med("cookie-chars"),
				data[key{size, impl, "encode"}].med("ns/op")/1e3, data[key{size, impl, "decode"}].med("ns/op")/1e3,
				rt.med("ns/op")/1e3, rt.med("B/op"), rt.med("allocs/op"), gob/rt.med("ns/op"), rt.med("ns/op")/flr)
		}
	}
}

// Chart geometry: two panels side by side (log-scale time, linear length),
// each with its legend below it.
const (
	width, height = 1000, 680
	panelW        = 400
	top, bottom   = 80, 400
	leftPad       = 80
	legendTop     = bottom + 50
)

var colors = map[string]string{
	"sealed-json": "#1f77b4", "sealed-json-deflate": "#17becf", "sealed-gob": "#9467bd",
	"sealed-binary": "#2ca02c", "sealed-cbor": "#8c564b", "sealed-msgpack": "#bcbd22",
	"gorilla-gob": "#d62728", "gorilla-json": "#ff7f0e", "jose-jwe": "#e377c2", "floor": "#7f7f7f",
	"json-v2": "#6baed6", "json-goccy": "#393b79", "json-segmentio": "#637939", "json-sonic": "#843c39",
}

// marker draws this package's codecs as circles, other JSON libraries
// sealed by this package (json-...) as triangles, peers as squares and the
// floor as a diamond.
func marker(b *strings.Builder, impl string, x, y float64) {
	c := colors[impl]
	if c == "" {
		c = "#000"
	}
	switch {
	case strings.HasPrefix(impl, "sealed-"):
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="5.5" fill="%s"/>`, x, y, c)
	case strings.HasPrefix(impl, "json-"):
		fmt.Fprintf(b, `<path d="M%.1f %.1fl6 10.4h-12z" fill="%s"/>`, x, y-6.4, c)
	case impl == "floor":
		fmt.Fprintf(b, `<path d="M%.1f %.1fl6 6l-6 6l-6 -6z" fill="%s"/>`, x, y-6, c)
	default:
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, x-5, y-5, c)
	}
}

func render(data map[key]samples, order []string, goVersion string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" text-anchor="middle">Session cookie length vs round-trip time (encode + decode), medians</text>`+"\n", width/2)
	title := "lower left is better. ● sealed codecs   ▲ other JSON libraries, sealed alike   ■ other Go packages   ◆ floor: JSON + XChaCha20-Poly1305 + base64url, no envelope"
	fmt.Fprintf(&b, `<text x="%d" y="44" fill="#555" text-anchor="middle">%s</text>`+"\n", width/2, title)
	if goVersion != "" {
		fmt.Fprintf(&b, `<text x="%d" y="62" fill="#555" text-anchor="middle">%s</text>`+"\n", width/2, html.EscapeString(goVersion))
	}
	for i, size := range []string{"small", "large"} {
		panel(&b, data, order, size, leftPad+i*(panelW+leftPad+20))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func panel(b *strings.Builder, data map[key]samples, order []string, size string, x0 int) {
	type pt struct {
		impl  string
		t, ln float64
	}
	var pts []pt
	tMin, tMax, lMax := math.Inf(1), 0.0, 0.0
	for _, impl := range order {
		d := data[key{size, impl, "roundtrip"}]
		if d == nil {
			continue
		}
		p := pt{impl, d.med("ns/op") / 1e3, d.med("cookie-chars")}
		pts = append(pts, p)
		tMin, tMax, lMax = math.Min(tMin, p.t), math.Max(tMax, p.t), math.Max(lMax, p.ln)
	}
	if len(pts) == 0 {
		return
	}
	// Log axis over whole 1-2-5 steps around the data.
	lo, hi := niceBelow(tMin), niceAbove(tMax)
	yMax := math.Ceil(lMax*1.15/100) * 100
	if lMax > 3000 {
		yMax = math.Ceil(math.Max(lMax, 4096)*1.08/500) * 500
	}
	px := func(t float64) float64 {
		return float64(x0) + (math.Log10(t)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*panelW
	}
	py := func(l float64) float64 { return bottom - l/yMax*(bottom-top) }

	fmt.Fprintf(b, `<g><text x="%d" y="%d" font-size="14" text-anchor="middle">%s session</text>`+"\n", x0+panelW/2, top-10, size)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0, top, panelW, bottom-top)
	for d := math.Pow(10, math.Floor(math.Log10(lo))); d <= hi*1.0001; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := d * m; v >= lo*0.9999 && v <= hi*1.0001 {
				x := px(v)
				fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle" fill="#555">%g</text>`+"\n", x, top, x, bottom, x, bottom+16, v)
			}
		}
	}
	for i := 0; i <= 5; i++ {
		l := yMax * float64(i) / 5
		y := py(l)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end" fill="#555">%.0f</text>`+"\n", x0, y, x0+panelW, y, x0-5, y+4, l)
	}
	if yMax >= 4096 {
		y := py(4096)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d62728" stroke-dasharray="4 3"/><text x="%d" y="%.1f" fill="#d62728">4096: browser limit per cookie</text>`+"\n", x0, y, x0+panelW, y, x0+6, y-5)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">round trip, µs (log scale)</text>`+"\n", x0+panelW/2, bottom+34)
	fmt.Fprintf(b, `<text transform="translate(%d,%d) rotate(-90)" text-anchor="middle">cookie length, characters</text>`+"\n", x0-52, (top+bottom)/2)
	for _, p := range pts {
		marker(b, p.impl, px(p.t), py(p.ln))
		b.WriteString("\n")
	}
	// The legend, in the order of the data: marker, name, numbers.
	for i, p := range pts {
		y := float64(legendTop + i*15)
		marker(b, p.impl, float64(x0+6), y-4)
		fmt.Fprintf(b, `<text x="%d" y="%.0f">%s</text><text x="%d" y="%.0f" text-anchor="end" fill="#555">%.1f µs</text><text x="%d" y="%.0f" text-anchor="end" fill="#555">%.0f chars</text>`+"\n",
			x0+18, y, html.EscapeString(p.impl), x0+280, y, p.t, x0+panelW, y, p.ln)
	}
	b.WriteString("</g>\n")
}

// niceBelow and niceAbove round to the 1-2-5 steps of a log axis.
func niceBelow(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if d*m <= v {
			return d * m
		}
	}
	return d
}

func niceAbove(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if d*m >= v {
			return d * m
		}
	}
	return d * 10
}
