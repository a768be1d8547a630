"""A core module's sections, imports and exports read straight from its bytes, and its import names rewritten.

Unwrapping needs to know what each embedded core module imports and exports
(to check the instantiation graph and to recognise the adapter) and, for the
module it recovers, to change import names and nothing else.  Both are done
here on the raw bytes without decoding function bodies: a full
`aot.wasm.decode.decode_module` of a large Rust program costs seconds, and
re-encoding the whole module would lose the guarantee that every byte but the
import section's is the original's.

Errors are `ComponentDecodeError`s with offsets in the *component* file
(`base` is where the module starts in it).
"""

from __future__ import annotations

from dataclasses import dataclass

from aot.errors import DecodeError
from aot.component.errors import ComponentDecodeError
from aot.wasm.decode import _read_u32
from aot.wasm.encode import uleb

EXTERN_KINDS = {0x00: "func", 0x01: "table", 0x02: "memory", 0x03: "global", 0x04: "tag"}


@dataclass(frozen=True)
class CoreImport:
    module: str
    name: str
    kind: str  # func | table | memory | global | tag
    desc: bytes  # the import's type description, exactly as encoded (kind byte excluded)


@dataclass(frozen=True)
class CoreExport:
    name: str
    kind: str
    index: int


@dataclass(frozen=True)
class ModuleInterface:
    imports: tuple[CoreImport, ...]
    exports: tuple[CoreExport, ...]

    def export(self, name: str) -> CoreExport | None:
        for export in self.exports:
            if export.name == name:
                return export
        return None

    def import_modules(self) -> list[str]:
        """The import module names, each once, in first-use order."""
        return list(dict.fromkeys(i.module for i in self.imports))


class _Cursor:
    def __init__(self, data: bytes, pos: int, end: int, base: int, what: str) -> None:
        self.data, self.pos, self.end, self.base, self.what = data, pos, end, base, what

    def error(self, message: str, pos: int | None = None) -> ComponentDecodeError:
        return ComponentDecodeError(f"{self.what}: {message}", section="core module",
                                    offset=self.base + (self.pos if pos is None else pos))

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.error("unexpected end")
        self.pos += 1
        return self.data[self.pos - 1]

    def u32(self) -> int:
        try:
            value, self.pos = _read_u32(self.data, self.pos, self.end)
        except DecodeError as exc:
            raise self.error(exc.message, exc.offset) from None
        return value

    def name(self) -> str:
        n = self.u32()
        if n > self.end - self.pos:
            raise self.error("name runs past the section end")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("malformed UTF-8 in a name", self.pos - n) from None

    def limits(self) -> None:
        flags = self.byte()
        read = self.u64 if flags & 0x04 else self.u32
        read()
        if flags & 0x01:
            read()
        if flags & 0x08:
            self.u32()

    def u64(self) -> int:
        result, shift = 0, 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise self.error("integer representation too long")


def sections(data: bytes, base: int = 0, what: str = "core module") -> list[tuple[int, int, int, int]]:
    """(id, section start, payload start, section end) of every section, in order."""
    if data[:8] != b"\0asm\x01\0\0\0":
        raise ComponentDecodeError(f"{what}: not a core module", section="core module", offset=base)
    out = []
    cursor = _Cursor(data, 8, len(data), base, what)
    while cursor.pos < len(data):
        start = cursor.pos
        section_id = cursor.byte()
        size = cursor.u32()
        if size > len(data) - cursor.pos:
            raise cursor.error(f"section {section_id} runs past the module's end", start)
        out.append((section_id, start, cursor.pos, cursor.pos + size))
        cursor.pos += size
    return out


def read_interface(data: bytes, base: int = 0, what: str = "core module") -> ModuleInterface:
    """The module's imports and exports (only those two sections are read)."""
    imports: list[CoreImport] = []
    exports: list[CoreExport] = []
    for section_id, _, start, end in sections(data, base, what):
        cursor = _Cursor(data, start, end, base, what)
        if section_id == 2:
            for _ in range(cursor.u32()):
                module, name = cursor.name(), cursor.name()
                kind_at = cursor.pos
                kind = cursor.byte()
                if kind not in EXTERN_KINDS:
                    raise cursor.error(f"unknown import kind 0x{kind:02x}", kind_at)
                desc_start = cursor.pos
                if kind in (0x00,):
                    cursor.u32()
                elif kind == 0x01:
                    cursor.byte()
                    cursor.limits()
                elif kind == 0x02:
                    cursor.limits()
                elif kind == 0x03:
                    cursor.byte()
                    cursor.byte()
                else:
                    cursor.byte()
                    cursor.u32()
                imports.append(CoreImport(module, name, EXTERN_KINDS[kind], data[desc_start:cursor.pos]))
        elif section_id == 7:
            for _ in range(cursor.u32()):
                name = cursor.name()
                kind_at = cursor.pos
                kind = cursor.byte()
                if kind not in EXTERN_KINDS:
                    raise cursor.error(f"unknown export kind 0x{kind:02x}", kind_at)
                exports.append(CoreExport(name, EXTERN_KINDS[kind], cursor.u32()))
        else:
            continue
        if cursor.pos != end:
            raise cursor.error("section size mismatch", cursor.pos)
    return ModuleInterface(tuple(imports), tuple(exports))


def rename_imports(data: bytes, new_names: dict[int, str]) -> bytes:
    """The module with import number i renamed to `new_names[i]`; every byte outside the import section kept."""
    if not new_names:
        return data
    interface = read_interface(data)
    import_section = [s for s in sections(data) if s[0] == 2]
    _, start, _, end = import_section[0]
    kind_bytes = {v: k for k, v in EXTERN_KINDS.items()}
    payload = bytearray(uleb(len(interface.imports)))
    for i, imp in enumerate(interface.imports):
        name = new_names.get(i, imp.name).encode("utf-8")
        module = imp.module.encode("utf-8")
        payload += uleb(len(module)) + module + uleb(len(name)) + name + bytes([kind_bytes[imp.kind]]) + imp.desc
    return data[:start] + b"\x02" + uleb(len(payload)) + bytes(payload) + data[end:]
