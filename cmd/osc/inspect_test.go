package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestInspectTextShowsProblems: a GPT header that claims an impossible
// partition array is named in osc inspect's text as in its --json (before,
// the text said "Partition table: none" and nothing more).
func TestInspectTextShowsProblems(t *testing.T) {
	testutil.RequireTools(t, "sgdisk")
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, "sgdisk", "-o", "-n", "1:2048:+16M", img)
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 2^24 partition entries in the primary header (LBA 1).
	if _, err := f.WriteAt(binary.LittleEndian.AppendUint32(nil, 1<<24), 512+80); err != nil {
		t.Fatal(err)
	}
	f.Close()
	const problem = "the GPT header claims an impossible partition array"
	js := run(t, context.Background(), "", "inspect", "--json", img)
	var in struct {
		Existing struct{ Problem string }
	}
	if err := json.Unmarshal([]byte(js.stdout), &in); err != nil || !strings.Contains(in.Existing.Problem, problem) {
		t.Fatalf("--json: %v\n%s", err, js.stdout)
	}
	text := run(t, context.Background(), "", "inspect", img)
	if text.code != 0 || !strings.Contains(text.stdout, "Problem:         "+problem) {
		t.Errorf("text: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
}
