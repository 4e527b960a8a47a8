package images

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// samplePayload writes a small payload directory, signs it with a new key
// and returns the directory and the key pair's prefix.
func samplePayload(t *testing.T) (dir, prefix string, pub ed25519.PublicKey) {
	t.Helper()
	return samplePayloadWith(t, strings.Repeat("squashfs", 10000))
}

// samplePayloadWith is samplePayload with the given system.squashfs.
func samplePayloadWith(t *testing.T, system string) (dir, prefix string, pub ed25519.PublicKey) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "payload")
	files := map[string]string{
		KernelName:                 "kernel",
		InitrdName:                 "initrd",
		SystemName:                 system,
		"efi/EFI/BOOT/BOOTX64.EFI": "loader",
		"eula/en.txt":              "You agree.",
		"eula/de.txt":              "Sie stimmen zu.",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prefix = filepath.Join(root, "test")
	pub, err := GenerateKey(prefix)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := LoadPrivateKey(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignPayload(dir, priv, SignOptions{OSName: "Onramp OS", Version: "12.1.0"}); err != nil {
		t.Fatal(err)
	}
	return dir, prefix, pub
}

func verifyPayload(path string, keys []ed25519.PublicKey, allowUnsigned bool) error {
	p, err := OpenPayload(path)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Verify(context.Background(), VerifyOptions{Keys: keys, AllowUnsigned: allowUnsigned})
}

func TestPayloadKeygenModes(t *testing.T) {
	_, prefix, _ := samplePayload(t)
	for name, want := range map[string]os.FileMode{".key": 0o600, ".pub": 0o644} {
		if runtime.GOOS == "windows" {
			break // no Unix modes: the key is guarded by its folder's access list
		}
		fi, err := os.Stat(prefix + name)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, err %v; want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	if _, err := GenerateKey(prefix); exitcode.KindOf(err) != exitcode.Refused {
		t.Errorf("keygen over an existing key: %v", err)
	}
}

func TestPayloadVerify(t *testing.T) {
	testutil.RequireTools(t, "cp")
	dir, prefix, pub := samplePayload(t)
	keys := []ed25519.PublicKey{pub}
	if err := verifyPayload(dir, keys, false); err != nil {
		t.Fatalf("good payload: %v", err)
	}
	trusted, err := LoadTrustedKeys(prefix + ".pub")
	if err != nil || len(trusted) != len(TrustedKeys)+1 {
		t.Fatalf("LoadTrustedKeys: %d keys, %v", len(trusted), err)
	}
	if err := verifyPayload(dir, trusted[:len(TrustedKeys)], false); exitcode.KindOf(err) != exitcode.ImageInvalid || !strings.Contains(err.Error(), "bad signature") {
		t.Errorf("untrusted signer: %v", err)
	}

	mutate := func(name string, f func(dir string)) {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			testutil.Run(t, "cp", "-a", dir+"/.", d)
			f(d)
			err := verifyPayload(d, keys, true)
			if exitcode.KindOf(err) != exitcode.ImageInvalid {
				t.Errorf("err %v (kind %v), want image-invalid", err, exitcode.KindOf(err))
			}
		})
	}
	mutate("altered file", func(d string) {
		os.WriteFile(filepath.Join(d, KernelName), []byte("kernek"), 0o644)
	})
	mutate("truncated system", func(d string) {
		os.Truncate(filepath.Join(d, SystemName), 1000)
	})
	mutate("missing file", func(d string) { os.Remove(filepath.Join(d, InitrdName)) })
	mutate("manifest edited", func(d string) {
		b, _ := os.ReadFile(filepath.Join(d, ManifestName))
		os.WriteFile(filepath.Join(d, ManifestName), bytes.Replace(b, []byte("12.1.0"), []byte("12.1.1"), 1), 0o644)
	})
	mutate("signature flipped", func(d string) {
		b, _ := os.ReadFile(filepath.Join(d, SignatureName))
		b[len(b)-5] ^= 1
		os.WriteFile(filepath.Join(d, SignatureName), b, 0o644)
	})
	mutate("signature garbage", func(d string) {
		os.WriteFile(filepath.Join(d, SignatureName), []byte("hello"), 0o644)
	})

	// A missing signature: refused, unless --insecure-skip-signature.
	d := t.TempDir()
	testutil.Run(t, "cp", "-a", dir+"/.", d)
	os.Remove(filepath.Join(d, SignatureName))
	if err := verifyPayload(d, keys, false); exitcode.KindOf(err) != exitcode.ImageInvalid || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("unsigned: %v", err)
	}
	if err := verifyPayload(d, keys, true); err != nil {
		t.Errorf("unsigned with skip: %v", err)
	}
}

func TestPayloadFromISO(t *testing.T) {
	testutil.RequireTools(t, "xorriso")
	dir, _, pub := samplePayload(t)
	iso := filepath.Join(t.TempDir(), "osc.iso")
	out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "ONRAMP",
		"-o", iso, "-graft-points", "onramp/="+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	p, err := OpenPayload(iso)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Verify(context.Background(), VerifyOptions{Keys: []ed25519.PublicKey{pub}}); err != nil {
		t.Fatalf("verify ISO payload: %v", err)
	}
	if lang, text, err := p.EULAText("de-CH"); err != nil || lang != "de" || text != "Sie stimmen zu." {
		t.Errorf("EULA: %s %q %v", lang, text, err)
	}
	if p.Manifest.Version != "12.1.0" || p.SignedBy != KeyID(pub) {
		t.Errorf("manifest %+v signed by %s", p.Manifest, p.SignedBy)
	}
}

func TestPayloadNotAPayload(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.iso")
	os.WriteFile(f, bytes.Repeat([]byte{7}, 1<<20), 0o644)
	if _, err := OpenPayload(f); exitcode.KindOf(err) != exitcode.ImageInvalid {
		t.Errorf("random file: %v", err)
	}
	if _, err := OpenPayload(t.TempDir()); exitcode.KindOf(err) != exitcode.ImageInvalid {
		t.Errorf("empty dir: %v", err)
	}
}
