"""Grants of `wasi-ext:signals` lines: parse `NAME=SOURCE`, check them against a target, render them for C.

A module may use only the lines the firmware (or `waft run --grant`) grants
it, each under a name that `lookup` finds.  A grant is written the way an
embedded engineer names the source:

    usr1                 the POSIX/p1 signal usr1, granted under its own name
    stop=term            signal term (SIGTERM, sigterm and TERM work too) as "stop"
    tick=timer:0         timer line 0 (host: a POSIX timer on CLOCK_MONOTONIC)
    bell=soft:3          software line 3 (only `pend` raises it)
    adc=irq:18           device interrupt 18 (NVIC external interrupt 18; boards only)
    raw=0x0002000a       any line by number, as docs/wasi-ext.md lays them out

Grants are fixed when the program is built (the runtime keeps one static
slot per granted line), so they are part of the program's build options.
Mistakes are a GrantError whose text is one line naming the grant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aot.targets import Target
from waftkit import wasi

CLASS_IRQ, CLASS_SIGNAL, CLASS_SOFT, CLASS_TIMER = 0, 1, 2, 3
_CLASS_BY_WORD = {"irq": CLASS_IRQ, "soft": CLASS_SOFT, "timer": CLASS_TIMER}
_CLASS_NAMES = {CLASS_IRQ: "device interrupt", CLASS_SIGNAL: "signal", CLASS_SOFT: "software line",
                CLASS_TIMER: "timer"}
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")

# p1 signals that cannot be lines: uncatchable (kill, stop) or synchronous
# faults, whose handler cannot be deferred (returning re-runs the fault).
# runtime_c/signals/port_posix.c's POSIX_OF_P1 leaves the same ones out.
UNGRANTABLE_SIGNALS = frozenset({"none", "ill", "trap", "abrt", "bus", "fpe", "kill", "segv", "stop"})

# The line classes each kind of target's signals port provides.
_PORT_CLASSES = {"host": frozenset({CLASS_SIGNAL, CLASS_SOFT, CLASS_TIMER})}


class GrantError(ValueError):
    """A grant that cannot be given; the message is one line."""


@dataclass(frozen=True)
class Grant:
    name: str
    line: int

    @property
    def line_class(self) -> int:
        return self.line >> 16

    def describe(self) -> str:
        return f"{self.name}={self.line:#010x}"


def _signal_number(word: str) -> int | None:
    word = word.lower()
    word = word[3:] if word.startswith("sig") else word
    return wasi.SIGNAL.index(word) if word in wasi.SIGNAL else None


def parse_line(source: str, spec: str) -> int:
    """The line SOURCE names (see the module docstring); GrantError otherwise."""
    if re.fullmatch(r"0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10}", source):
        line = int(source, 0)
        if line > 0xFFFFFFFF:
            raise GrantError(f"--grant {spec}: line {source} does not fit in 32 bits")
        return line
    if ":" in source:
        word, _, number = source.partition(":")
        if word.lower() not in _CLASS_BY_WORD:
            raise GrantError(f"--grant {spec}: unknown source class '{word}' (irq:N, soft:N, timer:N or a signal)")
        if not re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", number) or int(number, 0) > 0xFFFF:
            raise GrantError(f"--grant {spec}: '{number}' is not a line number 0..65535")
        return (_CLASS_BY_WORD[word.lower()] << 16) | int(number, 0)
    signal = _signal_number(source)
    if signal is None:
        raise GrantError(f"--grant {spec}: unknown signal '{source}' (usr1, term, int, alrm...; "
                         "or timer:N, soft:N, irq:N)")
    return (CLASS_SIGNAL << 16) | signal


def parse_grant(spec: str) -> Grant:
    """`NAME=SOURCE`, or a signal name alone (granted under that name)."""
    name, sep, source = spec.partition("=")
    if not sep:
        if _signal_number(spec) is None:
            raise GrantError(f"--grant wants NAME=SOURCE (e.g. tick=timer:0) or a signal name, got '{spec}'")
        name, source = spec.lower().removeprefix("sig"), spec
    if not _NAME.match(name):
        raise GrantError(f"--grant {spec}: the name '{name}' must be 1-63 letters, digits, '_', '.' or '-'")
    return Grant(name, parse_line(source, spec))


def check_grants(grants: list[Grant], target: Target) -> list[Grant]:
    """The grants in line order (the runtime's slot order), or GrantError for the first bad one."""
    classes = _PORT_CLASSES.get(target.kind, frozenset())
    names: dict[str, Grant] = {}
    lines: dict[int, Grant] = {}
    for g in grants:
        if g.line_class > CLASS_TIMER:
            raise GrantError(f"--grant {g.describe()}: class {g.line_class:#06x} is reserved "
                             "(0 irq, 1 signal, 2 soft, 3 timer)")
        if g.line_class not in classes:
            offered = ", ".join(_CLASS_NAMES[c] + "s" for c in sorted(classes)) or "no lines yet"
            raise GrantError(f"--grant {g.describe()}: {target.name} has no {_CLASS_NAMES[g.line_class]} lines "
                             f"(it offers {offered})")
        if g.line_class == CLASS_SIGNAL:
            number = g.line & 0xFFFF
            if number >= len(wasi.SIGNAL):
                raise GrantError(f"--grant {g.describe()}: p1 has no signal {number}")
            if wasi.SIGNAL[number] in UNGRANTABLE_SIGNALS:
                raise GrantError(f"--grant {g.describe()}: signal {wasi.SIGNAL[number]} cannot be a line "
                                 "(it cannot be caught, or is a synchronous fault)")
        if g.name in names:
            raise GrantError(f"--grant {g.describe()}: the name '{g.name}' is granted twice")
        if g.line in lines:
            raise GrantError(f"--grant {g.describe()}: line {g.line:#010x} is already granted as "
                             f"'{lines[g.line].name}'")
        names[g.name] = lines[g.line] = g
    return sorted(grants, key=lambda g: g.line)


def c_string(text: str) -> str:
    """A C string literal for `text` (UTF-8; every byte that is not plainly safe as an octal escape)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        out.append(ch if (ch.isalnum() and byte < 0x80) or ch in "_.-:/@ " else f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def grants_define(grants: list[Grant]) -> str:
    """WAFT_MAIN_SIGNAL_GRANTS for main/embed_ext.h: G("name", line) ... in line order."""
    return " ".join(f"G({c_string(g.name)},{g.line:#x}u)" for g in sorted(grants, key=lambda g: g.line))
