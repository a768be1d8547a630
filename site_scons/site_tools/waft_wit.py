"""SCons tool waft_wit: C bindings for a WIT world (`waft bindgen`) as a build step.

    guest = env.WitGuestBindings('firmware_rt', '$WAFT_WASI_EXT/profiles', 'firmware-rt')
    env.WasmProgram('app.wasm', ['app.c', guest[1]], WASM_CPPPATH=[guest[0].dir])

writes `firmware_rt.h` and `firmware_rt.c` (the guest side: the world's imports
declared with their `import_module`/`import_name` and called through the
canonical ABI, docs/bindgen.md) in the current (variant) directory, and
returns those two nodes.  They depend on every `.wit` file the WIT path can
reach (its `deps/` included) and on bindgen's own sources, so a changed
interface or generator regenerates them, and nothing else does.

Construction variables:
    WAFT_WASI_EXT  the folder of Waft's WIT packages (`wasi_ext/` of the
                   checkout or the wheel), for WIT paths of the profiles
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import SCons.Action

REPO_ROOT = Path(__file__).resolve().parents[2]


def _wit():
    if (REPO_ROOT / "aot").is_dir() and str(REPO_ROOT) not in sys.path:  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    import aot.package_data
    import aot.wit
    import aot.wit.bindgen

    return aot.package_data, aot.wit, aot.wit.bindgen


def _wit_files(root: Path) -> list[Path]:
    """Every .wit file under `root`, following deps/ symlinks (each real folder once: no loops)."""
    found: list[Path] = []
    seen: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        found += [Path(folder) / f for f in files if f.endswith(".wit")]
    return sorted(found)


def _generate_guest(target, source, env):
    """Action: the guest bindings of $WIT_WORLD at $WIT_PATH into target[0] (.h) and target[1] (.c)."""
    _, wit, bindgen = _wit()
    try:
        resolve, main = wit.load_wit(Path(env.subst("$WIT_PATH")))
        world = resolve.select_world(main, env["WIT_WORLD"])
        files = bindgen.generate_bindings(resolve, world, name=env["WIT_NAME"]).guest
    except wit.WitError as exc:
        sys.stderr.write(f"waft: error: bindgen {env.subst('$WIT_PATH')} -w {env['WIT_WORLD']}: {exc}\n")
        return 1
    for node in target:
        Path(str(node)).write_text(files[Path(str(node)).name])
    return 0


_GUEST_ACTION = SCons.Action.Action(_generate_guest, "$WIT_BINDGENCOMSTR",
                                    varlist=["WIT_PATH", "WIT_WORLD", "WIT_NAME"])


def _wit_guest_bindings(env, name: str, wit_path: str, world: str):
    """[NAME.h, NAME.c]: the guest bindings of `world` (a world name in the package at `wit_path`)."""
    _, _, bindgen = _wit()
    path = Path(env.subst(wit_path))
    if not path.is_absolute():
        path = Path(env.Dir("#").abspath) / path
    generator = [env.File(str(p)) for p in sorted(Path(bindgen.__file__).parent.rglob("*.py"))]
    nodes = env.Command([f"{name}.h", f"{name}.c"], [env.File(str(p)) for p in _wit_files(path)],
                        _GUEST_ACTION, WIT_PATH=str(path), WIT_WORLD=world, WIT_NAME=name)
    env.Depends(nodes, generator)
    return nodes


def generate(env) -> None:
    package_data, _, _ = _wit()
    env.SetDefault(WAFT_WASI_EXT=str(package_data.WASI_EXT_DIR),
                   WIT_BINDGENCOMSTR="waft bindgen $WIT_PATH -w $WIT_WORLD --guest ${TARGET.dir}")
    env.AddMethod(_wit_guest_bindings, "WitGuestBindings")


def exists(env) -> bool:
    try:
        _wit()
    except ImportError:
        return False
    return True
