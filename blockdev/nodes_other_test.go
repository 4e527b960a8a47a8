//go:build !linux

package blockdev

import "errors"

// makeBlockNode needs Linux device numbers; elsewhere the fake tree runs
// without device nodes and Lookup falls back to kernel names.
func makeBlockNode(path, dev string) error {
	return errors.New("device nodes for the fake tree are only made on Linux")
}
