//go:build !linux

package testutil

import "testing"

// offSystemDisk is the file itself: only Linux has loop devices.
func offSystemDisk(_ testing.TB, file string) string { return file }
