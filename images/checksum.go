package images

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onramp-os/onramp/internal/exitcode"
)

const (
	sha256HexLen = 2 * sha256.Size
	// checksumMaxLine bounds a line of a checksum file; longer is malformed.
	checksumMaxLine = 64 << 10
	// checksumMaxLines bounds the lines read from a checksum file.
	checksumMaxLines = 1 << 20
)

// checksumLine is a malformed line: its number and, as far as it can be
// told, the name it is about.
type checksumLine struct {
	no   int
	name string
	err  error
}

// checksumList is a parsed checksum file: its sums and its malformed lines.
type checksumList struct {
	sums map[string]string
	bad  []checksumLine
}

// ParseChecksumFile reads a SHA-256 checksum file: GNU lines ("HEX  name",
// "HEX *name", a "\" before an escaped name), BSD lines ("SHA256 (name) =
// HEX"), or a bare "HEX" (listed under the name ""). A "./" before a name is
// dropped. Blank lines, # comments, the armor of a PGP clear-signed file and
// BSD lines of other algorithms are skipped; any other line is an error
// naming its number. It returns name → lower-case hex.
func ParseChecksumFile(r io.Reader) (map[string]string, error) {
	l, err := parseChecksums(r)
	if err != nil {
		return nil, err
	}
	if len(l.bad) > 0 {
		return nil, fmt.Errorf("line %d: %w", l.bad[0].no, l.bad[0].err)
	}
	return l.sums, nil
}

func parseChecksums(r io.Reader) (checksumList, error) {
	l := checksumList{sums: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), checksumMaxLine)
	inSignature, inArmorHeader := false, false
	no := 1
	for ; sc.Scan(); no++ {
		if no > checksumMaxLines {
			return l, fmt.Errorf("more than %d lines", checksumMaxLines)
		}
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case inSignature:
			inSignature = line != "-----END PGP SIGNATURE-----"
			continue
		case inArmorHeader:
			inArmorHeader = strings.TrimSpace(line) != ""
			continue
		case line == "-----BEGIN PGP SIGNED MESSAGE-----":
			inArmorHeader = true
			continue
		case line == "-----BEGIN PGP SIGNATURE-----":
			inSignature = true
			continue
		}
		line = strings.TrimPrefix(line, "- ") // dash-escaped clear-signed text
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, sum, skip, err := parseChecksumLine(line)
		name = strings.TrimPrefix(name, "./")
		switch {
		case skip:
		case err != nil:
			l.bad = append(l.bad, checksumLine{no: no, name: name, err: err})
		case l.sums[name] != "" && l.sums[name] != sum:
			l.bad = append(l.bad, checksumLine{no: no, name: name, err: fmt.Errorf("%q is listed again with another sum", name)})
		default:
			l.sums[name] = sum
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return l, fmt.Errorf("line %d is longer than %d bytes", no, checksumMaxLine)
	} else if err != nil {
		return l, err
	}
	return l, nil
}

