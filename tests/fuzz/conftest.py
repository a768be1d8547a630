"""Fixtures of the fuzz suite: Waft runners and compile pools, one per test file and worker.

Each owns a process pool that takes a second or so to start, so they are
module-scoped rather than per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aot.targets import load_target
from waftkit.testing.fuzz.execute import WaftExecutor
from waftkit.testing.fuzz.pool import CompilePool


@pytest.fixture(scope="module")
def host_executor() -> Iterator[WaftExecutor]:
    with WaftExecutor(load_target("host")) as executor:
        yield executor


@pytest.fixture(scope="module")
def host_pool() -> Iterator[CompilePool]:
    with CompilePool(load_target("host")) as pool:
        yield pool
