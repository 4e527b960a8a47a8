// Package guard is the boundary around a dependency's parser that may
// still trust what it reads: a panic inside becomes an error, so hostile
// input ends in a clear refusal (exit 5, invalid image), never in a stack
// trace.
package guard

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrPanicked marks an error that was a panic in the guarded code.
var ErrPanicked = errors.New("the reader failed")

// Call runs fn and returns its error, or ErrPanicked with the panic's value
// when fn panicked.
func Call(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanicked, r)
		}
	}()
	return fn()
}

// FS returns fsys with every call guarded, on it and on the files it
// opens; onPanic turns the ErrPanicked error of a panic into the error
// returned (naming what was being read). Other errors pass unchanged.
func FS(fsys fs.FS, onPanic func(error) error) fs.ReadDirFS {
	return guardedFS{fsys, onPanic}
}

type guardedFS struct {
	fsys    fs.FS
	onPanic func(error) error
}

func (g guardedFS) call(fn func() error) error {
	err := Call(fn)
	if errors.Is(err, ErrPanicked) {
		return g.onPanic(err)
	}
	return err
}

func (g guardedFS) Open(name string) (f fs.File, err error) {
	err = g.call(func() error {
		f, err = g.fsys.Open(name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return guardedFile{f, g}, nil
}

func (g guardedFS) ReadDir(name string) (entries []fs.DirEntry, err error) {
	err = g.call(func() error {
		entries, err = fs.ReadDir(g.fsys, name)
		return err
	})
	return entries, err
}

type guardedFile struct {
	f fs.File
	g guardedFS
}

func (f guardedFile) Read(b []byte) (n int, err error) {
	err = f.g.call(func() error {
		n, err = f.f.Read(b)
		return err
	})
	return n, err
}

func (f guardedFile) Stat() (fi fs.FileInfo, err error) {
	err = f.g.call(func() error {
		fi, err = f.f.Stat()
		return err
	})
	return fi, err
}

func (f guardedFile) ReadDir(n int) (entries []fs.DirEntry, err error) {
	d, ok := f.f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Err: fs.ErrInvalid}
	}
	err = f.g.call(func() error {
		entries, err = d.ReadDir(n)
		return err
	})
	return entries, err
}

func (f guardedFile) Close() error { return f.g.call(f.f.Close) }
