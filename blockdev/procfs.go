package blockdev

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// mountEntry is the part of one /proc/self/mountinfo line the safety checks
// need.
type mountEntry struct {
	Dev        string // "MAJ:MIN" of the mounted device
	MountPoint string // unescaped
	FSType     string
	Source     string // unescaped, e.g. "/dev/sdb1"; may be anything for virtual file systems
}

// parseMountInfo reads the mountinfo format of proc(5):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// A line it cannot understand is an error rather than skipped: a mount it
// missed would make a mounted disk look free.
func parseMountInfo(r io.Reader) ([]mountEntry, error) {
	var mounts []mountEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, " ")
		// The optional fields end with a lone "-"; at least 6 fields precede it.
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(fields) < sep+3 {
			return nil, fmt.Errorf("mountinfo line %d: malformed: %q", n, line)
		}
		if _, _, ok := parseDevNumber(fields[2]); !ok {
			return nil, fmt.Errorf("mountinfo line %d: bad device number %q", n, fields[2])
		}
		mounts = append(mounts, mountEntry{
			Dev:        fields[2],
			MountPoint: unescapeOctal(fields[4]),
			FSType:     fields[sep+1],
			Source:     unescapeOctal(fields[sep+2]),
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return mounts, nil
}

// parseSwaps returns the file names of /proc/swaps, whose first line is a
// header ("Filename Type Size Used Priority").
func parseSwaps(r io.Reader) ([]string, error) {
	var names []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for first := true; sc.Scan(); first = false {
		// Only space and tab separate columns; the kernel escapes both (and
		// newline and backslash) inside the file name.
		fields := strings.FieldsFunc(sc.Text(), func(r rune) bool { return r == ' ' || r == '\t' })
		if len(fields) == 0 || (first && fields[0] == "Filename") {
			continue
		}
		names = append(names, unescapeOctal(fields[0]))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("swaps: %w", err)
	}
	return names, nil
}

// parseDevNumber splits "MAJ:MIN".
func parseDevNumber(s string) (major, minor uint32, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	ma, err1 := strconv.ParseUint(a, 10, 32)
	mi, err2 := strconv.ParseUint(b, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uint32(ma), uint32(mi), true
}

// unescapeOctal undoes the kernel's escaping of space, tab, newline and
// backslash in paths ("\040" for a space). Anything else stays as it is.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			if s[i+1] <= '3' { // fits a byte
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// readMounts and readSwaps read the live (or test) files.
func readMounts() ([]mountEntry, error) {
	f, err := os.Open(MountInfoPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountInfo(f)
}

func readSwaps() ([]string, error) {
	f, err := os.Open(SwapsPath)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil // a kernel without swap support has no /proc/swaps
		}
		return nil, err
	}
	defer f.Close()
	return parseSwaps(f)
}
