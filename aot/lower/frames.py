"""Frame guards: functions whose native frame is too big for the stack margin are checked before it.

Every compiled function checks the stack at its entry (`ModuleContext.stack_check`):
it traps CALL_STACK_EXHAUSTED when the stack pointer is below `waft_stack_limit`,
which sits WAFT_STACK_MARGIN bytes above the stack's true end.  That check runs
after the prologue has pushed the frame — and the register allocator may spill
into the frame before the check too — so it is sound only for frames that fit
the margin.  A microcontroller has no guard page to catch the rest: a frame of
several KiB written below the limit lands in the heap, in .bss or in another
stack.

So the compiler measures every frame (aot/frame_sizes.py) and gives each
function whose frame exceeds the target's `max_unguarded_frame` a guard: the
function everyone calls (`f`) becomes

    if (sp < waft_stack_limit + reserve) waft_trap(CALL_STACK_EXHAUSTED);
    return f.frame(args...);         // musttail where the Wasm type allows

with the original code in `f.frame` (noinline, so it stays a separate frame),
and `reserve` at least the body's measured frame.  The guard itself has a
small frame, so the entry check covers everything the body will push.  The
sizes are only known after code generation, so `plan_frame_guards` is run on
each compile's measurements until they agree (aot/compiler.py): one compile
when no frame is big; when some are, `guard_optimised_ir` adds the guards to
that compile's optimised IR and code generation alone runs again; only where
that cannot be done (LLVM cloned a big-frame function, so callers call the
clone past any guard) does the whole compile run again with the guards
planned at lowering.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from llvmlite import ir

from aot.abi import TRAP_CODES
from aot.errors import AotError
from aot.lower.context import I32

if TYPE_CHECKING:
    from aot.lower.module import ModuleContext
    from aot.wasm.module import FuncType

FRAME_BODY_SUFFIX = ".frame"
# Bytes a guard reserves beyond its body's measured frame: the return address
# where the call pushes one (x86-64) and the alignment of the caller's frame.
GUARD_SLACK = 64


def define_frame_guard(mctx: ModuleContext, guard: ir.Function, body: ir.Function, reserve: int,
                       functype: FuncType | None) -> None:
    """Fill `guard` in: trap unless `reserve` bytes of stack are left above the limit, then call `body`."""
    builder = ir.IRBuilder(guard.append_basic_block("entry"))
    sp, limit = mctx.stack_pointer_and_limit(builder)
    needed = builder.add(limit, ir.Constant(mctx.intptr, reserve), name="stack.needed")
    # The limit is 0 until the runtime sets it, and then no check may fire (waft.h).
    low = builder.and_(builder.icmp_unsigned("<", sp, needed, name="stack.short"),
                       builder.icmp_unsigned("!=", limit, ir.Constant(mctx.intptr, 0)), name="stack.low")
    trap_block = guard.append_basic_block("stack.exhausted")
    call_block = guard.append_basic_block("call")
    builder.cbranch(low, trap_block, call_block).set_weights([1, 2000])
    builder.position_at_end(trap_block)
    builder.call(mctx.runtime_function("waft_trap"), [ir.Constant(I32, TRAP_CODES["CALL_STACK_EXHAUSTED"])],
                 cconv=mctx.cconv or None)
    builder.unreachable()
    builder.position_at_end(call_block)
    # A tail call keeps return_call chains through a guarded function from growing the stack.
    tail = "musttail" if functype is not None and mctx.can_musttail(functype, functype) else True
    result = builder.call(body, list(guard.args), cconv=mctx.cconv or None, tail=tail)
    if isinstance(guard.ftype.return_type, ir.VoidType):
        builder.ret_void()
    else:
        builder.ret(result)


def plan_frame_guards(sizes: dict[str, int], guards: dict[str, int], max_unguarded: int,
                      defined: frozenset[str]) -> dict[str, int]:
    """The frame guards the next compile needs, from this compile's frame sizes.

    `sizes` is LLVM's report ({function: bytes}), `guards` what this compile
    had ({guarded function: reserve}), `defined` the names of the functions
    the lowering defined.  Returns `guards` itself when every frame is
    covered: each body within its reserve, every other function within
    `max_unguarded`.  Otherwise a new mapping with a guard (or a bigger
    reserve) for each function that is not.  Raises AotError when a frame
    cannot be guarded: a guard whose own frame is too big (it passes
    hundreds of arguments on the stack), or a big-frame function LLVM made
    that is none of ours.
    """
    planned = dict(guards)
    for reported, size in sizes.items():
        name = source_function(reported, defined)
        guarded = _guarded_by(name, guards)
        if guarded is not None:
            planned[guarded] = max(planned[guarded], size + GUARD_SLACK)
            continue
        if size <= max_unguarded:
            continue
        if name is None:
            raise AotError(f"internal error: LLVM made function '{reported}' with a {size}-byte frame, "
                           "and Waft cannot tell which function to guard")
        if name in guards:
            raise AotError(f"function '{name}' needs {size} bytes of stack just to call its body "
                           f"(its arguments), more than the {max_unguarded} bytes the stack check allows "
                           "unchecked on this target")
        planned[name] = size + GUARD_SLACK
    return guards if planned == guards else planned


def largest_unguarded_frame(sizes: dict[str, int], guards: dict[str, int], defined: frozenset[str]) -> int:
    """The biggest frame not checked in advance: what WAFT_STACK_MARGIN must hold (0 when none)."""
    return max((size for reported, size in sizes.items()
                if _guarded_by(source_function(reported, defined), guards) is None), default=0)


def source_function(reported: str, defined: frozenset[str]) -> str | None:
    """The function of ours that `reported` is, or that LLVM cloned it from (`f.specialized.1`)."""
    if reported in defined:
        return reported
    parts = reported.split(".")
    for end in range(len(parts) - 1, 0, -1):  # longest prefix first
        candidate = ".".join(parts[:end])
        if candidate in defined:
            return candidate
    return None


def _guarded_by(name: str | None, guards: dict[str, int]) -> str | None:
    """The guarded function whose body `name` is, else None."""
    if name is None or not name.endswith(FRAME_BODY_SUFFIX):
        return None
    base = name[: -len(FRAME_BODY_SUFFIX)]
    return base if base in guards else None


# --- guards added to optimised IR --------------------------------------------------------
#
# A module with big frames used to be compiled twice from the start: lowered,
# optimised and emitted once to measure the frames, then again with the guards
# planned (three quarters of a wasi-libc-sized module's compile, for one guarded
# function).  The guards change nothing but the guarded functions' entries, so
# they can be added to the optimised IR of the first compile instead, which then
# only goes through the code generator again: the body keeps the function's code
# under `f.frame` (noinline), and a new `f` -- which every call, table entry and
# export alias already names -- checks the stack and tail-calls it.

_BARE_NAME = re.compile(r"[-a-zA-Z$._][-a-zA-Z$._0-9]*")


def llvm_global_name(name: str) -> str:
    """`@name` as LLVM prints it: bare when it may be, else quoted with \\XX escapes."""
    if _BARE_NAME.fullmatch(name):
        return f"@{name}"
    out = []
    for byte in name.encode("utf-8"):
        ch = chr(byte)
        out.append(ch if 0x20 <= byte < 0x7F and ch not in '"\\' else f"\\{byte:02X}")
    return '@"' + "".join(out) + '"'


# The linkage and visibility words of a `define` line, as LLVM prints them before the calling convention.
_LINKAGE = re.compile(r"define ((?:(?:private|internal|available_externally|linkonce|weak|linkonce_odr|weak_odr"
                      r"|external|dso_local|hidden|protected|default)\s+)*)")


def guard_optimised_ir(ir_text: str, guards: dict[str, int], *, signatures: dict[str, tuple[str, list[str]]],
                       cconv: str, pointer_bits: int, musttail: dict[str, bool]) -> str | None:
    """`ir_text` (optimised) with a frame guard in front of each function of `guards`, or None when one
    of them is not a plain definition there (the caller then compiles the module again from the start).

    `signatures` gives each guarded function's LLVM return and parameter types
    as printed, `musttail` whether the guard's call of its body may be musttail
    (`can_musttail`), `cconv` the functions' calling convention ("" for C's).
    """
    lines = ir_text.split("\n")
    cc = f"{cconv} " if cconv else ""
    intptr = f"i{pointer_bits}"
    extra: list[str] = []
    for name, reserve in sorted(guards.items()):
        printed, body = llvm_global_name(name), llvm_global_name(name + FRAME_BODY_SUFFIX)
        where = [i for i, line in enumerate(lines) if line.startswith("define ") and f" {printed}(" in line]
        if len(where) != 1 or name not in signatures:
            return None
        # The guard takes the function's place, so it keeps the function's linkage and visibility: a
        # partition's functions are `hidden` (other partitions call them, aot/partition_lower.py).
        linkage = _LINKAGE.match(lines[where[0]]).group(1) or "internal "
        line = lines[where[0]].replace(f" {printed}(", f" {body}(", 1)
        groups = list(re.finditer(r" (#\d+)\b", line))
        group = groups[-1] if groups else None
        # Inlined back into its guard, the frame would precede the check again.
        line = line[:group.start()] + " noinline" + line[group.start():] if group else line[:-2] + " noinline {"
        lines[where[0]] = line
        ret, params = signatures[name]
        args = ", ".join(f"{t} %a{i}" for i, t in enumerate(params))
        tail = "musttail" if musttail.get(name) else "tail"
        result = "void" if ret == "void" else f"{ret} %result"
        extra += [
            f"define {linkage}{cc}{ret} {printed}({args}){' ' + group.group(1) if group else ''} {{",
            "entry:",
            "  %sp = call ptr @llvm.stacksave.p0()",
            f"  %sp.int = ptrtoint ptr %sp to {intptr}",
            f"  %limit = load {intptr}, ptr @waft_stack_limit",
            f"  %needed = add {intptr} %limit, {reserve}",
            f"  %short = icmp ult {intptr} %sp.int, %needed",
            # The limit is 0 until the runtime sets it, and then no check may fire (waft.h).
            f"  %set = icmp ne {intptr} %limit, 0",
            "  %low = and i1 %short, %set",
            "  br i1 %low, label %exhausted, label %call",
            "exhausted:",
            f"  call {cc}void @waft_trap(i32 {TRAP_CODES['CALL_STACK_EXHAUSTED']})",
            "  unreachable",
            "call:",
            f"  {'%result = ' if ret != 'void' else ''}{tail} call {cc}{ret} {body}({args})",
            f"  ret {result}",
            "}",
        ]
    text = "\n".join(lines)
    if not re.search(r"^@waft_stack_limit = ", text, re.M):
        extra.append(f"@waft_stack_limit = external global {intptr}")
    if not re.search(r"^declare [^\n]*@llvm\.stacksave\.p0\(", text, re.M):
        extra.append("declare ptr @llvm.stacksave.p0()")
    if not re.search(r"^declare [^\n]*@waft_trap\(", text, re.M):
        extra.append(f"declare {cc}void @waft_trap(i32) noreturn nounwind")
    return text + "\n" + "\n".join(extra) + "\n"
