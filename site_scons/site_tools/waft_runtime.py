"""SCons tool waft_runtime: build Waft's C runtime (core + port + board glue) for the target.

    runtime = env.WaftRuntime()      # $WAFT_BUILD_DIR/runtime/libwaft.a, built once per target

The source list and flags come from waftkit.firmware.runtime, the same ones the
`waft` command uses, so a firmware built by SCons links the runtime the
compiler's tests proved.  SCons tracks every source and header itself, so a
changed runtime file rebuilds the library and then the firmware.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _runtime_build():
    if (REPO_ROOT / "aot").is_dir() and str(REPO_ROOT) not in sys.path:  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    import waftkit.firmware.runtime

    return waftkit.firmware.runtime


def _waft_runtime(env, extra_sources=(), defines=(), cflags=()):
    """The runtime library node for this environment's target (memoised per environment).

    `extra_sources` (the WASI runtime, say) are archived with the core;
    `defines` ("NAME" or "NAME=VALUE") apply to every runtime source, and so
    do `cflags` (include folders an extra source needs: lwIP's).
    """
    key = ("WAFT_RUNTIME_NODE", tuple(str(s) for s in extra_sources), tuple(defines), tuple(cflags))
    cached = env.get("_WAFT_RUNTIME_CACHE", {})
    if key in cached:
        return cached[key]
    rb = _runtime_build()
    target = env["WAFT_TARGET_INFO"]
    rt_env = env.Clone()
    rt_env.Replace(CFLAGS=[*rb.runtime_cflags(target, defines), *cflags], CPPPATH=[])
    build = env.Dir("$WAFT_BUILD_DIR").Dir("runtime")
    sources = [Path(s) for s in rb.runtime_sources(target)] + [Path(str(s)) for s in extra_sources]
    # One library per source set: the plain core and the core with WASI differ.
    suffix = "" if not extra_sources else "_" + hashlib.sha256(repr(key).encode()).hexdigest()[:8]
    build = build.Dir(suffix.lstrip("_") or ".")
    objects = [
        rt_env.Object(build.File(f"{i:02d}_{src.stem}.o"), env.File(str(src)))
        for i, src in enumerate(sources)
    ]
    # A string, not a File node, so SCons adds the platform's lib prefix and suffix.
    library = rt_env.StaticLibrary(f"$WAFT_BUILD_DIR/runtime/waft{suffix}", objects)
    cached[key] = library
    env["_WAFT_RUNTIME_CACHE"] = cached
    return library


def generate(env) -> None:
    env.AddMethod(_waft_runtime, "WaftRuntime")


def exists(env) -> bool:
    return (_runtime_build().INCLUDE_DIR / "waft.h").is_file()
