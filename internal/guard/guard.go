// Package guard is the boundary around a dependency's parser that may
// still trust what it reads: a panic inside becomes an error, so hostile
// input ends in a clear refusal (exit 5, invalid image), never in a stack
// trace.
package guard

import (
	"errors"
	"fmt"
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
