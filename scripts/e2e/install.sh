#!/usr/bin/env bash
# The installer medium's proof (issue 7), in QEMU under TCG:
#   1. make image (scripts/image/build.sh), then an ISO with install answers
#      (target auto, after poweroff, firstboot onboarding against a ums-lab)
#      written with `osc write` to usb.img;
#   2. OVMF boots usb.img (USB stick) with a blank virtio disk: the install
#      runs unattended and powers off; the host judges the disk (sgdisk -v,
#      osc inspect, fsck.fat, fsck.ext4);
#   3. the same stick over an earlier installation seeded with settings and
#      licenses: they are migrated byte for byte (SHA-256 lists) and the
#      backup is on the stick's OSC-BACKUP partition (fsck.fat-clean);
#   4. OVMF boots the installed disk alone: the setup assistant onboards
#      against `ums-lab serve` on the host's loopback, reached only through
#      user networking with restrict=on and a guestfwd; the lab then lists
#      the device;
#   5. SeaBIOS boots the legacy variant from a stick and installs; then
#      SeaBIOS boots that disk through GRUB to the end of its first boot;
#   6. xorriso and fdisk judge the boot records and the hybrid table of both
#      ISOs.
# E2E_INSTALL_TIMEOUT (seconds, default 900) bounds the QEMU boots together
# (building the image before them is not counted); E2E_BUILD=0 skips
# rebuilding the image; E2E_ACCEL picks QEMU's accelerator (default tcg).
# A failing boot prints its serial log; a summary of timings ends a pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$PATH
root=$PWD
work=$root/build/e2e-install
image=$root/build/image
payload=$image/payload
legacy_payload=$image/payload-legacy
devkey=$root/scripts/image/dev.pub # the sample's development signing key
version=12.5.0
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
accel=${E2E_ACCEL:-tcg}
budget=${E2E_INSTALL_TIMEOUT:-900}
mac=52:54:00:0e:2e:01
unit_id=5254000E2E01 # the Unit ID of that NIC (DESIGN.md: the MAC, upper-case hex)

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
timed() { # timed NAME COMMAND...: runs the command, records its duration
	local name=$1 t0
	shift
	t0=$(now)
	"$@"
	timing[$name]=$(secs "$t0")
}

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
answers=$work/install-answers.yaml
umask 077 # the answers hold the one-time password
cat >"$answers" <<EOF
target: auto
accept_eula: true
migrate_settings: auto
migrate_licenses: auto
after: poweroff
firstboot:
  language: en_US
  eula: accept
  network:
    wired: dhcp
  timezone: UTC
  onboarding:
    server: 10.0.2.100
    port: 8443
    otp: "$otp"
    token: "$token"
EOF
# The legacy run proves BIOS boots end to end (SeaBIOS -> the stick's
# ISOLINUX -> install; then SeaBIOS -> GRUB on the installed disk -> first
# boot), without a network: its first boot skips network and onboarding.
legacy_answers=$work/install-answers-legacy.yaml
cat >"$legacy_answers" <<EOF
target: auto
accept_eula: true
after: poweroff
firstboot:
  language: en_US
  eula: accept
  network: skip
  timezone: UTC
  onboarding: skip
EOF
umask 022

timed "ISO build" bin/osc image build --payload "$payload" --trust-key "$devkey" --answers "$answers" \
	--out "$work/osc-test.iso"
bin/osc image build --payload "$legacy_payload" --variant legacy --trust-key "$devkey" --answers "$legacy_answers" \
	--memtest "$image/memtest86+x64.bin" --syslinux "$image/syslinux" --out "$work/osc-test_legacy.iso"
truncate -s 4G "$work/usb.img" "$work/usb2.img"
timed "osc write" bin/osc write --yes --force "$work/osc-test.iso" "$work/usb.img"
bin/osc write --yes --force "$work/osc-test_legacy.iso" "$work/usb2.img"

# --- QEMU ------------------------------------------------------------------
deadline=$(($(date +%s) + budget))
boot_start=""

# boot NAME FIRMWARE(uefi|bios) QEMU-ARGS...: starts QEMU in the background,
# its serial console in $work/NAME.serial.log, bounded by what is left of
# the budget.
boot() {
	local name=$1 fw=$2 left
	shift 2
	left=$((deadline - $(date +%s)))
	[ "$left" -gt 0 ] || fail "no time left for boot $name (E2E_INSTALL_TIMEOUT=$budget)"
	log=$work/$name.serial.log
	: >"$log"
	local firmware=()
	if [ "$fw" = uefi ]; then
		cp "$ovmf_vars" "$work/$name.vars.fd" # a writable copy per boot
		firmware=(-machine q35,accel="$accel"
			-drive if=pflash,format=raw,readonly=on,file="$ovmf_code"
			-drive if=pflash,format=raw,file="$work/$name.vars.fd")
	else
		firmware=(-machine pc,accel="$accel") # SeaBIOS
	fi
	echo "install-e2e: boot $name ($fw)"
	boot_start=$(now)
	timeout --kill-after=10 "$left" qemu-system-x86_64 "${firmware[@]}" -cpu max -smp 2 -m 1536 \
		-display none -monitor none -serial "file:$log" -no-reboot "$@" &
	qpid=$!
}

stick() { echo -drive "if=none,id=stick,format=raw,file=$1" -device qemu-xhci -device usb-storage,drive=stick,bootindex=0; }
disk() { echo -drive "if=none,id=disk,format=raw,file=$1" -device virtio-blk-pci,drive=disk,bootindex=1; }

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

