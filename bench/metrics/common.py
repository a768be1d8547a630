"""The shapes every metric group shares: how it is asked to run, and the rows it answers with.

A group module (bench/metrics/<group>.py) has `TITLE` and
`measure(target, ctx: RunContext) -> GroupResult`; bench/metrics/__init__.py
runs the groups and renders every GroupResult the same way, so a new group
(call overhead, WASI cost, start-up, footprint, interrupts) only measures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path


class MetricError(Exception):
    """A metric could not be measured: a build or a run failed, or its output was not understood."""


@dataclass(frozen=True)
class RunContext:
    """How to run: where board programs go, how many repetitions, where to build."""

    work: Path
    runner: str = "qemu"            # boards: "qemu" (instruction-counted) or "pyocd"
    probe: str | None = None        # pyOCD probe unique id
    repetitions: int = 10000        # operations averaged per figure
    periods: int = 1000             # releases of a periodic loop


@dataclass
class Stat:
    """A figure: a mean, with min/max/p99 (and how many samples) where a distribution exists."""

    mean: float
    min: float | None = None
    max: float | None = None
    count: int | None = None
    p99: float | None = None

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        """min/mean/max/p99 of samples (p99: the nearest rank, so a sample that happened)."""
        if not values:
            raise MetricError("no samples to summarise")
        ordered = sorted(values)
        rank = max(0, -(-99 * len(ordered) // 100) - 1)
        # fsum, then clamped: equal samples must give a mean equal to them, not 1 ulp below the min.
        mean = min(max(math.fsum(ordered) / len(ordered), ordered[0]), ordered[-1])
        return cls(mean=mean, min=ordered[0], max=ordered[-1], count=len(ordered),
                   p99=ordered[rank])

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Row:
    """One figure, native C against Waft, with the goal it is held to (reported, never asserted)."""

    key: str
    label: str
    unit: str
    native: Stat | None
    waft: Stat | None
    goal: str | None = None         # in words, e.g. "<= 150 instructions (Cortex-M4)"
    limit: float | None = None      # the goal as an upper bound in `unit`
    peers: dict[str, Stat] = field(default_factory=dict)  # other runtimes' figures (wasmtime, wasm3), same unit

    def ratio(self) -> float | None:
        if self.native is None or self.waft is None or self.native.mean <= 0:
            return None
        return self.waft.mean / self.native.mean

    def difference(self) -> float | None:
        if self.native is None or self.waft is None:
            return None
        return self.waft.mean - self.native.mean

    def met(self, stat: Stat | None) -> bool | None:
        if self.limit is None or stat is None:
            return None
        return stat.mean <= self.limit

    def as_dict(self) -> dict:
        return {
            "key": self.key, "label": self.label, "unit": self.unit,
            "native": self.native.as_dict() if self.native else None,
            "waft": self.waft.as_dict() if self.waft else None,
            "ratio": self.ratio(), "difference": self.difference(),
            "goal": self.goal, "limit": self.limit,
            "met": {"native": self.met(self.native), "waft": self.met(self.waft)} if self.limit is not None else None,
            "peers": {name: stat.as_dict() for name, stat in self.peers.items()},
        }


@dataclass
class GroupResult:
    name: str
    title: str
    unit: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)          # each program's parsed output, for whoever digs
    parameters: dict = field(default_factory=dict)   # repetitions and such

    def as_dict(self) -> dict:
        return {"title": self.title, "unit": self.unit, "parameters": self.parameters,
                "rows": [r.as_dict() for r in self.rows], "notes": self.notes, "raw": self.raw}
