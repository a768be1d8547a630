"""`waft run` and `waft check` from the command line, on real wasi-libc programs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HELLO_C = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    printf("hello %s argc=%d GREETING=%s\n", argc > 1 ? argv[1] : "-", argc,
           getenv("GREETING") ? getenv("GREETING") : "-");
    FILE *f = fopen("data/in.txt", "r");
    if (f) { char line[64]; if (fgets(line, sizeof line, f)) printf("read: %s", line); fclose(f); }
    fprintf(stderr, "to stderr\n");
    return argc > 2 ? atoi(argv[2]) : 0;
}
"""

ENV_IMPORT_WAT = """(module
  (import "env" "sensor" (func (param i32) (result f32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i64)))
  (memory (export "memory") 1)
  (func (export "_start")))"""


def waft(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", *args], capture_output=True, text=True,
                          cwd=cwd, env=env)


@pytest.fixture(scope="module")
def hello(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hello")
    (folder / "hello.c").write_text(HELLO_C)
    subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", str(folder / "hello.c"),
                    "-o", str(folder / "hello.wasm")], check=True)
    (folder / "data").mkdir()
    (folder / "data" / "in.txt").write_text("seeded line\n")
    return folder / "hello.wasm"


@pytest.fixture
def cache_env(tmp_path_factory, monkeypatch) -> dict:
    import os

    return {**os.environ, "WAFT_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "waft-cache")}


def test_run_passes_args_env_dirs_output_and_exit_status(hello: Path, cache_env: dict):
    result = waft("run", str(hello), "--env", "GREETING=hi", "--dir", f"{hello.parent / 'data'}::data",
                  "--", "world", "7", env=cache_env)
    assert result.returncode == 7, result.stderr
    assert result.stdout == "hello world argc=3 GREETING=hi\nread: seeded line\n"
    assert result.stderr == "to stderr\n"


def test_second_run_reuses_the_build(hello: Path, cache_env: dict):
    waft("run", str(hello), env=cache_env)
    builds = sorted((Path(cache_env["WAFT_CACHE_DIR"]) / "modules" / "host").iterdir())
    result = waft("run", str(hello), "--", "again", env=cache_env)
    assert result.returncode == 0 and "hello again" in result.stdout
    assert sorted((Path(cache_env["WAFT_CACHE_DIR"]) / "modules" / "host").iterdir()) == builds


def test_sandbox_refuses_paths_outside_the_preopen(hello: Path, tmp_path: Path, cache_env: dict):
    # Without --dir the program cannot open data/in.txt: no "read:" line, still exit 0.
    result = waft("run", str(hello), env=cache_env)
    assert result.returncode == 0 and "read:" not in result.stdout


def test_check_lists_provided_imports(hello: Path):
    result = waft("check", str(hello))
    assert result.returncode == 0, result.stderr
    assert "wasi_snapshot_preview1.fd_write" in result.stdout and "provided" in result.stdout
    assert "all" in result.stdout.splitlines()[-1]


def test_check_and_run_name_what_is_missing(tmp_path: Path, cache_env: dict):
    wat = tmp_path / "needs_env.wat"
    wat.write_text(ENV_IMPORT_WAT)
    wasm = tmp_path / "needs_env.wasm"
    subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], check=True)
    check = waft("check", str(wasm))
    assert check.returncode == 1
    assert "env.sensor" in check.stdout and "missing" in check.stdout
    assert "float env__sensor(void *ctx, int32_t p0);" in check.stdout
    assert "proc_exit" in check.stdout and "type mismatch" in check.stdout  # i64, not i32
    assert check.stderr.startswith("waft: error: needs_env.wasm: 2 of 3 imports")
    run = waft("run", str(wasm), env=cache_env)
    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1
    assert "cannot satisfy 2 import(s): env.sensor (missing)" in run.stderr


def test_run_refuses_a_module_without_start(tmp_path: Path, cache_env: dict):
    wat = tmp_path / "lib.wat"
    wat.write_text('(module (memory (export "memory") 1) (func (export "f")))')
    wasm = tmp_path / "lib.wasm"
    subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], check=True)
    run = waft("run", str(wasm), env=cache_env)
    assert run.returncode == 1
    assert "exports no _start function" in run.stderr


def test_run_option_errors(hello: Path):
    assert "--dir wants HOST::GUEST" in waft("run", str(hello), "--dir", "nope").stderr
    assert "--env wants K=V" in waft("run", str(hello), "--env", "X").stderr


@pytest.mark.qemu
def test_run_on_stm32f4_under_qemu(tmp_path: Path, cache_env: dict):
    source = tmp_path / "small.c"
    source.write_text(HELLO_C)
    wasm = tmp_path / "small.wasm"
    subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
                    "-Wl,--initial-memory=65536", str(source), "-o", str(wasm)], check=True)
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("from the RAM filesystem\n")
    result = waft("run", str(wasm), "--target", "stm32f4", "--env", "GREETING=hi",
                  "--dir", f"{data}::data", "--", "board", "5", env=cache_env)
    assert result.returncode == 5, result.stderr
    assert result.stdout == "hello board argc=3 GREETING=hi\nread: from the RAM filesystem\n"
    assert "to stderr" in result.stderr


def test_run_refuses_a_module_too_big_for_the_board(hello: Path, cache_env: dict):
    # wasi-libc's default module starts with 128 KiB of linear memory: all of the STM32F4's RAM.
    result = waft("run", str(hello), "--target", "stm32f4", env=cache_env)
    assert result.returncode == 1
    assert "bytes of RAM for its instance" in result.stderr and "stm32f4 has 131,072" in result.stderr
    assert "-Wl,--initial-memory=65536" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
