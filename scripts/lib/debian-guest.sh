# Shared by the test scripts that build small guests from Debian packages
# (scripts/e2e/build-initramfs.sh for the WLAN guest, scripts/e2e/
# medium-boot.sh for its marker initramfs; the product system is built by
# scripts/image/system.sh with mmdebstrap instead): packages are
# fetched with `apt-get download` and unpacked with `dpkg -x` into a staging
# tree, and the programs, libraries and kernel modules a guest needs are
# picked from there. Nothing of the guest is installed on the host.
# Source it from bash; the functions exit on errors like the callers do.

# debian_kernel_pkg prints the versioned kernel package linux-image-amd64
# points at (linux-image-6.1.0-NN-amd64).
debian_kernel_pkg() {
	local k
	k=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$k" ]; then
		apt-get update -qq
		k=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$k" ] || { echo "debian-guest: linux-image-amd64 names no kernel package" >&2; exit 1; }
	echo "$k"
}

# debian_lib_deps PKG... prints the library packages PKG... depend on,
# transitively; the ones a binary really needs are picked later by what the
# dynamic loader resolves (debian_add_binary).
debian_lib_deps() {
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$@" 2>/dev/null |
		grep -E '^lib' | grep -vE '^lib(pam|selinux|semanage|sepol|audit|newt|slang|debian-installer|textwrap)' | sort -u
}

# debian_fetch DIR PKG... downloads the packages into DIR/debs and unpacks
# every one into DIR/stage. Cached: while the package list is the one of the
# last run (DIR/debs.list), nothing is downloaded or unpacked again.
debian_fetch() {
	local dir=$1 d
	shift
	local debs=$dir/debs stage=$dir/stage stamp=$dir/debs.list
	mkdir -p "$debs" "$stage"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(printf '%s\n' "$@" | sort -u)" ]; then
		return 0
	fi
	echo "debian-guest: downloading $# Debian packages into $debs" >&2
	(cd "$debs" && rm -f ./*.deb && apt-get download -q "$@" >/dev/null 2>"$dir/download.log") || {
		apt-get update -qq
		(cd "$debs" && apt-get download -q "$@" >/dev/null)
	}
	rm -rf "$stage" && mkdir -p "$stage"
	for d in "$debs"/*.deb; do dpkg -x "$d" "$stage"; done
	printf '%s\n' "$@" | sort -u >"$stamp"
}

# debian_add_binary STAGE ROOT NAME... copies each program NAME (looked up
# in usr/sbin, sbin, usr/bin, bin of STAGE) into the same place under ROOT,
# with every library the dynamic loader resolves for it from STAGE (the
# same thing ldd does, against the guest's libraries) and the loader itself.
debian_add_binary() {
	local stage=$1 root=$2 name rel0 src libs lib rel
	shift 2
	local ld=$stage/lib64/ld-linux-x86-64.so.2
	local libpath=$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu
	mkdir -p "$root/lib64"
	[ -e "$root/lib64/ld-linux-x86-64.so.2" ] || cp "$ld" "$root/lib64/"
	for name in "$@"; do
		for rel0 in usr/sbin/$name sbin/$name usr/bin/$name bin/$name ""; do
			[ -z "$rel0" ] || [ -f "$stage/$rel0" ] && break
		done
		[ -n "$rel0" ] || { echo "debian-guest: no $name in the staging tree" >&2; exit 1; }
		src=$stage/$rel0
		mkdir -p "$(dirname "$root/$rel0")"
		cp "$src" "$root/$rel0"
		libs=$("$ld" --library-path "$libpath" --list "$src")
		if grep -q 'not found' <<<"$libs"; then
			echo "debian-guest: $name: libraries missing from the staging tree:" >&2
			grep 'not found' <<<"$libs" >&2
			exit 1
		fi
		while read -r lib; do
			rel=${lib#"$stage"/}
			[ "$rel" != "$lib" ] || { echo "debian-guest: $name needs $lib from outside the staging tree" >&2; exit 1; }
			[ -e "$root/$rel" ] || { mkdir -p "$root/$(dirname "$rel")"; cp -L "$lib" "$root/$rel"; }
		done < <(awk '/=> \// {print $3}' <<<"$libs")
	done
}

# debian_add_modules STAGE ROOT KVER MOD... copies the kernel modules MOD
# (those built into the kernel are skipped) and, by modinfo, what they
# depend on from STAGE into ROOT, then runs depmod for ROOT so modprobe
# works there.
debian_add_modules() {
	local stage=$1 root=$2 kver=$3 m
	shift 3
	[ -f "$stage/lib/modules/$kver/modules.dep" ] || depmod -b "$stage" "$kver" # the package's postinst would
	declare -gA _debian_mod_seen=()
	for m in "$@"; do _debian_add_module "$stage" "$root" "$kver" "$m"; done
	cp "$stage/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
	depmod -b "$root" "$kver"
}

_debian_add_module() {
	local stage=$1 root=$2 kver=$3 m=${4//-/_} f d
	[ -z "${_debian_mod_seen[$m]:-}" ] || return 0
	_debian_mod_seen[$m]=1
	f=$(modinfo -k "$kver" -b "$stage" -n "$m" 2>/dev/null || true)
	[ -n "$f" ] && [ -f "$f" ] || return 0 # built in
	mkdir -p "$root/$(dirname "${f#"$stage"/}")"
	cp "$f" "$root/${f#"$stage"/}"
	for d in $(modinfo -b "$stage" -k "$kver" -F depends "$f" | tr ',' ' '); do
		_debian_add_module "$stage" "$root" "$kver" "$d"
	done
}
