"""The telemetry example's ground station for `scons test`: subscribe, take every reading, change the setpoint.

`check(port)` sends "subscribe" to 127.0.0.1:PORT (QEMU's UDP forward to the
board, or the host program) until readings come, then after READINGS // 2 of
them "setpoint 40".  It checks that the readings arrive in order, are well
formed, and that the plant settles near the new setpoint, and returns the
problems it found (empty: all good).
"""

from __future__ import annotations

import re
import socket
import time

READINGS = 150
READING = re.compile(r"seq=(\d+) t=(\d+) temp=(-?[\d.]+) setpoint=([\d.]+) out=([\d.]+)")


def check(port: int) -> list[str]:
    station = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    station.bind(("127.0.0.1", 0))
    station.settimeout(0.2)
    seen: list[tuple[int, float, float]] = []
    deadline = time.monotonic() + 60
    with station:
        while not seen:  # the device may still be booting: ask again until it answers
            if time.monotonic() > deadline:
                return ["no reading within 60 s of subscribing"]
            station.sendto(b"subscribe", ("127.0.0.1", port))
            try:
                data = station.recv(200)
            except TimeoutError:
                continue
            m = READING.fullmatch(data.decode(errors="replace"))
            if not m:
                return [f"a reading that does not parse: {data!r}"]
            seen.append((int(m.group(1)), float(m.group(3)), float(m.group(4))))
        station.settimeout(10)
        while seen[-1][0] < READINGS - 1:
            if len(seen) == READINGS // 2:
                station.sendto(b"setpoint 40", ("127.0.0.1", port))
            try:
                data = station.recv(200)
            except TimeoutError:
                return [f"the readings stopped after {seen[-1][0]}"]
            m = READING.fullmatch(data.decode(errors="replace"))
            if not m:
                return [f"a reading that does not parse: {data!r}"]
            seen.append((int(m.group(1)), float(m.group(3)), float(m.group(4))))
    problems = []
    numbers = [s[0] for s in seen]
    if numbers != sorted(set(numbers)):
        problems.append(f"readings out of order or repeated: {numbers}")
    if len(seen) < READINGS * 9 // 10:  # UDP may drop some; loopback and QEMU's NAT should not drop many
        problems.append(f"only {len(seen)} of {READINGS} readings arrived")
    _seq, temperature, setpoint = seen[-1]
    if setpoint != 40.0 or abs(temperature - 40.0) > 1.0:
        problems.append(f"the plant did not settle at the new setpoint: {temperature} (setpoint {setpoint})")
    return problems
