package images

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// TestPayloadWriteFile writes system.squashfs (with an unaligned tail) at an
// offset of a file, leaving the bytes around it alone, and catches a file
// changed after Verify by the read-back hash or its size.
func TestPayloadWriteFile(t *testing.T) {
	dir, _, pub := samplePayload(t)
	open := func() *Payload {
		t.Helper()
		p, err := OpenPayload(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		if err := p.Verify(context.Background(), VerifyOptions{Keys: []ed25519.PublicKey{pub}}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	target := filepath.Join(t.TempDir(), "disk.img")
	before := bytes.Repeat([]byte("old!"), 1<<20)
	if err := os.WriteFile(target, before, 0o644); err != nil {
		t.Fatal(err)
	}
	const off = 1 << 20
	p := open()
	var last int64
	err := p.WriteFile(context.Background(), SystemName, target, off, WriteFileOptions{Progress: func(w, v int64) { last = v }})
	sys, _ := p.Manifest.File(SystemName)
	if err != nil || last != sys.Size {
		t.Fatalf("WriteFile: %v, verified %d of %d", err, last, sys.Size)
	}
	got, _ := os.ReadFile(target)
	want, _ := os.ReadFile(filepath.Join(dir, SystemName))
	if !bytes.Equal(got[off:off+len(want)], want) || !bytes.Equal(got[:off], before[:off]) ||
		!bytes.Equal(got[off+len(want):], before[off+len(want):]) || len(got) != len(before) {
		t.Error("the target does not hold exactly the file at the offset")
	}

	injected := errors.New("injected")
	if err := p.WriteFile(context.Background(), SystemName, target, off, WriteFileOptions{
		BeforeWrite: func(int64, int) error { return injected }}); !errors.Is(err, injected) {
		t.Errorf("BeforeWrite error: %v", err)
	}
	if err := p.WriteFile(context.Background(), SystemName, target, 512+off, WriteFileOptions{}); err == nil {
		t.Error("an unaligned offset was accepted")
	}

	// Changed after Verify: the same size is caught by the read-back hash,
	// another size as the stream is read.
	sysPath := filepath.Join(dir, SystemName)
	for name, c := range map[string]struct {
		content []byte
		kind    exitcode.Kind
	}{
		"altered":   {append([]byte("X"), want[1:]...), exitcode.VerifyFailed},
		"truncated": {want[:len(want)/2], exitcode.ImageInvalid},
		"longer":    {append(bytes.Clone(want), 'x'), exitcode.ImageInvalid},
	} {
		p := open()
		if err := os.WriteFile(sysPath, c.content, 0o644); err != nil {
			t.Fatal(err)
		}
		err := p.WriteFile(context.Background(), SystemName, target, off, WriteFileOptions{})
		if err == nil || exitcode.KindOf(err) != c.kind {
			t.Errorf("%s: %v (kind %v), want kind %v", name, err, exitcode.KindOf(err), c.kind)
		}
		if err := os.WriteFile(sysPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
