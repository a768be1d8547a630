"""WASI preview 1 (`wasi_snapshot_preview1`) as data: the one signature table.

The pinned source of truth is the p1 witx (WebAssembly/WASI,
legacy/preview1/witx/{wasi_snapshot_preview1,typenames}.witx).  This module
restates it as Python tables, and everything else derives from them:

- `FUNCTIONS`: each of the 46 functions (the witx's 45 of the original
  snapshot plus `sock_accept`, added later) with its witx-level parameters and
  results, and its core-Wasm signature by the witx lowering rules;
- the constants: `ERRNO`, `RIGHTS`, `FILETYPE`, `WHENCE`, `CLOCKID`,
  `EVENTTYPE`, `FDFLAGS`, `OFLAGS`, `LOOKUPFLAGS`, `FSTFLAGS`, `ADVICE`,
  `SIGNAL`, `RIFLAGS`, `ROFLAGS`, `SDFLAGS`, `SUBCLOCKFLAGS`, `EVENTRWFLAGS`,
  `PREOPENTYPE`, and the memory layouts of the records (`LAYOUTS`);
- `generate_header()`: runtime_c/wasi_p1/include/waft_wasi_p1.h (the C
  constants and the import prototypes the runtime defines); a golden-file
  test keeps the checked-in header equal to it (regenerate with
  `python -m waftkit.wasi > runtime_c/wasi_p1/include/waft_wasi_p1.h`);
- `provided_imports()`: what the runtime supplies, keyed by (module, name),
  for the compiler's import checks and `waft check`;
- `runtime_sources(target)`: the runtime's C files for a target, to pass to
  `waftkit.firmware.runtime.runtime_library(..., extra_sources=...)`.

Lowering (witx "interface types" to core Wasm): 64-bit scalars and flags are
i64, every other scalar, enum, flags, handle and pointer is i32; a `string`
or `list` parameter is two i32s (pointer, length); a function's results
`(expected T (error errno))` become an i32 errno return plus one i32
out-pointer parameter per component of T; `proc_exit` returns nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from aot import abi, cheader
from aot.errors import TargetError
from aot.package_data import RUNTIME_DIR
from aot.targets import Target
from aot.wasm.module import FuncType

MODULE = "wasi_snapshot_preview1"

# --- types --------------------------------------------------------------------

# Every witx typename the functions use, with its representation: a scalar
# ("u32"...), or the word for a compound kind.  Enums and flags carry their
# tag/repr type.
TYPES: dict[str, str] = {
    "size": "u32",
    "filesize": "u64",
    "timestamp": "u64",
    "clockid": "u32",  # enum
    "errno": "u16",  # enum
    "rights": "u64",  # flags
    "fd": "handle",
    "filedelta": "s64",
    "whence": "u8",  # enum
    "dircookie": "u64",
    "dirnamlen": "u32",
    "inode": "u64",
    "filetype": "u8",  # enum
    "advice": "u8",  # enum
    "fdflags": "u16",  # flags
    "device": "u64",
    "fstflags": "u16",  # flags
    "lookupflags": "u32",  # flags
    "oflags": "u16",  # flags
    "linkcount": "u64",
    "userdata": "u64",
    "eventtype": "u8",  # enum
    "eventrwflags": "u16",  # flags
    "subclockflags": "u16",  # flags
    "exitcode": "u32",
    "signal": "u8",  # enum
    "riflags": "u16",  # flags
    "roflags": "u16",  # flags
    "siflags": "u16",
    "sdflags": "u8",  # flags
    "preopentype": "u8",  # enum
    "iovec_array": "list",
    "ciovec_array": "list",
    "string": "string",
    "fdstat": "record",
    "filestat": "record",
    "prestat": "record",
}


def wasm_types_of(witx_type: str) -> tuple[str, ...]:
    """The core-Wasm parameter types one witx parameter lowers to."""
    if witx_type.startswith(("pointer<", "const_pointer<")):
        return ("i32",)
    repr_ = TYPES[witx_type]
    if repr_ in ("string", "list"):
        return ("i32", "i32")
    if repr_ in ("u64", "s64"):
        return ("i64",)
    if repr_ == "record":
        raise ValueError(f"witx type {witx_type} is a record: it travels by pointer, not as a parameter")
    return ("i32",)


@dataclass(frozen=True)
class Param:
    """One witx-level parameter or result component."""

    name: str
    type: str  # witx typename, or "pointer<T>" / "const_pointer<T>"


@dataclass(frozen=True)
class Function:
    """One WASI function: witx parameters, the value its `expected` result carries."""

    name: str
    params: tuple[Param, ...]
    results: tuple[Param, ...] = ()  # the `ok` side of (expected T (error errno)); each one an out-pointer
    noreturn: bool = False  # proc_exit: no errno result at all

    @property
    def wasm_params(self) -> tuple[tuple[str, str], ...]:
        """(C/Wasm parameter name, Wasm type) after lowering, out-pointers last."""
        out: list[tuple[str, str]] = []
        for p in self.params:
            types = wasm_types_of(p.type)
            if len(types) == 2:
                out += [(p.name, "i32"), (f"{p.name}_len", "i32")]
            else:
                out.append((p.name, types[0]))
        out += [(r.name, "i32") for r in self.results]  # out-pointers into linear memory
        return tuple(out)

    @property
    def functype(self) -> FuncType:
        """The core-Wasm type a module imports this function at."""
        return FuncType(
            params=tuple(t for _, t in self.wasm_params),
            results=() if self.noreturn else ("i32",),
        )

    @property
    def symbol(self) -> str:
        """The C symbol the runtime defines (docs/abi.md: mangle(module)__mangle(name))."""
        return abi.import_symbol(MODULE, self.name)


def _f(name: str, params: str = "", results: str = "", noreturn: bool = False) -> Function:
    """Build a Function from 'name:type name:type' lists (keeps the table readable)."""

    def parse(text: str) -> tuple[Param, ...]:
        return tuple(Param(*item.split(":", 1)) for item in text.split())

    return Function(name, parse(params), parse(results), noreturn)


_BUF = "pointer<u8>"
_ARGV = "pointer<pointer<u8>>"

# In witx order.  Result names follow the older witx, which named them.
FUNCTIONS: tuple[Function, ...] = (
    _f("args_get", f"argv:{_ARGV} argv_buf:{_BUF}"),
    _f("args_sizes_get", "", "argc:size argv_buf_size:size"),
    _f("environ_get", f"environ:{_ARGV} environ_buf:{_BUF}"),
    _f("environ_sizes_get", "", "environc:size environ_buf_size:size"),
    _f("clock_res_get", "id:clockid", "resolution:timestamp"),
    _f("clock_time_get", "id:clockid precision:timestamp", "time:timestamp"),
    _f("fd_advise", "fd:fd offset:filesize len:filesize advice:advice"),
    _f("fd_allocate", "fd:fd offset:filesize len:filesize"),
    _f("fd_close", "fd:fd"),
    _f("fd_datasync", "fd:fd"),
    _f("fd_fdstat_get", "fd:fd", "stat:fdstat"),
    _f("fd_fdstat_set_flags", "fd:fd flags:fdflags"),
    _f("fd_fdstat_set_rights", "fd:fd fs_rights_base:rights fs_rights_inheriting:rights"),
    _f("fd_filestat_get", "fd:fd", "buf:filestat"),
    _f("fd_filestat_set_size", "fd:fd size:filesize"),
    _f("fd_filestat_set_times", "fd:fd atim:timestamp mtim:timestamp fst_flags:fstflags"),
    _f("fd_pread", "fd:fd iovs:iovec_array offset:filesize", "nread:size"),
    _f("fd_prestat_get", "fd:fd", "buf:prestat"),
    _f("fd_prestat_dir_name", f"fd:fd path:{_BUF} path_len:size"),
    _f("fd_pwrite", "fd:fd iovs:ciovec_array offset:filesize", "nwritten:size"),
    _f("fd_read", "fd:fd iovs:iovec_array", "nread:size"),
    _f("fd_readdir", f"fd:fd buf:{_BUF} buf_len:size cookie:dircookie", "bufused:size"),
    _f("fd_renumber", "fd:fd to:fd"),
    _f("fd_seek", "fd:fd offset:filedelta whence:whence", "newoffset:filesize"),
    _f("fd_sync", "fd:fd"),
    _f("fd_tell", "fd:fd", "offset:filesize"),
    _f("fd_write", "fd:fd iovs:ciovec_array", "nwritten:size"),
    _f("path_create_directory", "fd:fd path:string"),
    _f("path_filestat_get", "fd:fd flags:lookupflags path:string", "buf:filestat"),
    _f("path_filestat_set_times", "fd:fd flags:lookupflags path:string atim:timestamp mtim:timestamp fst_flags:fstflags"),
    _f("path_link", "old_fd:fd old_flags:lookupflags old_path:string new_fd:fd new_path:string"),
    _f(
        "path_open",
        "fd:fd dirflags:lookupflags path:string oflags:oflags fs_rights_base:rights fs_rights_inheriting:rights fdflags:fdflags",
        "opened_fd:fd",
    ),
    _f("path_readlink", f"fd:fd path:string buf:{_BUF} buf_len:size", "bufused:size"),
    _f("path_remove_directory", "fd:fd path:string"),
    _f("path_rename", "fd:fd old_path:string new_fd:fd new_path:string"),
    _f("path_symlink", "old_path:string fd:fd new_path:string"),
    _f("path_unlink_file", "fd:fd path:string"),
    _f("poll_oneoff", "in:const_pointer<subscription> out:pointer<event> nsubscriptions:size", "nevents:size"),
    _f("proc_exit", "rval:exitcode", noreturn=True),
    _f("proc_raise", "sig:signal"),
    _f("sched_yield"),
    _f("random_get", f"buf:{_BUF} buf_len:size"),
    _f("sock_accept", "fd:fd flags:fdflags", "new_fd:fd"),
    _f("sock_recv", "fd:fd ri_data:iovec_array ri_flags:riflags", "ro_datalen:size ro_flags:roflags"),
    _f("sock_send", "fd:fd si_data:ciovec_array si_flags:siflags", "so_datalen:size"),
    _f("sock_shutdown", "fd:fd how:sdflags"),
)

FUNCTIONS_BY_NAME: dict[str, Function] = {f.name: f for f in FUNCTIONS}

# --- constants ----------------------------------------------------------------

# Enums: witx case names in order, so the value is the index.
ERRNO: tuple[str, ...] = tuple(
    """success 2big acces addrinuse addrnotavail afnosupport again already badf badmsg busy
    canceled child connaborted connrefused connreset deadlk destaddrreq dom dquot exist fault fbig
    hostunreach idrm ilseq inprogress intr inval io isconn isdir loop mfile mlink msgsize multihop
    nametoolong netdown netreset netunreach nfile nobufs nodev noent noexec nolck nolink nomem nomsg
    noprotoopt nospc nosys notconn notdir notempty notrecoverable notsock notsup notty nxio overflow
    ownerdead perm pipe proto protonosupport prototype range rofs spipe srch stale timedout txtbsy
    xdev notcapable""".split()
)
CLOCKID = ("realtime", "monotonic", "process_cputime_id", "thread_cputime_id")
WHENCE = ("set", "cur", "end")
FILETYPE = (
    "unknown",
    "block_device",
    "character_device",
    "directory",
    "regular_file",
    "socket_dgram",
    "socket_stream",
    "symbolic_link",
)
ADVICE = ("normal", "sequential", "random", "willneed", "dontneed", "noreuse")
EVENTTYPE = ("clock", "fd_read", "fd_write")
PREOPENTYPE = ("dir",)
SIGNAL: tuple[str, ...] = tuple(
    """none hup int quit ill trap abrt bus fpe kill usr1 segv usr2 pipe alrm term chld cont stop
    tstp ttin ttou urg xcpu xfsz vtalrm prof winch poll pwr sys""".split()
)

# Flags: witx bit names in order, so the value is 1 << index.
RIGHTS: tuple[str, ...] = tuple(
    """fd_datasync fd_read fd_seek fd_fdstat_set_flags fd_sync fd_tell fd_write fd_advise
    fd_allocate path_create_directory path_create_file path_link_source path_link_target path_open
    fd_readdir path_readlink path_rename_source path_rename_target path_filestat_get
    path_filestat_set_size path_filestat_set_times fd_filestat_get fd_filestat_set_size
    fd_filestat_set_times path_symlink path_remove_directory path_unlink_file poll_fd_readwrite
    sock_shutdown sock_accept""".split()
)
FDFLAGS = ("append", "dsync", "nonblock", "rsync", "sync")
FSTFLAGS = ("atim", "atim_now", "mtim", "mtim_now")
LOOKUPFLAGS = ("symlink_follow",)
OFLAGS = ("creat", "directory", "excl", "trunc")
EVENTRWFLAGS = ("fd_readwrite_hangup",)
SUBCLOCKFLAGS = ("subscription_clock_abstime",)
RIFLAGS = ("recv_peek", "recv_waitall")
ROFLAGS = ("recv_data_truncated",)
SDFLAGS = ("rd", "wr")

# (C name stem, cases, is_flags): every enum and flags type, in header order.
ENUMS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("ERRNO", ERRNO, False),
    ("CLOCKID", CLOCKID, False),
    ("WHENCE", WHENCE, False),
    ("FILETYPE", FILETYPE, False),
    ("ADVICE", ADVICE, False),
    ("EVENTTYPE", EVENTTYPE, False),
    ("PREOPENTYPE", PREOPENTYPE, False),
    ("SIGNAL", SIGNAL, False),
    ("RIGHTS", RIGHTS, True),
    ("FDFLAGS", FDFLAGS, True),
    ("FSTFLAGS", FSTFLAGS, True),
    ("LOOKUPFLAGS", LOOKUPFLAGS, True),
    ("OFLAGS", OFLAGS, True),
    ("EVENTRWFLAGS", EVENTRWFLAGS, True),
    ("SUBCLOCKFLAGS", SUBCLOCKFLAGS, True),
    ("RIFLAGS", RIFLAGS, True),
    ("ROFLAGS", ROFLAGS, True),
    ("SDFLAGS", SDFLAGS, True),
)


def value(enum: tuple[str, ...], name: str) -> int:
    """The numeric value of an enum case (`value(ERRNO, 'badf')` is 8)."""
    return enum.index(name)


def bit(flags: tuple[str, ...], name: str) -> int:
    """The mask of one flag (`bit(RIGHTS, 'fd_write')` is 64)."""
    return 1 << flags.index(name)


# Records as laid out in linear memory (wasm32): name -> (size, align, fields
# as (name, offset, witx type)).  Unions are flattened the way the p1 ABI
# stores them: the tag, then the payload at the payload's alignment.
LAYOUTS: dict[str, tuple[int, int, tuple[tuple[str, int, str], ...]]] = {
    "iovec": (8, 4, (("buf", 0, "pointer<u8>"), ("buf_len", 4, "size"))),
    "ciovec": (8, 4, (("buf", 0, "const_pointer<u8>"), ("buf_len", 4, "size"))),
    "dirent": (24, 8, (("d_next", 0, "dircookie"), ("d_ino", 8, "inode"), ("d_namlen", 16, "dirnamlen"), ("d_type", 20, "filetype"))),
    "fdstat": (
        24,
        8,
        (("fs_filetype", 0, "filetype"), ("fs_flags", 2, "fdflags"), ("fs_rights_base", 8, "rights"), ("fs_rights_inheriting", 16, "rights")),
    ),
    "filestat": (
        64,
        8,
        (
            ("dev", 0, "device"),
            ("ino", 8, "inode"),
            ("filetype", 16, "filetype"),
            ("nlink", 24, "linkcount"),
            ("size", 32, "filesize"),
            ("atim", 40, "timestamp"),
            ("mtim", 48, "timestamp"),
            ("ctim", 56, "timestamp"),
        ),
    ),
    "event": (
        32,
        8,
        (
            ("userdata", 0, "userdata"),
            ("error", 8, "errno"),
            ("type", 10, "eventtype"),
            ("fd_readwrite_nbytes", 16, "filesize"),
            ("fd_readwrite_flags", 24, "eventrwflags"),
        ),
    ),
    "subscription": (
        48,
        8,
        (
            ("userdata", 0, "userdata"),
            ("tag", 8, "eventtype"),
            ("clock_id", 16, "clockid"),
            ("clock_timeout", 24, "timestamp"),
            ("clock_precision", 32, "timestamp"),
            ("clock_flags", 40, "subclockflags"),
            ("fd_readwrite_file_descriptor", 16, "fd"),
        ),
    ),
    "prestat": (8, 4, (("tag", 0, "preopentype"), ("dir_pr_name_len", 4, "size"))),
}


# --- what the runtime provides ------------------------------------------------


def provided_imports() -> dict[tuple[str, str], FuncType]:
    """Every import the WASI runtime defines: (module, name) -> the type a module must import it at."""
    return {(MODULE, f.name): f.functype for f in FUNCTIONS}


# --- the runtime's C sources ---------------------------------------------------

WASI_DIR = RUNTIME_DIR / "wasi_p1"
INCLUDE_DIR = WASI_DIR / "include"

# The port's files by target kind.  On bare metal, port_baremetal_sockets.c
# replaces the generic sockets.c (no socket fd can exist there, so every sock_*
# answers NOTSUP), and the RAM filesystem (ramfs.c) comes with the port.  The
# bare-metal port is the same on every core: what differs (console, timer,
# sleep, RNG) is board glue behind port_baremetal.h, linked with the firmware
# (waftkit/firmware/wasi_firmware.py).
_BAREMETAL = ("port_baremetal.c", "port_baremetal_sockets.c", "ramfs.c")
_PORT_FILES: dict[str, tuple[str, ...]] = {
    "host": ("port_posix.c",),
    "cortex-m": _BAREMETAL,
    "riscv": _BAREMETAL,
}
# Generic files a port replaces.
_REPLACED: dict[str, tuple[str, ...]] = {"cortex-m": ("sockets.c",), "riscv": ("sockets.c",)}
# Files that belong to a port, not to the generic runtime.
_PORT_ONLY = ("ramfs.c", "baremetal_main.c")


def runtime_sources(target: Target) -> list[Path]:
    """The WASI runtime's C files for `target`: the generic ones plus its port.

    Pass them to `waftkit.firmware.runtime.runtime_library(..., extra_sources=...)`;
    code that includes waft_wasi.h needs `-I` `INCLUDE_DIR` as well.  Board
    (Cortex-M, RISC-V) builds also want `waftkit.firmware.wasi_firmware.runtime_defines()` as `defines`.
    """
    port = _PORT_FILES.get(target.kind)
    if port is None:
        raise TargetError(f"target '{target.name}': the WASI runtime has no {target.kind} port yet (ports: {', '.join(_PORT_FILES)})")
    skip = set(_PORT_ONLY) | set(_REPLACED.get(target.kind, ()))
    generic = sorted(p for p in WASI_DIR.glob("*.c") if not p.name.startswith("port_") and p.name not in skip)
    return generic + [WASI_DIR / name for name in port]


# --- the C header -------------------------------------------------------------

HEADER_PATH = "runtime_c/wasi_p1/include/waft_wasi_p1.h"


def c_prototype(function: Function) -> str:
    """The C declaration of one function, by docs/abi.md's import convention."""
    params = ["void *ctx"] + [f"{abi.C_TYPES[t]} {name}" for name, t in function.wasm_params]
    if function.noreturn:
        # No WAFT_NORETURN: the module's generated header declares the same
        # import without it, and C++ wants [[noreturn]] on the first
        # declaration or none.  The definition (proc.c) carries it.
        return f"void {function.symbol}({', '.join(params)})"
    return f"int32_t {function.symbol}({', '.join(params)})"


