"""Regions and grants as the compiler and the firmware builder read them (aot/shm.py, waftkit/firmware/shm_regions.py).

- windows: laid out from the grant list alone, 64 KiB aligned from 0xC0000000,
  the same for the compiler and the generated grant table;
- every bad declaration or grant is one line naming it;
- the compiler refuses a region import that is not granted or has the wrong
  type, and a linear memory that may grow into the windows;
- the generated C places a region in .bss, a section, at a fixed address
  (boards only) or inside another region, and compiles.
"""

from __future__ import annotations

import subprocess

import pytest

from aot import compiler, shm
from aot.errors import LinkError
from aot.package_data import RUNTIME_DIR
from aot.shm import RegionGrant
from aot.targets import load_target
from waftkit.firmware import shm_regions
from waftkit.firmware.runtime import runtime_cflags

REGIONS = shm.REGIONS_MODULE


def wasm(wat: str) -> bytes:
    return subprocess.run(["wat2wasm", "-", "-o", "/dev/stdout"], input=wat.encode(), capture_output=True,
                          check=True).stdout


def test_windows_follow_the_grant_list():
    windows = shm.layout([RegionGrant("a", 1), RegionGrant("b", 0x10001, "ro"), RegionGrant("c", 8)])
    assert [(w.grant.name, w.base) for w in windows] == [("a", 0xC000_0000), ("b", 0xC001_0000), ("c", 0xC003_0000)]
    assert windows[1].end == 0xC002_0001


@pytest.mark.parametrize("grants, message", [
    ([RegionGrant("A", 4)], "region name 'A' must be 1 to 32 lowercase letters, digits or '-'"),
    ([RegionGrant("a", 4), RegionGrant("a", 8)], "region 'a' is granted twice"),
    ([RegionGrant("a", 0)], "region 'a' has size 0"),
    ([RegionGrant("a", 1 << 30), RegionGrant("b", 1)], "region 'b' does not fit"),
])
def test_bad_grant_lists_are_one_line(grants, message):
    with pytest.raises(LinkError) as info:
        shm.layout(grants)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("spec, message", [
    ("ring", "region 'ring': expected NAME:SIZE[@.section|@0xADDRESS|@REGION+OFFSET]"),
    ("ring:lots", "region 'ring:lots': size 'lots' is not a number"),
    ("ring:64@0x20000004", "a fixed address must be 32-byte aligned"),
    ("ring:64@.a b", "'.a b' is not a section name"),
    ("half:64@nothere", "placed in 'nothere', which is not declared"),
    ("big:2048@ring+0", "0+2048 bytes pass the end of 'ring' (1024 bytes)"),
])
def test_bad_declarations_are_one_line(spec, message):
    with pytest.raises(LinkError) as info:
        shm_regions.parse_regions(["ring:1024", spec], load_target("stm32f4"))
    assert message in str(info.value)


def test_a_fixed_address_is_for_boards():
    with pytest.raises(LinkError, match="a fixed address is for boards; host has no fixed memory map"):
        shm_regions.parse_regions(["dma:64@0x20010000"], load_target("host"))


@pytest.mark.parametrize("spec, message", [
    ("ring", "grant 'ring': expected MODULE=REGION[:ro|rw]"),
    ("m=dma", "the firmware declares no region 'dma' (declared: ring)"),
    ("m=ring:64", "expected NAME[:ro|rw] (the firmware's declaration gives the size)"),
])
def test_bad_grants_are_one_line(spec, message):
    regions = shm_regions.parse_regions(["ring:1024"], load_target("host"))
    with pytest.raises(LinkError) as info:
        shm_regions.parse_grants([spec], regions)
    assert message in str(info.value)


