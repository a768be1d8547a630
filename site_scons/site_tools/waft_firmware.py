"""SCons tool waft_firmware: link firmware from C and Wasm sources, check its size, run and test it.

    fw = env.WaftFirmware('control_loop', ['main.c', 'pid.wasm'],
                          expect_stdout='...', expect_exit=0, icount=False)

builds, in the current (variant) directory:
    control_loop.elf (or the host executable), .map, and for boards .bin and .hex;
then checks flash and RAM against the target's memory map (waftkit.firmware.size) and fails
the build with the figures when it does not fit.

Sources may be C (`.c`), Wasm (`.wasm`, compiled by waft_aot) or WAT (`.wat`,
assembled first).  The runtime (waft_runtime) and the board's startup and
console (waftkit.firmware.link.board_sources) are linked in.

Aliases (all AlwaysBuild): `size` prints each firmware's report, `run` runs
each firmware (natively on host, under QEMU for emulated boards) and `test`
runs it and checks its exit status and, when given, its output.  `flash`
(boards only) programs each firmware through pyOCD's Python API.

`icount=True` is for firmware whose result depends on timing (a real-time
loop checking its own jitter): under QEMU, virtual time then follows executed
instructions (`-icount shift=0`, one instruction per nanosecond), so the
figures are the same run after run and do not depend on the host's load.
Natively and through pyOCD (a board, or QEMU behind the pyOCD probe) time is
real and the option changes nothing.

Shared memory: with WAFT_SHM_REGIONS (and WAFT_SHM_GRANTS, see waft_aot), given to
the firmware as keywords, the regions' storage and grant tables are generated into
`NAME_shm.c`/`NAME_shm.h` and the runtime gains the `regions` imports
(docs/shared-memory.md).

`peer=(function, protocol, guest_port)` is for a program that talks over the
network (examples/tcp_echo): during `run`/`test` the function runs in a thread
with the host port that reaches the program (127.0.0.1 only; a host program
gets it as its last argument, a QEMU board listens on `guest_port` behind a
forward) and returns the problems it found, which fail the test.

Construction variables (SConstruct sets them from the command line):
    WAFT_RUNNER  "qemu" (default) or "pyocd": how `run`/`test` run board images.
                 pyocd flashes, resets and runs them through a debug probe and
                 serves their semihosting; without a probe, through the QEMU-backed
                 probe (waftkit.runners.pyocd_qemu), so CI takes the same path as a board.
    WAFT_PROBE   pyOCD unique id of the probe for `flash` and RUNNER=pyocd ("" = the
                 only attached probe for `flash`, the emulated board for `test`).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import SCons.Action
import SCons.Script

REPO_ROOT = Path(__file__).resolve().parents[2]


def _aot():
    if (REPO_ROOT / "aot").is_dir() and str(REPO_ROOT) not in sys.path:  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    import waftkit.firmware.link
    import waftkit.firmware.size

    return waftkit.firmware.link, waftkit.firmware.size


def _board_objects(env):
    """Startup and console objects for the target, built once per environment."""
    if "_WAFT_BOARD_OBJECTS" not in env:
        link, _ = _aot()
        build = env.Dir("$WAFT_BUILD_DIR").Dir("board")
        env["_WAFT_BOARD_OBJECTS"] = [
            env.Object(build.File(src.stem + ".o"), env.File(str(src)))
            for src in link.board_sources(env["WAFT_TARGET_INFO"])
        ]
    return env["_WAFT_BOARD_OBJECTS"]


def _check_size(elf: Path, env) -> int:
    """Print flash/RAM use of `elf`; fail (and remove it) with the figures when it does not fit."""
    _, size = _aot()
    from aot.errors import TargetError

    board = env["WAFT_TARGET_INFO"]
    report = size.measure(elf, board)
    print(f"{elf.name} ({board.name}):")
    for line in report.lines():
        print("  " + line)
    try:
        report.check(board, elf)
    except TargetError as exc:
        sys.stderr.write(f"waft: error: {exc}\n")
        elf.unlink(missing_ok=True)
        return 1
    return 0


def _size_after_link(target, source, env):
    """Post-link action: the program just linked is target[0]."""
    return _check_size(Path(str(target[0])), env)


def _size_action(target, source, env):
    """The action of a `size-NAME` alias: the alias is target[0], the program its source."""
    return _check_size(Path(str(source[0])), env)


def run_firmware(env, program: Path, run_args: tuple[str, ...] = (), icount: bool = False, forwards=None):
    """Run a firmware image the way its target runs (waftkit.runners: natively, QEMU or pyOCD).

    Returns the runner's RunResult; `run_args` go to a host program's command line;
    `icount` makes QEMU's virtual time follow executed instructions (QEMU only);
    `forwards` (waftkit.runners.qemu.PortForward) give a QEMU board a NIC with them.
    """
    from waftkit.runners.base import default_runner_name, get_runner

    board = env["WAFT_TARGET_INFO"]
    probe = env.get("WAFT_PROBE") or None
    name = default_runner_name(board, probe, env.get("WAFT_RUNNER") or None)
    options = {"instruction_count": True} if icount and name == "qemu" else {}
    if forwards is not None and name == "qemu":
        options["forwards"] = tuple(forwards)
    runner = get_runner(board, name, probe=probe, **options)
    return runner.run(program, args=run_args)


def _run_action(check: bool, spec: dict):
    """The action of a `run-NAME` (check=False) or `test-NAME` (check=True) alias."""
    def action(target, source, env):
        from aot.errors import TargetError

        program = Path(str(source[0]))
        with tempfile.TemporaryDirectory(prefix="waft-dirs-") as scratch:
            # Each run starts from the seed folders, as a board's RAM filesystem does
            # at reset: the program writes into copies, never into the sources.
            dir_args = []
            for i, (host, guest) in enumerate(spec.get("dirs", ())):
                copy = Path(scratch) / str(i)
                shutil.copytree(host, copy)
                dir_args += ["--dir", f"{copy}::{guest}"]
            peer = _Peer(spec["peer"], env["WAFT_TARGET_INFO"]) if "peer" in spec else None
            try:
                result = run_firmware(env, program,
                                      run_args=(*dir_args, *spec.get("run_args", ()), *(peer.args if peer else ())),
                                      icount=spec.get("icount", False), forwards=peer.forwards if peer else None)
            except TargetError as exc:  # no emulator for this board, no probe...: one line, no traceback
                sys.stderr.write(f"waft: error: {program.name}: {exc}\n")
                return 1
            finally:
                peer_problems = peer.finish() if peer else []
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)
        if result.fault is not None:
            sys.stderr.write(result.fault.describe() + "\n")
        if not check:
            return 0 if code == 0 else 1
        problems = []
        if result.timed_out:
            problems.append("no exit within the time limit")
        elif code != spec.get("exit", 0):
            problems.append(f"exit status {code}, expected {spec.get('exit', 0)}")
        if "stdout" in spec and stdout != spec["stdout"]:
            problems.append(f"output {stdout!r}, expected {spec['stdout']!r}")
        problems += peer_problems
        name = program.name
        if problems:
            print(f"FAIL {name}: " + "; ".join(problems))
            return 1
        print(f"PASS {name}")
        return 0
    return action


class _Peer:
    """A program's network peer during `run`/`test` (WaftFirmware's `peer`): a function run in a thread.

    `spec` is (function, protocol, guest_port): the function gets the host
    port that reaches the program (127.0.0.1 only) and returns a list of
    problems (empty: it was satisfied).  A host program gets that port as its
    last argument; a QEMU board listens on `guest_port` and QEMU forwards the
    host port to it.
    """

    def __init__(self, spec, board) -> None:
        import socket
        import threading

        function, protocol, guest_port = spec
        kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.args: tuple[str, ...] = (str(self.port),) if board.is_host else ()
        self.forwards = None
        if not board.is_host:
            from waftkit.runners.qemu import PortForward

            self.forwards = (PortForward(self.port, guest_port, protocol),)
        self.problems: list[str] = []

        def run() -> None:
            try:
                self.problems = list(function(self.port))
            except Exception as exc:  # the peer's own failure is the test's failure, said in one line
                self.problems = [f"peer: {type(exc).__name__}: {exc}"]

        self.thread = threading.Thread(target=run, name="waft-peer", daemon=True)
        self.thread.start()

    def finish(self, timeout: float = 30) -> list[str]:
        self.thread.join(timeout)
        if self.thread.is_alive():
            return ["peer: still running after the program ended"]
        return self.problems


def _flash_action(target, source, env):
    """The action of a `flash-NAME` alias: program the ELF with pyOCD and let it run."""
    import waftkit.runners.pyocd_runner
    from aot.errors import TargetError

    board = env["WAFT_TARGET_INFO"]
    # With no PROBE, the only attached probe (pyOCD asks when there are several).
    probe = env.get("WAFT_PROBE") or None
    try:
        waftkit.runners.pyocd_runner.flash(board, Path(str(source[0])), probe)
    except TargetError as exc:
        sys.stderr.write(f"waft: error: {exc}\n")
        return 1
    return 0


def _waft_firmware(env, name, sources, expect_stdout=None, expect_exit=0, runtime=None,
                   run_args=(), run_dirs=(), icount=False, peer=None, **overrides):
    link, _ = _aot()
    fw_env = env.Clone(**overrides) if overrides else env
    objects = []
    if fw_env.get("WAFT_SHM_REGIONS"):
        fw_env = fw_env.Clone()
        objects, runtime = _shm_regions(fw_env, name, runtime)
    for src in SCons.Script.Flatten([sources]):
        path = str(src)
        if path.endswith(fw_env["OBJSUFFIX"]):  # already an object (waft_wasi passes some)
            objects.append(src)
            continue
        if path.endswith(".wat"):
            src = fw_env.Wat(Path(path).stem + ".wasm", src)[0]
        # A .wasm source yields its object and its header: only the object is linked.
        objects += [node for node in fw_env.Object(src) if str(node).endswith(fw_env["OBJSUFFIX"])]
    program = fw_env.Program(
        name, objects + _board_objects(env) + (runtime or env.WaftRuntime()),
        LINKFLAGS=fw_env["LINKFLAGS"] + ["-Wl,-Map=${TARGET.base}.map"],
    )
    fw_env.SideEffect(Path(name).stem + ".map", program)
    fw_env.Clean(program, Path(name).stem + ".map")
    fw_env.AddPostAction(program, SCons.Action.Action(_size_after_link, "checking size of $TARGET"))
    outputs = list(program)
    if not env["WAFT_TARGET_INFO"].is_host:
        outputs += fw_env.Command(Path(name).stem + ".bin", program, "$OBJCOPY -O binary $SOURCE $TARGET")
        outputs += fw_env.Command(Path(name).stem + ".hex", program, "$OBJCOPY -O ihex $SOURCE $TARGET")

    spec = {"exit": expect_exit, "run_args": tuple(run_args), "dirs": tuple(run_dirs), "icount": icount}
    if expect_stdout is not None:
        spec["stdout"] = expect_stdout
    if peer is not None:
        spec["peer"] = tuple(peer)
    # One alias per firmware and verb (its action sees only that firmware), gathered
    # under the plain verb: `scons run` runs them all, `scons run-hello` one.
    stem = Path(name).stem
    verbs = [("run", _run_action(False, spec)), ("test", _run_action(True, spec)), ("size", _size_action)]
    if not env["WAFT_TARGET_INFO"].is_host:
        verbs.append(("flash", _flash_action))
    for verb, action in verbs:
        node = env.Alias(f"{verb}-{stem}", program,
                         SCons.Action.Action(action, f"{verb} $SOURCE",
                                             varlist=["WAFT_RUNNER", "WAFT_PROBE"]))
        env.AlwaysBuild(node)
        env.Depends(node, outputs)  # `scons test` also leaves the .bin/.hex to flash
        env.Alias(verb, node)
    return outputs


def _write_shm(target, source, env):
    """Action: NAME_shm.c and NAME_shm.h, the regions' storage and each module's grant table."""
    _aot()
    from aot.errors import AotError
    from waftkit.firmware import shm_regions

    try:
        regions = shm_regions.parse_regions([str(r) for r in env.Flatten(env["WAFT_SHM_REGIONS"])],
                                            env["WAFT_TARGET_INFO"])
        grants = shm_regions.parse_grants([str(g) for g in env.Flatten(env.get("WAFT_SHM_GRANTS", []))], regions)
    except AotError as exc:
        sys.stderr.write(f"waft: error: WAFT_SHM_REGIONS/WAFT_SHM_GRANTS: {exc}\n")
        return 1
    Path(str(target[0])).write_text(shm_regions.render_c(regions, grants))
    Path(str(target[1])).write_text(shm_regions.render_h(regions, grants))
    return 0


def _shm_regions(fw_env, name, runtime):
    """The generated regions object, and a runtime with the `regions` imports (runtime_c/shm/).

    The main includes the generated `NAME_shm.h` (each region's bytes, each
    module's `waft_shm`); see docs/shared-memory.md.
    """
    from aot.package_data import RUNTIME_DIR

    stem = Path(name).stem
    fw_env.Append(CPPPATH=[str(RUNTIME_DIR / "shm")])
    generated = fw_env.Command([f"{stem}_shm.c", f"{stem}_shm.h"], [],
                               SCons.Action.Action(_write_shm, "generating $TARGET",
                                                   varlist=["WAFT_SHM_REGIONS", "WAFT_SHM_GRANTS"]))
    shm_object = fw_env.Object(generated[0])
    if runtime is None:
        runtime = fw_env.WaftRuntime(extra_sources=[RUNTIME_DIR / "shm" / "ext_regions.c"])
    return list(shm_object), runtime


def generate(env) -> None:
    env.AddMethod(_waft_firmware, "WaftFirmware")


def exists(env) -> bool:
    return True
