"""runtime_c/shm/ext_regions.c defines exactly the `regions` imports the WIT lowers to, for every core family.

The layer is written at the core level (its comment says why), so it is
compiled here against prototypes generated from wasi_ext/shared-memory's WIT
through the canonical ABI, with -Werror: a drift in a name or a type is a
compile error.  Its behaviour is checked in test_shm_firmware.py.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from aot.package_data import RUNTIME_DIR
from aot.shm import REGIONS_MODULE
from aot.targets import load_target
from aot.wasm.module import Import
from waftkit import wasi_ext
from waftkit.firmware.runtime import runtime_cflags
from waftkit.imports_check import c_prototype


@pytest.mark.parametrize("target_name", ["host", "stm32f4", "mps2-an500"])
def test_runtime_definitions_match_the_wit(tmp_path, target_name):
    target = load_target(target_name)
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} is not installed")
    imports = {name: imp for (module, name), imp in wasi_ext.catalogue().items() if module == REGIONS_MODULE}
    assert sorted(imports) == ["open", "read", "sync-for-cpu", "sync-for-device", "write"]
    prototypes = [c_prototype(Import(REGIONS_MODULE, name, "func", 0), imp.type) + ";"
                  for name, imp in sorted(imports.items())]
    header = tmp_path / "wit_prototypes.h"
    header.write_text("#include <stdint.h>\n" + "\n".join(prototypes) + "\n")
    result = subprocess.run(
        [target.cc, *runtime_cflags(target), "-Werror", "-include", str(header), "-c",
         str(RUNTIME_DIR / "shm" / "ext_regions.c"), "-o", str(tmp_path / "ext.o")],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    nm = "arm-none-eabi-nm" if target.kind == "cortex-m" else "nm"
    defined = subprocess.run([nm, "--defined-only", str(tmp_path / "ext.o")], capture_output=True, text=True).stdout
    for prototype in prototypes:
        symbol = prototype.split("(")[0].split()[-1]
        assert f" T {symbol}\n" in defined, symbol
