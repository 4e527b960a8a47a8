package images

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/onramp-os/onramp/internal/inputfile"
)

// Payload is what the installer installs: a manifest, its signature and the
// files it lists, read from a directory or from the onramp/ folder of an
// installer ISO. Open it with OpenPayload, check it with Verify before the
// first write, and read files through Open, which checks them again.
type Payload struct {
	Origin   string // the directory or ISO it was read from
	Manifest *Manifest
	Raw      []byte // manifest.json as signed
	sig      []byte // manifest.sig; nil when absent
	fsys     fs.FS
	closer   io.Closer
	// SignedBy is the ID of the key that verified the signature; empty when
	// unsigned and tolerated.
	SignedBy string
}

// VerifyOptions say whom to trust and how verification reports progress.
type VerifyOptions struct {
	Keys []ed25519.PublicKey
	// AllowUnsigned tolerates a missing manifest.sig, never a bad one.
	AllowUnsigned bool
	// Progress, when set, is called with bytes hashed so far of total.
	Progress func(done, total int64)
}

// OpenPayload opens a payload directory, or an ISO holding one in onramp/,
// and parses its manifest. Nothing is trusted until Verify succeeds.
func OpenPayload(path string) (*Payload, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, invalid("payload %s: %v", path, err)
	}
	p := &Payload{Origin: path}
	if fi.IsDir() {
		p.fsys = payloadDir(path)
	} else {
		iso, err := openISOPayload(path)
		if err != nil {
			return nil, err
		}
		p.fsys, p.closer = iso, iso
	}
	if err := p.readManifest(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Payload) readManifest() error {
	raw, err := readLimited(p.fsys, ManifestName, maxManifestSize)
	if err != nil {
		return invalid("payload %s: %v", p.Origin, err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return fmt.Errorf("payload %s: %w", p.Origin, err)
	}
	p.Raw, p.Manifest = raw, m
	sig, err := readLimited(p.fsys, SignatureName, 4096)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return invalid("payload %s: %v", p.Origin, err)
	default:
		p.sig = sig
	}
	return nil
}

func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return inputfile.ReadLimited(f, name, limit)
}

// payloadDir is a payload directory as a file system whose files are
// opened as inputfile.Open does: a FIFO or a device in place of
// manifest.json or initrd.img is refused at once, never waited on.
type payloadDir string

func (d payloadDir) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := inputfile.Open(filepath.Join(string(d), filepath.FromSlash(name)), inputfile.Directories)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Signed reports whether the payload carries a signature file.
func (p *Payload) Signed() bool { return p.sig != nil }

// Close releases the ISO behind the payload, if any.
func (p *Payload) Close() error {
	if p.closer != nil {
		return p.closer.Close()
	}
	return nil
}

