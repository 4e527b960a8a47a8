// Package exitcode gives errors a kind that maps to the process exit codes of
// DESIGN.md, so every command reports the same failure the same way. It is not
// an error-handling framework: it only tags errors and reads the tag back.
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies a failure by what the user has to do about it.
type Kind int

// The kinds, in the order of their exit codes.
const (
	OK           Kind = iota // 0
	Failure                  // 1: anything without a more specific kind
	Usage                    // 2: bad arguments or flags
	Refused                  // 3: a safety check refused the operation
	VerifyFailed             // 4: read-back verification found a difference
	ImageInvalid             // 5: image unreadable, checksum or signature bad
	Aborted                  // 130: interrupted by the user
)

// Code is the process exit code of a kind.
func (k Kind) Code() int {
	switch k {
	case OK:
		return 0
	case Usage:
		return 2
	case Refused:
		return 3
	case VerifyFailed:
		return 4
	case ImageInvalid:
		return 5
	case Aborted:
		return 130
	default:
		return 1
	}
}

func (k Kind) String() string {
	switch k {
	case OK:
		return "ok"
	case Usage:
		return "usage"
	case Refused:
		return "refused"
	case VerifyFailed:
		return "verify-failed"
	case ImageInvalid:
		return "image-invalid"
	case Aborted:
		return "aborted"
	default:
		return "failure"
	}
}

// Error is an error with a kind.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k with a formatted message (%w wraps as usual).
func New(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// Wrap tags err with kind k; nil stays nil.
func Wrap(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// KindOf reports the kind of err: the outermost tagged kind, Aborted for a
// cancelled context, Failure for anything else, OK for nil.
func KindOf(err error) Kind {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.Canceled) {
		return Aborted
	}
	return Failure
}

// Code is KindOf(err).Code().
func Code(err error) int { return KindOf(err).Code() }
