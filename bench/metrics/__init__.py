"""`waft bench --metrics`: groups of runtime figures, each native C next to Waft, per target.

A group measures one area of the runtime the same way in native C and in
Wasm run by Waft, on the same board and scheduler, and answers with rows
(bench/metrics/common.py).  This module runs the groups asked for and writes
bench/results/metrics_<target>.json and .md: one table per group, with the
figure, native C, Waft, their ratio and difference, and the goal the figure
is held to and whether each side meets it.  Goals are reported, never
asserted: this is a benchmark, not a test.

Groups: `threads` (issue 14), `interrupts` (issue 15), and issue 20's
`calls`, `wasi`, `startup`, `footprint` and `compile`.  A group is a module
with `TITLE` and `measure(target, ctx)`, named in GROUPS (a plain dict, one
line per group).  Each group's figures also get a PNG (bench/metrics/plots.py);
`render_report` rebuilds the Markdown and the plots from the recorded JSON.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

from aot.targets import Target
from bench.metrics import plots
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat

__all__ = ["GROUPS", "MetricError", "RunContext", "markdown", "render_report", "run_metrics", "unknown_groups",
           "write_report"]

# group name -> module (imported when the group runs)
GROUPS: dict[str, str] = {
    "threads": "bench.metrics.threads",
    "interrupts": "bench.metrics.interrupts",
    "calls": "bench.metrics.calls",
    "wasi": "bench.metrics.wasi",
    "startup": "bench.metrics.startup",
    "footprint": "bench.metrics.footprint",
    "compile": "bench.metrics.compile_time",
    "shared_memory": "bench.metrics.shared_memory",
    "sockets": "bench.metrics.sockets",
    "components": "bench.metrics.components",
}


def unknown_groups(names: Sequence[str]) -> list[str]:
    return [n for n in names if n not in GROUPS]


def _method(target: Target, ctx: RunContext) -> str:
    if target.is_host:
        return "host: wall-clock nanoseconds (CLOCK_MONOTONIC), native and Waft pinned to one CPU"
    if ctx.runner == "pyocd":
        return (f"pyOCD on probe {ctx.probe or '(the only one attached)'}: the SysTick clock (core cycles, or "
                "its nanoseconds where a table says ns)")
    # A group may run QEMU at another shift (its parameters say icount_shift): still instructions.
    return ("QEMU -icount shift=0,sleep=off (or the group's icount_shift): executed instructions; sizes in bytes "
            "and compile times in wall-clock seconds of this machine where a table says so")


def run_metrics(target: Target, groups: Sequence[str] | None, ctx: RunContext, results_dir: Path,
                log=print) -> int:
    """Run `groups` (None: all) on `target`, write the report; returns a process exit status."""
    names = list(groups or GROUPS)
    bad = unknown_groups(names)
    if bad:
        raise MetricError(f"unknown metric group {', '.join(repr(b) for b in bad)} (groups: {', '.join(GROUPS)})")
    started = time.time()
    data: dict = {"target": target.name, "cpu": target.cpu, "runner": "host" if target.is_host else ctx.runner,
                  "probe": ctx.probe, "method": _method(target, ctx), "machine": machine(),
                  "date": time.strftime("%Y-%m-%d", time.gmtime()), "load": [_load()], "groups": {}}
    failures: list[str] = []
    for name in names:
        log(f"waft bench --metrics: group {name} on {target.name} ({data['method']})")
        module = importlib.import_module(GROUPS[name])
        group_started, group_load = time.time(), _load()
        try:
            result: GroupResult = module.measure(target, ctx)
        except MetricError as exc:
            failures.append(f"{name}: {exc}")
            data["groups"][name] = {"title": module.TITLE, "error": str(exc)}
            log(f"  {name} FAILED: {exc}")
            continue
        data["groups"][name] = result.as_dict()
        # When and under what load this table was measured: --group refreshes one table of an older report.
        data["groups"][name]["measured"] = {"date": data["date"], "seconds": round(time.time() - group_started, 1),
                                            "load": [group_load, _load()]}
        for row in result.rows:
            log(f"  {row.key:<20} native {_cell(row.native):>28}   waft {_cell(row.waft):>28}  {row.unit}")
    data["seconds"] = round(time.time() - started, 1)
    data["ran"] = names
    data["load"].append(_load())
    json_path = results_dir / f"metrics_{target.name}.json"
    # Groups not run this time keep their last results: --group refreshes one table.
    if json_path.is_file():
        previous = json.loads(json_path.read_text())
        if previous.get("runner") == data["runner"]:
            for name, group in previous.get("groups", {}).items():
                data["groups"].setdefault(name, group)
    # The registry's order, whatever ran this time (groups no longer registered go last).
    order = list(GROUPS)
    data["groups"] = dict(sorted(data["groups"].items(),
                                 key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    write_report(data, results_dir, log)
    for failure in failures:
        log(f"problem: {failure.splitlines()[0]}")
    return 1 if failures else 0


def machine() -> str:
    """This machine in one line: CPU model, cores, OS (the report says where its figures come from)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _load() -> float | None:
    """The 1-minute load average: other work on a shared machine is what makes wall-clock figures noisy."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _replace(path: Path, write) -> None:
    """Write through a temporary file beside `path`, then rename: a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.partial")
    write(partial)
    os.replace(partial, path)


