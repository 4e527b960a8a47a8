package images

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// chunkedPayload signs a payload whose system.squashfs spans three chunks,
// the last one short.
func chunkedPayload(t *testing.T) (dir string, pub ed25519.PublicKey, system []byte) {
	t.Helper()
	system = make([]byte, 2*ChunkSize+12345)
	rand.Read(system)
	dir, _, pub = samplePayloadWith(t, string(system))
	return dir, pub, system
}

func TestSignWritesChunks(t *testing.T) {
	dir, pub, system := chunkedPayload(t)
	p, err := OpenPayload(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Manifest.Format != ManifestFormat {
		t.Errorf("format %d", p.Manifest.Format)
	}
	sys, _ := p.Manifest.File(SystemName)
	if sys.Chunks == nil || sys.Chunks.Size != ChunkSize || len(sys.Chunks.SHA256) != 3 {
		t.Fatalf("chunks %+v", sys.Chunks)
	}
	for i, want := range sys.Chunks.SHA256 {
		got := sha256.Sum256(system[i*ChunkSize : min((i+1)*ChunkSize, len(system))])
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("chunk %d hash", i)
		}
	}
	if k, _ := p.Manifest.File(KernelName); k.Chunks != nil {
		t.Error("a one-chunk file got chunk hashes")
	}
	if err := p.Verify(context.Background(), VerifyOptions{Keys: []ed25519.PublicKey{pub}}); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyChunked: a byte changed in any chunk, a truncated or a longer
// file are refused before anything is written.
func TestVerifyChunked(t *testing.T) {
	dir, pub, system := chunkedPayload(t)
	sysPath := filepath.Join(dir, SystemName)
	for name, content := range map[string][]byte{
		"first chunk": flip(system, 10),
		"mid chunk":   flip(system, ChunkSize+77),
		"last byte":   flip(system, len(system)-1),
		"truncated":   system[:2*ChunkSize],
		"longer":      append(append([]byte(nil), system...), 0),
	} {
		if err := os.WriteFile(sysPath, content, 0o644); err != nil {
			t.Fatal(err)
		}
		err := verifyPayload(dir, []ed25519.PublicKey{pub}, false)
		if exitcode.KindOf(err) != exitcode.ImageInvalid {
			t.Errorf("%s: %v (kind %v), want image-invalid", name, err, exitcode.KindOf(err))
		}
	}
}

func flip(b []byte, at int) []byte {
	c := append([]byte(nil), b...)
	c[at] ^= 0x40
	return c
}

// TestVerifyFormat1 keeps payloads signed before chunk hashes readable: a
// format 1 manifest (one SHA-256 per file) verifies, and a byte changed in
// a large file is still caught.
func TestVerifyFormat1(t *testing.T) {
	dir, prefix, pub := samplePayloadWith(t, strings.Repeat("x", 2*ChunkSize+5))
	p, err := OpenPayload(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Manifest
	p.Close()
	m.Format = 1
	for i := range m.Files {
		m.Files[i].Chunks = nil
	}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "chunks") {
		t.Fatal("format 1 manifest with chunks")
	}
	priv, err := LoadPrivateKey(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ManifestName), raw, 0o644)
	os.WriteFile(filepath.Join(dir, SignatureName), SignManifest(priv, raw), 0o644)
	if err := verifyPayload(dir, []ed25519.PublicKey{pub}, false); err != nil {
		t.Fatalf("format 1: %v", err)
	}
	os.WriteFile(filepath.Join(dir, SystemName), []byte(strings.Repeat("x", ChunkSize)+"y"+strings.Repeat("x", ChunkSize+4)), 0o644)
	if err := verifyPayload(dir, []ed25519.PublicKey{pub}, false); exitcode.KindOf(err) != exitcode.ImageInvalid {
		t.Errorf("format 1, altered: %v", err)
	}
}

