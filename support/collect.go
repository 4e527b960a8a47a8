package support

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strings"
	"time"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

// item is one collected piece before redaction.
type item struct {
	name   string // path in the zip; "" for something not found
	source string
	data   []byte
	note   string
}

// Limits on what one item may take, so a runaway log or a stuck command
// cannot fill the stick or hang the screen.
var (
	FileCap        int64 = 4 << 20
	CommandCap           = 16 << 20
	CommandTimeout       = 20 * time.Second
	InspectTimeout       = 30 * time.Second
	// JournalLines bounds the journal: the newest lines of all boots.
	JournalLines = 50000
)

// DataMount is where the installed system mounts ONRAMP-DATA, relative to
// the root: the first-boot answers an unattended install left there are
// collected (redacted) from it.
var DataMount = "data"

// files are the root's files a bundle holds, as globs relative to the root.
var files = []string{
	strings.TrimPrefix(sysconf.StatePath, "/"),
	strings.TrimPrefix(sysconf.DonePath, "/"),
	"var/lib/onramp/eula-accepted.json",
	"etc/systemd/network/*.network",
	"etc/wpa_supplicant/*.conf",
	strings.TrimPrefix(netcfg.ModemFile("/"), "/"),
	"etc/resolv.conf",
	"etc/hostname",
	"etc/os-release",
	"etc/locale.conf",
	"etc/vconsole.conf",
	onboard.UMSDir + "/server.json",
	"boot/efi/onramp/release.json",
	"var/log/onramp/*.log",
}

// collect gathers every item. Files are read through an os.Root so a
// symbolic link in the collected tree cannot lead outside it.
func collect(ctx context.Context, o Options) ([]item, error) {
	root, err := os.OpenRoot(o.root())
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", o.root(), err)
	}
	defer root.Close()
	var items []item
	items = append(items, journal(ctx, root, o.root())...)
	globs := append(append([]string(nil), files...), path.Join(DataMount, installer.FirstBootAnswersPath))
	for _, g := range globs {
		items = append(items, rootFiles(root, g)...)
	}
	items = append(items, certificates(root)...)
	items = append(items, commands(ctx)...)
	items = append(items, disks(ctx))
	return items, nil
}

