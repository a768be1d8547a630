"""The one walker over flat lowering and lifting: C values <-> the core values of a signature.

`lower(t, expr)` turns the C value `expr` of WIT type `t` into the C
expressions of its flat core values (CanonicalABI.md `lower_flat`), emitting
whatever statements that takes; `lift(t, flat, dest)` is the inverse
(`lift_flat`), assigning to the C lvalue `dest`.  Records, tuples and fixed
lists are taken apart field by field; variants, options, results and enums
become a switch that fills the variant's joined slots (`join`: an f32 payload
in an i32 slot travels as its bits, an i32 in an i64 slot zero-extended...),
exactly as the spec's `lower_flat_variant`/`lift_flat_variant` do.

What differs between the guest (C compiled to wasm32, where a string is a
pointer into its own memory) and the host (native C, where it is an offset
into the guest's memory that must be checked) are the leaves: strings, lists,
handles, `char` and what an impossible discriminant does.  Those are the
`FlatLeaves` methods each side implements.
"""

from __future__ import annotations

from aot.wit.bindgen.cwriter import Block
from aot.wit.bindgen.names import CORE_C, CNames, c_ident
from aot.wit.canonical_abi import CanonicalAbi
from aot.wit.types import (
    Alias, Borrow, Enum_, FixedList, Flags, List, Map, Option_, Own, Primitive, Record, Result_, Tuple, Type,
    TypeDef, Variant,
)

_LIFT_CAST = {
    Primitive.U8: "uint8_t", Primitive.S8: "int8_t", Primitive.U16: "uint16_t", Primitive.S16: "int16_t",
    Primitive.U32: "uint32_t", Primitive.S32: "int32_t", Primitive.U64: "uint64_t", Primitive.S64: "int64_t",
}


class FlatLeaves:
    """The side-specific leaves of the walk.  `dest` is a C lvalue; flat values are C expressions."""

    def lower_string(self, out: Block, expr: str) -> list[str]:
        raise NotImplementedError

    def lower_list(self, out: Block, td: TypeDef, expr: str) -> list[str]:
        raise NotImplementedError

    def lower_handle(self, out: Block, td: TypeDef, expr: str) -> str:
        raise NotImplementedError

    def lift_string(self, out: Block, ptr: str, length: str, dest: str) -> None:
        raise NotImplementedError

    def lift_list(self, out: Block, td: TypeDef, ptr: str, length: str, dest: str) -> None:
        raise NotImplementedError

    def lift_handle(self, out: Block, td: TypeDef, value: str, dest: str) -> None:
        raise NotImplementedError

    def lift_char(self, out: Block, value: str, dest: str) -> None:
        raise NotImplementedError

    def check_case(self, out: Block, value: str, count: int) -> None:
        """Refuse an enum value `value` >= `count` (the host traps; the guest trusts its host)."""

    def impossible(self, out: Block) -> None:
        """The `default:` of a switch over a discriminant that has no such case."""
        raise NotImplementedError


