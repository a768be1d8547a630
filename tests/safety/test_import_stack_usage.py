"""Every C function Wasm code calls on a board fits the stack its margin leaves for it.

Generated code checks the stack pointer when a Wasm function is entered; the
C it calls afterwards (the wasi_snapshot_preview1 imports, the runtime helpers
such as waft_memory_grow, the trap path) runs below that check, in
WAFT_STACK_MARGIN.  waftkit.firmware.stack_usage compiles the WASI firmware's
C exactly as the firmware build does, plus -fstack-usage and
-fcallgraph-info, reads the target's libraries from their machine code, and
walks the call graph.  Here, for each board that runs WASI programs:

- every import and helper is bounded, and its deepest call chain plus an
  interrupt taken at that point fits what the margin leaves once the largest
  unchecked Wasm frame and the trap path's reserve are set aside
  (`Budget.imports`: 2048 - 256 - 512 - the interrupt on these boards);
- the trap path fits its reserve;
- nothing is unbounded but the library code LIBRARY_STATEMENTS states a
  figure for, each statement is still needed, and the machine code still
  agrees with its figure.

A 4 KiB local buffer in a WASI function breaks the first test: checked by
hand once (a `volatile uint8_t scratch[4096]` in fd_write made it report
fd_write at 4808 bytes against 1168 on stm32f4, 4876 against 1232 on
cortex-m0plus, 4816 against 1280 on riscv32-virt), and kept checked by
`test_a_4_kib_buffer_in_an_import_is_over_budget` with an import of that shape.
"""

from __future__ import annotations

import fnmatch
import shutil
from dataclasses import dataclass

import pytest

from aot.targets import Target, load_target
from waftkit.firmware import stack_usage
from waftkit.firmware.runtime import runtime_cflags
from waftkit.firmware.stack_usage import (
    LIBRARY_STATEMENTS,
    RUNTIME_HELPERS,
    Budget,
    CallGraph,
    Depth,
    stated_bounds,
    wasi_imports,
    worst_case,
)

# The boards WASI firmware is built for, one per core family the runtime supports.
TARGETS = ("stm32f4", "cortex-m0plus", "riscv32-virt")


@dataclass
class Board:
    target: Target
    graph: CallGraph
    budget: Budget


_boards: dict[str, Board] = {}


def board(name: str, tmp_path_factory: pytest.TempPathFactory) -> Board:
    """The analysed WASI firmware of one board, computed once per test process."""
    if name not in _boards:
        target = load_target(name)
        for tool in (target.cc,):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} is not installed")
        graph = stack_usage.wasi_runtime_graph(target, tmp_path_factory.mktemp(f"stack-{name}"))
        _boards[name] = Board(target, graph, stack_usage.budget(target, graph))
    return _boards[name]


def entries() -> list[str]:
    return wasi_imports() + list(RUNTIME_HELPERS)


def over_budget(graph: CallGraph, names: list[str], share: Budget) -> list[str]:
    """One line per function that is unbounded or needs more than the import budget."""
    lines = []
    for name in names:
        depth = worst_case(graph, name, stated_bounds())
        if not depth.bounded or depth.bytes > share.imports:
            why = "; ".join(str(p) for p in depth.problems) or f"over the budget of {share.imports}"
            lines.append(f"{name}: {depth.bytes} bytes ({why}): {depth.path_text()}")
    return lines


@pytest.mark.parametrize("name", TARGETS)
def test_every_import_fits_the_budget(name, tmp_path_factory):
    b = board(name, tmp_path_factory)
    share = b.budget
    assert share.imports >= 1024, f"{name}: the budget itself shrank: {share}"
    wrong = over_budget(b.graph, entries(), share)
    assert not wrong, (f"{name}: WAFT_STACK_MARGIN {share.margin} - trap path {share.trap_reserve} - Wasm frame "
                       f"{share.wasm_frame} - interrupt {share.interrupt} leaves {share.imports} bytes for an "
                       f"import; make these smaller (docs/security.md, 'Imports and the stack margin'):\n"
                       + "\n".join(wrong))


