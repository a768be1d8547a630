"""Path (a) on the official wasi-testsuite: wrap every p1 program with the preview1 adapter, unwrap, compare, run.

- every program comes back byte for byte (the command adapter, and the reactor
  adapter on a sample);
- a program with embedded WIT (`component embed`) comes back semantically
  identical: same imports, exports, code and data; only custom sections differ;
- components run with `waft run` print and exit as wasmtime (PyPI, test-only)
  does running the original module;
- the suite's own runner passes every test with each program replaced by its
  component, which `waft run` unwraps (host; mps2-an386 under QEMU).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.component import unwrap_component
from aot.wasm.decode import decode_module
from component_helpers import REPO, WASI_TESTSUITE, p1_suite_programs, run_tool, wrap


def test_every_suite_program_round_trips_byte_for_byte() -> None:
    programs = p1_suite_programs()
    renamed = []
    for program in programs:
        result = unwrap_component(wrap(program).read_bytes())
        assert result.module == program.read_bytes(), f"{program.name}: the recovered module differs"
        assert result.recovered.adapter is not None and len(result.recovered.dropped) == 3
        renamed += [program.name for _ in result.recovered.renamed_imports]
    assert len(programs) == 72
    # AssemblyScript imports fd_write twice; `component new` renames the second `fd_write [v2]`.
    assert sorted(set(renamed)) == ["fd_write-to-invalid-fd.wasm", "fd_write-to-stdout.wasm"]


def test_reactor_adapter_round_trips() -> None:
    for program in p1_suite_programs()[::12]:
        assert unwrap_component(wrap(program, "reactor").read_bytes()).module == program.read_bytes()


def _semantics(module_bytes: bytes):
    module = decode_module(module_bytes)
    module.custom_sections = []
    module.names = None
    return module


def test_embedded_wit_is_semantically_identical(tmp_path: Path) -> None:
    """`component new` strips the component-type section `embed` added and records itself in producers."""
    program = next(p for p in p1_suite_programs() if p.name == "clock_getres-monotonic.wasm")
    wit = tmp_path / "empty.wit"
    wit.write_text("package test:empty;\nworld empty {}\n")
    embedded = tmp_path / "embedded.wasm"
    run_tool("component", "embed", wit, program, "-o", embedded)
    component = tmp_path / "component.wasm"
    adapter = REPO.parent / "shared" / "components" / "adapters" / "wasi_snapshot_preview1.command.wasm"
    run_tool("component", "new", embedded, "--adapt", f"wasi_snapshot_preview1={adapter}", "-o", component)
    result = unwrap_component(component.read_bytes())
    assert result.module != program.read_bytes()
    assert _semantics(result.module) == _semantics(program.read_bytes())
    assert any("component-type" in note for note in result.recovered.notes)


# Programs that need no preopened folder or stdin, with what the suite expects of them.
RUN_SAMPLE = ["c/clock_gettime-monotonic", "c/clock_getres-realtime", "assemblyscript/fd_write-to-stdout",
              "assemblyscript/args_get-multiple-arguments", "assemblyscript/environ_get-multiple-variables",
              "assemblyscript/proc_exit-failure"]


def _spec(program: Path) -> dict:
    spec = program.with_suffix(".json")
    return json.loads(spec.read_text()) if spec.is_file() else {}


def _wasmtime_run(module: Path, args: list[str], env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    wasmtime = pytest.importorskip("wasmtime")
    out = tmp_path / "wasmtime.out"
    config = wasmtime.WasiConfig()
    config.argv = [module.name, *args]
    config.env = list(env.items())
    config.stdout_file = str(out)
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(module)))
    try:
        instance.exports(store)["_start"](store)
        status = 0
    except wasmtime.ExitTrap as exit_trap:
        status = exit_trap.code
    return status, out.read_text()


@pytest.mark.parametrize("name", RUN_SAMPLE)
def test_component_runs_like_wasmtime_runs_the_original(name: str, tmp_path: Path) -> None:
    language, stem = name.split("/")
    program = next(p for p in p1_suite_programs() if p.parent.parent.parent.name == language and p.stem == stem)
    spec = _spec(program)
    args, env = spec.get("args", []), spec.get("env", {})
    expected_status, expected_out = _wasmtime_run(program, args, env, tmp_path)
    component = tmp_path / f"{stem}.wasm"
    shutil.copyfile(wrap(program), component)
    command = [sys.executable, "-m", "waftkit", "run", str(component)]
    for key, value in env.items():
        command += ["--env", f"{key}={value}"]
    result = subprocess.run([*command, "--", *args], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (result.returncode, result.stdout) == (expected_status, expected_out), result.stderr
    assert expected_status == spec.get("exit_code", 0)


def _official_suite_module():
    """tests/wasi/test_official_wasi_testsuite.py, for its expectation and RAM helpers."""
    path = REPO / "tests" / "wasi" / "test_official_wasi_testsuite.py"
    spec = importlib.util.spec_from_file_location("official_wasi_testsuite", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target_name", ["host", pytest.param("mps2-an386", marks=pytest.mark.qemu)])
def test_official_suite_passes_through_unwrap(target_name: str, tmp_path: Path) -> None:
    """The issue's "done when" for path (a): every test, its program replaced by the component.

    Opt-in ($WAFT_UNWRAP_SUITE=1): from a cold cache it compiles all 72 programs (about 330 s on the
    2-core CI machine), far past this folder's budget; the byte-for-byte test above already proves
    the modules are the ones tests/wasi runs through the same suite.
    """
    if os.environ.get("WAFT_UNWRAP_SUITE") != "1":
        pytest.skip("the official suite through unwrap is opt-in: set WAFT_UNWRAP_SUITE=1 (about 330 s cold on host)")
    official = _official_suite_module()
    folders = official.p1_test_folders(WASI_TESTSUITE)
    copies = []
    for folder in folders:
        copy = shutil.copytree(folder, tmp_path / folder.relative_to(WASI_TESTSUITE))
        for program in folder.glob("*.wasm"):
            shutil.copyfile(wrap(program), copy / program.name)  # same name: the runner finds the component
        copies.append(copy)
    expectations = [official.EXPECTATIONS / f"{target_name}.toml"]
    expectations = [e for e in expectations if e.is_file()]
    refused = official.too_big_for(target_name, folders)
    if refused:
        from aot.targets import load_target

        ram = load_target(target_name).ram.length
        expectations.append(official.expectation_file(refused, ram, tmp_path / "refused-for-ram.toml"))
    report = tmp_path / "results.json"
    command = [sys.executable, str(WASI_TESTSUITE / "test-runner" / "wasi_test_runner.py"), "-t", *map(str, copies),
               "-r", str(official.ADAPTER), "--json-output-location", str(report), "--disable-colors"]
    if expectations:
        command += ["-e", *map(str, expectations)]
    env = {**os.environ, "WAFT_TARGET": target_name, "WAFT_PYTHON": sys.executable, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=WASI_TESTSUITE, env=env, timeout=3600)
    assert report.is_file(), f"the runner wrote no results:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    outcomes = {f"{s['name']}: {t['name']}": t["outcome"] for s in json.loads(report.read_text())["results"]
                for t in s["tests"]}
    failed = sorted(name for name, outcome in outcomes.items() if outcome == "fail")
    assert not failed and result.returncode == 0, f"failed through unwrap on {target_name}: {failed}"
    assert len(outcomes) == 72


def test_compile_takes_a_component_and_names_its_outputs_after_it(tmp_path: Path) -> None:
    program = next(p for p in p1_suite_programs() if p.stem == "fd_write-to-stdout")
    component = tmp_path / "greeter.wasm"
    shutil.copyfile(wrap(program), component)
    result = subprocess.run([sys.executable, "-m", "waftkit", "compile", str(component), "--target", "stm32f4"],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "greeter.o").is_file() and "greeter__instance" in (tmp_path / "greeter.h").read_text()
