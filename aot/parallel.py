"""Compile a split module (aot/partition.py): partitions in parallel processes, cached, combined into one object.

    key each partition by the content it is made of (`partition_keys`)
    take what the cache holds; compile the rest, `jobs` at a time: in this process alone when
    one is stale, else here and in `jobs` - 1 worker processes
        (each: lower the partition, optimise, generate code, settle its frame guards)
    store the new results in the cache
    combine the objects into one relocatable object (`combine_objects`)
    generate the header (the largest unguarded frame over all partitions)

Why `ld -r` of the partitions' objects rather than linking the LLVM modules
before code generation: code generation is most of the time (over half at
-O2 on stm32f4, and all of a rebuild's misses), so it must run in the
partitions' processes, and a cached partition must be reusable as machine
code.  `ld.lld -r` combines the objects for every target LLVM has (one tool,
the same bytes for the same inputs), and `llvm-objcopy --localize-hidden`
then turns the partitions' `hidden` cross-references back into local symbols,
as they were `internal` in a single-module compile: a firmware linking two
modules sees no clash.  The cache is a folder given by the caller (waftkit
keeps it under the build cache); the compiler never finds one of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import secrets
import shutil
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from aot import combine
from aot.errors import AotError
from aot.partition import Partition, function_bytes
from aot.shm import RegionGrant
from aot.targets import Target
from aot.wasm.rewrite import sections
from aot.wasm.module import Module

CACHE_FORMAT = "1"


@dataclass
class PartitionResult:
    """One partition through LLVM, frames settled: what the cache keeps of it."""

    object: bytes
    optimised: str  # its optimised LLVM IR
    frame_sizes: dict[str, int] = field(default_factory=dict)
    frame_guards: dict[str, int] = field(default_factory=dict)
    max_frame: int = 0  # its largest frame no guard covers


class PartitionCache:
    """Partition results on disk, one folder per key: `object.o`, `optimised.ll`, `frames.json`.

    Writes go to a temporary folder renamed into place, so a parallel build
    never reads half an entry; an entry that cannot be read is a miss.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> PartitionResult | None:
        entry = self.root / key
        try:
            meta = json.loads((entry / "frames.json").read_text())
            result = PartitionResult((entry / "object.o").read_bytes(), (entry / "optimised.ll").read_text(),
                                     meta["sizes"], meta["guards"], meta["max_frame"])
        except (OSError, ValueError, KeyError):
            self.misses += 1
            return None
        try:
            os.utime(entry)  # for least-recently-used pruning (waftkit/cache.py)
        except OSError:
            pass
        self.hits += 1
        return result

    def put(self, key: str, result: PartitionResult) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{key}.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            (tmp / "object.o").write_bytes(result.object)
            (tmp / "optimised.ll").write_text(result.optimised)
            (tmp / "frames.json").write_text(json.dumps({"sizes": result.frame_sizes, "guards": result.frame_guards,
                                                         "max_frame": result.max_frame}))
            os.rename(tmp, self.root / key)
        except OSError:
            pass  # another process stored the same key first (same content), or the disk is full: no cache
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class Options:
    """compile_module's options that reach the partitions (all part of every cache key)."""

    prefix: str
    opt: str
    memory_cap_pages: int | None
    table_cap: int | None
    bounds_checks: bool
    regions: tuple[RegionGrant, ...]


