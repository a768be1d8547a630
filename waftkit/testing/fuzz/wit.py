"""WIT fuzzing: Waft's WIT front end (aot/wit) must take exactly the WIT that wasm-tools takes.

Inputs come from seeds: `wasm-tools wit-smith` builds a package set (as a
component), `wasm-tools component wit --out-dir` writes it as text — a main
package folder with its `deps/` — and half of the time one of its files is
then edited line by line (lines deleted, duplicated, swapped or truncated,
WIT words and punctuation inserted).  The oracle is `wasm-tools component
wit FOLDER` (parse and resolve); Waft answers with `load_wit(FOLDER)`.

| wasm-tools | Waft must |
| --- | --- |
| accepts | accept (a WitError saying the construct is not supported, such as preview 3's `async`, is `unsupported`) |
| rejects | reject with a WitError |

Anything else Waft raises is a `crash`; an error message over several lines
is `messy error`.  When both resolve a package, every world in it must
also have the same core face: Waft's dummy module (aot/wit/
dummy.py: the canonical ABI's core imports and exports, names, types and
order) against `wasm-tools component embed --dummy-names legacy`'s, or it is a
`signature mismatch`.  `KNOWN` lists disagreements already reported and tracked
by an xfail regression case: they are classed `known`, so a fixed-seed run
stays green until the owner fixes them (and the case starts passing).
`DELIBERATE` lists differences kept on purpose, where Waft follows WIT.md and
wasm-tools does not (docs/fuzzing.md), each with a regression case marked
"deliberate": they are classed `deliberate`.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from waftkit.testing.fuzz import generate, tools
from waftkit.testing.fuzz.reduce import ddmin

BUGS = ("crash", "rejected valid", "accepted invalid", "messy error", "signature mismatch")
KINDS = (*BUGS, "known", "deliberate", "unsupported", "agree")

# Disagreements already reported to the WIT front end's owner, each tracked by an xfail case in
# tests/fuzz/regressions/: (why, does this verdict show it? given wasm-tools' answer and Waft's).
# None now: the six found so far are fixed (their cases pass) or deliberate (below).
KNOWN: list[tuple[str, Callable[[str, str], bool]]] = []


def _gated_world_type(files: dict[str, str]) -> bool:
    """Whether a world of the package has a type or a `use` of its own gated @unstable (these
    runs enable no feature, so it is left out)."""
    from aot.errors import WitError
    from aot.wit import ast
    from aot.wit.parser import parse_file
    from aot.wit.source import SourceMap

    sources = SourceMap()
    for name, text in files.items():
        try:
            f = parse_file(sources.add(name, text), sources)
        except WitError:
            continue
        items = [*f.items, *(i for block in f.nested for i in block.items)]
        for world in (i for i in items if isinstance(i, ast.World)):
            if any(isinstance(w, (ast.TypeDef, ast.Use)) and w.gate.unstable for w in world.items):
                return True
    return False


# Differences kept on purpose (docs/fuzzing.md), each with a case marked "deliberate" in
# tests/fuzz/regressions/: (why, does this verdict show it? given wasm-tools' answer, Waft's and
# the package's files).
DELIBERATE: list[tuple[str, Callable[[str, str, dict[str, str]], bool]]] = [
    ("a world's own type or `use` gated @unstable with its feature off: WIT.md lets every world item "
     "be gated, and a gated-off item is left out, so Waft leaves it out; wasm-tools 1.262 refuses the "
     "package (\"found a reference to a type which is excluded due to its feature not being activated\") "
     "though nothing refers to the type, where the same type in an interface is simply left out",
     lambda ref, waft, files: ref.endswith("found a reference to a type which is excluded due to its feature "
                                           "not being activated") and waft == "accepted"
     and _gated_world_type(files)),
]

# Words and punctuation a line edit may insert.
_SNIPPETS = (
    "}", "{", ";", ",", ":", ".", "/", "@", "<", ">", "->", "=", "(", ")", "use", "func", "resource",
    "type", "record", "variant", "enum", "flags", "include", "import", "export", "world", "interface",
    "package", "own<x>", "borrow<x>", "list<u8, 4>", "option<", "result<u8>", "tuple<>",
    "@since(version = 1.0.0)", "@unstable(feature = f)", "@deprecated(version = 0.1.0)",
    "@external-id(\"hi\")", "constructor();", "static f: func();", "with { a as b }", "%use",
    "x: func() -> u8;", "type t = u8;", "async", "future<u8>", "stream", "a:b/c@1.0.0", "\"", "//", "/*",
)


@dataclass(frozen=True)
class WitInput:
    files: dict[str, str]  # path inside the package folder ("main.wit", "deps/io.wit") -> text
    origin: str

    def write(self, folder: Path) -> Path:
        for name, text in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return folder


@dataclass(frozen=True)
class WitVerdict:
    kind: str
    reference: str  # "valid" or wasm-tools' first error line
    waft: str  # "accepted" or "<exception>: <message>"

    @property
    def is_bug(self) -> bool:
        return self.kind in BUGS

    def __str__(self) -> str:
        return f"{self.kind}: wasm-tools says {self.reference}; Waft: {self.waft}"


def make_input(seed: int) -> WitInput | None:
    """The WIT package folder for `seed`, or None when wit-smith cannot use the seed."""
    r = generate.rng("wit", seed)
    size = r.choice((256, 1024, 4096))
    proc = subprocess.run([tools.wasm_tools(), "wit-smith", "-o", "/dev/stdout"],
                          input=generate.seed_bytes("wit-smith", seed, size), capture_output=True)
    if proc.returncode != 0:
        return None
    with tempfile.TemporaryDirectory(prefix="waft-wit.") as tmp:
        (Path(tmp) / "p.wasm").write_bytes(proc.stdout)
        out = subprocess.run([tools.wasm_tools(), "component", "wit", "p.wasm", "--out-dir", "wit"],
                             cwd=tmp, capture_output=True)
        if out.returncode != 0:
            return None
        root = Path(tmp) / "wit"
        files = {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.wit"))}
    if not files or r.random() < 0.5:
        return WitInput(files, "wit-smith")
    name = r.choice(sorted(files))
    return WitInput({**files, name: edit(files[name], r)}, f"wit-smith + edited {name}")


def edit(text: str, r) -> str:
    """One to three line-level edits of WIT text."""
    lines = text.splitlines()
    for _ in range(r.choice((1, 1, 2, 3))):
        if not lines:
            break
        at = r.randrange(len(lines))
        op = r.randrange(6)
        if op == 0:
            del lines[at]
        elif op == 1:
            lines.insert(at, lines[at])
        elif op == 2:
            other = r.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == 3:
            lines[at] = lines[at][:r.randrange(len(lines[at]) + 1)]
        else:
            words = lines[at].split(" ")
            words.insert(r.randrange(len(words) + 1), r.choice(_SNIPPETS))
            lines[at] = " ".join(words)
    return "\n".join(lines) + "\n"


def reference(folder: Path) -> str:
    """wasm-tools' answer for a package folder: "valid" or its first error line."""
    proc = subprocess.run([tools.wasm_tools(), "component", "wit", str(folder)], capture_output=True, text=True)
    if proc.returncode == 0:
        return "valid"
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    return lines[0] if lines else f"exit status {proc.returncode}"


