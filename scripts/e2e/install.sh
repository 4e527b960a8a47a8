#!/usr/bin/env bash
# The installer medium's and the Debian 13 system's proof (issues 7 and 20),
# in QEMU under TCG, Secure Boot enforced wherever UEFI boots (OVMF with
# Microsoft's keys: OVMF_CODE_4M.ms.fd + OVMF_VARS_4M.ms.fd, SMM):
#   1. make image (scripts/image/build.sh; the system is cached), then ISOs
#      with install answers written with `osc write` to sticks;
#   2. the stick on USB 2.0 (usb-ehci + usb-storage) installs unattended
#      onto an NVMe disk (target auto) and powers off; the host judges the
#      disk (sgdisk -v, osc inspect, fsck.fat, fsck.ext4, sbverify of the
#      ESP's boot chain, /etc/os-release of the slot says trixie);
#   3. the same stick over an earlier installation seeded with settings and
#      licenses: they are migrated byte for byte (SHA-256 lists) and the
#      backup is on the stick's OSC-BACKUP partition (fsck.fat-clean);
#   4. the NVMe disk boots (shim -> GRUB -> signed kernel) with an e1000e
#      NIC: the setup assistant sets a static address and onboards against
#      `ums-lab serve` on the host's loopback, reached only through user
#      networking on 192.0.2.0/24 with restrict=on and a guestfwd;
#   5. its second boot: systemd-networkd brings the saved static address
#      up by itself, onramp-agent checks in and receives the license
#      assigned in ums-lab, and a probe unit the test puts into DATA (bash's
#      /dev/tcp, no test tools in the image) reaches ums-lab; the kernel
#      reports Secure Boot on;
#   6. a kernel without its signature on that ESP is refused by GRUB/shim;
#   7. SATA (ahci + ide-hd) target chosen by target rules, its first boot
#      gets DHCP on an rtl8139 NIC by itself and fails to onboard (a wrong
#      one-time password): support information lands on a second stick;
#   8. eMMC/SD (sdhci-pci + sd-card) target chosen by target rules; OVMF has
#      no SD host driver, so the kernel and initrd are taken from its ESP
#      and started directly: the initrd finds the system on mmcblk0;
#   6b. (chain) the onboarded, checked-in device reinstalled with migration
#      boots straight to ready and checks in with the same certificate, no
#      key used; reinstalled without, the setup assistant runs again, and
#      Ctrl+Alt+F11 opens the rescue console's root shell;
#   8b. (wlan) a disk whose first boot joins WPA2 through an injected
#      mac80211_hwsim access point; its second boot brings wlan0 up itself;
#   9. SeaBIOS boots the legacy variant from a stick and installs; then
#      SeaBIOS boots that disk through GRUB to the end of its first boot;
#  10. xorriso and fdisk judge the boot records and the hybrid table of both
#      ISOs.
# E2E_INSTALL_TIMEOUT (seconds, default 3000; the 17 boots took about 2000 s in a
# full CI run here) bounds the QEMU boots
# together (building the image before them is not counted); E2E_BUILD=0
# skips rebuilding the image; E2E_ACCEL picks QEMU's accelerator (default
# tcg); E2E_ROWS (default "nvme unsigned chain migrate sata mmc wlan
# legacy": steps 2+4+5, 6, 6b, 3, 7, 8, 8b, 9; unsigned and chain need nvme) picks rows, and
# E2E_WORK (default build/e2e-install) the work directory, so row groups
# can run side by side. A failing boot prints its serial log; a summary of
# timings ends a pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$PATH
root=$PWD
. "$root/scripts/lib/cache.sh"
work=${E2E_WORK:-$root/build/e2e-install}
image=$root/build/image
payload=$image/payload
legacy_payload=$image/payload-legacy
devkey=$root/scripts/image/dev.pub # the sample's development signing key
version=12.5.0
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.ms.fd # Secure Boot, needs SMM
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd # Microsoft's keys enrolled, Secure Boot on
accel=${E2E_ACCEL:-tcg}
budget=${E2E_INSTALL_TIMEOUT:-3000}
rows=" ${E2E_ROWS:-nvme unsigned chain migrate sata mmc wlan legacy} "
mac=52:54:00:0e:2e:01
unit_id=5254000E2E01 # the Unit ID of that NIC (DESIGN.md: the MAC, upper-case hex)
lab_ip=192.0.2.100   # ums-lab as the guests see it (guestfwd)
guest_ip=192.0.2.15  # the static address the first boot sets

[ "$(id -u)" -eq 0 ] || { echo "install-e2e: needs root (loop devices, mount)" >&2; exit 1; }
./scripts/e2e/deps.sh
go build -o bin/ ./cmd/...
rm -rf "$work"
mkdir -p "$work"

qpid="" labpid="" mnt="" loops=() log=""
unloop() {
	for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	loops=()
}
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	[ -z "$labpid" ] || kill "$labpid" 2>/dev/null || true
	[ -z "$mnt" ] || umount "$mnt" 2>/dev/null || true
	unloop
}
trap cleanup EXIT
trap 'exit 143' TERM INT

fail() {
	echo "install-e2e: FAIL: $*" >&2
	if [ -n "$log" ] && [ -f "$log" ]; then
		{
			echo "=== guest serial log ($log) ==="
			tr -d '\r' <"$log"
			echo "=== end of guest serial log ==="
		} >&2
	fi
	exit 1
}

now() { date +%s.%N; }
# secs START [END]: seconds between two now() values, one decimal.
secs() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'; }

declare -A timing=()
order=()
record() { timing[$1]=$2; order+=("$1"); }
timed() { # timed NAME COMMAND...: runs the command, records its duration
	local name=$1 t0
	shift
	t0=$(now)
	"$@"
	record "$name" "$(secs "$t0")"
}
row() { [[ $rows == *" $1 "* ]]; }

# --- 1. the image, the lab, the answers ISOs, the sticks -------------------
if [ "${E2E_BUILD:-1}" != 0 ] || [ ! -f "$image/osc-$version.iso" ]; then
	timed "make image" ./scripts/image/build.sh
fi
for f in "$payload/manifest.sig" "$legacy_payload/manifest.sig" "$devkey" \
	"$image/osc-$version.iso" "$image/osc-${version}_legacy.iso"; do
	[ -f "$f" ] || fail "make image did not produce $f"
done

