// Command benchimage writes the benchmark's test images: "random" (1 GiB of
// pseudo-random bytes), "installer" (the same size, 60% zeros in long runs
// between random stretches, like an installer ISO) or "sparse" (a sparse
// file, about 10% data in stretches of 64 KiB to 2 MiB, holes between, like
// a disk image with a file system that is mostly empty).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	kind := flag.String("kind", "random", "random, installer or sparse")
	size := flag.Int64("size", 1<<30, "bytes")
	out := flag.String("out", "", "output file")
	flag.Parse()
	if *out == "" || (*kind != "random" && *kind != "installer" && *kind != "sparse") {
		fmt.Fprintln(os.Stderr, "usage: benchimage -kind random|installer|sparse -size N -out FILE")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *kind == "sparse" {
		if err := writeSparse(f, *size); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
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

// writeSparse writes stretches of random data at random places of a file
// of size bytes, about a tenth of it, leaving holes between.
func writeSparse(f *os.File, size int64) error {
	r := rand.New(rand.NewPCG(43, 43))
	if err := f.Truncate(size); err != nil {
		return err
	}
	buf := make([]byte, 2<<20)
	for off := int64(0); off < size; {
		n := min(int64(64<<10)*int64(1+r.IntN(32)), size-off)
		for j := range buf[:n] {
			buf[j] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(buf[:n], off); err != nil {
			return err
		}
		off += n + n*9 // a hole nine times as long
		off = (off + 4095) / 4096 * 4096
	}
	return f.Close()
}
