"""Generate the C test program that runs one spec script's commands against compiled modules.

The program is table driven so that thousands of assertions cost data, not
code: one small "caller" function per export used (it unpacks 64-bit
argument slots into the export's C parameters and packs the results back),
one instantiation function per module, and a table of steps the main loop
walks.  Each step prints one line, and Python judges it:

    @<id> ok <letter>:<hex bits> ...     results (i, I, f, F as bit patterns; r, e as pointers)
    @<id> trap <code> <message>          the call or instantiation trapped
    @<id> noinst                         the instance it needs is not there (its instantiation failed)
    @<id> nomem <bytes>                  calloc could not place the instance (small boards)
    @end                                 every step ran

Imports are wired here too: `spectest` is a set of statics, and a function
import gets a thunk with the importer's (renamed, so unique) import symbol
that forwards to the exporting instance's export, ctx being that instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aot import abi
from aot.wasm.module import FuncType, Module

# How each value type travels through a uint64_t slot.
_TO_C = {
    "i32": "(int32_t)(uint32_t){v}",
    "i64": "(int64_t){v}",
    "f32": "f32_of((uint32_t){v})",
    "f64": "f64_of({v})",
    "funcref": "(const waft_func *)(uintptr_t){v}",
    "externref": "(void *)(uintptr_t){v}",
}
_FROM_C = {
    "i32": "(uint64_t)(uint32_t){v}",
    "i64": "(uint64_t){v}",
    "f32": "(uint64_t)bits_f32({v})",
    "f64": "bits_f64({v})",
    "funcref": "(uint64_t)(uintptr_t){v}",
    "externref": "(uint64_t)(uintptr_t){v}",
}
LETTERS = {"i32": "i", "i64": "I", "f32": "f", "f64": "F", "funcref": "r", "externref": "e"}
TYPE_OF_LETTER = {v: k for k, v in LETTERS.items()}


@dataclass
class Binding:
    """How one import of an instance is satisfied."""

    field: str  # the imports-struct field (import symbol) or, for functions, the ctx field
    kind: str  # "func" | "table" | "memory" | "global"
    symbol: str  # the importer's import symbol (renamed module)
    functype: FuncType | None = None  # functions
    # Source: ("spectest", name) or ("instance", k, export name)
    source: tuple = ()
    # Memories and tables from an instance: the import's minimum, which the current
    # size (it may have grown) must reach at instantiation; None when already checked.
    min_size: int | None = None


@dataclass
class Instance:
    index: int
    prefix: str
    module: Module  # as compiled (renamed import modules)
    bindings: list[Binding] = field(default_factory=list)
    # import module name (renamed) -> ctx source: ("spectest",) or ("instance", k)
    ctx: dict[str, tuple] = field(default_factory=dict)


@dataclass
class Step:
    op: str  # "inst" | "call" | "get" | "free"
    cmd_id: int = 0
    instance: int = 0
    export: str = ""  # call/get: the export's name
    args: tuple[int, ...] = ()  # call: argument slots (bit patterns)


def _c_result_type(results: tuple[str, ...]) -> str:
    return abi.C_TYPES[results[0]] if len(results) == 1 else "void"


class HarnessWriter:
    """Collects instances and steps, then writes the C program."""

    def __init__(self, spectest_memories: dict[str, int] | None = None) -> None:
        self.instances: dict[int, Instance] = {}
        self.steps: list[Step] = []
        # Pages of storage for each spectest memory a module imports ("memory",
        # "shared_memory"); one that nobody imports is left out.
        self.spectest_memories = dict(spectest_memories or {})
        self._callers: dict[tuple[int, str, str], int] = {}
        self._caller_code: list[str] = []
        self._caller_results: list[str] = []

    # --- building -------------------------------------------------------------

    def add_instance(self, inst: Instance) -> None:
        self.instances[inst.index] = inst

    def add_step(self, step: Step) -> None:
        self.steps.append(step)

    def _export(self, inst: Instance, name: str, kind: str) -> int:
        for exp in inst.module.exports:
            if exp.name == name and exp.kind == kind:
                return exp.index
        raise KeyError(f"no {kind} export named {name!r}")

    def result_letters(self, step: Step) -> str:
        """The letters of the results a call/get step prints (for the Python side)."""
        inst = self.instances[step.instance]
        if step.op == "get":
            return LETTERS[inst.module.all_globals()[self._export(inst, step.export, "global")].valtype]
        functype = inst.module.func_type(self._export(inst, step.export, "func"))
        return "".join(LETTERS.get(t, "?") for t in functype.results)

    def _caller(self, step: Step) -> int:
        key = (step.instance, step.op, step.export)
        if key in self._callers:
            return self._callers[key]
        inst = self.instances[step.instance]
        index = len(self._caller_code)
        name = f"caller_{index}"
        sym = abi.export_symbol(inst.prefix, step.export)
        itype = f"{inst.prefix}__instance"
        lines = [f"static void {name}(void *inst, void *io) {{",
                 "    const uint64_t *a = (const uint64_t *)io;", "    (void)a;"]
        if step.op == "get":
            gtype = inst.module.all_globals()[self._export(inst, step.export, "global")]
            ctype = abi.C_TYPES[gtype.valtype]
            lines.append(f"    {ctype} v = *({ctype} *){sym}(({itype} *)inst);")
            lines.append(f"    res[0] = {_FROM_C[gtype.valtype].format(v='v')};")
            letters = LETTERS[gtype.valtype]
        else:
            functype = inst.module.func_type(self._export(inst, step.export, "func"))
            params = [_TO_C[t].format(v=f"a[{i}]") for i, t in enumerate(functype.params)]
            results = functype.results
            call_args = [f"({itype} *)inst"] + params
            if len(results) == 1:
                lines.append(f"    {abi.C_TYPES[results[0]]} r0 = {sym}({', '.join(call_args)});")
            else:
                for i, t in enumerate(results):
                    lines.append(f"    {abi.C_TYPES[t]} r{i};")
                call_args += [f"&r{i}" for i in range(len(results))]
                lines.append(f"    {sym}({', '.join(call_args)});")
            for i, t in enumerate(results):
                lines.append(f"    res[{i}] = {_FROM_C[t].format(v=f'r{i}')};")
            letters = "".join(LETTERS[t] for t in results)
        lines.append("}")
        self._caller_code.append("\n".join(lines))
        self._caller_results.append(letters)
        self._callers[key] = index
        return index

    # --- writing ----------------------------------------------------------------

    def write(self, headers: dict[int, str]) -> str:
        """The C source; `headers[k]` is the header file name of instance k."""
        out: list[str] = [_PRELUDE]
        for k in sorted(self.instances):
            out.append(f'#include "{headers[k]}"')
        n_inst = max(self.instances, default=0) + 1
        out.append(f"\nstatic void *insts[{n_inst}];  /* live, successfully instantiated */")
        out.append(f"static void *allocs[{n_inst}];  /* allocated (freed when unreachable) */\n")
        out.append(_spectest(self.spectest_memories))
        for k in sorted(self.instances):
            out.append(self._thunks(self.instances[k]))
            out.append(self._instantiator(self.instances[k]))
        # Steps reference callers; build them first.
        step_rows: list[str] = []
        arg_pool: list[int] = []
        for step in self.steps:
            if step.op in ("call", "get"):
                caller = self._caller(step)
                step_rows.append(f"    {{{step.cmd_id}u, OP_CALL, {step.instance}, {caller}, "
                                 f"{len(arg_pool)}u}},")
                arg_pool.extend(step.args)
            elif step.op == "inst":
                step_rows.append(f"    {{{step.cmd_id}u, OP_INST, {step.instance}, 0, 0}},")
            elif step.op == "free":
                step_rows.append(f"    {{0, OP_FREE, {step.instance}, 0, 0}},")
        out.extend(self._caller_code)
        out.append("static const caller_fn callers[] = {" +
                   "".join(f"caller_{i}, " for i in range(len(self._caller_code))) + "0};"
                   if self._caller_code else "static const caller_fn callers[1];")
        out.append("static const char *const caller_results[] = {" +
                   "".join(f'"{r}", ' for r in self._caller_results) + "0};")
        out.append("static const inst_fn instantiators[] = {" +
                   ", ".join(f"inst_{k}" if k in self.instances else "0" for k in range(n_inst)) +
                   "};")
        out.append("static const uint64_t args[] = {" +
                   ", ".join(f"UINT64_C(0x{a:x})" for a in arg_pool) + (", 0" if arg_pool else "0") +
                   "};")
        out.append("static const step_t steps[] = {\n" + "\n".join(step_rows) +
                   "\n    {0, OP_END, 0, 0, 0},\n};")
        out.append(_MAIN)
        return "\n".join(out) + "\n"

    def _thunks(self, inst: Instance) -> str:
        out = []
        seen: set[str] = set()
        for b in inst.bindings:
            # A module may import the same function twice: one thunk serves both.
            if b.kind != "func" or b.symbol in seen:
                continue
            seen.add(b.symbol)
            ft = b.functype
            assert ft is not None
            params = ["void *ctx"] + [f"{abi.C_TYPES[t]} p{i}" for i, t in enumerate(ft.params)]
            multi = len(ft.results) > 1
            if multi:
                params += [f"{abi.C_TYPES[t]} *r{i}" for i, t in enumerate(ft.results)]
            names = [f"p{i}" for i in range(len(ft.params))]
            ret = _c_result_type(ft.results)
            if b.source[0] == "spectest":
                body = f"    (void)ctx; spectest_{b.source[1]}({', '.join(names)});"
                if ft.results:
                    raise ValueError("spectest functions return nothing")
            else:
                src = self.instances[b.source[1]]
                sym = abi.export_symbol(src.prefix, b.source[2])
                call_args = [f"({src.prefix}__instance *)ctx"] + names
                if multi:
                    call_args += [f"r{i}" for i in range(len(ft.results))]
                call = f"{sym}({', '.join(call_args)})"
                body = f"    return {call};" if ret != "void" else f"    {call};"
            out.append(f"{ret} {b.symbol}({', '.join(params)}) {{\n{body}\n}}")
        return "\n".join(out)

    def _instantiator(self, inst: Instance) -> str:
        p = inst.prefix
        lines = [f"static void inst_{inst.index}(uint32_t id) {{",
                 "    void *raw;",
                 f"    {p}__instance *inst = alloc_instance(sizeof({p}__instance), "
                 f"_Alignof({p}__instance), &raw);",
                 "    if (!inst) {",
                 f"        out_str(\"@\"); out_dec(id); out_str(\" nomem \"); "
                 f"out_dec((uint32_t)sizeof({p}__instance)); out_str(\"\\n\"); return;",
                 "    }",
                 f"    allocs[{inst.index}] = raw;",
                 f"    {p}__imports imp;",
                 "    memset(&imp, 0, sizeof imp);"]
        for name, src in inst.ctx.items():
            value = "NULL" if src[0] == "spectest" else f"insts[{src[1]}]"
            lines.append(f"    imp.{abi.mangle(name)} = {value};")
        for b in inst.bindings:
            if b.kind == "func":
                continue
            if b.source[0] == "spectest":
                value = "&spectest_table" if b.kind == "table" else f"&spectest_{b.source[1]}"
            else:
                src = self.instances[b.source[1]]
                value = f"{abi.export_symbol(src.prefix, b.source[2])}(({src.prefix}__instance *)" \
                        f"insts[{b.source[1]}])"
            lines.append(f"    imp.{b.field} = (void *){value};")
        for b in inst.bindings:
            if b.min_size is not None:
                size = "pages" if b.kind == "memory" else "size"
                lines += [f"    if (imp.{b.field}->{size} < {b.min_size}u) {{",
                          f"        free_instance(raw); allocs[{inst.index}] = NULL;",
                          f"        out_str(\"@\"); out_dec(id); out_str(\" unlinkable {b.field}\\n\"); return;",
                          "    }"]
        lines += [f"    waft_trap_code code = {p}__instantiate(inst, &imp);",
                  f"    if (code == WAFT_TRAP_NONE) insts[{inst.index}] = inst;",
                  "    report(id, code, \"\");",
                  "}"]
        return "\n".join(lines)


_PRELUDE = r"""/* Generated by waftkit/testing/spectest/harness.py: runs one spec script's commands. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waft.h"

/* ---- output: one line per step, written through as it completes ------------ */
static char line[512];
static size_t line_len;

