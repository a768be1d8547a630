"""A fuzzing campaign: seeds in chunks until a count or a time budget runs out; bugs minimised and saved.

The overnight entry (`python -m waftkit.testing.fuzz`) is a thin command
around `run_campaign`.  Seeds run from `first_seed` upwards, alternating
chunks of execution fuzzing (smith modules, oracle against Waft on the
target), accept/reject fuzzing (mutated binaries against validate) and WIT
fuzzing (wit-smith packages, edited, against wasm-tools' WIT parser).
Every bug is minimised (reduce.py) and saved as a regression case
(regressions.py), at most one per distinct minimised module and at most
`max_saves` in all, so a bug that every tenth seed hits does not fill the
folder.  Progress is one line per chunk; the last line sums it all up.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from aot.targets import load_target
from waftkit.testing.fuzz import accept, differential, predicate, reduce, regressions, tools, wit
from waftkit.testing.fuzz.execute import WaftExecutor
from waftkit.testing.fuzz.pool import CompilePool

CHUNK = 50  # seeds per progress line
MODES = ("exec", "accept", "wit")


@dataclass
class Options:
    target: str = "host"
    modes: tuple[str, ...] = ("exec", "accept", "wit")
    first_seed: int = 0
    count: int | None = 1000  # seeds per mode; None: until the time budget runs out
    seconds: float | None = None  # time budget
    jobs: int = 1
    opt: str = "2"  # Waft's optimisation level (its -O)
    save_to: Path | None = None  # None: do not minimise or save
    shrink_attempts: int = 200
    max_saves: int = 20


@dataclass
class Summary:
    counts: dict[str, Counter] = field(default_factory=lambda: {m: Counter() for m in MODES})
    modules: Counter = field(default_factory=Counter)  # mode -> inputs judged
    steps: int = 0  # exec: instantiations and calls compared
    bugs: list[str] = field(default_factory=list)  # one line per bug
    saved: list[Path] = field(default_factory=list)

    def line(self) -> str:
        parts = []
        for mode in MODES:
            if self.modules[mode]:
                kinds = ", ".join(f"{n} {k}" for k, n in self.counts[mode].most_common())
                what = {"exec": f"{self.modules[mode]} modules, {self.steps} steps compared",
                        "accept": f"{self.modules[mode]} inputs",
                        "wit": f"{self.modules[mode]} packages"}[mode]
                parts.append(f"{mode}: {what} ({kinds})")
        saved = f", {len(self.saved)} saved" if self.saved else ""
        return "; ".join(parts) + f"; {len(self.bugs)} bugs{saved}"


def _found(mode: str, target: str, seed: int, opt: str) -> str:
    return f"python -m waftkit.testing.fuzz --mode {mode} --target {target} --opt {opt} --seed {seed} " \
           f"--count 1 ({tools.version()})"


class Campaign:
    def __init__(self, options: Options, out: TextIO) -> None:
        self.o = options
        self.out = out
        self.summary = Summary()
        self.target = load_target(options.target)
        self._seen: set[bytes] = set()  # inputs and minimised modules already saved

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _can_save(self, data: bytes) -> bool:
        return self.o.save_to is not None and len(self.summary.saved) < self.o.max_saves and \
            data not in self._seen

    # --- execution fuzzing

    def exec_chunk(self, executor: WaftExecutor, seeds: list[int]) -> None:
        cases = differential.run_seeds(seeds, executor)
        chunk: Counter = Counter()
        for case in cases:
            verdict = case.verdict
            assert verdict is not None
            chunk[verdict.kind] += 1
            self.summary.steps += verdict.compared
            for bug in verdict.bugs[:1]:  # the first: later ones may follow from it
                self._exec_bug(executor, case, bug.kind, str(bug))
        self.summary.counts["exec"].update(chunk)
        self.summary.modules["exec"] += len(cases)
        self._say(f"[exec {self.target.name}] seeds {seeds[0]}..{seeds[-1]}: {len(cases)} modules "
                  f"({', '.join(f'{n} {k}' for k, n in chunk.most_common())})")

    def _exec_bug(self, executor: WaftExecutor, case: differential.Case, kind: str, text: str) -> None:
        line = f"BUG exec seed {case.seed} on {self.target.name}: {text}"
        self.summary.bugs.append(line)
        self._say(line)
        if not self._can_save(case.data):
            return
        data = reduce.minimise(
            case.data, ["exec", "--target", self.target.name, "--opt", self.o.opt, "--seed", str(case.seed),
             "--want", kind],
            lambda d: predicate.exec_shows(d, case.seed, executor, kind), attempts=self.o.shrink_attempts)
        small = differential.run_modules([(case.seed, data)], executor)
        if not small or not small[0].verdict.bugs:  # the bug went away when run again: keep the original
            small = [case]
        keep = small[0]
        duplicate = keep.data in self._seen
        self._seen.update((case.data, keep.data))
        if duplicate:
            self._say("    minimised to the module of a case saved before")
            return
        path = regressions.save_exec(self.o.save_to, self.target.name, keep.data, keep.plan, keep.expected,
                                     keep.verdict, _found("exec", self.target.name, case.seed, self.o.opt))
        self.summary.saved.append(path)
        self._say(f"    minimised {len(case.data)} -> {len(keep.data)} bytes, saved {path}")

    # --- accept/reject fuzzing

    def accept_chunk(self, pool: CompilePool, seeds: list[int]) -> None:
        inputs = [(s, i) for s in seeds if (i := accept.make_input(s)) is not None]
        verdicts = accept.check(pool, [i.data for _, i in inputs])
        chunk: Counter = Counter(v.kind for v in verdicts)
        for (seed, item), verdict in zip(inputs, verdicts):
            if verdict.is_bug:
                self._accept_bug(pool, seed, item, verdict)
        self.summary.counts["accept"].update(chunk)
        self.summary.modules["accept"] += len(inputs)
        self._say(f"[accept {self.target.name}] seeds {seeds[0]}..{seeds[-1]}: {len(inputs)} inputs "
                  f"({', '.join(f'{n} {k}' for k, n in chunk.most_common())})")

    def _accept_bug(self, pool: CompilePool, seed: int, item: accept.Input, verdict: accept.AcceptVerdict) -> None:
        line = f"BUG accept seed {seed} ({item.origin}): {verdict}"
        self.summary.bugs.append(line)
        self._say(line)
        if not self._can_save(item.data):
            return
        data = reduce.minimise(item.data, ["accept", "--target", self.target.name, "--opt", self.o.opt,
                                "--want", verdict.kind],
                               lambda d: predicate.accept_shows(d, pool, verdict.kind),
                               attempts=self.o.shrink_attempts)
        final = accept.judge(data, pool.submit(data, "m0").result())
        duplicate = data in self._seen
        self._seen.update((item.data, data))
        if duplicate:
            self._say("    minimised to the module of a case saved before")
            return
        path = regressions.save_accept(self.o.save_to, data, final, _found("accept", self.target.name, seed, self.o.opt))
        self.summary.saved.append(path)
        self._say(f"    minimised {len(item.data)} -> {len(data)} bytes, saved {path}")

    # --- WIT fuzzing

    def wit_chunk(self, seeds: list[int]) -> None:
        inputs = [(s, i) for s in seeds if (i := wit.make_input(s)) is not None]
        chunk: Counter = Counter()
        for seed, item in inputs:
            verdict = wit.judge(item)
            chunk[verdict.kind] += 1
            if verdict.is_bug:
                self._wit_bug(seed, item, verdict)
        self.summary.counts["wit"].update(chunk)
        self.summary.modules["wit"] += len(inputs)
        self._say(f"[wit] seeds {seeds[0]}..{seeds[-1]}: {len(inputs)} packages "
                  f"({', '.join(f'{n} {k}' for k, n in chunk.most_common())})")

    def _wit_bug(self, seed: int, item: wit.WitInput, verdict: wit.WitVerdict) -> None:
        line = f"BUG wit seed {seed} ({item.origin}): {verdict}"
        self.summary.bugs.append(line)
        self._say(line)
        key = json.dumps(item.files, sort_keys=True).encode()
        if not self._can_save(key):
            return
        small = wit.minimise(item, verdict.kind, budget=self.o.shrink_attempts)
        small_key = json.dumps(small.files, sort_keys=True).encode()
        duplicate = small_key in self._seen
        self._seen.update((key, small_key))
        if duplicate:
            self._say("    minimised to the package of a case saved before")
            return
        path = regressions.save_wit(self.o.save_to, small, wit.judge(small),
                                    _found("wit", self.target.name, seed, self.o.opt))
        self.summary.saved.append(path)
        lines = sum(t.count("\n") for t in item.files.values())
        self._say(f"    minimised {lines} -> {sum(t.count(chr(10)) for t in small.files.values())} lines, "
                  f"saved {path}")

    # --- the loop

    def run(self) -> Summary:
        deadline = None if self.o.seconds is None else time.monotonic() + self.o.seconds
        seed = self.o.first_seed
        done = 0
        with WaftExecutor(self.target, opt=self.o.opt, jobs=self.o.jobs) as executor, \
                CompilePool(self.target, opt=self.o.opt, jobs=self.o.jobs) as pool:
            while (self.o.count is None or done < self.o.count) and \
                    (deadline is None or time.monotonic() < deadline):
                n = CHUNK if self.o.count is None else min(CHUNK, self.o.count - done)
                seeds = list(range(seed, seed + n))
                if "exec" in self.o.modes:
                    self.exec_chunk(executor, seeds)
                if "accept" in self.o.modes:
                    self.accept_chunk(pool, seeds)
                if "wit" in self.o.modes:
                    self.wit_chunk(seeds)
                seed += n
                done += n
        return self.summary


def run_campaign(options: Options, out: TextIO) -> Summary:
    """Run the campaign; its summary (also printed as the last line)."""
    campaign = Campaign(options, out)
    try:
        summary = campaign.run()
    except KeyboardInterrupt:
        summary = campaign.summary
        print("interrupted", file=out)
    print(summary.line(), file=out, flush=True)
    return summary
