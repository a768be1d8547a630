"""tests/bench imports the benchmark's own modules (`bench.metrics`), which live in the checkout beside the
package and are not installed with it: the checkout goes first on sys.path, as `waft bench` puts it there.
(Under `python -m pytest` the working directory is on sys.path already; `pytest` alone, as CI runs it, has
only tests/ -- where tests/bench would pass for `bench` and has no `metrics`.)"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
