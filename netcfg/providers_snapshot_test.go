package netcfg

import (
	"strings"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	db, err := parseSnapshot(strings.NewReader(providerSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	source := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(providerSnapshot, "\n", 2)[0], "# Mobile broadband providers from "), " (make mbpi-data).")
	if err := WriteSnapshot(&b, db, source); err != nil {
		t.Fatal(err)
	}
	if b.String() != providerSnapshot {
		t.Error("the snapshot does not read back as written")
	}
	if _, err := parseSnapshot(strings.NewReader("DE\tTelekom\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a short line: %v", err)
	}
}
