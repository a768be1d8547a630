"""pyOCD against QEMU: a debug-probe plugin over QEMU's GDB stub, and target types for QEMU's boards.

Select the probe as `qemu:<machine>` (for example `pyocd commander -u qemu:netduinoplus2`,
or `ConnectHelper.session_with_chosen_probe(unique_id="qemu:netduinoplus2")`); the
plugin (waftkit.runners.pyocd_qemu.plugin) is registered on pyOCD's `pyocd.probe` entry point as `qemu`.
"""

# Importing anything from pyOCD loads its probe plugins, this package's among them, and the
# plugin imports waftkit.runners.pyocd_qemu.probe.  Load pyOCD first, here, so that happens while this
# package is being set up, instead of in the middle of importing probe.py (a circular import).
import pyocd.probe.aggregator  # noqa: F401,E402  (import for its side effect)