func TestManifestChunkRefusals(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	chunked := func(format int, size int64, n int, fileSize int64) string {
		hs := make([]string, n)
		for i := range hs {
			hs[i] = `"` + sum + `"`
		}
		return strings.NewReplacer(`"format": 1`, `"format": `+itoa(int64(format)),
			`{"path": "system.squashfs", "size": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`,
			`{"path": "system.squashfs", "size": `+itoa(fileSize)+`, "sha256": "`+sum+`", "chunks": {"size": `+itoa(size)+`, "sha256": [`+strings.Join(hs, ",")+`]}}`,
		).Replace(validManifest)
	}
	if _, err := ParseManifest([]byte(chunked(2, 1<<20, 3, 3<<20-1))); err != nil {
		t.Fatalf("valid chunked manifest: %v", err)
	}
	for name, m := range map[string]string{
		"format 1":       chunked(1, 1<<20, 3, 3<<20-1),
		"count":          chunked(2, 1<<20, 2, 3<<20-1),
		"not power of 2": chunked(2, 3<<20, 1, 3<<20-1),
		"too small":      chunked(2, 4096, 768, 3<<20),
		"one chunk":      chunked(2, 4<<20, 1, 3<<20),
	} {
		if _, err := ParseManifest([]byte(m)); exitcode.KindOf(err) != exitcode.ImageInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// verifiedChunkedPayload opens and verifies a chunkedPayload.
func verifiedChunkedPayload(t *testing.T) (p *Payload, dir string, system []byte) {
	t.Helper()
	var pub ed25519.PublicKey
	dir, pub, system = chunkedPayload(t)
	p, err := OpenPayload(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if err := p.Verify(context.Background(), VerifyOptions{Keys: []ed25519.PublicKey{pub}}); err != nil {
		t.Fatal(err)
	}
	return p, dir, system
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestWriteFileChunked writes a chunked file and reads it back chunk by
// chunk; a chunk changed after Verify is caught by the read-back and named.
func TestWriteFileChunked(t *testing.T) {
	p, dir, system := verifiedChunkedPayload(t)
	target := filepath.Join(t.TempDir(), "disk.img")
	const off = 1 << 20
	if err := p.WriteFile(context.Background(), SystemName, target, off, WriteFileOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(target)
	if len(got) != off+len(system) || string(got[off:]) != string(system) {
		t.Fatal("target does not hold the file")
	}
	os.WriteFile(filepath.Join(dir, SystemName), flip(system, ChunkSize+1), 0o644)
	err := p.WriteFile(context.Background(), SystemName, target, off, WriteFileOptions{})
	if exitcode.KindOf(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), "bytes 4194304 to 8388608") {
		t.Errorf("changed after Verify: %v", err)
	}
}

// TestWriteFileStopsAtFirstBadChunk: a difference found early stops the
// write (it does not hang or go on to the end).
func TestWriteFileStopsAtFirstBadChunk(t *testing.T) {
	system := make([]byte, 40*ChunkSize)
	rand.Read(system)
	dir, _, pub := samplePayloadWith(t, string(system))
	p, err := OpenPayload(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Verify(context.Background(), VerifyOptions{Keys: []ed25519.PublicKey{pub}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, SystemName), flip(system, 1), 0o644)
	var last int64
	err = p.WriteFile(context.Background(), SystemName, filepath.Join(t.TempDir(), "disk.img"), 0,
		WriteFileOptions{Progress: func(w, _ int64) { last = w }})
	if exitcode.KindOf(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), "bytes 0 to 4194304") {
		t.Errorf("first chunk changed: %v", err)
	}
	t.Logf("stopped after writing %d of %d bytes", last, len(system))
}

// TestWriteFileWhileVerifying: the overlapping work runs once the file is
// written (the target may be opened by others then) and its error is
// WriteFile's.
func TestWriteFileWhileVerifying(t *testing.T) {
	p, _, system := verifiedChunkedPayload(t)
	target := filepath.Join(t.TempDir(), "disk.img")
	var written int64
	err := p.WriteFile(context.Background(), SystemName, target, 0, WriteFileOptions{
		Progress: func(w, _ int64) { written = max(written, w) },
		WhileVerifying: func() error {
			if written != int64(len(system)) {
				t.Errorf("ran after %d of %d bytes", written, len(system))
			}
			f, err := os.OpenFile(target, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("other partition"), int64(len(system))+4096)
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("mkfs failed")
	err = p.WriteFile(context.Background(), SystemName, target, 0, WriteFileOptions{WhileVerifying: func() error { return boom }})
	if !errors.Is(err, boom) {
		t.Errorf("the overlapping work's error: %v", err)
	}
}
