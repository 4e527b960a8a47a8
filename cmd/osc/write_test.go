package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

type runResult struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, ctx context.Context, stdin string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(ctx, strings.NewReader(stdin), &out, &errb, args)
	return runResult{code, out.String(), errb.String()}
}

func sampleImage(t *testing.T, dir string, n int) (string, []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 9))
	b := make([]byte, n)
	for i := 0; i < n/2; i++ {
		b[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, "osc-12.5.0.iso")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"write"}, {"write", "x.iso"}, {"--bogus"}, {"drives", "extra"}, {"frobnicate"}} {
		if r := run(t, context.Background(), "", args...); r.code != 2 {
			t.Errorf("osc %v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 1<<20)
	if r := run(t, context.Background(), "", "write", "--yes", img, filepath.Join(dir, "a"), filepath.Join(dir, "a")); r.code != 2 {
		t.Errorf("duplicate target: exit %d, want 2", r.code)
	}
}

// TestWriteJSON checks the event schema scripts rely on.
func TestWriteJSON(t *testing.T) {
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 6<<20+100)
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	r := run(t, context.Background(), "", "write", "--yes", "--json", img, a, b)
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	done := map[string]bool{}
	sawProgress := false
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		switch e["event"] {
		case "progress":
			sawProgress = true
			for _, k := range []string{"target", "phase", "bytes", "total", "rate"} {
				if _, ok := e[k]; !ok {
					t.Errorf("progress event without %q: %s", k, line)
				}
			}
		case "done":
			if e["verified"] != true || e["bytes"] != float64(len(data)) {
				t.Errorf("done event %s", line)
			}
			done[e["target"].(string)] = true
		default:
			t.Errorf("unexpected event %s", line)
		}
	}
	if !sawProgress || !done[a] || !done[b] {
		t.Fatalf("missing events in %s", r.stdout)
	}
	for _, p := range []string{a, b} {
		if sha(t, p) != sha(t, img) {
			t.Errorf("%s differs from the image", p)
		}
	}
}

func TestConfirmation(t *testing.T) {
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 1<<20)
	dst := filepath.Join(dir, "stick.img")
	os.WriteFile(dst, []byte("keep me"), 0o644)
	r := run(t, context.Background(), "\n", "write", img, dst)
	if r.code != 130 || !strings.Contains(r.stderr, "will be replaced") {
		t.Fatalf("default answer: exit %d, stderr %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(dst); string(b) != "keep me" {
		t.Fatal("target changed without confirmation")
	}
	if r := run(t, context.Background(), "y\n", "write", img, dst); r.code != 0 {
		t.Fatalf("confirmed: exit %d %s", r.code, r.stderr)
	}
	if sha(t, dst) != sha(t, img) {
		t.Fatal("confirmed write did not write the image")
	}
}

func TestChecksumFiles(t *testing.T) {
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 2<<20)
	dst := filepath.Join(dir, "stick.img")
	os.WriteFile(dst, []byte("old"), 0o644)

	os.WriteFile(img+".sha256", []byte(strings.Repeat("0", 64)+"  osc-12.5.0.iso\n"), 0o644)
	r := run(t, context.Background(), "", "write", "--yes", img, dst)
	if r.code != 5 || !strings.Contains(r.stderr, "SHA-256") {
		t.Fatalf("bad .sha256: exit %d, stderr %q", r.code, r.stderr)
	}
	// The image is checked as it is written: a mismatch leaves the target
	// with zeros where its first MiB was, never with the image's head.
	if b, _ := os.ReadFile(dst); !bytes.Equal(b[:min(len(b), 1<<20)], make([]byte, min(len(b), 1<<20))) {
		t.Fatalf("target after a checksum mismatch starts with %q, want zeros", b[:min(len(b), 16)])
	}

	os.Remove(img + ".sha256")
	os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sha(t, img)+"  osc-12.5.0.iso\n"), 0o644)
	r = run(t, context.Background(), "", "write", "--yes", img, dst)
	if r.code != 0 || !strings.Contains(r.stderr, "matches") {
		t.Fatalf("good SHA256SUMS: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestInterrupt(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	// Big enough that the write is still going at the first progress report.
	img := filepath.Join(dir, "big.img")
	if err := os.Truncate(img, 1<<30); err != nil {
		os.WriteFile(img, nil, 0o644)
		os.Truncate(img, 1<<30)
	}
	back := filepath.Join(dir, "disk")
	os.WriteFile(back, bytes.Repeat([]byte{0x77}, 2<<20), 0o644)
	os.Truncate(back, 1<<30+1<<20)
	dev := testutil.LoopDevice(t, back, "--direct-io=on")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// stdout cancels the run at the first write progress past 4 MiB: a
	// Ctrl-C in the middle of a write.
	pr, pw := io.Pipe()
	events := make(chan string, 1)
	go func() {
		var all strings.Builder
		defer func() { events <- all.String() }()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			var e struct {
				Event, Phase string
				Bytes        int64
			}
			json.Unmarshal(sc.Bytes(), &e)
			if e.Event == "progress" && e.Phase == "write" && e.Bytes > 4<<20 {
				cancel()
			}
		}
	}()
	var errb bytes.Buffer
	code := Run(ctx, strings.NewReader(""), pw, &errb, []string{"write", "--yes", "--force", "--json", img, dev})
	pw.Close()
	out := <-events
	if code != 130 {
		t.Fatalf("exit %d, want 130; stdout %s stderr %s", code, out, errb.String())
	}
	if !strings.Contains(out, `"kind":"aborted"`) || !strings.Contains(out, "incomplete") {
		t.Errorf("no error event saying the stick is incomplete: %s", out)
	}
	b, _ := os.ReadFile(back)
	if !bytes.Equal(b[:1<<20], make([]byte, 1<<20)) {
		t.Error("the start of an interrupted stick was not cleared")
	}
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 3<<20)
	dst := filepath.Join(dir, "stick.img")
	os.WriteFile(dst, data, 0o644)
	if r := run(t, context.Background(), "", "verify", img, dst); r.code != 0 || !strings.Contains(r.stderr, "holds exactly") {
		t.Fatalf("identical: exit %d, stderr %q", r.code, r.stderr)
	}
	data[2<<20+1] ^= 0xff
	os.WriteFile(dst, data, 0o644)
	if r := run(t, context.Background(), "", "verify", img, dst); r.code != 4 || !strings.Contains(r.stderr, "byte 2097153 ") {
		t.Fatalf("corrupted: exit %d, stderr %q; want 4 naming byte 2097153", r.code, r.stderr)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if r := run(t, context.Background(), "", "completion", sh); r.code != 0 || !strings.Contains(r.stdout, "osc") {
			t.Errorf("completion %s: exit %d", sh, r.code)
		}
	}
	r := run(t, context.Background(), "", "__complete", "write", "")
	if r.code != 0 || !strings.Contains(r.stdout, "iso") {
		t.Errorf("image completion: exit %d, %q", r.code, r.stdout)
	}
}
