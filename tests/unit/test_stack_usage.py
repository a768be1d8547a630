"""waftkit.firmware.stack_usage: the worst case it reports, and what it refuses to call bounded.

Real GCC output throughout (arm-none-eabi-gcc for stm32f4 and cortex-m0plus,
riscv64-unknown-elf-gcc for riscv32-virt): small C files whose deepest path
is known, plus each thing the analysis cannot bound (recursion, a call
through a pointer, a variable-length array), weak/strong definitions and
file-local functions of the same name.  The library side is read from the
real toolchain libraries.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aot.targets import load_target
from waftkit.firmware import stack_usage
from waftkit.firmware.runtime import runtime_cflags
from waftkit.firmware.stack_usage import (
    CallGraph,
    compile_callgraph,
    parse_disassembly,
    stated_bounds,
    worst_case,
)

CHAIN = r"""
#include <string.h>
void sink(volatile char *p);
__attribute__((noinline)) static int leaf(int x) { volatile char b[100]; b[x & 63] = 1; sink(b); return b[3]; }
__attribute__((noinline)) int middle(int x) { volatile char b[200]; b[x & 127] = (char)leaf(x); sink(b); return b[1]; }
int top(int x) { volatile char b[40]; b[x & 31] = (char)middle(x); sink(b); return b[0]; }
int recursive(int n) { volatile char b[16]; b[n & 15] = 0; sink(b); return n ? recursive(n - 1) + b[0] : 0; }
int through_pointer(int (*f)(int), int x) { return f(x) + 1; }
int variable(int n) { char b[n]; memset(b, 0, (size_t)n); sink(b); return b[n / 2]; }
"""
SINK = r"""
static int leaf(int x) { return x; }  /* the same name as chain.c's: must not be taken for it */
__attribute__((weak)) void sink(volatile char *p) { volatile char big[1000]; big[0] = p[0]; }
int other(int x) { return leaf(x); }
"""
STRONG_SINK = r"""
void sink(volatile char *p) { p[0] = 1; }
"""


def _graph(name: str, tmp_path: Path, files: dict[str, str]) -> CallGraph:
    target = load_target(name)
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} is not installed")
    paths = []
    for file, text in files.items():
        (tmp_path / file).write_text(text)
        paths.append(tmp_path / file)
    graph = compile_callgraph(target.cc, runtime_cflags(target), paths, tmp_path / "objects")
    graph.fill_in(stack_usage.library_functions(target, graph.undefined(), tmp_path / "libraries"))
    return graph


def frame(graph: CallGraph, name: str) -> int:
    (key,) = [k for k, f in graph.functions.items() if f.name == name and "chain.c" in f.where]
    return graph.functions[key].frame


@pytest.mark.parametrize("name", ["stm32f4", "cortex-m0plus", "riscv32-virt"])
def test_the_deepest_path_adds_up_the_frames(name, tmp_path):
    graph = _graph(name, tmp_path, {"chain.c": CHAIN, "sink.c": SINK})
    depth = worst_case(graph, "top")
    assert depth.bounded, depth.problems
    assert [f for f, _ in depth.path] == ["top", "middle", "leaf", "sink"]
    assert depth.bytes == sum(bytes_ for _, bytes_ in depth.path)
    assert frame(graph, "middle") >= 200 and frame(graph, "leaf") >= 100
    assert dict(depth.path)["sink"] >= 1000  # the weak sink: the only definition here


def test_a_strong_definition_replaces_the_weak_one(tmp_path):
    graph = _graph("stm32f4", tmp_path, {"chain.c": CHAIN, "sink.c": SINK, "strong.c": STRONG_SINK})
    assert dict(worst_case(graph, "top").path)["sink"] < 100


def test_file_local_functions_of_one_name_stay_apart(tmp_path):
    graph = _graph("stm32f4", tmp_path, {"chain.c": CHAIN, "sink.c": SINK})
    other = worst_case(graph, "other")
    assert other.bytes < 100, other.path_text()  # sink.c's leaf, not chain.c's


@pytest.mark.parametrize("name", ["stm32f4", "riscv32-virt"])
def test_what_cannot_be_bounded_is_reported(name, tmp_path):
    graph = _graph(name, tmp_path, {"chain.c": CHAIN, "sink.c": SINK})
    kinds = {entry: {p.kind for p in worst_case(graph, entry).problems}
             for entry in ("recursive", "through_pointer", "variable")}
    assert kinds == {"recursive": {"recursion"}, "through_pointer": {"indirect call"},
                     "variable": {"dynamic stack"}}
    # A stated figure stands in for what cannot be bounded, and the report says it was used.
    stated = worst_case(graph, "through_pointer", {"through_pointer": 64})
    assert stated.bounded and stated.bytes == 64 and stated.assumed == ("through_pointer",)


@pytest.mark.parametrize("name", ["stm32f4", "cortex-m0plus", "riscv32-virt"])
def test_library_functions_come_from_the_machine_code(name, tmp_path):
    target = load_target(name)
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} is not installed")
    library = stack_usage.library_functions(target, ["memcpy", "longjmp", "__udivdi3"], tmp_path)
    for symbol in ("memcpy", "__udivdi3"):
        depth = worst_case(library, symbol, stated_bounds())
        assert depth.bounded and depth.bytes < 256, (symbol, depth)
    # longjmp loads a saved stack pointer: flagged, unless its statement is given.
    assert {p.kind for p in worst_case(library, "longjmp").problems} >= {"dynamic stack"}
    assert worst_case(library, "longjmp", stated_bounds()).bounded


def test_an_alias_resolves_to_the_code_objdump_names(tmp_path):
    """libgcc's __aeabi_uidiv is __udivsi3 on Armv6-M: one address, two names."""
    target = load_target("cortex-m0plus")
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} is not installed")
    library = stack_usage.library_functions(target, ["__aeabi_uidiv"], tmp_path)
    depth = worst_case(library, "__aeabi_uidiv")
    assert depth.bounded and depth.path[0] == ("__aeabi_uidiv", 0) and len(depth.path) >= 2


