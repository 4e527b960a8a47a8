package fakesys

import (
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// devNumber is "MAJ:MIN" of the file system holding fi.
func devNumber(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return strconv.Itoa(int(unix.Major(st.Dev))) + ":" + strconv.Itoa(int(unix.Minor(st.Dev))), true
}
