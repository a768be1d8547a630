"""`python -m waftkit.testing.fuzz`: a long fuzzing run (overnight), with random or given seeds.

    python -m waftkit.testing.fuzz --time 8h                      # all three modes on the host
    python -m waftkit.testing.fuzz --mode exec --target stm32f4 --count 500
    python -m waftkit.testing.fuzz --mode exec --seed 1234 --count 1   # replay one find

Every bug is printed, minimised and saved as a regression case (default:
tests/fuzz/regressions/ in a checkout), which `pytest tests/fuzz` then always
runs.  Exit status: 0 when nothing was found, 1 when a bug was, 2 on bad
usage or a missing tool (one `waft-fuzz: error:` line).
"""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

import click

from aot.emit import OPT_LEVELS
from aot.errors import AotError
from waftkit.testing.fuzz import oracle, regressions
from waftkit.testing.fuzz.campaign import MODES, Options, run_campaign
from waftkit.testing.fuzz.tools import ToolMissing, wasm_tools

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `8h` -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 90s, 30m, 8h)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _fail(message: str) -> None:
    click.echo(f"waft-fuzz: error: {message}", err=True)
    sys.exit(2)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--mode", type=click.Choice(["exec", "accept", "wit", "all"]), default="all", show_default=True,
              help="exec: run smith modules on Waft and wasmtime; accept: mutated binaries against "
                   "wasm-tools validate; wit: wit-smith packages against wasm-tools' WIT parser.")
@click.option("-t", "--target", default="host", show_default=True,
              help="Where exec runs the modules (host, or a board under QEMU).")
@click.option("--seed", type=click.IntRange(0), default=None,
              help="First seed (default: a random one, printed). Seeds count up from it.")
@click.option("--count", type=click.IntRange(1), default=None,
              help="Seeds per mode (default: 1000, or no limit with --time).")
@click.option("--time", "budget", default=None, help="Stop after this long: 90s, 30m, 8h.")
@click.option("-O", "--opt", type=click.Choice(OPT_LEVELS), default="2", show_default=True,
              help="Waft's optimisation level, as `waft compile -O`.")
@click.option("-j", "--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Compiler processes.")
@click.option("--save-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for regression cases (default: tests/fuzz/regressions in a checkout).")
@click.option("--no-save", is_flag=True, help="Report bugs only: no minimising, no saving.")
@click.option("--shrink-attempts", type=click.IntRange(1), default=200, show_default=True,
              help="Minimisation budget per bug (candidates tried).")
@click.option("--max-saves", type=click.IntRange(0), default=20, show_default=True,
              help="Save at most this many cases in one run.")
def main(mode: str, target: str, seed: int | None, count: int | None, budget: str | None, opt: str, jobs: int,
         save_to: Path | None, no_save: bool, shrink_attempts: int, max_saves: int) -> None:
    """Differential fuzzing of Waft against wasmtime and wasm-tools."""
    seconds = parse_duration(budget) if budget is not None else None
    if count is None and seconds is None:
        count = 1000
    try:
        wasm_tools()
        missing = oracle.available()
        if missing and mode in ("exec", "all"):
            raise ToolMissing(missing)
        from aot.targets import load_target

        load_target(target)
    except (ToolMissing, AotError) as exc:
        _fail(str(exc))
    first = seed if seed is not None else secrets.randbelow(1 << 31)
    folder = None if no_save else (save_to or regressions.default_folder())
    click.echo(f"fuzzing {mode} on {target} (-O{opt}) from seed {first}"
               f"{f', {count} seeds' if count else ''}{f', for {budget}' if budget else ''}"
               f"{f'; cases go to {folder}' if folder else ''}")
    options = Options(target=target, modes=MODES if mode == "all" else (mode,),
                      first_seed=first, count=count, seconds=seconds, jobs=jobs, opt=opt, save_to=folder,
                      shrink_attempts=shrink_attempts, max_saves=max_saves)
    summary = run_campaign(options, sys.stdout)
    sys.exit(1 if summary.bugs else 0)


def entry() -> None:
    """main() with click's usage errors as one line (exit 2), like `waft`'s."""
    try:
        main.main(standalone_mode=False)
    except click.UsageError as exc:
        _fail(exc.format_message())
    except click.Abort:
        sys.exit(130)


if __name__ == "__main__":
    entry()
