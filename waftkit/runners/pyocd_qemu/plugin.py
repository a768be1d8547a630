"""The `qemu` entry on pyOCD's `pyocd.probe` entry point: `-u qemu:<machine>` selects a QEMU board."""

from __future__ import annotations

import shutil

from pyocd.core.plugin import Plugin


class QemuProbePlugin(Plugin):
    """pyOCD plugin for QEMU-backed probes (waftkit.runners.pyocd_qemu.probe.QemuGdbProbe)."""

    def should_load(self) -> bool:
        return shutil.which("qemu-system-arm") is not None

    def load(self):
        from waftkit.runners.pyocd_qemu import targets
        from waftkit.runners.pyocd_qemu.probe import QemuGdbProbe

        targets.register()
        return QemuGdbProbe

    @property
    def name(self) -> str:
        return "qemu"

    @property
    def description(self) -> str:
        return "QEMU Cortex-M machines through QEMU's GDB stub"