# judge_disk IMG: the host's independent checks of an installed disk.
judge_disk() {
	local img=$1 out
	out=$(sgdisk -v "$img") || fail "sgdisk -v $img: $out"
	grep -q "No problems found" <<<"$out" || fail "sgdisk -v $img: $out"
	out=$(bin/osc inspect "$img") || fail "osc inspect $img: $out"
	echo "$out"
	grep -q "layout version 2" <<<"$out" || fail "osc inspect $img: no layout version 2 installation"
	part_loop "$img" 1
	out=$(fsck.fat -n "$loop" 2>&1) || fail "fsck.fat -n: ESP of $img: $out"
	part_loop "$img" 5
	out=$(fsck.ext4 -fn "$loop" 2>&1) || fail "fsck.ext4 -fn: DATA of $img: $out"
	unloop
	echo "install-e2e: $img: sgdisk -v, osc inspect, fsck.fat -n (ESP), fsck.ext4 -fn (DATA): OK"
}

# data_cmd IMG REQUEST: debugfs on DATA (partition 5) of IMG.
data_cmd() {
	local off size
	read -r off size < <(part_range "$1" 5)
	debugfs -R "$2" "$1?offset=$off" 2>/dev/null
}

# sums DIR: the SHA-256 list of every file under DIR, by relative path.
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum); }

# --- 2. install onto a blank disk ------------------------------------------
truncate -s 4G "$work/target.img"
# shellcheck disable=SC2046
boot install uefi $(stick "$work/usb.img") $(disk "$work/target.img") -nic none
await "ONRAMP-INSTALLER: READY"
timing["boot to installer"]=$at
await "ONRAMP-INSTALL: DONE"
timing["install"]=$(awk -v a="${timing["boot to installer"]}" -v b="$at" 'BEGIN { printf "%.1f", b - a }')
powered_off
grep -aq '"event":"done","target":"/dev/vda"' "$log" || fail "the install did not report target auto as /dev/vda (the blank virtio disk)"
judge_disk "$work/target.img"
stat=$(data_cmd "$work/target.img" "stat /onramp/firstboot-answers.yaml")
grep -q "Mode:  0600" <<<"$stat" || fail "DATA/onramp/firstboot-answers.yaml is not there with mode 0600: $stat"

# --- 3. install over an earlier installation: settings and licenses --------
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
read -r boff bsize < <(part_range "$work/usb.img" "$bnr")
# shellcheck disable=SC2046
boot migrate uefi $(stick "$work/usb.img") $(disk "$t2") -nic none
await "ONRAMP-INSTALLER: READY"
await "ONRAMP-INSTALL: DONE"
timing["migration: boot to install done"]=$at
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

# --- 4. first boot: the setup assistant onboards against ums-lab ----------
"$root/bin/ums-lab" --state "$lab" serve --listen 127.0.0.1:0 --host 10.0.2.100 2>"$work/lab.log" &
labpid=$!
for _ in $(seq 50); do grep -q 'msg=serving' "$work/lab.log" && break; sleep 0.2; done
port=$(sed -n 's/.*msg=serving addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/lab.log")
[ -n "$port" ] || { cat "$work/lab.log"; fail "ums-lab serve did not start"; }
# restrict=on: the guest reaches nothing but this forward; cmd: runs socat
# for every connection (EST needs two).
# shellcheck disable=SC2046
boot firstboot uefi $(disk "$work/target.img") \
	-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8443-cmd:socat - TCP:127.0.0.1:$port" \
	-device "virtio-net-pci,netdev=n0,mac=$mac"
await "ONRAMP-FIRSTBOOT: DONE"
timing["first boot to setup done"]=$at
await "ONRAMP-SYSTEM: READY"
timing["first boot to system ready"]=$at
kill "$qpid" 2>/dev/null || true # the system stays up: stop it
wait "$qpid" 2>/dev/null || true
qpid=""
devices=$(bin/ums-lab --state "$lab" devices list)
echo "$devices"
grep -q "^$unit_id " <<<"$devices" || fail "ums-lab does not list the device $unit_id"
kill "$labpid"
wait "$labpid" 2>/dev/null || true
labpid=""

# --- 5. legacy: SeaBIOS, the legacy variant --------------------------------
truncate -s 4G "$work/t3.img"
# shellcheck disable=SC2046
boot legacy bios $(stick "$work/usb2.img") $(disk "$work/t3.img") -nic none
await "ONRAMP-INSTALLER: READY"
timing["legacy: boot to installer"]=$at
await "ONRAMP-INSTALL: DONE"
timing["legacy: boot to install done"]=$at
powered_off
judge_disk "$work/t3.img"
# shellcheck disable=SC2046
boot legacy-firstboot bios $(disk "$work/t3.img") -nic none
await "ONRAMP-FIRSTBOOT: DONE"
timing["legacy: first boot to setup done"]=$at
await "ONRAMP-SYSTEM: READY"
grep -aq "BOOT_IMAGE=/onramp/a/vmlinuz" "$log" || fail "the legacy disk did not boot through GRUB (no BOOT_IMAGE=/onramp/a/vmlinuz on the kernel command line)"
kill "$qpid" 2>/dev/null || true # the system stays up: stop it
wait "$qpid" 2>/dev/null || true
qpid=""
log=""
if grep -al -- "$otp" "$work"/*.serial.log "$work/lab.log"; then
	fail "the one-time password appears in the logs above"
fi

# --- 6. the boot records and the hybrid table ------------------------------
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
printf '%-34s %8s\n' "step" "seconds"
for k in "make image" "ISO build" "osc write" "boot to installer" "install" "migration: boot to install done" \
	"first boot to setup done" "first boot to system ready" "legacy: boot to installer" "legacy: boot to install done" \
	"legacy: first boot to setup done"; do
	[ -z "${timing[$k]:-}" ] || printf '%-34s %8s\n' "$k" "${timing[$k]}"
done
