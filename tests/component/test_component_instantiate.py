"""Static instantiation: the flat graph a runtime would build, checked on hand-written and adapter-built components."""

from __future__ import annotations

import pytest

from aot.component import decode_component, instantiate
from aot.component.errors import ComponentInvalidError
from aot.component.instantiate import CoreExportRef, ImportedItem, Lift, Lowering
from component_helpers import KITCHEN_WAT, p1_suite_programs, parse_wat, wrap


def test_kitchen_graph() -> None:
    graph = instantiate(decode_component(parse_wat(KITCHEN_WAT, "kitchen.wasm").read_bytes()))
    assert graph.describe() == [
        "core instance 0 = instantiate component > core module 0",
        'core instance 1 = {"id" = core instance 0 "id"}',
        'lowering 0 = canon lower import "host" "f" (memory=core instance 0 "mem")',
        'lift 0 = canon lift core instance 0 "id"',
        'export "g" (func) = lift 0',  # through two nested instances and an outer alias
        'export "rec" (type) = type RecordType',
    ]


def test_nested_component_instantiated_twice_gets_its_own_core_instances() -> None:
    wat = """(component
      (component $c
        (core module $m (global (export "g") i32 (i32.const 7)))
        (core instance $i (instantiate $m))
        (alias core export $i "g" (core global $g))
        (core instance $bag (export "g" (global $g))))
      (instance (instantiate $c))
      (instance (instantiate $c)))"""
    graph = instantiate(decode_component(parse_wat(wat, "twice.wasm").read_bytes()))
    modules = [n for n in graph.core_instances if n.module is not None]
    assert len(modules) == 2 and modules[0].module is modules[1].module
    assert graph.core_instances[1].exports == {"g": CoreExportRef(0, "g", "core global")}
    assert graph.core_instances[3].exports == {"g": CoreExportRef(2, "g", "core global")}


def test_adapter_built_component_graph() -> None:
    """Which core instance gets which import, and which memory/realloc each lowering uses."""
    program = next(p for p in p1_suite_programs() if p.name == "fd_write-to-stdout.wasm")
    graph = instantiate(decode_component(wrap(program).read_bytes()))
    main = next(n for n in graph.module_instances() if n.module.index == 0)
    provider = graph.core_instances[main.args["wasi_snapshot_preview1"]]
    assert set(provider.exports) == {"fd_write", "fd_write [v2]", "proc_exit"}  # the deduplicated imports
    adapter = next(n for n in graph.module_instances() if "__main_module__" in n.args)
    assert graph.core_instances[adapter.args["env"]].exports["memory"] == CoreExportRef(main.id, "memory",
                                                                                          "core memory")
    with_memory = [low for low in graph.lowerings if low.options.memory is not None]
    assert with_memory and all(low.options.memory == CoreExportRef(main.id, "memory", "core memory")
                               for low in with_memory)
    reallocs = {low.options.realloc for low in graph.lowerings if low.options.realloc is not None}
    assert reallocs == {CoreExportRef(adapter.id, "cabi_import_realloc", "core func")}
    assert all(isinstance(low, Lowering) and isinstance(low.func, ImportedItem) for low in graph.lowerings)
    sort, run = graph.exports["wasi:cli/run@0.2.3"]
    assert sort == "instance"
    _, lifted = run.exports["run"]
    assert isinstance(lifted, Lift) and lifted.core_func == CoreExportRef(adapter.id, "wasi:cli/run@0.2.3#run",
                                                                           "core func")


@pytest.mark.parametrize("wat, message", [
    ('(component (core module $m (import "a" "f" (func))) (core instance (instantiate $m)))',
     "imports from 'a' but no instance is given"),
    ('(component (core module $m) (core instance $i (instantiate $m)) (alias core export $i "x" (core func)))',
     "no core func export named 'x'"),
])
def test_broken_graphs_are_invalid(wat: str, message: str) -> None:
    data = parse_wat(wat, "invalid.wasm").read_bytes()
    with pytest.raises(ComponentInvalidError, match=message):
        instantiate(decode_component(data))
