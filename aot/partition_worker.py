"""A partition-compiling process (aot/parallel.py `run_workers`): partitions in on stdin, results out on stdout.

The protocol is length-prefixed pickles: first (module bytes, target,
options), then one Partition per request, each answered by ("ok",
PartitionResult) or ("error", one line).  The module is decoded and
validated once per process.  stdout carries only the protocol: LLVM's frame
reports go to stderr, where aot/frame_sizes.py catches them.
"""

from __future__ import annotations

import sys

from aot.errors import AotError
from aot.parallel import compile_partition, receive, send
from aot.wasm.decode import decode_module
from aot.wasm.validate import validate_module


def main() -> int:
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    try:
        data, target, options = receive(requests)
    except EOFError:
        return 0
    module = decode_module(data)
    validate_module(module)  # the parent validated these bytes; the lowering relies on what validation fills in
    while True:
        try:
            part = receive(requests)
        except EOFError:
            return 0
        try:
            send(replies, ("ok", compile_partition(module, part, target, options)))
        except AotError as exc:
            send(replies, ("error", str(exc)))


if __name__ == "__main__":
    sys.exit(main())
