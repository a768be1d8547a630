"""The WASI extensions as data: every function of wasi_ext/'s WIT as a core import, and which a target provides.

p1 is written in witx, so waftkit/wasi.py restates it by hand.  The extensions
are written in WIT (wasi_ext/, docs/wasi-ext.md), so nothing of them is
restated here: `aot.wit` resolves the shipped packages and names and types
every function by the canonical ABI (`core_imports`).  This module adds what
the WIT cannot say:

- `catalogue()`: (module, name) -> `CoreImport` for every function of every
  world of the shipped packages (`firmware-net` and `wasi-threads` between them
  hold all), the table `waft check` and `waft run`'s import check read beside
  p1's;
- `load_world(spec)`: the world `waft check --world` names (a path, a path and
  a world, `ns:pkg/world`, or a profile's name);
- `target_provides(target)`: the extension functions a target's runtime
  implements, from the `[wasi_ext]` table of its target.toml.

Availability lives in target.toml because it differs per board, not per port:
sockets need a network interface (mps2-an386's LAN9118 under QEMU) that
stm32f4 lacks though both run the bare-metal port.  The table is keyed by
core import module (the interface ID, or `wasi` for wasi-threads' import),
each with `"all"` or the list of functions implemented so far:

    [wasi_ext]
    "wasi-ext:threads/threads@0.1.0" = "all"
    "wasi-ext:signals/signals@0.1.0" = ["pend", "clear"]

No target has the table today: every extension function is declared in WIT
and provided by none.  An entry naming no shipped function is a TargetError,
so a typo cannot quietly switch a function off.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from aot.errors import TargetError, WitError
from aot.package_data import WASI_EXT_DIR
from aot.targets import Target
from aot.wit import CoreImport, Package, Resolve, World, core_imports, load_wit

# The package whose deps/ reach every other one, and whose worlds are the profiles.
PROFILES = "profiles"
PROFILE_ORDER = ("firmware-minimal", "firmware-rt", "firmware-net")  # each includes the one before
TABLE = "wasi_ext"  # the target.toml table
ALL = "all"

_QUALIFIED = re.compile(r"^[a-z0-9-]+:[a-z0-9-]+(?::[a-z0-9-]+)*/[a-z0-9-]+(?:@[0-9A-Za-z.+-]+)?$")
_PLAIN = re.compile(r"^[a-z][a-z0-9-]*$")

Key = tuple[str, str]  # (core import module, core import name)


class WorldNotFound(ValueError):
    """A `--world` that names no world: bad usage, where bad WIT (`WitError`) is bad input."""


@cache
def shipped() -> tuple[Resolve, Package]:
    """The shipped packages, resolved once: (resolve, the profiles package)."""
    return load_wit(WASI_EXT_DIR / PROFILES)


@cache
def catalogue() -> dict[Key, CoreImport]:
    """Every core import a world of the shipped packages declares, in world order."""
    resolve, _ = shipped()
    table: dict[Key, CoreImport] = {}
    for world in resolve.worlds:
        for imp in core_imports(world):
            table.setdefault((imp.module, imp.name), imp)
    return table


def world_imports(world: World) -> dict[Key, CoreImport]:
    """The core imports of `world`, keyed like `catalogue()`."""
    return {(imp.module, imp.name): imp for imp in core_imports(world)}


def profiles() -> list[World]:
    """The profile worlds, smallest first."""
    _, main = shipped()
    return [main.worlds[name] for name in PROFILE_ORDER]


def smallest_profile_with(key: Key) -> World | None:
    """The first profile whose imports include `key`, None when no profile has it."""
    return next((w for w in profiles() if key in world_imports(w)), None)


def load_world(spec: str) -> World:
    """The world `waft check --world SPEC` names.

    SPEC is one of
      PATH          a package folder (with its deps/) or .wit file that has exactly one world;
      PATH:WORLD    a world of the package at PATH: `name` or `ns:pkg/name[@version]`;
      ns:pkg/name[@version]   a world of the shipped packages (`wasi-ext:profiles/firmware-rt`);
      name          a profile (`firmware-rt`).
    A PATH that does not exist but starts with `wasi_ext/` means the shipped copy, so the
    checkout's spelling works from an installed wheel too.  Raises WitError when the WIT
    does not parse or resolve, WorldNotFound when SPEC names no world.
    """
    path, world_spec = _split(spec)
    if path is not None:
        resolve, main = load_wit(path)
        if world_spec is None and main is not None and len(main.worlds) > 1:
            raise WorldNotFound(f"--world {spec}: package {main.name} has {len(main.worlds)} worlds "
                                f"({', '.join(main.worlds)}): name one as {spec}:WORLD")
        return _select(resolve, main, world_spec, spec)
    resolve, main = shipped()
    if _QUALIFIED.match(spec):
        return _select(resolve, main, spec, spec)
    if _PLAIN.match(spec):
        if spec not in main.worlds:
            raise WorldNotFound(f"--world {spec}: no such profile (profiles: {', '.join(main.worlds)}); "
                                "name another world as PATH:WORLD or ns:pkg/world")
        return main.worlds[spec]
    raise WorldNotFound(f"--world {spec}: no such file or folder, and not a world name "
                        "(PATH, PATH:WORLD, ns:pkg/world or a profile such as firmware-rt)")


def _split(spec: str) -> tuple[Path | None, str | None]:
    """(package path, world spec or None), or (None, None) when SPEC names no existing path."""
    found = _existing(spec)
    if found is not None:
        return found, None
    for i, ch in enumerate(spec):
        if ch == ":" and i:
            found = _existing(spec[:i])
            if found is not None:
                return found, spec[i + 1:] or None
    return None, None


def _existing(text: str) -> Path | None:
    path = Path(text)
    if path.exists():
        return path
    parts = path.parts
    if len(parts) > 1 and parts[0] == WASI_EXT_DIR.name and (WASI_EXT_DIR.joinpath(*parts[1:])).exists():
        return WASI_EXT_DIR.joinpath(*parts[1:])
    return None


def _select(resolve: Resolve, main: Package | None, world_spec: str | None, spec: str) -> World:
    try:
        return resolve.select_world(main, world_spec)
    except WitError as exc:
        message = exc.message if exc.message.startswith("--world") else f"--world {spec}: {exc.message}"
        raise WorldNotFound(message) from None


def target_provides(target: Target) -> dict[Key, CoreImport]:
    """The extension functions `target`'s runtime implements: its target.toml's [wasi_ext] table."""
    table = target.extra.get(TABLE, {})
    where = f"{target.directory / 'target.toml'}: [{TABLE}]"
    if not isinstance(table, dict):
        raise TargetError(f"{where} must be a table of interface = \"{ALL}\" or a list of functions")
    if not table:
        return {}
    by_module: dict[str, dict[str, CoreImport]] = {}
    for (module, name), imp in catalogue().items():
        by_module.setdefault(module, {})[name] = imp
    provided: dict[Key, CoreImport] = {}
    for module, names in table.items():
        functions = by_module.get(module)
        if functions is None:
            raise TargetError(f"{where}: `{module}` is no interface of wasi_ext/ "
                              f"(known: {', '.join(by_module)})")
        if names == ALL:
            names = list(functions)
        elif not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise TargetError(f"{where}: `{module}` wants \"{ALL}\" or a list of function names")
        for name in names:
            if name not in functions:
                raise TargetError(f"{where}: `{module}` has no function `{name}` "
                                  f"(its functions: {', '.join(functions)})")
            provided[(module, name)] = functions[name]
    return provided
