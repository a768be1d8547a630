"""SCons tool waft: everything needed to turn Wasm modules into firmware for one target.

Loading it is enough for a project:

    env = Environment(tools=['default', 'waft'], toolpath=['<waft>/site_scons/site_tools'],
                      WAFT_TARGET='stm32f4')
    hello = env.WaftFirmware('hello', ['main.c', 'hello.wasm'])

It loads, in order: waft_target (the board's compiler, flags and memory map),
waft_wasm (Wasm from C and WAT), waft_aot (.wasm -> .o + .h), waft_runtime (the
C runtime, built per target), waft_firmware (link, .bin/.hex/.map, size
check, and the run/test/size aliases), waft_wasi (WASI command modules) and
waft_wit (guest C bindings of a WIT world, `waft bindgen`) and waft_bsp (a
`waft bsp` drop-in for a vendor's own build).
"""

from __future__ import annotations

TOOLS = ("waft_target", "waft_wasm", "waft_aot", "waft_runtime", "waft_firmware", "waft_wasi", "waft_wit",
         "waft_bsp")


def generate(env) -> None:
    for tool in TOOLS:
        env.Tool(tool)


def exists(env) -> bool:
    import os

    import SCons.Tool

    here = os.path.dirname(os.path.abspath(__file__))
    return all(SCons.Tool.Tool(tool, toolpath=[here]).exists(env) for tool in TOOLS)
