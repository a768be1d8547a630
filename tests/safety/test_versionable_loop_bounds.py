"""Loops of the shapes a bounds-check versioning would target still trap at exactly the bad access.

docs/performance.md ("Bounds checks in loops") names the loops whose address
range is known at entry, so that one check before the loop could replace the
check in every iteration: a loop closed by a down-counter with induction
locals of constant and of loop-invariant stride (fft_fixed's butterfly), and
a scan whose every access `s[i]` is guarded by `i <u n` while `i` advances by
data-dependent steps (json_tokenize).  Whatever scheme removes their checks,
the Wasm semantics it must keep are the ones this test runs on the Cortex-M4
under QEMU at -O2 and -O3, checked against a Python model of the spec:

- the first out-of-bounds access traps (MEMORY_OUT_OF_BOUNDS), at every
  iteration from the first to none; every store before it happened, none
  after it (a checksum of the whole memory);
- addresses that wrap: an induction local stepping below zero, a memarg
  offset carrying an address past 2^32 (the effective address does not
  wrap), a base plus index that wraps (`i32.add` does);
- a counter that starts at 0 (2^32 trips: the loop ends only by trapping);
- a memory.grow inside the loop: the range proven at entry is against the
  smaller size, and accesses past it become valid once the memory grew
  (a memory of 1..2 pages on the MPS2 AN386's Cortex-M4, whose RAM holds
  two pages; on the stm32f4, 128 KiB of RAM, a memory of 1..1 pages: the
  constant-size shape the benchmarks have, where the grow fails);
- an index that jumps (`i += 4` on a backslash) past the end, trapping at
  a store after the load that decided the jump;
- an address through a local written earlier in the iteration, which
  may wrap to 0 (valid);
- an access after its induction local's update in the same iteration
  (`after`): it sees the next step's value, so the last iteration's
  second store is the first one out;
- loops closed by a compare of the updated induction local (aot/lower/
  loop_ranges.py's `Close`): clang's `for (; i < n; i++)` as `i_new <u n`
  (`upto`, and `walk`, whose counter wraps past 2^32 and goes on), the
  insertion sort's `(j - 1) + 1 >s 1` (`down`, and `below`, whose last
  iteration alone writes below zero), `i_new != n` (`until`, 2^32 trips
  when i0 == n; `until4`/`downuntil4`, stepping by +-4 over words, whose
  counter may miss n and wrap), each out of bounds at every iteration, wrapping, and
  with trip counts past what a precondition may prove.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from board_run import board_test, run_on_board  # noqa: E402  (tests/unit's helpers, shared)
from wasm_host import wat_to_wasm  # noqa: E402


PAGE = 65536

WAT = r"""
(module
  (memory (export "mem") 1 MAX)
  ;; fft_fixed's butterfly shape: c counts down to 0 (br_if on the tee), p steps by 2, q by $stride.
  (func (export "butterfly") (param $p i32) (param $q i32) (param $stride i32) (param $c i32)
        (param $grow_at i32) (result i32) (local $k i32)
    (loop
      (if (i32.eq (local.get $k) (local.get $grow_at))
        (then (drop (memory.grow (i32.const 1)))))
      (i32.store16 offset=2 (local.get $p) (i32.load16_u (local.get $q)))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (local.set $q (i32.add (local.get $q) (local.get $stride)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if 0 (local.tee $c (i32.add (local.get $c) (i32.const -1)))))
    (local.get $k))
  ;; json_tokenize's string scan: every s[i] is guarded by i <u n; a backslash skips four more.
  (func (export "scan") (param $s i32) (param $n i32) (result i32) (local $i i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (br_if 1 (i32.eq (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.const 34)))
      (if (i32.eq (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.const 92))
        (then (local.set $i (i32.add (local.get $i) (i32.const 4)))))
      (i32.store8 (i32.add (local.get $s) (local.get $i)) (i32.const 35))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $i))
  ;; A store before and one after p's update: the second sees p + 4.
;; The address goes through a local written earlier in the iteration: p + 8, which may wrap to 0.
  (func (export "through") (param $p i32) (param $c i32) (result i32) (local $b i32)
    (loop
      (local.set $b (i32.add (local.get $p) (i32.const 8)))
      (i32.store (local.get $b) (local.get $c))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if 0 (local.tee $c (i32.add (local.get $c) (i32.const -1)))))
    (local.get $p))
  ;; clang's up-counted for loop, closed by the updated i <u n; a memory.grow in the loop.
  (func (export "upto") (param $p i32) (param $i i32) (param $n i32) (param $grow_at i32) (result i32)
    (loop
      (if (i32.eq (local.get $i) (local.get $grow_at))
        (then (drop (memory.grow (i32.const 1)))))
      (i32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))) (local.get $i))
      (br_if 0 (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $i))
  ;; a pointer stepping beside a counter closed by i <u n: an i that wraps past 2^32 goes on.
  (func (export "walk") (param $p i32) (param $i i32) (param $n i32) (result i32)
    (loop
      (i32.store (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if 0 (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $p))
  ;; quicksort's insertion sort: j down while (j - 1) + 1 >s 1, moving a[j] to a[j + 1].
  (func (export "down") (param $p i32) (param $j i32) (result i32)
    (loop
      (i32.store offset=4 (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))
        (i32.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))))
      (br_if 0 (i32.gt_s (i32.add (local.tee $j (i32.add (local.get $j) (i32.const -1))) (i32.const 1))
                         (i32.const 1))))
    (local.get $j))
  ;; the down loop with a negative addend: a[j - 2] (4 * j - 8), below zero at j = 1 only.
  (func (export "below") (param $j i32) (result i32)
    (loop
      (i32.store (i32.add (i32.shl (local.get $j) (i32.const 2)) (i32.const -8)) (local.get $j))
      (br_if 0 (i32.gt_s (i32.add (local.tee $j (i32.add (local.get $j) (i32.const -1))) (i32.const 1))
                         (i32.const 1))))
    (local.get $j))
  ;; closed by i != n after the update: i0 == n means 2^32 trips.
  (func (export "until") (param $p i32) (param $i i32) (param $n i32) (result i32)
    (loop
      (i32.store8 (i32.add (local.get $p) (local.get $i)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.ne (local.get $i) (local.get $n))))
    (local.get $i))
  ;; clang's counted loop over words: i steps by +-4 until i == n; i0 == n means 2^30 trips, and
  ;; an n that the steps miss wraps the counter (neither has a trip count to prove).
  (func (export "until4") (param $p i32) (param $i i32) (param $n i32) (result i32)
    (loop
      (i32.store (i32.add (local.get $p) (local.get $i)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if 0 (i32.ne (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "downuntil4") (param $p i32) (param $i i32) (param $n i32) (result i32)
    (loop
      (i32.store (i32.add (local.get $p) (local.get $i)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const -4)))
      (br_if 0 (i32.ne (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "after") (param $p i32) (param $c i32) (result i32)
    (loop
      (i32.store (local.get $p) (local.get $c))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (i32.store (local.get $p) (i32.const 7))
      (br_if 0 (local.tee $c (i32.add (local.get $c) (i32.const -1)))))
    (local.get $p)))
"""

M32 = 0xFFFFFFFF
I32_MIN = 0x80000000

# butterfly(p, q, stride, c, grow_at): the store at p + 2 (2 bytes) runs out at every iteration 0..6.
BUTTERFLIES = [(PAGE - 2 - 2 * j, 100, 6, 6, M32) for j in range(7)] + [
    (1000, 8, (-4) & M32, 6, M32),          # q: 8, 4, 0, then 0xFFFFFFFC
    (1000, PAGE - 14, 6, 6, M32),           # q's load runs out at iteration 3
    (0xFFFFFFFE, 100, 6, 6, M32),           # p + 2 is 2^32: out of bounds, not byte 0
    (PAGE - 5000, 100, 0, 0, M32),          # c = 0: 2^32 trips, ends by trapping
    (PAGE - 8, 100, 6, 6, 2),               # grows at iteration 2: runs past the old end
    (2 * PAGE - 6, 100, 6, 6, M32),         # after the grow: out at iteration 2, at the new end
]
# scan(s, n): every start in the last 12 bytes, a wrapping base, an unbounded n, one that ends on '"'.
SCANS = [(PAGE - m, 12) for m in range(13)] + [(0xFFFFFFFC, 12), (PAGE - 40, M32), (0, 200)]
# after(p, 5): p runs out at the first store, at the second, or not at all.
AFTERS = [(PAGE - 4 * m, 5) for m in range(1, 9)] + [(PAGE - 2, 5)]
# through(p, c): p + 8 runs out at each of 5 iterations or not at all; wraps to 0, 4, 8; or
# starts at 2^32 - 4.
THROUGHS = [(PAGE - 4 * m, 5) for m in range(2, 9)] + [(0xFFFFFFF8, 3), (0xFFFFFFF4, 3)]

# upto(p, i, n, grow_at), after the butterflies (on the AN386 the memory has grown to its cap of two
# pages by then, so here the grow in the loop fails on both boards: the butterfly is the shape whose
# grow succeeds).  With `relative`, p is the memory's size at the call minus p.  The store runs out
# at each iteration 0..6 or not at all; i starting past n (one iteration); i0 = 2^32 - 1 wrapping
# to 0 (valid, from p = 4); a wrapping 4 * i; an unbounded n.
UPTOS = [(1, 4 * j, 0, 7, M32) for j in range(9)] + [
    (1, 4, 10, 5, M32), (0, 100, 10, 5, M32), (0, 4, M32, 5, M32), (0, 0, 0xFFFFFFF0, 3, M32),
    (1, 400, 0, M32, M32), (1, 8, 0, 6, 2)]
# down(p, j): a[j + 1] = a[j] for j from j0 down to 1: p + 4 * j wraps below zero at each iteration
# or not at all; the top store at the end or one past it; j0 <= 1 (one iteration), j0 = -2^31 (its
# address wraps to p), j0 = 2^31 - 1 (more trips than the precondition allows: runs below zero).
DOWNS = [((-4 * m) & M32, 6) for m in range(1, 8)] + [
    (PAGE - 32, 6), (PAGE - 28, 6), (0, 5), (100, -7 & M32), (100, I32_MIN), (100, 0x7FFFFFFF), (PAGE - 8, 1)]
# until(p, i, n): byte p + i for i from i0 until i == n: runs out at each iteration 0..11 or
# not at all; i0 == n (2^32 trips); p + i wrapping to 0 and i wrapping through 0 (both valid).
UNTILS = [(PAGE - 12 + m, 0, 12) for m in range(13)] + [
    (PAGE - 100, 5, 5), (0xFFFFFFF8, 8, 20), (8, M32 - 3, 3), (10, 0, 20)]
# until4(p, i, n): word p + i for i from i0 by 4 until i == n: runs out at each iteration 0..11 or
# not at all; i0 == n; an n the steps miss (10); p + i wrapping to 0 and i wrapping through 0.
UNTIL4S = [(PAGE - 48 + 4 * m, 0, 48) for m in range(13)] + [
    (PAGE - 100, 8, 8), (1000, 0, 10), (0xFFFFFFF0, 16, 48), (8, M32 - 7, 8)]
# downuntil4(p, i, n): i from 44 down by 4 until i == -4, p + i wrapping below zero at each
# iteration or not at all; i0 == n; an n the steps miss (2); the end of memory, i going negative.
DOWNUNTIL4S = [((-4 * m) & M32, 44, -4 & M32) for m in range(13)] + [
    (100, 8, 8), (100, 8, 2), (PAGE - 8, 0, -12 & M32)]

# below(j): the last iteration (j = 1) writes below zero after j0 - 1 good ones, or (j0 <= 1) the only one.
BELOWS = [6, 2, 1, -3 & M32]

# walk(p, i, n): i0 = 2^32 - 1 wraps to 0 after the first iteration and runs n more (out at
# iteration 10); i0 = 2^32 - 2 stops after one; the stores run out at iteration 3 or not at all.
WALKS = [(PAGE - 40, M32, 20), (PAGE - 40, M32 - 1, 20), (PAGE - 12, 0, 5), (PAGE - 12, 2, 5)]

MAIN = r"""#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include "m.h"
static m__instance inst;
static waft_trap_frame frame;
#define TRY(expr) do { waft_trap_push(&frame); \
    if (setjmp(frame.jmp)) printf("trap %d", (int) frame.code); \
    else { unsigned long v = (unsigned long) (expr); waft_trap_pop(&frame); printf("%lu", v); } } while (0)
static const uint32_t butterflies[][5] = {BUTTERFLIES};
static const uint32_t scans[][2] = {SCANS};
static const uint32_t afters[][2] = {AFTERS};
static const uint32_t throughs[][2] = {THROUGHS};
static const uint32_t uptos[][5] = {UPTOS};
static const uint32_t downs[][2] = {DOWNS};
static const uint32_t untils[][3] = {UNTILS};
static const uint32_t walks[][3] = {WALKS};
static const uint32_t until4s[][3] = {UNTIL4S};
static const uint32_t downuntil4s[][3] = {DOWNUNTIL4S};
static const uint32_t belows[] = {BELOWS};
static uint8_t pattern(uint32_t x, int text) {
    if (!text) return (uint8_t) (x * 7u + 3u);
    return x % 13u == 5u ? 92 : x % 97u == 50u ? 34 : 97;
}
static void reset(int text) {
    waft_memory *mem = m_mem(&inst);
    for (uint32_t x = 0; x < PAGE_BYTES && x < mem->size; x++) mem->base[x] = pattern(x, text);
    for (uint32_t x = PAGE_BYTES; x < mem->size; x++) mem->base[x] = 0;
}
static void checksum(void) {
    waft_memory *mem = m_mem(&inst);
    uint32_t h = 0;
    for (uint32_t x = 0; x < mem->size; x++) h = h * 31u + mem->base[x];
    printf(" | %lu %lu\n", (unsigned long) mem->size, (unsigned long) h);
}
int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    for (unsigned k = 0; k < sizeof scans / sizeof scans[0]; k++) {
        reset(1);
        TRY(m_scan(&inst, scans[k][0], scans[k][1]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof throughs / sizeof throughs[0]; k++) {
        reset(0);
        TRY(m_through(&inst, throughs[k][0], throughs[k][1]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof afters / sizeof afters[0]; k++) {
        reset(0);
        TRY(m_after(&inst, afters[k][0], afters[k][1]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof downs / sizeof downs[0]; k++) {
        reset(0);
        TRY(m_down(&inst, downs[k][0], downs[k][1]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof untils / sizeof untils[0]; k++) {
        reset(0);
        TRY(m_until(&inst, untils[k][0], untils[k][1], untils[k][2]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof belows / sizeof belows[0]; k++) {
        reset(0);
        TRY(m_below(&inst, belows[k]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof walks / sizeof walks[0]; k++) {
        reset(0);
        TRY(m_walk(&inst, walks[k][0], walks[k][1], walks[k][2]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof until4s / sizeof until4s[0]; k++) {
        reset(0);
        TRY(m_until4(&inst, until4s[k][0], until4s[k][1], until4s[k][2]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof downuntil4s / sizeof downuntil4s[0]; k++) {
        reset(0);
        TRY(m_downuntil4(&inst, downuntil4s[k][0], downuntil4s[k][1], downuntil4s[k][2]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof butterflies / sizeof butterflies[0]; k++) {
        const uint32_t *b = butterflies[k];
        reset(0);
        TRY(m_butterfly(&inst, b[0], b[1], b[2], b[3], b[4]));
        checksum();
    }
    for (unsigned k = 0; k < sizeof uptos / sizeof uptos[0]; k++) {
        const uint32_t *u = uptos[k];
        reset(0);
        uint32_t p = u[0] ? (uint32_t) m_mem(&inst)->size - u[1] : u[1];
        TRY(m_upto(&inst, p, u[2], u[3], u[4]));
        checksum();
    }
    return 0;
}
"""


def _main_c() -> str:
    def table(rows):
        return "{" + ", ".join("{" + ", ".join(f"{v}u" for v in row) + "}" for row in rows) + "}"
    return (MAIN.replace("{BUTTERFLIES}", table(BUTTERFLIES)).replace("{SCANS}", table(SCANS))
            .replace("{AFTERS}", table(AFTERS)).replace("{THROUGHS}", table(THROUGHS))
            .replace("{UPTOS}", table(UPTOS)).replace("{DOWNS}", table(DOWNS)).replace("{UNTILS}", table(UNTILS))
            .replace("{WALKS}", table(WALKS)).replace("{UNTIL4S}", table(UNTIL4S))
            .replace("{DOWNUNTIL4S}", table(DOWNUNTIL4S))
            .replace("{BELOWS}", "{" + ", ".join(f"{v}u" for v in BELOWS) + "}")
            .replace("PAGE_BYTES", f"{PAGE}u"))


class _Trap(Exception):
    pass


def _pattern(x: int, text: bool) -> int:
    if not text:
        return (x * 7 + 3) & 0xFF
    return 92 if x % 13 == 5 else 34 if x % 97 == 50 else 97


def _expected(max_pages: int) -> list[str]:
    """What a Wasm engine must print for MAIN, memory 1..max_pages: the spec's semantics, access by access."""
    size = PAGE
    lines = []

    def fresh(text: bool) -> bytearray:
        return bytearray(_pattern(x, text) if x < PAGE else 0 for x in range(size))

    def at(ea: int, width: int) -> int:
        if ea + width > len(mem):  # ea is the exact sum: past 2^32 is out of bounds too
            raise _Trap
        return ea

    def outcome(run) -> str:
        try:
            result = str(run())
        except _Trap:
            result = "trap 2"
        h = 0
        for byte in mem:
            h = (h * 31 + byte) & M32
        return f"{result} | {len(mem)} {h}"

    for s, n in SCANS:
        mem = fresh(True)

        def scan():
            i = 0
            while i < n:
                if mem[at((s + i) & M32, 1)] == 34:
                    break
                if mem[at((s + i) & M32, 1)] == 92:
                    i = (i + 4) & M32
                mem[at((s + i) & M32, 1)] = 35
                i = (i + 1) & M32
            return i
        lines.append(outcome(scan))
    for p0, c0 in THROUGHS:
        mem = fresh(False)

        def through():
            p, c = p0, c0
            while True:
                ea = at((p + 8) & M32, 4)
                mem[ea:ea + 4] = c.to_bytes(4, "little")
                p = (p + 4) & M32
                c = (c - 1) & M32
                if c == 0:
                    return p
        lines.append(outcome(through))
    for p0, c0 in AFTERS:
        mem = fresh(False)

        def after():
            p, c = p0, c0
            while True:
                ea = at(p, 4)
                mem[ea:ea + 4] = c.to_bytes(4, "little")
                p = (p + 4) & M32
                ea = at(p, 4)
                mem[ea:ea + 4] = (7).to_bytes(4, "little")
                c = (c - 1) & M32
                if c == 0:
                    return p
        lines.append(outcome(after))
    for p, j0 in DOWNS:
        mem = fresh(False)

        def down():
            j = j0
            while True:
                ea = at((p + 4 * j) & M32, 4)
                value = mem[ea:ea + 4]
                ea = at(((p + 4 * j) & M32) + 4, 4)  # offset=4: the effective address does not wrap
                mem[ea:ea + 4] = value
                j = (j - 1) & M32
                signed = ((j + 1) & M32) - (1 << 32) if (j + 1) & M32 >= 1 << 31 else (j + 1) & M32
                if not signed > 1:
                    return j
        lines.append(outcome(down))
    for p, i0, n in UNTILS:
        mem = fresh(False)

        def until():
            i = i0
            while True:
                mem[at((p + i) & M32, 1)] = i & 0xFF
                i = (i + 1) & M32
                if i == n:
                    return i
        lines.append(outcome(until))
    for j0 in BELOWS:
        mem = fresh(False)

        def below():
            j = j0
            while True:
                ea = at((4 * j - 8) & M32, 4)
                mem[ea:ea + 4] = j.to_bytes(4, "little")
                j = (j - 1) & M32
                signed = ((j + 1) & M32) - (1 << 32) if (j + 1) & M32 >= 1 << 31 else (j + 1) & M32
                if not signed > 1:
                    return j
        lines.append(outcome(below))
    for p0, i0, n in WALKS:
        mem = fresh(False)

        def walk():
            p, i = p0, i0
            while True:
                ea = at(p, 4)
                mem[ea:ea + 4] = i.to_bytes(4, "little")
                p = (p + 4) & M32
                i = (i + 1) & M32
                if not i < n:
                    return p
        lines.append(outcome(walk))
    for rows, step in ((UNTIL4S, 4), (DOWNUNTIL4S, -4)):
        for p, i0, n in rows:
            mem = fresh(False)

            def until4():
                i = i0
                while True:
                    ea = at((p + i) & M32, 4)
                    mem[ea:ea + 4] = i.to_bytes(4, "little")
                    i = (i + step) & M32
                    if i == n:
                        return i
            lines.append(outcome(until4))
    for p0, q0, stride, c0, grow_at in BUTTERFLIES:
        mem = fresh(False)

        def butterfly():
            p, q, c, k = p0, q0, c0, 0
            while True:
                if k == grow_at and len(mem) < max_pages * PAGE:
                    mem.extend(bytes(PAGE))
                value = mem[at(q, 2):at(q, 2) + 2]
                ea = at(p + 2, 2)
                mem[ea:ea + 2] = value
                p, q, k = (p + 2) & M32, (q + stride) & M32, k + 1
                c = (c - 1) & M32
                if c == 0:
                    return k
        lines.append(outcome(butterfly))
        size = len(mem)
    for relative, p_arg, i0, n, grow_at in UPTOS:
        mem = fresh(False)
        p0 = (len(mem) - p_arg) & M32 if relative else p_arg

        def upto():
            i = i0
            while True:
                if i == grow_at and len(mem) < max_pages * PAGE:
                    mem.extend(bytes(PAGE))
                ea = at((p0 + 4 * i) & M32, 4)
                mem[ea:ea + 4] = i.to_bytes(4, "little")
                i = (i + 1) & M32
                if not i < n:
                    return i
        lines.append(outcome(upto))
        size = len(mem)
    traps = sum(line.startswith("trap 2") for line in lines)
    assert traps >= 15 and len(lines) - traps >= 3  # both outcomes, at many positions
    return lines


def test_model_covers_every_case():
    """The cases do what their comments say: each butterfly and upto row's first bad iteration, the grow."""
    throughs = _expected(1)[len(SCANS):len(SCANS) + len(THROUGHS)]
    expected = ["trap 2"] * 5 + [str(PAGE - 8), str(PAGE - 12), "4", "trap 2"]
    assert [line.split(" |")[0] for line in throughs] == expected
    first = len(SCANS) + len(THROUGHS)
    afters = _expected(1)[first:first + len(AFTERS)]
    assert [line.split(" |")[0] for line in afters[:6]] == ["trap 2"] * 5 + [str(PAGE - 4)]
    first += len(AFTERS)
    downs = [line.split(" |")[0] for line in _expected(1)[first:first + len(DOWNS)]]
    assert downs == ["0"] + ["trap 2"] * 6 + ["0", "trap 2", "0", str(-8 & M32), str(0x7FFFFFFF), "trap 2",
                                               "trap 2"]
    first += len(DOWNS)
    untils = [line.split(" |")[0] for line in _expected(1)[first:first + len(UNTILS)]]
    assert untils == ["12"] + ["trap 2"] * 12 + ["trap 2", "20", "3", "20"]
    first += len(UNTILS)
    belows = [line.split(" |")[0] for line in _expected(1)[first:first + len(BELOWS)]]
    assert belows == ["trap 2"] * 4
    first += len(BELOWS)
    walks = [line.split(" |")[0] for line in _expected(1)[first:first + len(WALKS)]]
    assert walks == ["trap 2", str(PAGE - 36), "trap 2", str(PAGE)]
    first += len(WALKS)
    until4s = [line.split(" |")[0] for line in _expected(1)[first:first + len(UNTIL4S)]]
    assert until4s == ["48"] + ["trap 2"] * 12 + ["trap 2", "trap 2", "48", "8"]
    first += len(UNTIL4S)
    downs4 = [line.split(" |")[0] for line in _expected(1)[first:first + len(DOWNUNTIL4S)]]
    assert downs4 == [str(-4 & M32)] + ["trap 2"] * 12 + ["trap 2", "trap 2", str(-12 & M32)]
    first += len(DOWNUNTIL4S)
    grown = _expected(2)[first:first + len(BUTTERFLIES)]
    assert [line.split(" |")[0] for line in grown[:7]] == ["trap 2"] * 6 + ["6"]
    assert grown[-2].startswith(f"6 | {2 * PAGE} ")  # ran past the old end after growing
    assert grown[-1].startswith(f"trap 2 | {2 * PAGE} ")
    fixed = _expected(1)[first:first + len(BUTTERFLIES)]
    assert fixed[-2].startswith(f"trap 2 | {PAGE} ")  # the grow failed: out at the old end
    first += len(BUTTERFLIES)
    for max_pages in (1, 2):
        uptos = [line.split(" |")[0] for line in _expected(max_pages)[first:]]
        assert uptos == ["trap 2"] * 7 + ["7", "7", "trap 2", "11", "5", "trap 2", "trap 2", "trap 2"]


@board_test
@pytest.mark.parametrize("opt", ["2", "3"])
@pytest.mark.parametrize("board,max_pages", [("stm32f4", 1), ("mps2-an386", 2)])
@pytest.mark.parametrize("ranges", [False, True], ids=["checked", "loop_ranges"])
def test_versionable_loops_trap_at_the_first_bad_access_on_cortex_m4(tmp_path, monkeypatch, board, max_pages,
                                                                     opt, ranges):
    """With the checks in every iteration, and with aot/lower/loop_ranges.py's versioned loops.

    With loop_ranges, a loop is lowered twice behind its entry precondition
    `ok`: the proven copy has no check for the accesses `ok` covers, so an
    `ok` that held for an access out of bounds would skip its trap.  Every
    loop of two or more covered accesses is versioned here (`MIN_COVERED`
    = 1), whatever the profitability threshold says.
    """
    from aot.lower import loop_ranges

    monkeypatch.setattr(loop_ranges, "ENABLED", ranges)
    monkeypatch.setattr(loop_ranges, "MIN_COVERED", 1)
    wasm = wat_to_wasm(WAT.replace("MAX", str(max_pages)), tmp_path, "m")
    run = run_on_board(tmp_path, wasm, _main_c(), board=board, opt=opt, timeout=120)
    assert run.lines == _expected(max_pages)
