"""SCons tool waft_aot: compile `.wasm` modules to native objects with Waft, in-process.

It teaches SCons' own Object/StaticObject builders the `.wasm` suffix (the way
SCons/Tool/cc.py adds `.c`), so a firmware's source list can mix C and Wasm:

    env.Program('firmware.elf', ['main.c', 'pid.wasm'])

Each `pid.wasm` becomes `pid.o` plus the generated header `pid.h` beside it
(declared by the emitter, so C files that include it are rebuilt after it).

A component is accepted wherever a module is (issue 16, docs/components.md):
it is unwrapped first (`waft unwrap`, cached by content under the run cache)
and the core module inside is compiled.  When it exports interfaces other
than `wasi:cli/run`, the C that calls them is written beside the object,
named after the module's prefix P: `P_host.h/.c`, `P_host_module.h/.c` and
`P_component.h` (`waft compile` writes the same); the emitter declares them
for a source that is a component on disk with such exports, or whose name
ends in `.component.wasm` (one built in the same run: when it turns out to
export nothing but `wasi:cli/run` the files say so in a comment), so C
including them is built after them and the `.c` files can be given to a
firmware as sources.

Construction variables (each is in the action's varlist: changing one
rebuilds the objects):
    WAFT_TARGET       target name from targets/ (default 'host')
    WAFT_OPT          LLVM optimisation level: 0 1 2 3 s z (default '2')
    WAFT_MAX_PAGES    build-time cap on linear memory, in pages (default: the target's)
    WAFT_MODULE_NAME  C prefix of the module's symbols (default: the object's stem)
    WAFT_SHM_REGIONS  the firmware's shared-memory regions, ["NAME:SIZE[@PLACEMENT]", ...]
    WAFT_SHM_GRANTS   regions granted to modules, ["MODULE=REGION[:ro|rw]", ...] (MODULE: the
                      C prefix); a module importing a region not granted to it is refused
                      (docs/shared-memory.md; WaftFirmware generates the regions' C)
    WAFT_JOBS         processes compiling a big module's partitions (default 1: `scons -j` already
                      runs builds side by side); not in the varlist, the object is the same for any count

A big module's partitions are cached by content in waft's build cache, as `waft compile` caches them
(aot/parallel.py): a rebuild after a one-function change recompiles that function's partition.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import SCons.Action
import SCons.Tool

REPO_ROOT = Path(__file__).resolve().parents[2]

_VARLIST = ["WAFT_TARGET", "WAFT_OPT", "WAFT_MAX_PAGES", "WAFT_MODULE_NAME", "WAFT_SHM_REGIONS", "WAFT_SHM_GRANTS"]


def _aot_compiler():
    """Import the compiler from this checkout even when SCons runs outside the venv."""
    if (REPO_ROOT / "aot").is_dir() and str(REPO_ROOT) not in sys.path:  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    from aot import abi, compiler, errors, targets

    return abi, compiler, errors, targets


def _module_name(env, obj) -> str:
    abi, *_ = _aot_compiler()
    name = env.subst("$WAFT_MODULE_NAME")
    return abi.check_prefix(name) if name else abi.prefix_from_filename(Path(str(obj)).stem)


# `scons -j` runs Python actions on several threads of one process, and LLVM
# (through llvmlite) is not safe to drive from two threads at once: a crash, not
# an error. Compiles take turns; C compiles and links still run in parallel.
_LLVM_LOCK = threading.Lock()


def _compile_wasm(target, source, env):
    """Action: compile source[0] (.wasm) into target[0] (.o) and target[1] (.h)."""
    with _LLVM_LOCK:
        return _compile_wasm_locked(target, source, env)


def _compile_wasm_locked(target, source, env):
    abi, compiler, errors, targets = _aot_compiler()
    obj = Path(str(target[0]))
    max_pages = env.subst("$WAFT_MAX_PAGES")
    prefix = _module_name(env, obj)
    try:
        board = targets.load_target(env.subst("$WAFT_TARGET"))
        module, exports_c = _core_module(Path(str(source[0])), prefix)
        compiler.compile_file(
            module,
            obj,
            board,
            prefix=prefix,
            opt=env.subst("$WAFT_OPT"),
            memory_cap_pages=int(max_pages) if max_pages else None,
            regions=_granted_regions(env, board, prefix),
            jobs=int(env.subst("$WAFT_JOBS") or 1),
            cache=_partition_cache(board.name),
        )
        from aot.component.exports_wit import write_export_files

        declared = [Path(str(t)).name for t in target[2:]]
        if declared and not exports_c:  # a `.component.wasm` built here that exports nothing but run
            exports_c = {name: _NO_EXPORTS for name in declared}
        write_export_files(exports_c, obj.parent)
    except (errors.AotError, ValueError, OSError) as exc:
        sys.stderr.write(f"waft: error: {source[0]}: {exc}\n")
        return 1
    return 0


def _partition_cache(target_name: str):
    """The partition cache `waft compile` uses (aot/parallel.py): after a one-function change, a big
    module recompiles one partition, not all of them."""
    from aot.parallel import PartitionCache
    from waftkit.cache import partition_cache_dir

    return PartitionCache(partition_cache_dir(target_name))


def _is_component(path: Path) -> bool:
    from aot.component import is_component

    try:
        with open(path, "rb") as f:
            return is_component(f.read(8))
    except OSError:
        return False


def _core_module(path: Path, prefix: str) -> tuple[Path, dict[str, str]]:
    """(the core module to compile, the C for a component's exports): a module is itself, with no C."""
    if not _is_component(path):
        return path, {}
    from aot.component.exports_wit import component_export_files
    from aot.component.unwrap import unwrap_cached
    from waftkit.cache import cache_dir, inputs_digest

    data = path.read_bytes()
    core = unwrap_cached(data, path.name, cache_dir(), inputs_digest())  # the CLI's cache, the same key
    return core, component_export_files(data, core.read_bytes(), prefix)


# What the declared files hold when a component built in the same run turns out to export nothing but
# wasi:cli/run (the emitter could not read it): valid C, so a firmware listing them still builds.
_NO_EXPORTS = "/* The component exports nothing but wasi:cli/run: no C functions (generated by waft_aot). */\n"


def _has_exports(path: Path) -> bool:
    from aot.component import decode_component, instantiate
    from aot.component.exports_wit import exported_world

    try:
        return exported_world(instantiate(decode_component(path.read_bytes()))) is not None
    except Exception:  # noqa: BLE001 - a component that cannot be read: declared, so the action runs first
        return True  # and says why in one line (C including the files waits for it)


def _component_outputs(source, prefix: str) -> list[str]:
    """The files the C of a component's exports goes to (none for a core module, or a component on disk
    that exports nothing but wasi:cli/run)."""
    path = Path(str(source))
    if _is_component(path):
        if not _has_exports(path):
            return []
    elif not path.name.endswith(".component.wasm"):
        return []
    return [f"{prefix}_host.h", f"{prefix}_host.c", f"{prefix}_host_module.h", f"{prefix}_host_module.c",
            f"{prefix}_component.h"]


def _granted_regions(env, board, prefix: str) -> list:
    """The shared-memory regions WAFT_SHM_GRANTS gives module `prefix` (LinkError for bad ones)."""
    from waftkit.firmware import shm_regions

    regions = shm_regions.parse_regions([str(r) for r in env.Flatten(env.get("WAFT_SHM_REGIONS", []))], board)
    grants = shm_regions.parse_grants([str(g) for g in env.Flatten(env.get("WAFT_SHM_GRANTS", []))], regions)
    return grants.get(prefix, [])


def _emit_header(target, source, env):
    """The object's header is a second target of the same action.

    The object also depends on the compiler itself and on the target's
    description: a changed lowering or memory map rebuilds every module.
    """
    obj = Path(str(target[0]))
    _, _, _, targets = _aot_compiler()
    board = targets.load_target(env.subst("$WAFT_TARGET"))
    env.Depends(target[0], [env.File(str(board.directory / "target.toml"))] + _compiler_files(env))
    extra = [env.File(str(obj.with_name(n))) for n in _component_outputs(source[0].srcnode(), _module_name(env, obj))]
    return target + [env.File(str(obj.with_suffix(".h")))] + extra, source


def _compiler_files(env) -> list:
    """The compiler's own sources (the `aot` package): runners, tests and docs do not rebuild modules."""
    abi, *_ = _aot_compiler()
    return [env.File(str(p)) for p in sorted(Path(abi.__file__).parent.rglob("*.py"))]


AOT_ACTION = SCons.Action.Action(_compile_wasm, "$WAFT_AOTCOMSTR", varlist=_VARLIST)


# SCons' worker threads (scons -j) get 256 KiB stacks by default, and LLVM's
# code generator needs more than that: it overflowed and crashed the build.
MIN_THREAD_STACK_KB = 16384


def generate(env) -> None:
    import SCons.Script

    if (SCons.Script.GetOption("stack_size") or 0) < MIN_THREAD_STACK_KB:
        SCons.Script.SetOption("stack_size", MIN_THREAD_STACK_KB)
    env.SetDefault(WAFT_TARGET="host", WAFT_OPT="2", WAFT_MAX_PAGES="", WAFT_MODULE_NAME="", WAFT_JOBS="1",
                   WAFT_SHM_REGIONS=[], WAFT_SHM_GRANTS=[],
                   WAFT_AOTCOMSTR="waft compile $SOURCE -> $TARGET")
    static_obj, shared_obj = SCons.Tool.createObjBuilders(env)
    for builder in (static_obj, shared_obj):
        builder.add_action(".wasm", AOT_ACTION)
        builder.add_emitter(".wasm", _emit_header)


def exists(env) -> bool:
    try:
        _aot_compiler()
    except ImportError:
        return False
    return True
