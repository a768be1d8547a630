"""The board descriptions in targets/ load, and carry what the compiler and runners need."""

from __future__ import annotations

import dataclasses
import re

import pytest

from aot.emit import target_machine
from aot.errors import TargetError
from aot.targets import all_targets, load_target, target_names

REQUIRED = {"host", "stm32f4", "mps2-an386", "mps2-an500", "mps2-an505", "cortex-m0plus", "nrf52840"}


def test_every_required_target_is_present():
    assert REQUIRED <= set(target_names())


@pytest.mark.parametrize("name", target_names())
def test_llvm_knows_every_targets_cpu_and_features(name):
    """target_machine refuses a description LLVM would only warn about; every shipped one passes."""
    target = load_target(name)
    assert target_machine(target).triple == target.triple


@pytest.mark.parametrize("change,unknown", [
    ({"cpu": "cortex-m99"}, "processor 'cortex-m99'"),
    ({"features": "+thumb-mode,+bogus,+vfp4d16sp"}, "feature '+bogus'"),
])
def test_a_typo_in_cpu_or_features_is_an_error(change, unknown):
    typo = dataclasses.replace(load_target("stm32f4"), name="typo", **change)
    with pytest.raises(TargetError, match=f"target 'typo': LLVM does not know {re.escape(unknown)} "
                                          "for thumbv7em.*targets/typo/target.toml"):
        target_machine(typo)


def test_stm32f4_is_the_documented_board():
    t = load_target("stm32f4")
    assert (t.flash.origin, t.flash.length) == (0x08000000, 1 << 20)
    assert (t.ram.origin, t.ram.length) == (0x20000000, 128 << 10)
    assert t.qemu_machine == "netduinoplus2"
    assert t.hard_float_arm and t.pointer_bits == 32


def test_thumbv6m_target_is_soft_float():
    t = load_target("cortex-m0plus")
    assert t.triple.startswith("thumbv6m") and t.float_abi == "soft" and not t.hard_float_arm


def test_unknown_target_names_the_known_ones():
    with pytest.raises(TargetError, match="unknown target 'nope'.*stm32f4"):
        load_target("nope")


def test_cortex_m_targets_have_memory_maps():
    for t in all_targets():
        if t.kind == "cortex-m":
            assert t.flash and t.ram, t.name


def test_fpu_float_types_follow_the_fpu():
    """Single-precision FPUs (`...sp`) compute f32 only; soft-float targets neither; hosts both."""
    assert load_target("stm32f4").fpu_float_types == {"f32"}
    assert load_target("mps2-an505").fpu_float_types == {"f32"}
    assert load_target("mps2-an500").fpu_float_types == {"f32", "f64"}
    assert load_target("host").fpu_float_types == {"f32", "f64"}
    assert load_target("cortex-m0plus").fpu_float_types == set()
    assert load_target("riscv32-virt").fpu_float_types == set()
