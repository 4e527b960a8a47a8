package host

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

// Our end of wpa_supplicant's control interface lives in a private
// directory: a name another local user could predict in the shared
// temporary directory is neither removed nor needed (a squatter there
// neither loses a file nor blocks the connection), and the directory goes
// with the connection.
func TestWPAControlSocketInPrivateDirectory(t *testing.T) {
	testutil.RequireTools(t, "wpa_supplicant")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	client, _ := lan(t, false)
	dir := t.TempDir()
	conf := filepath.Join(dir, "c.conf")
	if err := os.WriteFile(conf, []byte("ctrl_interface="+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.NetnsCommand(client, "wpa_supplicant", "-i", clientIf, "-D", "wired", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sock := filepath.Join(dir, clientIf)
	for i := 0; i < 50 && !alive(sock); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	// What another user could place at the names this package used to
	// take (PID and a counter).
	var squats []string
	for i := 1; i <= 3; i++ {
		p := filepath.Join(tmp, fmt.Sprintf("onramp-wpa-%d-%d", os.Getpid(), i))
		if err := os.WriteFile(p, []byte("someone else's"), 0o644); err != nil {
			t.Fatal(err)
		}
		squats = append(squats, p)
	}
	w, err := dialWPA(sock)
	if err != nil {
		t.Fatalf("dial with squatted names in %s: %v", tmp, err)
	}
	if r, err := w.request("PING", "PING", time.Second); err != nil || r != "PONG" {
		t.Fatalf("PING: %q %v", r, err)
	}
	for _, p := range squats {
		if b, err := os.ReadFile(p); err != nil || string(b) != "someone else's" {
			t.Errorf("%s was removed or changed: %v", p, err)
		}
	}
	local := filepath.Dir(w.local)
	fi, err := os.Lstat(local)
	if err != nil {
		t.Fatal(err)
	}
	if local == filepath.Clean(tmp) || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("our socket %s is not in a private directory (%v)", w.local, fi.Mode())
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(local); !os.IsNotExist(err) {
		t.Errorf("%s is left behind after close: %v", local, err)
	}
}
