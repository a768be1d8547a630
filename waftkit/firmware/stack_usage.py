"""Worst-case native stack depth of C entry points, from GCC's own data.

Why it matters: generated Wasm code checks the stack pointer against
`waft_stack_limit` (the stack's low end + WAFT_STACK_MARGIN, runtime_c's
waft.h) when a function is entered; once past that check it may call C (a
WASI import, a runtime helper such as waft_memory_grow), and nothing checks
that C code.  Its deepest call chain must therefore fit in the margin, and
this module measures it.

How: every C file is compiled with the flags of the real build plus
`-fstack-usage -fcallgraph-info=su` (GCC >= 10).  The `.ci` file GCC writes
beside each object is a VCG graph: one node per function with its frame in
bytes and a qualifier (`static`; `dynamic` when alloca or a VLA makes the
frame unbounded; `dynamic,bounded` when GCC could bound it), and one edge
per call, `__indirect_call` for a call through a pointer.  The graphs of all
files are merged (a static function's title is prefixed with its file, so
it cannot collide) and walked from each entry: the depth of a function is
its frame plus the deepest of its callees.

Code GCC did not compile here (newlib's or picolibc's memcpy, longjmp, the
soft-float helpers in libgcc) has no `.ci` file.  `library_functions`
bounds it from the machine code: it links a tiny program with the target's
real link flags, forcing those symbols in (`--undefined`), so the linker
picks the same multilib and the same nano/picolibc variants as the firmware;
then it disassembles the image and reads each function's stack
adjustments (`push`/`stmdb sp!`/`vpush`/`sub sp` on Arm, `addi sp,sp,-N`
on RISC-V) and its calls (`bl`, tail branches to another symbol, `jal`,
`jalr` with a resolved target).  The frame is the sum of every decrement in
the body, which over-counts a function with two prologues and never
under-counts.

What cannot be bounded is reported, never silently counted as zero:

- recursion (a cycle in the call graph): the figure is one trip around it;
- a call through a function pointer (`__indirect_call` in `.ci`, `blx rN`
  or `jalr rN` in machine code);
- a dynamic frame (`dynamic` in `.su`; `sub sp, rN` or `mov sp, rN` in
  machine code: alloca, VLAs, or longjmp restoring a saved stack pointer);
- a callee found neither in the sources nor in the target's libraries.

A caller states a figure for each of those it has reasoned about
(`assumed`, name -> bytes for everything below that function); the report
lists which statements were used.

Why not an existing tool: PyPI's `puncover` (0.8) reads `.su` files and
rebuilds the call graph from a linked ELF's disassembly with one Arm
branch-with-link pattern; it is a Flask report rather than a library, drops
self-calls (so recursion goes unseen), does not flag calls through pointers
or dynamic frames, knows nothing of RISC-V and does not read GCC's
`-fcallgraph-info` graph.  The other finds (PyPI `avstack` is an
autonomous-vehicle package despite its name; scripts in other projects' CI)
are not packages.  Reading GCC's call graph is a page of parsing, done here.

Command line (a user sizing WAFT_STACK_MARGIN for their own imports):

    python -m waftkit.firmware.stack_usage --target stm32f4 my_imports.c -I include
    python -m waftkit.firmware.stack_usage --target stm32f4 --wasi-runtime
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aot import abi
from aot.errors import TargetError
from aot.targets import Target, load_target
from waftkit import wasi
from waftkit.firmware import embedding, wasi_firmware
from waftkit.firmware import link as link_mod
from waftkit.firmware.runtime import runtime_cflags, runtime_sources

# The flags that make GCC write NAME.su and NAME.ci beside the object.
STACK_FLAGS = ("-fstack-usage", "-fcallgraph-info=su")

# The runtime helpers compiled code calls (aot/abi.py's list) minus the ones
# only an embedder calls: waft_call_guarded, waft_trap_push/pop and
# waft_stack_init run before the Wasm code, on a stack nowhere near its limit
# (waft_call_guarded's one indirect call is the Wasm code itself, whose frames
# the stack check guards).
EMBEDDER_ONLY = frozenset({"waft_call_guarded", "waft_trap_push", "waft_trap_pop", "waft_stack_init"})
RUNTIME_HELPERS = tuple(name for name in abi.RUNTIME_FUNCTIONS if name not in EMBEDDER_ONLY)

def exception_frame_bytes(target: Target) -> int:
    """Bytes an interrupt taken while C code runs puts below it before its handler's own frame.

    A Cortex-M core stacks r0-r3, r12, lr, pc and xPSR (32 bytes) and, with an
    FPU and live floating-point context, s0-s15 and FPSCR as well (104 in all),
    plus up to 4 bytes to align the frame to 8.  A RISC-V hart stacks nothing
    itself (and the RISC-V port installs no interrupt handler).
    """
    if target.kind != "cortex-m":
        return 0
    has_fpu = any(flag.startswith("-mfpu=") for flag in target.cflags) and "-mfloat-abi=soft" not in target.cflags
    return (104 if has_fpu else 32) + 4


# --- the data -----------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """One function of the call graph, from a `.ci` file or from disassembly."""

    key: str                    # unique in a graph: GCC's title ("dir/file.c:name" for a static function)
    name: str                   # the symbol ("wasi_transfer.part.0")
    frame: int                  # bytes the function itself takes (registers saved, locals, outgoing arguments)
    where: str                  # "fds.c:104", or "stm32f4 libraries (objdump)" for machine code
    calls: tuple[str, ...] = ()  # callee keys or symbols, in order, without repeats
    millicode: tuple[str, ...] = ()  # callees whose stack stays taken after they return: part of the frame
    dynamic: bool = False       # frame not bounded: alloca, a VLA, the stack pointer set from a register
    indirect: bool = False      # calls through a function pointer
    exported: bool = True       # visible to other files (False: a static function, found only by key)
    weak: bool = False          # a weak definition: another file's strong one replaces it at link time


@dataclass(frozen=True)
class Problem:
    """Something below an entry point the analysis cannot bound."""

    kind: str      # "recursion", "indirect call", "dynamic stack" or "no stack data"
    function: str  # where it is
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} in {self.function}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Depth:
    """The worst case below one entry point."""

    entry: str
    bytes: int                            # the deepest path's total (a lower bound while `problems` is not empty)
    path: tuple[tuple[str, int], ...]     # (function, its frame) from the entry down
    problems: tuple[Problem, ...] = ()    # what is unbounded below the entry
    assumed: tuple[str, ...] = ()         # stated figures the total relies on

    @property
    def bounded(self) -> bool:
        return not self.problems

    def path_text(self) -> str:
        return " > ".join(f"{name} ({frame})" for name, frame in self.path)


@dataclass
class CallGraph:
    """Functions by key, and which keys define each exported symbol."""

    functions: dict[str, Function] = field(default_factory=dict)
    exported: dict[str, list[str]] = field(default_factory=dict)

    def add(self, function: Function) -> None:
        """Add a definition.  A symbol may have several: a strong one replaces weak
        ones, as at link time; among several of the same kind the walk takes the deepest."""
        key = function.key
        if key in self.functions:  # the same file given twice: keep one
            return
        self.functions[key] = function
        if function.exported:
            self.exported.setdefault(function.name, []).append(key)

    def merge(self, other: CallGraph) -> None:
        """Add every function of `other` (more sources of the same program)."""
        for function in other.functions.values():
            self.add(function)

    def fill_in(self, other: CallGraph) -> None:
        """Add `other`'s functions that define symbols this graph lacks (libraries: the
        linker takes an archive member only for an undefined symbol), with what they call."""
        todo = [k for name in self.undefined() for k in other.resolve(name)]
        while todo:
            function = other.functions[todo.pop()]
            if function.key in self.functions or (function.exported and function.name in self.exported):
                continue
            self.add(function)
            todo += [k for callee in (*function.calls, *function.millicode) for k in other.resolve(callee)]

    def resolve(self, callee: str) -> list[str]:
        """The keys a call to `callee` (a key or a symbol) may reach; [] when nothing defines it."""
        if callee in self.functions:
            return [callee]
        keys = self.exported.get(callee, [])
        strong = [k for k in keys if not self.functions[k].weak]
        return strong or list(keys)

    def undefined(self) -> set[str]:
        """Symbols called but defined nowhere in the graph."""
        return {c for f in self.functions.values() for c in (*f.calls, *f.millicode) if not self.resolve(c)}


# --- GCC's call graph (.ci) -----------------------------------------------------

_VCG_FIELD = re.compile(r'(\w+)\s*:\s*"((?:[^"\\]|\\.)*)"')
_FRAME = re.compile(r"^(\d+) bytes \(([a-z,]+)\)$")
INDIRECT_CALL = "__indirect_call"  # GCC's placeholder node for a call through a pointer


def _vcg_string(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _asm_title(title: str) -> str:
    """A title GCC gives as `*symbol` (a function named with an asm label, as the runtime's
    __atomic_* helpers are) -> `symbol`, the name its callers and the object use."""
    return title[1:] if title.startswith("*") else title


def parse_callgraph_info(text: str, source: str = "<ci>", linkage: Mapping[str, str] | None = None) -> list[Function]:
    """The functions a `.ci` file defines, with their frames and calls.

    Nodes without a frame line are declarations of functions defined
    elsewhere (or `__indirect_call`); they only serve as edge targets.
    `linkage` maps symbols to their `nm` type letter in the object ("T"
    global, "W" weak, "t" local); without it a function counts as exported
    when GCC did not prefix its title with the file, which it does for local
    and for weak functions alike.  Raises ValueError when a defined node's
    label has no readable frame line.
    """
    nodes: dict[str, tuple[str, int, str, str]] = {}
    calls: dict[str, list[str]] = {}
    indirect: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        fields = {k: _vcg_string(v) for k, v in _VCG_FIELD.findall(line)}
        if line.startswith("node:"):
            label = fields.get("label", "").split("\n")
            if len(label) >= 3 and "bytes (" in label[-1]:
                match = _FRAME.match(label[-1])
                if match is None:
                    raise ValueError(f"{source}: unreadable stack figure {label[-1]!r} for {fields['title']}")
                title = _asm_title(fields["title"])
                # An asm-labelled function's label holds its C name; the symbol is what links.
                name = title if fields["title"].startswith("*") else label[0]
                nodes[title] = (name, int(match.group(1)), match.group(2), label[1])
        elif line.startswith("edge:"):
            caller, callee = _asm_title(fields["sourcename"]), _asm_title(fields["targetname"])
            if callee == INDIRECT_CALL:
                indirect.add(caller)
            elif callee not in calls.setdefault(caller, []):
                calls[caller].append(callee)
    functions = []
    for title, (name, frame, qualifier, where) in nodes.items():
        qualifiers = qualifier.split(",")
        functions.append(Function(
            key=title, name=name, frame=frame, where=_short_place(where),
            calls=tuple(calls.get(title, ())),
            dynamic="dynamic" in qualifiers and "bounded" not in qualifiers,
            indirect=title in indirect,
            exported=linkage[name] in "TW" if linkage and name in linkage else title == name,
            weak=bool(linkage) and linkage.get(name) == "W"))
    return functions


def _short_place(where: str) -> str:
    """'/long/path/fds.c:104:9' -> 'fds.c:104'."""
    path, _, rest = where.partition(":")
    return f"{Path(path).name}:{rest.split(':')[0]}" if rest else where


def compile_callgraph(cc: str, cflags: Sequence[str], sources: Iterable[Path | str], work_dir: Path) -> CallGraph:
    """Compile `sources` with `cflags` plus STACK_FLAGS into `work_dir` and read GCC's call graphs.

    Raises TargetError when a file does not compile or the compiler writes no
    `.ci` file (GCC older than 10, or clang).
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    sources = [Path(s) for s in sources]
    # Sources from different folders may share a name (port.c): number the objects.
    jobs = [(src, work_dir / f"{i:03d}_{src.stem}.o") for i, src in enumerate(sources)]

    def build(job: tuple[Path, Path]) -> Path:
        src, obj = job
        command = [cc, *cflags, *STACK_FLAGS, "-c", str(src), "-o", str(obj)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise TargetError(f"compiling {src} for the stack analysis failed ({' '.join(command)}):\n"
                              f"{result.stderr.strip()}")
        ci = obj.with_suffix(".ci")
        if not ci.is_file():
            raise TargetError(f"{cc} wrote no call graph for {src}: -fcallgraph-info needs GCC 10 or later")
        return ci

    nm = _tool(cc, "nm")
    graph = CallGraph()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for ci in pool.map(build, jobs):
            # The object's symbol table says which functions are weak: .ci titles do not.
            symbols = subprocess.run([nm, "--defined-only", str(ci.with_suffix(".o"))],
                                     capture_output=True, text=True, check=True).stdout
            linkage = {parts[2]: parts[1] for parts in map(str.split, symbols.splitlines()) if len(parts) == 3}
            for function in parse_callgraph_info(ci.read_text(), str(ci), linkage):
                graph.add(function)
    return graph


# --- machine code (libraries) ---------------------------------------------------

_FUNC_HEADER = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
_TARGET = re.compile(r"\b([0-9a-f]+) <([^>+]+)(?:\+0x[0-9a-f]+)?>")
_REGLIST = re.compile(r"\{([^}]*)\}")
_PRE_DECREMENT = re.compile(r"\[sp, #-(\d+)\]!")
_ARM_CONDITIONAL_BRANCH = re.compile(r"b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)")


@dataclass(frozen=True)
class _Effect:
    """What one instruction does to the stack and to control flow."""

    frame: int = 0             # bytes it takes from the stack
    dynamic: bool = False      # sets the stack pointer from a register
    indirect: bool = False     # calls or jumps through a register
    target: int | None = None  # address it calls or branches to
    millicode: bool = False    # the call allocates the caller's frame (RISC-V `jal t0, __riscv_save_N`)


def _register_bytes(reglist: str) -> int:
    """Bytes an Arm register list such as 'r4, r5, lr', 'd8-d15' or 's16-s17' takes on the stack."""
    total = 0
    for item in (part.strip() for part in reglist.split(",") if part.strip()):
        size = 8 if item[0] == "d" else 4
        first, _, last = item.partition("-")
        count = int(re.sub(r"\D", "", last)) - int(re.sub(r"\D", "", first)) + 1 if last else 1
        total += count * size
    return total


_RISCV_STORE = re.compile(r"(c\.)?f?s[bhwd](sp)?")
# Arm instructions whose first operand is read, not written (stores, compares).
_ARM_READS_FIRST = ("str", "stm", "push", "vst", "vpush", "cmp", "cmn", "tst", "teq")


def _arm_effect(mnemonic: str, operands: str) -> _Effect:
    op = mnemonic.split(".")[0]
    operands = operands.split("@")[0].split(";")[0].strip()  # objdump's "@ 0x..." comments
    args = [a.strip() for a in operands.split(",")]
    if op in ("push", "vpush") or (op in ("stmdb", "stmfd", "vstmdb", "vstmfd") and args[0] == "sp!"):
        reglist = _REGLIST.search(operands)
        return _Effect(frame=_register_bytes(reglist.group(1)) if reglist else 0)
    if op.startswith("str") and _PRE_DECREMENT.search(operands):
        return _Effect(frame=int(_PRE_DECREMENT.search(operands).group(1)))
    if args[0] == "sp" and not op.startswith(_ARM_READS_FIRST):
        if op in ("sub", "subw", "subs") and args[-1].startswith("#"):
            return _Effect(frame=int(args[-1][1:], 0))
        if op in ("add", "addw", "adds") and args[-1].startswith("#") and args[1:-1] in ([], ["sp"]):
            return _Effect()  # the epilogue gives the frame back
        # Anything else that writes sp (sub sp, rN; mov sp, rN; ldr sp): a
        # VLA or alloca, or longjmp restoring the stack pointer setjmp saved.
        return _Effect(dynamic=True)
    if op in ("msr",) and args[0].lower() in ("msp", "psp"):
        return _Effect(dynamic=True)
    if op.startswith("ldm") and _REGLIST.search(operands) and "sp" in _REGLIST.search(operands).group(1).split(", "):
        return _Effect(dynamic=True)
    if op in ("blx", "bx") and re.fullmatch(r"r\d+|ip|fp|sl|sb", operands):
        return _Effect(indirect=True)  # blx rN calls through a pointer; bx rN (not lr) jumps through one
    if (op == "mov" and args[0] == "pc") or (op.startswith("ldr") and args[0] == "pc" and "[sp" not in operands):
        return _Effect(indirect=True)
    if op in ("bl", "blx", "b", "cbz", "cbnz") or _ARM_CONDITIONAL_BRANCH.fullmatch(op):
        match = _TARGET.search(operands)
        if match:
            return _Effect(target=int(match.group(1), 16))
    return _Effect()


def _riscv_effect(mnemonic: str, operands: str) -> _Effect:
    code, _, comment = operands.partition("#")
    args = [a.strip() for a in code.split(",")]
    # Stores and branches read their first register; every other instruction writes it.
    writes_first = not (_RISCV_STORE.fullmatch(mnemonic) or mnemonic.startswith(("b", "c.b")))
    base = mnemonic.removeprefix("c.")
    if args[0] == "sp" and writes_first:
        if base in ("addi", "add", "addi16sp") and args[1:-1] in ([], ["sp"]) and re.fullmatch(r"-?\d+", args[-1]):
            return _Effect(frame=max(0, -int(args[-1])))
        if base in ("addi", "add") and args[1:-1] == ["s0"] and re.fullmatch(r"-?\d+", args[-1]):
            return _Effect()  # addi sp, s0, -N: a frame-pointer epilogue gives the frame back
        # add/sub sp with a register, mv sp, lw sp: a VLA or alloca, or
        # longjmp restoring the stack pointer setjmp saved.
        return _Effect(dynamic=True)
    if mnemonic in ("jalr", "jr"):
        match = _TARGET.search(comment)
        if match:  # auipc + jalr: objdump puts the resolved target in a comment
            return _Effect(target=int(match.group(1), 16))
        # ra is the link register, t0 the alternate one millicode returns through (RISC-V psABI).
        if code.strip() in ("ra", "t0", "zero"):
            return _Effect()
        return _Effect(indirect=True)
    if mnemonic in ("jal", "j", "tail", "call") or mnemonic.startswith(("b", "c.b", "c.j")):
        match = _TARGET.search(code)
        if match:
            # `jal t0, __riscv_save_N` (-msave-restore): the routine pushes the
            # caller's registers and returns with the stack still lowered.
            return _Effect(target=int(match.group(1), 16), millicode=mnemonic == "jal" and args[0] == "t0")
    return _Effect()


@dataclass
class _Region:
    """A run of machine code: one symbol's body, or code after it that no symbol covers."""

    name: str
    start: int
    end: int | None = None  # first address past it; None until the next region starts
    effects: list[_Effect] = field(default_factory=list)

    def covers(self, address: int) -> bool:
        return self.start <= address and (self.end is None or address < self.end)


def parse_disassembly(text: str, arch: str, sizes: Mapping[int, int] = {},
                      aliases: Mapping[int, Sequence[str]] = {}) -> list[Function]:
    """Functions of `objdump -d --no-show-raw-insn` output for a linked image; `arch` is "arm" or "riscv".

    `sizes` maps a symbol's address to its size (from the symbol table).
    Hand-written assembly keeps code outside any sized symbol (newlib's
    strcmp has an exit path in front of `strcmp`, which objdump shows under
    the previous symbol): that code is a region of its own, and a function
    that branches there is charged with its stack use and calls, as if
    inlined.  A call or a branch to another symbol is an edge.  Symbols that
    occur at several addresses (static helpers of different library objects)
    get the key "name@address".  `aliases` maps an address to every function
    symbol there (objdump names only one: libgcc's `__aeabi_uidiv` is
    `__udivsi3`); each other name becomes a function of no frame that calls
    the one objdump shows.
    """
    effect_of = _arm_effect if arch == "arm" else _riscv_effect
    regions: list[_Region] = []
    for line in text.splitlines():
        header = _FUNC_HEADER.match(line)
        if header:
            start = int(header.group(1), 16)
            if regions and regions[-1].end is None:
                regions[-1].end = start
            size = sizes.get(start, 0)
            regions.append(_Region(header.group(2), start, start + size if size else None))
            continue
        insn = _INSN.match(line)
        if insn and regions:
            address = int(insn.group(1), 16)
            if not regions[-1].covers(address):  # past the symbol's size: code no symbol names
                if regions[-1].end is None:
                    regions[-1].end = address
                regions.append(_Region("", address))
            regions[-1].effects.append(effect_of(insn.group(2), insn.group(3)))

    symbols = [r for r in regions if r.name]
    counts: dict[str, int] = {}
    for region in symbols:
        counts[region.name] = counts.get(region.name, 0) + 1
    key_of = {id(r): r.name if counts[r.name] == 1 else f"{r.name}@{r.start:#x}" for r in symbols}
    starts = [r.start for r in regions]

    def region_at(address: int) -> _Region | None:
        i = bisect.bisect_right(starts, address) - 1
        return regions[i] if i >= 0 and regions[i].covers(address) else None

    functions = []
    for region in symbols:
        frame, dynamic, indirect, calls, millicode = 0, False, False, [], []
        todo, seen = [region], {id(region)}
        while todo:  # the symbol's body, then any unnamed code it branches into
            part = todo.pop()
            for effect in part.effects:
                frame += effect.frame
                dynamic |= effect.dynamic
                indirect |= effect.indirect
                if effect.target is None:
                    continue
                callee = region_at(effect.target)
                if callee is None or id(callee) in seen:
                    continue  # a branch inside the function (or off the image)
                if callee.name:
                    into = millicode if effect.millicode else calls
                    if key_of[id(callee)] not in into:
                        into.append(key_of[id(callee)])
                else:
                    seen.add(id(callee))
                    todo.append(callee)
        key = key_of[id(region)]
        functions.append(Function(key=key, name=region.name, frame=frame, where="machine code",
                                  calls=tuple(calls), millicode=tuple(millicode), dynamic=dynamic,
                                  indirect=indirect, exported=key == region.name))
    named = {r.name for r in symbols}
    for region in symbols:
        for alias in aliases.get(region.start, ()):
            if alias not in named:
                named.add(alias)
                functions.append(Function(key=alias, name=alias, frame=0, where="machine code",
                                          calls=(key_of[id(region)],)))
    return functions


def symbol_table(nm_output: str) -> tuple[dict[int, int], dict[int, list[str]]]:
    """From `nm -S --defined-only` output: address -> size, and address -> names of code symbols."""
    sizes: dict[int, int] = {}
    names: dict[int, list[str]] = {}
    for line in nm_output.splitlines():
        parts = line.split()
        if len(parts) == 4:
            address = int(parts[0], 16)
            sizes[address] = max(sizes.get(address, 0), int(parts[1], 16))
        if len(parts) in (3, 4) and parts[-2] in "TtWw":
            names.setdefault(int(parts[0], 16), []).append(parts[-1])
    return sizes, names


def _tool(cc: str, name: str) -> str:
    """The binutils program `name` that goes with the compiler `cc`."""
    found = subprocess.run([cc, f"-print-prog-name={name}"], capture_output=True, text=True, check=False).stdout.strip()
    if found and (os.path.isabs(found) and os.path.exists(found) or shutil.which(found)):
        return found
    if cc.endswith("gcc") and shutil.which(cc[: -len("gcc")] + name):
        return cc[: -len("gcc")] + name
    raise TargetError(f"no {name} found for {cc}")


def library_functions(target: Target, symbols: Iterable[str], work_dir: Path) -> CallGraph:
    """The functions of the target's libraries that define `symbols` (and all they call), from machine code.

    Links a program that only returns from main, with the target's link
    flags and every symbol forced in, and disassembles the image.  A symbol
    no library defines is simply absent from the result.  Boards only: the
    reader knows Arm (Thumb) and RISC-V machine code.
    """
    if target.kind not in ("cortex-m", "riscv"):
        raise TargetError(f"target '{target.name}': the machine-code reader knows Arm and RISC-V boards only")
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    probe = work_dir / "library_probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    image = work_dir / "library_probe.elf"
    command = link_mod.link_command(target, [probe], image)
    command[1:1] = [f"-Wl,--undefined={s}" for s in sorted(symbols)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TargetError(f"linking the library probe for {target.name} failed ({' '.join(command)}):\n"
                          f"{result.stderr.strip()}")
    disassembly = subprocess.run([_tool(target.cc, "objdump"), "-d", "--no-show-raw-insn", str(image)],
                                 capture_output=True, text=True, check=True).stdout
    sizes, aliases = symbol_table(subprocess.run([_tool(target.cc, "nm"), "-S", "--defined-only", str(image)],
                                                 capture_output=True, text=True, check=True).stdout)
    graph = CallGraph()
    arch = "riscv" if target.kind == "riscv" else "arm"
    for function in parse_disassembly(disassembly, arch, sizes, aliases):
        graph.add(dataclasses.replace(function, where=f"{target.name} libraries (objdump)"))
    return graph


# --- the walk -------------------------------------------------------------------


# Library routines whose machine code sets the stack pointer from a register,
# with the figure that bounds them and why.  A name may be a shell pattern.
# They are the only statements the analysis of Waft's own runtime relies on
# (tests/safety/test_import_stack_usage.py checks each is still needed and
# still true of the machine code).
@dataclass(frozen=True)
class Statement:
    """A figure for library code the analysis flags, and why it holds."""

    bytes: int                 # the function's whole depth
    explains: frozenset[str]   # the Problem kinds the reason accounts for
    reason: str


LIBRARY_STATEMENTS: dict[str, Statement] = {
    "longjmp": Statement(0, frozenset({"dynamic stack", "indirect call"}),
                         "it loads the registers setjmp saved, the stack pointer among them (`mov sp, ip`, "
                         "`lw sp`), and jumps to the saved return address (`bx r3` on Armv6-M): the stack "
                         "moves up to the frame that called setjmp, never below where it was"),
    "__riscv_save_*": Statement(64, frozenset({"dynamic stack"}),
                                "libgcc's -msave-restore millicode takes 16 or 64 bytes for its caller's "
                                "registers (`addi sp, sp, -64` at most); its `sub sp, sp, t1` gives back what "
                                "a smaller save did not use (t1 is 0, -16 or -32)"),
}


def stated_bounds(extra: Mapping[str, int] = {}) -> dict[str, int]:
    """LIBRARY_STATEMENTS' figures plus `extra` (name or pattern -> bytes), for `worst_case`."""
    return {**{name: s.bytes for name, s in LIBRARY_STATEMENTS.items()}, **extra}


def _stated(assumed: Mapping[str, int], names: Iterable[str]) -> str | None:
    """The key of `assumed` that covers one of `names` (exactly, else as a shell pattern)."""
    names = list(names)
    for name in names:
        if name in assumed:
            return name
    for pattern in assumed:
        if any(fnmatch.fnmatchcase(name, pattern) for name in names):
            return pattern
    return None


def worst_case(graph: CallGraph, entry: str, assumed: Mapping[str, int] = {}) -> Depth:
    """The deepest call chain below `entry` (a symbol or key) and what keeps it from being a bound.

    `assumed` maps a function (symbol, key or shell pattern) to a stated
    figure for its whole depth, callees included; the walk uses it instead
    of looking inside.  A function's millicode callees (RISC-V register
    saves) count in its own frame: their stack stays taken while it runs.
    """
    Result = tuple[int, tuple[tuple[str, int], ...], frozenset[Problem], frozenset[str]]
    memo: dict[str, Result] = {}
    active: list[str] = []

    def callee_results(function: Function, callee: str) -> list[Result]:
        targets = graph.resolve(callee)
        if not targets:
            stated = _stated(assumed, [callee])
            if stated is not None:
                return [(assumed[stated], ((callee, assumed[stated]),), frozenset(), frozenset({stated}))]
            return [(0, (), frozenset({Problem("no stack data", callee, f"called from {function.name}")}),
                     frozenset())]
        results = []
        for target in targets:
            if target in active:
                cycle = " > ".join(graph.functions[k].name for k in active[active.index(target):] + [target])
                results.append((0, (), frozenset({Problem("recursion", graph.functions[target].name, cycle)}),
                                frozenset()))
            else:
                results.append(visit(target))
        return results

    def visit(key: str) -> Result:
        if key in memo:
            return memo[key]
        function = graph.functions[key]
        stated = _stated(assumed, [key, function.name])
        if stated is not None:
            memo[key] = (assumed[stated], ((function.name, assumed[stated]),), frozenset(), frozenset({stated}))
            return memo[key]
        active.append(key)
        problems: set[Problem] = set()
        uses: set[str] = set()
        if function.dynamic:
            problems.add(Problem("dynamic stack", function.name, function.where))
        if function.indirect:
            problems.add(Problem("indirect call", function.name, function.where))
        frame = function.frame
        for callee in function.millicode:
            results = callee_results(function, callee)
            frame += max(r[0] for r in results)
            for r in results:
                problems |= r[2]
                uses |= r[3]
        best: tuple[int, tuple[tuple[str, int], ...]] = (0, ())
        for callee in function.calls:
            for depth, path, below, used in callee_results(function, callee):
                problems |= below
                uses |= used
                if depth > best[0] or not best[1]:  # a callee of 0 bytes still shows in the path
                    best = (depth, path)
        active.pop()
        memo[key] = (frame + best[0], ((function.name, frame), *best[1]), frozenset(problems), frozenset(uses))
        return memo[key]

    keys = graph.resolve(entry)
    if not keys:
        stated = _stated(assumed, [entry])
        if stated is not None:
            return Depth(entry, assumed[stated], ((entry, assumed[stated]),), assumed=(stated,))
        return Depth(entry, 0, (), (Problem("no stack data", entry, "the entry point is defined nowhere"),))
    results = [visit(k) for k in keys]
    depth, path, _, _ = max(results, key=lambda r: r[0])
    problems = frozenset().union(*(r[2] for r in results))
    uses = frozenset().union(*(r[3] for r in results))
    return Depth(entry, depth, path, tuple(sorted(problems, key=str)), tuple(sorted(uses)))


# --- the WASI runtime on a board --------------------------------------------------


def wasi_imports() -> list[str]:
    """The C symbols of every wasi_snapshot_preview1 import the runtime defines."""
    return [f.symbol for f in wasi.FUNCTIONS]


def _firmware_compile_flags(target: Target, header: Path, console: str) -> list[str]:
    """The flags the firmware link compiles board glue with (link.link_command minus the link-only ones)."""
    command = link_mod.link_command(target, [], Path("firmware.elf"),
                                    cflags=wasi_firmware.firmware_cflags(target, prefix="stack_usage",
                                                                         header=header, console=console))
    flags, skip_next = [], False
    board = {str(p) for p in link_mod.board_sources(target)}
    for arg in command[1:]:
        if skip_next:
            skip_next = False
            continue
        if arg in ("-o", "-u"):
            skip_next = True
            continue
        if arg in board or arg.startswith(("-Wl,", "-L", "-T", "-l", "--crt0", "--oslib")) or arg == "-nostartfiles":
            continue
        flags.append(arg)
    return flags


def wasi_runtime_graph(target: Target, work_dir: Path, console: str | None = None) -> CallGraph:
    """The call graph of a board's WASI firmware minus the module: runtime, WASI port, board glue with
    the generated configuration of a firmware with files, libraries.

    Everything is compiled as `waftkit.firmware.wasi_firmware` builds it: the
    runtime library with `runtime_cflags(target, runtime_defines())`, the board
    glue with the firmware's flags and `console` (default: the first the
    target offers).  Library functions are added from machine code.
    """
    wasi_firmware.board_glue(target)  # TargetError for a target without a bare-metal WASI port
    work_dir = Path(work_dir)
    console = console or wasi_firmware.KIND_CONSOLES[target.kind][0]
    # The signals layer where the board has its port: proc_raise calls into it (waft_signals_proc_raise).
    try:
        signals = embedding.signal_sources(target)
    except TargetError:
        signals = []
    graph = compile_callgraph(target.cc, runtime_cflags(target, wasi_firmware.runtime_defines()),
                              runtime_sources(target) + wasi.runtime_sources(target) + signals, work_dir / "runtime")
    header = work_dir / "stack_usage_module.h"
    header.write_text("/* stands in for a module's header: board glue does not use it */\n")
    # The generated configuration of a firmware with a preopened folder: it mounts the RAM
    # filesystem and defines the hooks the port calls only then (waft_ramfs_clock_ns).
    folder = work_dir / "preopened"
    folder.mkdir(parents=True, exist_ok=True)
    config = wasi_firmware.write_config(work_dir / "config", args=["stack_usage"], dirs=[(folder, "/data")])
    glue = compile_callgraph(target.cc, _firmware_compile_flags(target, header, console),
                             [*link_mod.board_sources(target), *wasi_firmware.board_glue(target), config],
                             work_dir / "glue")
    graph.merge(glue)
    graph.fill_in(library_functions(target, graph.undefined(), work_dir / "libraries"))
    return graph


def interrupt_handlers(target: Target) -> list[str]:
    """The handlers that can interrupt C code on `target`'s WASI firmware (and so share its stack)."""
    return ["SysTick_Handler"] if target.kind == "cortex-m" else []


def header_value(target: Target, macro: str, defines: Sequence[str] = ()) -> int | None:
    """An integer macro of waft.h as `target`'s compiler sees it; None when waft.h does not define it."""
    probe = f'#include "waft.h"\n#ifdef {macro}\nwaft_value_is {macro}\n#endif\n'
    command = [target.cc, *runtime_cflags(target, defines), "-E", "-P", "-x", "c", "-"]
    result = subprocess.run(command, input=probe, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TargetError(f"preprocessing waft.h for {target.name} failed:\n{result.stderr.strip()}")
    for line in result.stdout.splitlines():
        if line.startswith("waft_value_is "):
            expression = re.sub(r"(\d+)[uUlL]+\b", r"\1", line.split(" ", 1)[1])
            if not re.fullmatch(r"[\d\s()*+\-/]+", expression):
                raise ValueError(f"waft.h's {macro} is not a plain integer expression: {expression!r}")
            return int(eval(expression, {"__builtins__": {}}))  # digits and operators only (checked above)
    return None


# The trap path's reserve where waft.h names none (WAFT_TRAP_STACK_RESERVE).
DEFAULT_TRAP_RESERVE = 256


@dataclass(frozen=True)
class Budget:
    """How a board's WAFT_STACK_MARGIN is shared out, in bytes, and what is left for an import."""

    margin: int        # WAFT_STACK_MARGIN
    trap_reserve: int  # the trap path (WAFT_TRAP_STACK_RESERVE)
    wasm_frame: int    # the largest Wasm frame pushed before its stack check (target.toml max_unguarded_frame)
    interrupt: int     # an interrupt taken at the deepest point: the core's exception frame + its handler

    @property
    def imports(self) -> int:
        """What an import may use, its whole call chain included."""
        return self.margin - self.trap_reserve - self.wasm_frame - self.interrupt


def budget(target: Target, graph: CallGraph, defines: Sequence[str] = ()) -> Budget:
    """The budget of `target`'s WASI firmware (graph from `wasi_runtime_graph`) with waft.h's figures."""
    margin = header_value(target, "WAFT_STACK_MARGIN", defines)
    reserve = header_value(target, "WAFT_TRAP_STACK_RESERVE", defines)
    handlers = [worst_case(graph, h, stated_bounds()).bytes for h in interrupt_handlers(target)]
    return Budget(margin=margin or 0, trap_reserve=DEFAULT_TRAP_RESERVE if reserve is None else reserve,
                  # Frames above this are checked before they are pushed (aot/lower/frames.py).
                  wasm_frame=getattr(target, "max_unguarded_frame", 512),
                  interrupt=exception_frame_bytes(target) + max(handlers, default=0) if handlers else 0)


# --- the command line -------------------------------------------------------------


def _report(results: Sequence[Depth], out) -> None:
    width = max((len(r.entry) for r in results), default=10)
    for r in sorted(results, key=lambda r: (-r.bytes, r.entry)):
        mark = "" if r.bounded else "  UNBOUNDED"
        print(f"{r.bytes:6d}  {r.entry:<{width}}{mark}", file=out)
        print(f"        {r.path_text()}", file=out)
        for problem in r.problems:
            print(f"        ! {problem}", file=out)
        for name in r.assumed:
            print(f"        = stated figure used for {name}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m waftkit.firmware.stack_usage",
        description="Worst-case stack depth of C functions called from Wasm, from GCC's -fcallgraph-info data.")
    parser.add_argument("files", nargs="*", type=Path, help="C files with your imports (analysed with Waft's runtime)")
    parser.add_argument("--target", required=True, help="board name (targets/<name>)")
    parser.add_argument("--entry", action="append", default=[],
                        help="function to report (default: every exported function of FILES)")
    parser.add_argument("-I", dest="includes", action="append", default=[], help="include folder for FILES")
    parser.add_argument("-D", dest="defines", action="append", default=[], help="define for FILES")
    parser.add_argument("--cflag", action="append", default=[], help="any other compiler flag for FILES")
    parser.add_argument("--wasi-runtime", action="store_true",
                        help="analyse with the board's WASI firmware, and report its imports too")
    parser.add_argument("--console", help="WASI console backend the firmware is built with (semihost, uart, rtt)")
    parser.add_argument("--assume", action="append", default=[], metavar="FUNCTION=BYTES",
                        help="a stated figure for a function the analysis cannot bound")
    args = parser.parse_args(argv)
    if not args.files and not args.wasi_runtime:
        parser.error("give C files, --wasi-runtime, or both")
    try:
        target = load_target(args.target)
        extra = {}
        for item in args.assume:
            name, _, value = item.partition("=")
            extra[name] = int(value, 0)
        with tempfile.TemporaryDirectory(prefix="waft-stack-") as tmp:
            work = Path(tmp)
            if args.wasi_runtime:
                graph = wasi_runtime_graph(target, work / "wasi", args.console)
            else:
                graph = compile_callgraph(target.cc, runtime_cflags(target), runtime_sources(target), work / "runtime")
            entries = list(args.entry)
            if args.files:
                flags = [*runtime_cflags(target), *(f"-I{d}" for d in args.includes),
                         *(f"-D{d}" for d in args.defines), *args.cflag]
                user = compile_callgraph(target.cc, flags, args.files, work / "user")
                entries = entries or sorted(f.name for f in user.functions.values() if f.exported)
                graph.merge(user)
            if args.wasi_runtime and not args.files and not entries:
                entries = wasi_imports() + list(RUNTIME_HELPERS)
            if graph.undefined() and not target.is_host:  # a host's libc stays "no stack data"
                graph.fill_in(library_functions(target, graph.undefined(), work / "libraries"))
            assumed = stated_bounds(extra)
            results = [worst_case(graph, e, assumed) for e in entries]
            share = budget(target, graph, args.defines) if target.kind != "host" else None
            trap = worst_case(graph, "waft_trap", assumed)
    except (TargetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _report(results, sys.stdout)
    if share is not None and results:
        deepest = max(results, key=lambda r: r.bytes)
        need = deepest.bytes + share.interrupt + share.wasm_frame + share.trap_reserve
        print(f"\nDeepest: {deepest.entry}, {deepest.bytes} bytes.  With an interrupt at that point "
              f"({share.interrupt} bytes), the largest unchecked Wasm frame ({share.wasm_frame}) and the trap "
              f"path's reserve ({share.trap_reserve}; the trap path itself takes {trap.bytes}), "
              f"WAFT_STACK_MARGIN must be at least {need} (it is {share.margin}).")
        if need > share.margin:
            return 3
    return 0 if all(r.bounded for r in results) else 2


if __name__ == "__main__":
    sys.exit(main())
