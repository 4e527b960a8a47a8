package images

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// PayloadDir is the folder of an installer ISO that holds the payload.
const PayloadDir = "onramp"

// isoPayload is the onramp/ folder of an ISO, read with go-diskfs without
// mounting (the live installer may run where mounting is not possible, and a
// mount would hold the medium).
type isoPayload struct {
	fs.FS
	f *os.File
}

func openISOPayload(path string) (*isoPayload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, invalid("payload %s: %v", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, invalid("payload %s: %v", path, err)
	}
	size := fi.Size()
	if fi.Mode()&fs.ModeDevice != 0 {
		end, err := f.Seek(0, 2)
		if err != nil {
			f.Close()
			return nil, invalid("payload %s: size: %v", path, err)
		}
		size = end
	}
	iso, err := iso9660.Read(file.New(f, true), size, 0, 2048)
	if err != nil {
		f.Close()
		return nil, invalid("payload %s is neither a payload directory nor a readable ISO 9660 image: %v", path, err)
	}
	sub, err := fs.Sub(iso, PayloadDir)
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

func (p *isoPayload) Close() error {
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", p.f.Name(), err)
	}
	return nil
}
