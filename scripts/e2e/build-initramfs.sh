#!/usr/bin/env bash
# Builds the e2e guest for the real-radio WLAN test (issue 4): Debian's
# kernel and an initramfs made from Debian packages (hostapd, wpasupplicant,
# dnsmasq-base, iw, kmod, busybox-static and the libraries they need),
# fetched with `apt-get download` and unpacked with dpkg -x: nothing of the
# guest is installed on the host. The initramfs also holds the netcfg/host
# test binary (built statically) and scripts/e2e/init as /init.
#
# Idempotent: downloads and the unpacked staging tree are cached under
# build/e2e/; the initramfs is packed again every run (a few seconds).
# Output: build/e2e/vmlinuz, build/e2e/initramfs.cpio.gz.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/scripts/e2e
out=$root/build/e2e
debs=$out/debs
stage=$out/stage # every package unpacked, the pool the initramfs is picked from
img=$out/initramfs
export PATH=/usr/local/go/bin:$PATH

"$here/deps.sh"
mkdir -p "$debs" "$stage"

# The kernel package linux-image-amd64 points at (a versioned one).
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$kpkg" ]; then
	apt-get update -qq
	kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
kver=${kpkg#linux-image-}

tools=(hostapd wpasupplicant dnsmasq-base iw kmod busybox-static wireless-regdb libssl3)
# The libraries those depend on, transitively (the ones a binary really
# needs are picked below by what the dynamic loader resolves).
want=("$kpkg" "${tools[@]}")
while read -r p; do want+=("$p"); done < <(
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "${tools[@]}" 2>/dev/null |
		grep -E '^lib' | grep -vE '^lib(pam|selinux|semanage|sepol|audit|newt|slang|debian-installer|textwrap)' | sort -u)

stamp=$out/debs.list
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(printf '%s\n' "${want[@]}" | sort -u)" ]; then
	echo "e2e: downloading ${#want[@]} Debian packages" >&2
	(cd "$debs" && rm -f ./*.deb && apt-get download -q "${want[@]}" >/dev/null 2>"$out/download.log") || {
		apt-get update -qq
		(cd "$debs" && apt-get download -q "${want[@]}" >/dev/null)
	}
	rm -rf "$stage" && mkdir -p "$stage"
	for d in "$debs"/*.deb; do dpkg -x "$d" "$stage"; done
	printf '%s\n' "${want[@]}" | sort -u >"$stamp"
fi

moddir=$stage/lib/modules/$kver
[ -d "$moddir" ] || { echo "e2e: no modules for $kver in $stage" >&2; exit 1; }
cp "$stage/boot/vmlinuz-$kver" "$out/vmlinuz"
[ -f "$moddir/modules.dep" ] || depmod -b "$stage" "$kver" # the package's postinst would

# The test binary: the real netcfg/host backend, static.
CGO_ENABLED=0 go test -c -o "$out/netcfg-e2e.test" ./netcfg/host/

# A self-signed certificate for hostapd's internal EAP server (PEAP).
if [ ! -f "$out/eap/server.pem" ]; then
	mkdir -p "$out/eap"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=radius.lab.example" \
		-keyout "$out/eap/server.key" -out "$out/eap/server.pem" 2>/dev/null
fi

rm -rf "$img"
mkdir -p "$img"/{bin,sbin,usr/bin,usr/sbin,lib64,lib/firmware,etc,proc,sys,dev,tmp,run,var/run,e2e}
ld=$stage/lib64/ld-linux-x86-64.so.2
libpath=$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu

# add copies a dynamic binary and every library the loader resolves for it
# from the staging tree (the same thing ldd does, against the guest's libs).
add() {
	local rel0 src dst
	for rel0 in usr/sbin/$1 sbin/$1 usr/bin/$1 bin/$1 ""; do [ -z "$rel0" ] || [ -f "$stage/$rel0" ] && break; done
	[ -n "$rel0" ] || { echo "e2e: no $1 in the staging tree" >&2; exit 1; }
	src=$stage/$rel0 dst=$img/$rel0
	mkdir -p "$(dirname "$dst")"
	cp "$src" "$dst"
	local libs
	libs=$("$ld" --library-path "$libpath" --list "$src")
	if grep -q 'not found' <<<"$libs"; then
		echo "e2e: $1: libraries missing from the staging tree:" >&2
		grep 'not found' <<<"$libs" >&2
		exit 1
	fi
	awk '/=> \// {print $3}' <<<"$libs" | while read -r lib; do
		local rel=${lib#"$stage"/}
		[ "$rel" != "$lib" ] || { echo "e2e: $1 needs $lib from outside the staging tree" >&2; exit 1; }
		[ -e "$img/$rel" ] || { mkdir -p "$img/$(dirname "$rel")"; cp -L "$lib" "$img/$rel"; }
	done
}
cp "$ld" "$img/lib64/"
for b in hostapd wpa_supplicant dnsmasq iw kmod; do add "$b"; done
# OpenSSL's legacy provider (MD4/DES for MSCHAPv2): loaded by the programs
# themselves, so the loader does not list it.
mkdir -p "$img/usr/lib/x86_64-linux-gnu/ossl-modules"
cp "$stage/usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so" "$img/usr/lib/x86_64-linux-gnu/ossl-modules/"
cp "$stage"/lib/firmware/regulatory.db* "$img/lib/firmware/" 2>/dev/null || true

cp "$stage/bin/busybox" "$img/bin/busybox"
for a in $("$img/bin/busybox" --list); do
	[ -e "$img/bin/$a" ] || ln -s busybox "$img/bin/$a"
done
for a in modprobe insmod lsmod rmmod modinfo depmod; do
	ln -sf /bin/kmod "$img/sbin/$a"
done

# Kernel modules: mac80211_hwsim, what it depends on, and the crypto
# mac80211 asks for at run time (CCMP, BIP, GCMP); depmod makes modprobe work.
mods=(mac80211_hwsim ctr ccm cmac gcm ghash_generic gf128mul ecb seqiv aes_generic libaes arc4 af_packet)
declare -A seen=()
modfile() { modinfo -k "$kver" -b "$stage" -n "$1" 2>/dev/null || true; }
resolve() {
	local m=${1//-/_} f
	[ -z "${seen[$m]:-}" ] || return 0
	seen[$m]=1
	f=$(modfile "$m")
	[ -n "$f" ] && [ -f "$f" ] || return 0 # built in
	mkdir -p "$img/$(dirname "${f#"$stage"/}")"
	cp "$f" "$img/${f#"$stage"/}"
	local d
	for d in $(modinfo -b "$stage" -k "$kver" -F depends "$f" | tr ',' ' '); do resolve "$d"; done
}
for m in "${mods[@]}"; do resolve "$m"; done
cp "$moddir"/modules.{order,builtin,builtin.modinfo} "$img/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$img" "$kver"

cp "$out/netcfg-e2e.test" "$img/e2e/netcfg-e2e.test"
cp "$out/eap/server.pem" "$out/eap/server.key" "$img/e2e/"
cp "$here/init" "$img/init"
chmod +x "$img/init"
echo "root:x:0:0:root:/:/bin/sh" >"$img/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/false" >>"$img/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$img/etc/group"

(cd "$img" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 >"$out/initramfs.cpio.gz")
echo "e2e: $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1)), kernel $kver" >&2
