"""WIT fuzzing: 200 wit-smith packages from fixed seeds, half of them edited, against wasm-tools' parser.

Waft's WIT front end (aot/wit) must resolve what `wasm-tools component wit`
resolves and refuse the rest with a WitError, never a traceback
(waftkit/testing/fuzz/wit.py).  Disagreements already reported are classed
"known" and tracked by xfail cases in tests/fuzz/regressions/.
"""

from __future__ import annotations

from collections import Counter

import pytest

from fuzz_support import needs_tools
from waftkit.testing.fuzz import wit

CHUNK = 100
CHUNKS = 2

pytestmark = needs_tools


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_waft_resolves_exactly_the_wit_wasm_tools_resolves(chunk: int) -> None:
    seeds = range(chunk * CHUNK, (chunk + 1) * CHUNK)
    inputs = [(s, i) for s in seeds if (i := wit.make_input(s)) is not None]
    verdicts = [wit.judge(i) for _, i in inputs]
    kinds = Counter(v.kind for v in verdicts)
    bugs = [f"seed {s} ({i.origin}): {v}\n    replay: python -m waftkit.testing.fuzz --mode wit --seed {s} "
            f"--count 1" for (s, i), v in zip(inputs, verdicts) if v.is_bug]
    assert not bugs, f"{len(bugs)} of {len(inputs)} packages judged wrongly ({dict(kinds)}):\n" + "\n".join(bugs)
    # Not vacuous: packages resolved and edited ones were refused, by both.
    accepted = sum(1 for v in verdicts if v.waft == "accepted")
    assert 0 < accepted < len(verdicts) and kinds["agree"] >= 0.8 * len(verdicts), dict(kinds)
    assert len(inputs) >= 0.8 * len(seeds)