lab=$work/lab
otp=$(bin/ums-lab --state "$lab" keys create --one-time)
token=$(bin/ums-lab --state "$lab" token --part 3)
umask 077 # the answers hold the one-time password
# answers FILE TARGET FIRSTBOOT-NETWORK ONBOARDING: install answers.
answers() {
	cat >"$1" <<EOF
target: $2
accept_eula: true
migrate_settings: auto
migrate_licenses: auto
after: poweroff
firstboot:
  language: en_US
  eula: accept
  network: $3
  timezone: UTC
  onboarding: $4
EOF
}
# The NVMe row: a static address (kept for the second boot) and onboarding.
# (No name servers: restrict=on leaves user networking's DNS unanswered,
# and the assistant checks that they answer.)
answers "$work/install-answers.yaml" auto "{wired: {address: $guest_ip/24, gateway: 192.0.2.2}}" \
	"{server: $lab_ip, port: 8443, otp: \"$otp\", token: \"$token\"}"
# SATA: DHCP on whatever NIC the system brings up; onboarding with a
# one-time password ums-lab does not know, which fails (issue 16: the
# support information goes to a second stick).
answers "$work/install-answers-sata.yaml" '{bus: sata, model: "QEMU HARDDISK", min_size: 3G}' "{wired: dhcp}" \
	"{server: $lab_ip, port: 8443, otp: \"WRONG-Secret-7391\", token: \"$token\"}"
# eMMC/SD and legacy: no network.
# Both chosen by target rules (the stick is on USB, never matched unless named).
answers "$work/install-answers-mmc.yaml" "{bus: mmc, min_size: 3G}" skip skip
answers "$work/install-answers-legacy.yaml" auto skip skip
# The chain's last reinstall: no migration and no first-boot answers, so
# the setup assistant runs on the console again.
cat >"$work/install-answers-fresh.yaml" <<EOF
target: auto
accept_eula: true
migrate_settings: "no"
migrate_licenses: "no"
after: poweroff
EOF
umask 022

timed "ISO build" bin/osc image build --payload "$payload" --trust-key "$devkey" --answers "$work/install-answers.yaml" \
	--out "$work/osc-test.iso" >/dev/null
for r in sata mmc; do
	row "$r" || continue
	bin/osc image build --payload "$payload" --trust-key "$devkey" --answers "$work/install-answers-$r.yaml" \
		--out "$work/osc-test-$r.iso"
	truncate -s 2G "$work/usb-$r.img"
	bin/osc write --yes --force "$work/osc-test-$r.iso" "$work/usb-$r.img" >/dev/null
done
truncate -s 2G "$work/usb.img"
timed "osc write" bin/osc write --yes --force "$work/osc-test.iso" "$work/usb.img"
if row chain; then
	bin/osc image build --payload "$payload" --trust-key "$devkey" --answers "$work/install-answers-fresh.yaml" \
		--out "$work/osc-test-fresh.iso"
	truncate -s 2G "$work/usb-fresh.img"
	bin/osc write --yes --force "$work/osc-test-fresh.iso" "$work/usb-fresh.img" >/dev/null
fi
if row legacy; then
	bin/osc image build --payload "$legacy_payload" --variant legacy --trust-key "$devkey" --answers "$work/install-answers-legacy.yaml" \
		--memtest "$(onramp_cache)/image-system/boot/memtest86+x64.bin" --syslinux "$(onramp_cache)/image-system/boot/syslinux" --out "$work/osc-test_legacy.iso"
	truncate -s 2G "$work/usb2.img"
	bin/osc write --yes --force "$work/osc-test_legacy.iso" "$work/usb2.img"
fi

# --- QEMU ------------------------------------------------------------------
deadline=$(($(date +%s) + budget))
boot_start=""

# boot NAME FIRMWARE(sb|bios|kernel) QEMU-ARGS...: starts QEMU in the
# background, its serial console in $work/NAME.serial.log, bounded by what
# is left of the budget. sb: OVMF with Secure Boot enforced; bios:
# SeaBIOS; kernel: the caller passes -kernel/-initrd/-append.
boot() {
	local name=$1 fw=$2 left
	shift 2
	left=$((deadline - $(date +%s)))
	[ "$left" -gt 0 ] || fail "no time left for boot $name (E2E_INSTALL_TIMEOUT=$budget)"
	log=$work/$name.serial.log
	: >"$log"
	local firmware=()
	case $fw in
	sb)
		cp "$ovmf_vars" "$work/$name.vars.fd" # a writable copy per boot
		firmware=(-machine q35,smm=on,accel="$accel" -global driver=cfi.pflash01,property=secure,value=on
			-drive if=pflash,format=raw,unit=0,readonly=on,file="$ovmf_code"
			-drive if=pflash,format=raw,unit=1,file="$work/$name.vars.fd") ;;
	bios) firmware=(-machine pc,accel="$accel") ;;
	kernel) firmware=(-machine q35,accel="$accel") ;;
	esac
	echo "install-e2e: boot $name ($fw)"
	boot_start=$(now)
	timeout --kill-after=10 "$left" qemu-system-x86_64 "${firmware[@]}" -cpu max -smp 2 -m 2048 \
		-display none -monitor "unix:$work/$name.mon,server=on,wait=off" -serial "file:$log" -no-reboot "$@" &
	qpid=$!
}

# keys NAME KEY...: presses keys on guest NAME's keyboard (QEMU's monitor
# sendkey: "ctrl-alt-f11", "ret", "e", ...), a moment apart.
keys() {
	local name=$1 k
	shift
	for k in "$@"; do
		echo "sendkey $k" | socat - "UNIX-CONNECT:$work/$name.mon" >/dev/null || fail "QEMU monitor of $name: sendkey $k"
		sleep 0.3
	done
}
# type_line NAME TEXT: types TEXT (letters, digits, space and - . / < > $ ( ) * = ; & ")
# and RETURN on guest NAME's keyboard (US layout).
type_line() {
	local name=$1 text=$2 i c k
	local -a ks=()
	for ((i = 0; i < ${#text}; i++)); do
		c=${text:i:1}
		case $c in
		[a-z0-9]) k=$c ;;
		[A-Z]) k="shift-${c,,}" ;;
		' ') k=spc ;;
		-) k=minus ;;
		.) k=dot ;;
		/) k=slash ;;
		'>') k=shift-dot ;;
		'$') k=shift-4 ;;
		'(') k=shift-9 ;;
		')') k=shift-0 ;;
		'*') k=shift-8 ;;
		'=') k=equal ;;
		'<') k=shift-comma ;;
		'"') k=shift-apostrophe ;;
		';') k=semicolon ;;
		'&') k=shift-7 ;;
		*) fail "type_line: no key for '$c'" ;;
		esac
		ks+=("$k")
	done
	keys "$name" "${ks[@]}" ret
}

