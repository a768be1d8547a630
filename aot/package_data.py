"""Where the files Waft ships beside its Python code live: board descriptions, the C runtime, SCons
tools, and the WIT of the embedded WASI extensions.

In a checkout (and an editable install) they sit at the repository root:
`targets/`, `runtime_c/`, `site_scons/site_tools/`, `wasi_ext/`.  A wheel cannot hold
files outside its packages, so pyproject.toml maps those folders into
`aot/_data/` and they arrive there on `pip install`.  This module is the one
place that knows both layouts; everything else asks it for a folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_INSTALLED = Path(str(files("aot"))) / "_data"
# The shipped copy when there is one, else the checkout this package sits in.
DATA_ROOT = _INSTALLED if _INSTALLED.is_dir() else Path(__file__).resolve().parent.parent

TARGETS_DIR = DATA_ROOT / "targets"
RUNTIME_DIR = DATA_ROOT / "runtime_c"
SCONS_TOOLS_DIR = DATA_ROOT / "site_scons" / "site_tools"
WASI_EXT_DIR = DATA_ROOT / "wasi_ext"
