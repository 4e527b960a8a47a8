package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Both directions go through os.Root, so a symbolic link in the set (or a
// hostile one on DATA) is copied as a link and never followed out of the
// root it sits in; files are opened with O_NOFOLLOW.

// staging is the directory of DATA that Save fills before it swaps it with
// Dir in one rename (RENAME_EXCHANGE): a power cut leaves the old set or
// the new one, never a mix.
const staging = ".settings.new"

// Report says what a Save or Load did.
type Report struct {
	// Files is the number of regular files and symbolic links in the set.
	Files int
	// Unchanged: Save found DATA/settings equal to the root's set and
	// wrote nothing.
	Unchanged bool
	// Ignored lists entries of DATA/settings that are not in the set (Load
	// leaves them where they are and does not lay them back).
	Ignored []string
}

// Save collects the set from root (the running system: "/") into
// dataDir/settings (dataDir is where ONRAMP-DATA is mounted), keeping
// modes, owners, symbolic links and modification times. The new set
// replaces the old one atomically: what is no longer in root is no longer
// on DATA either. When DATA already holds exactly the root's set nothing
// is written, so running it often (on every change, from a timer) costs
// reads only.
func Save(root, dataDir string) (Report, error) {
	var rep Report
	var err error
	for attempt := 1; ; attempt++ {
		rep, err = save(root, dataDir)
		if !errors.Is(err, ErrChanged) || attempt == saveAttempts {
			return rep, err
		}
		time.Sleep(saveRetryDelay)
	}
}

// ErrChanged is a setting that changed while Save read it (a writer
// replaced or removed it): the set would mix old and new, so Save starts
// over, up to saveAttempts times, saveRetryDelay apart.
var ErrChanged = errors.New("changed while it was saved")

var (
	saveAttempts   = 5
	saveRetryDelay = time.Second
)

func save(root, dataDir string) (Report, error) {
	var rep Report
	src, err := os.OpenRoot(root)
	if err != nil {
		return rep, fmt.Errorf("open root %s: %w", root, err)
	}
	defer src.Close()
	data, err := os.OpenRoot(dataDir)
	if err != nil {
		return rep, fmt.Errorf("open DATA %s: %w", dataDir, err)
	}
	defer data.Close()
	var all []member
	for _, e := range Set {
		members, err := collect(src, e)
		if err != nil {
			return rep, fmt.Errorf("save %s: %w", e.Path, err)
		}
		all = append(all, members...)
	}
	for _, m := range all {
		if !m.info.IsDir() {
			rep.Files++
		}
	}
	if same, err := saved(src, data, all); err != nil {
		return rep, err
	} else if same {
		rep.Unchanged = true
		return rep, nil
	}
	if err := data.RemoveAll(staging); err != nil {
		return rep, fmt.Errorf("remove %s: %w", path.Join(dataDir, staging), err)
	}
	if err := data.Mkdir(staging, 0o755); err != nil {
		return rep, fmt.Errorf("create %s: %w", path.Join(dataDir, staging), err)
	}
	dst, err := data.OpenRoot(staging)
	if err != nil {
		return rep, err
	}
	defer dst.Close()
	var dirs []member
	for _, m := range all {
		if m.info.IsDir() {
			if err := dst.MkdirAll(m.rel, 0o700); err != nil {
				return rep, fmt.Errorf("save %s: %w", m.rel, err)
			}
			dirs = append(dirs, m)
			continue
		}
		if err := dst.MkdirAll(path.Dir(m.rel), 0o755); err != nil {
			return rep, fmt.Errorf("save %s: %w", m.rel, err)
		}
		if err := copyEntry(src, dst, m, m.rel); err != nil {
			return rep, fmt.Errorf("save /%s: %w", m.rel, err)
		}
	}
	if err := finishDirs(dst, dirs); err != nil {
		return rep, fmt.Errorf("save: %w", err)
	}
	if err := swap(dataDir); err != nil {
		return rep, err
	}
	return rep, nil
}

// saved reports whether DATA/settings holds exactly the members (and
// nothing else but the directories leading to them), each with the same
// type, mode, owner, time, link target and content.
func saved(src, data *os.Root, members []member) (bool, error) {
	set, err := data.OpenRoot(Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer set.Close()
	have := map[string]fs.FileInfo{}
	extra := false
	err = fs.WalkDir(set.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || rel == "." {
			return err
		}
		if !Member(rel, d.IsDir()) {
			if d.IsDir() && underMember(rel) {
				return nil
			}
			extra = true
			return fs.SkipAll
		}
		info, err := set.Lstat(rel)
		have[rel] = info
		return err
	})
	if err != nil || extra || len(have) != len(members) {
		return false, err
	}
	for _, m := range members {
		info, ok := have[m.rel]
		if !ok || !sameEntry(src, set, m, info) {
			return false, nil
		}
	}
	return true, nil
}

// sameEntry compares the member m of src with its copy (info) in set.
func sameEntry(src, set *os.Root, m member, info fs.FileInfo) bool {
	a, b := m.info, info
	ua, ga := owner(a)
	ub, gb := owner(b)
	if a.Mode() != b.Mode() || ua != ub || ga != gb {
		return false
	}
	switch {
	case a.Mode()&fs.ModeSymlink != 0:
		ta, errA := src.Readlink(m.rel)
		tb, errB := set.Readlink(m.rel)
		return errA == nil && errB == nil && ta == tb
	case a.IsDir():
		return a.ModTime().Equal(b.ModTime())
	}
	if a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) {
		return false
	}
	ca, errA := src.ReadFile(m.rel)
	cb, errB := set.ReadFile(m.rel)
	return errA == nil && errB == nil && bytes.Equal(ca, cb)
}