# The stick on USB 2.0, as most thin clients' front ports; the targets.
stick() { echo -drive "if=none,id=stick,format=raw,file=$1" -device usb-ehci,id=ehci -device usb-storage,bus=ehci.0,drive=stick,bootindex=0; }
stick_xhci() { echo -drive "if=none,id=stick,format=raw,file=$1" -device qemu-xhci -device usb-storage,drive=stick,bootindex=0; }
nvme() { echo -drive "if=none,id=disk,format=raw,file=$1" -device nvme,drive=disk,serial=ONRAMPE2E,bootindex=1; }
virtio() { echo -drive "if=none,id=disk,format=raw,file=$1" -device virtio-blk-pci,drive=disk,bootindex=1; }
sata() { echo -drive "if=none,id=disk,format=raw,file=$1" -device ahci,id=ahci -device ide-hd,drive=disk,bus=ahci.0,bootindex=1; }
sdcard() { echo -drive "if=none,id=disk,format=raw,file=$1" -device sdhci-pci -device sd-card,drive=disk; }

# await MARKER: waits until the serial log shows MARKER and sets at to the
# seconds since the boot started; a FAIL marker, QEMU ending first or the
# budget running out fail the run.
at=""
await() {
	local marker=$1 bad rc
	while :; do
		if grep -aq "$marker" "$log"; then
			at=$(secs "$boot_start")
			return 0
		fi
		if bad=$(grep -a -m1 -E 'ONRAMP-[A-Z]+: FAIL' "$log"); then
			fail "waiting for '$marker': $(tr -d '\r' <<<"$bad")"
		fi
		if ! kill -0 "$qpid" 2>/dev/null; then
			grep -aq "$marker" "$log" && { at=$(secs "$boot_start"); return 0; }
			wait "$qpid" && rc=0 || rc=$?
			qpid=""
			[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && fail "no '$marker' within the budget (E2E_INSTALL_TIMEOUT=$budget)"
			fail "QEMU ended (exit $rc) before '$marker'"
		fi
		sleep 0.5
	done
}

# powered_off: waits for the guest to power off (QEMU exits 0).
powered_off() {
	local rc
	wait "$qpid" && rc=0 || rc=$?
	qpid=""
	[ "$rc" -eq 0 ] || fail "QEMU exit $rc: the guest did not power off (124: budget of ${budget}s used up)"
}

# shutdown: powers a guest that stays up off cleanly (ACPI power button
# through QEMU's monitor), so that what it wrote to DATA is checkpointed
# out of the ext4 journal before the host reads the disk with debugfs;
# after 180 s it is ended like stop.
shutdown() {
	local i
	echo system_powerdown | socat - "UNIX-CONNECT:${log%.serial.log}.mon" >/dev/null 2>&1 || true
	for i in $(seq 360); do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.5
	done
	stop
}

# stop: ends a guest that stays up.
stop() {
	kill "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	qpid=""
}

# part_range IMG N: the byte offset and size of partition N.
part_range() {
	local start sectors
	read -r start sectors < <(partx -g -o START,SECTORS -n "$2" "$1")
	echo "$((start * 512)) $((sectors * 512))"
}

# part_loop IMG N: sets loop to a loop device over partition N of IMG
# (detached by unloop, or at exit).
loop=""
part_loop() {
	local off size
	read -r off size < <(part_range "$1" "$2")
	loop=$(losetup --find --show --offset "$off" --sizelimit "$size" "$1")
	loops+=("$loop")
}

# inject_probe IMG: a oneshot unit in the upper layer of IMG's DATA that
# runs the command read from stdin (bash -c) once the network is online,
# its output on the console (the product image ships no test tools).
inject_probe() {
	local cmd
	cmd=$(cat)
	mnt=$work/mnt
	mkdir -p "$mnt"
	part_loop "$1" 5
	mount "$loop" "$mnt"
	ud=$mnt/system/upper/etc/systemd/system
	mkdir -p "$ud/multi-user.target.wants"
	cat >"$ud/onramp-e2e-probe.service" <<-EOF
	[Unit]
	Description=install-e2e probe (put into DATA by scripts/e2e/install.sh)
	Wants=network-online.target
	After=network-online.target onramp-ready.service

	[Service]
	Type=oneshot
	StandardOutput=journal+console
	ExecStart=/bin/bash -c '$cmd'
	EOF
	ln -sf ../onramp-e2e-probe.service "$ud/multi-user.target.wants/onramp-e2e-probe.service"
	umount "$mnt"
	mnt=""
	unloop
}

# esp_get IMG PATH DEST / esp_put IMG SRC PATH: a file of IMG's ESP.
esp_get() {
	local off
	read -r off _ < <(part_range "$1" 1)
	MTOOLS_SKIP_CHECK=1 mcopy -n -i "$1@@$off" "::/$2" "$3"
}
esp_put() {
	local off
	read -r off _ < <(part_range "$1" 1)
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$1@@$off" "$2" "::/$3"
}

# judge_disk IMG: the host's independent checks of an installed disk.
judge_disk() {
	local img=$1 out f
	out=$(sgdisk -v "$img") || fail "sgdisk -v $img: $out"
	grep -q "No problems found" <<<"$out" || fail "sgdisk -v $img: $out"
	out=$(bin/osc inspect "$img") || fail "osc inspect $img: $out"
	echo "$out"
	grep -q "layout version 2" <<<"$out" || fail "osc inspect $img: no layout version 2 installation"
	part_loop "$img" 1
	out=$(fsck.fat -n "$loop" 2>&1) || fail "fsck.fat -n: ESP of $img: $out"
	part_loop "$img" 5
	out=$(fsck.ext4 -fn "$loop" 2>&1) || fail "fsck.ext4 -fn: DATA of $img: $out"
	# The slot's /etc/os-release: Debian 13.
	part_loop "$img" 3
	out=$(unsquashfs -cat "$loop" etc/os-release 2>&1) || fail "unsquashfs -cat etc/os-release of SYS-A: $out"
	grep -qx "VERSION_CODENAME=trixie" <<<"$out" || fail "SYS-A's /etc/os-release does not say trixie: $out"
	unloop
	# The Secure Boot chain on the ESP: shim signed by Microsoft, GRUB and
	# the kernel by Debian.
	for f in EFI/BOOT/BOOTX64.EFI EFI/BOOT/grubx64.efi onramp/a/vmlinuz; do
		rm -f "$work/chain.efi"
		esp_get "$img" "$f" "$work/chain.efi" || fail "no $f on the ESP of $img"
		out=$(sbverify --list "$work/chain.efi" 2>&1) || fail "sbverify --list $f: $out"
		case $f in
		*BOOTX64.EFI) grep -q "Microsoft Corporation UEFI CA" <<<"$out" || fail "$f is not signed by Microsoft's UEFI CA: $out" ;;
		*) grep -q "Debian Secure Boot Signer" <<<"$out" || fail "$f is not signed by Debian: $out" ;;
		esac
	done
	echo "install-e2e: $img: sgdisk -v, osc inspect, fsck.fat -n (ESP), fsck.ext4 -fn (DATA), os-release trixie, signed boot chain: OK"
}

