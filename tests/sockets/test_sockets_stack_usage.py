"""The sockets layer and lwIP on mps2-an386 fit the stacks they run on.

A socket call from Wasm runs below the module's checked stack pointer, in
WAFT_STACK_MARGIN (tests/safety/test_import_stack_usage.py says how that is
shared out); lwIP's receive path (a frame in, through IP and TCP to the
callbacks and often an answer back out to the driver) runs on its own stack,
net_stack in runtime_c/sockets/lwip/port_lwip.c.  waftkit.firmware.stack_usage
compiles the firmware's C as the build does and walks GCC's call graph; lwIP
calls through pointers (netif->input/output/linkoutput, the TCP and UDP
callbacks, its timers), whose targets in this firmware are listed here, so
the walk is a bound.  A pointer call not listed leaves a problem, and fails.
"""

from __future__ import annotations

import shutil

import pytest

from aot.errors import TargetError
from aot.targets import load_target
from waftkit.firmware import embedding, lwip, stack_usage, wasi_firmware
from waftkit.firmware.runtime import runtime_cflags
from waftkit.firmware.stack_usage import CallGraph, Function, stated_bounds, worst_case

BOARD = "mps2-an386"
EXT = "_wasi_x2dext_x3asockets_x2fsockets_x400_x2e1_x2e0__"
SOCKET_IMPORTS = [EXT + n for n in ("open", "bind", "listen", "connect", "accept", "_send_x2dto", "_recv_x2dfrom",
                                     "_local_x2daddress", "_remote_x2daddress", "_take_x2derror", "_set_x2dnodelay",
                                     "_set_x2dkeepalive", "_set_x2dtimeouts", "_set_x2dreuse_x2daddress")]
SOCKET_IMPORTS.append("_wasi_x2dext_x3asockets_x2fname_x2dlookup_x400_x2e1_x2e0__resolve")
P1_ON_SOCKETS = [f"wasi_snapshot_preview1__{n}" for n in ("fd_read", "fd_write", "fd_close", "poll_oneoff",
                                                          "fd_fdstat_get", "fd_fdstat_set_flags", "sock_accept",
                                                          "sock_recv", "sock_send", "sock_shutdown")]
TCP_CALLBACKS = ("on_tcp_recv", "on_tcp_err", "on_tcp_connected", "on_tcp_accept", "tcp_recv_null")
# Who each pointer call in this firmware can reach (functions by symbol or by "file.c:name").
POINTER_TARGETS = {
    "lan9118_netif_poll": ("ethernet_input",),                   # netif->input
    "ip4_output_if_src": ("etharp_output",),                     # netif->output
    "ip4_frag": ("etharp_output",),
    "ethernet_output": ("linkoutput",),                          # netif->linkoutput (lan9118.c)
    "sys_check_timeouts": ("cyclic_timer",),
    "cyclic_timer": ("tcp_tmr", "ip_reass_tmr", "etharp_tmr"),   # lwip_cyclic_timers[] (no DHCP, no DNS)
    "tcp_input": TCP_CALLBACKS,
    "tcp_process": TCP_CALLBACKS,
    "tcp_receive": TCP_CALLBACKS,
    "tcp_abandon": ("on_tcp_err",),
    "tcp_input_delayed_close": ("on_tcp_err",),
    "tcp_slowtmr": TCP_CALLBACKS,
    "tcp_fasttmr": TCP_CALLBACKS,
    "tcp_process_refused_data": TCP_CALLBACKS,
    "udp_input": ("on_udp_recv",),
    "pbuf_free": (),                                             # custom pbufs' free: this firmware makes none
}


def _complete(graph: CallGraph) -> CallGraph:
    """The graph with each listed pointer call made a call to its targets."""
    done = CallGraph()
    for key, f in graph.functions.items():
        targets = POINTER_TARGETS.get(f.name)
        if f.indirect and targets is not None:
            resolved = [k for t in targets for k in (graph.resolve(t) or
                                                     [k2 for k2, g in graph.functions.items() if g.name == t])]
            f = Function(**{**f.__dict__, "calls": tuple(dict.fromkeys((*f.calls, *resolved))), "indirect": False})
        done.add(f)
    return done


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    target = load_target(BOARD)
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} is not installed")
    try:
        lwip.source_dir()
    except TargetError as exc:
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("stack-sockets")
    graph = stack_usage.wasi_runtime_graph(target, work / "wasi")
    # The firmware's runtime with sockets: the socketless port's sock_* are not in it.
    sockless = CallGraph()
    for f in graph.functions.values():
        if wasi_firmware.SOCKETLESS_PORT not in f.where and wasi_firmware.SOCKETLESS_PORT not in f.key:
            sockless.add(f)
    flags = [*runtime_cflags(target, wasi_firmware.runtime_defines()), *embedding.socket_cflags(target)]
    sockets = stack_usage.compile_callgraph(target.cc, flags, embedding.socket_sources(target), work / "sockets")
    sockless.merge(sockets)
    sockless.fill_in(stack_usage.library_functions(target, sockless.undefined(), work / "libraries"))
    complete = _complete(sockless)
    return target, complete, stack_usage.budget(target, complete)


def _over(graph, names, limit):
    lines = []
    for name in names:
        depth = worst_case(graph, name, stated_bounds())
        if not depth.bounded or depth.bytes > limit:
            why = "; ".join(str(p) for p in depth.problems) or f"over {limit}"
            lines.append(f"{name}: {depth.bytes} bytes ({why}): {depth.path_text()}")
    return lines


def test_socket_calls_fit_the_import_budget(analysed):
    _target, graph, share = analysed
    wrong = _over(graph, SOCKET_IMPORTS + P1_ON_SOCKETS, share.imports)
    assert not wrong, f"{share.imports} bytes for an import:\n" + "\n".join(wrong)


def test_the_receive_path_fits_the_network_stack(analysed):
    """service_body runs on net_stack (WAFT_LWIP_STACK_SIZE), with an interrupt on top of its deepest point."""
    target, graph, share = analysed
    size = stack_usage.header_value(target, "WAFT_LWIP_STACK_SIZE") or 2048  # port_lwip.c's default
    body = [key for key, f in graph.functions.items() if f.name == "service_body"]  # a static function
    assert len(body) == 1, body
    depth = worst_case(graph, body[0], stated_bounds())
    assert depth.bounded, [str(p) for p in depth.problems]
    assert depth.bytes + share.interrupt <= size, f"{depth.bytes} + {share.interrupt}: {depth.path_text()}"
    # and it is the deep path, which is why it has a stack of its own
    assert depth.bytes > 400, depth.path_text()
