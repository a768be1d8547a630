"""The name mangling of docs/abi.md: examples, round trips, and why symbols never collide.

The property tests draw names from a seeded generator (reproducible, no extra
dependency) that favours the awkward cases: empty names, runs of `_`, names
that look like encodings (`_x41`), non-ASCII text and NUL bytes.
"""

from __future__ import annotations

import random
import re

import pytest

from aot.abi import (
    check_prefix,
    demangle,
    export_symbol,
    import_symbol,
    internal_symbol,
    mangle,
    prefix_from_filename,
    split_import_symbol,
)

C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INTERNAL_WORDS = ("instance", "imports", "initialize", "instantiate")

# Alphabets the generator mixes; '_' and 'x' are weighted up because they are
# the characters the encoding itself uses.
_PIECES = (
    list("abcxyzXAZ0189")
    + ["_"] * 6
    + ["x"] * 2
    + list("-. /:*$\x00\x7f")
    + ["é", "ß", "中", "😀", "\u200b"]
    + ["_x41", "_x5f", "__", "x5f"]
)


def random_names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = ["", "_", "__", "x", "_x", "_x5f", "a_", "_a", "a__b", "A_B_C"]
    for _ in range(count):
        names.append("".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 8))))
    return names


NAMES = random_names(3000, seed=20261127)


# --- the documented examples --------------------------------------------------


@pytest.mark.parametrize(
    "name, mangled",
    [
        ("pid_step", "pid_step"),
        ("fd_write", "fd_write"),
        ("_start", "__x5fstart"),
        ("a-b", "_a_x2db"),
        ("", "_"),
        ("a__b", "_a_x5f_x5fb"),
        ("é", "__xc3_xa9"),
        ("main", "main"),
        ("9lives", "9lives"),
    ],
)
def test_documented_examples(name, mangled):
    assert mangle(name) == mangled
    assert demangle(mangled) == name


def test_documented_symbols():
    assert import_symbol("wasi_snapshot_preview1", "fd_write") == "wasi_snapshot_preview1__fd_write"
    assert import_symbol("env", "read_sensor") == "env__read_sensor"
    assert export_symbol("pid", "step") == "pid_step"
    assert export_symbol("app", "_start") == "app___x5fstart"
    assert internal_symbol("pid", "instance") == "pid__instance"


# --- properties -----------------------------------------------------------------


def test_round_trip_and_c_identifier_shape():
    for name in NAMES:
        fragment = mangle(name)
        assert re.fullmatch(r"[A-Za-z0-9_]+", fragment), (name, fragment)
        assert demangle(fragment) == name, name
        assert C_IDENTIFIER.match(export_symbol("mod", name)), name


def test_mangle_is_injective():
    distinct = set(NAMES)
    assert len({mangle(n) for n in distinct}) == len(distinct)


def test_plain_and_encoded_forms_are_told_apart_by_the_first_character():
    for name in NAMES:
        fragment = mangle(name)
        if fragment.startswith("_"):
            # Encoded: after the marker, `_` is only ever followed by `x`.
            assert "__" not in fragment[1:] and re.fullmatch(r"(_x[0-9a-f]{2}|[A-Za-z0-9])*", fragment[1:])
        else:
            assert fragment == name and "__" not in fragment and not fragment.endswith("_")


def test_no_export_symbol_equals_an_internal_symbol():
    prefix = "mod"
    internals = {internal_symbol(prefix, w) for w in INTERNAL_WORDS}
    tricky = [f"_{w}" for w in INTERNAL_WORDS] + [f"__{w}" for w in INTERNAL_WORDS] + list(INTERNAL_WORDS)
    for name in NAMES + tricky:
        assert export_symbol(prefix, name) not in internals, name


def test_internal_words_cannot_be_the_tail_of_an_encoded_name():
    # An export is P__<word> exactly when mangle(name) == "_" + word; for a
    # word without `_x` groups that would decode to the plain name `word`,
    # which mangle never encodes. Waft's internal words must stay that way.
    for word in INTERNAL_WORDS:
        assert "_x" not in word
        with pytest.raises(ValueError):
            demangle("_" + word)


def test_import_symbols_split_uniquely_at_the_separator():
    rng = random.Random(7)
    pairs = [(rng.choice(NAMES), rng.choice(NAMES)) for _ in range(3000)]
    pairs += [("env", "_x"), ("_", "_"), ("", ""), ("a_", "_b"), ("wasi_snapshot_preview1", "fd_write")]
    for module, name in pairs:
        symbol = import_symbol(module, name)
        assert split_import_symbol(symbol) == (module, name)
        # Of every `__` in the symbol, exactly one splits it into two valid halves.
        valid = []
        for match in re.finditer(r"(?=__)", symbol):
            left, right = symbol[: match.start()], symbol[match.start() + 2 :]
            try:
                valid.append((demangle(left), demangle(right)))
            except ValueError:
                pass
        assert valid == [(module, name)], symbol


def test_an_export_can_only_look_like_an_import_from_a_module_named_like_the_prefix():
    # docs/abi.md: exports of prefix P and imports from a Wasm module named "P"
    # share the `P__` namespace, so the prefix must not be an import module name.
    for name in NAMES:
        symbol = export_symbol("mod", name)
        try:
            module, _ = split_import_symbol(symbol)
        except ValueError:
            continue
        assert module == "mod", name
    assert export_symbol("mod", "__") == import_symbol("mod", "x5f_") == "mod___x5f_x5f"


def test_exports_and_imports_from_other_modules_never_collide():
    rng = random.Random(11)
    modules = [m for m in NAMES if m != "env"]
    exports = {export_symbol("env", n) for n in NAMES}
    imports = {import_symbol(rng.choice(modules), n) for n in NAMES for _ in range(2)}
    imports |= {import_symbol("env_a", n) for n in NAMES} | {import_symbol("en", n) for n in NAMES}
    assert not exports & imports


# --- what demangle refuses ------------------------------------------------------


@pytest.mark.parametrize(
    "fragment",
    ["", "a__b", "a_", "_abc", "_x4", "_xzz", "_x41", "_x5F", "__y", "a-b", "_a_x2d_"],
)
def test_demangle_rejects_text_mangle_never_produces(fragment):
    with pytest.raises(ValueError):
        demangle(fragment)


# --- prefixes --------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["pid", "my_app", "M1", "m_9lives"])
def test_good_prefixes(prefix):
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "9lives", "a__b", "a_", "waft", "WAFT", "a-b", "é"])
def test_bad_prefixes(prefix):
    with pytest.raises(ValueError):
        check_prefix(prefix)


@pytest.mark.parametrize(
    "stem, prefix",
    [("pid-step", "pid_step"), ("9lives", "m_9lives"), ("waft", "waft_module"), ("---", "module"), ("a..b", "a_b")],
)
def test_prefix_from_filename(stem, prefix):
    assert prefix_from_filename(stem) == prefix
    assert check_prefix(prefix) == prefix
