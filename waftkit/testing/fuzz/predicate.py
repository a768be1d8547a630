"""Does a module still show a bug of a given class?  The question minimisation keeps asking.

As functions (`exec_shows`, `accept_shows`) for the in-process reducer, and
as a command for `wasm-tools shrink`, which runs its predicate once per
candidate and keeps the candidate when it exits 0:

    python -m waftkit.testing.fuzz.predicate exec --target host --seed 17 --want mismatch FILE
    python -m waftkit.testing.fuzz.predicate accept --target host --want "accepted invalid" FILE

Exit status 0: it does; 1: it does not (or the candidate cannot be judged).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aot.targets import load_target
from waftkit.testing.fuzz import differential
from waftkit.testing.fuzz.accept import judge
from waftkit.testing.fuzz.execute import WaftExecutor
from waftkit.testing.fuzz.pool import CompilePool


def exec_shows(data: bytes, seed: int, executor: WaftExecutor, want: str) -> bool:
    """Whether running the module (arguments from `seed`) on Waft and on the oracle gives a
    finding of class `want` (compare.BUGS)."""
    cases = differential.run_modules([(seed, data)], executor)
    return bool(cases) and any(f.kind == want for f in cases[0].verdict.bugs)


def accept_shows(data: bytes, pool: CompilePool, want: str) -> bool:
    """Whether Waft's answer for the module, judged by validate, is of class `want` (accept.BUGS)."""
    return judge(data, pool.submit(data, "m0").result()).kind == want


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("mode", type=click.Choice(["exec", "accept"]))
@click.argument("wasm", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", "target_name", default="host", show_default=True)
@click.option("--opt", default="2", show_default=True, help="Waft's optimisation level.")
@click.option("--seed", type=int, default=0, help="exec: the seed that picks the call arguments.")
@click.option("--want", required=True, help="The class of bug to keep (e.g. mismatch, crash).")
def main(mode: str, wasm: Path, target_name: str, opt: str, seed: int, want: str) -> None:
    data = wasm.read_bytes()
    target = load_target(target_name)
    try:
        # jobs=0: one module to compile, in a fork of this process; no workers to start.
        if mode == "exec":
            with WaftExecutor(target, opt=opt, jobs=0) as executor:
                shows = exec_shows(data, seed, executor, want)
        else:
            with CompilePool(target, opt=opt, jobs=0) as pool:
                shows = accept_shows(data, pool, want)
    except Exception:  # a candidate that breaks the checking is not a smaller copy of the bug
        shows = False
    sys.exit(0 if shows else 1)


if __name__ == "__main__":
    main()
