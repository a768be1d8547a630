"""The official wasi-testsuite's runtime-adapter contract, exercised the way its runner calls it.

The suite itself is not reachable from this machine; these tests do what its
runner (test-runner/wasi_test_runner) does with tests/wasi/wasi_testsuite_adapter.py:
run `python adapter.py --version` and insist on silence (else the adapter is
"legacy"), import the file with importlib, ask for name, version, WASI
versions and worlds, call compute_argv in each of the four forms the runner
has used, then start the argv with Popen from the runner's own folder
(neither the repository nor the test's), feed stdin and compare exit code,
stdout and stderr with our cases (tests/wasi/programs/*.json, in the
suite's JSON shape).  The command-line adapter for older runners
(wasi_testsuite_legacy_adapter.py) is driven the old way.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from wasi_harness import PROGRAMS, Case, build_wasm, load_case

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ADAPTER = HERE / "wasi_testsuite_adapter.py"
LEGACY_ADAPTER = HERE / "wasi_testsuite_legacy_adapter.py"
BOARD_PROGRAMS = HERE / "cortexm"
# As in test_wasi_cortexm.py: a one-page module with an 8 KiB stack fits the board's RAM.
ONE_PAGE = ("-Wl,-z,stack-size=8192", "-Wl,--initial-memory=65536", "-Wl,--strip-debug")
P1, COMMAND = "wasm32-wasip1", "wasi:cli/command"
FORMS = ["1-keywords", "2-dirs", "3-dirs-world", "4-root"]
TIMEOUT = 300


def load_adapter() -> ModuleType:
    """The adapter as the runner loads it: from its path, named after the file."""
    spec = importlib.util.spec_from_file_location(ADAPTER.name, ADAPTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call_form(adapter: ModuleType, form: str, test_path: str, case: Case, root: str) -> list[str]:
    """compute_argv called as the runner of that era calls it; dirs are relative to the current folder."""
    dirs = [(Path(root) / d, d) for d in case.dirs]
    if form == "1-keywords":
        return adapter.compute_argv(test_path=test_path, args=case.args, env=case.env, dirs=dirs, wasi_version=P1)
    if form == "2-dirs":
        return adapter.compute_argv(test_path, (case.args, case.env, dirs), [], P1)
    if form == "3-dirs-world":
        return adapter.compute_argv(test_path, (case.args, case.env, dirs), [], COMMAND, P1)
    # The newest runner preopens the test's whole root folder as "/" instead.
    return adapter.compute_argv(test_path, (case.args, case.env, root), [], COMMAND, P1)


def lay_out(case: Case, wasm: Path, folder: Path, seed: Path | None = None) -> Path:
    """The test's folder as the suite ships it: NAME.wasm and its dirs (copied from seed/, else empty)."""
    folder.mkdir()
    shutil.copy(wasm, folder / f"{case.name}.wasm")
    for d in case.dirs:
        if seed is not None:
            shutil.copytree(seed / d, folder / d)
        else:
            (folder / d).mkdir()
    return folder


def run_like_the_runner(argv: list[str], stdin: str, cwd: Path) -> subprocess.CompletedProcess:
    # The runner's Popen: text pipes, its own folder and environment (no PYTHONPATH help from us).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, env=env)
    out, err = proc.communicate(stdin, timeout=TIMEOUT)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def check(result: subprocess.CompletedProcess, case: Case) -> None:
    assert result.returncode == case.exit_code, f"{result.args}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stdout == case.stdout, f"stderr:\n{result.stderr}"
    assert result.stderr == (case.stderr or "")