// Load lays the set kept in dataDir/settings back into root (at boot, the
// new root before it is switched to), keeping modes, owners, symbolic links
// and modification times. Every file replaces its path in root atomically;
// files of root that DATA does not hold stay as they are. Entries of
// DATA/settings outside the set are not laid back (Report.Ignored). A DATA
// without settings is no error: the device has not been set up yet.
func Load(dataDir, root string) (Report, error) {
	var rep Report
	data, err := os.OpenRoot(dataDir)
	if err != nil {
		return rep, fmt.Errorf("open DATA %s: %w", dataDir, err)
	}
	defer data.Close()
	src, err := data.OpenRoot(Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("open %s: %w", path.Join(dataDir, Dir), err)
	}
	defer src.Close()
	dst, err := os.OpenRoot(root)
	if err != nil {
		return rep, fmt.Errorf("open root %s: %w", root, err)
	}
	defer dst.Close()
	var dirs []member
	err = fs.WalkDir(src.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || rel == "." {
			return err
		}
		if !Member(rel, d.IsDir()) {
			if d.IsDir() && underMember(rel) {
				return nil // a parent such as etc or var/lib
			}
			rep.Ignored = append(rep.Ignored, "/"+rel)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := src.Lstat(rel)
		if err != nil {
			return err
		}
		m := member{rel: rel, info: info}
		if info.IsDir() {
			if err := dst.MkdirAll(rel, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, m)
			return nil
		}
		tmp := path.Join(path.Dir(rel), "."+path.Base(rel)+".onramp-settings")
		if err := dst.MkdirAll(path.Dir(rel), 0o755); err != nil {
			return err
		}
		_ = dst.Remove(tmp)
		if err := copyEntry(src, dst, m, tmp); err != nil {
			_ = dst.Remove(tmp)
			return err
		}
		if err := dst.Rename(tmp, rel); err != nil {
			_ = dst.Remove(tmp)
			return err
		}
		rep.Files++
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("load %s into %s: %w", path.Join(dataDir, Dir), root, err)
	}
	if err := finishDirs(dst, dirs); err != nil {
		return rep, fmt.Errorf("load into %s: %w", root, err)
	}
	if err := syncfs(root); err != nil {
		return rep, err
	}
	return rep, nil
}

// underMember reports whether the directory rel leads to a member.
func underMember(rel string) bool {
	for _, e := range Set {
		if len(e.Rel()) > len(rel) && e.Rel()[:len(rel)+1] == rel+"/" {
			return true
		}
	}
	return false
}

// member is one file, link or directory of the set found under a root.
type member struct {
	rel  string
	info fs.FileInfo
}

// collect lists the members of e present under r. A member of the wrong
// type (a directory where a file belongs, a device anywhere) is an error:
// it would be lost silently otherwise.
func collect(r *os.Root, e Entry) ([]member, error) {
	src := e.Source()
	info, err := r.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []member
	add := func(rel string, info fs.FileInfo) error {
		if Transient(path.Base(rel)) {
			return nil
		}
		t := info.Mode().Type()
		if t != 0 && t != fs.ModeSymlink && t != fs.ModeDir {
			return fmt.Errorf("/%s is a %v; settings are files, links and directories", rel, t)
		}
		if !e.Covers(rel, info.IsDir()) {
			return fmt.Errorf("/%s is a %s, which the settings do not hold there", rel, typeName(info))
		}
		out = append(out, member{rel, info})
		return nil
	}
	switch e.Kind {
	case Single:
		return out, add(src, info)
	case Tree:
		if !info.IsDir() {
			// A link here is refused, not followed (WalkDir would).
			return nil, add(src, info)
		}
	case Glob:
		if !info.IsDir() {
			return nil, nil
		}
		entries, err := fs.ReadDir(r.FS(), src)
		if err != nil {
			return nil, err
		}
		for _, d := range entries {
			rel := path.Join(src, d.Name())
			if ok, _ := path.Match(path.Base(e.Rel()), d.Name()); !ok {
				continue
			}
			info, err := r.Lstat(rel)
			if err != nil {
				return nil, vanished(rel, err)
			}
			if err := add(rel, info); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	err = fs.WalkDir(r.FS(), src, func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return vanished(rel, err)
		}
		info, err := r.Lstat(rel)
		if err != nil {
			return vanished(rel, err)
		}
		return add(rel, info)
	})
	return out, err
}

// vanished turns a file that disappeared between listing and reading
// (a writer's rename or removal) into ErrChanged.
func vanished(rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("/%s: %w", rel, ErrChanged)
	}
	return err
}

