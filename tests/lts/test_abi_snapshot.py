"""The frozen ABI (docs/lts.md): this checkout's ABI equals the golden snapshot of its WAFT_ABI_VERSION.

tests/lts/golden/abi_v<N>.json holds, for ABI version N, the waft.h function
prototypes and extern objects, the trap codes and other constants, the struct
layouts on each frozen target, the WASI p1 functions the runtime provides and
the BSP hooks (tests/lts/lts_snapshot.py takes it with the real compilers),
and the runtime libraries really define every frozen p1 function.
A breaking difference fails unless the version was bumped; additions need
the golden rewritten (`WAFT_UPDATE_GOLDEN=1`), which refuses to overwrite a
golden with a breaking change.  The other tests prove the check fails: they
change a trap code and a struct in a copy of the header and compare.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import lts_snapshot
import pytest

from aot import abi
from aot.targets import load_target
from waftkit import wasi
from waftkit.firmware import wasi_firmware
from waftkit.firmware.runtime import INCLUDE_DIR, runtime_library

REPO = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
GOLDEN = GOLDEN_DIR / f"abi_v{abi.ABI_VERSION}.json"


@pytest.fixture(scope="module")
def current() -> dict:
    return lts_snapshot.take()


@pytest.fixture(scope="module")
def golden() -> dict:
    if not GOLDEN.is_file():
        pytest.fail(f"no golden ABI snapshot for WAFT_ABI_VERSION {abi.ABI_VERSION} ({GOLDEN}): "
                    "write it with WAFT_UPDATE_GOLDEN=1 pytest tests/lts/test_abi_snapshot.py")
    return json.loads(GOLDEN.read_text())


def test_abi_matches_the_golden_snapshot_of_its_version(current):
    if os.environ.get("WAFT_UPDATE_GOLDEN"):
        if GOLDEN.is_file():
            diff = lts_snapshot.compare(json.loads(GOLDEN.read_text()), current)
            if diff.breaking:
                pytest.fail("refusing to rewrite the golden: " + lts_snapshot.explain(diff, abi.ABI_VERSION))
        GOLDEN_DIR.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    stored = json.loads(GOLDEN.read_text())
    assert stored["abi_version"] == abi.ABI_VERSION
    diff = lts_snapshot.compare(stored, current, targets=list(current["layouts"]))
    assert not diff.breaking, lts_snapshot.explain(diff, abi.ABI_VERSION)
    assert not diff.additions, ("the ABI grew (compatible: no version bump); record it with "
                                "WAFT_UPDATE_GOLDEN=1 pytest tests/lts/test_abi_snapshot.py:\n  - "
                                + "\n  - ".join(diff.additions))


def test_every_frozen_target_is_in_the_golden(golden):
    assert sorted(golden["layouts"]) == sorted(lts_snapshot.LAYOUT_TARGETS)
    assert len(golden["wasi_snapshot_preview1"]) == 46
    assert all(entry["c"] for entry in golden["wasi_snapshot_preview1"].values())


def _header_copy(tmp_path: Path, old: str, new: str) -> Path:
    include = tmp_path / "include"
    shutil.copytree(INCLUDE_DIR, include)
    header = include / "waft.h"
    text = header.read_text()
    assert old in text
    header.write_text(text.replace(old, new, 1))
    return include


def test_a_changed_trap_code_fails_and_says_to_bump(tmp_path, golden):
    include = _header_copy(tmp_path, "WAFT_TRAP_HOST = 12,", "WAFT_TRAP_HOST = 17,")
    changed = lts_snapshot.take(targets=["host"], include=include)
    diff = lts_snapshot.compare(golden, changed, targets=["host"])
    assert "constants.WAFT_TRAP_HOST changed: 12 -> 17" in diff.breaking
    message = lts_snapshot.explain(diff, abi.ABI_VERSION)
    assert f"bump WAFT_ABI_VERSION to {abi.ABI_VERSION + 1}" in message
    assert "constants.WAFT_TRAP_HOST changed: 12 -> 17" in message


def test_a_changed_struct_layout_fails(tmp_path, golden):
    # Swap two fields of waft_memory, as an innocent "tidy-up" would.
    include = _header_copy(tmp_path, "    uint32_t pages;           /* current size in pages */\n"
                                     "    uint32_t max_pages;",
                           "    uint32_t max_pages;\n    uint32_t pages;           /* current size in pages */")
    changed = lts_snapshot.take(targets=["stm32f4"], include=include)
    diff = lts_snapshot.compare(golden, changed, targets=["stm32f4"])
    assert "layouts.stm32f4.waft_memory.pages changed: 8 -> 12" in diff.breaking
    assert "layouts.stm32f4.waft_memory.max_pages changed: 12 -> 8" in diff.breaking


def test_a_changed_prototype_fails(tmp_path, golden):
    include = _header_copy(tmp_path, "int32_t waft_memory_grow(waft_memory *m, uint32_t delta_pages);",
                           "int64_t waft_memory_grow(waft_memory *m, uint32_t delta_pages);")
    diff = lts_snapshot.compare(golden, lts_snapshot.take(targets=[], include=include), targets=[])
    assert any(b.startswith("functions.waft_memory_grow changed") for b in diff.breaking)


def test_a_trap_code_added_at_the_end_is_an_addition_not_a_break(golden):
    grown = json.loads(json.dumps(golden))
    grown["constants"]["WAFT_TRAP_NEW_THING"] = 17
    grown["constants"]["WAFT_TRAP_CODE_COUNT"] += 1
    diff = lts_snapshot.compare(golden, grown)
    assert diff.breaking == []
    assert diff.additions == ["constants.WAFT_TRAP_NEW_THING added (17)"]


def test_a_removed_p1_function_is_breaking(golden):
    shrunk = json.loads(json.dumps(golden))
    del shrunk["wasi_snapshot_preview1"]["sock_accept"]
    diff = lts_snapshot.compare(golden, shrunk)
    assert diff.breaking == ["wasi_snapshot_preview1.sock_accept removed (was {2 entries})"]


@pytest.mark.parametrize("target_name", ["host", "stm32f4"])
def test_the_runtime_defines_every_frozen_p1_function(golden, target_name):
    """The golden's p1 set is what the runtime provides, not only what its header declares."""
    target = load_target(target_name)
    defines = [] if target.is_host else wasi_firmware.runtime_defines()
    library = runtime_library(target, REPO / "build" / "tests" / "lts",
                              extra_sources=wasi.runtime_sources(target), defines=defines)
    nm = lts_snapshot.nm_for(target.cc)
    text = subprocess.run([nm, "--defined-only", str(library)], capture_output=True, text=True, check=True).stdout
    defined = {line.split()[-1] for line in text.splitlines() if len(line.split()) == 3}
    frozen = {f"wasi_snapshot_preview1__{name}" for name in golden["wasi_snapshot_preview1"]}
    assert frozen - defined == set()
