"""Spec scripts compiled in partitions (aot/partition.py): calls, tables, exports, data across partitions.

$WAFT_PARTITION_BYTES=64 splits every module of a script into partitions of a
few functions, so each call, `call_indirect`, `ref.func`, export alias and
passive segment here crosses partition boundaries and the combined object
(ld.lld -r, --localize-hidden) is what runs: on the host, and on stm32f4 under
QEMU.  A folder of its own for the build cache: the spec runner's cache key
does not see the variable, so a whole-module build must not be reused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "wasm-spec-testsuite"
SCRIPTS = ("call.wast", "call_indirect.wast", "exports.wast", "func_ptrs.wast", "memory_init.wast",
           "table_init.wast", "start.wast", "fac.wast", "left-to-right.wast")


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory):
    if shutil.which("ld.lld") is None or shutil.which("llvm-objcopy") is None:
        pytest.skip("ld.lld and llvm-objcopy combine the partitions")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAFT_PARTITION_BYTES", "64")
        mp.setenv("WAFT_CACHE_DIR", str(tmp_path_factory.mktemp("partitioned-cache")))
        yield


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"spec suite not found at {SUITE}")
@pytest.mark.parametrize("name", SCRIPTS)
def test_partitioned_spec_script_on_host(name: str, partitioned, spec_run) -> None:
    spec_run(SUITE / name, "host")


@pytest.mark.qemu
@pytest.mark.skipif(not SUITE.is_dir(), reason=f"spec suite not found at {SUITE}")
@pytest.mark.parametrize("name", SCRIPTS)
def test_partitioned_spec_script_on_stm32f4(name: str, partitioned, spec_run) -> None:
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is not installed")
    spec_run(SUITE / name, "stm32f4")
