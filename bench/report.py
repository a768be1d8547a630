"""Turn the suite's raw figures into results: ratios, the summary, the Markdown report and the plots.

Every ratio is oriented so that > 1 means Waft is better: speed ratios are
other / Waft in ticks or nanoseconds, size ratios are other / Waft in bytes.
Geometric means summarise ratios (the arithmetic mean of ratios rewards
whichever side a single outlier favours).
"""

from __future__ import annotations

import datetime
import math
import platform
import subprocess
from pathlib import Path

import analysis

from aot.targets import Target

# (goal id, summary figure, threshold it must reach, text); figures are other / Waft, so >= is "met".
GOALS = [
    ("speed_vs_native_geomean", "speed_vs_native_geomean", 0.95,
     "issue 6: Waft >= 0.95x native speed (geomean), every bounds check in place"),
    ("speed_vs_wasm2c_min", "speed_vs_wasm2c_min", 1.0, "faster than wasm2c (checks on) on every workload"),
    ("flash_vs_wasm2c_geomean", "flash_vs_wasm2c_geomean", 1.5, "issue 6: module flash at most 2/3 of wasm2c's (checked)"),
    # Issue 17, over the widened workloads: time <= 1.05x GCC's and <= 1.15x clang's, flash <= 0.8x wasm2c's.
    ("issue17_time_vs_native", "speed_vs_native_geomean", 1 / 1.05, "issue 17: time <= 1.05x native GCC -O2 (geomean)"),
    ("issue17_time_vs_native_clang", "speed_vs_native_clang_geomean", 1 / 1.15,
     "issue 17: time <= 1.15x native clang -O2 (geomean: the Wasm tax on the same back end)"),
    ("issue17_flash_vs_wasm2c", "flash_vs_wasm2c_geomean", 1 / 0.8, "issue 17: module flash <= 0.8x wasm2c's"),
]

BOUNDS_CHECK_SHARE = ("Waft with its bounds checks (waft) against the same module compiled with "
                      "`bounds_checks=False` (waft_unchecked: explicitly unsafe, measured only, never the default "
                      "and in no other figure); `bounds_check_cost` = checked / unchecked time, "
                      "`bounds_check_share` = the share of the checked run's time spent on the checks")


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _ratio(other: float | None, waft: float | None) -> float | None:
    if not other or not waft:
        return None
    return other / waft


