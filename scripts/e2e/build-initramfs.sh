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
# shellcheck source=scripts/lib/debian-guest.sh
. "$root/scripts/lib/debian-guest.sh"

"$here/deps.sh"
mkdir -p "$debs" "$stage"

kpkg=$(debian_kernel_pkg)
kver=${kpkg#linux-image-}

tools=(hostapd wpasupplicant dnsmasq-base iw kmod busybox-static wireless-regdb libssl3)
# The libraries those depend on, transitively (the ones a binary really
# needs are picked below by what the dynamic loader resolves).
want=("$kpkg" "${tools[@]}")
while read -r p; do want+=("$p"); done < <(debian_lib_deps "${tools[@]}")
debian_fetch "$out" "${want[@]}"

moddir=$stage/lib/modules/$kver
[ -d "$moddir" ] || { echo "e2e: no modules for $kver in $stage" >&2; exit 1; }
cp "$stage/boot/vmlinuz-$kver" "$out/vmlinuz"

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
for b in hostapd wpa_supplicant dnsmasq iw kmod; do debian_add_binary "$stage" "$img" "$b"; done
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
debian_add_modules "$stage" "$img" "$kver" "${mods[@]}"

cp "$out/netcfg-e2e.test" "$img/e2e/netcfg-e2e.test"
cp "$out/eap/server.pem" "$out/eap/server.key" "$img/e2e/"
cp "$here/init" "$img/init"
chmod +x "$img/init"
echo "root:x:0:0:root:/:/bin/sh" >"$img/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/false" >>"$img/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$img/etc/group"

(cd "$img" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 >"$out/initramfs.cpio.gz")
echo "e2e: $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1)), kernel $kver" >&2
