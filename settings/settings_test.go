//go:build linux

package settings

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

// examples are the answers files whose unattended runs cover every kind
// of network (wired static, wired 802.1X behind a proxy, WLAN with a key,
// enterprise WLAN, mobile broadband, none) and of onboarding (server + one-time password, e-mail,
// skipped).
var examples = []string{"answers-otp-hidden-wlan.yaml", "answers-email-static.yaml", "answers-mobile-peap.yaml",
	"answers-offline-root.yaml", "answers-wlan-peap-auto-tz.yaml", "answers-wired-8021x-proxy.yaml"}

// notSettings are what a demo root holds besides the assistant's settings:
// the base system's own files, resolv.conf, left out on purpose (see Set),
// and the licenses on DATA (the Starter license of a skipped onboarding),
// which are carried on their own (LicensesDir).
func notSettings(rel string) bool {
	return strings.HasPrefix(rel, "usr/") || rel == "etc/os-release" || rel == "etc/resolv.conf" ||
		strings.HasPrefix(rel, "data/"+LicensesDir+"/")
}

// TestSetIsWhatTheAssistantWrites runs the real setup assistant with every
// example and holds that each file it writes for the installed system is in
// the set, and that every entry of the set is written by one of the runs.
func TestSetIsWhatTheAssistantWrites(t *testing.T) {
	written := map[string]bool{}
	for _, ex := range examples {
		root := testutil.SetupRoot(t, ex)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if notSettings(rel) {
				return nil
			}
			e, ok := Lookup(rel, false)
			if !ok {
				t.Errorf("%s: the assistant wrote /%s, which is not in the settings set", ex, rel)
				return nil
			}
			written[e.Path] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range Set {
		if !written[e.Path] {
			t.Errorf("%s is in the set, but no run of the assistant wrote it", e.Path)
		}
	}
}

func TestMembership(t *testing.T) {
	for rel, want := range map[string]bool{
		"etc/locale.conf":                                   true,
		"etc/locale.conf.bak":                               false,
		"etc/onramp":                                        true, // the tree's directory
		"etc/onramp/ums/device.key":                         true,
		"etc/onramp-other/x":                                false,
		"etc/wpa_supplicant/wpa_supplicant-wlan0.conf":      true,
		"etc/wpa_supplicant/ifupdown.sh":                    false, // Debian's script
		"etc/wpa_supplicant/wpa_supplicant-wired-eth0.conf": true,
		"etc/onramp/network/8021x/eth0/client.key":          true,
		"etc/onramp/proxy.env":                              true,
		"etc/wpa_supplicant/sub/x.conf":                     false,
		"etc/systemd/network/10-x.link":                     true,
		"etc/systemd/system/foo.service":                    false,
		"var/lib/onramp/setup.done":                         true,
		"var/lib/onramp/agent.json":                         false,
		"etc/passwd":                                        false,
	} {
		dir := rel == "etc/onramp"
		if got := Member(rel, dir); got != want {
			t.Errorf("Member(%q) = %v, want %v", rel, got, want)
		}
	}
	if Member("etc/locale.conf", true) || Member("etc/wpa_supplicant", true) {
		t.Error("a directory where a file belongs is not a setting")
	}
}

// meta describes an entry the way the tests compare them: type, mode with
// setuid/setgid/sticky, owner, SHA-256 or link target, modification time.
func meta(t *testing.T, p string) string {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	s := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		l, _ := os.Readlink(p)
		return s + " -> " + l
	case fi.IsDir():
		return s + " " + fi.ModTime().UTC().Format(time.RFC3339Nano)
	}
	b, _ := os.ReadFile(p)
	sum := sha256.Sum256(b)
	return s + " " + hex.EncodeToString(sum[:]) + " " + fi.ModTime().UTC().Format(time.RFC3339Nano)
}

// members lists the set's members under root with their meta.
func members(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if Member(filepath.ToSlash(rel), d.IsDir()) {
			out[rel] = meta(t, p)
		}
		return nil
	})
	return out
}

