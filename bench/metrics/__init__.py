"""`waft bench --metrics`: groups of runtime figures, each native C next to Waft, per target.

A group measures one area of the runtime the same way in native C and in
Wasm run by Waft, on the same board and scheduler, and answers with rows
(bench/metrics/common.py).  This module runs the groups asked for and writes
bench/results/metrics_<target>.json and .md: one table per group, with the
figure, native C, Waft, their ratio and difference, and the goal the figure
is held to and whether each side meets it.  Goals are reported, never
asserted: this is a benchmark, not a test.

Groups today: `threads` (issue 14) and `interrupts` (issue 15).  A later
group (call overhead, WASI cost, start-up, footprint) is a module with
`TITLE` and `measure(target, ctx)`, named in GROUPS.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Sequence
from pathlib import Path

from aot.targets import Target
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat

__all__ = ["GROUPS", "MetricError", "RunContext", "markdown", "run_metrics", "unknown_groups"]

# group name -> module (imported when the group runs)
GROUPS: dict[str, str] = {
    "threads": "bench.metrics.threads",
    "interrupts": "bench.metrics.interrupts",
    "sockets": "bench.metrics.sockets",
}


def unknown_groups(names: Sequence[str]) -> list[str]:
    return [n for n in names if n not in GROUPS]


def _method(target: Target, ctx: RunContext) -> str:
    if target.is_host:
        return "host: wall-clock nanoseconds (CLOCK_MONOTONIC), native and Waft pinned to one CPU"
    if ctx.runner == "pyocd":
        return (f"pyOCD on probe {ctx.probe or '(the only one attached)'}: core cycles from the kernel's "
                "SysTick clock")
    # A group may run QEMU at another shift (its parameters say icount_shift): still instructions.
    return "QEMU -icount shift=0,sleep=off (or the group's icount_shift): executed instructions"


def run_metrics(target: Target, groups: Sequence[str] | None, ctx: RunContext, results_dir: Path,
                log=print) -> int:
    """Run `groups` (None: all) on `target`, write the report; returns a process exit status."""
    names = list(groups or GROUPS)
    bad = unknown_groups(names)
    if bad:
        raise MetricError(f"unknown metric group {', '.join(repr(b) for b in bad)} (groups: {', '.join(GROUPS)})")
    started = time.time()
    data: dict = {"target": target.name, "cpu": target.cpu, "runner": "host" if target.is_host else ctx.runner,
                  "probe": ctx.probe, "method": _method(target, ctx), "groups": {}}
    failures: list[str] = []
    for name in names:
        log(f"waft bench --metrics: group {name} on {target.name} ({data['method']})")
        module = importlib.import_module(GROUPS[name])
        try:
            result: GroupResult = module.measure(target, ctx)
        except MetricError as exc:
            failures.append(f"{name}: {exc}")
            data["groups"][name] = {"title": module.TITLE, "error": str(exc)}
            log(f"  {name} FAILED: {exc}")
            continue
        data["groups"][name] = result.as_dict()
        for row in result.rows:
            log(f"  {row.key:<20} native {_cell(row.native):>28}   waft {_cell(row.waft):>28}  {row.unit}")
    data["seconds"] = round(time.time() - started, 1)
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path = results_dir / f"metrics_{target.name}.json"
    md_path = results_dir / f"metrics_{target.name}.md"
    # Groups not run this time keep their last results: --group refreshes one table.
    if json_path.is_file():
        previous = json.loads(json_path.read_text())
        if previous.get("runner") == data["runner"]:
            for name, group in previous.get("groups", {}).items():
                data["groups"].setdefault(name, group)
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    md_path.write_text(markdown(data))
    log(f"wrote {json_path} and {md_path}")
    for failure in failures:
        log(f"problem: {failure.splitlines()[0]}")
    return 1 if failures else 0


# ---- the report ------------------------------------------------------------------------------

def _num(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return text.removesuffix(".0")


def _cell(stat: Stat | dict | None) -> str:
    """`mean` or `min / mean / max`."""
    if stat is None:
        return "—"
    s = stat.as_dict() if isinstance(stat, Stat) else stat
    if s.get("min") is not None:
        return f"{_num(s['min'])} / {_num(s['mean'])} / {_num(s['max'])}"
    return _num(s["mean"])


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "—"}[met]


def markdown(data: dict) -> str:
    out = [f"# Runtime metrics on {data['target']} ({data['cpu']})", "",
           f"Measured by `waft bench --metrics --target {data['target']}`"
           + (" --runner pyocd" if data["runner"] == "pyocd" else "") + f": {data['method']}.",
           "Each figure is native C and Waft (Wasm compiled by Waft) on the same board and scheduler;",
           "`min / mean / max` where there is a distribution, the mean elsewhere. Goals are reported, not asserted.", ""]
    for name, group in data["groups"].items():
        out += [f"## {name}: {group['title']}", ""]
        if "error" in group:
            out += [f"Not measured: {group['error'].splitlines()[0]}", ""]
            continue
        params = ", ".join(f"{k} {v:,}" for k, v in group.get("parameters", {}).items())
        out += [f"Unit: {group['unit']} unless the row says otherwise ({params}).", "",
                "| figure | native C | Waft | Waft / native | Waft - native | goal | met (native, Waft) |",
                "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
        for row in group["rows"]:
            ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "—"
            unit = "" if row["unit"] == group["unit"] else f" ({row['unit']})"
            met = row.get("met")
            verdict = f"{_verdict(met['native'])}, {_verdict(met['waft'])}" if met else "—"
            out.append(f"| {row['label']}{unit} | {_cell(row['native'])} | {_cell(row['waft'])} | {ratio} | "
                       f"{_num(row['difference'])} | {row['goal'] or '—'} | {verdict} |")
        if group.get("notes"):
            out += [""] + [f"- {note}" for note in group["notes"]]
        out.append("")
    return "\n".join(out)


__all__ += ["Row", "Stat"]
