"""Settings for the whole suite: every cache lives in the checkout's build folder.

`waft run`, spectest and the test harnesses share `waftkit.cache.cache_dir()`;
pointing it at build/cache (unless the caller chose another folder) keeps a CI
run's products beside its checkout, where `git clean` or a fresh clone removes
them, instead of in the user's ~/.cache.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("WAFT_CACHE_DIR", str(Path(__file__).resolve().parents[1] / "build" / "cache"))
