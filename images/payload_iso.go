package images

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"

	"github.com/onramp-os/onramp/internal/guard"
	"github.com/onramp-os/onramp/internal/inputfile"
)

// PayloadDir is the folder of an ISO that holds the payload.
const PayloadDir = "onramp"

// isoPayload is the onramp/ folder of an ISO, read with go-diskfs without
// mounting (the live installer may run where mounting is not possible, and a
// mount would hold the medium).
type isoPayload struct {
	fs.FS
	f *os.File
}

// openISOPayload opens the ISO at path, a regular file or a block device
// (an installer stick), checks its structures (checkISO) and reads it with
// go-diskfs behind a guard: whatever that reader still panics on is an
// invalid image (exit 5), never a stack trace.
func openISOPayload(path string) (*isoPayload, error) {
	f, err := inputfile.Open(path, inputfile.BlockDevices)
	if err != nil {
		return nil, invalid("payload %s: %v", path, err)
	}
	fsys, err := readISO(f)
	if err != nil {
		f.Close()
		return nil, invalid("payload %s is neither a payload directory nor a valid ISO 9660 image: %v", path, err)
	}
	sub, err := fs.Sub(fsys, PayloadDir)
	if err != nil {
		f.Close()
		return nil, invalid("payload %s: %v", path, err)
	}
	if _, err := fs.Stat(sub, ManifestName); err != nil {
		f.Close()
		return nil, invalid("payload %s: no %s/%s on the ISO: %v", path, PayloadDir, ManifestName, err)
	}
	return &isoPayload{FS: sub, f: f}, nil
}

// isoImage is what readISO reads: an open file or device, or the bytes of
// an image in memory (the fuzz test).
type isoImage interface {
	fs.File
	io.ReaderAt
	io.Seeker
}

// readISO checks the image in f and opens it with go-diskfs, guarded.
func readISO(f isoImage) (fs.FS, error) {
	size, err := f.Seek(0, io.SeekEnd) // the size of a file and of a block device alike
	if err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	if err := checkISO(f, size); err != nil {
		return nil, err
	}
	var iso *iso9660.FileSystem
	if err := guard.Call(func() error {
		iso, err = iso9660.Read(file.New(f, true), size, 0, isoBlock)
		return err
	}); err != nil {
		return nil, invalidImage(err)
	}
	return guard.FS(iso, invalidImage), nil
}

// invalidImage says what a panic in go-diskfs' ISO reader means.
func invalidImage(err error) error {
	if errors.Is(err, guard.ErrPanicked) {
		return fmt.Errorf("invalid image (%w)", err)
	}
	return err
}

func (p *isoPayload) Close() error {
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", p.f.Name(), err)
	}
	return nil
}