@pytest.mark.parametrize("name", TARGETS)
def test_the_trap_path_fits_its_reserve(name, tmp_path_factory):
    """waft_trap, both ways: longjmp to a trap frame, or print and exit when none is pushed."""
    b = board(name, tmp_path_factory)
    trap = worst_case(b.graph, "waft_trap", stated_bounds())
    assert trap.bounded, trap.problems
    assert trap.bytes <= b.budget.trap_reserve, f"{name}: {trap.bytes} bytes: {trap.path_text()}"


@pytest.mark.parametrize("name", TARGETS)
def test_only_stated_library_code_is_unbounded(name, tmp_path_factory):
    """With no statements at all, the only problems are the stack pointer loads LIBRARY_STATEMENTS explains."""
    b = board(name, tmp_path_factory)
    names = entries() + stack_usage.interrupt_handlers(b.target)
    problems = {p for n in names for p in worst_case(b.graph, n).problems}
    unexplained = [str(p) for p in problems
                   if not any(fnmatch.fnmatchcase(p.function, pattern) and p.kind in statement.explains
                              for pattern, statement in LIBRARY_STATEMENTS.items())]
    assert not unexplained, f"{name}: unbounded and not stated:\n" + "\n".join(sorted(unexplained))


@pytest.mark.parametrize("name", TARGETS)
def test_the_statements_agree_with_the_machine_code(name, tmp_path_factory):
    """A stated function takes no more than its figure itself and calls nothing its statement does not cover."""
    b = board(name, tmp_path_factory)
    for pattern, statement in LIBRARY_STATEMENTS.items():
        assert statement.reason and statement.explains
        for function in b.graph.functions.values():
            if not fnmatch.fnmatchcase(function.name, pattern):
                continue
            assert function.frame <= statement.bytes, f"{name}: {function.name} takes {function.frame} bytes"
            assert not function.indirect or "indirect call" in statement.explains, \
                f"{name}: {function.name} calls through a pointer"
            others = [c for c in (*function.calls, *function.millicode) if not fnmatch.fnmatchcase(c, pattern)]
            assert not others, f"{name}: {function.name} calls {others}: its statement no longer covers it"


def test_every_statement_is_needed(tmp_path_factory):
    used: set[str] = set()
    for name in TARGETS:
        b = board(name, tmp_path_factory)
        for entry in entries():
            used |= set(worst_case(b.graph, entry, stated_bounds()).assumed)
    assert used == set(LIBRARY_STATEMENTS), f"statements no board needs: {set(LIBRARY_STATEMENTS) - used}"


# An import with a 4 KiB local buffer, as someone might write one: it copies a
# guest string through the buffer into the console.
BIG_BUFFER_IMPORT = r"""
#include <stdint.h>
#include <string.h>
#include "waft.h"
int32_t wasi_snapshot_preview1__fd_write(void *ctx, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten);
int32_t big_buffer_import(void *ctx, const uint8_t *guest, uint32_t len) {
    uint8_t scratch[4096];
    if (len > sizeof scratch) waft_trap(WAFT_TRAP_HOST);
    memcpy(scratch, guest, len);
    return wasi_snapshot_preview1__fd_write(ctx, 1, (int32_t)(uintptr_t)scratch, 1, 0);
}
"""


@pytest.mark.parametrize("name", TARGETS)
def test_a_4_kib_buffer_in_an_import_is_over_budget(name, tmp_path_factory, tmp_path):
    """The check is not vacuous: an import with a 4 KiB buffer is reported, with its bytes and path."""
    b = board(name, tmp_path_factory)
    source = tmp_path / "big_buffer.c"
    source.write_text(BIG_BUFFER_IMPORT)
    user = stack_usage.compile_callgraph(b.target.cc, runtime_cflags(b.target), [source], tmp_path / "objects")
    graph = CallGraph()
    graph.merge(b.graph)
    graph.merge(user)
    wrong = over_budget(graph, ["big_buffer_import"], b.budget)
    assert len(wrong) == 1 and wrong[0].startswith("big_buffer_import: "), wrong
    depth: Depth = worst_case(graph, "big_buffer_import", stated_bounds())
    assert depth.bytes > 4096 and depth.path[0][0] == "big_buffer_import"
    assert "wasi_snapshot_preview1__fd_write" in depth.path_text()
