package images

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestTmpWriteTiming(t *testing.T) {
	dir, target := os.Getenv("TMP_PAYLOAD"), os.Getenv("TMP_TARGET")
	if dir == "" {
		t.Skip()
	}
	p, err := OpenPayload(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Verify(context.Background(), VerifyOptions{AllowUnsigned: true, Keys: nil}); err != nil && p.sig == nil {
		t.Fatal(err)
	}
	t.Logf("verify %v", time.Since(start))
	start = time.Now()
	if err := p.WriteFile(context.Background(), SystemName, target, 300<<20, WriteFileOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("write %v", time.Since(start))
}