func typeName(info fs.FileInfo) string {
	switch {
	case info.IsDir():
		return "directory"
	case info.Mode()&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "file"
}

// copyEntry copies the file or link m from src to name in dst (which must
// not exist), with m's mode, owner and modification time.
func copyEntry(src, dst *os.Root, m member, name string) error {
	uid, gid := owner(m.info)
	if m.info.Mode()&fs.ModeSymlink != 0 {
		target, err := src.Readlink(m.rel)
		if err != nil {
			return vanished(m.rel, err)
		}
		if err := dst.Symlink(target, name); err != nil {
			return err
		}
		return dst.Lchown(name, uid, gid)
	}
	in, err := src.OpenFile(m.rel, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return vanished(m.rel, err)
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil {
		return err
	} else if !fi.Mode().IsRegular() || !os.SameFile(fi, m.info) {
		return fmt.Errorf("/%s: %w", m.rel, ErrChanged)
	}
	out, err := dst.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Owner before mode: chown clears setuid and setgid.
	if err := out.Chown(uid, gid); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(m.info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return dst.Chtimes(name, time.Time{}, m.info.ModTime())
}

// finishDirs gives the directories their owner, mode and time, deepest
// first: filling them changed their times.
func finishDirs(r *os.Root, dirs []member) error {
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].rel > dirs[j].rel })
	for _, d := range dirs {
		uid, gid := owner(d.info)
		if err := r.Lchown(d.rel, uid, gid); err != nil {
			return err
		}
		if err := r.Chmod(d.rel, d.info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return err
		}
		if err := r.Chtimes(d.rel, time.Time{}, d.info.ModTime()); err != nil {
			return err
		}
	}
	return nil
}

func owner(info fs.FileInfo) (int, int) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return int(st.Uid), int(st.Gid)
}

// swap makes dataDir/.settings.new dataDir/settings in one step and removes
// the old set.
func swap(dataDir string) error {
	if err := syncfs(dataDir); err != nil {
		return err
	}
	dir, err := os.Open(dataDir)
	if err != nil {
		return err
	}
	defer dir.Close()
	fd := int(dir.Fd())
	err = unix.Renameat2(fd, staging, fd, Dir, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOENT) {
		err = unix.Renameat(fd, staging, fd, Dir)
	}
	if err != nil {
		return fmt.Errorf("replace %s/%s: %w", dataDir, Dir, err)
	}
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dataDir, err)
	}
	if err := os.RemoveAll(path.Join(dataDir, staging)); err != nil {
		return fmt.Errorf("remove the old settings: %w", err)
	}
	return nil
}

// syncfs writes the file system holding dir to its disk.
func syncfs(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
