package oscdemo

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/onramp-os/onramp/images"
)

func TestPrepareDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	d, err := PrepareOSC(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := images.Inspect(d.Image)
	if err != nil {
		t.Fatal(err)
	}
	if src.Label != VolumeLabel || src.Size != demoImageSize || !src.SizeExact {
		t.Errorf("demo image: label %q, size %d (exact %v); want %q, %d", src.Label, src.Size, src.SizeExact, VolumeLabel, demoImageSize)
	}
	sum, err := images.ExpectedChecksum(d.Image)
	if err != nil || sum == nil || sum.From != d.Image+".sha256" {
		t.Fatalf("ExpectedChecksum = %+v, %v; want the demo's .sha256", sum, err)
	}
	data, err := os.ReadFile(d.Image)
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum.Sum {
		t.Errorf("the demo image's SHA-256 is %x, its .sha256 says %s", h, sum.Sum)
	}

	want := map[string]int64{"Demo stick 1": 8_000_000_000, "Demo stick 2": 16_000_000_000, "Demo stick 3": 2_000_000_000}
	if len(d.Sticks) != len(want) {
		t.Fatalf("%d demo sticks, want %d", len(d.Sticks), len(want))
	}
	for _, s := range d.Sticks {
		fi, err := os.Stat(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		if want[s.Name] != s.Size || fi.Size() != s.Size {
			t.Errorf("stick %+v (file size %d) does not match %d", s, fi.Size(), want[s.Name])
		}
	}

	// Preparing again gives the same image and empties written sticks.
	if err := os.WriteFile(d.Sticks[0].Path, []byte("written"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := PrepareOSC(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum2, err := images.ExpectedChecksum(again.Image)
	if err != nil || sum2 == nil || sum2.Sum != sum.Sum {
		t.Error("the demo image differs between runs")
	}
	head := make([]byte, 7)
	f, err := os.Open(again.Sticks[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(head, 0); err != nil || string(head) == "written" {
		t.Errorf("demo stick 1 was not reset: %q, %v", head, err)
	}
}
