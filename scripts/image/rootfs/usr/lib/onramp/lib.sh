# Shell functions shared by the system's boot scripts in /usr/lib/onramp
# (installer, firstboot, ready, session; started by systemd units). POSIX sh.

# say prints a line on every console the kernel writes to (the screen and
# the serial line alike, as listed in /proc/consoles), else on /dev/console.
# The e2e tests wait for the ONRAMP-* markers said this way on the serial
# console.
say() {
	_cs=$(awk '{print $1}' /proc/consoles 2>/dev/null)
	[ -n "$_cs" ] || _cs=console
	for _c in $_cs; do
		[ -c "/dev/$_c" ] && echo "$*" >"/dev/$_c" 2>/dev/null
	done
	return 0
}

# cmdline_value KEY prints the value of KEY=value on the kernel command line.
cmdline_value() {
	for _a in $(cat /proc/cmdline); do
		case $_a in "$1="*) echo "${_a#"$1"=}" ;; esac
	done
}

# cmdline_flag ARG succeeds when ARG is a word of the kernel command line.
cmdline_flag() {
	for _a in $(cat /proc/cmdline); do
		[ "$_a" = "$1" ] && return 0
	done
	return 1
}