# Two functions of picolibc as objdump prints them for riscv32-virt: _exit
# saves its registers through libgcc's millicode, whose stack stays taken.
MILLICODE = """\
800001ea <__riscv_save_4>:
800001ea:\tadd\tsp,sp,-64
800001ec:\tli\tt1,-32
800001fc:\tsw\tra,60(sp)
800001fe:\tsub\tsp,sp,t1
80000202:\tjr\tt0

80001fe2 <_exit>:
80001fe2:\tjal\tt0,800001ea <__riscv_save_4>
80001fe6:\tadd\tsp,sp,-16
80001fe8:\tsw\ta0,12(sp)
80001fec:\tjal\t80002010 <sys_semihost_exit_extended>

80002010 <sys_semihost_exit_extended>:
80002010:\tadd\tsp,sp,-32
80002012:\tjalr\ta5
80002014:\tret
"""


def test_millicode_counts_in_the_callers_frame():
    graph = CallGraph()
    for function in parse_disassembly(MILLICODE, "riscv"):
        graph.add(function)
    save = graph.functions["__riscv_save_4"]
    assert (save.frame, save.dynamic, save.indirect) == (64, True, False)  # jr t0 returns; sub sp, t1 is flagged
    depth = worst_case(graph, "_exit", {"__riscv_save_*": 64})
    assert depth.path[:2] == (("_exit", 16 + 64), ("sys_semihost_exit_extended", 32))
    assert {p.kind for p in depth.problems} == {"indirect call"}  # jalr a5


def test_the_command_line_reports_and_sizes_the_margin(tmp_path, capsys):
    target = load_target("stm32f4")
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} is not installed")
    source = tmp_path / "imports.c"
    source.write_text("#include <string.h>\nint my_import(char *out, const char *in) "
                      "{ char b[300]; strcpy(b, in); strcpy(out, b); return (int)strlen(b); }\n")
    assert stack_usage.main(["--target", "stm32f4", str(source)]) == 0
    out = capsys.readouterr().out
    assert "my_import (3" in out and "WAFT_STACK_MARGIN must be at least" in out
    (tmp_path / "loop.c").write_text("void see(volatile char *p);\n"
                                     "int walk(int n) { volatile char b[8]; see(b); return n ? walk(n - 1) + b[0] : 0; }\n")
    assert stack_usage.main(["--target", "stm32f4", str(tmp_path / "loop.c")]) == 2
    assert "recursion" in capsys.readouterr().out
