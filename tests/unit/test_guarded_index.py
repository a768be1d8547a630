"""A buffer and its length checked once at entry (aot/lower/guarded_index.py), on the Cortex-M4 under QEMU.

`count(s, n, c)` scans `s[0..n)` the way a tokenizer does, with a data-
dependent step (`i += 4` after a backslash), then reads `s[i]` once more
where `i >= n`, which no guard covers.  The calls take the fast copy (`s +
n` in memory), the checked one (`s + n` past the end, or wrapping), and
the guarded range up to the last byte of memory, so that the unguarded read
must trap; every result and trap is compared with a Python model of the
Wasm semantics.  A second build without the versioning must execute more
instructions in `count`: the checks the fast copy left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

from board_run import PRELUDE, board_test, run_on_board
from wasm_host import wat_to_wasm

from aot.lower import guarded_index
from aot.wasm.decode import decode_module

REPO = Path(__file__).resolve().parents[2]
PAGE = 65536

WAT = r"""
(module
  (memory (export "mem") 1 1)
  (func $count (export "count") (param $s i32) (param $n i32) (param $c i32) (result i32)
    (local $i i32) (local $k i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eq (i32.load8_u (i32.add (local.get $s) (local.get $i))) (local.get $c))
        (then (local.set $k (i32.add (local.get $k) (i32.const 1)))))
      (if (i32.eq (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.const 92))
        (then (local.set $i (i32.add (local.get $i) (i32.const 4)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (i32.add (i32.mul (local.get $k) (i32.const 1000)) (i32.load8_u (i32.add (local.get $s) (local.get $i)))))
)
"""

# (s, n, c): fast copy; n = 0; the checked copy (s + n past the end: traps in the loop); the
# guarded range ending at the last byte (the unguarded read after it traps); s + i wrapping.
CALLS = [(1000, 3000, 97), (1000, 0, 97), (PAGE - 40, 50, 97), (PAGE - 60, 60, 97), (PAGE - 200, 100, 92),
         (0xFFFFFFF0, 32, 97), (4000, 20000, 98)]
REPEATS = 20  # calls of the first row, so that the scan dominates the profile

MAIN = PRELUDE + r"""static const uint32_t calls[][3] = {CALLS};
int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    uint8_t *mem = m_mem(&inst)->base;
    for (uint32_t x = 0; x < PAGE; x++) mem[x] = (uint8_t) (x % 31 == 7 ? 92 : 97 + x % 3);
    for (int r = 1; r < REPEATS; r++) m_count(&inst, calls[0][0], calls[0][1], calls[0][2]);
    for (unsigned k = 0; k < sizeof calls / sizeof calls[0]; k++) TRY(m_count(&inst, calls[k][0], calls[k][1], calls[k][2]));
    return 0;
}
"""


def _expected() -> list[str]:
    mem = bytes(92 if x % 31 == 7 else 97 + x % 3 for x in range(PAGE))

    def load(address: int) -> int:
        if address + 1 > PAGE:  # the exact sum: s + i past 2^32 wraps in i32, see below
            raise IndexError
        return mem[address]

    lines = []
    for s, n, c in CALLS:
        try:
            i = k = 0
            while i < n:
                if load((s + i) & 0xFFFFFFFF) == c:
                    k += 1
                if load((s + i) & 0xFFFFFFFF) == 92:
                    i += 4
                i += 1
            lines.append(str(k * 1000 + load((s + i) & 0xFFFFFFFF)))
        except IndexError:
            lines.append("trap 2")
    assert lines.count("trap 2") >= 3 and len(set(lines)) >= 5
    return lines


def test_the_plan_finds_the_guarded_reads_and_not_the_unguarded_one(tmp_path):
    module = decode_module(wat_to_wasm(WAT, tmp_path, "m"))
    function = module.functions[0]
    found = guarded_index.plan(function, module.types[function.type_index])
    assert found is not None
    # All three reads are `s + i` with i compared against n somewhere: the plan lists them; which
    # ones the program's own `i < n` dominates is for LLVM to see (the third keeps its check).
    assert sorted(set(found.accesses.values())) == [(0, 3, 1)] and len(found.accesses) == 3
    assert found.spans == {(0, 1, 0): 1}


@board_test
def test_guarded_scans_read_trap_and_run_faster_on_cortex_m4(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO))
    from bench.analysis import functions_of, per_function, qemu_profile

    main = (MAIN.replace("{CALLS}", "{" + ", ".join("{%du, %du, %du}" % row for row in CALLS) + "}")
            .replace("REPEATS", str(REPEATS)).replace("PAGE", f"{PAGE}u"))

    def build(name: str) -> tuple[Path, str]:
        run = run_on_board(tmp_path / name, wat_to_wasm(WAT, tmp_path, name), main)
        assert run.lines == _expected()
        return run.elf, run.result.unoptimised_ir

    def executed_in_count(elf: Path) -> int:
        counts = dict(per_function(qemu_profile(elf, "stm32f4"), functions_of(elf)))
        return sum(n for name, n in counts.items() if name.startswith("wasm.0"))

    versioned, ir = build("versioned")
    assert "guard.ok" in ir or "guard.end" in ir  # the entry test of the fast copy
    monkeypatch.setattr(guarded_index, "MIN_ACCESSES", 1 << 30)
    plain, _ = build("plain")
    assert executed_in_count(versioned) < 0.9 * executed_in_count(plain)