def write_report(data: dict, results_dir: Path, log=print) -> list[Path]:
    """metrics_<target>.json, .md and one PNG per group (when matplotlib is there) into `results_dir`."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"metrics_{data['target']}"
    written = []
    data.setdefault("plots", {})
    if plots.available():
        for name, group in data["groups"].items():
            png = results_dir / f"{stem}_{name}.png"
            if "error" in group:
                continue
            partial = png.with_name(f".{png.name}.partial.png")
            if plots.plot_group(data, name, partial) is not None:
                os.replace(partial, png)
                data["plots"][name] = png.name
                written.append(png)
    else:
        data["plots"] = {}
        log("matplotlib is not installed: no plots (pip install matplotlib)")
    json_path, md_path = results_dir / f"{stem}.json", results_dir / f"{stem}.md"
    _replace(json_path, lambda p: p.write_text(json.dumps(data, indent=2) + "\n"))
    _replace(md_path, lambda p: p.write_text(markdown(data)))
    log(f"wrote {json_path}, {md_path}" + (f" and {len(written)} plots" if written else ""))
    return [json_path, md_path, *written]


def render_report(target_name: str, results_dir: Path, log=print) -> int:
    """Re-render the Markdown report and plots from the recorded metrics_<target>.json."""
    json_path = results_dir / f"metrics_{target_name}.json"
    try:
        data = json.loads(json_path.read_text())
    except OSError:
        raise MetricError(f"{json_path}: no recorded metrics for {target_name} (run waft bench --metrics first)") \
            from None
    except json.JSONDecodeError as exc:
        raise MetricError(f"{json_path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    missing = [k for k in ("target", "cpu", "runner", "method", "groups") if k not in data]
    if missing:
        raise MetricError(f"{json_path}: not a metrics report (no {', '.join(missing)})")
    write_report(data, results_dir, log)
    return 0


# ---- the report ------------------------------------------------------------------------------

def _num(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return text.removesuffix(".0")


def _cell(stat: Stat | dict | None) -> str:
    """`mean`, `min / mean / max`, or `min / mean / max (p99 x)`."""
    if stat is None:
        return "—"
    s = stat.as_dict() if isinstance(stat, Stat) else stat
    if s.get("min") is not None:
        text = f"{_num(s['min'])} / {_num(s['mean'])} / {_num(s['max'])}"
        return text + (f" (p99 {_num(s['p99'])})" if s.get("p99") is not None else "")
    return _num(s["mean"])


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "—"}[met]


def markdown(data: dict) -> str:
    out = [f"# Runtime metrics on {data['target']} ({data['cpu']})", "",
           f"Measured by `waft bench --metrics --target {data['target']}`"
           + (" --runner pyocd" if data["runner"] == "pyocd" else "") + f": {data['method']}.",
           f"Machine: {data.get('machine', 'not recorded')}" + (f"; last run {data['date']}" if data.get("date") else "")
           + (f", {data['seconds']:,} s" if data.get("seconds") is not None else "")
           + (f" (groups {', '.join(data['ran'])}; each table says when it was measured)" if data.get("ran") else "")
           + (f"; 1-minute load average {data['load'][0]} at the start, {data['load'][-1]} at the end"
              if data.get("load") and None not in data["load"] else "") + ".",
           "Each figure is native C and Waft (Wasm compiled by Waft) on the same board and scheduler;",
           "`min / mean / max (p99 x)` where there is a distribution, the mean elsewhere. Each table states its",
           "unit; goals are reported, not asserted.", ""]
    for name, group in data["groups"].items():
        out += [f"## {name}: {group['title']}", ""]
        if "error" in group:
            out += [f"Not measured: {group['error'].splitlines()[0]}", ""]
            continue
        if not group["rows"]:  # a target the group does not apply to: its notes say why, no empty table
            out += [*group.get("notes", []), ""]
            continue
        if group.get("measured"):
            when = group["measured"]
            load = (f", load {when['load'][0]} -> {when['load'][-1]}" if None not in when.get("load", [None]) else "")
            out += [f"Measured {when['date']} in {when['seconds']:,} s{load}.", ""]
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
        peers = sorted({name for row in group["rows"] for name in row.get("peers") or {}})
        if peers:
            out += ["", f"Peers, same unit ({', '.join(peers)}):", "",
                    "| figure | Waft | " + " | ".join(peers) + " |", "| --- | ---: |" + " ---: |" * len(peers)]
            for row in group["rows"]:
                if row.get("peers"):
                    out.append(f"| {row['label']} | {_cell(row['waft'])} | "
                               + " | ".join(_cell(row["peers"].get(p)) for p in peers) + " |")
        if group.get("notes"):
            out += [""] + [f"- {note}" for note in group["notes"]]
        if data.get("plots", {}).get(name):
            out += ["", f"![{name}]({data['plots'][name]})"]
        out.append("")
    return "\n".join(out)


__all__ += ["Row", "Stat"]