def runner_case(adapter: ModuleType, form: str, case: Case, wasm: Path, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch, seed: Path | None = None) -> subprocess.CompletedProcess:
    """Lay the case out, call compute_argv from the runner's folder with relative paths, run the argv there."""
    suite = lay_out(case, wasm, tmp_path / "suite", seed)
    runner_cwd = tmp_path / "runner"
    runner_cwd.mkdir()
    monkeypatch.chdir(runner_cwd)
    root = os.path.relpath(suite, runner_cwd)
    argv = call_form(adapter, form, os.path.join(root, f"{case.name}.wasm"), case, root)
    assert all(isinstance(a, str) for a in argv)
    return run_like_the_runner(argv, case.stdin, runner_cwd)


# -- the module contract ------------------------------------------------------


@pytest.mark.parametrize("python", [sys.executable, "python3"])
def test_running_the_file_is_silent(python: str) -> None:
    """The runner's legacy check: any output from `python adapter.py --version` rejects the adapter."""
    if shutil.which(python) is None:
        pytest.skip(f"{python} is not installed")
    result = subprocess.run([python, str(ADAPTER), "--version"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_metadata() -> None:
    adapter = load_adapter()
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert adapter.get_name() == "waft"
    assert adapter.get_version() == version
    assert adapter.get_wasi_versions() == [P1]
    assert adapter.get_wasi_worlds() == [COMMAND]
    assert adapter.get_timeout_seconds() >= 30


def test_forms_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forms 1-3 give one command line; form 4 differs only in mounting the root at "/"."""
    adapter = load_adapter()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAFT_TARGET", "stm32f4")
    case = Case(name="t", args=["-a", "b c"], env={"K": "V=W"}, dirs=["fs"])
    argvs = {form: call_form(adapter, form, "t.wasm", case, "suite") for form in FORMS}
    assert argvs["1-keywords"] == argvs["2-dirs"] == argvs["3-dirs-world"]
    tail = ["--target", "stm32f4", "--dir", f"{tmp_path / 'suite' / 'fs'}::fs", "--env", "K=V=W", "--", "-a", "b c"]
    assert argvs["2-dirs"][-len(tail) - 2:] == ["run", str(tmp_path / "t.wasm"), *tail]
    assert f"{tmp_path / 'suite'}::/" in argvs["4-root"]
    no_root = adapter.compute_argv("t.wasm", ([], {}, None), [], COMMAND, P1)
    assert "--dir" not in no_root and no_root[-1] == "--"


def test_refuses_what_it_cannot_run() -> None:
    adapter = load_adapter()
    with pytest.raises(ValueError, match="wasm32-wasip1"):
        adapter.compute_argv("t.wasm", ([], {}, None), [], COMMAND, "wasm32-wasip3")
    with pytest.raises(ValueError, match="wasi:cli/command"):
        adapter.compute_argv("t.wasm", ([], {}, None), [], "wasi:http/service", P1)
    with pytest.raises(TypeError, match="call form"):
        adapter.compute_argv("t.wasm", ([], {}, None))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["args_env", "exit_code", "files", "stdin_echo"])
def test_runner_runs_case(name: str, form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAFT_TARGET", raising=False)
    case = load_case(name)
    result = runner_case(load_adapter(), form, case, build_wasm(PROGRAMS / f"{name}.c"), tmp_path, monkeypatch)
    check(result, case)


def test_waft_python_starts_this_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$WAFT_PYTHON: a Python with Waft's dependencies runs this checkout's CLI, no console script needed."""
    monkeypatch.delenv("WAFT_TARGET", raising=False)
    monkeypatch.setenv("WAFT_PYTHON", sys.executable)
    adapter = load_adapter()
    assert adapter.waft_command()[:2] == [sys.executable, "-c"]
    case = load_case("args_env")
    check(runner_case(adapter, "2-dirs", case, build_wasm(PROGRAMS / "args_env.c"), tmp_path, monkeypatch), case)


def test_runner_under_another_python(tmp_path: Path) -> None:
    """The runner is usually started with the system's python3: the adapter must load and answer there too."""
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("/usr/bin/python3 is not installed")
    case = load_case("args_env")
    suite = lay_out(case, build_wasm(PROGRAMS / "args_env.c"), tmp_path / "suite")
    probe = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('adapter.py', sys.argv[1])\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "argv = m.compute_argv(sys.argv[2], (json.loads(sys.argv[3]), json.loads(sys.argv[4]), None), [],"
        " 'wasi:cli/command', 'wasm32-wasip1')\n"
        "print(json.dumps([m.get_version(), argv]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WAFT_TARGET", "WAFT_PYTHON")}
    answer = subprocess.run([python, "-c", probe, str(ADAPTER), str(suite / "args_env.wasm"),
                             json.dumps(case.args), json.dumps(case.env)],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert answer.returncode == 0, answer.stderr
    version, argv = json.loads(answer.stdout)
    assert version == load_adapter().get_version()
    check(run_like_the_runner(argv, case.stdin, tmp_path), case)


# -- on a board, under QEMU ---------------------------------------------------


def _require_board_tools() -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
@pytest.mark.parametrize("form", ["3-dirs-world", "4-root"])
def test_runner_runs_case_on_stm32f4(form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """clocks_random writes fs/ready.txt: a named preopen, or the root preopened as "/", in the board's RAM."""
    _require_board_tools()
    monkeypatch.setenv("WAFT_TARGET", "stm32f4")
    monkeypatch.setenv("WAFT_RUN_OPTIONS", "--max-pages 1")
    case = load_case("clocks_random")
    wasm = build_wasm(PROGRAMS / "clocks_random.c", ONE_PAGE)
    check(runner_case(load_adapter(), form, case, wasm, tmp_path, monkeypatch), case)


@pytest.mark.qemu
def test_runner_runs_seeded_case_on_stm32f4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder's contents reach the board: ramfs_files reads and rewrites its seeded files."""
    _require_board_tools()
    monkeypatch.setenv("WAFT_TARGET", "stm32f4")
    monkeypatch.setenv("WAFT_RUN_OPTIONS", "--max-pages 1")
    case = load_case("ramfs_files", BOARD_PROGRAMS)
    wasm = build_wasm(BOARD_PROGRAMS / "ramfs_files.c", ONE_PAGE)
    check(runner_case(load_adapter(), "2-dirs", case, wasm, tmp_path, monkeypatch, seed=BOARD_PROGRAMS), case)


# -- the legacy command-line adapter ---------------------------------------


def legacy(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WAFT_TARGET")}
    return subprocess.run([sys.executable, str(LEGACY_ADAPTER), *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=TIMEOUT)


def test_legacy_version(tmp_path: Path) -> None:
    result = legacy("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"waft {load_adapter().get_version()}\n"


@pytest.mark.parametrize("name", ["args_env", "files", "stdin_echo"])
def test_legacy_runs_case(name: str, tmp_path: Path) -> None:
    """The oldest runner starts the adapter in the test's folder, with --dir names relative to it."""
    case = load_case(name)
    suite = lay_out(case, build_wasm(PROGRAMS / f"{name}.c"), tmp_path / "suite")
    args: list[Any] = [f"--test-file={suite / f'{name}.wasm'}"]
    args += [f"--arg={a}" for a in case.args]
    args += [f"--env={k}={v}" for k, v in case.env.items()]
    args += [f"--dir={d}" for d in case.dirs]
    check(legacy(*args, cwd=suite, stdin=case.stdin), case)


def test_legacy_host_guest_dirs(tmp_path: Path) -> None:
    """Later legacy runners stay in their own folder and pass --dir HOST::GUEST, args last."""
    case = load_case("files")
    suite = lay_out(case, build_wasm(PROGRAMS / "files.c"), tmp_path / "suite")
    runner_cwd = tmp_path / "runner"
    runner_cwd.mkdir()
    args = ["--test-file", str(suite / "files.wasm")]
    for d in case.dirs:
        args += ["--dir", f"{suite / d}::{d}"]
    check(legacy(*args, cwd=runner_cwd), case)
