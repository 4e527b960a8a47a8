package installer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The DATA partition is made with mke2fs -d into the partition's byte range
// of the target (-E offset, the same for an image file and a whole-disk
// device) and read with debugfs, never mounted: go-diskfs' ext4 writer is not
// yet trusted to pass fsck.ext4 every time, and the e2fsprogs tools need no
// loop device or kernel mount.

// dataDirs are the top-level directories of DATA.
var dataDirs = []string{"settings", "licenses", "apps"}

// journalMiB fixes the journal size so creating DATA costs the same on an
// 8 GB and a 2 TB drive (mke2fs would scale it up to 1 GiB and zero it).
const journalMiB = 64

// FirstBootAnswersPath is where in DATA an unattended install leaves the
// setup assistant's answers for the first boot (Options.FirstBoot).
const FirstBootAnswersPath = "onramp/firstboot-answers.yaml"

// makeData creates the ext4 file system of DATA at offset on path, holding
// settings, licenses and apps, and firstBoot (when set) at
// FirstBootAnswersPath.
func makeData(ctx context.Context, path string, p Part, settings, licenses, apps Files, firstBoot []byte) error {
	stage, err := os.MkdirTemp("", "onramp-data-")
	if err != nil {
		return fmt.Errorf("staging DATA: %w", err)
	}
	defer os.RemoveAll(stage)
	for _, d := range dataDirs {
		if err := os.Mkdir(filepath.Join(stage, d), 0o755); err != nil {
			return fmt.Errorf("staging DATA: %w", err)
		}
	}
	if err := stageFiles(filepath.Join(stage, "settings"), settings); err != nil {
		return err
	}
	if err := stageFiles(filepath.Join(stage, "licenses"), licenses); err != nil {
		return err
	}
	if err := stageFiles(filepath.Join(stage, "apps"), apps); err != nil {
		return err
	}
	if firstBoot != nil {
		// It holds one-time passwords: 0600 (stageFiles' default mode).
		if err := stageFiles(stage, Files{FirstBootAnswersPath: {Data: firstBoot}}); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, "mke2fs", "-q", "-F", "-t", "ext4", "-L", LabelData,
		"-J", fmt.Sprintf("size=%d", journalMiB), "-E", fmt.Sprintf("offset=%d", p.Start),
		"-d", stage, path, fmt.Sprintf("%dk", p.Size/1024))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mke2fs on %s: %w: %s", LabelData, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// stageFiles creates files under dir for mke2fs -d, which copies type,
// mode, owner and times: directories (their mode and time set after their
// content), regular files and symbolic links. A path below a link or a
// file is refused: it would be written outside dir.
func stageFiles(dir string, files Files) error {
	names := files.Names()
	for _, name := range names {
		for parent := path.Dir(name); parent != "."; parent = path.Dir(parent) {
			if e, ok := files[parent]; ok && !e.Mode.IsDir() {
				return fmt.Errorf("staging %s: %s is not a directory", name, parent)
			}
		}
	}
	for _, name := range names {
		f, p := files[name], filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("staging %s: %w", name, err)
		}
		var err error
		switch {
		case f.Mode.IsDir():
			err = os.MkdirAll(p, 0o700)
		case f.Mode&fs.ModeSymlink != 0:
			if err = os.Symlink(f.Target, p); err == nil {
				err = os.Lchown(p, f.UID, f.GID)
			}
		case f.Mode.Type() != 0:
			err = fmt.Errorf("type %v is not migrated", f.Mode.Type())
		default:
			err = writeStaged(p, f)
		}
		if err != nil {
			return fmt.Errorf("staging %s: %w", name, err)
		}
	}
	// Directories last, deepest first: creating their content touched
	// their times.
	for i := len(names) - 1; i >= 0; i-- {
		if f := files[names[i]]; f.Mode.IsDir() {
			if err := setMeta(filepath.Join(dir, filepath.FromSlash(names[i])), f); err != nil {
				return fmt.Errorf("staging %s: %w", names[i], err)
			}
		}
	}
	return nil
}

func writeStaged(p string, f File) error {
	if f.Mode&keptMode == 0 {
		f.Mode = 0o600
	}
	if err := os.WriteFile(p, f.Data, 0o600); err != nil {
		return err
	}
	return setMeta(p, f)
}