def waft_answer(folder: Path) -> tuple[str, str]:
    """(kind, text): ("accepted", ""), ("error", WitError's message) or ("crash", anything else)."""
    from aot.errors import WitError
    from aot.wit import load_wit

    try:
        load_wit(folder)
    except WitError as exc:
        return "error", str(exc)
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        return "crash", f"{type(exc).__name__}: {exc}"
    return "accepted", ""


def core_face(wasm: bytes) -> tuple[list, list]:
    """[(module, name, type)] of a core module's imports and [(name, type or kind)] of its exports."""
    from aot.wasm.decode import decode_module

    m = decode_module(wasm)
    imports = [(i.module, i.name, str(m.types[i.desc])) for i in m.imports]
    exports = [(e.name, str(m.types[m.functions[e.index - len(m.imports)].type_index]) if e.kind == "func"
                else e.kind) for e in m.exports]
    return imports, exports


def world_specs(resolve, main) -> list[str]:
    """Every world of every package, as `--world` names it: `w` in the main package, else
    `ns:pkg/w@version`."""
    specs = []
    for pkg in resolve.packages:
        for name in pkg.worlds:
            if pkg is main:
                specs.append(name)
            else:
                version = f"@{pkg.name.version}" if pkg.name.version else ""
                specs.append(f"{pkg.name.namespace}:{pkg.name.name}/{name}{version}")
    return specs


