#!/usr/bin/env bash
# Build the wasm32-wasi-threads sysroot (wasi-libc for THREAD_MODEL=posix)
# from Debian's wasi-libc source package, with tools/wasi-libc-threads/ on top,
# into build/toolchain/wasi-sysroot-threads (or $1).
#
#   lib/wasm32-wasi-threads/   crt1*.o, libc.a (with pthreads), ...
#   include/                   the headers (pthread.h, wasi/api.h with thread-spawn)
#
# Debian ships only the single-threaded sysroot (package wasi-libc); its
# objects have no atomics, so wasm-ld refuses --shared-memory. Why the patch,
# and what it gives: tools/wasi-libc-threads/README.md.
#
# Needs: deb-src for bookworm in apt's sources (.ci/install adds it), dpkg-dev
# (apt-get source), clang-14, llvm-14 (llvm-ar-14, llvm-nm-14), make, patch.
# Fast when already built: a stamp records the inputs of the last build.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-build/toolchain/wasi-sysroot-threads}
WORK=build/toolchain/wasi-libc-threads-build
HERE=tools/wasi-libc-threads
CC=${WASI_CC:-clang-14}
AR=${WASI_AR:-llvm-ar-14}
NM=${WASI_NM:-llvm-nm-14}

version=$(dpkg-query -W -f='${Version}' wasi-libc 2>/dev/null || true)
if [ -z "$version" ]; then
    echo "build_wasi_threads_sysroot: Debian's wasi-libc is not installed" >&2
    exit 1
fi

# Everything the result depends on: the source package's version, the compiler,
# this script, the patch and the added sources.
stamp_text=$(
    echo "wasi-libc $version"
    "$CC" --version | head -1
    sha256sum "$0" "$HERE"/wasi-libc-threads.patch "$HERE"/src/*
)
if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$stamp_text" ]; then
    exit 0
fi

start=$(date +%s)
rm -rf "$WORK"
mkdir -p "$WORK"
(
    cd "$WORK"
    # The source of exactly the installed version, with Debian's patches applied.
    apt-get source -qq "wasi-libc=$version" >/dev/null 2>apt-get-source.log || {
        cat apt-get-source.log >&2
        echo "build_wasi_threads_sysroot: apt-get source failed (deb-src not enabled? see .ci/install)" >&2
        exit 1
    }
)
src=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'wasi-libc-*' | head -1)
patch -s -d "$src" -p1 < "$HERE"/wasi-libc-threads.patch
mkdir -p "$src"/libc-bottom-half/threads
cp "$HERE"/src/* "$src"/libc-bottom-half/threads/

abs_out=$(realpath -m "$OUT")
rm -rf "$abs_out.tmp"
jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))
if ! make -C "$src" -j"$jobs" THREAD_MODEL=posix CC="$CC" AR="$AR" NM="$NM" \
        EXTRA_CFLAGS="-O2 -DNDEBUG" \
        SYSROOT="$abs_out.tmp" OBJDIR="$(realpath "$WORK")/obj" finish > "$WORK/make.log" 2>&1; then
    tail -40 "$WORK/make.log" >&2
    echo "build_wasi_threads_sysroot: make failed (log: $WORK/make.log)" >&2
    exit 1
fi
rm -rf "$abs_out"
mv "$abs_out.tmp" "$abs_out"
echo "$stamp_text" > "$abs_out/.stamp"
rm -rf "$WORK"
echo "wasi-threads sysroot: $OUT ($(( $(date +%s) - start )) s)"