// parseChecksumLine reads one line. skip is set for a well-formed line of
// another algorithm; err for a malformed one, with the name when it has one.
func parseChecksumLine(line string) (name, sum string, skip bool, err error) {
	escaped := strings.HasPrefix(line, "\\")
	gnu := strings.TrimPrefix(line, "\\")
	hexPart, rest, _ := strings.Cut(gnu, " ")
	if len(hexPart) != sha256HexLen || !isHex(hexPart) {
		if algo, rest, ok := strings.Cut(line, "("); ok {
			return parseBSDLine(strings.TrimSpace(algo), rest)
		}
	}
	if rest != "" && (rest[0] == ' ' || rest[0] == '*') {
		rest = rest[1:]
	}
	if escaped {
		rest = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\r`, "\r").Replace(rest)
	}
	sum, err = checksumHex(hexPart)
	return rest, sum, false, err
}

// parseBSDLine reads the rest of "ALGO (name) = HEX" after the "(".
func parseBSDLine(algo, rest string) (name, sum string, skip bool, err error) {
	i := strings.LastIndex(rest, ")")
	if i < 0 {
		return "", "", false, errors.New("not a checksum line")
	}
	name = rest[:i]
	val, ok := strings.CutPrefix(strings.TrimSpace(rest[i+1:]), "=")
	switch {
	case !ok:
		return name, "", false, errors.New(`no "=" after the name`)
	case algo != "SHA256" && algo != "SHA2-256":
		return name, "", isChecksumAlgo(algo), fmt.Errorf("%.20q is not SHA256", algo)
	}
	sum, err = checksumHex(strings.TrimSpace(val))
	return name, sum, false, err
}

// isChecksumAlgo tells the BSD tags of other algorithms worth skipping.
func isChecksumAlgo(tag string) bool {
	switch strings.ToUpper(tag) {
	case "MD5", "SHA1", "SHA224", "SHA384", "SHA512", "SHA2-224", "SHA2-384", "SHA2-512", "SHA3-256", "SHA3-512", "BLAKE2B", "BLAKE3", "CRC32":
		return true
	}
	return false
}

func checksumHex(s string) (string, error) {
	if len(s) != sha256HexLen || !isHex(s) {
		return "", fmt.Errorf("%.80q is not a SHA-256 sum (64 hex digits)", s)
	}
	return strings.ToLower(s), nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && s != ""
}

// Checksum is the SHA-256 an image file is published with.
type Checksum struct {
	Sum  string // lower-case hex
	From string // the checksum file that lists it
}

func (c *Checksum) check() error {
	if len(c.Sum) != sha256HexLen || !isHex(c.Sum) {
		return exitcode.New(exitcode.Usage, "%q (from %s) is not a SHA-256 sum", c.Sum, c.From)
	}
	return nil
}

// compare checks the hash of the image file at path against c.
func (c *Checksum) compare(path string, h hash.Hash) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(c.Sum) {
		return exitcode.New(exitcode.ImageInvalid, "%s: SHA-256 is %s, %s says %s: the image is damaged or not the one published", path, got, c.From, c.Sum)
	}
	return nil
}

// ExpectedChecksum looks for the image's SHA-256 in IMAGE.sha256 and then in
// SHA256SUMS in its directory, as listed under its base name (a bare sum in
// IMAGE.sha256 counts too). It returns nil when there is neither file or
// SHA256SUMS does not list the image. IMAGE.sha256 is meant for the image:
// one that does not vouch for it (empty, malformed, listing only other
// files) is an ImageInvalid error naming it, as is a malformed line of
// SHA256SUMS that names the image; the caller's way to write without a
// check is not to call this.
func ExpectedChecksum(imagePath string) (*Checksum, error) {
	base := filepath.Base(imagePath)
	candidates := []struct {
		path string
		own  bool // named after the image: anything amiss in it is about the image
	}{
		{imagePath + ".sha256", true},
		{filepath.Join(filepath.Dir(imagePath), "SHA256SUMS"), false},
	}
	for _, c := range candidates {
		// Stat first: opening a FIFO would wait for a writer.
		fi, err := os.Stat(c.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && !fi.Mode().IsRegular() {
			return nil, exitcode.New(exitcode.ImageInvalid, "%s: not a regular file (%s)", c.path, fi.Mode().Type())
		}
		f, err := os.Open(c.path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", c.path, err)
		}
		l, err := parseChecksums(f)
		f.Close()
		if err != nil {
			return nil, exitcode.New(exitcode.ImageInvalid, "%s: %w", c.path, err)
		}
		for _, b := range l.bad {
			if b.name == base {
				return nil, exitcode.New(exitcode.ImageInvalid, "%s:%d: %w", c.path, b.no, b.err)
			}
		}
		if s := l.sums[base]; s != "" {
			return &Checksum{Sum: s, From: c.path}, nil
		}
		if s := l.sums[""]; s != "" && c.own && len(l.sums) == 1 {
			return &Checksum{Sum: s, From: c.path}, nil
		}
		if !c.own {
			continue
		}
		switch {
		case len(l.bad) > 0:
			b := l.bad[0]
			return nil, exitcode.New(exitcode.ImageInvalid, "%s:%d: %w", c.path, b.no, b.err)
		case len(l.sums) == 0:
			return nil, exitcode.New(exitcode.ImageInvalid, "%s holds no SHA-256 sum for %s", c.path, base)
		default:
			return nil, exitcode.New(exitcode.ImageInvalid, "%s does not list %s (it lists %s)", c.path, base, listedNames(l.sums))
		}
	}
	return nil, nil
}

// listedNames names what a checksum file lists, a few of them.
func listedNames(sums map[string]string) string {
	names := make([]string, 0, len(sums))
	for n := range sums {
		if n == "" {
			names = append(names, "a bare sum among named ones")
			continue
		}
		names = append(names, fmt.Sprintf("%.80q", n))
	}
	slices.Sort(names)
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("%d more", len(names)-3))
	}
	return strings.Join(names, ", ")
}
