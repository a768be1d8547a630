"""kernel.h's error codes are the negated WASI p1 errno values it says they are.

The wasi-ext threads glue passes the kernel's results through as errno, so a
wrong number here would be a wrong error in a Wasm module; the values are
checked against waftkit.wasi's p1 table, not against a copy.
"""

from __future__ import annotations

import re

from waftkit.firmware.kernel import KERNEL_DIR
from waftkit.wasi import ERRNO, value

# kernel.h's name -> p1's errno case
CASES = {"EAGAIN": "again", "EDEADLK": "deadlk", "EINVAL": "inval", "EPERM": "perm", "ESRCH": "srch",
         "ETIMEDOUT": "timedout"}


def test_error_codes_are_negated_p1_errnos():
    header = (KERNEL_DIR / "kernel.h").read_text()
    defined = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define WAFT_OS_(E[A-Z]+) \((-\d+)\)", header)}
    assert set(defined) == set(CASES)
    for name, case in CASES.items():
        assert defined[name] == -value(ERRNO, case), name
