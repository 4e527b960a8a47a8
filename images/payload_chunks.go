package images

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"runtime"
	"sync"
	"sync/atomic"
)

// ChunkSize is the chunk size osc image sign hashes files larger than one
// chunk in (ManifestFile.Chunks).
const ChunkSize = 4 << 20

// readBlock is the largest piece a payload file is read and hashed in.
const readBlock = 4 << 20

// chunking is how a file is checked: the SHA-256 of every chunk of size
// bytes, or, for a file without chunk hashes (format 1, or one chunk), of
// the whole file as a single chunk.
type chunking struct {
	file ManifestFile
	size int64 // chunk size
	sums [][sha256.Size]byte
}

// chunkingOf reads the chunk hashes of a validated manifest entry.
func chunkingOf(f ManifestFile) chunking {
	c := chunking{file: f, size: max(f.Size, 1)}
	hexes := []string{f.SHA256}
	if f.Chunks != nil {
		c.size, hexes = f.Chunks.Size, f.Chunks.SHA256
	}
	for _, h := range hexes {
		var sum [sha256.Size]byte
		hex.Decode(sum[:], []byte(h)) // validated by the manifest parser
		c.sums = append(c.sums, sum)
	}
	return c
}

// block is the read unit: a whole chunk or readBlock bytes of one (chunk
// sizes are powers of two, or the file is one chunk), so no block spans two
// chunks.
func (c chunking) block() int64 { return min(c.size, readBlock) }

// piece is one block of a file: its bytes (buf[:n]) at offset off.
type piece struct {
	buf []byte
	off int64
	n   int
}

// chunkVerifier hashes the blocks of a file on several goroutines: all
// blocks of one chunk go, in order, to the same goroutine, and consecutive
// chunks to different ones, so a file with chunk hashes is checked by every
// core while a file hashed whole is still hashed in order. Whoever reads
// the file feeds it the blocks in order and gets each buffer back through
// release once hashed.
type chunkVerifier struct {
	c    chunking
	in   []chan piece
	wg   sync.WaitGroup
	done atomic.Int64 // bytes hashed
	mu   sync.Mutex
	err  error
	fail atomic.Bool
}

// newChunkVerifier starts one goroutine per CPU (at most one per chunk).
// release gets each piece back once hashed; mismatch makes the error for
// chunk i, bytes [from, to) of the file.
func newChunkVerifier(c chunking, release func(piece), mismatch func(i int, from, to int64) error) *chunkVerifier {
	n := int(min(int64(runtime.GOMAXPROCS(0)), int64(len(c.sums))))
	v := &chunkVerifier{c: c}
	for range n {
		in := make(chan piece, 4)
		v.in = append(v.in, in)
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			h := sha256.New()
			for p := range in {
				if !v.fail.Load() {
					v.hash(h, p, mismatch)
				}
				release(p)
			}
		}()
	}
	return v
}

func (v *chunkVerifier) hash(h hash.Hash, p piece, mismatch func(i int, from, to int64) error) {
	i := int(p.off / v.c.size)
	start := int64(i) * v.c.size
	if p.off == start {
		h.Reset()
	}
	h.Write(p.buf[:p.n])
	v.done.Add(int64(p.n))
	if end := min(start+v.c.size, v.c.file.Size); p.off+int64(p.n) == end {
		var sum [sha256.Size]byte
		if h.Sum(sum[:0]); sum != v.c.sums[i] {
			v.failWith(mismatch(i, start, end))
		}
	}
}

// failWith records the first failure; the goroutines then only release.
func (v *chunkVerifier) failWith(err error) {
	v.mu.Lock()
	if v.err == nil {
		v.err = err
	}
	v.mu.Unlock()
	v.fail.Store(true)
}

// failed reports whether a chunk did not match (or failWith was called).
func (v *chunkVerifier) failed() bool { return v.fail.Load() }

// feed passes the next piece (in file order) to its goroutine.
func (v *chunkVerifier) feed(p piece) {
	v.in[int(p.off/v.c.size)%len(v.in)] <- p
}

// wait lets every goroutine finish and returns the first failure.
func (v *chunkVerifier) wait() error {
	for _, in := range v.in {
		close(in)
	}
	v.wg.Wait()
	return v.err
}
