"""SCons tool waft_wasi: firmware for WASI command modules (a `main` compiled to Wasm).

    env.WaftWasiFirmware('hello', 'hello.wasm', args=['hello', 'world'],
                         environ={'GREETING': 'hi'}, dirs=[('seed', 'data')],
                         expect_stdout='...')

On the host the program is linked with the WASI host port and host_main.c
(args given at run time are appended to `args`); on a board the guest's
argv, environ and RAM-filesystem seed are fixed at build time in a generated
`wasi_config.c` (waftkit/firmware/wasi_firmware.py), and the firmware runs `_start` from
reset.  The module is compiled under the prefix `prog` (what both mains
expect); everything else is WaftFirmware's: size check, .bin/.hex/.map,
run/test/size aliases.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import SCons.Action

REPO_ROOT = Path(__file__).resolve().parents[2]
PREFIX = "prog"


def _aot():
    if (REPO_ROOT / "aot").is_dir() and str(REPO_ROOT) not in sys.path:  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    from waftkit import wasi
    from waftkit.firmware import wasi_firmware

    return wasi, wasi_firmware


def _write_config(target, source, env):
    """Action: generate wasi_config.c from the args, environ and seed folders."""
    _, baremetal = _aot()
    # Reproducible: the build's epoch and the fallback RNG's seed follow the
    # inputs, so an unchanged firmware is not rebuilt (SOURCE_DATE_EPOCH wins).
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or max(
        int(Path(str(s)).stat().st_mtime) for s in source)
    seed = hashlib.sha256("\0".join(env["WAFT_WASI_ARGS"] + env["WAFT_WASI_ENV"]).encode()).digest()[:16]
    text = baremetal.render_config(args=env["WAFT_WASI_ARGS"], env=env["WAFT_WASI_ENV"],
                                   dirs=[tuple(d) for d in env["WAFT_WASI_DIRS"]],
                                   epoch_ns=epoch * 1_000_000_000, seed=seed)
    Path(str(target[0])).write_text(text)
    return 0


def _waft_wasi_firmware(env, name, wasm, args=(), environ=None, dirs=(), console="semihost",
                        expect_stdout=None, expect_exit=0):
    wasi, baremetal = _aot()
    from aot.errors import TargetError

    board = env["WAFT_TARGET_INFO"]
    try:
        wasi.runtime_sources(board)
    except TargetError:
        # Say so and build the rest: a board without WASI still runs core-Wasm firmware.
        print(f"waft: {name} is a WASI program and {board.name} has no WASI port yet: not built")
        return []
    fw_env = env.Clone(WAFT_MODULE_NAME=PREFIX)
    module = [n for n in fw_env.Object(PREFIX, wasm) if str(n).endswith(fw_env["OBJSUFFIX"])]
    header = fw_env.File(PREFIX + ".h")
    argv = [Path(name).stem, *args]
    env_items = [f"{k}={v}" for k, v in (environ or {}).items()]
    if board.is_host:
        fw_env.Append(CPPPATH=[str(wasi.INCLUDE_DIR)])
        main = fw_env.Object("host_main", fw_env.File(str(wasi.WASI_DIR / "main" / "host_main.c")))
        fw_env.Depends(main, header)
        runtime = env.WaftRuntime(extra_sources=wasi.runtime_sources(board))
        run_args = [arg for e in env_items for arg in ("--env", e)] + ["--", *argv]
        run_dirs = [(fw_env.Dir(h).srcnode().abspath, g) for h, g in dirs]
        return env.WaftFirmware(name, main + module, runtime=runtime, run_args=run_args,
                                run_dirs=run_dirs, expect_stdout=expect_stdout,
                                expect_exit=expect_exit)
    seeds = [fw_env.Glob(f"{host}/*") for host, _guest in dirs]
    config = fw_env.Command("wasi_config.c", [wasm, *seeds],
                            SCons.Action.Action(_write_config, "generating $TARGET",
                                                varlist=["WAFT_WASI_ARGS", "WAFT_WASI_ENV",
                                                         "WAFT_WASI_DIRS"]),
                            WAFT_WASI_ARGS=argv, WAFT_WASI_ENV=env_items,
                            WAFT_WASI_DIRS=[(str(fw_env.Dir(h).srcnode().abspath), g) for h, g in dirs])
    flags = baremetal.firmware_cflags(board, prefix=PREFIX, header=Path(str(header.abspath)),
                                      console=console)
    c_env = fw_env.Clone()
    c_env.Append(CFLAGS=flags)
    objects = [c_env.Object("baremetal_main", fw_env.File(str(baremetal.MAIN_SOURCE)))]
    objects += c_env.Object(config)
    objects += [c_env.Object(f"glue_{src.stem}", fw_env.File(str(src)))
                for src in baremetal.board_glue(board)]
    c_env.Depends(objects, header)
    runtime = env.WaftRuntime(extra_sources=wasi.runtime_sources(board),
                              defines=baremetal.runtime_defines())
    return env.WaftFirmware(name, objects + module, runtime=runtime,
                            expect_stdout=expect_stdout, expect_exit=expect_exit)


def generate(env) -> None:
    env.AddMethod(_waft_wasi_firmware, "WaftWasiFirmware")


def exists(env) -> bool:
    return True