static void out_str(const char *s) {
    while (*s && line_len < sizeof line - 1) line[line_len++] = *s++;
    if (line_len && line[line_len - 1] == '\n') {
        size_t done = 0;
        while (done < line_len) {
            ssize_t n = write(1, line + done, line_len - done);
            if (n <= 0) break;
            done += (size_t)n;
        }
        line_len = 0;
    }
}

static void out_dec(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    out_str(buf + i);
}

static void out_hex(uint64_t v) {
    char buf[17];
    int i = 16;
    buf[i] = 0;
    do { buf[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    out_str(buf + i);
}

static inline float f32_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline double f64_of(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint32_t bits_f32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline uint64_t bits_f64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

static uint64_t res[16];

typedef void (*caller_fn)(void *, void *);
typedef void (*inst_fn)(uint32_t);
enum { OP_END, OP_INST, OP_CALL, OP_FREE };
typedef struct { uint32_t id; uint8_t op; uint16_t inst; uint16_t fn; uint32_t arg; } step_t;

static void report(uint32_t id, waft_trap_code code, const char *letters) {
    out_str("@"); out_dec(id);
    if (code != WAFT_TRAP_NONE) {
        out_str(" trap "); out_dec((uint32_t)code); out_str(" ");
        out_str(waft_strerror(code)); out_str("\n");
        return;
    }
    out_str(" ok");
    for (int i = 0; letters[i]; i++) {
        char t[4] = {' ', letters[i], ':', 0};
        out_str(t); out_hex(res[i]);
    }
    out_str("\n");
}

#if defined(WAFT_PORT_CORTEX_M)
/* Boards: instances come from a first-fit arena with coalescing over the whole
 * heap, not newlib-nano's malloc, which never merges a freed chunk with fresh
 * heap: after one 64 KiB instance is freed, a slightly bigger one would not
 * fit in 128 KiB of RAM any more.  Blocks are kept in address order. */
typedef struct arena_block {
    struct arena_block *next;
    size_t size;      /* bytes, header included */
    uint32_t free;
    uint32_t pad;
} arena_block;
extern char __HeapLimit[];
static arena_block *arena_first;

static void arena_init(void) {
    const size_t reserve = 4096; /* for newlib's own allocations */
    uintptr_t base = ((uintptr_t)sbrk(0) + 15) & ~(uintptr_t)15;
    uintptr_t limit = ((uintptr_t)__HeapLimit - reserve) & ~(uintptr_t)15;
    if (limit <= base + sizeof(arena_block) || sbrk((ptrdiff_t)(limit - (uintptr_t)sbrk(0))) == (void *)-1)
        return;
    arena_first = (arena_block *)base;
    arena_first->next = NULL;
    arena_first->size = limit - base;
    arena_first->free = 1;
}

static void *alloc_instance(size_t size, size_t align, void **raw) {
    (void)align; /* blocks are 16-byte aligned; instances need at most that on Arm */
    static int ready;
    if (!ready) { arena_init(); ready = 1; }
    size_t need = (size + sizeof(arena_block) + 15) & ~(size_t)15;
    for (arena_block *b = arena_first; b; b = b->next) {
        if (!b->free || b->size < need) continue;
        if (b->size - need >= 2 * sizeof(arena_block)) {
            arena_block *rest = (arena_block *)((char *)b + need);
            rest->next = b->next;
            rest->size = b->size - need;
            rest->free = 1;
            b->next = rest;
            b->size = need;
        }
        b->free = 0;
        memset(b + 1, 0, b->size - sizeof(arena_block));
        *raw = b + 1;
        return b + 1;
    }
    *raw = NULL;
    return NULL;
}

static void free_instance(void *p) {
    if (!p) return;
    ((arena_block *)p - 1)->free = 1;
    for (arena_block *b = arena_first; b && b->next;) {
        if (b->free && b->next->free) {
            b->size += b->next->size;
            b->next = b->next->next;
        } else {
            b = b->next;
        }
    }
}
#else
/* Host: calloc, not aligned_alloc + memset: an instance may hold a 4 GiB memory,
 * and calloc's fresh pages cost nothing until touched.  *raw is what to free. */
static void *alloc_instance(size_t size, size_t align, void **raw) {
    size_t extra = align > 8 ? align : 0;
    if (size > SIZE_MAX - extra - 1) return NULL;
    unsigned char *p = calloc(1, size + extra + 1);
    *raw = p;
    if (!p || !extra) return p;
    return (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

static void free_instance(void *p) { free(p); }
#endif
"""

_MAIN = r"""
int main(void) {
    for (const step_t *s = steps; s->op != OP_END; s++) {
        if (s->op == OP_INST) {
            instantiators[s->inst](s->id);
        } else if (s->op == OP_FREE) {
            free_instance(allocs[s->inst]);
            allocs[s->inst] = insts[s->inst] = NULL;
        } else if (!insts[s->inst]) {
            out_str("@"); out_dec(s->id); out_str(" noinst\n");
        } else {
            memset(res, 0, sizeof res);
            waft_trap_code code = waft_call_guarded(callers[s->fn], insts[s->inst],
                                                    (void *)&args[s->arg]);
            report(s->id, code, caller_results[s->fn]);
        }
    }
    out_str("@end\n");
    return 0;
}
"""


def _spectest(memories: dict[str, int]) -> str:
    """The spec's `spectest` module: print functions, globals, a table and its memories."""
    text = """/* ---- the spectest module ---- */
static void spectest_print(void) { out_str("spectest: print\\n"); }
static void spectest_print_i32(int32_t a) { out_str("spectest: print_i32 "); out_hex((uint32_t)a); out_str("\\n"); }
static void spectest_print_i64(int64_t a) { out_str("spectest: print_i64 "); out_hex((uint64_t)a); out_str("\\n"); }
static void spectest_print_f32(float a) { out_str("spectest: print_f32 "); out_hex(bits_f32(a)); out_str("\\n"); }
static void spectest_print_f64(double a) { out_str("spectest: print_f64 "); out_hex(bits_f64(a)); out_str("\\n"); }
static void spectest_print_i32_f32(int32_t a, float b) { spectest_print_i32(a); spectest_print_f32(b); }
static void spectest_print_f64_f64(double a, double b) { spectest_print_f64(a); spectest_print_f64(b); }
static int32_t spectest_global_i32 = 666;
static int64_t spectest_global_i64 = 666;
static float spectest_global_f32 = 666.6f;
static double spectest_global_f64 = 666.6;
static void *spectest_table_elems[20];
static waft_table spectest_table = {spectest_table_elems, 10, 20};
"""
    # Only a script that imports a memory pays for its RAM.  Both start at one page.
    for name, pages in sorted(memories.items()):
        text += f"""static uint8_t spectest_{name}_bytes[{pages} * 65536] __attribute__((aligned(16)));
static waft_memory spectest_{name} = {{spectest_{name}_bytes, 65536, 1, {pages}, 16}};
"""
    return text