class FlatWalker:
    def __init__(self, names: CNames, abi: CanonicalAbi, leaves: FlatLeaves, export: bool) -> None:
        self.names = names
        self.abi = abi
        self.leaves = leaves
        self.export = export  # which side's C types: the world's exports, or its imports
        self.w = names.name

    # --- lowering: C value -> flat values ----------------------------------------------------

    def lower(self, out: Block, t: Type, expr: str) -> list[str]:
        if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.resolved()
        if isinstance(t, Primitive):
            if t is Primitive.STRING:
                return self.leaves.lower_string(out, expr)
            core = CORE_C[self.abi.flatten_type(t)[0]]
            return [expr if core in ("float", "double") else f"({core})({expr})"]
        k = t.kind
        if isinstance(k, Record):
            return [v for f in k.fields for v in self.lower(out, f.type, f"{expr}.{c_ident(f.name)}")]
        if isinstance(k, Tuple):
            return [v for i, e in enumerate(k.types) for v in self.lower(out, e, f"{expr}.f{i}")]
        if isinstance(k, FixedList):
            return [v for i in range(k.length) for v in self.lower(out, k.element, f"{expr}.elems[{i}]")]
        if isinstance(k, (List, Map)):
            return self.leaves.lower_list(out, t, expr)
        if isinstance(k, (Flags, Enum_)):
            return [f"(int32_t)({expr})"]
        if isinstance(k, (Own, Borrow)):
            return [self.leaves.lower_handle(out, t, expr)]
        if isinstance(k, Variant):
            cases = [(c.type, f"{expr}.val.{c_ident(c.name)}" if c.type is not None else None) for c in k.cases]
            return self._lower_variant(out, t, f"{expr}.tag", cases, boolean=False)
        if isinstance(k, Option_):
            return self._lower_variant(out, t, f"{expr}.is_some", [(None, None), (k.type, f"{expr}.val")], True)
        if isinstance(k, Result_):
            cases = [(k.ok, f"{expr}.val.ok"), (k.err, f"{expr}.val.err")]
            return self._lower_variant(out, t, f"{expr}.is_err", cases, boolean=True)
        raise AssertionError(f"no flat lowering for {t!r}")

    def _lower_variant(self, out: Block, td: TypeDef, tag: str, cases: list[tuple[Type | None, str | None]],
                       boolean: bool) -> list[str]:
        slots = self.abi.flatten_type(td)
        temps = [out.temp() for _ in slots]
        for temp, core in zip(temps, slots):
            out.line(f"{CORE_C[core]} {temp} = 0;")

        def case_body(index: int, payload: Type | None, expr: str | None) -> None:
            out.line(f"{temps[0]} = {index};")
            if payload is None:
                return
            values = self.lower(out, payload, expr)
            for j, (value, have) in enumerate(zip(values, self.abi.flatten_type(payload))):
                out.line(f"{temps[1 + j]} = {self._widen(have, slots[1 + j], value)};")

        if boolean:  # option and result: a bool tag, so an if (a switch on a bool draws -Wswitch-bool)
            with out.braces(f"if ({tag})"):
                case_body(1, *cases[1])
            with out.braces("else"):
                case_body(0, *cases[0])
            return temps
        with out.braces(f"switch ({tag})"):
            for i, (payload, expr) in enumerate(cases):
                with out.braces(f"case {i}:"):
                    case_body(i, payload, expr)
                    out.line("break;")
            out.line("default:")
            out.indent += 1
            self.leaves.impossible(out)
            out.indent -= 1
        return temps

    def _widen(self, have: str, want: str, value: str) -> str:
        """A payload value of core type `have` in a variant slot of type `want` (lower_flat_variant)."""
        w = self.w
        if have == want:
            return value
        if (have, want) == ("f32", "i32"):
            return f"{w}__f32_bits({value})"
        if (have, want) == ("i32", "i64"):
            return f"(int64_t)(uint32_t)({value})"
        if (have, want) == ("f32", "i64"):
            return f"(int64_t)(uint32_t){w}__f32_bits({value})"
        if (have, want) == ("f64", "i64"):
            return f"{w}__f64_bits({value})"
        raise AssertionError(f"no join from {have} to {want}")

    # --- lifting: flat values -> C value -----------------------------------------------------

    def lift(self, out: Block, t: Type, flat: list[str], dest: str) -> None:
        if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.resolved()
        if isinstance(t, Primitive):
            self._lift_primitive(out, t, flat, dest)
            return
        k = t.kind
        if isinstance(k, Record):
            self._lift_fields(out, [(f.type, f"{dest}.{c_ident(f.name)}") for f in k.fields], flat)
        elif isinstance(k, Tuple):
            self._lift_fields(out, [(e, f"{dest}.f{i}") for i, e in enumerate(k.types)], flat)
        elif isinstance(k, FixedList):
            self._lift_fields(out, [(k.element, f"{dest}.elems[{i}]") for i in range(k.length)], flat)
        elif isinstance(k, (List, Map)):
            self.leaves.lift_list(out, t, flat[0], flat[1], dest)
        elif isinstance(k, Flags):
            mask = (1 << len(k.flags)) - 1
            out.line(f"{dest} = ({self.names.ctype(t, self.export)})((uint32_t)({flat[0]}) & {mask}U);")
        elif isinstance(k, Enum_):
            self.leaves.check_case(out, flat[0], len(k.cases))
            out.line(f"{dest} = ({self.names.ctype(t, self.export)})({flat[0]});")
        elif isinstance(k, (Own, Borrow)):
            self.leaves.lift_handle(out, t, flat[0], dest)
        elif isinstance(k, Variant):
            cases = [(c.type, f"{dest}.val.{c_ident(c.name)}" if c.type is not None else None) for c in k.cases]
            self._lift_variant(out, t, flat, [f"{dest}.tag = {i};" for i in range(len(cases))], cases)
        elif isinstance(k, Option_):
            self._lift_variant(out, t, flat, [f"{dest}.is_some = false;", f"{dest}.is_some = true;"],
                               [(None, None), (k.type, f"{dest}.val")])
        elif isinstance(k, Result_):
            self._lift_variant(out, t, flat, [f"{dest}.is_err = false;", f"{dest}.is_err = true;"],
                               [(k.ok, f"{dest}.val.ok"), (k.err, f"{dest}.val.err")])
        else:
            raise AssertionError(f"no flat lifting for {t!r}")

    def _lift_primitive(self, out: Block, t: Primitive, flat: list[str], dest: str) -> None:
        if t is Primitive.STRING:
            self.leaves.lift_string(out, flat[0], flat[1], dest)
        elif t is Primitive.CHAR:
            self.leaves.lift_char(out, flat[0], dest)
        elif t is Primitive.BOOL:
            out.line(f"{dest} = ({flat[0]}) != 0;")
        elif t in _LIFT_CAST:
            out.line(f"{dest} = ({_LIFT_CAST[t]})({flat[0]});")
        else:
            out.line(f"{dest} = {flat[0]};")

    def _lift_fields(self, out: Block, fields: list[tuple[Type, str]], flat: list[str]) -> None:
        at = 0
        for t, dest in fields:
            n = len(self.abi.flatten_type(t))
            self.lift(out, t, flat[at:at + n], dest)
            at += n

    def _lift_variant(self, out: Block, td: TypeDef, flat: list[str], set_tag: list[str],
                      cases: list[tuple[Type | None, str | None]]) -> None:
        slots = self.abi.flatten_type(td)
        with out.braces(f"switch ((uint32_t)({flat[0]}))"):
            for i, (payload, dest) in enumerate(cases):
                with out.braces(f"case {i}:"):
                    out.line(set_tag[i])
                    if payload is not None:
                        wants = self.abi.flatten_type(payload)
                        values = [self._narrow(slots[1 + j], want, flat[1 + j]) for j, want in enumerate(wants)]
                        self.lift(out, payload, values, dest)
                    out.line("break;")
            out.line("default:")
            out.indent += 1
            self.leaves.impossible(out)
            out.indent -= 1

    def _narrow(self, have: str, want: str, value: str) -> str:
        """A variant slot of core type `have` read as a payload value of type `want` (lift_flat_variant)."""
        w = self.w
        if have == want:
            return value
        if (have, want) == ("i32", "f32"):
            return f"{w}__bits_f32({value})"
        if (have, want) == ("i64", "i32"):
            return f"(int32_t)({value})"
        if (have, want) == ("i64", "f32"):
            return f"{w}__bits_f32((int32_t)({value}))"
        if (have, want) == ("i64", "f64"):
            return f"{w}__bits_f64({value})"
        raise AssertionError(f"no join from {have} to {want}")


def bit_helpers(w: str) -> str:
    """The static inline reinterpretations `_widen`/`_narrow` call (f32.reinterpret_i32 and friends)."""
    return f"""\
static inline __attribute__((__unused__)) int32_t {w}__f32_bits(float f) {{ int32_t i; memcpy(&i, &f, sizeof i); return i; }}
static inline __attribute__((__unused__)) int64_t {w}__f64_bits(double f) {{ int64_t i; memcpy(&i, &f, sizeof i); return i; }}
static inline __attribute__((__unused__)) float {w}__bits_f32(int32_t i) {{ float f; memcpy(&f, &i, sizeof f); return f; }}
static inline __attribute__((__unused__)) double {w}__bits_f64(int64_t i) {{ double f; memcpy(&f, &i, sizeof f); return f; }}
"""