def assemble(target: Target, names: list[str], measured: dict, engines: dict, meta: dict) -> dict:
    dwt = meta.get("clock") == "dwt_cycles"
    unit = "instructions" if target.is_host else ("cycles" if dwt else "ticks")
    workloads: dict = {}
    for name in names:
        row = measured[name]
        native, waft, w2c, clang = (row.get(v, {}) for v in ("native", "waft", "wasm2c", "native_clang"))
        problems = []
        for variant, figures in row.items():
            if "error" in figures:
                problems.append(f"{variant}: {figures['error']}")
            elif figures.get("verify") != 1:
                problems.append(f"{variant}: bench_verify() returned {figures.get('verify')}")
            elif not figures.get("checksums_agree", True):
                problems.append(f"{variant}: repeated runs gave different checksums")
        sums = {v: f["checksum"] for v, f in row.items() if "checksum" in f}
        if len(set(sums.values())) > 1:
            problems.append(f"checksums differ between variants: {sums}")
        ratios = {
            "speed_vs_native": _ratio(native.get("run"), waft.get("run")),
            "speed_vs_wasm2c": _ratio(w2c.get("run"), waft.get("run")),
            "flash_vs_wasm2c": _ratio(w2c.get("flash_module"), waft.get("flash_module")),
            "flash_vs_native": _ratio(native.get("flash_module"), waft.get("flash_module")),
            "ram_vs_wasm2c": _ratio(w2c.get("ram_module"), waft.get("ram_module")),
            "wasm2c_speed_vs_native": _ratio(native.get("run"), w2c.get("run")),
            "speed_vs_native_clang": _ratio(clang.get("run"), waft.get("run")),
            "wall_vs_native": _ratio(native.get("wall_ns"), waft.get("wall_ns")),
            "wall_vs_wasm2c": _ratio(w2c.get("wall_ns"), waft.get("wall_ns")),
            # the size-tuned build (Waft -Os) against the same wasm2c build: flash and speed
            "os_flash_vs_wasm2c": _ratio(w2c.get("flash_module"), row.get("waft_os", {}).get("flash_module")),
            "os_speed_vs_native": _ratio(native.get("run"), row.get("waft_os", {}).get("run")),
            # the checks' cost: checked Waft against the unsafe waft_unchecked build (> 1: checks cost time)
            "bounds_check_cost": _ratio(waft.get("run"), row.get("waft_unchecked", {}).get("run")),
            "bounds_check_flash_cost": _ratio(waft.get("flash_module"),
                                              row.get("waft_unchecked", {}).get("flash_module")),
        }
        cost = ratios["bounds_check_cost"]
        ratios["bounds_check_share"] = None if cost is None else 1 - 1 / cost
        for engine, results in engines.items():
            figures = results.get(name, {}) if isinstance(results, dict) else {}
            if "run" in figures:
                # engines have only wall time: compare with Waft's wall time
                ratios[f"speed_vs_{engine}"] = _ratio(figures["run"], waft.get("wall_ns"))
                if figures.get("checksum") != waft.get("checksum"):
                    problems.append(f"{engine}: checksum {figures.get('checksum')} != Waft's {waft.get('checksum')}")
        workloads[name] = {"iterations": meta["iterations"][name], "variants": row, "ratios": ratios,
                           "problems": problems}

    calls = {}
    for variant, figures in measured.get("calls", {}).items():
        if "call_count" not in figures:
            continue
        n = figures["call_count"]
        calls[variant] = {
            "host_to_wasm_per_call": (figures["empty_call_ticks"] - figures["loop_ticks"]) / n,
            "wasm_to_host_per_call": (figures["import_call_ticks"] - figures["loop_ticks"]) / n,
            "instantiate": figures.get("instantiate"),
        }
        per_tick = meta.get("instructions_per_tick")
        if per_tick:  # a call is a handful of instructions: show them, not fractions of a tick
            calls[variant]["host_to_wasm_instructions"] = calls[variant]["host_to_wasm_per_call"] * per_tick
            calls[variant]["wasm_to_host_instructions"] = calls[variant]["wasm_to_host_per_call"] * per_tick

    def collect(key: str) -> list[float]:
        return [w["ratios"][key] for w in workloads.values() if w["ratios"].get(key)]

    summary = {
        "speed_vs_native_geomean": geomean(collect("speed_vs_native")),
        "speed_vs_wasm2c_geomean": geomean(collect("speed_vs_wasm2c")),
        "flash_vs_wasm2c_geomean": geomean(collect("flash_vs_wasm2c")),
        "speed_vs_wasm2c_min": min(collect("speed_vs_wasm2c"), default=None),
        "speed_vs_native_min": min(collect("speed_vs_native"), default=None),
        "flash_vs_native_geomean": geomean(collect("flash_vs_native")),
        "ram_vs_wasm2c_geomean": geomean(collect("ram_vs_wasm2c")),
        "wasm2c_speed_vs_native_geomean": geomean(collect("wasm2c_speed_vs_native")),
        "speed_vs_native_clang_geomean": geomean(collect("speed_vs_native_clang")),
        "os_flash_vs_wasm2c_geomean": geomean(collect("os_flash_vs_wasm2c")),
        "os_speed_vs_native_geomean": geomean(collect("os_speed_vs_native")),
        "wall_vs_native_geomean": geomean(collect("wall_vs_native")),
        "wall_vs_wasm2c_geomean": geomean(collect("wall_vs_wasm2c")),
        # checked / unchecked Waft time (> 1: what the bounds checks cost); the unsafe build is in no other figure
        "bounds_check_cost_geomean": geomean(collect("bounds_check_cost")),
        "workloads": len(workloads),
        "workloads_with_problems": sum(1 for w in workloads.values() if w["problems"]),
    }
    for engine in engines:
        if collect(f"speed_vs_{engine}"):
            summary[f"speed_vs_{engine}_geomean"] = geomean(collect(f"speed_vs_{engine}"))
    goals = goals_of(summary)
    return {
        "target": target.name,
        "description": target.description,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": f"{platform.system()} {platform.machine()}",
        "unit": unit,
        "method": ("instructions executed by one bench_run call, counted by valgrind's callgrind (the "
                   "program with one run minus the program with none: deterministic); wall time "
                   f"(median of {meta['repeats']} runs, CLOCK_MONOTONIC) is in `wall_ns` and the wall-time table"
                   if target.is_host else
                   "the core's DWT cycle counter (CYCCNT) read by the harness around bench_run, on the "
                   "board, run through pyOCD" if dwt else
                   "QEMU -icount shift=0; SysTick ticks (overflow-counted) around bench_run: "
                   "deterministic, proportional to executed instructions"),
        "compilers": _compiler_versions(target),
        "summary": summary,
        "goals": goals,
        "bounds_check_share": BOUNDS_CHECK_SHARE,
        "calls": calls,
        "engines": {k: v for k, v in engines.items()},
        "workloads": workloads,
        "meta": meta,
    }


