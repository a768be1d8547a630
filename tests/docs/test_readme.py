"""The README's commands run as written.

Every fenced block in README.md carries a marker comment saying how it is checked:
    <!-- readme-test: run -->            a console session: each `$ command` runs in one
                                         workspace (in order, across blocks); lines after a
                                         command are its expected stdout; `$ cat FILE`
                                         followed by text creates FILE with that text
    <!-- readme-test: file NAME -->      the block is the content of NAME in the workspace
    <!-- readme-test: scons FILES... --> the block is an SConstruct; FILES (from the checkout)
                                         go beside it; it must build for stm32f4 and pass
                                         `scons test` on the host
    <!-- readme-test: covered PATHS...; why -->  long or hardware-bound commands whose
                                         behaviour the named tests (or CI script) exercise
The workspace sees the checkout's `.venv`, `runtime_c` and `examples` as a user in
the repository root would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
MARKED = re.compile(r"^<!-- readme-test: (.*?) -->\n```(\w*)\n(.*?)^```$", re.S | re.M)
VENV = Path(sys.executable).parent.parent


def blocks() -> list[tuple[str, str, str]]:
    """(marker, language, body) of every marked block, in README order."""
    return MARKED.findall(README.read_text())


def test_every_block_says_how_it_is_checked():
    assert len(blocks()) == len(FENCE.findall(README.read_text())) > 5


@pytest.mark.parametrize("marker", [m for m, _, _ in blocks() if m.startswith("covered ")])
def test_covering_tests_exist(marker: str):
    paths = marker.removeprefix("covered ").split(";")[0].split()
    assert paths and all((REPO / p).exists() for p in paths), marker


def commands_and_outputs(session: str) -> list[tuple[str, list[str]]]:
    """A console session as (command, expected output lines); `\\` continues a command."""
    steps: list[tuple[str, list[str]]] = []
    lines = iter(session.splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
            steps.append((command, []))
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1][1].append(line)
    return steps


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for name, source in ((".venv", VENV), ("runtime_c", REPO / "runtime_c"), ("examples", REPO / "examples")):
        (tmp_path / name).symlink_to(source)
    return tmp_path


@pytest.mark.qemu
def test_the_console_sessions_run_as_written(workspace: Path):
    ran = 0
    for marker, _language, body in blocks():
        if marker.startswith("file "):
            (workspace / marker.split()[1]).write_text(body)
            continue
        if marker != "run":
            continue
        for command, expected in commands_and_outputs(body):
            if command.startswith("cat ") and expected:
                (workspace / command.split()[1]).write_text("\n".join(expected) + "\n")
                continue
            proc = subprocess.run(["bash", "-c", command], cwd=workspace, capture_output=True, text=True,
                                  timeout=900)
            assert proc.returncode == 0, f"$ {command}\n{proc.stdout}{proc.stderr}"
            if expected:
                assert proc.stdout.rstrip("\n").splitlines() == expected, f"$ {command}"
            ran += 1
    assert ran >= 10


@pytest.mark.qemu
def test_the_scons_plugin_snippet_builds_a_project(workspace: Path):
    (marker, _, body), = [b for b in blocks() if b[0].startswith("scons ")]
    for source in marker.split()[1:]:
        shutil.copy(REPO / source, workspace / Path(source).name)
    (workspace / "SConstruct").write_text(body.replace('"/path/to/waft"', repr(str(REPO))))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    scons = str(VENV / "bin" / "scons")
    board = subprocess.run([scons, "-Q", "TARGET=stm32f4"], cwd=workspace, capture_output=True, text=True,
                           env=env, timeout=900)
    assert board.returncode == 0, board.stdout + board.stderr
    assert (workspace / "firmware.elf").is_file() and "firmware.elf (stm32f4):" in board.stdout
    host = subprocess.run([scons, "-Q", "TARGET=host", "test"], cwd=workspace, capture_output=True, text=True,
                          env=env, timeout=900)
    assert host.returncode == 0 and "PASS firmware" in host.stdout, host.stdout + host.stderr
