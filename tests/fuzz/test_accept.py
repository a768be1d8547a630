"""Accept/reject fuzzing: 300 mutated binaries from fixed seeds, Waft against `wasm-tools validate`.

Inputs are wasm-smith modules (in Waft's language, or using every proposal
smith knows) changed by wasm-mutate, by byte edits, or both
(waftkit/testing/fuzz/accept.py).  Waft must compile what validate accepts
with Waft's features, refuse cleanly what only other proposals make valid,
and reject the rest — always with one error line from an AotError, never a
traceback.
"""

from __future__ import annotations

from collections import Counter

import pytest

from fuzz_support import needs_tools
from waftkit.testing.fuzz import accept

CHUNK = 60
CHUNKS = 5  # 300 inputs

pytestmark = needs_tools


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_waft_accepts_exactly_what_validate_accepts(chunk: int, host_pool) -> None:
    seeds = range(chunk * CHUNK, (chunk + 1) * CHUNK)
    inputs = [(s, i) for s in seeds if (i := accept.make_input(s)) is not None]
    verdicts = accept.check(host_pool, [i.data for _, i in inputs])
    bugs = [f"seed {s} ({i.origin}): {v}\n    replay: python -m waftkit.testing.fuzz --mode accept "
            f"--seed {s} --count 1" for (s, i), v in zip(inputs, verdicts) if v.is_bug]
    kinds = Counter(v.kind for v in verdicts)
    assert not bugs, f"{len(bugs)} of {len(inputs)} inputs judged wrongly ({dict(kinds)}):\n" + "\n".join(bugs)
    # Not vacuous: the chunk had modules Waft must compile and modules it must reject.
    accepted = sum(1 for v in verdicts if v.waft == "accepted")
    assert accepted > 0 and accepted < len(verdicts), dict(kinds)
    assert len(inputs) >= 0.8 * len(seeds)
