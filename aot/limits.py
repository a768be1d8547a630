"""The largest module Waft compiles: every limit, its figure and why.

Two kinds of limit, both checked while the module is decoded, before any
work grows with them:

- The implementation limits every Web engine enforces (the WebAssembly JS
  API's "Limits" section, which V8, SpiderMonkey, JavaScriptCore and
  wasmparser share).  No toolchain writes a module beyond them, so refusing
  costs nothing, and they keep a few bytes of input from asking for billions
  of entries.
- Waft's own, where a small input would otherwise cost the compiler far more
  than its size: locals declared by the thousand in a few bytes, blocks
  nested so deep that LLVM's dominator-tree walks go quadratic, a single
  `br_table` with millions of labels, data that LLVM holds several times over.

Within the limits the compiler's time and memory grow in proportion to the
module (bench/compile_throughput.py --scaling; bench/results/compile_scaling_*.md):
on the host about 30 KB of memory and 2 ms per small function, 600 bytes
per `br_table` label, 300 bytes per element entry, 900 bytes per global and
17 bytes per byte of data.  A module beyond a limit is
refused with a `LimitError` naming the limit, the module's figure and where.
"""

from __future__ import annotations

# --- the engines' limits (WebAssembly JS API, "Limits") ----------------------------------
MAX_TYPES = 1_000_000
MAX_IMPORTS = 100_000
MAX_EXPORTS = 100_000
MAX_GLOBALS = 1_000_000  # imported and defined
MAX_DATA_SEGMENTS = 100_000
MAX_ELEMENT_SEGMENTS = 100_000
MAX_TABLES = 100_000  # imported and defined
MAX_PARAMS = 1_000
MAX_RESULTS = 1_000
MAX_FUNCTION_SIZE = 7_654_321  # bytes of one function body, locals included
MAX_LOCALS = 50_000  # declared locals of one function

# --- Waft's own -------------------------------------------------------------------------
# Functions, imported and defined (the engines allow 1,000,000).  A small function is ten
# bytes of Wasm and costs the compiler ~30 KB of memory and ~2 ms (LLVM's optimiser keeps
# its analyses of every function until the module is done): 50,000 take ~1.4 GB and
# 100,000 ~3 GB on the host, half as much again for Arm, whose code generator keeps all
# the machine code to the end.  No firmware comes near; the largest programs compiled
# to Wasm do.
MAX_FUNCTIONS = 100_000
# Entries of all element segments together (the engines allow 10,000,000 in one).  An
# entry is a byte or two of Wasm, ~150 bytes decoded, and a table of them is evaluated
# into the instance: a million take ~300 MB, ten million 2.4 GB.
MAX_ELEMENT_ENTRIES = 1_000_000
# Declared locals of all functions together.  Declaring 50,000 locals costs three bytes,
# and the decoder, validator and lowering each walk every one: without this, a 400-byte
# module of 20 such functions took 30 s.  Ten million is 50 times what a 50,000-function
# module of ordinary code declares.
MAX_MODULE_LOCALS = 10_000_000
# Blocks, loops and ifs open at once in a function.  LLVM's EarlyCSE and InstCombine walk
# dominated uses per branch: 10,000 nested if/else on one condition take ~17 s to optimise,
# 20,000 four times that.  The deepest nesting real compilers emit is a switch with that
# many distinct cases.
MAX_NESTING = 10_000
# Labels of one br_table (SpiderMonkey's figure).  Compiling costs ~450 bytes a label:
# a million take ~450 MB and ~9 s.
MAX_BR_TABLE_LABELS = 1_000_000
# Bytes of all data segments together.  LLVM IR spells a byte in 3 characters and the
# compiler holds the data as text, as LLVM's constant, in the object and in the optimised
# IR: about 15 bytes of memory per byte, so 64 MiB take ~1 GB.  A microcontroller's flash
# is a few MiB.
MAX_DATA_BYTES = 64 << 20