@cache
def compiler_digest() -> str:
    """Hash of the compiler's own sources and LLVM's version: a changed compiler never reuses a result."""
    import llvmlite
    import llvmlite.binding as llvm

    h = hashlib.sha256(f"{CACHE_FORMAT}|{llvmlite.__version__}|{llvm.llvm_version_info}".encode())
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(b"\0" + str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def module_level_bytes(data: bytes) -> bytes:
    """The module's bytes without the code section's contents: everything every partition depends on."""
    out = bytearray(data[:8])
    for section, start, _body, end in sections(data):
        if section != 10:
            out += data[start:end]
    return bytes(out)


def partition_keys(data: bytes, module: Module, parts: list[Partition], target: Target,
                   options: Options) -> list[str]:
    """One content hash per partition: the compiler, the target, the options, the module's non-code sections,
    the whole-module analyses the lowering reads, and the bodies of the partition's functions and copies."""
    from aot.lower.leaves import unchecked_leaves
    from aot.lower.libc_builtins import recognised
    from aot.shadow_stack import ordered_stack_pointer

    base = hashlib.sha256()
    base.update(compiler_digest().encode())
    base.update(repr((target, options)).encode())
    base.update(module_level_bytes(data))
    # What the lowering of one function learns from the others' code.
    base.update(repr((sorted(unchecked_leaves(module)), sorted(recognised(module).items()),
                      ordered_stack_pointer(module))).encode())
    keys = []
    for part in parts:
        h = base.copy()
        h.update(repr((part.functions, part.copies, part.module_level)).encode())
        for index in part.functions + part.copies:
            h.update(function_bytes(data, module, index))
        keys.append(h.hexdigest()[:32])
    return keys


def compile_partitions(data: bytes, module: Module, parts: list[Partition], target: Target, *, prefix: str,
                       opt: str, jobs: int = 1, cache: PartitionCache | None = None,
                       memory_cap_pages: int | None = None, table_cap: int | None = None,
                       bounds_checks: bool = True, fit_check_name: str | None = None,
                       regions: tuple[RegionGrant, ...] = ()):
    """The CompileResult of a module split into `parts` (see the module docstring)."""
    from aot.compiler import CompileResult, check_fits, target_machine
    from aot.header import generate_header
    from aot.partition_lower import instance_layout

    options = Options(prefix, opt, memory_cap_pages, table_cap, bounds_checks, tuple(regions))
    tm = target_machine(target, opt)
    size, align, sp_offset = instance_layout(module, target, prefix, tm.target_data,
                                             memory_cap_pages=memory_cap_pages, table_cap=table_cap,
                                             regions=options.regions)
    if fit_check_name is not None:
        check_fits(module, size, target, fit_check_name, memory_cap_pages)
    keys = partition_keys(data, module, parts, target, options)
    results: list[PartitionResult | None] = [cache.get(k) if cache is not None else None for k in keys]
    missing = [i for i, r in enumerate(results) if r is None]
    workers = min(max(1, jobs), len(missing))
    if workers <= 1:  # one stale partition (a one-function rebuild) or -j1: no process to start
        for i in missing:
            results[i] = compile_partition(module, parts[i], target, options)
    else:
        # Biggest first, so no long partition starts last; each result goes back to its own slot.  This
        # process takes partitions too, beside workers - 1 others: a worker costs a process start, imports
        # and decoding and validating the module before its first partition.
        order = sorted(missing, key=lambda i: -sum(module.functions[f - module.num_imported_funcs].body_size
                                                   for f in parts[i].functions))
        for i, result in run_workers(workers - 1, data, target, options, [(i, parts[i]) for i in order],
                                     local=lambda part: compile_partition(module, part, target, options)):
            results[i] = result
    if cache is not None:
        for i in missing:
            cache.put(keys[i], results[i])
    obj = combine_objects([r.object for r in results], target)
    max_frame = max(r.max_frame for r in results)
    header = generate_header(module, prefix, size, align, target, max_unguarded_frame=max_frame,
                             stack_pointer_offset=sp_offset)
    sizes = {name: s for r in results for name, s in r.frame_sizes.items()}
    guards = {name: g for r in results for name, g in r.frame_guards.items()}
    return CompileResult(obj, header, module, prefix, size, align, frame_sizes=sizes, frame_guards=guards,
                         optimised_parts=tuple(r.optimised for r in results))


def compile_partition(module: Module, part: Partition, target: Target, options: Options) -> PartitionResult:
    """One partition through lowering, LLVM's pipeline and code generation, its frames settled."""
    from aot.compiler import compile_settled, target_machine
    from aot.frame_sizes import check_measurable
    from aot.partition_lower import lower_partition

    tm = target_machine(target, options.opt)
    check_measurable(tm)

    def lower(guards: dict[str, int]):
        return lower_partition(module, part, target, options.prefix, tm.target_data, opt=options.opt,
                               memory_cap_pages=options.memory_cap_pages, table_cap=options.table_cap,
                               bounds_checks=options.bounds_checks, frame_guards=guards, regions=options.regions)

    what = f"{options.prefix} (partition of functions {part.functions[:1]}...)"
    settled = compile_settled(lower, module, target, options.opt, what)
    return PartitionResult(settled.object, settled.optimised, settled.frames.sizes, settled.guards,
                           settled.max_frame)


def run_workers(workers: int, data: bytes, target: Target, options: Options,
                jobs: list[tuple[int, Partition]],
                local: Callable[[Partition], PartitionResult] | None = None) -> list[tuple[int, PartitionResult]]:
    """Compile `jobs` in `workers` processes of aot/partition_worker.py, and with `local` in this process
    too (a thread taking from the same queue); (slot, result) pairs, in any order.

    Fresh interpreters (`python -m`), not multiprocessing: a forked child would inherit locks
    that SCons's compiling threads hold, and a spawned one re-imports the caller's main script.
    They are all started before `local` runs: it redirects this process's descriptor 2 while
    LLVM reports frames (aot/frame_sizes.py), and a worker started then would inherit the
    redirection and report its frames into this process's figures.
    """
    queue = list(reversed(jobs))
    lock = threading.Lock()
    done: list[tuple[int, PartitionResult]] = []
    failures: list[str] = []
    errors: list[BaseException] = []
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])

    def take() -> tuple[int, Partition] | None:
        with lock:
            return queue.pop() if queue and not failures else None

    def serve(proc: subprocess.Popen) -> None:
        with proc:
            try:
                send(proc.stdin, (data, target, options))
                while (job := take()) is not None:
                    slot, part = job
                    send(proc.stdin, part)
                    kind, value = receive(proc.stdout)
                    if kind == "error":
                        failures.append(value)
                        break
                    with lock:
                        done.append((slot, value))
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                failures.append(f"internal error: a partition worker stopped ({exc or type(exc).__name__})")
            finally:
                proc.stdin.close()

    def compile_here() -> None:
        try:
            while (job := take()) is not None:
                slot, part = job
                result = local(part)
                with lock:
                    done.append((slot, result))
        except AotError as exc:
            failures.append(str(exc))
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
            failures.append("internal error")
            errors.append(exc)

    procs = [subprocess.Popen([sys.executable, "-m", "aot.partition_worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env) for _ in range(workers)]
    threads = [threading.Thread(target=serve, args=(proc,)) for proc in procs]
    if local is not None:
        threads.append(threading.Thread(target=compile_here))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    if failures:
        raise AotError(failures[0])
    return done


def send(stream, value) -> None:
    """One length-prefixed pickle (the workers' protocol, both ways)."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def receive(stream):
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("no reply")
    (size,) = struct.unpack("<Q", head)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("truncated reply")
    return pickle.loads(payload)


def combine_objects(objects: list[bytes], target: Target) -> bytes:
    """One relocatable object from the partitions' objects, their `hidden` symbols made local again."""
    from aot.emit import add_vfp_args_attribute

    combined = combine.combine_objects(objects, "the partitions' objects")
    return add_vfp_args_attribute(combined) if target.hard_float_arm else combined
