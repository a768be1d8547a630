"""WASI 0.2 imports implemented by generated Wasm on top of preview1 (path (b) of `waft unwrap`).

    shim = P1Shim()
    gen = shim.lowering("wasi:io/streams@0.2.3", "[method]output-stream.write", core_type, realloc, where)
    shim.functions, shim.p1_imports, shim.globals     # what aot/component/fuse.py lays out

Each `canon lower` of a WASI 0.2 function becomes one core function with
exactly the lowered signature of the canonical ABI (CanonicalABI.md,
"flattening": at most 16 flat params, one flat result, the rest through a
return pointer into the component's memory), written in the flat text of
aot/component/wasi_asm.py and calling preview1.  Lists and strings the
callee returns are allocated with the lowering's `realloc` option, one call
per list or string, as a component runtime does (the preview1 adapter
counts on that).

Resources (descriptors, streams, errors, pollables...) live in a handle
table in a page the shim grows on first use (`memory.grow 1`, its address in
the generated global `scratch`): 512 entries of 16 bytes `{kind: i32, fd:
i32, pos: i64}`, a handle being its entry's index + 1.  The page also holds
the 256 bytes the preview1 calls write their results to and a 48 KiB buffer
for arguments and environment.  `[resource-drop]` frees the entry (and
closes the p1 fd for a descriptor).

Supported: interfaces `wasi:*@0.2.N` for any N (0.2.0 through 0.2.x: the
functions below did not change within 0.2); a function not implemented here
is refused by name, with the interface, when the component is unwrapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aot.component.errors import UnwrapError
from aot.component.wasi_asm import assemble
from aot.wasm.module import FuncType, Global, GlobalType, Instr

_WASI_NAME = re.compile(r"^wasi:([a-z][a-z0-9-]*/[a-z][a-z0-9-]*)@(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$")
SUPPORTED_RANGE = "wasi:*@0.2.0 through 0.2.x"


def parse_wasi_name(name: str) -> tuple[str, str, tuple[int, int, int]] | None:
    """("wasi", "cli/stdout", (0, 2, 3)) for "wasi:cli/stdout@0.2.3"; None for anything else."""
    m = _WASI_NAME.match(name)
    if not m:
        return None
    return "wasi", m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(4)))


def is_supported_version(version: tuple[int, int, int]) -> bool:
    return version[0] == 0 and version[1] == 2


@dataclass(eq=False)
class GenFunc:
    """One generated function: `body` may hold symbolic immediates that fuse.py resolves."""

    name: str
    type: FuncType
    locals: list[str]
    body: list[Instr]


# The preview1 functions the shim calls, with their core types.
_I, _L = "i32", "i64"
P1_TYPES: dict[str, FuncType] = {
    "fd_write": FuncType((_I,) * 4, (_I,)), "fd_read": FuncType((_I,) * 4, (_I,)),
    "fd_pwrite": FuncType((_I, _I, _I, _L, _I), (_I,)), "fd_pread": FuncType((_I, _I, _I, _L, _I), (_I,)),
    "proc_exit": FuncType((_I,), ()), "clock_time_get": FuncType((_I, _L, _I), (_I,)),
    "clock_res_get": FuncType((_I, _I), (_I,)), "random_get": FuncType((_I, _I), (_I,)),
    "args_sizes_get": FuncType((_I, _I), (_I,)), "args_get": FuncType((_I, _I), (_I,)),
    "environ_sizes_get": FuncType((_I, _I), (_I,)), "environ_get": FuncType((_I, _I), (_I,)),
    "fd_prestat_get": FuncType((_I, _I), (_I,)), "fd_prestat_dir_name": FuncType((_I, _I, _I), (_I,)),
    "fd_fdstat_get": FuncType((_I, _I), (_I,)), "fd_filestat_get": FuncType((_I, _I), (_I,)),
    "fd_close": FuncType((_I,), (_I,)), "fd_seek": FuncType((_I, _L, _I, _I), (_I,)),
    "poll_oneoff": FuncType((_I,) * 4, (_I,)),
    "path_open": FuncType((_I, _I, _I, _I, _I, _L, _L, _I, _I), (_I,)),
    "fd_readdir": FuncType((_I, _I, _I, _L, _I), (_I,)),
    "path_filestat_get": FuncType((_I,) * 5, (_I,)),
    "path_create_directory": FuncType((_I,) * 3, (_I,)), "path_remove_directory": FuncType((_I,) * 3, (_I,)),
    "path_unlink_file": FuncType((_I,) * 3, (_I,)), "path_rename": FuncType((_I,) * 6, (_I,)),
    "path_symlink": FuncType((_I,) * 5, (_I,)), "path_readlink": FuncType((_I,) * 6, (_I,)),
    "path_link": FuncType((_I,) * 7, (_I,)), "fd_filestat_set_size": FuncType((_I, _L), (_I,)),
    "fd_sync": FuncType((_I,), (_I,)), "fd_datasync": FuncType((_I,), (_I,)),
    "fd_advise": FuncType((_I, _L, _L, _I), (_I,)),
    "fd_filestat_set_times": FuncType((_I, _L, _L, _I), (_I,)),
    "path_filestat_set_times": FuncType((_I, _I, _I, _I, _L, _L, _I), (_I,)),
    "fd_fdstat_get_flags": FuncType((_I, _I), (_I,)),
}

# Scratch page layout (offsets from the `scratch` global).
TMP = 0  # 256 bytes of preview1 results
TABLE = 1024  # the handle table
ENTRIES = 512
TEMP = 16384  # a 48 KiB buffer for args/environ
TEMP_CAP = 65536 - TEMP

# Handle kinds.
K_DESC, K_IN, K_OUT, K_ERROR, K_POLL, K_TTY, K_DIRSTREAM, K_IN_FILE, K_OUT_FILE, K_OUT_APPEND = range(1, 11)

# preview1 errno -> wasi:filesystem/types error-code (0.2), for every errno the two share.  p1's
# notcapable (76: rights too narrow, which 0.2 has no word for) becomes access, which the adapter
# hands back as acces: what p1 callers accept beside notcapable.
_ERRNO_TO_CODE = {
    2: 0, 6: 1, 7: 2, 8: 3, 10: 4, 16: 5, 19: 6, 20: 7, 22: 8, 25: 9, 26: 10, 27: 11, 28: 12, 29: 13, 31: 14,
    32: 15, 33: 16, 35: 17, 37: 18, 40: 19, 44: 20, 46: 21, 48: 22, 51: 23, 54: 24, 55: 25, 56: 26, 58: 27,
    59: 28, 60: 29, 61: 30, 63: 31, 64: 32, 69: 33, 70: 34, 74: 35, 75: 36, 76: 0,
}
# p1 filetype -> p2 descriptor-type.
_FILETYPE_TO_TYPE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 6, 5: 7, 6: 7, 7: 5}


# ---------------------------------------------------------------------------
# The implementations: name -> (params, results, locals, body).  Params are named;
# `$ret` is the return pointer when the result goes through memory.
# ---------------------------------------------------------------------------

def _p(*names_types: str) -> list[tuple[str, str]]:
    return [tuple(nt.split(":")) for nt in names_types]


# Helpers: shared functions the implementations call as `$h:NAME`.
HELPERS: dict[str, tuple[list, tuple, list, str]] = {
    "scratch": ([], (_I,), ["page:i32"], """
        global.get $g:scratch i32.eqz if
          i32.const 1 memory.grow local.tee $page i32.const -1 i32.eq if unreachable end
          local.get $page i32.const 16 i32.shl global.set $g:scratch
        end
        global.get $g:scratch"""),
    "hnew": (_p("kind:i32", "fd:i32", "pos:i64"), (_I,), ["i:i32", "e:i32"], f"""
        call $h:scratch i32.const {TABLE} i32.add local.set $e
        block loop
          local.get $i i32.const {ENTRIES} i32.ge_u if unreachable end  ;; handle table full
          local.get $e i32.load i32.eqz br_if 1
          local.get $e i32.const 16 i32.add local.set $e
          local.get $i i32.const 1 i32.add local.set $i
          br 0
        end end
        local.get $e local.get $kind i32.store
        local.get $e local.get $fd i32.store offset=4
        local.get $e local.get $pos i64.store offset=8
        local.get $i i32.const 1 i32.add"""),
    "hent": (_p("h:i32"), (_I,), [], f"""
        local.get $h i32.const 1 i32.sub i32.const {ENTRIES} i32.ge_u if unreachable end  ;; not a handle
        call $h:scratch i32.const {TABLE - 16} i32.add local.get $h i32.const 4 i32.shl i32.add"""),
    "hfd": (_p("h:i32"), (_I,), [], "local.get $h call $h:hent i32.load offset=4"),
    "hdrop": (_p("h:i32"), (), [], "local.get $h call $h:hent i32.const 0 i32.store"),
    "errhandle": (_p("errno:i32"), (_I,), [], f"i32.const {K_ERROR} local.get $errno i64.const 0 call $h:hnew"),
    "code": (_p("errno:i32"), (_I,), [], "".join(
        f"local.get $errno i32.const {e} i32.eq if i32.const {c} return end " for e, c in _ERRNO_TO_CODE.items())
        + "i32.const 13"),  # io
    "filetype": (_p("t:i32"), (_I,), [], "".join(
        f"local.get $t i32.const {t} i32.eq if i32.const {c} return end " for t, c in _FILETYPE_TO_TYPE.items())
        + "i32.const 0"),
    # result<T, error-code> with T at `payload`: errno 0 stores the ok discriminant only.
    "result_errno": (_p("ret:i32", "errno:i32", "payload:i32"), (_I,), [], """
        local.get $errno if
          local.get $ret i32.const 1 i32.store8
          local.get $ret local.get $payload i32.add local.get $errno call $h:code i32.store8
          i32.const 1 return
        end
        local.get $ret i32.const 0 i32.store8 i32.const 0"""),
    # Write all of [ptr, ptr+len) to output stream h; the p1 errno (0: written).
    "out_write": (_p("h:i32", "ptr:i32", "len:i32"), (_I,), ["e:i32", "t:i32", "r:i32", "n:i32", "kind:i32"], f"""
        local.get $h call $h:hent local.tee $e i32.load local.set $kind
        call $h:scratch local.set $t
        block loop
          local.get $len i32.eqz br_if 1
          local.get $t local.get $ptr i32.store
          local.get $t local.get $len i32.store offset=4
          local.get $kind i32.const {K_OUT_FILE} i32.eq if
            local.get $e i32.load offset=4 local.get $t i32.const 1 local.get $e i64.load offset=8
            local.get $t i32.const 8 i32.add call $p1:fd_pwrite local.set $r
          else
            local.get $kind i32.const {K_OUT_APPEND} i32.eq if
              local.get $e i32.load offset=4 i64.const 0 i32.const 2 local.get $t i32.const 16 i32.add
              call $p1:fd_seek drop
            end
            local.get $e i32.load offset=4 local.get $t i32.const 1 local.get $t i32.const 8 i32.add
            call $p1:fd_write local.set $r
          end
          local.get $r if local.get $r return end
          local.get $t i32.load offset=8 local.tee $n i32.eqz br_if 1
          local.get $e local.get $e i64.load offset=8 local.get $n i64.extend_i32_u i64.add i64.store offset=8
          local.get $ptr local.get $n i32.add local.set $ptr
          local.get $len local.get $n i32.sub local.set $len
          br 0
        end end
        i32.const 0"""),
    # result<_, stream-error> from a p1 errno.
    "stream_result": (_p("ret:i32", "errno:i32"), (), [], """
        local.get $errno if
          local.get $ret i32.const 1 i32.store8
          local.get $ret i32.const 0 i32.store8 offset=4
          local.get $ret local.get $errno call $h:errhandle i32.store offset=8
        else
          local.get $ret i32.const 0 i32.store8
        end"""),
    # Read up to len bytes from input stream h into ptr: bytes read, or -errno.
    "in_read": (_p("h:i32", "ptr:i32", "len:i32"), (_I,), ["e:i32", "t:i32", "r:i32", "n:i32"], f"""
        local.get $h call $h:hent local.set $e
        call $h:scratch local.set $t
        local.get $t local.get $ptr i32.store
        local.get $t local.get $len i32.store offset=4
        local.get $e i32.load i32.const {K_IN_FILE} i32.eq if
          local.get $e i32.load offset=4 local.get $t i32.const 1 local.get $e i64.load offset=8
          local.get $t i32.const 8 i32.add call $p1:fd_pread local.set $r
        else
          local.get $e i32.load offset=4 local.get $t i32.const 1 local.get $t i32.const 8 i32.add
          call $p1:fd_read local.set $r
        end
        local.get $r if i32.const 0 local.get $r i32.sub return end
        local.get $t i32.load offset=8 local.set $n
        local.get $e local.get $e i64.load offset=8 local.get $n i64.extend_i32_u i64.add i64.store offset=8
        local.get $n"""),
    # option<own<terminal-*>> for p1 fd: some when it is a character device.
    "terminal": (_p("fd:i32", "ret:i32"), (), [], f"""
        local.get $fd call $h:scratch call $p1:fd_fdstat_get i32.eqz
        if call $h:scratch i32.load8_u i32.const 2 i32.eq
          if
            local.get $ret i32.const 1 i32.store8
            local.get $ret i32.const {K_TTY} local.get $fd i64.const 0 call $h:hnew i32.store offset=4
            return
          end
        end
        local.get $ret i32.const 0 i32.store8"""),
    # list<string> (pairs=0) or list<tuple<string,string>> (pairs=1) from p1 args/environ at the temp buffer.
    # The p1 data is first fetched into `temp` (argv pointers, then the strings), then each string
    # is copied into its own realloc'd allocation.
    "strings": (_p("ret:i32", "count:i32", "temp:i32", "pairs:i32", "realloc_dummy:i32"), (), [], "unreachable"),
    "strlen": (_p("p:i32"), (_I,), ["n:i32"], """
        block loop
          local.get $p local.get $n i32.add i32.load8_u i32.eqz br_if 1
          local.get $n i32.const 1 i32.add local.set $n br 0
        end end local.get $n"""),
    "index_of_eq": (_p("p:i32", "len:i32"), (_I,), ["n:i32"], """
        block loop
          local.get $n local.get $len i32.ge_u br_if 1
          local.get $p local.get $n i32.add i32.load8_u i32.const 61 i32.eq br_if 1
          local.get $n i32.const 1 i32.add local.set $n br 0
        end end local.get $n"""),
    "mono_now": ([], (_L,), [], """
        i32.const 1 i64.const 1 call $h:scratch call $p1:clock_time_get drop call $h:scratch i64.load"""),
    # datetime {seconds: u64, nanoseconds: u32} at ret from p1 nanoseconds.
    "datetime": (_p("ret:i32", "ns:i64"), (), [], """
        local.get $ret local.get $ns i64.const 1000000000 i64.div_u i64.store
        local.get $ret local.get $ns i64.const 1000000000 i64.rem_u i64.store32 offset=8"""),
}
del HELPERS["strings"]  # lists of strings need the lowering's realloc: generated per lowering below


def _list_of_strings(sizes_get: str, get: str, pairs: bool) -> str:
    """get-arguments / get-environment: list<string> or list<tuple<string, string>> at $ret."""
    elem = 16 if pairs else 8
    split = """
          local.get $p local.get $n call $h:index_of_eq local.set $k
          local.get $dst local.get $p local.get $k call $$copy i32.store
          local.get $dst local.get $k i32.store offset=4
          local.get $k local.get $n i32.lt_u if
            local.get $p local.get $k i32.add i32.const 1 i32.add local.set $p
            local.get $n local.get $k i32.sub i32.const 1 i32.sub local.set $n
          else i32.const 0 local.set $n end
          local.get $dst local.get $p local.get $n call $$copy i32.store offset=8
          local.get $dst local.get $n i32.store offset=12""" if pairs else """
          local.get $dst local.get $p local.get $n call $$copy i32.store
          local.get $dst local.get $n i32.store offset=4"""
    return f"""
        call $h:scratch local.tee $t call $h:scratch i32.const 4 i32.add call $p1:{sizes_get} drop
        local.get $t i32.load local.set $count
        local.get $t i32.load offset=4 local.get $count i32.const 2 i32.shl i32.add local.tee $need
        i32.const {TEMP_CAP} i32.gt_u if
          local.get $need i32.const 65535 i32.add i32.const 16 i32.shr_u memory.grow local.tee $temp
          i32.const -1 i32.eq if unreachable end
          local.get $temp i32.const 16 i32.shl local.set $temp
        else local.get $t i32.const {TEMP} i32.add local.set $temp end
        local.get $temp local.get $temp local.get $count i32.const 2 i32.shl i32.add call $p1:{get} drop
        i32.const 0 i32.const 0 i32.const 4 local.get $count i32.const {elem} i32.mul call $realloc local.set $list
        local.get $ret local.get $list i32.store
        local.get $ret local.get $count i32.store offset=4
        block loop
          local.get $i local.get $count i32.ge_u br_if 1
          local.get $temp local.get $i i32.const 2 i32.shl i32.add i32.load local.tee $p call $h:strlen local.set $n
          local.get $list local.get $i i32.const {elem} i32.mul i32.add local.set $dst
          {split}
          local.get $i i32.const 1 i32.add local.set $i br 0
        end end"""


_STRINGS_LOCALS = ["t:i32", "count:i32", "need:i32", "temp:i32", "list:i32", "i:i32", "p:i32", "n:i32", "dst:i32",
                   "k:i32"]

# A string copied into its own allocation (one realloc per string): generated per lowering, as `$$copy`.
_COPY = ("copy", _p("src:i32", "len:i32"), (_I,), ["dst:i32"], """
        i32.const 0 i32.const 0 i32.const 1 local.get $len call $realloc local.tee $dst
        local.get $src local.get $len memory.copy local.get $dst""")


def _impl(params: list, results: tuple, locals_: list, body: str, needs: tuple = ()) -> tuple:
    return params, results, locals_, body, needs


_R = "ret:i32"
IMPLS: dict[tuple[str, str], tuple] = {
    # -- wasi:cli ------------------------------------------------------------------
    ("cli/environment", "get-arguments"): _impl(
        _p(_R), (), _STRINGS_LOCALS, _list_of_strings("args_sizes_get", "args_get", False), ("copy",)),
    ("cli/environment", "get-environment"): _impl(
        _p(_R), (), _STRINGS_LOCALS, _list_of_strings("environ_sizes_get", "environ_get", True), ("copy",)),
    ("cli/environment", "initial-cwd"): _impl(_p(_R), (), [], "local.get $ret i32.const 0 i32.store8"),
    ("cli/exit", "exit"): _impl(_p("status:i32"), (), [], "local.get $status i32.const 0 i32.ne call $p1:proc_exit"),
    ("cli/stdin", "get-stdin"): _impl([], (_I,), [], f"i32.const {K_IN} i32.const 0 i64.const 0 call $h:hnew"),
    ("cli/stdout", "get-stdout"): _impl([], (_I,), [], f"i32.const {K_OUT} i32.const 1 i64.const 0 call $h:hnew"),
    ("cli/stderr", "get-stderr"): _impl([], (_I,), [], f"i32.const {K_OUT} i32.const 2 i64.const 0 call $h:hnew"),
    ("cli/terminal-stdin", "get-terminal-stdin"): _impl(
        _p(_R), (), [], "i32.const 0 local.get $ret call $h:terminal"),
    ("cli/terminal-stdout", "get-terminal-stdout"): _impl(
        _p(_R), (), [], "i32.const 1 local.get $ret call $h:terminal"),
    ("cli/terminal-stderr", "get-terminal-stderr"): _impl(
        _p(_R), (), [], "i32.const 2 local.get $ret call $h:terminal"),
    # -- wasi:clocks -----------------------------------------------------------------
    ("clocks/monotonic-clock", "now"): _impl([], (_L,), [], "call $h:mono_now"),
    ("clocks/monotonic-clock", "resolution"): _impl([], (_L,), [], """
        i32.const 1 call $h:scratch call $p1:clock_res_get drop call $h:scratch i64.load"""),
    ("clocks/monotonic-clock", "subscribe-instant"): _impl(_p("when:i64"), (_I,), [], f"""
        i32.const {K_POLL} i32.const 1 local.get $when call $h:hnew"""),
    ("clocks/monotonic-clock", "subscribe-duration"): _impl(_p("d:i64"), (_I,), [], f"""
        i32.const {K_POLL} i32.const 1 call $h:mono_now local.get $d i64.add call $h:hnew"""),
    ("clocks/wall-clock", "now"): _impl(_p(_R), (), [], """
        i32.const 0 i64.const 1 call $h:scratch call $p1:clock_time_get drop
        local.get $ret call $h:scratch i64.load call $h:datetime"""),
    ("clocks/wall-clock", "resolution"): _impl(_p(_R), (), [], """
        i32.const 0 call $h:scratch call $p1:clock_res_get drop
        local.get $ret call $h:scratch i64.load call $h:datetime"""),
    # -- wasi:random -----------------------------------------------------------------
    ("random/random", "get-random-bytes"): _impl(_p("len:i64", _R), (), ["p:i32"], """
        i32.const 0 i32.const 0 i32.const 1 local.get $len i32.wrap_i64 call $realloc local.tee $p
        local.get $len i32.wrap_i64 call $p1:random_get drop
        local.get $ret local.get $p i32.store
        local.get $ret local.get $len i32.wrap_i64 i32.store offset=4""", ("realloc",)),
    ("random/random", "get-random-u64"): _impl([], (_L,), [], """
        call $h:scratch i32.const 8 call $p1:random_get drop call $h:scratch i64.load"""),
    # -- wasi:io ---------------------------------------------------------------------
    ("io/streams", "[method]output-stream.check-write"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret i32.const 0 i32.store8 local.get $ret i64.const 4096 i64.store offset=8"""),
    ("io/streams", "[method]output-stream.write"): _impl(_p("self:i32", "ptr:i32", "len:i32", _R), (), [], """
        local.get $ret local.get $self local.get $ptr local.get $len call $h:out_write call $h:stream_result"""),
    ("io/streams", "[method]output-stream.blocking-write-and-flush"): _impl(
        _p("self:i32", "ptr:i32", "len:i32", _R), (), [], """
        local.get $ret local.get $self local.get $ptr local.get $len call $h:out_write call $h:stream_result"""),
    ("io/streams", "[method]output-stream.flush"): _impl(_p("self:i32", _R), (), [],
                                                        "local.get $ret i32.const 0 i32.store8"),
    ("io/streams", "[method]output-stream.blocking-flush"): _impl(_p("self:i32", _R), (), [],
                                                                 "local.get $ret i32.const 0 i32.store8"),
    ("io/streams", "[method]output-stream.subscribe"): _impl(_p("self:i32"), (_I,), [], f"""
        i32.const {K_POLL} i32.const 0 i64.const 0 call $h:hnew"""),
    ("io/streams", "[method]input-stream.subscribe"): _impl(_p("self:i32"), (_I,), [], f"""
        i32.const {K_POLL} i32.const 0 i64.const 0 call $h:hnew"""),
    ("io/streams", "[method]input-stream.read"): _impl(_p("self:i32", "len:i64", _R), (), ["p:i32", "n:i32"], """
        local.get $len i64.const 65536 i64.gt_u if i64.const 65536 local.set $len end
        i32.const 0 i32.const 0 i32.const 1 local.get $len i32.wrap_i64 call $realloc local.set $p
        local.get $self local.get $p local.get $len i32.wrap_i64 call $h:in_read local.tee $n
        i32.const 0 i32.lt_s if
          local.get $ret i32.const 1 i32.store8 local.get $ret i32.const 0 i32.store8 offset=4
          local.get $ret i32.const 0 local.get $n i32.sub call $h:errhandle i32.store offset=8 return
        end
        local.get $n i32.eqz local.get $len i64.const 0 i64.ne i32.and if
          local.get $ret i32.const 1 i32.store8 local.get $ret i32.const 1 i32.store8 offset=4 return
        end
        local.get $ret i32.const 0 i32.store8
        local.get $ret local.get $p i32.store offset=4
        local.get $ret local.get $n i32.store offset=8""", ("realloc",)),
    ("io/streams", "[method]input-stream.blocking-read"): None,  # filled below: same as read
    ("io/error", "[method]error.to-debug-string"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret i32.const 0 i32.store local.get $ret i32.const 0 i32.store offset=4"""),
    ("io/poll", "[method]pollable.ready"): _impl(_p("self:i32"), (_I,), ["e:i32"], """
        local.get $self call $h:hent local.tee $e i32.load offset=4 i32.eqz if i32.const 1 return end
        call $h:mono_now local.get $e i64.load offset=8 i64.ge_u"""),
    ("io/poll", "[method]pollable.block"): _impl(_p("self:i32"), (), [], """
        local.get $self call $h:sleep_until"""),
    # poll(list<borrow<pollable>>) -> list<u32>: the ready ones, or the earliest deadline after sleeping.
    ("io/poll", "poll"): _impl(_p("ptr:i32", "len:i32", _R), (), ["i:i32", "n:i32", "best:i32", "out:i32", "h:i32"],
                               """
        i32.const 0 i32.const 0 i32.const 4 local.get $len i32.const 2 i32.shl call $realloc local.set $out
        block loop
          local.get $i local.get $len i32.ge_u br_if 1
          local.get $ptr local.get $i i32.const 2 i32.shl i32.add i32.load local.tee $h
          call $h:hent i32.load offset=4 i32.eqz
          if local.get $out local.get $n i32.const 2 i32.shl i32.add local.get $i i32.store
             local.get $n i32.const 1 i32.add local.set $n end
          local.get $i i32.const 1 i32.add local.set $i br 0
        end end
        local.get $n i32.eqz if
          ;; only clock pollables: sleep until the earliest deadline, which is then ready
          i32.const 0 local.set $i i32.const -1 local.set $best
          block loop
            local.get $i local.get $len i32.ge_u br_if 1
            local.get $best i32.const -1 i32.eq if i32.const 0 local.set $best end
            local.get $ptr local.get $i i32.const 2 i32.shl i32.add i32.load call $h:hent i64.load offset=8
            local.get $ptr local.get $best i32.const 2 i32.shl i32.add i32.load call $h:hent i64.load offset=8
            i64.lt_u if local.get $i local.set $best end
            local.get $i i32.const 1 i32.add local.set $i br 0
          end end
          local.get $best i32.const -1 i32.ne if
            local.get $ptr local.get $best i32.const 2 i32.shl i32.add i32.load call $h:sleep_until
            local.get $out local.get $best i32.store i32.const 1 local.set $n
          end
        end
        local.get $ret local.get $out i32.store
        local.get $ret local.get $n i32.store offset=4""", ("realloc",)),
    # -- wasi:filesystem ---------------------------------------------------------------
    ("filesystem/preopens", "get-directories"): _impl(
        _p(_R), (), ["fd:i32", "n:i32", "list:i32", "dst:i32", "len:i32", "p:i32"], f"""
        i32.const 3 local.set $fd
        block loop  ;; count the preopens: p1 numbers them from 3 without gaps
          local.get $fd call $h:scratch call $p1:fd_prestat_get br_if 1
          local.get $fd i32.const 1 i32.add local.set $fd br 0
        end end
        local.get $fd i32.const 3 i32.sub local.set $n
        i32.const 0 i32.const 0 i32.const 4 local.get $n i32.const 12 i32.mul call $realloc local.set $list
        local.get $ret local.get $list i32.store local.get $ret local.get $n i32.store offset=4
        i32.const 3 local.set $fd
        block loop
          local.get $fd i32.const 3 i32.sub local.get $n i32.ge_u br_if 1
          local.get $fd call $h:scratch call $p1:fd_prestat_get drop
          call $h:scratch i32.load offset=4 local.set $len
          local.get $list local.get $fd i32.const 3 i32.sub i32.const 12 i32.mul i32.add local.set $dst
          ;; pos 1 marks a preopen: the adapter fetches the list again for each name and drops those
          ;; handles, which must not close the one p1 fd they share
          local.get $dst i32.const {K_DESC} local.get $fd i64.const 1 call $h:hnew i32.store
          i32.const 0 i32.const 0 i32.const 1 local.get $len call $realloc local.set $p
          local.get $fd local.get $p local.get $len call $p1:fd_prestat_dir_name drop
          local.get $dst local.get $p i32.store offset=4 local.get $dst local.get $len i32.store offset=8
          local.get $fd i32.const 1 i32.add local.set $fd br 0
        end end""", ("realloc",)),
    ("filesystem/types", "filesystem-error-code"): _impl(_p("err:i32", _R), (), ["e:i32"], f"""
        local.get $err call $h:hent local.tee $e i32.load i32.const {K_ERROR} i32.eq if
          local.get $ret i32.const 1 i32.store8
          local.get $ret local.get $e i32.load offset=4 call $h:code i32.store8 offset=1 return
        end
        local.get $ret i32.const 0 i32.store8"""),
    ("filesystem/types", "[method]descriptor.get-type"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd call $h:scratch call $p1:fd_fdstat_get i32.const 1
        call $h:result_errno i32.eqz if
          local.get $ret call $h:scratch i32.load8_u call $h:filetype i32.store8 offset=1
        end"""),
    ("filesystem/types", "[method]descriptor.stat"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd call $h:scratch call $p1:fd_filestat_get i32.const 8
        call $h:result_errno i32.eqz if local.get $ret i32.const 8 i32.add call $h:scratch call $h:stat_out end"""),
    ("filesystem/types", "[method]descriptor.stat-at"): _impl(
        _p("self:i32", "flags:i32", "path:i32", "len:i32", _R), (), [], """
        local.get $ret
        local.get $self call $h:hfd local.get $flags local.get $path local.get $len call $h:scratch
        call $p1:path_filestat_get i32.const 8
        call $h:result_errno i32.eqz if local.get $ret i32.const 8 i32.add call $h:scratch call $h:stat_out end"""),
    ("filesystem/types", "[method]descriptor.write-via-stream"): _impl(_p("self:i32", "off:i64", _R), (), [], f"""
        local.get $ret i32.const 0 i32.store8
        local.get $ret i32.const {K_OUT_FILE} local.get $self call $h:hfd local.get $off call $h:hnew
        i32.store offset=4"""),
    ("filesystem/types", "[method]descriptor.append-via-stream"): _impl(_p("self:i32", _R), (), [], f"""
        local.get $ret i32.const 0 i32.store8
        local.get $ret i32.const {K_OUT_APPEND} local.get $self call $h:hfd i64.const 0 call $h:hnew
        i32.store offset=4"""),
    ("filesystem/types", "[method]descriptor.read-via-stream"): _impl(_p("self:i32", "off:i64", _R), (), [], f"""
        local.get $ret i32.const 0 i32.store8
        local.get $ret i32.const {K_IN_FILE} local.get $self call $h:hfd local.get $off call $h:hnew
        i32.store offset=4"""),
    # descriptor-flags from the p1 fd's rights (read, write, mutate-directory) and fdflags (the syncs).
    ("filesystem/types", "[method]descriptor.get-flags"): _impl(
        _p("self:i32", _R), (), ["t:i32", "f:i32", "r:i64", "q:i32"], """
        call $h:scratch local.set $t
        local.get $ret local.get $self call $h:hfd local.get $t call $p1:fd_fdstat_get i32.const 1
        call $h:result_errno if return end
        local.get $t i64.load offset=8 local.set $r
        local.get $r i64.const 0x4002 i64.and i64.const 0 i64.ne if i32.const 1 local.set $f end ;; read, readdir
        local.get $r i64.const 0x40 i64.and i64.const 0 i64.ne if local.get $f i32.const 2 i32.or local.set $f end
        local.get $r i64.const 0x200 i64.and i64.const 0 i64.ne if local.get $f i32.const 32 i32.or local.set $f end
        local.get $t i32.load16_u offset=2 local.set $q
        local.get $q i32.const 16 i32.and if local.get $f i32.const 4 i32.or local.set $f end   ;; sync
        local.get $q i32.const 2 i32.and if local.get $f i32.const 8 i32.or local.set $f end    ;; dsync
        local.get $q i32.const 8 i32.and if local.get $f i32.const 16 i32.or local.set $f end   ;; rsync
        local.get $ret local.get $f i32.store8 offset=1"""),
    ("filesystem/types", "[method]descriptor.open-at"): _impl(
        _p("self:i32", "pflags:i32", "path:i32", "len:i32", "oflags:i32", "flags:i32", _R), (),
        ["rights:i64", "fdflags:i32", "r:i32", "inherit:i64"], """
        i64.const 0x1FFFFFFF local.set $rights
        local.get $flags i32.const 1 i32.and i32.eqz if
          ;; no fd_read; fd_readdir stays when opening a directory (0.2 lists one without the read
          ;; flag), but not on a file: wasmtime's p1 opens a file with fd_readdir for reading
          local.get $rights i64.const -3 i64.and local.set $rights
          local.get $oflags i32.const 2 i32.and i32.eqz if
            local.get $rights i64.const -16385 i64.and local.set $rights
          end
        end
        local.get $flags i32.const 2 i32.and i32.eqz if
          ;; no fd_datasync, fd_sync, fd_write, fd_allocate, fd_filestat_set_size
          local.get $rights i64.const -4194642 i64.and local.set $rights
        end
        local.get $flags i32.const 4 i32.and if i32.const 16 local.set $fdflags end
        local.get $flags i32.const 8 i32.and if local.get $fdflags i32.const 2 i32.or local.set $fdflags end
        local.get $flags i32.const 16 i32.and if local.get $fdflags i32.const 8 i32.or local.set $fdflags end
        ;; the inheriting rights of a directory are what files opened in it may get, whatever the
        ;; directory's own flags (a read-only directory still hands out writable files); a file's
        ;; are its own (wasmtime's p1 reads a file's access mode from them too)
        local.get $rights local.set $inherit
        local.get $oflags i32.const 2 i32.and if i64.const 0x1FFFFFFF local.set $inherit end
        local.get $self call $h:hfd local.get $pflags local.get $path local.get $len local.get $oflags
        local.get $rights local.get $inherit local.get $fdflags call $h:scratch call $p1:path_open local.tee $r
        i32.const 76 i32.eq if
          ;; notcapable: a p1 runtime that enforces rights (Waft's does) refuses more than the directory
          ;; may hand down; ask again within the directory's inheriting rights.  Only then: wasmtime's
          ;; p1 reads the access mode from the rights, and narrower ones change what it opens.
          local.get $self call $h:hfd call $h:scratch i32.const 64 i32.add call $p1:fd_fdstat_get drop
          call $h:scratch i64.load offset=80 local.get $rights i64.and local.set $rights
          call $h:scratch i64.load offset=80 local.get $inherit i64.and local.set $inherit
          local.get $self call $h:hfd local.get $pflags local.get $path local.get $len local.get $oflags
          local.get $rights local.get $inherit local.get $fdflags call $h:scratch call $p1:path_open local.set $r
        end
        local.get $ret local.get $r
        i32.const 4 call $h:result_errno if return end
        local.get $ret i32.const K_DESC call $h:scratch i32.load i64.const 0 call $h:hnew i32.store offset=4"""),
    ("filesystem/types", "[method]descriptor.read-directory"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret i32.const 0 i32.store8
        local.get $ret i32.const K_DIRSTREAM local.get $self call $h:hfd i64.const 0 call $h:hnew
        i32.store offset=4"""),
    # One entry per call: fd_readdir from the stream's cookie into the temp buffer; "." and ".." skipped.
    ("filesystem/types", "[method]directory-entry-stream.read-directory-entry"): _impl(
        _p("self:i32", _R), (), ["e:i32", "t:i32", "buf:i32", "used:i32", "n:i32", "p:i32", "r:i32"], """
        local.get $self call $h:hent local.set $e
        call $h:scratch local.tee $t i32.const TEMP i32.add local.set $buf
        block loop
          local.get $e i32.load offset=4 local.get $buf i32.const 4096 local.get $e i64.load offset=8
          local.get $t call $p1:fd_readdir local.set $r
          local.get $ret local.get $r i32.const 4 call $h:result_errno if return end
          local.get $t i32.load local.tee $used i32.const 24 i32.lt_u if
            local.get $ret i32.const 0 i32.store8 offset=4 return     ;; end of the directory: none
          end
          local.get $buf i32.load offset=16 local.set $n
          local.get $e local.get $buf i64.load i64.store offset=8          ;; d_next
          ;; skip "." and ".."
          local.get $n i32.const 1 i32.eq local.get $buf i32.load8_u offset=24 i32.const 46 i32.eq i32.and br_if 0
          local.get $n i32.const 2 i32.eq local.get $buf i32.load16_u offset=24 i32.const 0x2e2e i32.eq i32.and br_if 0
        end end
        local.get $ret i32.const 1 i32.store8 offset=4
        local.get $ret local.get $buf i32.load8_u offset=20 call $h:filetype i32.store8 offset=8
        i32.const 0 i32.const 0 i32.const 1 local.get $n call $realloc local.tee $p
        local.get $buf i32.const 24 i32.add local.get $n memory.copy
        local.get $ret local.get $p i32.store offset=12 local.get $ret local.get $n i32.store offset=16""",
        ("realloc",)),
    ("filesystem/types", "[method]descriptor.metadata-hash"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd call $h:scratch call $p1:fd_filestat_get i32.const 8
        call $h:result_errno i32.eqz if local.get $ret call $h:scratch call $h:hash_out end"""),
    ("filesystem/types", "[method]descriptor.metadata-hash-at"): _impl(
        _p("self:i32", "flags:i32", "path:i32", "len:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd local.get $flags local.get $path local.get $len call $h:scratch
        call $p1:path_filestat_get i32.const 8
        call $h:result_errno i32.eqz if local.get $ret call $h:scratch call $h:hash_out end"""),
    ("filesystem/types", "[method]descriptor.is-same-object"): _impl(_p("self:i32", "other:i32"), (_I,), ["t:i32"], """
        call $h:scratch local.set $t
        local.get $self call $h:hfd local.get $t call $p1:fd_filestat_get if i32.const 0 return end
        local.get $other call $h:hfd local.get $t i32.const 64 i32.add call $p1:fd_filestat_get
        if i32.const 0 return end
        local.get $t i64.load local.get $t i64.load offset=64 i64.eq
        local.get $t i64.load offset=8 local.get $t i64.load offset=72 i64.eq i32.and"""),
    ("filesystem/types", "[method]descriptor.set-size"): _impl(_p("self:i32", "size:i64", _R), (), [], """
        local.get $ret local.get $self call $h:hfd local.get $size call $p1:fd_filestat_set_size i32.const 1
        call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.sync"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd call $p1:fd_sync i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.sync-data"): _impl(_p("self:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd call $p1:fd_datasync i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.advise"): _impl(
        _p("self:i32", "off:i64", "len:i64", "advice:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd local.get $off local.get $len local.get $advice call $p1:fd_advise
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.set-times"): _impl(
        _p("self:i32", "ad:i32", "as:i64", "an:i32", "md:i32", "ms:i64", "mn:i32", _R), (), [], """
        local.get $ret
        local.get $self call $h:hfd
        local.get $as local.get $an call $h:ns local.get $ms local.get $mn call $h:ns
        local.get $ad local.get $md call $h:fstflags call $p1:fd_filestat_set_times
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.set-times-at"): _impl(
        _p("self:i32", "flags:i32", "path:i32", "len:i32", "ad:i32", "as:i64", "an:i32", "md:i32", "ms:i64", "mn:i32",
           _R), (), [], """
        local.get $ret
        local.get $self call $h:hfd local.get $flags local.get $path local.get $len
        local.get $as local.get $an call $h:ns local.get $ms local.get $mn call $h:ns
        local.get $ad local.get $md call $h:fstflags call $p1:path_filestat_set_times
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.create-directory-at"): _impl(_p("self:i32", "path:i32", "len:i32", _R),
                                                                          (), [], """
        local.get $ret local.get $self call $h:hfd local.get $path local.get $len call $p1:path_create_directory
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.remove-directory-at"): _impl(_p("self:i32", "path:i32", "len:i32", _R),
                                                                          (), [], """
        local.get $ret local.get $self call $h:hfd local.get $path local.get $len call $p1:path_remove_directory
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.unlink-file-at"): _impl(_p("self:i32", "path:i32", "len:i32", _R),
                                                                     (), [], """
        local.get $ret local.get $self call $h:hfd local.get $path local.get $len call $p1:path_unlink_file
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.rename-at"): _impl(
        _p("self:i32", "old:i32", "oldlen:i32", "to:i32", "new:i32", "newlen:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd local.get $old local.get $oldlen
        local.get $to call $h:hfd local.get $new local.get $newlen call $p1:path_rename
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.symlink-at"): _impl(
        _p("self:i32", "old:i32", "oldlen:i32", "new:i32", "newlen:i32", _R), (), [], """
        local.get $ret local.get $old local.get $oldlen local.get $self call $h:hfd local.get $new local.get $newlen
        call $p1:path_symlink i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.link-at"): _impl(
        _p("self:i32", "flags:i32", "old:i32", "oldlen:i32", "to:i32", "new:i32", "newlen:i32", _R), (), [], """
        local.get $ret local.get $self call $h:hfd local.get $flags local.get $old local.get $oldlen
        local.get $to call $h:hfd local.get $new local.get $newlen call $p1:path_link
        i32.const 1 call $h:result_errno drop"""),
    ("filesystem/types", "[method]descriptor.readlink-at"): _impl(
        _p("self:i32", "path:i32", "len:i32", _R), (), ["t:i32", "n:i32", "p:i32"], """
        call $h:scratch local.set $t
        local.get $ret local.get $self call $h:hfd local.get $path local.get $len
        local.get $t i32.const TEMP i32.add i32.const 4096 local.get $t call $p1:path_readlink
        i32.const 4 call $h:result_errno if return end
        local.get $t i32.load local.set $n
        i32.const 0 i32.const 0 i32.const 1 local.get $n call $realloc local.tee $p
        local.get $t i32.const TEMP i32.add local.get $n memory.copy
        local.get $ret local.get $p i32.store offset=4 local.get $ret local.get $n i32.store offset=8""",
        ("realloc",)),
    ("filesystem/types", "[method]descriptor.read"): _impl(
        _p("self:i32", "len:i64", "off:i64", _R), (), ["t:i32", "n:i32", "p:i32"], """
        local.get $len i64.const 65536 i64.gt_u if i64.const 65536 local.set $len end
        i32.const 0 i32.const 0 i32.const 1 local.get $len i32.wrap_i64 call $realloc local.set $p
        call $h:scratch local.tee $t local.get $p i32.store
        local.get $t local.get $len i64.store32 offset=4
        local.get $ret local.get $self call $h:hfd local.get $t i32.const 1 local.get $off local.get $t i32.const 8
        i32.add call $p1:fd_pread i32.const 4 call $h:result_errno if return end
        local.get $t i32.load offset=8 local.set $n
        local.get $ret local.get $p i32.store offset=4 local.get $ret local.get $n i32.store offset=8
        local.get $ret local.get $n i32.eqz local.get $len i64.const 0 i64.ne i32.and i32.store8 offset=12""",
        ("realloc",)),
    ("filesystem/types", "[method]descriptor.write"): _impl(
        _p("self:i32", "ptr:i32", "len:i32", "off:i64", _R), (), ["t:i32"], """
        call $h:scratch local.tee $t local.get $ptr i32.store
        local.get $t local.get $len i32.store offset=4
        local.get $ret local.get $self call $h:hfd local.get $t i32.const 1 local.get $off local.get $t i32.const 8
        i32.add call $p1:fd_pwrite i32.const 8 call $h:result_errno if return end
        local.get $ret local.get $t i64.load32_u offset=8 i64.store offset=8"""),
}

IMPLS[("io/streams", "[method]input-stream.blocking-read")] = IMPLS[("io/streams", "[method]input-stream.read")]

HELPERS["hash_out"] = (_p("ret:i32", "src:i32"), (), [], """
        local.get $ret local.get $src i64.load offset=8 i64.store offset=8    ;; lower: inode
        local.get $ret local.get $src i64.load i64.store offset=16""")        # upper: device
# new-timestamp (no-change / now / timestamp) pairs -> p1 fstflags.
HELPERS["fstflags"] = (_p("a:i32", "m:i32"), (_I,), ["f:i32"], """
        local.get $a i32.const 1 i32.eq if i32.const 2 local.set $f end
        local.get $a i32.const 2 i32.eq if i32.const 1 local.set $f end
        local.get $m i32.const 1 i32.eq if local.get $f i32.const 8 i32.or local.set $f end
        local.get $m i32.const 2 i32.eq if local.get $f i32.const 4 i32.or local.set $f end
        local.get $f""")
HELPERS["ns"] = (_p("s:i64", "n:i32"), (_L,), [], """
        local.get $s i64.const 1000000000 i64.mul local.get $n i64.extend_i32_u i64.add""")

HELPERS["stat_out"] = (_p("dst:i32", "src:i32"), (), [], """
        local.get $dst local.get $src i32.load8_u offset=16 call $h:filetype i32.store8
        local.get $dst local.get $src i64.load offset=24 i64.store offset=8
        local.get $dst local.get $src i64.load offset=32 i64.store offset=16
        local.get $dst i32.const 1 i32.store8 offset=24
        local.get $dst i32.const 32 i32.add local.get $src i64.load offset=40 call $h:datetime
        local.get $dst i32.const 1 i32.store8 offset=48
        local.get $dst i32.const 56 i32.add local.get $src i64.load offset=48 call $h:datetime
        local.get $dst i32.const 1 i32.store8 offset=72
        local.get $dst i32.const 80 i32.add local.get $src i64.load offset=56 call $h:datetime""")
# Sleep until the deadline of clock pollable h (p1 poll_oneoff on an absolute monotonic clock).
HELPERS["sleep_until"] = (_p("h:i32"), (), ["e:i32", "t:i32"], """
        local.get $h call $h:hent local.tee $e i32.load offset=4 i32.eqz if return end
        call $h:scratch local.tee $t i32.const 0 i32.const 48 memory.fill
        local.get $t i32.const 1 i32.store offset=16           ;; clock id: monotonic
        local.get $t local.get $e i64.load offset=8 i64.store offset=24  ;; timeout
        local.get $t i32.const 1 i32.store16 offset=40         ;; subscription_clock_abstime
        local.get $t local.get $t i32.const 64 i32.add i32.const 1 local.get $t i32.const 128 i32.add
        call $p1:poll_oneoff drop""")

_CONSTANTS = {"TEMP": TEMP, **{name: value for name, value in globals().items() if name.startswith("K_")}}

# Resource drops: a descriptor also closes its p1 fd, unless it is a preopen (pos 1).
_DROP_CLOSES = {("filesystem/types", "descriptor")}


class P1Shim:
    """Collects the generated functions, the preview1 imports they call and the shim's globals."""

    def __init__(self) -> None:
        self.functions: list[GenFunc] = []
        self.p1_imports: dict[str, FuncType] = {}
        self.globals: list[Global] = []
        self.global_names: dict[str, int] = {}
        self.helpers: dict[str, GenFunc] = {}
        self.interfaces: set[str] = set()

    # -- public -------------------------------------------------------------------
    def lowering(self, interface: str, func: str, core_type: FuncType, realloc, where: str) -> GenFunc:
        iface = self.interface(interface, where)
        impl = IMPLS.get((iface, func))
        if impl is None:
            raise UnwrapError(f"{interface} function '{func}' is not implemented over preview1 by path (b) "
                              f"(used by {where})")
        params, results, locals_, body, needs = impl
        self.check_type(core_type, FuncType(tuple(t for _, t in params), results), interface, func)
        if ("realloc" in needs or "copy" in needs) and realloc is None:
            raise UnwrapError(f"{interface} '{func}' is lowered without a realloc option ({where})")
        extra: dict[str, GenFunc] = {}
        if "copy" in needs:
            _, cparams, cresults, clocals, cbody = _COPY
            extra["copy"] = self.make(f"{iface}#{func}:copy", cparams, cresults, clocals, cbody, realloc, {})
        return self.make(f"{iface}#{func}", params, results, locals_, body, realloc, extra)

    def resource_drop(self, interface: str, resource: str, core_type: FuncType, where: str) -> GenFunc:
        iface = self.interface(interface, where)
        self.check_type(core_type, FuncType(("i32",), ()), interface, f"[resource-drop]{resource}")
        close = ("local.get $h call $h:hent i64.load offset=8 i64.eqz if local.get $h call $h:hfd call $p1:fd_close "
                 "drop end " if (iface, resource) in _DROP_CLOSES else "")
        return self.make(f"{iface}#[resource-drop]{resource}", _p("h:i32"), (), [],
                         close + "local.get $h call $h:hdrop", None, {})

    def start_wrapper(self, run) -> GenFunc:
        """`_start`: call wasi:cli/run's lifted core function; its `err` (1) exits with status 1."""
        return self.make("_start", [], (), [], "call $run if i32.const 1 call $p1:proc_exit end", None, {},
                         run=run)

    # -- internals -------------------------------------------------------------------
    def interface(self, name: str, where: str) -> str:
        parsed = parse_wasi_name(name)
        if parsed is None:
            raise UnwrapError(f"the component imports '{name}', which is not a WASI interface: path (b) "
                              f"implements {SUPPORTED_RANGE} over preview1 ({where})")
        _, iface, version = parsed
        if not is_supported_version(version):
            raise UnwrapError(f"the component imports '{name}': version {'.'.join(map(str, version))} is outside "
                              f"the supported range {SUPPORTED_RANGE}")
        self.interfaces.add(name)
        return iface

    @staticmethod
    def check_type(core_type: FuncType, expected: FuncType, interface: str, func: str) -> None:
        if core_type != expected:
            raise UnwrapError(f"{interface} '{func}' is lowered as {core_type}, not the canonical ABI's {expected}")

    def global_index(self, name: str) -> int:
        if name not in self.global_names:
            self.global_names[name] = len(self.globals)
            self.globals.append(Global(GlobalType("i32", True), [Instr("i32.const", 0)]))
        return self.global_names[name]

    def helper(self, name: str) -> GenFunc:
        if name not in self.helpers:
            params, results, locals_, body = HELPERS[name]
            placeholder = GenFunc(name, FuncType(tuple(t for _, t in params), results), [], [])
            self.helpers[name] = placeholder  # recursion-safe: helpers may call each other
            built = self.make(f"helper:{name}", params, results, locals_, body, None, {}, register=False)
            placeholder.locals, placeholder.body = built.locals, built.body
            self.functions.append(placeholder)
        return self.helpers[name]

    def make(self, name: str, params: list, results: tuple, locals_: list, body: str, realloc,
             extra: dict[str, GenFunc], register: bool = True, **symbols) -> GenFunc:
        names = {n: i for i, (n, _) in enumerate(params)}
        local_types = []
        for entry in locals_:
            local_name, vt = entry.split(":")
            names[local_name] = len(names)
            local_types.append(vt)

        def resolve(symbol: str):
            if symbol.startswith("p1:"):
                p1_name = symbol[3:]
                self.p1_imports.setdefault(p1_name, P1_TYPES[p1_name])
                return ("p1", p1_name)
            if symbol.startswith("h:"):
                return ("gen", self.helper(symbol[2:]))
            if symbol.startswith("g:"):
                return ("global", self.global_index(symbol[2:]))
            if symbol.startswith("$"):
                return ("gen", extra[symbol[1:]])
            if symbol == "realloc":
                return realloc
            if symbol in symbols:
                return symbols[symbol]
            raise ValueError(f"unknown symbol ${symbol} in {name}")

        func = GenFunc(name, FuncType(tuple(t for _, t in params), results), local_types,
                       assemble(body, names, resolve, _CONSTANTS))
        if register:
            self.functions.append(func)
        return func