def _witx_signature(function: Function) -> str:
    params = ", ".join(f"{p.name}: {p.type}" for p in function.params)
    if function.noreturn:
        return f"({params}) -> noreturn"
    results = ", ".join(f"{r.name}: {r.type}" for r in function.results)
    ok = f"({results})" if len(function.results) != 1 else results
    return f"({params}) -> expected<{ok if function.results else '()'}, errno>"


def generate_header() -> str:
    """runtime_c/wasi_p1/include/waft_wasi_p1.h, from the tables above."""
    out = [
        "/*",
        " * waft_wasi_p1.h: WASI preview 1 constants, record layouts and import",
        " * prototypes.  GENERATED by waftkit/wasi.py from its tables (the p1 witx restated);",
        " * do not edit: change waftkit/wasi.py and run",
        " *     python -m waftkit.wasi > runtime_c/wasi_p1/include/waft_wasi_p1.h",
        " * tests/unit/test_wasi_table.py fails while this file is out of date.",
        " */",
        *cheader.open_frame("WAFT_WASI_P1_H", ["<stdint.h>"], ['"waft.h"']),
        f"/* The number of functions in {MODULE}. */",
        f"#define WAFT_WASI_FUNCTION_COUNT {len(FUNCTIONS)}",
        "",
    ]
    for stem, cases, is_flags in ENUMS:
        kind = "flags" if is_flags else "enum"
        out.append(f"/* {stem.lower()} ({kind}) */")
        for i, case in enumerate(cases):
            name = f"WAFT_WASI_{stem}_{case.upper()}"
            if is_flags:
                suffix = "ull" if stem == "RIGHTS" else "u"
                out.append(f"#define {name} ({1 << i}{suffix})")
            else:
                out.append(f"#define {name} {i}")
        if is_flags:
            mask = (1 << len(cases)) - 1
            suffix = "ull" if stem == "RIGHTS" else "u"
            out.append(f"#define WAFT_WASI_{stem}_ALL ({mask:#x}{suffix})")
        else:
            out.append(f"#define WAFT_WASI_{stem}_COUNT {len(cases)}")
        out.append("")
    names = ", ".join(f'"{name}"' for name in ERRNO)
    out.append("/* The errno names, in value order: an initializer for a string table. */")
    out.append(f"#define WAFT_WASI_ERRNO_NAMES {names}")
    names = ", ".join(f'"SIG{name.upper()}"' for name in SIGNAL)
    out.append("/* The signal names, in value order (\"SIGNONE\" for 0). */")
    out.append(f"#define WAFT_WASI_SIGNAL_NAMES {names}")
    out.append("")
    out.append("/* Record layouts in linear memory (wasm32): _SIZE, _ALIGN and _OFF_<field> in bytes. */")
    for name, (size, align, fields) in LAYOUTS.items():
        stem = f"WAFT_WASI_{name.upper()}"
        out.append(f"#define {stem}_SIZE {size}")
        out.append(f"#define {stem}_ALIGN {align}")
        for field, offset, _ in fields:
            out.append(f"#define {stem}_OFF_{field.upper()} {offset}")
    out.append("")
    out += [
        "/* The imports: each returns a WASI errno (0 is success) and writes its results",
        " * through the out-pointers (guest addresses) after its parameters.  `ctx` is the",
        " * waft_wasi_ctx the embedder put in the imports struct's wasi_snapshot_preview1",
        " * member. */",
    ]
    for function in FUNCTIONS:
        out.append(f"/* {function.name}{_witx_signature(function)} */")
        out.append(c_prototype(function) + ";")
    out += ["", *cheader.close_frame("WAFT_WASI_P1_H"), ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(generate_header())