def test_the_generated_c_places_every_kind_of_region_and_compiles(tmp_path):
    target = load_target("stm32f4")
    regions = shm_regions.parse_regions(["ring:1000", "rom:64@.shm_rom", "dma:256@0x20010000", "half:500@ring+500"],
                                        target)
    grants = shm_regions.parse_grants(["p=ring", "p=dma:ro", "q=half", "q=rom:ro"], regions)
    text = shm_regions.render_c(regions, grants)
    assert "uint8_t waft_shm_region_ring[1024] __attribute__((aligned(32)));" in text
    assert 'uint8_t waft_shm_region_rom[64] __attribute__((aligned(32), section(".shm_rom")));' in text
    assert ".set waft_shm_region_dma, 0x20010000" in text
    assert ".set waft_shm_region_half, waft_shm_region_ring + 500" in text
    assert '{"dma", waft_shm_region_dma, 0xc0010000u, 256u, 0},' in text
    assert '{"half", waft_shm_region_half, 0xc0000000u, 500u, 1},' in text
    (tmp_path / "shm.c").write_text(text)
    (tmp_path / "shm.h").write_text(shm_regions.render_h(regions, grants))
    (tmp_path / "use.c").write_text('#include "shm.h"\nuint8_t *first(void) { return waft_shm_region_half; }\n'
                                    "unsigned w(void) { return Q_WINDOW_ROM + WAFT_SHM_RING_SIZE; }\n")
    for source in ("shm.c", "use.c"):
        result = subprocess.run([target.cc, *runtime_cflags(target), f"-I{RUNTIME_DIR / 'shm'}", "-Werror", "-c",
                                 source, "-o", source + ".o"], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    symbols = subprocess.run(["arm-none-eabi-nm", "shm.c.o"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert "20010000 A waft_shm_region_dma" in symbols


def test_the_compiler_refuses_an_ungranted_or_mistyped_region_import():
    module = wasm(f'(module (import "{REGIONS}" "region:dma" (func (result i32))) (memory 1))')
    with pytest.raises(LinkError) as info:
        compiler.compile_module(module, load_target("host"), prefix="m", regions=[RegionGrant("ring", 64)])
    assert str(info.value) == "m imports shared-memory region 'dma', which is not granted to it (granted: ring)"
    mistyped = wasm(f'(module (import "{REGIONS}" "region:ring" (func (param i32) (result i32))))')
    with pytest.raises(LinkError, match=r"must be a function \(\) -> i32"):
        compiler.compile_module(mistyped, load_target("host"), prefix="m", regions=[RegionGrant("ring", 64)])


def test_a_memory_that_may_grow_into_the_windows_is_refused():
    module = wasm("(module (memory 1 65536) (func (export \"f\") (result i32) (i32.load (i32.const 0))))")
    with pytest.raises(LinkError, match="linear memory may grow to .* into the shared-memory windows"):
        compiler.compile_module(module, load_target("host"), prefix="m", regions=[RegionGrant("ring", 64)],
                                memory_cap_pages=65536)
    compiler.compile_module(module, load_target("host"), prefix="m", regions=[RegionGrant("ring", 64)],
                            memory_cap_pages=16)


def test_a_module_granted_nothing_compiles_exactly_as_before():
    module = wasm("(module (memory 1) (func (export \"f\") (param i32) (result i32) (i32.load (local.get 0))))")
    plain = compiler.compile_module(module, load_target("stm32f4"), prefix="m")
    again = compiler.compile_module(module, load_target("stm32f4"), prefix="m", regions=[])
    assert plain.object == again.object


def test_waft_check_reports_region_imports_as_resolved_by_the_grants():
    from waftkit.imports_check import check_imports

    module = wasm(f'(module (import "{REGIONS}" "region:ring" (func (result i32))) '
                  f'(import "{REGIONS}" "open" (func (param i32 i32 i32 i32))))')
    from aot.wasm.decode import decode_module

    statuses = check_imports(decode_module(module), load_target("stm32f4"))
    assert [(s.imp.name, s.status, s.ok) for s in statuses] == [("region:ring", "region", True),
                                                                 ("open", "provided", True)]
    assert "fixed at build time by the grants" in statuses[0].detail


def test_waft_compile_takes_regions_and_refuses_an_ungranted_one_or_an_unsafe_build(tmp_path):
    import sys

    source = tmp_path / "m.wasm"
    source.write_bytes(wasm(f'(module (import "{REGIONS}" "region:ring" (func (result i32))) (memory 1) '
                            '(func (export "f") (result i32) (i32.load (call 0))))'))

    def compile_(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "waftkit", "compile", str(source), "-o", str(tmp_path / "m.o"),
                               *args], capture_output=True, text=True)

    result = compile_("--region", "ring:64")
    assert result.returncode == 0 and (tmp_path / "m.o").is_file(), result.stderr
    (tmp_path / "m.o").unlink()
    for args, message in ((("--region", "dma:64"), "m.wasm imports shared-memory region 'ring', which is not "
                                                   "granted to it (granted: dma)"),
                          (("--region", "ring:64", "--unsafe-no-bounds-checks"),
                           "m: shared-memory regions need the bounds checks")):
        result = compile_(*args)
        assert result.returncode != 0 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "m.o").exists()
