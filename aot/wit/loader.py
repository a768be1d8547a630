"""Reading WIT from disk: a package folder (or one file) and its `deps/` -> a resolved `Resolve`.

The layout is wasm-tools' (WIT.md, "Filesystem structure"):

    wit/                 the main package: every *.wit file directly inside
        *.wit
        deps/            its dependencies, read in file-name order, never recursively:
            io/*.wit         a folder is one package (its own deps/ is not read)
            clocks.wit       a file is one package (plus any `package x { }` blocks in it)

A file may also carry whole packages inline as `package ns:name { ... }` blocks.
All files of one folder must agree on the package name, and at least one must
declare it (`package ns:name;`), even when the others hold only blocks: WIT.md
asks it of a root file, and wasm-tools of every package folder and file.  `extra_deps` adds dependency locations beyond `deps/`: a package
folder or file, or a folder of package folders (such as a checkout of the WASI
proposals side by side), from which the main package itself is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from aot.errors import WitError
from aot.wit import ast
from aot.wit.parser import parse_file
from aot.wit.resolve import PackageSource, resolve_packages
from aot.wit.source import SourceMap
from aot.wit.types import Package, Resolve


def load_wit(path: str | os.PathLike, *, extra_deps: Iterable[str | os.PathLike] = (),
             features: Iterable[str] = (), all_features: bool = False) -> tuple[Resolve, Package | None]:
    """Parse and resolve the package at `path` with its dependencies.

    Returns the `Resolve` and its main package.  `features` enables `@unstable(feature = ...)` items,
    `all_features` every one of them, as wasm-tools' `--features`/`--all-features` do.
    Every problem is a `WitError` naming file:line:column.
    """
    path = Path(path)
    if not path.exists():
        raise WitError(f"{path}: no such file or directory")
    sources = SourceMap()
    resolve = Resolve(sources, features=frozenset(features), all_features=all_features)
    main, packages = _read_group(path, sources)
    for dep in _dependency_paths(path, [Path(p) for p in extra_deps]):
        packages.extend(_read_group(dep, sources)[1])
    try:
        return resolve, resolve_packages(resolve, packages, main)
    except RecursionError:
        # Chains of definitions (type a = b; type b = c; ...) are resolved depth first.
        raise WitError(f"{path}: definitions refer to each other too deeply to resolve "
                       f"(a chain of hundreds of types or interfaces)") from None


def _dependency_paths(main: Path, extra: list[Path]) -> list[Path]:
    found: list[Path] = []
    if main.is_dir() and (main / "deps").is_dir():
        found += _entries(main / "deps", main)
    for dep in extra:
        if not dep.exists():
            raise WitError(f"{dep}: no such file or directory")
        if dep.is_dir() and not any(dep.glob("*.wit")):
            found += _entries(dep, main)
        elif not _same(dep, main):
            found.append(dep)
    return found


def _entries(folder: Path, main: Path) -> list[Path]:
    """The packages in a deps-style folder: sub-folders and *.wit files, by name."""
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if _same(entry, main):
            continue
        if entry.is_dir() or entry.suffix == ".wit":
            out.append(entry)
        elif entry.suffix in (".wasm", ".wat"):
            raise WitError(f"{entry}: WIT packages encoded as Wasm are not supported; use the .wit text")
    return out


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _read_group(path: Path, sources: SourceMap) -> tuple[PackageSource | None, list[PackageSource]]:
    """One folder's (or file's) packages: the root package of its files, and each nested block."""
    files = sorted(path.glob("*.wit"), key=lambda p: p.name) if path.is_dir() else [path]
    if not files:
        raise WitError(f"{path}: no .wit files in this folder")
    parsed: list[ast.File] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise WitError(f"{file}: not UTF-8 text (WIT files are UTF-8)") from None
        except OSError as exc:
            raise WitError(f"{file}: {exc.strerror}") from None
        parsed.append(parse_file(sources.add(str(file), text), sources))

    root: PackageSource | None = None
    for f in parsed:
        if f.package is None:
            continue
        if root is None:
            root = PackageSource(f.package, docs=f.package_docs)
        elif root.name.key() != f.package.key():
            where = sources.location(root.name.span)
            raise sources.error(f.package.span, f"package {f.package} differs from package {root.name} declared "
                                f"at {where[0]}:{where[1]}:{where[2]}: all files of a folder are one package")
        elif f.package_docs and not root.docs:
            root.docs = f.package_docs
    packages: list[PackageSource] = []
    for f in parsed:
        if f.items:
            if root is None:
                first = f.items[0]
                span = first.path.span if isinstance(first, ast.TopUse) else first.name.span
                raise sources.error(span, "no package declaration: one file of the package must start with "
                                    "`package namespace:name;` (or `package namespace:name@x.y.z;`)")
            root.scopes.append(f.items)
        for block in f.nested:
            packages.append(PackageSource(block.name, [block.items], block.docs))
    if root is None:
        message = ("no package declaration: one file of the package must start with `package namespace:name;` "
                   "(a `package ... { }` block is another package, not this one)")
        first = next((b.name.span for f in parsed for b in f.nested), None)
        raise sources.error(first, message) if first else WitError(f"{path}: {message}")
    packages.append(root)
    return root, packages
