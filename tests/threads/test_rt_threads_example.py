"""examples/rt_threads on stm32f4 under QEMU with -icount: the priorities are what keep the period.

The same module runs twice, only the control thread's priority changed
(`--control-priority`): at 10, above the busy logger, every release is taken
with the same latency (jitter 0 under -icount); at 1, below the logger, the
control thread never runs and the program's watchdog fails the run.  So the
example's pass criterion can fail, and does when the priority is wrong.  (`scons TARGET=stm32f4 test`, tests/scons/test_repo_examples.py,
runs the example itself, 1000 periods.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aot.targets import load_target
from aot.wasm.decode import decode_module
from aot.wit import load_wit
from aot.wit.bindgen import generate_bindings, write_bindings
from waftkit.cache import cache_dir
from waftkit.firmware import embedding, wasi_firmware
from waftkit.run import PREFIX, RunOptions, compiled_module
from waftkit.runners.qemu import run_elf
from waftkit.testing.wasi_threads import build_threads_c

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "rt_threads"


@pytest.fixture(scope="module")
def wasm(tmp_path_factory) -> Path:
    """The example built as its SConscript builds it (bindings from firmware-rt, one 64 KiB page)."""
    out = tmp_path_factory.mktemp("rt_threads")
    resolve, main = load_wit(REPO / "wasi_ext" / "profiles")
    bindings = generate_bindings(resolve, resolve.select_world(main, "firmware-rt"), name="firmware_rt")
    write_bindings(bindings, guest_dir=out)
    return build_threads_c([EXAMPLE / "rt_threads.c", out / "firmware_rt.c"], out / "rt_threads.wasm",
                           ["-I", str(out), "-Wall", "-Werror", "-Wl,-z,stack-size=8192",
                            "-Wl,--initial-memory=65536"], max_memory=65536)


def run_on_stm32f4(wasm: Path, tmp_path: Path, args: list[str]):
    """Link the firmware with `args` baked in, as `waft run --target stm32f4` does, and run it with -icount."""
    target = load_target("stm32f4")
    options = RunOptions(args=args, max_threads=2)
    module = compiled_module(wasm.read_bytes(), target, options, wasm.name)
    decoded = decode_module(wasm.read_bytes())
    elf = wasi_firmware.link_firmware(
        target, module / f"{PREFIX}.o", module / f"{PREFIX}.h", tmp_path / "rt_threads.elf",
        prefix=PREFIX, build_dir=tmp_path, runtime_dir=cache_dir(), args=["rt_threads", *args], env=[], dirs=[],
        defines=embedding.main_defines(decoded, target, None, 2),
        thread_defines=embedding.thread_defines(target, 2))
    return run_elf(target, elf, timeout=120, instruction_count=True)


def jitter_pct(stdout: str) -> float:
    match = re.search(r"jitter [\d.]+ us \(([\d.]+)% of the period\)", stdout)
    assert match, stdout
    return float(match.group(1))


@pytest.mark.qemu
@pytest.mark.parametrize("priority", [10, 1])
def test_the_control_thread_keeps_its_period_only_above_the_logger(wasm, tmp_path, priority):
    result = run_on_stm32f4(wasm, tmp_path, ["--periods", "100", "--control-priority", str(priority)])
    out = result.stdout + result.stderr
    assert not result.timed_out, out
    if priority == 10:
        assert result.returncode == 0, out
        assert "100 releases, 0 missed" in out
        assert jitter_pct(out) == 0.0  # -icount: the same wake-up path, instruction for instruction
        assert re.search(r"^ok: missed 0 \(<= 0\), jitter 0\.000% \(<= 1\.00%\)$", out, re.MULTILINE), out
        # The logger really was saturating the core in every 100 ms window.
        assert int(re.search(r"at least (\d+) per 100 ms", out).group(1)) > 1000, out
    else:
        assert result.returncode == 1, out
        assert "0 of 100 periods done" in out
        assert "FAIL: the control thread (priority 1) did not keep up" in out
