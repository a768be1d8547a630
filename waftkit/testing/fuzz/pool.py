"""A process pool that compiles fuzz modules with Waft, each compile in a fork of its own.

It runs spectest's `compile_job`, which forks around every compile: an abort
inside LLVM (which kills the process instead of raising) becomes one
module's "crash" answer instead of a broken pool.  Workers start from a
forkserver (never from a fork of a pytest worker or of a process that has
loaded wasmtime's threads) and compile an empty module once at start-up, so
the LLVM target set-up is inherited by every fork instead of repeated in it:
that set-up is most of the time a small module's compile takes.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

from aot.targets import Target
from waftkit.testing.spectest.runner import compile_job, memory_cap_pages


def _warm_up(target_name: str, opt: str) -> None:
    from aot.compiler import compile_module
    from aot.targets import load_target

    compile_module(b"\0asm\1\0\0\0", load_target(target_name), prefix="warm", opt=opt)


class CompilePool:
    """`submit(data, prefix)` -> a Future of compile_job's answer: {"status": "ok", "object",
    "header", "module", "capped", ...}, {"status": "toobig", "bytes"} or {"status": "error",
    "kind": malformed|invalid|unsupported|simd|crash, "message"}.

    `jobs=0` compiles in forks of this process, at once: for a short-lived process that
    compiles a module or two (the minimiser's predicate), where starting workers would cost
    more than the compiles."""

    def __init__(self, target: Target, *, opt: str = "2", jobs: int = 1) -> None:
        self.target = target
        self.opt = opt
        # The test images' memory cap: the host lays out all 4 GiB a module may ask for
        # (instances are calloc'd), a board its target's default.
        self.cap = memory_cap_pages(target)
        self._pool = None if jobs == 0 else ProcessPoolExecutor(
            max_workers=jobs, initializer=_warm_up, initargs=(target.name, opt),
            mp_context=multiprocessing.get_context("forkserver"))

    def submit(self, data: bytes, prefix: str) -> Future:
        args = (data, self.target.name, prefix, self.opt, self.cap)
        if self._pool is not None:
            return self._pool.submit(compile_job, *args)
        done: Future = Future()
        done.set_result(compile_job(*args))
        return done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def __enter__(self) -> CompilePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
