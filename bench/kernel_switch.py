"""What the built-in kernel's switch and wake-ups cost, in instructions, on Cortex-M boards under QEMU.

Builds bench/metrics/threads/native.c (which the `threads` metric group of
`waft bench --metrics` also runs, beside the same figures from Wasm threads) with the kernel (runtime_c/kernel) for each
target, runs it under `-icount shift=0` (one instruction per nanosecond of the
kernel's own clock, so the clock counts instructions; idle time jumps to the
next timer), and reads its figures: a yield that switches threads, a yield
that does not, a wait/notify round trip, an interrupt waking a thread, a
spawn + join, and (FPU cores) a switch between threads with FP context.  It
also counts the instructions of PendSV_Handler in the image (straight-line
code: every one runs on every switch; QEMU counts an IT-skipped instruction
as executed, so the FP and non-FP paths count alike, although on silicon the
FP path costs the 16-register store and load in cycles).

Run:  .venv/bin/python bench/kernel_switch.py [--targets stm32f4 cortex-m0plus ...]
It writes bench/results/kernel_switch.json and .md.  A measurement, not a
test: the goal (a switch in at most 150 instructions on a Cortex-M4) is
reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

from aot.targets import load_target  # noqa: E402
from waftkit.firmware.kernel import kernel_program  # noqa: E402
from waftkit.runners.qemu import run_elf  # noqa: E402

SOURCE = BENCH_DIR / "metrics" / "threads" / "native.c"
RESULTS = BENCH_DIR / "results"
DEFAULT_TARGETS = ["stm32f4", "cortex-m0plus", "mps2-an386", "mps2-an500"]
GOAL_M4 = 150

ROWS = [
    ("yield_switch", "switch: one thread's yield to the other's return (scheduler + PendSV)"),
    ("fp_yield_switch", "the same between two threads with FP context"),
    ("yield_alone", "yield with no other ready thread (no switch)"),
    ("pendsv_instructions", "PendSV_Handler alone (instructions in the image)"),
    ("notify_round_trip", "wait/notify ping-pong round trip (2 switches)"),
    ("isr_wake", "interrupt pended -> woken high-priority thread runs"),
    ("spawn_join", "create a thread, it returns, join it"),
]


def pendsv_instructions(elf: Path, cc: str) -> int:
    """Instructions in PendSV_Handler, from the disassembly (the literal pool left out)."""
    objdump = cc[: -len("gcc")] + "objdump" if cc.endswith("gcc") else "objdump"
    text = subprocess.run([objdump, "-d", "--disassemble=PendSV_Handler", str(elf)],
                          capture_output=True, text=True, check=True).stdout
    lines = [line for line in text.splitlines() if re.match(r"^\s+[0-9a-f]+:\s", line)]
    return sum(1 for line in lines if not re.search(r"\.word\s", line))


def measure(name: str, work: Path) -> dict:
    target = load_target(name)
    elf = kernel_program(target, [SOURCE], work / name / "kernel_switch.elf", work / name, cflags=["-Wall", "-Wextra"])
    result = run_elf(target, elf, timeout=300, instruction_count=True, idle_sleeps=False)
    if result.returncode != 0 or "done" not in result.stdout:
        raise SystemExit(f"{name}: the benchmark failed ({result.summary()}):\n{result.stdout}\n{result.stderr}")
    figures = {m.group(1): int(m.group(2)) / 100 for m in re.finditer(r"^figure (\S+) (\d+)$", result.stdout, re.M)}
    calibration = figures.pop("calibration")  # ns per instruction: 1.0 under -icount shift=0
    clock = figures.pop("clock_read")
    # The interrupt's wake-up is a distribution now; this report keeps its mean, less one clock read.
    isr = re.search(r"^dist isr_wake (\d+) (\d+) (\d+) (\d+)$", result.stdout, re.M)
    if isr:
        figures["isr_wake"] = int(isr.group(3)) / int(isr.group(4)) - clock
    row = {key: round(value / calibration, 2) for key, value in figures.items()}
    row["pendsv_instructions"] = pendsv_instructions(elf, target.cc)
    row["ns_per_instruction"] = calibration
    row["cpu"] = target.cpu
    return row


def markdown(data: dict) -> str:
    targets = list(data["targets"])
    out = ["# Kernel switch and wake-up cost", "",
           "Measured by `bench/kernel_switch.py` (bench/metrics/threads/native.c on runtime_c/kernel) under QEMU",
           "`-icount shift=0`: executed instructions, averages over 20,000 repetitions with the loop's",
           "own cost taken out. Instructions, not cycles: QEMU counts an IT-skipped instruction as",
           "executed, so FP and non-FP switches count alike; on silicon the FP one adds the",
           "cycles of storing and loading s16-s31.", "",
           "| figure | " + " | ".join(f"{t} ({data['targets'][t]['cpu']})" for t in targets) + " |",
           "| --- | " + " | ".join("---:" for _ in targets) + " |"]
    for key, label in ROWS:
        cells = [f"{data['targets'][t][key]:,.1f}".removesuffix(".0") if key in data["targets"][t] else "—"
                 for t in targets]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    m4 = [t for t in targets if data["targets"][t]["cpu"] == "cortex-m4"]
    if m4:
        worst = max(data["targets"][t]["yield_switch"] for t in m4)
        verdict = "met" if worst <= GOAL_M4 else "NOT met"
        out += ["", f"Goal: a context switch in at most {GOAL_M4} instructions on a Cortex-M4: {verdict} "
                f"({worst:g} instructions for the whole yield-to-running path)."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=DEFAULT_TARGETS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    data = {"method": "QEMU -icount shift=0,sleep=off; instructions per operation", "targets": {}}
    with tempfile.TemporaryDirectory(prefix="kernel-switch-") as tmp:
        for name in args.targets:
            data["targets"][name] = measure(name, Path(tmp))
            print(name, json.dumps(data["targets"][name]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kernel_switch.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "kernel_switch.md").write_text(markdown(data))
    print(f"wrote {args.out / 'kernel_switch.json'} and {args.out / 'kernel_switch.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