// TestSaveAndLoadKeepEverything saves a root the assistant wrote (with an
// owner, a setgid directory and links added, as an administrator might)
// to DATA and lays it back into a fresh root: the same members with the
// same content, modes, owners, link targets and times; nothing that is not
// a setting.
func TestSaveAndLoadKeepEverything(t *testing.T) {
	testutil.RequireRoot(t)
	root := testutil.SetupRoot(t, "answers-otp-hidden-wlan.yaml")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chown(filepath.Join(root, "etc/systemd/network/50-onramp-wlan0.network"), 1000, 1001))
	must(os.Mkdir(filepath.Join(root, "etc/onramp/shared"), 0o770))
	must(os.Chmod(filepath.Join(root, "etc/onramp/shared"), 0o2770|fs.ModeSetgid))
	must(os.Chown(filepath.Join(root, "etc/onramp/shared"), 0, 1001))
	must(os.Symlink("../ums/device.crt", filepath.Join(root, "etc/onramp/shared/current.crt")))
	must(os.Lchown(filepath.Join(root, "etc/onramp/shared/current.crt"), 1000, 1000))
	old := time.Date(2024, 2, 29, 12, 0, 0, 123456789, time.UTC)
	must(os.Chtimes(filepath.Join(root, "etc/locale.conf"), old, old))
	must(os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc/wpa_supplicant/ifupdown.sh"), []byte("#!/bin/sh\n"), 0o755))
	// A write in progress (internal/atomicfile's temporary file) is not
	// kept half-written.
	must(os.WriteFile(filepath.Join(root, "etc/onramp/ums/.device.key.tmp-12345"), []byte("-----BEGIN"), 0o600))
	want := members(t, root)

	data := t.TempDir()
	rep, err := Save(root, data)
	must(err)
	if rep.Files != 16 {
		t.Errorf("saved %d files and links, want 16", rep.Files)
	}
	if got := members(t, filepath.Join(data, Dir)); !mapsEqual(got, want) {
		t.Errorf("DATA/settings differs from the root:\n got %v\nwant %v", got, want)
	}
	if rep, err := Save(root, data); err != nil || !rep.Unchanged || rep.Files != 16 {
		t.Errorf("a second save with nothing changed: %+v %v", rep, err)
	}
	for _, p := range []string{"etc/passwd", "etc/wpa_supplicant/ifupdown.sh", "etc/os-release", "usr", "etc/onramp/ums/.device.key.tmp-12345"} {
		if _, err := os.Lstat(filepath.Join(data, Dir, p)); err == nil {
			t.Errorf("%s is not a setting but was saved", p)
		}
	}

	fresh := t.TempDir()
	must(os.MkdirAll(filepath.Join(fresh, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(fresh, "etc/locale.conf"), []byte("LANG=C.UTF-8\n"), 0o644))
	must(os.WriteFile(filepath.Join(fresh, "etc/passwd"), []byte("image\n"), 0o644))
	rep, err = Load(data, fresh)
	must(err)
	if rep.Files != 16 || len(rep.Ignored) != 0 {
		t.Errorf("laid back %d, ignored %v", rep.Files, rep.Ignored)
	}
	if got := members(t, fresh); !mapsEqual(got, want) {
		t.Errorf("the laid-back root differs:\n got %v\nwant %v", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(fresh, "etc/passwd")); string(b) != "image\n" {
		t.Errorf("Load changed a file outside the set: %q", b)
	}

	// A setting removed on the device is gone from DATA after the next
	// save, and no staging directory is left behind.
	must(os.Remove(filepath.Join(root, "etc/onramp/shared/current.crt")))
	if rep, err := Save(root, data); err != nil || rep.Unchanged || rep.Files != 15 {
		t.Fatalf("save after a removal: %+v %v", rep, err)
	}
	if _, err := os.Lstat(filepath.Join(data, Dir, "etc/onramp/shared/current.crt")); err == nil {
		t.Error("a removed setting is still on DATA")
	}
	if entries, _ := os.ReadDir(data); len(entries) != 1 {
		t.Errorf("DATA holds %v, want settings only", entries)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestLoadStaysInTheRoot: links on DATA or in the root that point out of
// it are never followed; entries on DATA outside the set are reported and
// not laid back.
func TestLoadStaysInTheRoot(t *testing.T) {
	testutil.RequireRoot(t)
	outside := t.TempDir()
	data, root := t.TempDir(), t.TempDir()
	set := filepath.Join(data, Dir)
	for _, d := range []string{"etc/onramp/ums", "var/lib"} {
		os.MkdirAll(filepath.Join(set, d), 0o755)
	}
	os.WriteFile(filepath.Join(set, "etc/onramp/ums/device.key"), []byte("KEY"), 0o600)
	os.WriteFile(filepath.Join(set, "etc/shadow"), []byte("root::"), 0o600)
	// A link that is a setting is copied as a link, not followed.
	os.Symlink(outside, filepath.Join(set, "etc/localtime"))
	// var/lib/onramp on DATA is a link out of DATA: not a directory of the
	// set, so nothing below it is read.
	os.Symlink(outside, filepath.Join(set, "var/lib/onramp"))
	os.WriteFile(filepath.Join(outside, "setup.done"), []byte("x"), 0o644)

	rep, err := Load(data, root)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := os.Readlink(filepath.Join(root, "etc/localtime")); err != nil || l != outside {
		t.Errorf("etc/localtime: %q %v", l, err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/shadow")); err == nil {
		t.Error("etc/shadow is not a setting but was laid back")
	}
	if _, err := os.Lstat(filepath.Join(root, "var/lib/onramp")); err == nil {
		t.Error("a link where the set has a directory was laid back")
	}
	if !slices.Contains(rep.Ignored, "/etc/shadow") || !slices.Contains(rep.Ignored, "/var/lib/onramp") {
		t.Errorf("ignored %v", rep.Ignored)
	}

	// The root's /etc/onramp leads out of the root: laying back below it
	// fails instead of writing outside.
	root2 := t.TempDir()
	os.MkdirAll(filepath.Join(root2, "etc"), 0o755)
	os.Symlink(outside, filepath.Join(root2, "etc/onramp"))
	if _, err := Load(data, root2); err == nil {
		t.Error("Load wrote through a link out of the root")
	}
	if _, err := os.Stat(filepath.Join(outside, "ums")); err == nil {
		t.Error("Load created files outside the root")
	}

	// Saving: a directory of the set that is a link is refused, not
	// followed.
	root3 := t.TempDir()
	os.MkdirAll(filepath.Join(root3, "etc/systemd"), 0o755)
	os.Symlink(outside, filepath.Join(root3, "etc/systemd/network"))
	if _, err := Save(root3, t.TempDir()); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Save over a linked /etc/systemd/network: %v", err)
	}
}

func TestLoadWithoutSettings(t *testing.T) {
	rep, err := Load(t.TempDir(), t.TempDir())
	if err != nil || rep.Files != 0 {
		t.Errorf("Load of an empty DATA: %+v %v", rep, err)
	}
}

// TestSaveWhileTheAssistantWrites: the installed system's path unit starts
// a save while the setup assistant is still replacing files (atomic
// renames). A save that meets a file replaced or removed under it starts
// over instead of failing or keeping a mix; once the writer is done, DATA
// holds its last state.
func TestSaveWhileTheAssistantWrites(t *testing.T) {
	testutil.RequireRoot(t)
	root := testutil.SetupRoot(t, "answers-otp-hidden-wlan.yaml")
	defer func(a int, d time.Duration) { saveAttempts, saveRetryDelay = a, d }(saveAttempts, saveRetryDelay)
	saveAttempts, saveRetryDelay = 50, 20*time.Millisecond
	dir := filepath.Join(root, "etc/systemd/network")
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			n++
			name := filepath.Join(dir, fmt.Sprintf("60-churn-%d.network", n%7))
			tmp := filepath.Join(dir, ".churn.tmp")
			os.WriteFile(tmp, []byte(fmt.Sprintf("[Match]\nName=eth%d\n", n)), 0o644)
			os.Rename(tmp, name)
			if n%3 == 0 {
				os.Remove(filepath.Join(dir, fmt.Sprintf("60-churn-%d.network", (n+3)%7)))
			}
		}
	}()
	data := t.TempDir()
	var changed int
	for i := 0; i < 6; i++ {
		_, err := Save(root, data)
		if errors.Is(err, ErrChanged) {
			changed++
			continue
		}
		if err != nil {
			close(stop)
			<-done
			t.Fatalf("save %d while files change: %v", i, err)
		}
	}
	close(stop)
	n := <-done
	if _, err := Save(root, data); err != nil {
		t.Fatal(err)
	}
	if got, want := members(t, filepath.Join(data, Dir)), members(t, root); !mapsEqual(got, want) {
		t.Errorf("after %d writes, DATA/settings differs from the root:\n got %v\nwant %v", n, got, want)
	}
	t.Logf("%d writes during 6 saves; %d saves gave up after %d attempts", n, changed, saveAttempts)
}
