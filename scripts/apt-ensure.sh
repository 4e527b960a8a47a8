# apt_ensure PKG...: installs the Debian packages that are missing, quietly,
# idempotently; sourced by scripts/deps.sh and scripts/e2e/deps.sh.
apt_ensure() {
	local missing=() p sudo=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "deps: installing ${missing[*]}" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
