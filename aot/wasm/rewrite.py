"""Byte-level edits of an encoded module that leave every other byte as it was.

`sections` walks an encoded module's sections without decoding them; the
partition cache (aot/parallel.py) and the compile metric (bench/metrics/
compile_time.py) cut modules with it.

`export_memory`: wasm-ld 14 imports a shared memory for wasi-threads
(`--import-memory --shared-memory`) but has no `--export-memory`, while WASI
and `waft run` find the memory as the export "memory".  Re-encoding the whole
module would do, but rewriting the export section alone keeps the code, the
custom sections and their offsets untouched.  Used by the SCons tool
(site_scons/site_tools/waft_wasm.py) and the tests' threads builds
(waftkit/testing/wasi_threads.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from aot.wasm.decode import _read_u32
from aot.wasm.encode import uleb

_EXPORT_SECTION = 7
_MEMORY_KIND = 2


def sections(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """(id, start, body, end) of each section of an encoded module, in order: `data[start:end]` is
    the whole section, `data[body:end]` its contents.  DecodeError when a size is truncated."""
    pos = 8
    while pos < len(data):
        size, body = _read_u32(data, pos + 1, len(data))
        yield data[pos], pos, body, body + size
        pos = body + size


def export_memory(data: bytes, name: str = "memory") -> bytes:
    """`data` with memory 0 exported as `name`; unchanged when some memory is exported already.

    ValueError when the module has no export section (a command module
    always has one: it exports _start); DecodeError when it is truncated.
    """
    out = bytearray(data[:8])
    for section, start, body, end in sections(data):
        if section != _EXPORT_SECTION:
            out += data[start:end]
            continue
        count, first = _read_u32(data, body, end)
        cursor = first
        for _ in range(count):
            length, cursor = _read_u32(data, cursor, end)
            if data[cursor + length] == _MEMORY_KIND:
                return data
            _, cursor = _read_u32(data, cursor + length + 1, end)
        payload = (uleb(count + 1) + data[first:end] + uleb(len(name)) + name.encode()
                   + bytes([_MEMORY_KIND]) + uleb(0))
        return bytes(out + bytes([_EXPORT_SECTION]) + uleb(len(payload)) + payload + data[end:])
    raise ValueError("the module has no export section (a command module exports _start)")
