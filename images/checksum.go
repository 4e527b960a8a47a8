package images

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-os/onramp/internal/exitcode"
)

const (
	sha256HexLen = 2 * sha256.Size
	// checksumMaxLine bounds a line of a checksum file; longer is malformed.
	checksumMaxLine = 64 << 10
	// checksumMaxLines bounds the lines read from a checksum file.
	checksumMaxLines = 1 << 20
	checksumBufSize  = 1 << 20
	progressEvery    = 100 * time.Millisecond
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

// ExpectedChecksum looks for the image's SHA-256 in IMAGE.sha256 and then in
// SHA256SUMS in its directory, as listed under its base name (a bare sum in
// IMAGE.sha256 counts too). It returns the lower-case sum and the file it
// came from; ok is false when no such file lists the image. A malformed
// checksum file that should have listed it is an ImageInvalid error naming
// the file and the line.
func ExpectedChecksum(imagePath string) (sum string, from string, ok bool, err error) {
	base := filepath.Base(imagePath)
	candidates := []struct {
		path string
		own  bool // named after the image: anything amiss in it is about the image
	}{
		{imagePath + ".sha256", true},
		{filepath.Join(filepath.Dir(imagePath), "SHA256SUMS"), false},
	}
	for _, c := range candidates {
		f, err := os.Open(c.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", "", false, fmt.Errorf("open %s: %w", c.path, err)
		}
		l, err := parseChecksums(f)
		f.Close()
		if err != nil {
			return "", "", false, exitcode.New(exitcode.ImageInvalid, "%s: %w", c.path, err)
		}
		for _, b := range l.bad {
			if b.name == base {
				return "", "", false, exitcode.New(exitcode.ImageInvalid, "%s:%d: %w", c.path, b.no, b.err)
			}
		}
		if s := l.sums[base]; s != "" {
			return s, c.path, true, nil
		}
		if s := l.sums[""]; s != "" && c.own && len(l.sums) == 1 {
			return s, c.path, true, nil
		}
		if c.own && len(l.bad) > 0 {
			b := l.bad[0]
			return "", "", false, exitcode.New(exitcode.ImageInvalid, "%s:%d: %w", c.path, b.no, b.err)
		}
	}
	return "", "", false, nil
}

// VerifyChecksum hashes the file at path with SHA-256 and compares it with
// want, which came from the file from. A mismatch is an ImageInvalid error.
// progress, when set, is called every 100 ms or so and at the end; a
// cancelled ctx stops the hashing with ctx's error.
func VerifyChecksum(ctx context.Context, path, want, from string, progress func(done, total int64)) error {
	want = strings.ToLower(strings.TrimSpace(want))
	if len(want) != sha256HexLen || !isHex(want) {
		return exitcode.New(exitcode.Usage, "%q (from %s) is not a SHA-256 sum", want, from)
	}
	f, err := os.Open(path)
	if err != nil {
		return exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open %s: %w", path, err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("stat %s: %w", path, err))
	}
	total := fi.Size()
	h := sha256.New()
	buf := make([]byte, checksumBufSize)
	var done int64
	last := time.Now()
	if progress != nil {
		progress(0, total)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("checksum %s: %w", path, err)
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		done += int64(n)
		if progress != nil && time.Since(last) >= progressEvery {
			progress(done, total)
			last = time.Now()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("read %s: %w", path, err))
		}
	}
	if progress != nil {
		progress(done, max(total, done))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return exitcode.New(exitcode.ImageInvalid, "%s: SHA-256 is %s, %s says %s", path, got, from, want)
	}
	return nil
}
