"""Load the declarative board descriptions in `targets/<name>/target.toml`.

A target says what the compiler needs (LLVM triple, CPU, features, float
ABI), what the linker needs (C compiler, flags, memory map) and how to run
it (QEMU machine, pyOCD target type).  Nothing here knows about a specific
board: adding a board is adding a folder.
"""

from __future__ import annotations

import platform
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from aot.errors import TargetError
from aot.package_data import TARGETS_DIR

_HOST_TRIPLES = {
    "x86_64": "x86_64-pc-linux-gnu",
    "aarch64": "aarch64-unknown-linux-gnu",
}


def is_arm_triple(triple: str) -> bool:
    """Whether an LLVM target triple is 32-bit Arm (Thumb or A32)."""
    return triple.startswith(("thumb", "arm"))


@dataclass(frozen=True)
class MemoryRegion:
    origin: int
    length: int


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    kind: str  # "host" | "cortex-m" | "riscv"
    triple: str
    cpu: str
    features: str
    float_abi: str  # "hard" | "soft"
    cc: str
    cflags: tuple[str, ...]
    directory: Path
    default_memory_cap_pages: int = 1
    abi_name: str = ""
    flash: MemoryRegion | None = None
    ram: MemoryRegion | None = None
    qemu_system: str | None = None
    qemu_machine: str | None = None
    pyocd_target: str | None = None
    # Word accesses must be naturally aligned (Armv6-M faults, RV32 traps or emulates slowly):
    # target.toml `strict_alignment = true`.
    strict_alignment: bool = False
    # Wasm functions whose native frame is bigger than this get their stack checked before
    # the frame is pushed (aot/lower/frames.py); WAFT_STACK_MARGIN must hold this much plus
    # the trap path and the imports.  target.toml `max_unguarded_frame`; default by kind.
    max_unguarded_frame: int = 512
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_host(self) -> bool:
        return self.kind == "host"

    @property
    def is_arm(self) -> bool:
        return is_arm_triple(self.triple)

    @property
    def hard_float_arm(self) -> bool:
        """ARM code that passes floats in VFP registers (needs arm_aapcs_vfpcc)."""
        return self.is_arm and self.float_abi == "hard"

    @property
    def fpu_float_types(self) -> frozenset[str]:
        """The Wasm float types this target's FPU computes in hardware (the rest are libcalls).

        Arm FPUs named with an `sp` suffix (`+vfp4d16sp`, `+fp-armv8d16sp`)
        are single precision; soft-float targets have none.
        """
        if self.float_abi != "hard":
            return frozenset()
        if self.is_arm and any(f.startswith(("+vfp", "+fp")) and f.endswith("sp")
                               for f in self.features.split(",")):
            return frozenset({"f32"})
        return frozenset({"f32", "f64"})

    @property
    def pointer_bits(self) -> int:
        return 64 if self.triple.startswith(("x86_64", "aarch64")) else 32


def _region(table: dict | None) -> MemoryRegion | None:
    if not table:
        return None
    return MemoryRegion(origin=int(table["origin"]), length=int(table["length"]))


def _host_triple() -> str:
    machine = platform.machine()
    try:
        return _HOST_TRIPLES[machine]
    except KeyError:
        raise TargetError(f"host target: unsupported machine '{machine}' (x86_64 or aarch64)") from None


@cache
def load_target(name: str) -> Target:
    """The target called `name`; raises TargetError listing the known ones."""
    path = TARGETS_DIR / name / "target.toml"
    if not path.is_file():
        known = ", ".join(target_names())
        raise TargetError(f"unknown target '{name}' (known targets: {known})")
    with path.open("rb") as f:
        data = tomllib.load(f)
    triple = data["triple"]
    if triple == "native":
        triple = _host_triple()
    memory = data.get("memory", {})
    qemu = data.get("qemu", {})
    pyocd = data.get("pyocd", {})
    return Target(
        name=data["name"],
        description=data["description"],
        kind=data["kind"],
        triple=triple,
        cpu=data["cpu"],
        features=data.get("features", ""),
        float_abi=data.get("float_abi", "hard"),
        cc=data["cc"],
        cflags=tuple(data.get("cflags", ())),
        directory=path.parent,
        default_memory_cap_pages=int(data.get("default_memory_cap_pages", 1)),
        abi_name=data.get("abi_name", ""),
        flash=_region(memory.get("flash")),
        ram=_region(memory.get("ram")),
        qemu_system=qemu.get("system"),
        qemu_machine=qemu.get("machine"),
        pyocd_target=pyocd.get("target"),
        strict_alignment=bool(data.get("strict_alignment", False)),
        max_unguarded_frame=int(data.get("max_unguarded_frame", _MAX_UNGUARDED_FRAME.get(data["kind"], 512))),
        extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
    )


_KNOWN_KEYS = {
    "name", "description", "kind", "triple", "cpu", "features", "float_abi", "cc",
    "cflags", "default_memory_cap_pages", "abi_name", "memory", "qemu", "pyocd", "strict_alignment",
    "max_unguarded_frame",
}
# A quarter of waft.h's default WAFT_STACK_MARGIN (64 KiB on a host, 2 KiB on bare metal).
_MAX_UNGUARDED_FRAME = {"host": 16 * 1024}


def target_names() -> list[str]:
    """Names of every target folder, sorted."""
    return sorted(p.parent.name for p in TARGETS_DIR.glob("*/target.toml"))


def all_targets() -> list[Target]:
    return [load_target(name) for name in target_names()]