// setMeta applies f's owner, permission bits (chmod, as WriteFile and Mkdir
// apply the umask and drop setuid, setgid and sticky; after chown, which
// clears setuid and setgid) and modification time. mke2fs -d copies all
// three.
func setMeta(p string, f File) error {
	if err := os.Lchown(p, f.UID, f.GID); err != nil {
		return err
	}
	if err := os.Chmod(p, f.Mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	if f.ModTime.IsZero() {
		return nil
	}
	return os.Chtimes(p, f.ModTime, f.ModTime)
}

// dumpData reads the named top-level directories of the ext4 file system
// at offset on path. A directory that does not exist reads as empty.
func dumpData(path string, offset int64, dirs ...string) (map[string]Files, error) {
	dev := fmt.Sprintf("%s?offset=%d", path, offset)
	out, err := debugfs(dev, "ls -p /")
	if err != nil {
		return nil, err
	}
	root := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "/ino/mode/uid/gid/name/size/"
		f := strings.Split(sc.Text(), "/")
		if len(f) >= 7 && strings.HasPrefix(f[2], "04") {
			root[f[5]] = true
		}
	}
	if !root["."] {
		return nil, fmt.Errorf("no ext4 file system at offset %d: %s", offset, strings.TrimSpace(string(out)))
	}
	tmp, err := os.MkdirTemp("", "onramp-dump-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	result := map[string]Files{}
	for _, d := range dirs {
		result[d] = Files{}
		if !root[d] {
			continue
		}
		if out, err := debugfs(dev, fmt.Sprintf("rdump /%s %s", d, tmp)); err != nil {
			return nil, err
		} else if _, err := os.Stat(filepath.Join(tmp, d)); err != nil {
			return nil, fmt.Errorf("debugfs rdump /%s: %s", d, strings.TrimSpace(string(out)))
		}
		files, err := readTree(filepath.Join(tmp, d))
		if err != nil {
			return nil, err
		}
		if err := diskMeta(dev, d, files); err != nil {
			return nil, err
		}
		result[d] = files
	}
	return result, nil
}

// needsRecovery reports whether the ext4 file system at offset on path
// has a journal to replay: its system was cut off, and what it last wrote
// may sit in the journal only, which debugfs does not read.
func needsRecovery(path string, offset int64) (bool, error) {
	out, err := exec.Command("dumpe2fs", "-h", fmt.Sprintf("%s?offset=%d", path, offset)).Output()
	if err != nil {
		return false, fmt.Errorf("dumpe2fs -h %s at %d: %w", path, offset, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f, ok := strings.CutPrefix(l, "Filesystem features:"); ok {
			return slices.Contains(strings.Fields(f), "needs_recovery"), nil
		}
	}
	return false, nil
}

// replayJournal writes the journal's transactions of the ext4 file system
// at offset on path in place, as mounting it would (e2fsck -E
// journal_only). It goes through a loop device over the partition:
// e2fsprogs loses a "?offset=" when it reopens the file system after the
// replay.
func replayJournal(path string, offset, size int64) error {
	out, err := exec.Command("losetup", "--find", "--show", "--offset", fmt.Sprint(offset), "--sizelimit", fmt.Sprint(size), path).Output()
	if err != nil {
		return fmt.Errorf("loop device over %s at %d: %w", path, offset, err)
	}
	loop := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop).Run()
	cmd := exec.Command("e2fsck", "-p", "-E", "journal_only", loop)
	msg, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 { // replayed: "file system errors corrected"
		err = nil
	}
	if err != nil {
		return fmt.Errorf("e2fsck -E journal_only: %w: %s", err, strings.TrimSpace(string(msg)))
	}
	if unclean, err := needsRecovery(loop, 0); err != nil || unclean {
		return fmt.Errorf("the journal of %s is still not replayed (%v)", loop, err)
	}
	return nil
}

func debugfs(dev, request string) ([]byte, error) {
	return runDebugfs(dev, "", "-R", request)
}

// runDebugfs runs debugfs on dev with args, stdin as its input.
func runDebugfs(dev, stdin string, args ...string) ([]byte, error) {
	cmd := exec.Command("debugfs", append(args, dev)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("debugfs %q: %w: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	// debugfs reports most failures on stderr with exit status 0.
	if s := stderr.String(); strings.Contains(s, "while ") || strings.Contains(s, "Bad magic") {
		return append(stdout.Bytes(), stderr.Bytes()...), nil
	}
	return stdout.Bytes(), nil
}

// diskMeta adds what debugfs rdump does not carry over to the entries of
// files (read from /top): the setuid, setgid and sticky bits, and the owner
// (rdump gives a link the dumping user). One debugfs run lists the
// directory of every entry with full modes and owners ("ls -p":
// /ino/mode/uid/gid/name/size/).
func diskMeta(dev, top string, files Files) error {
	seen := map[string]bool{}
	var dirs []string
	for _, n := range files.Names() {
		if d := path.Dir(n); !seen[d] && !strings.ContainsAny(d, "\"\n\\") {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	var script strings.Builder
	for _, d := range dirs {
		fmt.Fprintf(&script, "ls -p \"/%s\"\n", path.Join(top, d))
	}
	out, err := runDebugfs(dev, script.String(), "-f", "-")
	if err != nil {
		return err
	}
	block := -1
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "debugfs: ") {
			block++
			continue
		}
		f := strings.Split(line, "/")
		if block < 0 || block >= len(dirs) || len(f) < 7 || f[5] == "." || f[5] == ".." {
			continue
		}
		mode, err := strconv.ParseUint(f[2], 8, 32)
		if err != nil {
			continue
		}
		uid, uerr := strconv.Atoi(f[3])
		gid, gerr := strconv.Atoi(f[4])
		if uerr != nil || gerr != nil {
			continue
		}
		name := path.Join(dirs[block], f[5])
		if e, ok := files[name]; ok {
			e.Mode |= goMode(int64(mode) & 0o7000)
			e.UID, e.GID = uid, gid
			files[name] = e
		}
	}
	return nil
}

// readTree reads every entry under dir: directories, regular files and
// symbolic links with their modes and times; anything else (devices,
// sockets, pipes) is an error rather than silently left behind.
func readTree(dir string) (Files, error) {
	files := Files{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		f := File{Mode: fi.Mode() & keptMode, ModTime: fi.ModTime().Truncate(time.Second)}
		switch {
		case fi.IsDir():
		case fi.Mode()&fs.ModeSymlink != 0:
			if f.Target, err = os.Readlink(p); err != nil {
				return err
			}
			f.ModTime = time.Time{}
		case fi.Mode().IsRegular():
			if f.Data, err = os.ReadFile(p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s is a %v; only files, directories and links are migrated", p, fi.Mode().Type())
		}
		files[filepath.ToSlash(rel)] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return files, nil
}
