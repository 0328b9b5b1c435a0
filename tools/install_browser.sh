#!/usr/bin/env bash
# Makes sure Debian's Chromium and a CJK font are installed for `make browser`.
#
# Exit status: 0 when both are there (installed now or before); 3 when they are missing and
# cannot be installed here (not root, or no apt-get), which `make browser` reports as a
# skip; any other status is a failure. Under CI (CI=true) a missing browser is never a
# skip: the check must run there.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# Chromium itself, and Noto CJK so that the Chinese terms render as glyphs, not boxes.
PACKAGES=(chromium fonts-noto-cjk)

have_all() {
    [ -x "$CHROMIUM" ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"
}

if have_all; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    if [ "${CI:-}" = "true" ]; then
        echo "browser: $CHROMIUM or fonts-noto-cjk missing and apt-get cannot install them (CI)" >&2
        exit 1
    fi
    echo "browser: SKIPPED: $CHROMIUM or fonts-noto-cjk is missing and cannot be installed" \
        "here (needs root and apt-get); install the packages ${PACKAGES[*]} to run this check" >&2
    exit 3
fi

echo "browser: installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
have_all || { echo "browser: apt-get ran, but $CHROMIUM or the CJK font is still missing" >&2; exit 1; }