// rootFiles reads the regular files matching glob under root, each up to
// FileCap (the rest is cut and said so).
func rootFiles(root *os.Root, glob string) []item {
	names := []string{glob}
	if strings.ContainsAny(glob, `*?[\`) {
		// Matched by name: fs.Glob lists directories and stats nothing,
		// so links are left to resolve.
		var err error
		if names, err = fs.Glob(root.FS(), glob); err != nil || len(names) == 0 {
			return []item{{source: "/" + glob, note: "not present"}}
		}
	}
	var items []item
	for _, name := range names {
		it := item{name: "files/" + name, source: "/" + name}
		it.data, it.note = readCapped(root, name)
		if it.data == nil {
			it.name = ""
		}
		items = append(items, it)
	}
	return items
}

// readCapped reads a regular file under root, at most FileCap bytes; nil
// data and a note when it cannot.
func readCapped(root *os.Root, name string) ([]byte, string) {
	name, err := resolve(root, name)
	if err != nil {
		return nil, errNote(err)
	}
	fi, err := root.Stat(name)
	if err != nil {
		return nil, errNote(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, "not a regular file"
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, errNote(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, FileCap+1))
	if err != nil {
		return nil, errNote(err)
	}
	if int64(len(data)) > FileCap {
		return data[:FileCap], fmt.Sprintf("cut at %d bytes of %d", FileCap, fi.Size())
	}
	return data, ""
}

// resolve follows symbolic links at the end of name the way a chroot
// would: an absolute target (/etc/resolv.conf -> /run/systemd/...) is
// taken from the root too, which os.Root alone refuses as an escape; a
// relative one that leaves the root stays refused.
func resolve(root *os.Root, name string) (string, error) {
	for range 8 {
		fi, err := root.Lstat(name)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return name, err
		}
		target, err := root.Readlink(name)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			name = strings.TrimPrefix(path.Clean(target), "/")
		} else {
			name = path.Join(path.Dir(name), target)
		}
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", name)
}

func errNote(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "not present"
	}
	return err.Error()
}

// journal is the systemd journal of the root when it keeps one, else our
// own log files (collected with the other files).
func journal(ctx context.Context, root *os.Root, dir string) []item {
	persistent, volatile := statDir(root, "var/log/journal"), dir == "/" && statDir(root, "run/log/journal")
	if !persistent && !volatile {
		return []item{{source: "journal", note: "no journal in " + dir + "; the log files are collected instead"}}
	}
	args := []string{"--no-pager", "-o", "short-iso", "-n", fmt.Sprint(JournalLines)}
	if dir != "/" {
		args = append(args, "--root", dir)
	}
	return []item{command(ctx, "journal.txt", "journalctl", args...)}
}

func statDir(root *os.Root, name string) bool {
	fi, err := root.Stat(name)
	return err == nil && fi.IsDir()
}

// commands are the running machine's network, kernel log and hardware.
func commands(ctx context.Context) []item {
	return []item{
		command(ctx, "commands/ip-addr.json", "ip", "-j", "addr", "show"),
		command(ctx, "commands/ip-route.json", "ip", "-j", "route", "show", "table", "all"),
		command(ctx, "commands/ip-route6.json", "ip", "-j", "-6", "route", "show", "table", "all"),
		command(ctx, "commands/dmesg.txt", "dmesg", "--time-format", "iso"),
		command(ctx, "commands/lsblk.json", "lsblk", "-J", "-b", "-o", "NAME,KNAME,PATH,TYPE,SIZE,RM,RO,TRAN,VENDOR,MODEL,SERIAL,FSTYPE,LABEL,PARTLABEL,UUID,MOUNTPOINTS"),
		command(ctx, "commands/lspci.txt", "lspci", "-nnk"),
		command(ctx, "commands/lsusb.txt", "lsusb"),
		command(ctx, "commands/lsusb-tree.txt", "lsusb", "-t"),
	}
}

// command runs name with args, bounded by CommandTimeout and CommandCap.
func command(ctx context.Context, entry, name string, args ...string) item {
	it := item{name: entry, source: strings.Join(append([]string{name}, args...), " ")}
	if _, err := exec.LookPath(name); err != nil {
		it.name, it.note = "", name+" is not installed"
		return it
	}
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	out := &capped{max: CommandCap}
	errOut := &capped{max: 4096}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	it.data = out.buf
	var notes []string
	if out.cut > 0 {
		notes = append(notes, fmt.Sprintf("output cut at %d bytes (%d more)", CommandCap, out.cut))
	}
	if ctx.Err() == context.DeadlineExceeded {
		notes = append(notes, fmt.Sprintf("stopped after %s", CommandTimeout))
	} else if err != nil {
		notes = append(notes, strings.TrimSpace(err.Error()+": "+string(errOut.buf)))
	}
	it.note = strings.Join(notes, "; ")
	if len(it.data) == 0 && err != nil {
		it.name = ""
	}
	return it
}

// capped keeps the first max bytes written to it and counts the rest.
type capped struct {
	buf []byte
	max int
	cut int
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - len(c.buf)
	if room > len(p) {
		room = len(p)
	}
	c.buf = append(c.buf, p[:room]...)
	c.cut += len(p) - room
	return len(p), nil
}

// certSummary is what a bundle says about a certificate: never the key.
type certSummary struct {
	File      string    `json:"file"`
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Expired   bool      `json:"expired"`
	SHA256    string    `json:"sha256"`
}

// certificates summarises the enrollment's device and CA certificates.
// The private key next to them is only checked for presence, never opened.
func certificates(root *os.Root) []item {
	var sums []certSummary
	var notes []string
	for _, name := range []string{"device.crt", "ca.crt"} {
		p := path.Join(onboard.UMSDir, name)
		data, note := readCapped(root, p)
		if data == nil {
			notes = append(notes, "/"+p+": "+note)
			continue
		}
		block, _ := pem.Decode(data)
		if block == nil || block.Type != "CERTIFICATE" {
			notes = append(notes, "/"+p+": no PEM certificate")
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			notes = append(notes, "/"+p+": "+err.Error())
			continue
		}
		sum := sha256.Sum256(c.Raw)
		sums = append(sums, certSummary{File: "/" + p, Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			Serial: c.SerialNumber.Text(16), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
			Expired: time.Now().After(c.NotAfter), SHA256: hex.EncodeToString(sum[:])})
	}
	key := path.Join(onboard.UMSDir, "device.key")
	if _, err := root.Lstat(key); err == nil {
		notes = append(notes, "/"+key+": present, not collected")
	}
	if len(sums) == 0 {
		return []item{{source: "/" + onboard.UMSDir, note: strings.Join(notes, "; ")}}
	}
	data, _ := json.MarshalIndent(sums, "", "  ")
	return []item{{name: "certificates.json", source: "/" + onboard.UMSDir, data: append(data, '\n'), note: strings.Join(notes, "; ")}}
}

// diskReport is one disk as osc inspect --json describes it.
type diskReport struct {
	Path       string                `json:"path"`
	Inspection *installer.Inspection `json:"inspection,omitempty"`
	Error      string                `json:"error,omitempty"`
}

// disks inspects every disk the kernel lists, read-only, each bounded by
// InspectTimeout (a dying disk may hang a read; it is then reported and
// left behind).
func disks(ctx context.Context) item {
	it := item{name: "disks.json", source: "osc inspect --json (every disk)"}
	drives, err := blockdev.List()
	if err != nil {
		return item{source: it.source, note: err.Error()}
	}
	reports := []diskReport{}
	for _, d := range drives {
		type result struct {
			in  *installer.Inspection
			err error
		}
		done := make(chan result, 1)
		go func() {
			in, err := installer.Inspect(d.Path)
			done <- result{in, err}
		}()
		r := diskReport{Path: d.Path}
		select {
		case res := <-done:
			r.Inspection = res.in
			if res.err != nil {
				r.Error = res.err.Error()
			}
		case <-time.After(InspectTimeout):
			r.Error = fmt.Sprintf("no answer within %s", InspectTimeout)
		case <-ctx.Done():
			return item{source: it.source, note: ctx.Err().Error()}
		}
		reports = append(reports, r)
	}
	it.data, _ = json.MarshalIndent(reports, "", "  ")
	it.data = append(it.data, '\n')
	return it
}
