"""SCons tool waft_bsp: build a `waft bsp` drop-in (waftkit.firmware.bsp) from Wasm modules.

    dropin = env.WaftBsp('dist/bsp', ['hello.wasm', 'pid.wasm'], args=['Waft'])

writes the folder `dist/bsp` exactly as `waft bsp --target $WAFT_TARGET` does
(lib/, include/, waft_runtime.ld, waft_bsp.cmake, waft_bsp.mk, manifest.json)
for a vendor's Make, CMake or IDE project to link.  The node returned first is
`dist/bsp/manifest.json`; the libraries, module headers and include files are
declared too, so a C build in the same SConstruct can depend on them.

Options (each in the action's varlist: changing one rebuilds the drop-in):
    with_startup  also put Waft's startup code, SysTick and console into libwaft.a
    args          a WASI command's arguments after argv[0]
    max_threads   a threaded WASI command's thread pool (default 8, as waft run)
    kernel_owns_pendsv  threads: libwaft.a defines PendSV_Handler instead of leaving
                  waft_kernel_pendsv_handler to the vendor's vector table
    nic, listen, allow_connect, resolve  wasi-ext:sockets: the NIC driver under lwIP ('lan9118')
                  and the grants, as `waft bsp --nic --listen --allow-connect --resolve`
    WAFT_TARGET, WAFT_OPT, WAFT_MAX_PAGES  as for waft_aot
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import SCons.Action
import SCons.Builder

REPO_ROOT = Path(__file__).resolve().parents[2]

_VARLIST = ["WAFT_TARGET", "WAFT_OPT", "WAFT_MAX_PAGES", "WAFT_BSP_STARTUP", "WAFT_BSP_ARGS",
            "WAFT_BSP_MAX_THREADS", "WAFT_BSP_KERNEL_OWNS_PENDSV", "WAFT_BSP_NIC", "WAFT_BSP_LISTEN",
            "WAFT_BSP_ALLOW_CONNECT", "WAFT_BSP_RESOLVE"]
_OWN_LOCK = threading.Lock()


def _llvm_lock():
    """waft_aot's lock when it is loaded (LLVM is not safe from two `scons -j` threads at once)."""
    aot_tool = sys.modules.get("waft_aot")  # SCons registers toolpath tools under their own name
    return getattr(aot_tool, "_LLVM_LOCK", _OWN_LOCK)


def _kit():
    """Import the kit from this checkout even when SCons runs outside the venv."""
    if (REPO_ROOT / "aot").is_dir() and str(REPO_ROOT) not in sys.path:  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    from aot import abi, errors, targets
    from waftkit.firmware import bsp

    return abi, errors, targets, bsp


def _build(target, source, env):
    """Action: the whole drop-in, into the folder holding target[0] (manifest.json)."""
    _, errors, targets, bsp = _kit()
    out = Path(str(target[0])).parent
    max_pages = env.subst("$WAFT_MAX_PAGES")
    options = bsp.BspOptions(opt=env.subst("$WAFT_OPT"), memory_cap_pages=int(max_pages) if max_pages else None,
                             with_startup=bool(env.get("WAFT_BSP_STARTUP")), args=list(env.get("WAFT_BSP_ARGS", [])),
                             max_threads=int(env.get("WAFT_BSP_MAX_THREADS", 8)),
                             kernel_owns_pendsv=bool(env.get("WAFT_BSP_KERNEL_OWNS_PENDSV")),
                             nic=env.get("WAFT_BSP_NIC") or None, listen=list(env.get("WAFT_BSP_LISTEN", [])),
                             allow_connect=list(env.get("WAFT_BSP_ALLOW_CONNECT", [])),
                             resolve=list(env.get("WAFT_BSP_RESOLVE", [])))
    try:
        with _llvm_lock():
            bsp.build_bsp([Path(str(s)) for s in source], targets.load_target(env.subst("$WAFT_TARGET")), out,
                          Path(env.Dir("$WAFT_BUILD_DIR").abspath), options)
    except (errors.AotError, OSError) as exc:
        sys.stderr.write(f"waft: error: {exc}\n")
        return 1
    return 0


def _emit(target, source, env):
    """Every file of the drop-in a build can name in advance: manifest first, then libraries and headers."""
    abi, *_ = _kit()
    folder = Path(str(target[0]))
    prefixes = [abi.prefix_from_filename(Path(str(s)).stem) for s in source]
    names = ["manifest.json", "lib/libwaft.a", "include/waft.h", "include/waft_bsp.h", "waft_runtime.ld",
             "waft_bsp.cmake", "waft_bsp.mk"]
    names += [f"lib/lib{p}.a" for p in prefixes] + [f"include/{p}.h" for p in prefixes]
    nodes = [env.File(str(folder / n)) for n in names]
    # build_bsp replaces the folder as a whole: SCons must not delete its files first, or the
    # folder would no longer look like a drop-in and build_bsp would refuse to replace it.
    env.Precious(nodes)
    env.Depends(nodes[0], _kit_files(env))
    return nodes, source


def _kit_files(env) -> list:
    """The compiler and the firmware kit: a changed lowering or runtime rebuilds the drop-in."""
    abi, *_ = _kit()
    root = Path(abi.__file__).parent.parent
    files = sorted((root / "aot").rglob("*.py")) + sorted((root / "waftkit" / "firmware").rglob("*.py"))
    files += sorted((root / "runtime_c").rglob("*.[ch]"))
    return [env.File(str(p)) for p in files]


BSP_ACTION = SCons.Action.Action(_build, "$WAFT_BSPCOMSTR", varlist=_VARLIST)


def _waft_bsp(env, folder, sources, with_startup=False, args=(), max_threads=8, kernel_owns_pendsv=False,
              nic=None, listen=(), allow_connect=(), resolve=()):
    """The drop-in folder `folder` from `sources` (.wasm nodes or paths); returns its file nodes."""
    return env._WaftBspBuilder(folder, sources, WAFT_BSP_STARTUP=bool(with_startup), WAFT_BSP_ARGS=list(args),
                               WAFT_BSP_MAX_THREADS=int(max_threads),
                               WAFT_BSP_KERNEL_OWNS_PENDSV=bool(kernel_owns_pendsv), WAFT_BSP_NIC=nic or "",
                               WAFT_BSP_LISTEN=list(listen), WAFT_BSP_ALLOW_CONNECT=list(allow_connect),
                               WAFT_BSP_RESOLVE=list(resolve))


def generate(env) -> None:
    env.SetDefault(WAFT_TARGET="host", WAFT_OPT="2", WAFT_MAX_PAGES="", WAFT_BSP_STARTUP=False, WAFT_BSP_ARGS=[],
                   WAFT_BSP_MAX_THREADS=8, WAFT_BSP_KERNEL_OWNS_PENDSV=False, WAFT_BSP_NIC="",
                   WAFT_BSP_LISTEN=[], WAFT_BSP_ALLOW_CONNECT=[], WAFT_BSP_RESOLVE=[],
                   WAFT_BSPCOMSTR="waft bsp $SOURCES -> ${TARGET.dir}")
    env["BUILDERS"]["_WaftBspBuilder"] = SCons.Builder.Builder(action=BSP_ACTION, emitter=_emit,
                                                               target_factory=env.fs.Dir)
    env.AddMethod(_waft_bsp, "WaftBsp")


def exists(env) -> bool:
    try:
        _kit()
    except ImportError:
        return False
    return True
