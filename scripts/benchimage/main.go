// Command benchimage writes the benchmark's test images: "random" (1 GiB of
// pseudo-random bytes) or "installer" (the same size, 60% zeros in long runs
// between random stretches, like an installer ISO).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	kind := flag.String("kind", "random", "random or installer")
	size := flag.Int64("size", 1<<30, "bytes")
	out := flag.String("out", "", "output file")
	flag.Parse()
	if *out == "" || (*kind != "random" && *kind != "installer") {
		fmt.Fprintln(os.Stderr, "usage: benchimage -kind random|installer -size N -out FILE")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(42, 42))
	buf := make([]byte, 1<<20)
	zero := make([]byte, 1<<20)
	for done := int64(0); done < *size; {
		// Random stretches of 1-8 MiB; in installer images each is followed by
		// a zero run 1.5x as long on average, giving ~60% zeros.
		n := int64(1+r.IntN(8)) << 20
		for i := int64(0); i < n && done < *size; i += int64(len(buf)) {
			for j := range buf {
				buf[j] = byte(r.Uint32())
			}
			m := min(int64(len(buf)), *size-done)
			w.Write(buf[:m])
			done += m
		}
		if *kind == "installer" {
			z := n * 3 / 2
			for i := int64(0); i < z && done < *size; i += int64(len(zero)) {
				m := min(int64(len(zero)), *size-done)
				w.Write(zero[:m])
				done += m
			}
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