def face_difference(folder: Path) -> str | None:
    """The first world whose core face differs from wasm-tools', described; None when all
    agree (worlds wasm-tools cannot embed are left out)."""
    from aot.wit import load_wit
    from aot.wit.dummy import dummy_module_bytes

    resolve, main = load_wit(folder)
    for spec in world_specs(resolve, main):
        out = folder.parent / "theirs.wasm"
        proc = subprocess.run([tools.wasm_tools(), "component", "embed", "--dummy-names", "legacy", str(folder),
                               "--world", spec, "-o", str(out)], capture_output=True)
        if proc.returncode != 0:
            continue
        theirs = core_face(out.read_bytes())
        ours = core_face(dummy_module_bytes(resolve.select_world(main, spec)))
        for what, a, b in (("imports", ours[0], theirs[0]), ("exports", ours[1], theirs[1])):
            if a != b:
                first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                mine = a[first] if first < len(a) else "(none)"
                their = b[first] if first < len(b) else "(none)"
                return f"world {spec}: core {what} differ at #{first}: Waft {mine}, wasm-tools {their}"
    return None


def judge(item: WitInput) -> WitVerdict:
    """Waft's answer for a package folder against wasm-tools', classed (see the table above)."""
    with tempfile.TemporaryDirectory(prefix="waft-wit.") as tmp:
        folder = item.write(Path(tmp) / "wit")
        ref = reference(folder)
        kind, text = waft_answer(folder)
        if ref == "valid" and kind == "accepted":
            try:
                difference = face_difference(folder)
            except Exception as exc:  # noqa: BLE001 - the canonical ABI or the dummy module broke
                return WitVerdict("crash", ref, f"crash: {type(exc).__name__}: {exc}")
            if difference is not None:
                return WitVerdict("signature mismatch", ref, difference)
    # Paths in messages name the temporary folder: keep them relative.
    text = text.replace(str(folder) + "/", "")
    waft = "accepted" if kind == "accepted" else f"{'WitError' if kind == 'error' else 'crash'}: {text}"
    if kind == "crash":
        verdict = "crash"
    elif kind == "error" and "\n" in text:
        verdict = "messy error"
    elif ref == "valid":
        verdict = "agree" if kind == "accepted" else \
            "unsupported" if "not supported" in text else "rejected valid"
    else:
        verdict = "accepted invalid" if kind == "accepted" else "agree"
    if verdict in BUGS and deliberate_reason(ref, waft, item.files) is not None:
        verdict = "deliberate"
    elif verdict in BUGS and known_reason(ref, waft) is not None:
        verdict = "known"
    return WitVerdict(verdict, ref, waft)


def known_reason(ref: str, waft: str) -> str | None:
    """Why a disagreement is already known (KNOWN), or None."""
    return next((why for why, shows in KNOWN if shows(ref, waft)), None)


def deliberate_reason(ref: str, waft: str, files: dict[str, str]) -> str | None:
    """Why a difference is kept on purpose (DELIBERATE), or None."""
    return next((why for why, shows in DELIBERATE if shows(ref, waft, files)), None)


def minimise(item: WitInput, want: str, *, budget: int = 300) -> WitInput:
    """The input with as many lines dropped (file by file, delta debugging) as keep its verdict
    `want` — for a known disagreement, the same known reason."""
    def verdict_of(candidate: WitInput) -> str:
        v = judge(candidate)
        return f"known: {known_reason(v.reference, v.waft)}" if v.kind == "known" else v.kind

    target = verdict_of(item) if want == "known" else want
    files = dict(item.files)
    for name in sorted(files):
        def interesting(lines: tuple[str, ...], name: str = name) -> bool:
            return verdict_of(WitInput({**files, name: "\n".join(lines) + "\n"}, item.origin)) == target

        lines = ddmin(tuple(files[name].splitlines()), interesting, budget=budget, keep=0)
        files[name] = "\n".join(lines) + "\n"
    # Files the finding does not need go too.
    for name in sorted(files):
        rest = {k: v for k, v in files.items() if k != name}
        if rest and verdict_of(WitInput(rest, item.origin)) == target:
            files = rest
    return WitInput(files, item.origin + " (minimised)")