# data_cmd IMG REQUEST: debugfs on DATA (partition 5) of IMG.
data_cmd() {
	local off size
	read -r off size < <(part_range "$1" 5)
	debugfs -R "$2" "$1?offset=$off" 2>/dev/null
}

# sums DIR: the SHA-256 list of every file under DIR, by relative path.
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum); }

# --- 2. install onto a blank NVMe disk --------------------------------------
if row nvme; then
	truncate -s 4G "$work/target.img"
	# shellcheck disable=SC2046
	boot install sb $(stick "$work/usb.img") $(nvme "$work/target.img") -nic none
	await "ONRAMP-INSTALLER: READY"
	record "SB: boot to installer (USB 2.0 stick)" "$at"
	t_ready=$at
	await "ONRAMP-INSTALL: DONE"
	record "SB: install onto NVMe" "$(awk -v a="$t_ready" -v b="$at" 'BEGIN { printf "%.1f", b - a }')"
	powered_off
	grep -aq '"event":"done","target":"/dev/nvme0n1"' "$log" || fail "the install did not report target auto as /dev/nvme0n1 (the blank NVMe disk)"
	judge_disk "$work/target.img"
	stat=$(data_cmd "$work/target.img" "stat /onramp/firstboot-answers.yaml")
	grep -q "Mode:  0600" <<<"$stat" || fail "DATA/onramp/firstboot-answers.yaml is not there with mode 0600: $stat"
fi

# --- 3. install over an earlier installation: settings and licenses --------
if row migrate; then
	t2=$work/t2.img
	truncate -s 4G "$t2"
	bin/osc install --yes --accept-eula --source "$payload" --trust-key "$devkey" --target "$t2" \
		--backup-dir "$work/backups" >"$work/t2-install.log" 2>&1 || { cat "$work/t2-install.log"; fail "host install onto $t2"; }
	# The settings are what a real first boot writes (the setup assistant on
	# the simulated device: WLAN, time zone, onboarded), saved the way the
	# installed system saves them (onramp-settings save into DATA/settings).
	seed=$work/seed
	device=$work/device
	rm -rf "$seed" "$device"
	mkdir -p "$seed/licenses" "$device"
	bin/setup-assistant --demo --demo-step 0 --root "$device" --non-interactive \
		--answers examples/answers-otp-hidden-wlan.yaml >"$work/device.log" 2>&1 ||
		{ cat "$work/device.log"; fail "setup-assistant --root $device"; }
	bin/onramp-settings save --root "$device" --data "$seed" >/dev/null || fail "onramp-settings save --root $device"
	for i in 1 2 3; do head -c $((1000 + i * 333)) /dev/urandom >"$seed/licenses/device-$i.lic"; done
	mnt=$work/mnt
	mkdir -p "$mnt"
	part_loop "$t2" 5
	mount "$loop" "$mnt"
	cp -a "$seed/settings/." "$mnt/settings/"
	cp -a "$seed/licenses/." "$mnt/licenses/"
	umount "$mnt"
	mnt=""
	unloop
	# The stick's OSC-BACKUP partition (osc image build appends it after the
	# ISO) receives the live installer's backup; it would otherwise be in
	# memory only.
	bnr=$(partx -g -o NR,NAME "$work/usb.img" | awk '$2 == "OSC-BACKUP" {print $1}')
	[ -n "$bnr" ] || fail "usb.img has no OSC-BACKUP partition: $(partx -o NR,START,SECTORS,NAME "$work/usb.img")"
	read -r boff _ < <(part_range "$work/usb.img" "$bnr")
	# shellcheck disable=SC2046
	boot migrate sb $(stick_xhci "$work/usb.img") $(virtio "$t2") -nic none
	await "ONRAMP-INSTALLER: READY"
	await "ONRAMP-INSTALL: DONE"
	record "migration (xhci stick, virtio): boot to install done" "$at"
	powered_off
	judge_disk "$t2"
	after=$work/after
	mkdir -p "$after"
	data_cmd "$t2" "rdump /settings $after" >/dev/null
	data_cmd "$t2" "rdump /licenses $after" >/dev/null
	diff <(sums "$seed") <(sums "$after") || fail "settings and licenses differ after the migration"
	echo "install-e2e: migration: $(sums "$seed" | wc -l) settings and license files byte-identical (SHA-256)"
	# The backup went to the stick's OSC-BACKUP partition and holds them all.
	stickb=$work/stick-backup
	mkdir -p "$stickb"
	MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "$work/usb.img@@$boff" ::/osc-backups "$stickb/" ||
		fail "no osc-backups folder on the stick's OSC-BACKUP partition"
	tars=("$stickb"/osc-backups/onramp-backup-*.tar)
	[ -f "${tars[0]}" ] && [ "${#tars[@]}" -eq 1 ] || fail "want one backup archive on the stick, found: ${tars[*]}"
	mkdir -p "$stickb/x"
	tar -xf "${tars[0]}" -C "$stickb/x"
	(cd "$stickb/x" && sha256sum --quiet -c SHA256SUMS) || fail "the stick's backup does not match its SHA256SUMS"
	diff <(sums "$seed") <(sums "$stickb/x" | grep -v -e ' ./SHA256SUMS$' -e ' ./backup.json$') ||
		fail "the stick's backup does not hold the settings and licenses"
	part_loop "$work/usb.img" "$bnr"
	out=$(fsck.fat -n "$loop" 2>&1) || fail "fsck.fat -n of the stick's OSC-BACKUP partition: $out"
	grep -q "Dirty bit" <<<"$out" && fail "the live installer left the stick's OSC-BACKUP partition mounted (dirty): $out"
	unloop
	echo "install-e2e: migration: the backup is on the stick's OSC-BACKUP partition ($(basename "${tars[0]}")), verified; fsck.fat -n clean"
	# Writing an image over that stick again warns that its backup goes.
	out=$(bin/osc write --yes --json "$work/osc-test.iso" "$work/usb.img" 2>&1) || fail "osc write over the used stick: $out"
	grep -q '"event":"warning".*holds 1 backup' <<<"$out" || fail "osc write did not warn about the backup on the stick: $out"
	echo "install-e2e: osc write over the stick warned that it holds 1 backup"