// Verify checks the signature and then the size and SHA-256 of every file.
// Every failure is ImageInvalid (exit 5); nothing has been written yet.
func (p *Payload) Verify(ctx context.Context, opt VerifyOptions) error {
	switch {
	case p.sig != nil:
		id, err := CheckSignature(p.Raw, p.sig, opt.Keys)
		if err != nil {
			return fmt.Errorf("payload %s: %w", p.Origin, err)
		}
		p.SignedBy = id
	case !opt.AllowUnsigned:
		return invalid("payload %s is not signed (no %s); use --insecure-skip-signature only for payloads you built yourself", p.Origin, SignatureName)
	}
	var total int64
	for _, f := range p.Manifest.Files {
		total += f.Size
	}
	var done int64
	for _, f := range p.Manifest.Files {
		if err := p.verifyFile(ctx, f, func(n int64) {
			done += n
			if opt.Progress != nil {
				opt.Progress(done, total)
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// verifyFile reads f once, in large blocks (the kernel told to read ahead),
// and checks size and SHA-256 per chunk on every core. The file stays in
// the page cache for the write that follows.
func (p *Payload) verifyFile(ctx context.Context, mf ManifestFile, progress func(n int64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := p.fsys.Open(mf.Path)
	if err != nil {
		return invalid("payload %s: %s: %v", p.Origin, mf.Path, err)
	}
	defer f.Close()
	if osf, ok := f.(*os.File); ok {
		adviseSequential(osf)
	}
	c := chunkingOf(mf)
	pool := make(chan []byte, runtime.GOMAXPROCS(0)+2)
	for range cap(pool) {
		pool <- make([]byte, c.block())
	}
	v := newChunkVerifier(c, func(pc piece) { pool <- pc.buf }, func(_ int, from, to int64) error {
		return invalid("payload %s: SHA-256 of %s (bytes %d to %d) differs from the manifest (altered or damaged)", p.Origin, mf.Path, from, to)
	})
	var off int64
	rerr := func() error {
		for !v.failed() {
			if err := ctx.Err(); err != nil {
				return err
			}
			b := <-pool
			n, err := io.ReadFull(f, b)
			if off+int64(n) > mf.Size {
				pool <- b
				return invalid("payload %s: %s is larger than the %d bytes in the manifest", p.Origin, mf.Path, mf.Size)
			}
			if n > 0 {
				v.feed(piece{buf: b, off: off, n: n})
				off += int64(n)
				progress(int64(n))
			} else {
				pool <- b
			}
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				if off != mf.Size {
					return invalid("payload %s: %s has %d bytes, the manifest says %d (truncated?)", p.Origin, mf.Path, off, mf.Size)
				}
				return nil
			case err != nil:
				return invalid("payload %s: read %s: %v", p.Origin, mf.Path, err)
			}
		}
		return nil
	}()
	if verr := v.wait(); rerr == nil {
		rerr = verr
	}
	if rerr == nil && mf.Size == 0 && sha256.Sum256(nil) != c.sums[0] {
		return invalid("payload %s: SHA-256 of the empty %s differs from the manifest", p.Origin, mf.Path)
	}
	return rerr
}

// Open returns a reader of the payload file name that fails at its end
// unless size and SHA-256 match the manifest: installing reads every file
// through it, so a file changed after Verify is still caught.
func (p *Payload) Open(name string) (io.ReadCloser, error) {
	mf, ok := p.Manifest.File(name)
	if !ok {
		return nil, invalid("payload %s: %s is not in the manifest", p.Origin, name)
	}
	f, err := p.fsys.Open(name)
	if err != nil {
		return nil, invalid("payload %s: %s: %v", p.Origin, name, err)
	}
	return &checkedReader{f: f, want: mf, h: sha256.New(), origin: p.Origin}, nil
}

// checkedReader hashes what it passes on and checks size and hash at EOF.
type checkedReader struct {
	f      fs.File
	want   ManifestFile
	h      hash.Hash
	n      int64
	origin string
}

func (c *checkedReader) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	c.h.Write(b[:n])
	c.n += int64(n)
	if c.n > c.want.Size {
		return n, invalid("payload %s: %s is larger than the %d bytes in the manifest", c.origin, c.want.Path, c.want.Size)
	}
	if err == io.EOF {
		if c.n != c.want.Size {
			return n, invalid("payload %s: %s has %d bytes, the manifest says %d (truncated?)", c.origin, c.want.Path, c.n, c.want.Size)
		}
		if got := hex.EncodeToString(c.h.Sum(nil)); got != c.want.SHA256 {
			return n, invalid("payload %s: SHA-256 of %s is %s, the manifest says %s (altered or damaged)", c.origin, c.want.Path, got, c.want.SHA256)
		}
	} else if err != nil {
		return n, invalid("payload %s: read %s: %v", c.origin, c.want.Path, err)
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.f.Close() }

// EULAText returns the EULA for lang (see Manifest.EULAFor), checked
// against the manifest.
func (p *Payload) EULAText(lang string) (language, text string, err error) {
	language, file := p.Manifest.EULAFor(lang)
	r, err := p.Open(file)
	if err != nil {
		return "", "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", err
	}
	return language, string(b), nil
}
