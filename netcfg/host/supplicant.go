package host

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// supplicant is a wpa_supplicant the backend started for an interface
// because none ran.
type supplicant struct {
	proc   *os.Process
	exited chan error // receives once the process is gone
	dir    string     // its control directory and configuration
}

func (s *supplicant) close() error {
	_ = s.proc.Kill()
	<-s.exited
	return os.RemoveAll(s.dir)
}

// controlPath returns the control socket of wpa_supplicant for iface: the
// running one's in WPAControlDir when it answers PING, else one the
// backend starts with driver (and stops on Close).
func (b *Backend) controlPath(iface, driver string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.supp[iface]; ok {
		return filepath.Join(s.dir, iface), nil
	}
	path := filepath.Join(b.o.WPAControlDir, iface)
	if alive(path) {
		return path, nil
	}
	dir, err := os.MkdirTemp("", "onramp-wpa-ctrl-")
	if err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "wpa_supplicant.conf")
	// Networks are added over the control interface; none is kept here.
	if err := os.WriteFile(conf, []byte("ctrl_interface="+dir+"\nupdate_config=0\n"), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	var out bytes.Buffer
	cmd := exec.Command(b.o.WPASupplicant, "-i", iface, "-D", driver, "-c", conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("%s: start wpa_supplicant: %w", iface, err)
	}
	s := &supplicant{proc: cmd.Process, exited: make(chan error, 1), dir: dir}
	go func() { s.exited <- cmd.Wait() }()
	sock := filepath.Join(dir, iface)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-s.exited:
			_ = os.RemoveAll(dir)
			return "", fmt.Errorf("%s: wpa_supplicant exited (%v): %s", iface, err, bytes.TrimSpace(out.Bytes()))
		case <-time.After(50 * time.Millisecond):
		}
		if alive(sock) {
			b.supp[iface] = s
			return sock, nil
		}
	}
	_ = s.close()
	return "", fmt.Errorf("%s: wpa_supplicant did not open its control socket", iface)
}

// stopSupplicant stops the wpa_supplicant the backend started for iface,
// if any: a wired link configured without 802.1X after an attempt with it
// must not go on authenticating.
func (b *Backend) stopSupplicant(iface string) error {
	b.mu.Lock()
	s, ok := b.supp[iface]
	delete(b.supp, iface)
	b.mu.Unlock()
	if !ok {
		return nil
	}
	return s.close()
}

// alive reports whether a wpa_supplicant answers PING at path.
func alive(path string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	w, err := dialWPA(path)
	if err != nil {
		return false
	}
	defer w.close()
	r, err := w.request("PING", "PING", time.Second)
	return err == nil && r == "PONG"
}