fi

# --- 4. first boot: static address on e1000e, onboarding against ums-lab ---
# start_lab: `ums-lab serve` on the host's loopback, its log appended to
# $work/lab.log; sets lab_net, user networking on 192.0.2.0/24 that
# reaches nothing but ums-lab (restrict=on; cmd: runs socat for every
# connection, EST needs two). stop_lab ends it.
lab_net=()
start_lab() {
	local port=""
	: >"$work/lab.now.log"
	"$root/bin/ums-lab" --state "$lab" serve --listen 127.0.0.1:0 --host "$lab_ip" 2>"$work/lab.now.log" &
	labpid=$!
	for _ in $(seq 50); do grep -q 'msg=serving' "$work/lab.now.log" && break; sleep 0.2; done
	port=$(sed -n 's/.*msg=serving addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/lab.now.log")
	[ -n "$port" ] || { cat "$work/lab.now.log"; fail "ums-lab serve did not start"; }
	lab_net=(-netdev "user,id=n0,net=192.0.2.0/24,host=192.0.2.2,dns=192.0.2.3,restrict=on,guestfwd=tcp:$lab_ip:8443-cmd:socat - TCP:127.0.0.1:$port"
		-device "e1000e,netdev=n0,mac=$mac")
}
stop_lab() {
	kill "$labpid"
	wait "$labpid" 2>/dev/null || true
	labpid=""
	cat "$work/lab.now.log" >>"$work/lab.log"
}
# lab_serial EVENT: the certificate serial of the lab's last log line
# msg=EVENT ("enrolled", "checked in") for the Unit ID.
lab_serial() {
	cat "$work/lab.log" "$work/lab.now.log" | grep -a "msg=\"\?$1\"\? unit_id=$unit_id " | tail -n1 | sed -n 's/.* serial=\([0-9a-f]*\).*/\1/p' || true
}
: >"$work/lab.log"

if row nvme; then
	start_lab
	# shellcheck disable=SC2046
	boot firstboot sb $(nvme "$work/target.img") "${lab_net[@]}"
	await "ONRAMP-FIRSTBOOT: DONE"
	record "SB NVMe e1000e: first boot to setup done" "$at"
	await "ONRAMP-SYSTEM: READY"
	record "SB NVMe e1000e: first boot to system ready" "$at"
	grep -aq "Secure boot enabled" "$log" || fail "the installed system's kernel did not report Secure Boot enabled"
	shutdown
	devices=$(bin/ums-lab --state "$lab" devices list)
	echo "$devices"
	grep -q "^$unit_id " <<<"$devices" || fail "ums-lab does not list the device $unit_id"
	nf=$(data_cmd "$work/target.img" "ls -l /system/upper/etc/systemd/network")
	grep -q "50-onramp-" <<<"$nf" || fail "the first boot saved no systemd-networkd configuration: $nf"
	# The settings went to DATA/settings as well (onramp-settings save).
	for f in etc/systemd/network etc/onramp/ums/device.crt etc/locale.conf var/lib/onramp/setup.done; do
		data_cmd "$work/target.img" "stat /settings/$f" | grep -q "Inode:" || fail "DATA/settings/$f is missing after the first boot"
	done
	enrolled=$(lab_serial enrolled)
	[ -n "$enrolled" ] || fail "ums-lab logged no enrollment of $unit_id"
	# A license for the device: it gets it at its next check-in.
	bin/ums-lab --state "$lab" licenses assign --unit "$unit_id" --product "Onramp Workspace" --days 30 ||
		fail "ums-lab licenses assign"

	# --- 5. second boot: networkd brings the saved address up, ums-lab is reached
	# A probe unit in DATA's upper layer (the test's, not the image's): once
	# networkd reports the network online it prints the addresses, networkd's
	# view of the links, the Secure Boot state and os-release, and connects
	# to ums-lab with bash's /dev/tcp.
	inject_probe "$work/target.img" <<-EOF
	ip -4 -o addr show scope global; networkctl list --no-pager; . /etc/os-release; echo "ONRAMP-PROBE: os \$VERSION_CODENAME"; echo "ONRAMP-PROBE: secureboot \$(od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c | tr -d " ")"; if exec 3<>/dev/tcp/$lab_ip/8443; then echo "ONRAMP-PROBE: REACHED $lab_ip:8443"; else echo "ONRAMP-PROBE: FAIL no connection to $lab_ip:8443"; fi
	EOF
	# shellcheck disable=SC2046
	boot secondboot sb $(nvme "$work/target.img") "${lab_net[@]}"
	await "ONRAMP-PROBE: REACHED"
	record "SB NVMe e1000e: second boot to ums-lab reached" "$at"
	# The check-in agent, on its own: mTLS with the device certificate,
	# the assigned license received.
	await 'msg="checked in"'
	record "SB NVMe e1000e: second boot to agent check-in" "$at"
	shutdown
	[ "$(lab_serial "checked in")" = "$enrolled" ] || fail "the agent did not check in with the enrolled certificate (serial $enrolled)"
	out=$(bin/osc inspect "$work/target.img") || fail "osc inspect: $out"
	# Verified as the device would (the UMS CA of its settings); on this
	# host, whose Unit ID differs, its state is other-unit.
	grep -qE "Onramp Workspace: other-unit \(bound to $unit_id" <<<"$out" || fail "the license assigned in ums-lab is not on DATA, verified and bound to $unit_id: $out"
	out=$(bin/ums-lab --state "$lab" devices list --json)
	grep -q '"last_seen": *"20' <<<"$out" || fail "ums-lab shows no check-in of the device: $out"
	echo "install-e2e: the agent checked in with certificate $enrolled and stored the license ums-lab assigned"
	tr -d '\r' <"$log" | grep -aE "ONRAMP-PROBE|inet |routable|configured" || true
	grep -aq "inet $guest_ip/24" "$log" || fail "the second boot did not bring up the static address $guest_ip/24"
	grep -aE "routable +configured" "$log" >/dev/null || fail "networkd did not report the link configured"
	grep -aq "ONRAMP-PROBE: os trixie" "$log" || fail "the installed system's /etc/os-release does not say trixie"
	grep -aq "ONRAMP-PROBE: secureboot 1" "$log" || fail "the installed system did not boot with Secure Boot on"
	grep -aq "ONRAMP-FIRSTBOOT" "$log" && fail "the setup ran again on the second boot"
	stop_lab
fi

# --- 6. a kernel without its signature is refused -------------------------
if row unsigned; then
	rm -f "$work/vmlinuz.signed" "$work/vmlinuz.unsigned"
	esp_get "$work/target.img" onramp/a/vmlinuz "$work/vmlinuz.signed"
	cp "$work/vmlinuz.signed" "$work/vmlinuz.unsigned"
	sbattach --remove "$work/vmlinuz.unsigned"
	sbverify --list "$work/vmlinuz.unsigned" 2>&1 | grep -q "No signature table present" || fail "the kernel still carries a signature"
	esp_put "$work/target.img" "$work/vmlinuz.unsigned" onramp/a/vmlinuz
	# shellcheck disable=SC2046
	boot unsigned sb $(nvme "$work/target.img") -nic none
	await "bad shim signature"
	record "SB: unsigned kernel refused" "$at"
	stop
	grep -aq "Linux version" "$log" && fail "the unsigned kernel ran"
	echo "install-e2e: GRUB refused the unsigned kernel: $(grep -a -m1 'bad shim signature' "$log" | tr -d '\r')"
	esp_put "$work/target.img" "$work/vmlinuz.signed" onramp/a/vmlinuz
fi

# --- 6b. the device's life: reinstall with and without migration ----------
# (issue 14) The onboarded, checked-in NVMe device is reinstalled from the
# same stick with "Migrate old settings": it boots straight to ready (no
# setup), checks in with the same certificate and consumes no
# first-authentication key. Then reinstalled without migration (a stick
# with no first-boot answers): the setup assistant runs again, and its
# rescue consoles work (issue 16): Ctrl+Alt+F11 shows the rescue banner,
# RETURN gives a root shell, Ctrl+Alt+F1 goes back.
if row chain; then
	keys_before=$(bin/ums-lab --state "$lab" keys list)
	crt_before=$(data_cmd "$work/target.img" "cat /settings/etc/onramp/ums/device.crt" | sha256sum)
	boot chain-reinstall sb $(stick "$work/usb.img") $(nvme "$work/target.img") -nic none
	await "ONRAMP-INSTALL: DONE"
	record "chain: reinstall with migration (boot to install done)" "$at"
	powered_off
	grep -aq '"first_boot_skipped":true' "$log" || fail "the reinstall left the first-boot answers on a set-up device"
	grep -aqE '"migrated_settings":[1-9]' "$log" || fail "the reinstall migrated no settings"
	judge_disk "$work/target.img"
	[ "$(data_cmd "$work/target.img" "cat /settings/etc/onramp/ums/device.crt" | sha256sum)" = "$crt_before" ] ||
		fail "the reinstall did not carry the device certificate"
	start_lab
	# shellcheck disable=SC2046
	boot chain-ready sb $(nvme "$work/target.img") "${lab_net[@]}"
	await "ONRAMP-SYSTEM: READY"
	record "chain: migrated system to ready" "$at"
	await 'msg="checked in"'
	record "chain: migrated system to agent check-in" "$at"
	shutdown
	stop_lab
	grep -aq "ONRAMP-FIRSTBOOT" "$log" && fail "the setup ran on the migrated system"
	grep -aq "laid back [1-9][0-9]* settings" "$log" || fail "the boot did not lay the settings of DATA into the system"
	[ "$(lab_serial "checked in")" = "$enrolled" ] || fail "the migrated device checked in with another certificate than $enrolled"
	[ "$(bin/ums-lab --state "$lab" keys list)" = "$keys_before" ] || fail "a first-authentication key was used by the migrated device"
	[ "$(grep -ac 'msg=enrolled' "$work/lab.log")" -eq 1 ] || fail "the device enrolled again"
	echo "install-e2e: chain: migrated device ready, checked in with certificate $enrolled, no key used"

	boot chain-fresh sb $(stick "$work/usb-fresh.img") $(nvme "$work/target.img") -nic none
	await "ONRAMP-INSTALL: DONE"
	record "chain: reinstall without migration" "$at"
	powered_off
	grep -aq '"migrated_settings":0' "$log" || fail "the reinstall without migration carried settings"
	# shellcheck disable=SC2046
	boot chain-setup sb $(nvme "$work/target.img") -nic none
	await "laid back 0 settings"
	# The rescue console tty11 (Ctrl+Alt+F11): RETURN, then a command in
	# the root shell answers on the serial line. Until the console is up
	# the keys go nowhere: tried again every 15 s.
	rescued=""
	for _ in $(seq 40); do
		keys chain-setup ctrl-alt-f11 ret
		sleep 2
		type_line chain-setup 'echo RESCUE-$(id -un)-$((6*7))-$(cat /sys/class/tty/tty0/active)-ASSISTANT-$(pgrep -c -x -f setup-assistant) >/dev/ttyS0'
		sleep 13
		if grep -aq "RESCUE-root-42-tty11-ASSISTANT-" "$log"; then rescued=1; break; fi
		kill -0 "$qpid" 2>/dev/null || fail "QEMU ended before the rescue shell answered"
	done
	[ -n "$rescued" ] || fail "no root shell on the rescue console tty11 after 10 minutes"
	record "chain: rescue shell on tty11" "$(secs "$boot_start")"
	# (The rescue consoles' own login programs are setup-assistant
	# --rescue-login: only the bare command line is the assistant.)
	grep -aq "RESCUE-root-42-tty11-ASSISTANT-1" "$log" || fail "the setup assistant was not running beside the rescue shell (no setup after the reinstall without migration)"
	# What tty11 shows: the banner and the RETURN prompt.
	type_line chain-setup 'tr -s " " </dev/vcs11 >/dev/ttyS0; echo VCS-END >/dev/ttyS0'
	await "VCS-END"
	grep -aq "rescue shell tty11 ---" "$log" || fail "tty11 does not show the rescue banner"
	grep -aq "Press <RETURN> to login:" "$log" || fail "tty11 does not show Press <RETURN> to login:"
	type_line chain-setup '(sleep 4; echo BACK-$(cat /sys/class/tty/tty0/active)-END >/dev/ttyS0) &'
	keys chain-setup ctrl-alt-f1
	await "BACK-tty1-END"
	grep -aq "Device info" "$log" && echo "install-e2e: chain: the setup assistant's screen is on the serial console"
	stop
	echo "install-e2e: chain: setup again after a reinstall without migration; rescue shell on tty11 gave root, Ctrl+Alt+F1 went back"
fi

# --- 7. SATA target, rtl8139 brought up by the installed system -----------
if row sata; then
	truncate -s 4G "$work/sata.img"
	# shellcheck disable=SC2046
	boot sata-install sb $(stick "$work/usb-sata.img") $(sata "$work/sata.img") -nic none
	await "ONRAMP-INSTALL: DONE"
	record "SATA: boot to install done" "$at"
	powered_off
	grep -aq '"event":"done","target":"/dev/sda"' "$log" || fail "the install did not go to /dev/sda (SATA)"
	judge_disk "$work/sata.img"
	# shellcheck disable=SC2046
	# A second stick (FAT, removable) for the support information.
	truncate -s 64M "$work/support.img"
	mkfs.fat -n SUPPORT "$work/support.img" >/dev/null
	start_lab
	# shellcheck disable=SC2046
	boot sata-firstboot sb $(sata "$work/sata.img") "${lab_net[@]/e1000e/rtl8139}" \
		-drive "if=none,id=support,format=raw,file=$work/support.img" -device usb-ehci,id=ehci2 \
		-device usb-storage,bus=ehci2.0,drive=support,removable=on
	await "ONRAMP-FIRSTBOOT: FAIL"
	record "SATA rtl8139: first boot to the failed onboarding (DHCP)" "$at"
	stop
	stop_lab
	grep -aqE "8139(cp|too) [^ ]+ enp[^ ]*: renamed from eth0" "$log" || fail "no rtl8139 driver took the NIC"
	grep -aqE "network: enp[^ ]* online with 192\.0\.2\." "$log" || fail "the rtl8139 NIC did not come up with a DHCP lease"
	grep -aq "ONRAMP-SUPPORT: " "$log" || fail "the failed first boot saved no support information to the stick"
	zips=$(MTOOLS_SKIP_CHECK=1 mdir -b -i "$work/support.img" ::/ | grep -o 'onramp-support-[^/]*\.zip$' || true)
	[ "$(wc -w <<<"$zips")" -eq 1 ] || fail "want one onramp-support-*.zip on the support stick, found: $zips"
	rm -rf "$work/support" && mkdir -p "$work/support"
	MTOOLS_SKIP_CHECK=1 mcopy -n -i "$work/support.img" "::/$zips" "$work/support/bundle.zip"
	(cd "$work/support" && unzip -q bundle.zip -d x) || fail "the support bundle is not a valid zip"
	[ -f "$work/support/x/manifest.json" ] || fail "the support bundle has no manifest.json"
	grep -q '"unit_id"' "$work/support/x/manifest.json" || fail "the bundle's manifest names no Unit ID"
	grep -rqa -e "WRONG-Secret-7391" -e "$token" "$work/support/x" "$work/support/bundle.zip" &&
		fail "the support bundle holds the one-time password or the token"
	MTOOLS_SKIP_CHECK=1 fsck.fat -n "$work/support.img" >/dev/null || fail "fsck.fat -n of the support stick"
	echo "install-e2e: failed onboarding: $zips on the second stick ($(unzip -Z1 "$work/support/bundle.zip" | wc -l) entries, no secret), fsck.fat clean"
fi

# --- 8. eMMC/SD target -----------------------------------------------------
if row mmc; then
	truncate -s 4G "$work/mmc.img"
	# shellcheck disable=SC2046
	boot mmc-install sb $(stick "$work/usb-mmc.img") $(sdcard "$work/mmc.img") -nic none
	await "ONRAMP-INSTALL: DONE"
	record "eMMC/SD: boot to install done" "$at"
	powered_off
	grep -aq '"event":"done","target":"/dev/mmcblk0"' "$log" || fail "the install did not go to /dev/mmcblk0 (SD)"
	judge_disk "$work/mmc.img"
	# OVMF has no SD host controller driver: the ESP's kernel, initrd and
	# command line (GRUB's menu) start directly.
	esp_get "$work/mmc.img" onramp/a/vmlinuz "$work/mmc.vmlinuz"
	esp_get "$work/mmc.img" onramp/a/initrd.img "$work/mmc.initrd"
	esp_get "$work/mmc.img" EFI/debian/grub.cfg "$work/mmc.grub.cfg"
	cmdline=$(awk '$1 == "linux" { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$work/mmc.grub.cfg")
	# shellcheck disable=SC2046
	boot mmc-firstboot kernel $(sdcard "$work/mmc.img") -kernel "$work/mmc.vmlinuz" -initrd "$work/mmc.initrd" \
		-append "$cmdline" -nic none
	await "ONRAMP-FIRSTBOOT: DONE"
	record "eMMC/SD: first boot to setup done" "$at"
	stop
	grep -aq "mmcblk0" "$log" || fail "the system did not start from mmcblk0"
fi

# --- 8b. WLAN on the installed system --------------------------------------
# A disk installed by the host's osc with first-boot answers that join a
# WPA2 network on wlan0. The test injects, into DATA's upper layer only, an
# access point on the same machine: mac80211_hwsim with two radios, the
# host's hostapd on wlan1 and busybox's udhcpd (the product image ships no
# test tools). The first boot joins through the setup assistant; the
# second boot comes up on its own (the generator's wpa_supplicant@wlan0,
# systemd-networkd's DHCP on it).
if row wlan; then
	wlan_key=e2e-Wlan-Secret-5521
	umask 077
	cat >"$work/install-answers-wlan.yaml" <<EOF
accept_eula: true
firstboot:
  language: en_US
  eula: accept
  network: {interface: wlan0, wlan: {ssid: OnrampE2E, key: "$wlan_key"}}
  timezone: UTC
  onboarding: skip
EOF
	umask 022
	truncate -s 4G "$work/wlan.img"
	bin/osc install --yes --source "$payload" --trust-key "$devkey" --target "$work/wlan.img" \
		--answers "$work/install-answers-wlan.yaml" >"$work/wlan-install.log" 2>&1 ||
		{ cat "$work/wlan-install.log"; fail "host install onto wlan.img"; }
	mnt=$work/mnt
	mkdir -p "$mnt"
	part_loop "$work/wlan.img" 5
	mount "$loop" "$mnt"
	u=$mnt/system/upper
	mkdir -p "$u/usr/local/sbin" "$u/etc/e2e" "$u/etc/systemd/system/multi-user.target.wants"
	install -m 0755 /usr/sbin/hostapd "$u/usr/local/sbin/hostapd"
	cat >"$u/etc/e2e/hostapd.conf" <<-EOF
	interface=wlan1
	driver=nl80211
	ssid=OnrampE2E
	hw_mode=g
	channel=6
	wpa=2
	wpa_key_mgmt=WPA-PSK
	rsn_pairwise=CCMP
	wpa_passphrase=$wlan_key
	EOF
	cat >"$u/etc/e2e/udhcpd.conf" <<-EOF
	start 192.0.2.50
	end 192.0.2.60
	interface wlan1
	lease_file /run/e2e-udhcpd.leases
	pidfile /run/e2e-udhcpd.pid
	option subnet 255.255.255.0
	option router 192.0.2.1
	option lease 3600
	EOF
	cat >"$u/etc/systemd/system/onramp-e2e-ap.service" <<-EOF
	[Unit]
	Description=install-e2e access point (put into DATA by scripts/e2e/install.sh)
	After=systemd-udevd.service local-fs.target
	Before=onramp-firstboot.service network-pre.target
	Wants=network-pre.target

	[Service]
	Type=oneshot
	RemainAfterExit=yes
	StandardOutput=journal+console
	ExecStart=/bin/sh -euc 'modprobe mac80211_hwsim radios=2; for i in \$\$(seq 100); do [ -e /sys/class/net/wlan1 ] && break; sleep 0.2; done; ip link set wlan1 up; ip addr add 192.0.2.1/24 dev wlan1; /usr/local/sbin/hostapd -B -P /run/e2e-hostapd.pid /etc/e2e/hostapd.conf; touch /run/e2e-udhcpd.leases; busybox udhcpd /etc/e2e/udhcpd.conf; echo "ONRAMP-E2E: access point OnrampE2E on wlan1"'
	EOF
	ln -sf ../onramp-e2e-ap.service "$u/etc/systemd/system/multi-user.target.wants/onramp-e2e-ap.service"
	umount "$mnt"
	mnt=""
	unloop
	# shellcheck disable=SC2046
	boot wlan-firstboot sb $(virtio "$work/wlan.img") -nic none
	await "ONRAMP-FIRSTBOOT: DONE"
	record "WLAN: first boot to setup done (joined OnrampE2E)" "$at"
	shutdown
	grep -aq "ONRAMP-E2E: access point" "$log" || fail "the injected access point did not start"
	grep -aqE "network: wlan0 joined \"OnrampE2E\" with 192\.0\.2\.(5[0-9]|60)" "$log" || fail "the assistant did not join OnrampE2E with a DHCP lease on wlan0"
	for f in etc/wpa_supplicant/wpa_supplicant-wlan0.conf etc/systemd/network/50-onramp-wlan0.network; do
		data_cmd "$work/wlan.img" "stat /settings/$f" | grep -q "Inode:" || fail "DATA/settings/$f is missing after the WLAN first boot"
	done
	data_cmd "$work/wlan.img" "stat /settings/etc/wpa_supplicant/wpa_supplicant-wlan0.conf" | grep -q "Mode:  0600" ||
		fail "the saved WLAN key is not mode 0600"
	inject_probe "$work/wlan.img" <<-EOF
	for i in \$\$(seq 60); do ip -4 -o addr show dev wlan0 | grep -q "inet 192.0.2." && break; sleep 1; done; ip -4 -o addr show dev wlan0; networkctl list --no-pager; echo "ONRAMP-PROBE: wpa_supplicant@wlan0 \$\$(systemctl is-active wpa_supplicant@wlan0.service)"; if ip -4 -o addr show dev wlan0 | grep -q "inet 192.0.2."; then echo "ONRAMP-PROBE: WLAN wlan0 up"; else echo "ONRAMP-PROBE: FAIL wlan0 has no address"; fi
	EOF
	# shellcheck disable=SC2046
	boot wlan-secondboot sb $(virtio "$work/wlan.img") -nic none
	await "ONRAMP-PROBE: WLAN wlan0 up"
	record "WLAN: second boot to wlan0 up by itself" "$at"
	stop
	grep -aq "ONRAMP-FIRSTBOOT" "$log" && fail "the setup ran again on the WLAN second boot"
	grep -aq "ONRAMP-PROBE: wpa_supplicant@wlan0 active" "$log" || fail "wpa_supplicant@wlan0 was not active on the second boot"
	grep -ac -- "$wlan_key" "$work"/wlan-*.serial.log "$work/wlan-install.log" | grep -qv ':0$' && fail "the WLAN key appears in the logs"
	echo "install-e2e: WLAN: joined on the first boot, up by itself on the second (wpa_supplicant@wlan0, networkd DHCP)"
fi

# --- 9. legacy: SeaBIOS, the legacy variant --------------------------------
if row legacy; then
	truncate -s 4G "$work/t3.img"
	# shellcheck disable=SC2046
	boot legacy bios $(stick_xhci "$work/usb2.img") $(virtio "$work/t3.img") -nic none
	await "ONRAMP-INSTALLER: READY"
	record "legacy: boot to installer" "$at"
	await "ONRAMP-INSTALL: DONE"
	record "legacy: boot to install done" "$at"
	powered_off
	judge_disk "$work/t3.img"
	# shellcheck disable=SC2046
	boot legacy-firstboot bios $(virtio "$work/t3.img") -nic none
	await "ONRAMP-FIRSTBOOT: DONE"
	record "legacy: first boot to setup done" "$at"
	await "ONRAMP-SYSTEM: READY"
	grep -aq "BOOT_IMAGE=/onramp/a/vmlinuz" "$log" || fail "the legacy disk did not boot through GRUB (no BOOT_IMAGE=/onramp/a/vmlinuz on the kernel command line)"
	stop
fi
log=""
if grep -al -- "$otp" "$work"/*.serial.log "$work"/lab.log 2>/dev/null; then
	fail "the one-time password appears in the logs above"
fi

# --- 10. the boot records and the hybrid table ------------------------------
for iso in "$image/osc-$version.iso" "$image/osc-${version}_legacy.iso"; do
	echo "== xorriso -indev $iso -report_el_torito plain"
	et=$(xorriso -indev "$iso" -report_el_torito plain 2>&1) || fail "xorriso: $et"
	echo "$et"
	grep -qE 'El Torito boot img *: *[0-9]+ +UEFI' <<<"$et" || fail "$iso: no UEFI El Torito boot image"
	if [[ $iso == *_legacy.iso ]]; then
		grep -qE 'El Torito boot img *: *[0-9]+ +BIOS' <<<"$et" || fail "$iso: no BIOS El Torito boot image"
	fi
	echo "== fdisk -l $iso"
	fd=$(fdisk -l "$iso" 2>&1) || fail "fdisk -l: $fd"
	echo "$fd"
	grep -qE 'EFI System|EFI \(FAT' <<<"$fd" || fail "$iso: no EFI System partition in the partition table"
done

echo
echo "install-e2e: PASS"
printf '%-52s %8s\n' "step" "seconds"
for k in "${order[@]}"; do printf '%-52s %8s\n' "$k" "${timing[$k]}"; done
