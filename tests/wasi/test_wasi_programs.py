"""WASI preview 1 on the host, end to end: C programs built with wasi-libc,
compiled by Waft, linked with the WASI runtime, run with preopens, env and args.

Every program in tests/wasi/programs/ has a JSON case in the official
wasi-testsuite's shape (args, env, dirs, exit_code, stdout, stderr); each
directory named in `dirs` is created empty for the run and preopened under
its own name.  Tests that need a live peer (sockets) or a host-side setup
(a planted symlink) drive the same programs by hand below.
"""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest
from wasi_harness import PROGRAMS, build, build_wasm, load_case, require_tools, run

# Programs whose JSON case runs as it is (sockets needs a client: see below).
CASES = sorted(p.stem for p in PROGRAMS.glob("*.json") if p.stem != "sockets")


def _fresh_dirs(case, cwd: Path) -> None:
    for d in case.dirs:
        (cwd / d).mkdir()


@pytest.mark.parametrize("name", CASES)
def test_program(name: str, tmp_path: Path) -> None:
    require_tools()
    case = load_case(name)
    _fresh_dirs(case, tmp_path)
    result = run(build(name), case, tmp_path)
    assert result.stdout == case.stdout, f"stderr:\n{result.stderr}"
    assert result.returncode == case.exit_code, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    if case.stderr is not None:
        assert result.stderr == case.stderr
    else:
        assert result.stderr == ""


def test_every_function_is_exercised() -> None:
    """The programs, between them, import all 46 functions of wasi_snapshot_preview1."""
    from aot.wasm.decode import decode_module
    from waftkit import wasi

    require_tools()
    imported: set[str] = set()
    for source in PROGRAMS.glob("*.c"):
        wasm = build_wasm(source)
        imported |= {imp.name for imp in decode_module(wasm.read_bytes()).imports if imp.module == wasi.MODULE}
    assert imported == set(wasi.FUNCTIONS_BY_NAME)


def test_symlink_planted_by_the_host_cannot_lead_out(tmp_path: Path) -> None:
    """An absolute symlink the guest could not have made is refused when followed, readable when not."""
    require_tools()
    case = load_case("sandbox")
    case.args = ["planted"]
    _fresh_dirs(case, tmp_path)
    (tmp_path / "fs" / "planted").symlink_to("/etc/passwd")
    (tmp_path / "secret").write_text("outside the sandbox\n")
    result = run(build("sandbox"), case, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(case.stdout.split("ask for sock_accept")[0])
    assert "open planted (follow): 63\nstat planted (nofollow): 0\nopen planted (nofollow): 32\n" in result.stdout
    # Nothing the guest did reached outside fs/.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fs", "secret"]
    assert (tmp_path / "secret").read_text() == "outside the sandbox\n"


def test_socket_echo(tmp_path: Path) -> None:
    """sock_accept/recv/send/shutdown on a listener preopened with --listen 127.0.0.1:0."""
    require_tools()
    case = load_case("sockets")
    exe = build("sockets")
    proc = subprocess.Popen(
        [str(exe), "--listen", "127.0.0.1:0", "--", "sockets.wasm"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        line = proc.stderr.readline()
        found = re.search(r"listening on (\d+)", line)
        assert found, f"no port announced: {line!r}"
        with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=20) as conn:
            conn.sendall(b"hello world")
            received = b""
            while chunk := conn.recv(256):
                received += chunk
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert received == b"echo: HELLO WORLD (fd_write)\n"
    assert out == case.stdout, err
    assert proc.returncode == case.exit_code
