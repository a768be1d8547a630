"""Loop strength reduction per function on 32-bit Arm: which functions get it, and code generation in two halves.

LSR (in LLVM's code generator) rewrites a loop's addresses into induction
variables of their own.  Whether that pays on a Cortex-M depends on the loop:

- In a loop that still checks its accesses, each checked access needs the
  Wasm address for its compare and the host pointer for the load, and LSR's
  solutions keep both as separate induction variables: on 13 registers that
  spills.  Without LSR such loops keep one induction variable (stm32f4:
  json_tokenize and bareiss_int -7 %, quicksort -6 %), so Waft generates
  Arm code without LSR (aot/emit.py `strength_reduction_options`).
- In a loop whose accesses are all proven (static arrays, constant trip
  counts), LSR's pointer induction variables with immediate offsets are what
  a C compiler emits: fir -16 %, matmul_int -4 %, Embench's matmult-int -25 %.
  But not always: in crc32's and biquad's loops LSR turns a count to zero
  into a count up to a bound, one compare more per iteration.

So each function whose loops carry no bounds check (no branch to a trap
block, `trap.<code>` of aot/lower/context.py) is generated both ways, to
assembly, and keeps LSR when that leaves at least MIN_SAVING fewer
instructions in its loops (`loop_instruction_counts`: a static count, each
instruction once per loop around it).  Functions with checked loops are not
tried: trying every function with a loop wins a little more (stm32f4 suite
1.134x of clang's time instead of 1.138x, Embench 0.978x instead of 0.984x)
but doubles code generation on libc-sized modules (+4.8 s on all of
wasi-libc, against +1.3 s).

LLVM's switch is process-wide and offers no per-function choice (running the
pass on chosen functions through llvmlite's pass manager trips an LCSSA
assertion), so a module whose functions differ is generated in two halves,
each a copy of the optimised module that defines only its own functions and
declares the others; the data is defined once, in the half without LSR.
aot/combine.py joins the two objects and makes local again the symbols that
were local before the split.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from llvmlite import binding as llvm

from aot import combine
from aot.errors import AotError

TRAP_BLOCK_PREFIX = "trap."
# The share of a function's loop instructions LSR must save to be kept: the count is a static
# proxy for time, and below this it guessed wrong on stm32f4 (sha256's compress: 2 of 169
# fewer, 1 % slower).
MIN_SAVING = 0.015

_DEFINE = re.compile(r'^define [^@]*@("[^"]+"|[\w.$-]+)\(')
_LABEL = re.compile(r'^("[^"]+"|[\w.$-]+):')
_SUCCESSOR = re.compile(r'label %("[^"]+"|[\w.$-]+)')
_ALIAS = re.compile(r'^@("[^"]+"|[\w.$-]+) = .*\balias\b.*@("[^"]+"|[\w.$-]+)\s*$')
_LEADING_LINKAGE = re.compile(r"^(?:(?:internal|private|available_externally|dso_local)\s+)*")
_ASM_FUNCTION = re.compile(r'^\t\.type\t("[^"]+"|[\w.$-]+),%function')
_ASM_LABEL = re.compile(r'^(\.LBB\w+):')
_ASM_BRANCH = re.compile(r'^\t(?:b|b[a-z]{2}|cbn?z)(?:\.[nw])?\t(?:\w+, )?(\.LBB\w+)\s*$')


def generate(mod: llvm.ModuleRef, emit_object: Callable[[llvm.ModuleRef, bool], bytes],
             emit_assembly: Callable[[llvm.ModuleRef, bool], str], ir_text: str | None = None) -> bytes:
    """`mod`'s object, with LSR in the functions it serves (see the module docstring), without it elsewhere.

    `emit_object(module, reduce)` and `emit_assembly(module, reduce)` run the
    code generator with LSR (`reduce`) or without.  `ir_text` is `mod` as
    printed, when the caller has it already.  `mod` is not changed.
    """
    candidates = unchecked_loop_functions(str(mod) if ir_text is None else ir_text)
    # An appending global (llvm.global_ctors) would be emitted by both halves: such a module stays whole.
    if (not candidates or not combine.can_combine()
            or any(gv.linkage == llvm.Linkage.appending for gv in mod.global_variables)):
        return emit_object(mod, False)
    halves = _Halves(mod)
    # One copy each: code generation rewrites the IR it is given (CodeGenPrepare).
    without = loop_instruction_counts(emit_assembly(halves.defining(candidates, data=False), False))
    with_lsr = loop_instruction_counts(emit_assembly(halves.defining(candidates, data=False), True))
    reduced = {name for name in candidates
               if name in with_lsr and name in without and with_lsr[name] < without[name] * (1 - MIN_SAVING)}
    if not reduced:
        return emit_object(mod, False)
    rest = emit_object(halves.defining(halves.functions - reduced, data=True), False)
    return combine.combine_objects([rest, emit_object(halves.defining(reduced, data=False), True)],
                                   "the halves generated with and without LSR", localize=halves.promoted)


# --- which functions: loops without checks, in the optimised IR -----------------------------


def unchecked_loop_functions(ir_text: str) -> set[str]:
    """The functions of optimised IR that have loops and no bounds check (no trap branch) in any of them."""
    found = set()
    for name, body in _function_bodies(ir_text):
        graph = _successors(body)
        loops = _blocks_in_loops(graph)
        if loops and not any(succ.startswith(TRAP_BLOCK_PREFIX) for block in loops for succ in graph[block]):
            found.add(_unquoted(name))
    return found


def _function_bodies(ir_text: str) -> Iterator[tuple[str, list[str]]]:
    """(name, body lines) of every function defined in `ir_text`."""
    name, body = None, []
    for line in ir_text.splitlines():
        if name is None:
            m = _DEFINE.match(line)
            if m:
                name, body = m.group(1), []
        elif line == "}":
            yield name, body
            name = None
        else:
            body.append(line)


def _successors(body: list[str]) -> dict[str, list[str]]:
    """A function body's control-flow graph: block label -> the labels its instructions name."""
    block = "<entry>"
    graph: dict[str, list[str]] = {block: []}
    for line in body:
        m = _LABEL.match(line)
        if m:
            block = m.group(1)
            graph[block] = []
        else:
            graph[block].extend(_SUCCESSOR.findall(line))
    return graph


