package installer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// makeData creates the ext4 file system of DATA at offset on path, holding
// settings, licenses and apps.
func makeData(ctx context.Context, path string, p Part, settings, licenses, apps Files) error {
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
	cmd := exec.CommandContext(ctx, "mke2fs", "-q", "-F", "-t", "ext4", "-L", LabelData,
		"-J", fmt.Sprintf("size=%d", journalMiB), "-E", fmt.Sprintf("offset=%d", p.Start),
		"-d", stage, path, fmt.Sprintf("%dk", p.Size/1024))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mke2fs on %s: %w: %s", LabelData, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func stageFiles(dir string, files Files) error {
	for name, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("staging %s: %w", name, err)
		}
		mode := f.Mode.Perm()
		if mode == 0 {
			mode = 0o600
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			return fmt.Errorf("staging %s: %w", name, err)
		}
		if err := os.Chmod(p, mode); err != nil { // WriteFile applies the umask
			return fmt.Errorf("staging %s: %w", name, err)
		}
	}
	return nil
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
		result[d] = files
	}
	return result, nil
}

func debugfs(dev, request string) ([]byte, error) {
	cmd := exec.Command("debugfs", "-R", request, dev)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("debugfs %q: %w: %s", request, err, strings.TrimSpace(stderr.String()))
	}
	// debugfs reports most failures on stderr with exit status 0.
	if s := stderr.String(); strings.Contains(s, "while ") || strings.Contains(s, "Bad magic") {
		return append(stdout.Bytes(), stderr.Bytes()...), nil
	}
	return stdout.Bytes(), nil
}

// readTree reads every regular file under dir.
func readTree(dir string) (Files, error) {
	files := Files{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file; only files and directories are migrated", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = File{Data: data, Mode: fi.Mode().Perm()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return files, nil
}
