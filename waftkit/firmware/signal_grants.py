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
    tick=timer:0@on_tick the line bound to the module's export `on_tick` at build
                         time: on Cortex-M its vector calls the compiled function
                         directly (no table lookup), and the module may attach
                         only that export to it

On Cortex-M the board's target.toml says which lines exist ([interrupts]:
free device interrupts, spare vectors for software lines, timers); a grant
of anything else is refused here, before the firmware is built, and the
vectors of the granted lines are generated into the firmware
(`vectors_define`, runtime_c/wasi_p1/main/embed_ext.h).

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

# The line classes each kind of target's signals port provides (a Cortex-M
# board's own lines: its [interrupts] table, BoardLines).
_PORT_CLASSES = {"host": frozenset({CLASS_SIGNAL, CLASS_SOFT, CLASS_TIMER}),
                 "cortex-m": frozenset({CLASS_IRQ, CLASS_SIGNAL, CLASS_SOFT, CLASS_TIMER})}


class GrantError(ValueError):
    """A grant that cannot be given; the message is one line."""


@dataclass(frozen=True)
class Grant:
    name: str
    line: int
    export: str | None = None  # bound at build time: the only handler the line takes

    @property
    def line_class(self) -> int:
        return self.line >> 16

    def describe(self) -> str:
        return f"{self.name}={self.line:#010x}" + (f"@{self.export}" if self.export else "")


@dataclass(frozen=True)
class BoardLines:
    """A Cortex-M board's [interrupts] table in target.toml: what wasi-ext:signals lines it has."""

    irq_count: int          # external interrupts: the RAM vector table holds 16 + irq_count entries
    priority_bits: int      # NVIC priority bits the chip implements
    free: tuple[int, ...]   # device interrupts a module may be granted
    soft: tuple[int, ...]   # spare vectors: software line n is soft[n]
    timers: tuple[int, ...]  # timer line n interrupts on timers[n]

    @property
    def vtor_align(self) -> int:
        """VTOR wants the table aligned to its size rounded up to a power of two, at least 128 bytes."""
        size = 4 * (16 + self.irq_count)
        return max(128, 1 << (size - 1).bit_length())

    def irq_of(self, line: int) -> int | None:
        """The NVIC external interrupt of a device, software or timer line; None for a signal."""
        klass, number = line >> 16, line & 0xFFFF
        if klass == CLASS_IRQ:
            return number
        if klass == CLASS_SOFT:
            return self.soft[number]
        if klass == CLASS_TIMER:
            return self.timers[number]
        return None


