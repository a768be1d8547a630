"""Turn compiled modules into programs: the runtime library, the link, the size check, WASI firmware.

Input: module objects and headers from `aot`, the C runtime (`runtime_c/`)
and a board's glue (`targets/<name>/`).  Output: a host executable or a board
ELF (plus .bin/.hex/.map from SCons) that fits the board's memory map.
"""
