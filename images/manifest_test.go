package images

import (
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

const validManifest = `{
  "format": 1,
  "os_name": "Onramp OS",
  "version": "12.01.110",
  "variant": "standard",
  "arch": "x86_64",
  "min_target_size": 8000000000,
  "slot_size": 1073741824,
  "files": [
    {"path": "vmlinuz", "size": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"path": "initrd.img", "size": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"path": "system.squashfs", "size": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"path": "eula/en.txt", "size": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"path": "eula/de.txt", "size": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
  ],
  "eula": {"en": "eula/en.txt", "de": "eula/de.txt"}
}`

func TestManifestParseValid(t *testing.T) {
	m, err := ParseManifest([]byte(validManifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.OSName != "Onramp OS" || len(m.Files) != 5 || m.SlotSize != 1<<30 {
		t.Errorf("parsed %+v", m)
	}
	for lang, want := range map[string]string{"de-AT": "de", "de": "de", "fr": "en", "en-US": "en"} {
		if got, _ := m.EULAFor(lang); got != want {
			t.Errorf("EULAFor(%s) = %s, want %s", lang, got, want)
		}
	}
	again, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(again); err != nil {
		t.Errorf("marshalled manifest does not parse: %v", err)
	}
}

func TestManifestParseRefusals(t *testing.T) {
	cases := map[string]struct{ old, new string }{
		"format":         {`"format": 1`, `"format": 3`},
		"unknown field":  {`"arch"`, `"colour": "red", "arch"`},
		"variant":        {`"standard"`, `"deluxe"`},
		"arch":           {`"x86_64"`, `"sparc"`},
		"os name":        {`"Onramp OS"`, `""`},
		"escaping path":  {`"eula/de.txt", "size"`, `"../de.txt", "size"`},
		"absolute path":  {`"eula/de.txt", "size"`, `"/etc/shadow", "size"`},
		"unclean path":   {`"eula/de.txt", "size"`, `"eula//de.txt", "size"`},
		"duplicate":      {`"eula/de.txt", "size"`, `"eula/en.txt", "size"`},
		"negative size":  {`"vmlinuz", "size": 3`, `"vmlinuz", "size": -3`},
		"bad hash":       {`"vmlinuz", "size": 3, "sha256": "ba`, `"vmlinuz", "size": 3, "sha256": "BA`},
		"missing system": {`"system.squashfs"`, `"system.img"`},
		"slot too small": {`1073741824`, `2`},
		"no min size":    {`8000000000`, `0`},
		"eula not file":  {`"de": "eula/de.txt"`, `"de": "eula/fr.txt"`},
		"bad language":   {`"de": "eula/de.txt"`, `"Deutsch": "eula/de.txt"`},
		"lists itself":   {`"eula/de.txt", "size"`, `"manifest.sig", "size"`},
		"trailing data":  {`"eula": {"en": "eula/en.txt", "de": "eula/de.txt"}` + "\n}", `"eula": {"en": "eula/en.txt", "de": "eula/de.txt"}` + "\n}{}"},
	}
	for name, c := range cases {
		if !strings.Contains(validManifest, c.old) {
			t.Fatalf("%s: %q not in the sample", name, c.old)
		}
		_, err := ParseManifest([]byte(strings.Replace(validManifest, c.old, c.new, 1)))
		if exitcode.KindOf(err) != exitcode.ImageInvalid {
			t.Errorf("%s: err %v (kind %v), want image-invalid", name, err, exitcode.KindOf(err))
		}
	}
}

// FuzzParseManifest: whatever the bytes, the parser returns a validated
// manifest or an image-invalid error, and a parsed one survives a round trip.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(strings.NewReplacer(`"format": 1`, `"format": 2`,
		`{"path": "vmlinuz", "size": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`,
		`{"path": "vmlinuz", "size": 70000, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "chunks": {"size": 65536, "sha256": ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]}}`,
	).Replace(validManifest)))
	f.Add([]byte(`{"files":[{"path":"../x"}]}`))
	// Issue 22: sizes that would overflow or allocate.
	f.Add([]byte(strings.Replace(validManifest, `"size": 3,`, `"size": 9223372036854775807,`, 1)))
	f.Add([]byte(strings.Replace(validManifest, `"format": 1`, `"format": 2, "slot_size": 9223372036854775807`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if exitcode.KindOf(err) != exitcode.ImageInvalid {
				t.Fatalf("error of kind %v: %v", exitcode.KindOf(err), err)
			}
			return
		}
		for _, file := range m.Files {
			if strings.HasPrefix(file.Path, "/") || strings.Contains(file.Path, "..") && checkPayloadPath(file.Path) != nil {
				t.Fatalf("unsafe path accepted: %q", file.Path)
			}
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(b); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}