def goals_of(summary: dict) -> dict:
    """Each goal of GOALS with the summary's figure and whether it is met (None: no figure)."""
    goals = {}
    for goal_id, key, threshold, text in GOALS:
        value = summary.get(key)
        goals[goal_id] = {"goal": text, "figure": key, "threshold": threshold, "value": value,
                          "met": None if value is None else value >= threshold}
    return goals


def _compiler_versions(target: Target) -> dict:
    def first_line(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True).stdout
        except OSError:
            return "not found"
        return out.splitlines()[0] if out else "unknown"

    return {"cc": first_line([target.cc, "--version"]), "clang": first_line(["clang", "--version"]),
            "wasm2c": first_line(["wasm2c", "--version"])}


# --------------------------------------------------------------------------- Markdown

def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return f"{value:,}"


def markdown(data: dict, plot_names: list[str], work: Path) -> str:
    unit = data["unit"]
    time_unit = "ns" if data["unit"] == "instructions" else unit  # the harness's clock: ns on the host
    s = data["summary"]
    lines = [f"# Waft benchmark results: {data['target']}", "",
             f"{data['description']}. Measured {data['date']} on {data['host']}.", "",
             f"Speed: {data['method']}. Each workload's `bench_run(n)` does n iterations "
             "(bench/run.py `WORKLOADS`); every variant runs the same Wasm (or, natively, the same C) "
             "and must pass its own `bench_verify()` and agree on the checksum.", "",
             "Variants: **native** = the C compiled by the target's C compiler (-O2; the issue's "
             "reference, GCC here); **native_clang** = the same C through clang 14 -O2 (LLVM, as "
             "Waft's code is: it separates GCC-vs-LLVM effects from Wasm effects); **waft_os** = Waft "
             "at `opt=\"s\"` (size-tuned; the `os_*` figures); **waft** = the Wasm "
             "compiled by Waft (defaults: every bounds and stack check on); **wasm2c** = the same Wasm "
             "through wasm2c 1.0.32 and the same C compiler, explicit bounds checks "
             "(`WASM_RT_MEMCHECK_SIGNAL_HANDLER=0`). All C is built with `-ffp-contract=off` "
             "(Wasm cannot fuse multiply-adds).", "",
             "Ratios are other / Waft: **> 1 means Waft is faster or smaller**.", "",
             "## Summary", "",
             "| figure | value |", "| --- | --- |"]
    for key, value in s.items():
        lines.append(f"| {key} | {_fmt(value, 3)} |")
    lines += ["", "## Goals (issues 6 and 17)", "", "| goal | value | met |", "| --- | --- | --- |"]
    for key, goal in data["goals"].items():
        met = {True: "yes", False: "**no**", None: "-"}[goal["met"]]
        figure = goal.get("figure", key)
        lines.append(f"| {goal['goal']} (`{figure}` >= {goal['threshold']:.3f}) | {_fmt(goal['value'], 3)} | {met} |")
    lines += ["", "## Share of bounds checks", "", f"{data['bounds_check_share']}.", "",
              f"| workload | waft ({unit}) | waft_unchecked ({unit}) | checked / unchecked | share of time in checks "
              "| flash waft | flash waft_unchecked | flash checked / unchecked |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, w in data["workloads"].items():
        v, r = w["variants"], w["ratios"]
        checked, unchecked = v.get("waft", {}), v.get("waft_unchecked", {})
        share = r.get("bounds_check_share")
        lines.append(f"| {name} | {_fmt(checked.get('run'), 0)} | {_fmt(unchecked.get('run'), 0)} | "
                     f"{_fmt(r.get('bounds_check_cost'), 3)} | "
                     f"{'-' if share is None else f'{share * 100:.1f}%'} | {_fmt(checked.get('flash_module'))} | "
                     f"{_fmt(unchecked.get('flash_module'))} | {_fmt(r.get('bounds_check_flash_cost'), 3)} |")
    lines += ["",
              f"## Speed ({unit} per run of bench_run)", "",
              "| workload | iterations | native | native_clang | waft | wasm2c | waft vs native | waft vs native_clang | waft vs wasm2c | wasm2c vs native |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, w in data["workloads"].items():
        v, r = w["variants"], w["ratios"]
        lines.append(f"| {name} | {w['iterations']:,} | " + " | ".join(
            _fmt(v.get(x, {}).get("run"), 0) if isinstance(v.get(x, {}).get("run"), float)
            else _fmt(v.get(x, {}).get("run")) for x in ("native", "native_clang", "waft", "wasm2c")) +
            f" | {_fmt(r['speed_vs_native'])} | {_fmt(r.get('speed_vs_native_clang'))} | {_fmt(r['speed_vs_wasm2c'])} | {_fmt(r['wasm2c_speed_vs_native'])} |")
    if any("wall_ns" in w["variants"].get("waft", {}) for w in data["workloads"].values()):
        lines += ["", "Wall time (ns, median of the runs; noisy on a shared machine, hence not the headline):", "",
                  "| workload | native | native_clang | waft | wasm2c | waft vs native | waft vs wasm2c |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, w in data["workloads"].items():
            v = w["variants"]
            cells = [_fmt(v.get(x, {}).get("wall_ns"), 0) for x in ("native", "native_clang", "waft", "wasm2c")]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {_fmt(w['ratios'].get('wall_vs_native'))} | "
                         f"{_fmt(w['ratios'].get('wall_vs_wasm2c'))} |")
    if data["meta"].get("instructions_per_tick"):
        lines += ["", f"One tick is {data['meta']['instructions_per_tick']:.3f} executed instructions "
                  "(calibrated with a 2-instruction loop: the SysTick runs at the 168 MHz core clock "
                  "while -icount shift=0 makes one instruction 1 ns)."]
    lines += ["", "## Flash and RAM of the module (bytes)", "",
              "Flash = the module's code + read-only data + data image as the linker kept them "
              "(from the link map; the runtime is not included). RAM = module data + bss + the "
              "instance with its 64 KiB linear memory (wasm2c: the calloc'd memory) + the peak "
              "native stack of the run (stack painting; on Cortex-M it includes the 104-byte FP "
              "exception frame of the SysTick interrupt). Firmware = the whole linked program "
              "(harness, runtime, libc).", "",
              "| workload | flash native | flash waft | flash waft_os | flash wasm2c | waft vs wasm2c | waft_os vs wasm2c | stack native | stack waft | stack wasm2c | RAM waft | RAM wasm2c | firmware native | firmware waft | firmware wasm2c |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, w in data["workloads"].items():
        v = w["variants"]
        g = lambda x, k: _fmt(v.get(x, {}).get(k))  # noqa: E731
        lines.append(f"| {name} | {g('native', 'flash_module')} | {g('waft', 'flash_module')} | "
                     f"{g('waft_os', 'flash_module')} | {g('wasm2c', 'flash_module')} | "
                     f"{_fmt(w['ratios']['flash_vs_wasm2c'])} | {_fmt(w['ratios'].get('os_flash_vs_wasm2c'))} | "
                     f"{g('native', 'stack_peak')} | {g('waft', 'stack_peak')} | {g('wasm2c', 'stack_peak')} | "
                     f"{g('waft', 'ram_module')} | {g('wasm2c', 'ram_module')} | {g('native', 'firmware_flash')} | "
                     f"{g('waft', 'firmware_flash')} | {g('wasm2c', 'firmware_flash')} |")
    lines += ["", f"## Instantiation ({time_unit})", "",
              "Waft: `P__instantiate` (zero the 64 KiB memory, apply data segments). wasm2c: "
              "`init_module` + `instantiate` (calloc the memory, apply data segments).", "",
              "| workload | waft | wasm2c |", "| --- | ---: | ---: |"]
    for name, w in data["workloads"].items():
        v = w["variants"]
        lines.append(f"| {name} | {_fmt(v.get('waft', {}).get('instantiate'))} | "
                     f"{_fmt(v.get('wasm2c', {}).get('instantiate'))} |")
    if data["calls"]:
        lines += ["", f"## Call overhead ({time_unit} per call, loop cost subtracted)", "",
                  "host->Wasm: an empty export called 100,000 times from a C loop; Wasm->host: a Wasm "
                  "loop calling an empty imported C function 100,000 times. Native: the same calls "
                  "between separately compiled C functions." + (
                      " On the host these are wall-clock nanoseconds on a shared machine: read them as "
                      "orders of magnitude." if data["unit"] == "instructions" else ""), "",
                  "| variant | host->Wasm | Wasm->host | host->Wasm (instructions) | Wasm->host (instructions) |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for variant, c in data["calls"].items():
            lines.append(f"| {variant} | {_fmt(c['host_to_wasm_per_call'])} | {_fmt(c['wasm_to_host_per_call'])} | "
                         f"{_fmt(c.get('host_to_wasm_instructions'), 1)} | {_fmt(c.get('wasm_to_host_instructions'), 1)} |")
    if data["engines"]:
        lines += ["", "## Other engines on the host (wall time, ns per run; ratio = engine / Waft's wall time)", "",
                  "Called through their Python packages (pip wasmtime, pywasm3); the call from "
                  "Python is one per run, so its cost is noise.", ""]
        engine_names = list(data["engines"])
        lines += ["| workload | " + " | ".join(f"{e} | waft vs {e}" for e in engine_names) + " |",
                  "| --- | " + " | ".join("---: | ---:" for _ in engine_names) + " |"]
        for name, w in data["workloads"].items():
            cells = []
            for e in engine_names:
                results = data["engines"][e]
                if "skipped" in results:
                    cells += [results["skipped"], "-"]
                    continue
                figures = results.get(name, {})
                cells += [_fmt(figures.get("run"), 0) if "run" in figures else figures.get("error", "-"),
                          _fmt(w["ratios"].get(f"speed_vs_{e}"))]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Where the time goes", ""]
    lines += analysis.where_time_goes(data, work)
    problems = [(n, p) for n, w in data["workloads"].items() for p in w["problems"]]
    if problems:
        lines += ["", "## Problems", ""] + [f"- {n}: {p}" for n, p in problems]
    if plot_names:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plot_names]
    lines += ["", f"Compilers: {data['compilers']['cc']}; {data['compilers']['clang']}; "
              f"wasm2c {data['compilers']['wasm2c']}.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- plots

def plots(data: dict, out_dir: Path) -> list[Path]:
    """Bar charts of the speed and flash ratios; [] (with a note) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("matplotlib is not installed: no plots (pip install 'waft[bench]')")
        return []
    names = list(data["workloads"])
    target = data["target"]
    paths = []

    def bars(filename: str, title: str, series: dict[str, list[float | None]], goal: float | None) -> None:
        fig, ax = plt.subplots(figsize=(10, 4.5))
        width = 0.8 / len(series)
        for i, (label, values) in enumerate(series.items()):
            xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(names))]
            # Bars grow from 1 (parity) up or down, so a loss reads as a bar below the line.
            ax.bar(xs, [(v or 1) - 1 for v in values], width, bottom=1, label=label)
        ax.axhline(1.0, color="black", linewidth=0.8)
        if goal is not None:
            ax.axhline(goal, color="tab:red", linestyle="--", linewidth=0.8, label=f"goal {goal}")
        # Ratios on a log scale: 2x faster and 2x slower are the same distance from 1.
        ax.set_yscale("log", base=2)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
        ax.set_ylabel("ratio (> 1: Waft faster / smaller)")
        ax.set_title(title)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / filename
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    ratio = lambda key: [data["workloads"][n]["ratios"].get(key) for n in names]  # noqa: E731
    speed = {"Waft vs native (GCC)": ratio("speed_vs_native"), "Waft vs native (clang)": ratio("speed_vs_native_clang"),
             "Waft vs wasm2c": ratio("speed_vs_wasm2c")}
    for engine in data["engines"]:
        if any(ratio(f"speed_vs_{engine}")):
            speed[f"Waft vs {engine}"] = ratio(f"speed_vs_{engine}")
    bars(f"{target}_speed.png", f"{target}: speed ratio (other time / Waft time)", speed, 0.95)
    bars(f"{target}_flash.png", f"{target}: module flash ratio (other bytes / Waft bytes)",
         {"Waft vs native": ratio("flash_vs_native"), "Waft vs wasm2c": ratio("flash_vs_wasm2c"),
          "Waft -Os vs wasm2c": ratio("os_flash_vs_wasm2c")}, 1.5)
    return paths