def _blocks_in_loops(graph: dict[str, list[str]]) -> set[str]:
    """The blocks on a cycle: members of a strongly connected component of two or more, or with a self-edge.

    Tarjan's algorithm, iterative (a function can have thousands of blocks).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cyclic: set[str] = set()
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(graph[root]))]
        while work:
            node, edges = work[-1]
            for succ in edges:
                if succ not in graph:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph[succ])))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        cyclic.update(component)
    return cyclic


# --- which way: instructions in loops, in the generated assembly ----------------------------


def loop_instruction_counts(assembly: str) -> dict[str, int]:
    """{function: its machine instructions in loops, each counted once per loop around it} of Arm
    assembly.  A loop is the code from a label to the last branch back to it, so an instruction
    in a loop nested two deep counts twice: a rough weight for running more often."""
    counts: dict[str, int] = {}
    name, instructions = None, 0
    labels: dict[str, int] = {}  # label -> the number of instructions before it
    back: dict[str, int] = {}  # label -> the position of the last branch back to it

    def weighted() -> int:
        return sum(back[label] - labels[label] + 1 for label in back)

    for line in assembly.splitlines():
        m = _ASM_FUNCTION.match(line)
        if m:
            if name is not None:
                counts[name] = weighted()
            name, instructions, labels, back = _unquoted(m.group(1)), 0, {}, {}
            continue
        if name is None:
            continue
        m = _ASM_LABEL.match(line)
        if m:
            labels[m.group(1)] = instructions
            continue
        if line.startswith("\t") and not line.startswith(("\t.", "\t@")) and line.strip():
            m = _ASM_BRANCH.match(line)
            if m and m.group(1) in labels:
                back[m.group(1)] = instructions
            instructions += 1
    if name is not None:
        counts[name] = weighted()
    return counts


# --- the halves ------------------------------------------------------------------------------


class _Halves:
    """Copies of a module that each define only chosen functions: what each code generation is given.

    Everything local in the module becomes a hidden global of the same name
    (`promoted`), so that one copy's code can reach another's functions and
    data; the module itself is not changed (its text is the optimised IR the
    caller keeps).
    """

    def __init__(self, mod: llvm.ModuleRef):
        plain = mod.clone()
        self.promoted: list[str] = []
        for value in [*plain.functions, *plain.global_variables]:
            if value.is_declaration or value.linkage not in (llvm.Linkage.internal, llvm.Linkage.private):
                continue
            if not value.name:
                raise AotError("internal error: an unnamed global in a module to generate in halves")
            value.linkage = llvm.Linkage.external
            value.visibility = llvm.Visibility.hidden
            self.promoted.append(value.name)
        self.lines = str(plain).splitlines()
        # Named as `defining` reads them, from the printed text, like the candidates' names.
        self.functions = {_unquoted(m.group(1)) for line in self.lines if (m := _DEFINE.match(line))}

    def defining(self, functions: set[str], data: bool) -> llvm.ModuleRef:
        """A copy that defines only `functions` (and their aliases), and the variables if `data`.

        The other functions are declared: carried along as `available_externally`
        bodies, the code generator's IR passes would still run over them.  An
        alias goes with its function (one may only name a definition).
        """
        kept: list[str] = []
        skipping = False
        for line in self.lines:
            if skipping:
                skipping = line != "}"
                continue
            m = _DEFINE.match(line)
            if m and _unquoted(m.group(1)) not in functions:
                kept.append(_declaration(line))
                skipping = True
            elif not ((a := _ALIAS.match(line)) and _unquoted(a.group(2)) not in functions):
                kept.append(line)
        copy = llvm.parse_assembly("\n".join(kept))
        if not data:
            for gv in copy.global_variables:
                if not gv.is_declaration and gv.linkage != llvm.Linkage.linkonce_odr:  # comdat: ld -r keeps one
                    # Kept for the code generator to read, not emitted: the other half defines it.
                    gv.linkage = llvm.Linkage.available_externally
                    gv.visibility = llvm.Visibility.default
        return copy


def _declaration(define: str) -> str:
    """The `declare` line for a function's `define` line (its linkage, if any, was made external)."""
    head = define[len("define "):].rstrip()
    if head.endswith("{"):
        head = head[:-1].rstrip()
    return "declare " + _LEADING_LINKAGE.sub("", head)


def _unquoted(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name
