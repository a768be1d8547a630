"""A plain `pip install` of Waft works: the wheel, installed into a fresh venv outside the checkout,
compiles and runs modules for the host and for stm32f4 (under QEMU), and checks modules against the
extensions' WIT worlds it carries (wasi_ext/).

The wheel is built from the checkout with pip (build isolation: the
setuptools that pyproject.toml asks for), installed with its dependencies
into a new venv in a temporary folder, and every command runs from another
temporary folder with a clean environment, so nothing can be found through
the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HELLO_C = '#include <stdio.h>\nint main(int argc, char **argv) { printf("hello from %s\\n", argv[0]); return 3; }\n'
RT_WAT = '(module (import "wasi-ext:threads/threads@0.1.0" "sleep-until" (func (param i64) (result i32))))'
ADD_WAT = '(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))'


def test_every_package_in_the_tree_is_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    in_tree = {".".join(p.parent.relative_to(REPO).parts) for top in ("aot", "waftkit")
               for p in (REPO / top).rglob("__init__.py")}
    assert in_tree <= listed, f"add to [tool.setuptools] packages: {sorted(in_tree - listed)}"


def test_every_data_folder_is_mapped_into_the_wheel():
    """Each folder aot/package_data.py hands out is a mapped package with data, so it ships."""
    from aot import package_data

    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {folder: package for package, folder in tool["package-dir"].items()}
    for path in (package_data.TARGETS_DIR, package_data.RUNTIME_DIR, package_data.SCONS_TOOLS_DIR,
                 package_data.WASI_EXT_DIR):
        top = path.relative_to(package_data.DATA_ROOT).parts[0]
        assert top in mapped, f"{top}/ is not in [tool.setuptools.package-dir]"
        assert mapped[top] in tool["packages"] and mapped[top] in tool["package-data"], mapped[top]


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(command)}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(venv, environment): the wheel installed into a fresh venv; the environment knows nothing of the checkout."""
    root = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "WAFT_"))}
    env["WAFT_CACHE_DIR"] = str(root / "cache")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(REPO)], root, env)
    wheel, = (root / "dist").glob("waft-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "aot/_data/targets/stm32f4/target.toml" in names and "aot/_data/runtime_c/include/waft.h" in names
    # A wheel holds no symlinks: each wasi_ext package's deps/ arrives as copies of its siblings.
    assert "aot/_data/wasi_ext/profiles/deps/threads/threads.wit" in names
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], root, env)
    _run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], root, env)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv, env


def test_the_installed_package_is_not_the_checkout(installed, tmp_path: Path):
    venv, env = installed
    where = _run([str(venv / "bin" / "python"), "-c",
                  "import aot, aot.package_data as d, waftkit; print(aot.__file__); print(d.TARGETS_DIR)"],
                 tmp_path, env).stdout.splitlines()
    assert all(Path(line).is_relative_to(venv) for line in where), where
    assert "stm32f4" in _run([str(venv / "bin" / "waft"), "targets"], tmp_path, env).stdout


def test_the_installed_waft_compiles_a_module(installed, tmp_path: Path):
    venv, env = installed
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm is not installed")
    (tmp_path / "add.wat").write_text(ADD_WAT)
    _run(["wat2wasm", "add.wat", "-o", "add.wasm"], tmp_path, env)
    out = _run([str(venv / "bin" / "waft"), "compile", "add.wasm", "--target", "stm32f4"], tmp_path, env)
    assert out.stdout.strip() == "wrote add.o and add.h (stm32f4, module add)"
    assert (tmp_path / "add.o").read_bytes()[:4] == b"\x7fELF"


def test_the_installed_waft_checks_against_the_shipped_worlds(installed, tmp_path: Path):
    """`waft check --world` finds wasi_ext/ in the installed package, under each spelling."""
    venv, env = installed
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm is not installed")
    (tmp_path / "rt.wat").write_text(RT_WAT)
    _run(["wat2wasm", "rt.wat", "-o", "rt.wasm"], tmp_path, env)
    for world in ("wasi_ext/profiles:firmware-rt", "wasi-ext:profiles/firmware-rt", "firmware-rt"):
        proc = subprocess.run([str(venv / "bin" / "waft"), "check", "rt.wasm", "--world", world],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        # The shipped host target.toml provides wasi-ext:threads (its [wasi_ext] table).
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split()[:2] == ["wasi-ext:threads/threads@0.1.0.sleep-until", "provided"]
        assert "(wasi-ext:profiles/firmware-rt@0.1.0 and p1)" in proc.stdout


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["host", "stm32f4"])
def test_the_installed_waft_runs_a_wasi_program(installed, tmp_path: Path, target: str):
    venv, env = installed
    if not Path("/usr/lib/wasm32-wasi/libc.a").is_file():
        pytest.skip("wasi-libc is not installed")
    (tmp_path / "hello.c").write_text(HELLO_C)
    _run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
          "-Wl,--initial-memory=65536", "hello.c", "-o", "hello.wasm"], tmp_path, env)
    proc = subprocess.run([str(venv / "bin" / "waft"), "run", "hello.wasm", "--target", target],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert (proc.returncode, proc.stdout) == (3, "hello from hello.wasm\n"), proc.stderr


def test_the_installed_scons_tools_build_firmware(installed, tmp_path: Path):
    """The SCons tools ship in the wheel: a project loads them from the installed package."""
    venv, env = installed
    for name in ("main.c", "filter.c", "alarm.wat"):
        shutil.copy(REPO / "examples" / "two_modules" / name, tmp_path / name)
    (tmp_path / "SConstruct").write_text(
        "import os\nfrom aot.package_data import SCONS_TOOLS_DIR\n"
        "env = Environment(tools=['default', 'waft'], toolpath=[str(SCONS_TOOLS_DIR)],\n"
        "                  WAFT_TARGET=ARGUMENTS.get('TARGET', 'host'), ENV={'PATH': os.environ['PATH']})\n"
        "env.Prepend(CPPPATH=['.'])\n"
        "flt = env.WasmProgram('filter.wasm', ['filter.c'],\n"
        "                      WASM_LINKFLAGS=env['WASM_LINKFLAGS'] + ['-nostdlib', '-Wl,--no-entry'])\n"
        "env.WaftFirmware('firmware', ['main.c', flt, 'alarm.wat'], expect_stdout='alarm RAISED\\nalarm cleared\\n2 transitions\\n')\n")
    result = _run([str(venv / "bin" / "scons"), "-Q", "test"], tmp_path, env)
    assert "PASS firmware" in result.stdout
    assert str(REPO) not in result.stdout  # compiled by the installed package, not the checkout
