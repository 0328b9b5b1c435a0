#!/usr/bin/env bash
# Makes sure Debian's Chromium and a CJK font are installed for `make browser`.
#
# Exit status: 0 when both are there (installed now or before); 3 when they are missing and
# cannot be installed here (not root, or no apt-get), which `make browser` reports as a
# skip; any other status is a failure. Under CI (CI=true) a missing browser is never a
# skip: the check must run there.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# Chromium itself, Noto CJK so that the Chinese terms render as glyphs, not boxes, and
# fontconfig, whose fc-list tells whether Chromium will find that font.
PACKAGES=(chromium fonts-noto-cjk fontconfig)

# Prints what is missing, one item per line; prints nothing when all is there. fc-list's
# output is read whole before it is searched: `fc-list | grep -q` under pipefail fails when
# grep stops early on a long list and fc-list dies of SIGPIPE, which reads as "no font".
missing() {
    [ -x "$CHROMIUM" ] || echo "$CHROMIUM (package chromium)"
    if ! command -v fc-list >/dev/null; then
        echo "fc-list (package fontconfig)"
        return
    fi
    local fonts
    fonts=$(fc-list : family 2>/dev/null || true)
    if ! grep -qi "Noto Sans CJK" <<< "$fonts"; then
        echo "the font Noto Sans CJK (package fonts-noto-cjk; fc-list lists $(grep -c . <<< "$fonts") families)"
    fi
}

have_all() {
    [ -z "$(missing)" ]
}

if have_all; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    if [ "${CI:-}" = "true" ]; then
        echo "browser: missing and apt-get cannot install them (CI): $(missing | paste -sd ';')" >&2
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
# A font installed in this same apt-get run is listed once fontconfig's cache knows it.
have_all || fc-cache -f >/dev/null 2>&1 || true
if ! have_all; then
    dpkg-query -W "${PACKAGES[@]}" >&2 || true
    echo "browser: apt-get installed ${PACKAGES[*]}, but these are still missing:" >&2
    missing | sed 's/^/browser:   /' >&2
    exit 1
fi
