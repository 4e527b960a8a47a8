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
// core while a file hashed whole is still hashed in order.
type chunkVerifier struct {
	c    chunking
	in   []chan piece
	wg   sync.WaitGroup
	done atomic.Int64 // bytes hashed
	mu   sync.Mutex
	err  error
	fail atomic.Bool
}

// verifierOptions adapt a chunkVerifier to where the bytes come from.
type verifierOptions struct {
	// workers is the number of goroutines; 0: one per CPU.
	workers int
	// read, when set, fills a piece that arrives without bytes (read-back):
	// each goroutine reads into its own buffer of bufSize bytes, so the
	// reads of different goroutines are in flight at once.
	read    func(b []byte, off int64, n int) error
	bufSize int
	alloc   func(n int) ([]byte, error)
	free    func([]byte)
	// release gets each piece back once hashed (returns its buffer).
	release func(piece)
	// mismatch makes the error for chunk i, bytes [from, to) of the file.
	mismatch func(i int, from, to int64) error
}

func newChunkVerifier(c chunking, opt verifierOptions) (*chunkVerifier, error) {
	n := opt.workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	n = int(min(int64(n), int64(len(c.sums))))
	v := &chunkVerifier{c: c}
	bufs := make([][]byte, n)
	if opt.read != nil {
		for i := range bufs {
			b, err := opt.alloc(opt.bufSize)
			if err != nil {
				for _, b := range bufs[:i] {
					opt.free(b)
				}
				return nil, err
			}
			bufs[i] = b
		}
	}
	for i := range n {
		in := make(chan piece, 4)
		v.in = append(v.in, in)
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			if opt.read != nil {
				defer opt.free(bufs[i])
			}
			v.work(in, bufs[i], opt)
		}()
	}
	return v, nil
}

func (v *chunkVerifier) work(in <-chan piece, buf []byte, opt verifierOptions) {
	h := sha256.New()
	for p := range in {
		if !v.fail.Load() {
			v.hash(h, &p, buf, opt)
		}
		if opt.release != nil {
			opt.release(p)
		}
	}
}

func (v *chunkVerifier) hash(h hash.Hash, p *piece, buf []byte, opt verifierOptions) {
	if p.buf == nil && opt.read != nil {
		if err := opt.read(buf, p.off, p.n); err != nil {
			v.failWith(err)
			return
		}
		p.buf = buf
	}
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
			v.failWith(opt.mismatch(i, start, end))
		}
	}
	if opt.read != nil {
		p.buf = nil
	}
}

func (v *chunkVerifier) failWith(err error) {
	v.mu.Lock()
	if v.err == nil {
		v.err = err
	}
	v.mu.Unlock()
	v.fail.Store(true)
}

// failed reports whether a chunk did not match or a read failed.
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
