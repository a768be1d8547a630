"""SCons tool waft_target: configure the C toolchain for the board named by $WAFT_TARGET.

Reads `targets/<name>/target.toml` through aot.targets and sets, where the
project has not: CC, AR, RANLIB, CFLAGS, CPPPATH (waft.h and the board glue),
LINKFLAGS (linker script, newlib-nano, --gc-sections; newlib's float printf while
WAFT_PRINTF_FLOAT is true, the default), LIBS, PROGSUFFIX
(`.elf` for boards) and WAFT_BUILD_DIR (`build/<target>`).  The Target
itself is in env['WAFT_TARGET_INFO'] for the other waft tools.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _waft():
    if (REPO_ROOT / "aot").is_dir() and str(REPO_ROOT) not in sys.path:  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    import aot.targets
    import waftkit.firmware.link

    return aot.targets, waftkit.firmware.link


def _cross_tool(cc: str, tool: str) -> str:
    """arm-none-eabi-gcc -> arm-none-eabi-ar; cc -> ar."""
    return cc[: -len("gcc")] + tool if cc.endswith("-gcc") else tool


def generate(env) -> None:
    targets, link = _waft()
    env.SetDefault(WAFT_TARGET="host")
    target = targets.load_target(env.subst("$WAFT_TARGET"))
    env["WAFT_TARGET_INFO"] = target
    env.SetDefault(WAFT_BUILD_DIR=f"#build/{target.name}")
    env.Replace(CC=target.cc, AR=_cross_tool(target.cc, "ar"),
                RANLIB=_cross_tool(target.cc, "ranlib"),
                OBJCOPY=_cross_tool(target.cc, "objcopy"))
    env.AppendUnique(CFLAGS=[*target.cflags, "-O2", "-std=gnu11", "-Wall",
                             "-ffunction-sections", "-fdata-sections"],
                     CPPPATH=[str(d) for d in link.include_dirs(target)],
                     LINKFLAGS=[*link.link_flags(target, printf_float=False), "$_WAFT_PRINTF_FLOAT"],
                     LIBS=["m"])
    # The C library's float printf (~12 KB on a Cortex-M) when WAFT_PRINTF_FLOAT is true: the default for C
    # firmware, whose authors expect %f; WaftWasiFirmware turns it off (its only C is Waft's own).
    env.SetDefault(WAFT_PRINTF_FLOAT=True)
    env["_WAFT_PRINTF_FLOAT_FLAGS"] = link.printf_float_flags(target)
    env["_WAFT_PRINTF_FLOAT"] = "${_WAFT_PRINTF_FLOAT_FLAGS if WAFT_PRINTF_FLOAT else []}"
    if not target.is_host:
        env["PROGSUFFIX"] = ".elf"
    # Cross compilers live on PATH like the host's: keep the user's PATH.
    env["ENV"]["PATH"] = os.environ.get("PATH", env["ENV"].get("PATH", ""))


def exists(env) -> bool:
    try:
        targets, _ = _waft()
        return env.Detect(targets.load_target(env.subst("$WAFT_TARGET") or "host").cc) is not None
    except Exception:  # an unknown target: the tool cannot work
        return False
