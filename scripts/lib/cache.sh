# shellcheck shell=bash
# onramp_cache: the folder where builds that depend only on Debian's
# packages and our scripts (make image's system tree, the Wine root) are
# kept, each keyed by what it was built from. It lies outside the
# checkout, so a clean clone on the same machine (CI's runs) finds them
# and does not build them again: ONRAMP_CACHE, else /var/cache/onramp for
# root, else build/cache in the checkout.
onramp_cache() {
	local top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [ -n "${ONRAMP_CACHE:-}" ]; then
		echo "$ONRAMP_CACHE"
	elif [ "$(id -u)" = 0 ]; then
		echo /var/cache/onramp
	else
		echo "$top/build/cache"
	fi
}
