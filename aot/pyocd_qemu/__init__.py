"""pyOCD against QEMU: a debug-probe plugin over QEMU's GDB stub, and target types for QEMU's boards.

Select the probe as `qemu:<machine>` (for example `pyocd commander -u qemu:netduinoplus2`,
or `ConnectHelper.session_with_chosen_probe(unique_id="qemu:netduinoplus2")`); the
plugin is registered on pyOCD's `pyocd.probe` entry point as `qemu`.
"""

from aot.pyocd_qemu.probe import QemuGdbProbe, QemuProbePlugin

__all__ = ["QemuGdbProbe", "QemuProbePlugin"]
