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

Threads: a module that imports wasi-threads' `wasi.thread-spawn` or
`wasi-ext:threads` gets its pool and, on a board, the kernel.  What the main
must supply is read from the module when it is built (a generated
`waft_main_config.h`, waftkit/firmware/embedding.py); the thread layer is in
every WASI runtime of a target that can run threads, and an archive links it
only into the firmware that calls it.  Signals: a module that imports
`wasi-ext:signals` may use the lines the build grants it (docs/interrupts.md),
on the targets with a signals port (the host, and Cortex-M boards whose
target.toml has an [interrupts] table: the granted lines' vectors are
generated into the firmware).  Construction variables:
    WAFT_MAX_THREADS    threads a module may run besides the main one (default 8;
                        `scons MAX_THREADS=N` in the repository's SConstruct)
    WAFT_SIGNAL_GRANTS  lines granted to the module, as `waft run --grant` spells
                        them: ["usr1", "tick=timer:0@on_tick", "bell=soft:0"] (default
                        none: every line answers notcapable; `@export` binds the line
                        to that export, whose vector then calls it directly)

Sockets: a module that imports `wasi-ext:sockets` reaches what `listen=` and
`allow_connect=` grant (the grammar of `waft run --listen/--allow-connect`,
docs/sockets.md): on the host they go on the program's command line, on a
board (mps2-an386: lwIP) they are fixed in the firmware, whose runtime then
carries lwIP.  `peer=` is WaftFirmware's (a network peer for `test`).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import SCons.Action
import SCons.Errors

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


def _write_main_config(target, source, env):
    """Action: waft_main_config.h, the -D options of the generic main for this module, as #defines."""
    _aot()
    from aot.errors import AotError
    from aot.wasm.decode import decode_module
    from waftkit.firmware import embedding
    from waftkit.firmware.signal_grants import GrantError, check_grants, parse_grant

    board = env["WAFT_TARGET_INFO"]
    wasm = Path(str(source[0]))
    try:
        # A component: its unwrapped module (waft_aot compiles the same one, from the same cache).
        from aot.component.unwrap import cached_core_module
        from waftkit.cache import cache_dir, inputs_digest

        module = decode_module(cached_core_module(wasm, cache_dir(), inputs_digest()).read_bytes())
        embedding.check_embeddable(module, wasm.name)
        max_pages = env.subst("$WAFT_MAX_PAGES")
        grants = check_grants([parse_grant(str(g)) for g in env.Flatten(env.get("WAFT_SIGNAL_GRANTS", []))], board)
        defines = embedding.main_defines(module, board, int(max_pages) if max_pages else None,
                                         int(env["WAFT_MAX_THREADS"]), grants, PREFIX)
        if embedding.uses_threads(module):
            embedding.thread_defines(board, int(env["WAFT_MAX_THREADS"]))  # a pool out of range: LimitError
        if embedding.uses_regions(module) and not env.get("WAFT_SHM_REGIONS"):
            print(f"waft: error: {wasm.name} imports wasi-ext:shared-memory: declare its regions "
                  f"(WAFT_SHM_REGIONS) and grant them to {PREFIX} (WAFT_SHM_GRANTS=['{PREFIX}=NAME'])")
            return 1
        if embedding.uses_sockets(module):
            if not (env.get("WAFT_SOCKET_LISTEN") or env.get("WAFT_SOCKET_CONNECT")):
                # The runtime carries the sockets layer (and a board lwIP) only for a firmware granted some.
                print(f"waft: error: {wasm.name} imports wasi-ext:sockets: give WaftWasiFirmware listen= or "
                      "allow_connect= grants (without any, every socket call would be acces)")
                return 1
            if not board.is_host:
                embedding.check_board_sockets(module, board)
                defines.append(embedding.socket_options_define(env.get("WAFT_SOCKET_LISTEN", []),
                                                               env.get("WAFT_SOCKET_CONNECT", [])))
    except (AotError, GrantError) as error:
        print(f"waft: error: {error}".replace("--grant ", "WAFT_SIGNAL_GRANTS: "))
        return 1
    lines = ["/* What the generic main supplies for this module: generated by waft_wasi.py. */"]
    lines += [f"#define {d.replace('=', ' ', 1)}" if "=" in d else f"#define {d} 1" for d in defines]
    Path(str(target[0])).write_text("\n".join(lines) + "\n")
    return 0


def _threads_runtime(board, max_threads):
    """(extra sources, defines) of the thread layer for `board`, or empty ones where it has no OS port."""
    from aot.errors import LimitError, TargetError
    from waftkit.firmware import embedding

    try:
        return embedding.thread_sources(board), embedding.thread_defines(board, max_threads)
    except TargetError:
        return [], []
    except LimitError:
        return [], []  # said in one line by _write_main_config, which then fails the build


def _signals_runtime(board):
    """Extra sources of the signals layer for `board`, or none where it has no signals port."""
    from aot.errors import TargetError
    from waftkit.firmware import embedding

    try:
        return embedding.signal_sources(board)
    except TargetError:
        return []


def _regions_runtime(env):
    """The `regions` imports (runtime_c/shm/) where the firmware declares shared-memory regions."""
    from aot.package_data import RUNTIME_DIR

    return [RUNTIME_DIR / "shm" / "ext_regions.c"] if env.get("WAFT_SHM_REGIONS") else []


def _sockets_runtime(board, listen, allow_connect):
    """(extra sources, cflags) of the sockets layer for `board` when the firmware is granted any, else empty.

    Grants are checked here (SocketGrantError: one line); a board's runtime
    then carries lwIP in place of the "no sockets" answers.
    """
    from waftkit.firmware import embedding, socket_grants

    for spec in listen:
        socket_grants.check_grant(spec, "--listen")
    for spec in allow_connect:
        socket_grants.check_grant(spec, "--allow-connect")
    if not (listen or allow_connect):
        return [], []
    return embedding.socket_sources(board), embedding.socket_cflags(board)


def _waft_wasi_firmware(env, name, wasm, args=(), environ=None, dirs=(), console="semihost",
                        expect_stdout=None, expect_exit=0, icount=False, listen=(), allow_connect=(), peer=None):
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
    fw_env.Prepend(CPPPATH=[header.dir])  # the mains include the module's header as "prog.h"
    fw_env["WAFT_SOCKET_LISTEN"] = list(listen)
    fw_env["WAFT_SOCKET_CONNECT"] = list(allow_connect)
    main_config = fw_env.Command("waft_main_config.h", wasm,
                                 SCons.Action.Action(_write_main_config, "generating $TARGET",
                                                     varlist=["WAFT_MAX_THREADS", "WAFT_MAX_PAGES",
                                                              "WAFT_SIGNAL_GRANTS", "WAFT_SHM_REGIONS",
                                                              "WAFT_SOCKET_LISTEN", "WAFT_SOCKET_CONNECT"]))
    try:
        socket_sources, socket_flags = _sockets_runtime(board, list(listen), list(allow_connect))
    except (TargetError, ValueError) as error:  # no network port here, or a grant that does not parse
        print(f"waft: error: {name}: {error}")
        raise SCons.Errors.StopError(str(error)) from None
    threads, thread_defines = _threads_runtime(board, int(fw_env["WAFT_MAX_THREADS"]))
    main_flags = ["-include", str(main_config[0].abspath)]
    argv = [Path(name).stem, *args]
    env_items = [f"{k}={v}" for k, v in (environ or {}).items()]
    if board.is_host:
        fw_env.Append(CPPPATH=[str(wasi.INCLUDE_DIR)])
        main_env = fw_env.Clone()
        main_env.Append(CFLAGS=main_flags, CPPPATH=[str(wasi.WASI_DIR.parent / "threads")])
        main = main_env.Object("host_main", fw_env.File(str(wasi.WASI_DIR / "main" / "host_main.c")))
        fw_env.Depends(main, [header, main_config])
        runtime = env.WaftRuntime(extra_sources=wasi.runtime_sources(board) + threads + _signals_runtime(board)
                                  + socket_sources + _regions_runtime(env), defines=thread_defines)
        grants = [arg for g in listen for arg in ("--listen", g)]
        grants += [arg for g in allow_connect for arg in ("--allow-connect", g)]
        run_args = grants + [arg for e in env_items for arg in ("--env", e)] + ["--", *argv]
        run_dirs = [(fw_env.Dir(h).srcnode().abspath, g) for h, g in dirs]
        return env.WaftFirmware(name, main + module, runtime=runtime, run_args=run_args, WAFT_PRINTF_FLOAT=False,
                                run_dirs=run_dirs, expect_stdout=expect_stdout,
                                expect_exit=expect_exit, icount=icount, peer=peer)
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
    main_env = c_env.Clone()
    main_env.Append(CFLAGS=main_flags)
    objects = [main_env.Object("baremetal_main", fw_env.File(str(baremetal.MAIN_SOURCE)))]
    objects += c_env.Object(config)
    objects += [c_env.Object(f"glue_{src.stem}", fw_env.File(str(src)))
                for src in baremetal.board_glue(board)]
    c_env.Depends(objects, [header, main_config])
    # The signals layer rides in the archive: only a module importing it links it.
    sources = wasi.runtime_sources(board) + threads + _signals_runtime(board) + _regions_runtime(env)
    if socket_sources:  # lwIP and p1's socket calls in place of the port's "no sockets" answers
        sources = [s for s in sources if s.name != baremetal.SOCKETLESS_PORT] + socket_sources
    runtime = env.WaftRuntime(extra_sources=sources, defines=baremetal.runtime_defines() + thread_defines,
                              cflags=socket_flags)
    # No float printf from the board's C library: the module's printf is inside the module, and the
    # firmware's only C is Waft's own.
    return env.WaftFirmware(name, objects + module, runtime=runtime, WAFT_PRINTF_FLOAT=False,
                            expect_stdout=expect_stdout, expect_exit=expect_exit, icount=icount, peer=peer)


def generate(env) -> None:
    env.SetDefault(WAFT_MAX_THREADS="8", WAFT_SIGNAL_GRANTS=[])
    env.AddMethod(_waft_wasi_firmware, "WaftWasiFirmware")


def exists(env) -> bool:
    return True