def board_lines(target: Target) -> BoardLines | None:
    """`target`'s [interrupts] table, or None when it has none; GrantError for a malformed one."""
    table = target.extra.get("interrupts")
    if table is None:
        return None
    where = f"{target.directory / 'target.toml'}: [interrupts]"
    try:
        irq_count, bits = int(table["irq_count"]), int(table["priority_bits"])
        free = tuple(int(n) for n in table.get("free", ()))
        soft = tuple(int(n) for n in table.get("soft", ()))
        timers = tuple(int(t["irq"]) for t in table.get("timers", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise GrantError(f"{where} wants irq_count, priority_bits, free, soft and timers "
                         f"([{{name, irq}}]): {exc}") from None
    if not 2 <= bits <= 8 or any(not 0 <= n < irq_count for n in (*free, *soft, *timers)):
        raise GrantError(f"{where}: priority_bits must be 2..8 and every IRQ below irq_count ({irq_count})")
    if len(set(free + soft + timers)) != len(free) + len(soft) + len(timers):
        raise GrantError(f"{where}: an IRQ is listed twice among free, soft and timers")
    return BoardLines(irq_count, bits, free, soft, timers)


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
    """`NAME=SOURCE[@EXPORT]`, or a signal name alone (granted under that name)."""
    body, at, export = spec.partition("@")
    if at and not re.fullmatch(r"[^\s@]{1,255}", export):
        raise GrantError(f"--grant {spec}: '@' must be followed by the name of the module's handler export")
    name, sep, source = body.partition("=")
    if not sep:
        if _signal_number(body) is None:
            raise GrantError(f"--grant wants NAME=SOURCE (e.g. tick=timer:0) or a signal name, got '{spec}'")
        name, source = body.lower().removeprefix("sig"), body
    if not _NAME.match(name):
        raise GrantError(f"--grant {spec}: the name '{name}' must be 1-63 letters, digits, '_', '.' or '-'")
    return Grant(name, parse_line(source, spec), export if at else None)


def check_grants(grants: list[Grant], target: Target) -> list[Grant]:
    """The grants in line order (the runtime's slot order), or GrantError for the first bad one."""
    classes = _PORT_CLASSES.get(target.kind, frozenset())
    board = board_lines(target) if target.kind == "cortex-m" else None
    if target.kind == "cortex-m" and board is None:
        classes = frozenset()  # a board that describes no interrupts has no lines to give
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
        if board is not None:
            _check_board_line(g, board, target.name)
        if g.name in names:
            raise GrantError(f"--grant {g.describe()}: the name '{g.name}' is granted twice")
        if g.line in lines:
            raise GrantError(f"--grant {g.describe()}: line {g.line:#010x} is already granted as "
                             f"'{lines[g.line].name}'")
        names[g.name] = lines[g.line] = g
    return sorted(grants, key=lambda g: g.line)


def _check_board_line(g: Grant, board: BoardLines, board_name: str) -> None:
    klass, number = g.line_class, g.line & 0xFFFF
    if klass == CLASS_IRQ and number not in board.free:
        raise GrantError(f"--grant {g.describe()}: {board_name} has no free device interrupt {number} "
                         f"(free: {', '.join(map(str, board.free)) or 'none'}; target.toml [interrupts])")
    if klass == CLASS_SOFT and number >= len(board.soft):
        raise GrantError(f"--grant {g.describe()}: {board_name} has {len(board.soft)} software lines "
                         f"(soft:0..soft:{len(board.soft) - 1})")
    if klass == CLASS_TIMER and number >= len(board.timers):
        raise GrantError(f"--grant {g.describe()}: {board_name} has {len(board.timers)} timer lines "
                         f"(timer:0..timer:{len(board.timers) - 1})")
    if klass == CLASS_SIGNAL and g.export:
        raise GrantError(f"--grant {g.describe()}: a signal line has no vector to bind to an export")


def vectors_define(grants: list[Grant], board: BoardLines, export_symbols: dict[str, str],
                   stack_users: dict[str, bool] | None = None, maskers: dict[str, bool] | None = None) -> str:
    """WAFT_MAIN_SIGNAL_VECTORS for main/embed_ext.h: each slot's vector, in slot (line) order.

    `export_symbols` maps the module's handler exports to their C symbol
    suffixes; a grant bound to an export gets a direct-call vector, which
    moves the shadow-stack pointer past the red zone only when `stack_users`
    (aot/shadow_stack.py; None: the module has no shadow stack) says the
    export may use it, and saves and restores BASEPRI only when `maskers`
    (None: every export) says it may call set-mask.  Vectors of lines
    attached at run time always do both.
    """
    kinds = {CLASS_IRQ: "IRQ", CLASS_SOFT: "SOFT", CLASS_TIMER: "TIMER"}
    out = []
    for slot, g in enumerate(sorted(grants, key=lambda g: g.line)):
        irq = board.irq_of(g.line)
        if irq is None:
            out.append(f"S({g.line:#x}u)")
            continue
        timer = g.line & 0xFFFF if g.line_class == CLASS_TIMER else -1
        head = f"{slot},{g.line:#x}u,{irq},{timer},{kinds[g.line_class]}"
        if g.export:
            frame = int(bool(stack_users and stack_users.get(g.export)))
            mask = int(maskers is None or maskers.get(g.export, True))
            out.append(f"D({head},{export_symbols[g.export]},{frame},{mask})")
        else:
            out.append(f"V({head})")
    return " ".join(out)


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
