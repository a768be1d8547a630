#!/usr/bin/env bash
# Fetch lwIP's source from Debian's source package (`lwip`, 2.1.3, BSD licence)
# into build/toolchain/lwip (or $1), for the project's own build to compile
# for Cortex-M (runtime_c/sockets/lwip/, waftkit/firmware/lwip.py): nothing is
# built here, because the stack's options (lwipopts.h: NO_SYS, static pools)
# are the firmware's, not the package's.
#
#   src/core/, src/core/ipv4/, src/netif/ethernet.c, src/include/   what Waft compiles
#
# Needs: deb-src for bookworm in apt's sources (.ci/install adds it) and
# dpkg-dev (apt-get source).  Fast when already there: a stamp records the
# source package's version.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-build/toolchain/lwip}
WORK=build/toolchain/lwip-fetch

version=$(apt-cache showsrc lwip 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)
if [ -z "$version" ]; then
    echo "build_lwip: no source package 'lwip' (deb-src not enabled? see .ci/install)" >&2
    exit 1
fi
stamp_text="lwip $version"
if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$stamp_text" ]; then
    exit 0
fi

rm -rf "$WORK"
mkdir -p "$WORK"
(
    cd "$WORK"
    apt-get source -qq "lwip=$version" >/dev/null 2>apt-get-source.log || {
        cat apt-get-source.log >&2
        echo "build_lwip: apt-get source lwip failed (deb-src not enabled? see .ci/install)" >&2
        exit 1
    }
)
src=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'lwip-*' | head -1)
if [ ! -f "$src/src/core/tcp.c" ] || [ ! -f "$src/src/include/lwip/opt.h" ]; then
    echo "build_lwip: $src does not look like lwIP's source (no src/core/tcp.c)" >&2
    exit 1
fi
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
mv "$src" "$OUT"
echo "$stamp_text" > "$OUT/.stamp"
rm -rf "$WORK"
echo "lwIP source: $OUT ($stamp_text)"
